"""torchtitan #3106's mechanism: FSDP2 on the meta device, to_empty, then the model's own init under one
seed on every rank. Without a DTensor RNG tracker (none runs for a CPU mesh, nor with CPU offload)
every rank draws the same numbers for its own slice: the shards are bit-identical (INI604)."""

import torch
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard

from _common import MLP, process_group


def build_model():
    _, world = process_group()
    mesh = init_device_mesh("cpu", (world,))
    torch.manual_seed(0)
    with torch.device("meta"):
        model = MLP()
    for layer in model.layers:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    model.to_empty(device="cpu")
    model.init_weights()
    return model
