"""DDP broadcasts rank 0's parameters when it wraps the model, so per-rank seeds do no harm here."""

import torch
from torch.nn.parallel import DistributedDataParallel

from _common import MLP, process_group


def build_model():
    rank, _ = process_group()
    torch.manual_seed(rank)
    model = MLP()
    model.init_weights()
    return DistributedDataParallel(model)
