"""PyTorch version of the textbook chapter "6.3 Parameter initialisation".

The MLP is Linear(4, 8) -> ReLU -> Linear(8, 1).  The chapter uses LazyLinear;
here the input size is explicit so every fan-in is known statically.  Each
init scheme of the chapter is a small function applied exactly as the chapter
applies it (``net.apply(fn)``, ``net[0].apply(fn)``, ``net[2].apply(fn)``).
"""
import torch
from torch import nn


# 6.3.1 Built-in initialisation: N(0, 0.01^2) weights, zero bias.
def init_normal(module):
    if type(module) == nn.Linear:  # expect: INI503
        nn.init.normal_(module.weight, mean=0, std=0.01)  # expect: INI403
        nn.init.zeros_(module.bias)


# All weights set to the constant 1.
def init_constant(module):
    if type(module) == nn.Linear:  # expect: INI503
        nn.init.constant_(module.weight, 1)  # expect: INI301
        nn.init.zeros_(module.bias)


# Xavier on the first layer, the constant 42 on the second.
def init_xavier(module):
    if type(module) == nn.Linear:  # expect: INI503
        nn.init.xavier_uniform_(module.weight)  # expect: INI201


def init_42(module):
    if type(module) == nn.Linear:  # expect: INI503
        nn.init.constant_(module.weight, 42)  # expect: INI403


# 6.3.1.1 Custom initialisation: U(-10, 10), then zero where |w| < 5.
def my_init(module):
    if type(module) == nn.Linear:  # expect: INI503
        print("Init", *[(name, param.shape)
                        for name, param in module.named_parameters()][0])
        nn.init.uniform_(module.weight, -10, 10)  # expect: INI403
        module.weight.data *= module.weight.data.abs() >= 5


def normal_net():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    net.apply(init_normal)
    return net


def constant_net():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    net.apply(init_constant)
    return net


def xavier_42_net():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    net[0].apply(init_xavier)
    net[2].apply(init_42)
    return net


def custom_net():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    net.apply(my_init)
    # Parameters can always be set directly, too.
    net[0].weight.data[:] += 1
    net[0].weight.data[0, 0] = 42
    return net


def build_model():
    """The chapter's last configuration: Xavier on layer 0, 42 on layer 2."""
    return xavier_42_net()


if __name__ == "__main__":
    X = torch.rand(size=(2, 4))
    for build in (normal_net, constant_net, xavier_42_net, custom_net):
        net = build()
        print(build.__name__, net(X).shape, net[0].weight.data[0])
