"""# noqa as flake8 reads it: the same lines are reported by `initlint check` and `flake8 --select INI`.

Every call below would be reported (INI402: normal_ with its default std 1) if no noqa comment
hid it; the `expect` comments mark the ones that stay reported.
"""

import torch.nn as nn

layer = nn.Linear(8, 8)

nn.init.normal_(layer.weight)  # expect: INI402
nn.init.normal_(layer.weight)  # noqa
nn.init.normal_(layer.weight)  # NOQA
nn.init.normal_(layer.weight)  # noqa: INI402
nn.init.normal_(layer.weight)  # noqa:INI402
nn.init.normal_(layer.weight)  # noqa: INI4
nn.init.normal_(layer.weight)  # noqa: INI
nn.init.normal_(layer.weight)  # noqa: E501  # expect: INI402
nn.init.normal_(layer.weight)  # noqa : INI201
nn.init.normal_(layer.weight)  # a comment, then # noqa
nn.init.normal_(layer.weight)  # noqa-ish: any text after '# noqa' is still a blanket noqa
nn.init.normal_(  # expect: INI402
    layer.weight)  # noqa (only the physical line it is on; brackets do not join lines)
nn.init.normal_(  # noqa: INI402
    layer.weight)
nn.init.normal_(layer.weight); nn.init.normal_(layer.weight)  # noqa: INI402
nn.init.normal_(layer.weight); nn.init.normal_(layer.weight)  # expect: INI402, INI402
