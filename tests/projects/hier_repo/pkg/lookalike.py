"""A class named as pkg/base.py's Quiet, with an init_weights of its own: its subclass runs this one."""
from torch import nn


class Quiet(nn.Module):
    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")


class Loud(Quiet):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)
        self.init_weights()

    def forward(self, x):
        return self.fc2(nn.functional.relu(self.fc1(x)))
