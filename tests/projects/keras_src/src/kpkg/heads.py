from . import backend
from .config import OUTPUT_ACTIVATION


def head():
    # Glorot under a sigmoid: right
    return backend.keras.layers.Dense(1, activation=OUTPUT_ACTIVATION, kernel_initializer="glorot_uniform")
