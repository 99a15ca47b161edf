"""TensorFlow/Keras version of the textbook chapter "6.3 Parameter initialisation".

As in the chapter: Flatten -> Dense(4, relu) -> Dense(1).  An explicit
``Input(shape=(4,))`` (the chapter's X has 4 features) makes every fan-in
known without calling the model.
"""
import tensorflow as tf


def default_net():
    return tf.keras.models.Sequential([
        tf.keras.Input(shape=(4,)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(4, activation=tf.nn.relu),  # expect: INI204
        tf.keras.layers.Dense(1),
    ])


# 6.3.1 Built-in initialisation: N(0, 0.01^2) kernel, zero bias.
def normal_net():
    return tf.keras.models.Sequential([
        tf.keras.Input(shape=(4,)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(
            4, activation=tf.nn.relu,
            kernel_initializer=tf.random_normal_initializer(mean=0, stddev=0.01),  # expect: INI403
            bias_initializer=tf.zeros_initializer()),
        tf.keras.layers.Dense(1)])


# The kernel set to the constant 1.
def constant_net():
    return tf.keras.models.Sequential([
        tf.keras.Input(shape=(4,)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(
            4, activation=tf.nn.relu,
            kernel_initializer=tf.keras.initializers.Constant(1),  # expect: INI301
            bias_initializer=tf.zeros_initializer()),
        tf.keras.layers.Dense(1),
    ])


# Glorot (Xavier) on the first layer, the constant 42 on the second.
def xavier_42_net():
    return tf.keras.models.Sequential([
        tf.keras.Input(shape=(4,)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(
            4,
            activation=tf.nn.relu,
            kernel_initializer=tf.keras.initializers.GlorotUniform()),  # expect: INI201
        tf.keras.layers.Dense(
            1, kernel_initializer=tf.keras.initializers.Constant(42)),  # expect: INI403
    ])


# 6.3.1.1 Custom initialisation: U(-10, 10), then zero where |w| < 5.
# (No INI403: it reaches only Dense(4) with fan-in 4 under ReLU, where
# std 5.8 is about 8x the He target 0.71, under the 10x threshold.)
class MyInit(tf.keras.initializers.Initializer):
    def __call__(self, shape, dtype=None):
        data = tf.random.uniform(shape, -10, 10, dtype=dtype)
        factor = (tf.abs(data) >= 5)
        factor = tf.cast(factor, tf.float32)
        return data * factor


def custom_net():
    net = tf.keras.models.Sequential([
        tf.keras.Input(shape=(4,)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(
            4,
            activation=tf.nn.relu,
            kernel_initializer=MyInit()),
        tf.keras.layers.Dense(1),
    ])
    # Parameters can always be set directly, too.
    kernel = net.layers[1].kernel
    kernel.assign(kernel + 1)
    return net


def build_model():
    """The chapter's Glorot / constant-42 configuration."""
    return xavier_42_net()


if __name__ == "__main__":
    X = tf.random.uniform((2, 4))
    for build in (default_net, normal_net, constant_net, xavier_42_net, custom_net):
        net = build()
        print(build.__name__, net(X).shape, net.layers[1].weights[0].numpy()[0])
