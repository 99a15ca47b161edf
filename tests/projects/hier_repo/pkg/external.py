"""Subclasses of an installed library's classes (not the project's): nothing to resolve there."""
import timm
from torch import nn

from .base import GuardedBase


class Mixed(timm.models.VisionTransformer, GuardedBase):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)
        self.init_weights()

    def forward(self, x):
        return self.fc2(nn.functional.relu(self.fc1(x)))


class Finetuned(timm.models.VisionTransformer):
    def __init__(self):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
        self.init_weights()
