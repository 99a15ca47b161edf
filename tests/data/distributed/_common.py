"""What the distributed fixtures share: a process group (gloo, as on this CPU machine) and a
small ReLU MLP initialised for its activation (He), so a healthy build has nothing to report."""

import torch
import torch.distributed as dist
import torch.nn as nn


def process_group():
    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return dist.get_rank(), dist.get_world_size()


class MLP(nn.Module):
    def __init__(self, width=64, depth=3):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x

    def init_weights(self):
        for layer in self.layers:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
