from torch import nn

from models.base import ConvBase


class Derived(ConvBase):
    """Adds nothing but its init: the conv and its ReLU are ConvBase's, in models/base.py."""

    def __init__(self):
        super().__init__()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)  # expect: INI201


class Applied(ConvBase):
    def __init__(self):
        super().__init__()
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_normal_(m.weight, gain=1.0)  # expect: INI201
