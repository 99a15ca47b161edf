import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """Its conv is followed by tanh: Xavier is right for it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = torch_tanh(self.conv(x))
        return self.fc(x.mean((2, 3)))


def torch_tanh(x):
    return F.tanh(x)
