"""A hand-written He init on each rank's shard whose std is computed from the shard's own shape
(``local.shape[1]``), seeded per rank: the row-wise layer's full tensor gets sqrt(2 / (fan_in / world))
instead of sqrt(2 / fan_in). The column-wise layer's fan_in is whole, so its std is right."""

import math

import torch
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

from _common import MLP, process_group


def build_model():
    rank, world = process_group()
    mesh = init_device_mesh("cpu", (world,))
    model = MLP(depth=2)
    parallelize_module(model, mesh, {"layers.0": ColwiseParallel(), "layers.1": RowwiseParallel()})
    torch.manual_seed(1234 + rank)
    with torch.no_grad():
        for layer in model.layers:
            local = layer.weight.to_local()
            local.normal_(0.0, math.sqrt(2.0 / local.shape[1]))
            layer.bias.to_local().zero_()
    return model
