"""nn.MultiheadAttention with its defaults (xavier_uniform_ on the packed in-projection, zero biases)."""
from torch import nn


def build_model():
    return nn.MultiheadAttention(embed_dim=64, num_heads=4, batch_first=True)
