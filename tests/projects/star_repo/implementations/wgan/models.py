from torch import nn


def weights_init_normal(m):
    if isinstance(m, nn.Conv2d):
        nn.init.xavier_normal_(m.weight)  # expect: INI201 (wgan.py applies it to the Critic's ReLU convs)


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1), nn.ReLU(), nn.Conv2d(64, 1, 4))

    def forward(self, img):
        return self.model(img)
