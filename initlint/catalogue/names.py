"""Canonical spellings of qualified names.

Frameworks re-export the same object under many module paths (``tensorflow.keras.layers.Dense``,
``keras.src.layers.core.dense.Dense``, ``torch.nn.modules.linear.Linear``). Import resolution gives
the path the user wrote; this maps it onto the one spelling the catalogue is keyed by. Only module
*paths* are rewritten, never the final symbol, so ``foo.Dense`` never becomes a Keras layer.
"""

from __future__ import annotations

import re
from functools import lru_cache

# (pattern, replacement) applied in order, each at most once; patterns match a dotted prefix.
_REWRITES = [
    (r"^tensorflow\.", "tf."),
    (r"^tf\.compat\.v2\.", "tf."),
    (r"^tf\.python\.keras\.", "keras."),
    (r"^tf\.compat\.v1\.keras\.", "keras."),
    (r"^tf\.keras\.", "keras."),
    (r"^tf_keras\.", "keras."),
    (r"^keras\.api\.(?:_v2\.keras\.|_v1\.keras\.)?", "keras."),
    # keras.src.initializers.random_initializers.HeNormal -> keras.initializers.HeNormal
    (r"^keras\.src\.(initializers|layers|activations|ops|random)\.(?:[a-z_0-9]+\.)*", r"keras.\1."),
    (r"^keras\.src\.", "keras."),
    (r"^keras\.initializers\.initializers(?:_v2|_v1)?\.", "keras.initializers."),
    # Keras 2 / tf.keras module paths: keras.layers.core.Dense, keras.layers.convolutional.Conv2D,
    # tf.keras.layers.core.dense.Dense (layer classes are capitalised, modules never are)
    (r"^keras\.layers\.(?:[a-z_0-9]+\.)+", "keras.layers."),
    # TF1 tf.layers.Dense / Conv2D are Keras layer subclasses with the same arguments (lower-case
    # tf.layers.dense(...) functions are catalogue entries of their own)
    (r"^tf\.(?:compat\.v1\.)?layers\.(?=[A-Z])", "keras.layers."),
    # tf.contrib.slim re-exports tf.contrib.layers (layers and initializers) under its own name
    (r"^tf\.contrib\.(?:slim\.|layers\.python\.layers\.(?:initializers\.|layers\.)?)", "tf.contrib.layers."),
    # TF >= 2: tf.initializers is tf.keras.initializers (Keras 3 in TF 2.16+). Three lowercase names
    # are kept apart: their defaults differ from TF1's tf.initializers (see keras_entries).
    (r"^tf\.initializers\.(?!(?:random_normal|random_uniform|truncated_normal)$)", "keras.initializers."),
    (r"^torch\.nn\.modules\.(?:[a-z_0-9]+\.)*", "torch.nn."),
    (r"^torch\.nn\.parameter\.", "torch.nn."),
    (r"^flax\.linen\.initializers\.", "jax.nn.initializers."),
    (r"^flax\.nnx\.initializers\.", "jax.nn.initializers."),
    (r"^flax\.nnx\.nn\.initializers\.", "jax.nn.initializers."),
    (r"^jax\._src\.nn\.initializers\.", "jax.nn.initializers."),
    (r"^jax\._src\.random\.", "jax.random."),
    (r"^jax\._src\.nn\.functions\.", "jax.nn."),
    (r"^jax\.numpy\.(?:ufuncs|lax_numpy)\.", "jax.numpy."),
    (r"^flax\.linen\.(?:linear|activation|normalization|attention|recurrent|stochastic|pooling|combinators|module)\.",
     "flax.linen."),
    (r"^flax\.nnx\.nn\.(?:[a-z_0-9]+\.)*", "flax.nnx."),
    (r"^mxnet\.initializer\.", "mxnet.init."),
    (r"^mxnet\.np\.", "mxnet.numpy."),
    (r"^mxnet\.nd\.", "mxnet.ndarray."),
    (r"^mxnet\.gluon\.nn\.(?:basic_layers|conv_layers|activations)\.", "mxnet.gluon.nn."),
    # transformers' own wrappers: same names and signatures as torch.nn.init (they only skip
    # parameters already loaded from a checkpoint)
    (r"^transformers\.initialization\.", "torch.nn.init."),
    (r"^timm\.models\.layers\.", "timm.layers."),
    (r"^timm\.layers\.(?:weight_init|helpers)\.", "timm.layers."),
]
_COMPILED = [(re.compile(p), r) for p, r in _REWRITES]


@lru_cache(maxsize=4096)
def canonical(qualified_name: str) -> str:
    """The catalogue's spelling of ``qualified_name`` (unchanged if no rewrite applies)."""
    name = qualified_name
    for pattern, replacement in _COMPILED:
        name = pattern.sub(replacement, name, count=1)
    return name
