"""The helpers of helper_repo, each called where it is right."""
from torch import nn
from torch.nn import init


def init_weights(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def init_net(net, init_type="normal", gain=0.02):
    """pix2pix's shape and its default: N(0, 0.02) on convs; a BatchNorm scale N(1, 0.02) is no conv's.
    Its menu's Xavier is the user's pick at run time (train.py shows no choice of it): no branch of
    the menu is known taken."""

    def init_func(m):
        classname = m.__class__.__name__
        if hasattr(m, "weight") and (classname.find("Conv") != -1 or classname.find("Linear") != -1):
            if init_type == "normal":
                init.normal_(m.weight.data, 0.0, gain)
            elif init_type == "xavier":
                init.xavier_normal_(m.weight.data)
        elif classname.find("BatchNorm2d") != -1:
            init.normal_(m.weight.data, 1.0, gain)
            init.constant_(m.bias.data, 0.0)

    net.apply(init_func)
    return net


def he_all(module):
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")


def glorot(m):
    nn.init.xavier_normal_(m.weight)


def init_modules(modules):
    """Loops over the modules it is given; models/tower.py calls it on a tanh tower, where Glorot is right."""
    for m in modules:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
