"""Each rank initialises its own shard of a tensor-parallel MLP with the framework's He init, called on
the local tensor (``param.to_local()``) after ``parallelize_module``, and seeded per rank as Megatron
seeds its tensor-parallel ranks (so the shards differ). kaiming_normal_ then reads the fans from the
shard: the column-wise layer (Shard(0): its fan_in is whole) comes out right, the row-wise one
(Shard(1): fan_in / world) gets a std sqrt(world) too large, a std that depends on the world size."""

import torch
import torch.nn as nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

from _common import MLP, process_group


def build_model():
    rank, world = process_group()
    mesh = init_device_mesh("cpu", (world,))
    model = MLP(depth=2)
    parallelize_module(model, mesh, {"layers.0": ColwiseParallel(), "layers.1": RowwiseParallel()})
    torch.manual_seed(1234 + rank)
    for layer in model.layers:
        nn.init.kaiming_normal_(layer.weight.to_local(), nonlinearity="relu")
        nn.init.zeros_(layer.bias.to_local())
    return model
