from torch import nn


def conv3x3(c_in, c_out):
    return nn.Conv2d(c_in, c_out, 3, padding=1)


class ConvAct(nn.Module):
    """A conv and its ReLU."""

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.conv(x))


ACT = nn.ReLU


class Stacked(nn.Module):
    """Its layers come through a local variable, a container and a module-level alias of the activation."""

    def __init__(self, c):
        super().__init__()
        conv = nn.Conv2d(c, c, 3, padding=1)
        self.body = nn.Sequential(conv, ACT())

    def forward(self, x):
        return self.body(x)
