"""torchtitan #166's mechanism: data parallelism by hand (gradients all-reduced each step) with each rank
seeded differently: N different models driven by one averaged gradient (INI608)."""

import torch

from _common import MLP, process_group


def build_model():
    rank, _ = process_group()
    torch.manual_seed(rank)
    model = MLP()
    model.init_weights()
    return model
