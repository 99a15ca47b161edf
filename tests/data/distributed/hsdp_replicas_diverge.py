"""OLMo-core #319's mechanism: each rank seeded by its rank, then HSDP over a (replicate, shard) mesh.
FSDP and HSDP do not broadcast parameters, so the replicas start as different models (INI608)."""

import torch
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard

from _common import MLP, process_group


def build_model():
    rank, world = process_group()
    mesh = init_device_mesh("cpu", (world, 1), mesh_dim_names=("replicate", "shard"))
    torch.manual_seed(1234 + rank)  # a per-rank seed, as for data order or dropout
    model = MLP()
    model.init_weights()
    for layer in model.layers:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    return model
