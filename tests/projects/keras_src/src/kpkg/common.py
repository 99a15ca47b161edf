from .backend import keras

SHARED_INIT = keras.initializers.GlorotUniform(seed=0)
