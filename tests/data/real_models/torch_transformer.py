"""torch.nn.Transformer (encoder and decoder stacks), as its documentation builds it."""
from torch import nn


def build_model():
    return nn.Transformer(d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=128)
