"""A two-layer nn.LSTM with its defaults (uniform(-1/sqrt(hidden), 1/sqrt(hidden)) on every tensor)."""
from torch import nn


def build_model():
    return nn.LSTM(input_size=32, hidden_size=64, num_layers=2, batch_first=True)
