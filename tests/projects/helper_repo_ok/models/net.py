import torch
import torch.nn as nn

from utils.init import init_weights


class TanhNet(nn.Module):
    """Xavier is right here: the conv is followed by tanh, the Linear is the output layer."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.fc = nn.Linear(16, 10)
        init_weights(self)

    def forward(self, x):
        x = torch.tanh(self.conv(x))
        return self.fc(x.mean((2, 3)))
