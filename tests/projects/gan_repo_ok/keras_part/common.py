import keras

SEEDS = keras.random.SeedGenerator(0)
INIT = keras.initializers.GlorotUniform(seed=SEEDS)
