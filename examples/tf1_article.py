"""The article's code in TF1 style (tf.compat.v1 graph mode).

``tf.compat.v1.initializers.truncated_normal(stddev=s)`` draws N(0, s^2) and
re-draws values beyond 2s: the std after truncation is 0.8796 s.
``he_normal`` is VarianceScaling(2.0, 'fan_in', 'truncated_normal'), which
divides by .87962566103423978 first.
"""
import numpy as np
import tensorflow as tf


def he_normal_conv(inputs, filter_row, filter_col, ch_in, ch_out, name):
    W_shape = [filter_row, filter_col, ch_in, ch_out]
    initializer = tf.compat.v1.initializers.he_normal()
    W = tf.compat.v1.get_variable(name=name + '_W', shape=W_shape, initializer=initializer)
    h = tf.nn.conv2d(inputs, W, strides=1, padding='SAME')
    return tf.nn.relu(h)


def truncated_normal_conv(inputs, filter_row, filter_col, ch_in, ch_out, name):
    W_shape = [filter_row, filter_col, ch_in, ch_out]
    stddev = (2 / (filter_row * filter_col * ch_in)) ** 0.5
    initializer = tf.compat.v1.initializers.truncated_normal(mean=0.0, stddev=stddev)  # expect: INI101
    W = tf.compat.v1.get_variable(name=name + '_W', shape=W_shape, initializer=initializer)
    h = tf.nn.conv2d(inputs, W, strides=1, padding='SAME')
    return tf.nn.relu(h)


def build_graph(depth=4, ch=32, use_he_normal=True):
    """A plain ReLU CNN graph on 32x32 RGB input."""
    graph = tf.Graph()
    with graph.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [None, 32, 32, 3], name='images')
        h, ch_in = images, 3
        for i in range(depth):
            conv = he_normal_conv if use_he_normal else truncated_normal_conv
            h = conv(h, 3, 3, ch_in, ch, name='conv%d' % i)
            ch_in = ch
    return graph, images, h


def compare(seed=1):
    """The article's experiment: N_in = 2 so both should have std 1."""
    shape = [2, 50000]
    graph = tf.Graph()
    with graph.as_default():
        # he_normal
        initializer = tf.compat.v1.initializers.he_normal(seed=seed)
        tf_W = tf.compat.v1.get_variable(name='he_normal', shape=shape, initializer=initializer)
        # truncated_normal
        stddev = (2 / shape[0]) ** 0.5
        initializer = tf.compat.v1.initializers.truncated_normal(mean=0.0, stddev=stddev, seed=seed)  # expect: INI101
        my_W = tf.compat.v1.get_variable(name='my_he_normal', shape=shape, initializer=initializer)
        init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        tf_W_value = sess.run(tf_W)
        my_W_value = sess.run(my_W)
    return float(np.std(tf_W_value)), float(np.std(my_W_value))


if __name__ == "__main__":
    print(build_graph()[2])
    print("he_normal std %.3f, truncated_normal std %.3f" % compare())
