"""A small torch model with three initialisation bugs of different codes (see the expect comments)."""

import torch.nn as nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(16, 32)
        self.act = nn.ReLU()
        self.out = nn.Linear(32, 4)
        nn.init.xavier_uniform_(self.hidden.weight)  # expect: INI201
        nn.init.normal_(self.out.weight)  # expect: INI402

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 1.0)  # expect: INI301
        nn.init.zeros_(m.bias)


model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
model.apply(init_weights)
