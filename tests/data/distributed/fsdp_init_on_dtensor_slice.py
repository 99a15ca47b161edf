"""llm-foundry #1820's mechanism: a fused q/k/v projection built on the meta device, sharded with FSDP2,
materialised with to_empty, then initialised block by block through slices of the weight, as its
fused_init_helper_ did. Under FSDP2 the weight is a DTensor sharded on dim 0, and slicing dim 0
gathers a new replicated tensor: each normal_ fills that copy, and the weight keeps to_empty's
uninitialised memory. (Ranks are seeded by rank: they hold different shards.)"""

import torch
import torch.nn as nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard

from _common import process_group


class FusedAttentionProjection(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.dim = dim
        self.Wqkv = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = self.Wqkv(x).chunk(3, dim=-1)
        return self.out_proj(torch.relu(q + k + v))

    def init_weights(self):
        for i in range(3):  # one init per block of the fused weight
            nn.init.normal_(self.Wqkv.weight[i * self.dim:(i + 1) * self.dim], std=0.02)
        nn.init.zeros_(self.Wqkv.bias)
        nn.init.normal_(self.out_proj.weight, std=0.02)
        nn.init.zeros_(self.out_proj.bias)


def build_model(cls=FusedAttentionProjection):
    rank, world = process_group()
    mesh = init_device_mesh("cpu", (world,))
    torch.manual_seed(rank)
    with torch.device("meta"):
        model = cls()
    fully_shard(model, mesh=mesh)
    model.to_empty(device="cpu")
    model.init_weights()
    return model


class WrittenBack(FusedAttentionProjection):
    """Each block initialised on its slice, then assigned back into the weight: the assignment to a slice of
    the sharded dimension writes a gathered copy as well, and the weight is still unchanged."""

    def init_weights(self):
        weight = self.Wqkv.weight
        with torch.no_grad():
            for i in range(3):
                block = weight[i * self.dim:(i + 1) * self.dim]
                nn.init.normal_(block, std=0.02)
                weight[i * self.dim:(i + 1) * self.dim] = block
        nn.init.zeros_(self.Wqkv.bias)
        nn.init.normal_(self.out_proj.weight, std=0.02)
        nn.init.zeros_(self.out_proj.bias)


def build_written_back():
    return build_model(WrittenBack)
