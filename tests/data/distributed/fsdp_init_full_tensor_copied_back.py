"""llm-foundry #1820's fix: the fused weight's blocks are initialised on its full tensor, which is then
distributed back into the FSDP2 parameter. Nothing to report."""

import torch
import torch.nn as nn
from torch.distributed.tensor import distribute_tensor

from fsdp_init_on_dtensor_slice import FusedAttentionProjection, build_model as build_sliced


class Fixed(FusedAttentionProjection):
    def init_weights(self):
        weight = self.Wqkv.weight
        with torch.no_grad():
            full = weight.full_tensor()
            for i in range(3):
                nn.init.normal_(full[i * self.dim:(i + 1) * self.dim], std=0.02)
            weight.copy_(distribute_tensor(full, weight.device_mesh, weight.placements))
        nn.init.zeros_(self.Wqkv.bias)
        nn.init.normal_(self.out_proj.weight, std=0.02)
        nn.init.zeros_(self.out_proj.bias)


def build_model():
    return build_sliced(Fixed)
