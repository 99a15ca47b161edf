from torch import nn

HIDDEN_ACT = nn.Tanh
