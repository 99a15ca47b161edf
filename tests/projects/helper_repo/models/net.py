import torch.nn as nn
import torch.nn.functional as F

from utils.init import init_weights


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.fc = nn.Linear(16, 10)
        init_weights(self)

    def forward(self, x):
        x = F.relu(self.conv(x))
        return self.fc(x.mean((2, 3)))
