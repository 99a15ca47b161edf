from torch import nn

from gen.settings import INIT_STD


class Embed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(768, 768)
        nn.init.normal_(self.proj.weight, std=INIT_STD)
