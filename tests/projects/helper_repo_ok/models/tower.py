from torch import nn

from utils.init import init_modules


class Tower(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh())
        init_modules(self.modules())

    def forward(self, x):
        return self.layers(x)
