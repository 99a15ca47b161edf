"""The correct FSDP2 recipe on CPU: the same seed on every rank, the model built and initialised whole,
then sharded: every rank keeps its own slice of one full tensor. Nothing to report."""

import torch
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard

from _common import MLP, process_group


def build_model():
    _, world = process_group()
    mesh = init_device_mesh("cpu", (world,))
    torch.manual_seed(0)
    model = MLP()
    model.init_weights()
    for layer in model.layers:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    return model
