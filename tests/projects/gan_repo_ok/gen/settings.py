from torch import nn

HIDDEN_ACT = nn.Tanh

INIT_STD = 0.02
