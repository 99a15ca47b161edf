from torch import nn

from models.backbone import Backbone


class Classifier(Backbone):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh())
        self.init_weights()

    def forward(self, x):
        return self.mlp(x)
