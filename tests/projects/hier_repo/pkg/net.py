from torch import nn

from .mid import Middle, Over, Refined


class Net(Middle):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 10)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(10, 10)
        self.init_weights()

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Encoder(Refined):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 10)
        self.norm = nn.LayerNorm(10)
        self.fc2 = nn.Linear(10, 10)
        self.init_weights()

    def forward(self, x):
        return self.fc2(self.norm(nn.functional.relu(self.fc1(x))))


class Regressor(Over):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 10)
        self.fc2 = nn.Linear(10, 1)
        self.init_weights()

    def forward(self, x):
        return self.fc2(nn.functional.relu(self.fc1(x)))
