from torch import nn


class Generator(nn.Module):
    def __init__(self, latent_dim=100):
        super().__init__()
        self.fc = nn.Linear(latent_dim, 256)
        self.act = nn.LeakyReLU(0.2)
        self.out = nn.Linear(256, 784)

    def forward(self, z):
        return self.out(self.act(self.fc(z))).tanh()
