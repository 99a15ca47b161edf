"""A bidirectional nn.GRU with its defaults."""
from torch import nn


def build_model():
    return nn.GRU(input_size=32, hidden_size=64, num_layers=2, bidirectional=True, batch_first=True)
