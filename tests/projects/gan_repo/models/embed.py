from torch import nn

from models.settings import INIT_STD


class Embed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4096, 4096)
        nn.init.normal_(self.proj.weight, std=INIT_STD)  # expect: INI403
