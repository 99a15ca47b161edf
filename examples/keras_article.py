"""The article's experiment in TF2 / Keras style.

He et al.: for a ReLU network draw weights with Var = 2 / N_in (N_in = kernel
height * width * input channels for a conv).  ``he_normal`` samples a normal
truncated at two std and scales so that the std *after* truncation is
sqrt(2 / N_in).  ``truncated_normal(stddev=sqrt(2 / N_in))`` takes the std
*before* truncation, so its weights come out 0.8796x too small.
"""
import numpy as np
import tensorflow as tf

# constant taken from scipy.stats.truncnorm.std(a=-2, b=2, loc=0., scale=1.)
TRUNCNORM_STD = .87962566103423978


def he_conv(ch_out, filter_row, filter_col):
    """The Keras snippet of the article: he_normal, the correct way."""
    initializer = tf.initializers.he_normal()
    return tf.keras.layers.Conv2D(ch_out, [filter_row, filter_col], padding='same',
                                  activation='relu', kernel_initializer=initializer)


def truncated_conv(ch_in, ch_out, filter_row, filter_col):
    """He by hand with truncated_normal: the std is taken before truncation."""
    stddev = (2 / (filter_row * filter_col * ch_in)) ** 0.5
    initializer = tf.initializers.truncated_normal(mean=0.0, stddev=stddev)  # expect: INI101
    return tf.keras.layers.Conv2D(ch_out, [filter_row, filter_col], padding='same',
                                  activation='relu', kernel_initializer=initializer)


def corrected_conv(ch_in, ch_out, filter_row, filter_col):
    """What VarianceScaling does internally: divide by the truncated std."""
    stddev = (2 / (filter_row * filter_col * ch_in)) ** 0.5 / TRUNCNORM_STD
    initializer = tf.keras.initializers.TruncatedNormal(mean=0.0, stddev=stddev)
    return tf.keras.layers.Conv2D(ch_out, [filter_row, filter_col], padding='same',
                                  activation='relu', kernel_initializer=initializer)


def build_model(input_shape=(32, 32, 3), width=32, depth=4, use_he_normal=False):
    """A plain ReLU CNN; the article trained a 24-layer one."""
    inputs = tf.keras.Input(shape=input_shape)
    h = inputs
    ch_in = input_shape[-1]
    for _ in range(depth):
        if use_he_normal:
            conv = he_conv(width, 3, 3)
        else:
            conv = truncated_conv(ch_in, width, 3, 3)
        h = conv(h)
        ch_in = width
    h = tf.keras.layers.GlobalAveragePooling2D()(h)
    outputs = tf.keras.layers.Dense(10)(h)
    return tf.keras.Model(inputs, outputs)


def compare(seed=1):
    """The article's histogram experiment: N_in = 2 so the target std is 1."""
    shape = [2, 50000]
    initializer = tf.initializers.he_normal(seed=seed)
    tf_W = tf.Variable(initializer(shape), name='he_normal')
    stddev = (2 / shape[0]) ** 0.5
    initializer = tf.initializers.truncated_normal(mean=0.0, stddev=stddev, seed=seed)  # expect: INI101
    my_W = tf.Variable(initializer(shape), name='my_he_normal')
    raw_W = tf.Variable(tf.random.truncated_normal(shape, stddev=stddev, seed=seed))  # expect: INI101
    bins = np.arange(-3.0, 3.0, 0.2)
    return {name: np.histogram(w.numpy().ravel(), bins=bins)[0]
            for name, w in (('he_normal', tf_W), ('truncated_normal', my_W),
                            ('random.truncated_normal', raw_W))}


if __name__ == "__main__":
    for name, w in (("he", build_model(use_he_normal=True)), ("trunc", build_model())):
        print(name, float(np.std(w.layers[2].kernel.numpy())))
    print({k: v.tolist() for k, v in compare().items()})
