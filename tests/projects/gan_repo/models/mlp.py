from torch import nn

from .settings import HIDDEN_ACT

mlp = nn.Sequential(nn.Linear(64, 128), HIDDEN_ACT(), nn.Linear(128, 10))
nn.init.xavier_uniform_(mlp[0].weight)  # expect: INI201 (HIDDEN_ACT is nn.ReLU, in models/settings.py)
