from .backend import keras
from .common import SHARED_INIT


def two_towers():
    left = keras.layers.Dense(64, kernel_initializer=SHARED_INIT)  # expect: INI303
    right = keras.layers.Dense(64, kernel_initializer=SHARED_INIT)
    return left, right
