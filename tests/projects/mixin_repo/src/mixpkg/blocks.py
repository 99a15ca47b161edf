from .layers import ConvAct, Stacked


class Middle(ConvAct):
    """No layer of its own: its conv and ReLU are those of ConvAct, in layers.py."""

    def __init__(self, c):
        super().__init__(c)
        self.scale = 1.0


class Holder(Stacked):
    pass
