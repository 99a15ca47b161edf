from torch import nn

from .base import AliasBase as Backbone, ChainBase


class Tower(Backbone):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.reset_parameters()

    def forward(self, x):
        return self.mlp(x)


class Chained(ChainBase):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 32)
        self.fc2 = nn.Linear(32, 1)
        self.init_weights()

    def init_weights(self):
        super().init_weights()
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x):
        return self.fc2(nn.functional.relu(self.fc1(x)))
