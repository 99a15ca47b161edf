from torch import nn

from utils import init as initialisers


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU())
        for m in self.modules():
            initialisers.per_module(m)
