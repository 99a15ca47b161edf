from torch import nn


class Generator(nn.Module):
    def __init__(self, ngf=64):
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, ngf, 7, padding=3), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.Conv2d(ngf, 3, 7, padding=3), nn.Tanh(),
        )

    def forward(self, x):
        return self.model(x)
