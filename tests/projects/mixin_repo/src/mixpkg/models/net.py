from torch import nn

from ..blocks import Holder, Middle
from ..modeling_utils import PreTrained


class Net(Middle):
    """Its layers are its base's base's, two modules away."""

    def __init__(self):
        super().__init__(16)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)  # expect: INI201


class Model(PreTrained):
    """A model of the library's base (no layers) holding a block of another module."""

    def __init__(self, config):
        super().__init__(config)
        self.body = Holder(8)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Conv2d):
            nn.init.xavier_normal_(module.weight)  # expect: INI201


class TanhModel(PreTrained):
    """The look-alike: its only layer is its own, under tanh; Xavier is right there."""

    def __init__(self, config):
        super().__init__(config)
        self.proj = nn.Linear(8, 8)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)

    def forward(self, x):
        return self.proj(x).tanh()
