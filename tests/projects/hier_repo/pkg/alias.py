from torch import nn

from .base import AliasBase as Backbone


class Tower(Backbone):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.reset_parameters()

    def forward(self, x):
        return self.mlp(x)
