from models.base import ConvBase
from utils.init import glorot_all


class Head(ConvBase):
    def __init__(self):
        super().__init__()
        glorot_all(self)
