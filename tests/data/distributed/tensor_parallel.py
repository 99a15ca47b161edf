"""Tensor parallelism built right: one seed, the model initialised whole, then column- and row-wise
sharded with parallelize_module. Nothing to report."""

import torch
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

from _common import MLP, process_group


def build_model():
    _, world = process_group()
    mesh = init_device_mesh("cpu", (world,))
    torch.manual_seed(0)
    model = MLP(depth=2)
    model.init_weights()
    parallelize_module(model, mesh, {"layers.0": ColwiseParallel(), "layers.1": RowwiseParallel()})
    return model
