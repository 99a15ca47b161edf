"""A form feed (^L, a page break) is no line break for Python, flake8 or libcst: the noqa
below applies to its own line only."""

import torch.nn as nn

layer = nn.Linear(8, 8)

nn.init.normal_(layer.weight)  # noqa
nn.init.normal_(layer.weight)  # expect: INI402
