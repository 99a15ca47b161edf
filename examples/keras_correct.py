"""Correct Keras initialisation: initlint must report nothing in this file."""
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def conv_bn_relu(x, filters, kernel_size=3, strides=1):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding='same', use_bias=False,
                      kernel_initializer=keras.initializers.VarianceScaling(2.0, 'fan_in', 'truncated_normal'))(x)
    x = layers.BatchNormalization(gamma_initializer='ones')(x)
    return layers.ReLU()(x)


def residual_block(x, filters, strides=1):
    shortcut = x
    y = conv_bn_relu(x, filters, strides=strides)
    y = layers.Conv2D(filters, 3, padding='same', use_bias=False,
                      kernel_initializer=keras.initializers.HeNormal())(y)
    # Zero gamma on the last BN of the branch: the block starts as the identity.
    y = layers.BatchNormalization(gamma_initializer='zeros')(y)
    if strides != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False,
                                 kernel_initializer='he_normal')(shortcut)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.Activation('relu')(layers.Add()([shortcut, y]))


def build_resnet(input_shape=(32, 32, 3), num_classes=10, widths=(32, 64, 128)):
    inputs = keras.Input(shape=input_shape)
    x = conv_bn_relu(inputs, widths[0])
    for i, filters in enumerate(widths):
        x = residual_block(x, filters, strides=1 if i == 0 else 2)
    x = layers.GlobalAveragePooling2D()(x)
    # A zero-initialised classifier head.
    outputs = layers.Dense(num_classes, kernel_initializer='zeros', bias_initializer='zeros')(x)
    return keras.Model(inputs, outputs, name='small_resnet')


def build_mlp(input_dim=784, hidden=512, num_classes=10):
    return tf.keras.Sequential([
        tf.keras.Input(shape=(input_dim,)),
        tf.keras.layers.Dense(hidden, activation='relu', kernel_initializer='he_normal',
                              bias_initializer='zeros'),
        tf.keras.layers.Dense(hidden, activation=tf.nn.relu,
                              kernel_initializer=tf.keras.initializers.HeUniform()),
        tf.keras.layers.Dense(hidden, activation='tanh',
                              kernel_initializer=tf.keras.initializers.GlorotUniform()),
        tf.keras.layers.Dense(num_classes, activation='softmax', kernel_initializer='glorot_uniform'),
    ])


class TextEncoder(keras.Model):
    """BERT-style embedding + GELU feed-forward; std 0.02 is a literal, not a He target."""

    def __init__(self, vocab_size=30522, dim=768, **kwargs):
        super().__init__(**kwargs)
        self.embed = layers.Embedding(
            vocab_size, dim, embeddings_initializer=keras.initializers.TruncatedNormal(stddev=0.02))
        self.norm = layers.LayerNormalization(gamma_initializer='ones', beta_initializer='zeros')
        self.ff1 = layers.Dense(4 * dim, activation='gelu',
                                kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02))
        self.ff2 = layers.Dense(dim, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02))

    def call(self, token_ids):
        h = self.norm(self.embed(token_ids))
        return h + self.ff2(self.ff1(h))


def build_model():
    return build_resnet()


def build_all():
    encoder = TextEncoder()
    encoder(tf.zeros((2, 16), dtype=tf.int32))
    return [build_resnet(), build_mlp(), encoder]
