"""# noqa on statements that span lines, as flake8 reads it: lines joined by a backslash, or by a
string token that spans lines, share one noqa comment (flake8's processor maps each line of such a
range to the whole range's text).
"""

import torch.nn as nn

layer = nn.Linear(8, 8)

nn.init.normal_(layer.weight) + \
    1  # noqa
x = """
"""; nn.init.normal_(layer.weight)  # noqa
nn.init.normal_(layer.weight); y = """
"""  # noqa
