"""# noqa naming INI codes, as flake8 reads them: codes are letters then digits (`[A-Z]+[0-9]+`),
comma- or space-separated, matched exactly or as a prefix, case-sensitively.

Every call below would be reported (INI402: normal_ with its default std 1) if no noqa comment
hid it; the `expect` comments mark the ones that stay reported.
"""

import torch.nn as nn

layer = nn.Linear(8, 8)

nn.init.normal_(layer.weight)  # noqa: E501,INI402
nn.init.normal_(layer.weight)  # noqa: E501 INI402
nn.init.normal_(layer.weight)  # noqa: INI201  # expect: INI402
nn.init.normal_(layer.weight)  # noqa: INI403  # expect: INI402
nn.init.normal_(layer.weight)  # noqa: ini402  # expect: INI402
nn.init.normal_(layer.weight)  # noqa: INI201,INI402
nn.init.normal_(layer.weight)  # noqa: INI2  # expect: INI402
