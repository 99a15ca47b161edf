"""Init helpers called directly on a model (not through ``model.apply``), as research code does."""
from torch import nn
from torch.nn import init


def init_weights(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # expect: INI201 (models/net.py: init_weights(self) on a ReLU net)
            nn.init.zeros_(m.bias)


def init_net(net):
    """The pix2pix/CycleGAN shape: a nested function applied to the network passed in."""

    def init_func(m):
        classname = m.__class__.__name__
        if hasattr(m, "weight") and classname.find("Conv") != -1:
            init.xavier_normal_(m.weight.data)  # expect: INI201 (train.py: init_net(netG), a ReLU generator)
        elif classname.find("BatchNorm2d") != -1:
            init.normal_(m.weight.data, 1.0, 0.02)
            init.constant_(m.bias.data, 0.0)

    net.apply(init_func)
    return net


def glorot_all(module):
    """Reaches only the layers the subclass inherits from models/base.py."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_normal_(m.weight)  # expect: INI201 (Head of models/head.py inherits ConvBase's conv + ReLU)


def per_module(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_normal_(m.weight)  # expect: INI201 (models/mlp.py calls it on each of its modules)


def init_modules(modules):
    """Loops over the modules it is given: called as init_modules(self.modules())."""
    for m in modules:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)  # expect: INI201 (models/tower.py: init_modules(self.modules()), ReLU)
