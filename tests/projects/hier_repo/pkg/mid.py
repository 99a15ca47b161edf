from torch import nn

from .base import Base, OverBase, SiblingBase, SuperBase


class Middle(Base):
    pass


class Sibling(SiblingBase):
    pass


class Leaf(Sibling):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 16)
        self.fc2 = nn.Linear(16, 4)
        self.init_weights()

    def forward(self, x):
        return self.fc2(nn.functional.relu(self.fc1(x)))


class Refined(SuperBase):
    def init_weights(self):
        super().init_weights()
        for m in self.modules():
            if isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)


class Over(OverBase):
    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
