"""nn.TransformerEncoder(layer, N) deep-copies its layer: every layer starts identical (pytorch#86274, #72253).
A real quirk that verify must report (INI604)."""
from torch import nn


def build_model():
    layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=3)
