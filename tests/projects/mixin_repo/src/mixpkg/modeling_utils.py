import torch
from torch import nn

from .utils.hub import PushMixin


class PreTrained(nn.Module, PushMixin):
    """The base of every model: configuration and bookkeeping, no layer of its own."""

    _no_split = None

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.name = config.name
        self._keep = set(self._no_split or [])
        self._compiled = torch.compile(self.forward) if config.compile else None

    def resize(self, n):
        new = nn.Embedding(n, 8)  # a layer made and returned, never held
        return new

    def post_init(self):
        self.apply(self._init_weights)

    def _init_weights(self, module):
        pass
