from torch import nn

HIDDEN_ACT = nn.ReLU

INIT_STD = 1.0
