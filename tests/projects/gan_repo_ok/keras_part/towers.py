import keras

from keras_part.common import INIT


def two_towers():
    # a SeedGenerator advances on every call: each layer gets its own draw
    return keras.layers.Dense(64, kernel_initializer=INIT), keras.layers.Dense(64, kernel_initializer=INIT)
