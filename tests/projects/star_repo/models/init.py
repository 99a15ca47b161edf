from torch import nn


def weights_init_normal(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)  # expect: INI201 (Generator's fc is followed by LeakyReLU)
