from torch import nn

from gen.blocks import TanhBlock
from gen.settings import HIDDEN_ACT


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = TanhBlock(3, 16)
        self.mlp = nn.Sequential(nn.Linear(64, 128), HIDDEN_ACT(), nn.Linear(128, 10))
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_normal_(m.weight)
