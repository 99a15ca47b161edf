from .backend import keras
from .config import HIDDEN_ACTIVATION, KERNEL_INIT, OUTPUT_ACTIVATION


def build_model():
    return keras.Sequential([
        keras.layers.Dense(64, activation=HIDDEN_ACTIVATION, kernel_initializer=KERNEL_INIT),  # expect: INI201
        keras.layers.Dense(1, activation=OUTPUT_ACTIVATION, kernel_initializer=KERNEL_INIT),
    ])
