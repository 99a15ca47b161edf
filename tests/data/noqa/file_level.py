# flake8: noqa
"""A file-level `# flake8: noqa` makes flake8 skip the whole file (ruff honours it too)."""

import torch.nn as nn

layer = nn.Linear(8, 8)
nn.init.normal_(layer.weight)
