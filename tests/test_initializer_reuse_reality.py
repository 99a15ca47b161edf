"""INI303's raw-TF variant, held to TensorFlow itself.

One initializer object used for the initial values of two variables: each case below builds the two
variables with the real TF 2.21 / Keras 3 (eagerly, or in a TF1 graph with a session), says whether
their values came out equal, and requires initlint to report exactly the cases that really repeat:
the same code, checked statically, is flagged if and only if TensorFlow gave both variables the
same numbers.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import textwrap

import numpy as np
import pytest

from initlint.engine import check_source
from initlint.ftypes import Settings

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

INI303 = Settings(select=frozenset({"INI303"}))

# (label, the initializer's constructor as user code spells it, mode)
# mode "eager": tf.Variable(init(shape=...)) twice; "graph": tf.get_variable(..., initializer=init)
# twice in a TF1 graph (tf.compat.v1.get_variable, with a Session, so the file reads as graph code);
# "layers": two Keras 3 Dense layers given the object as kernel_initializer
CASES = [
    ("keras seeded", "keras.initializers.GlorotNormal(seed=1)", "eager"),
    ("keras unseeded", "keras.initializers.HeNormal()", "eager"),
    ("tf.keras unseeded", "tf.keras.initializers.TruncatedNormal(stddev=0.02)", "eager"),
    ("keras in a graph", "keras.initializers.HeUniform()", "graph"),
    ("tf2 seeded", "tf.random_normal_initializer(stddev=0.02, seed=7)", "eager"),
    ("tf2 unseeded", "tf.random_normal_initializer(stddev=0.02)", "eager"),
    ("tf2 uniform seeded", "tf.random_uniform_initializer(-0.1, 0.1, seed=3)", "eager"),
    ("v1 seeded eager", "tf.compat.v1.truncated_normal_initializer(stddev=0.02, seed=1)", "eager"),
    ("v1 seeded graph", "tf.compat.v1.truncated_normal_initializer(stddev=0.02, seed=1)", "graph"),
    ("v1 unseeded graph", "tf.compat.v1.glorot_uniform_initializer()", "graph"),
    ("v1 glorot seeded graph", "tf.compat.v1.glorot_uniform_initializer(seed=5)", "graph"),
    ("tf2 seeded, two Dense", "tf.random_normal_initializer(stddev=0.02, seed=7)", "layers"),
    ("tf2 unseeded, two Dense", "tf.random_normal_initializer(stddev=0.02)", "layers"),
]


def _source(constructor: str, mode: str) -> str:
    if mode == "eager":
        body = f"""
            init = {constructor}
            w1 = tf.Variable(init(shape=(64, 32)))
            w2 = tf.Variable(init(shape=(64, 32)))
            result = (w1.numpy(), w2.numpy())
        """
    elif mode == "layers":
        body = f"""
            init = {constructor}
            first = keras.layers.Dense(32, kernel_initializer=init)
            second = keras.layers.Dense(32, kernel_initializer=init)
            first.build((None, 64))
            second.build((None, 64))
            result = (first.kernel.numpy(), second.kernel.numpy())
        """
    else:
        body = f"""
            graph = tf.Graph()
            with graph.as_default():
                init = {constructor}
                w1 = tf.compat.v1.get_variable("w1", [64, 32], initializer=init)
                w2 = tf.compat.v1.get_variable("w2", [64, 32], initializer=init)
                with tf.compat.v1.Session() as session:
                    session.run(tf.compat.v1.global_variables_initializer())
                    result = tuple(session.run([w1, w2]))
        """
    return "import tensorflow as tf\nimport keras\n\n" + textwrap.dedent(body).lstrip()


def _run(source: str):
    scope = {}
    exec(compile(source, "<case>", "exec"), scope)  # the case's own code, on the real TF
    first, second = scope["result"]
    return np.array_equal(first, second)


@pytest.mark.parametrize("label,constructor,mode", CASES, ids=[c[0] for c in CASES])
def test_flagged_exactly_when_tensorflow_repeats_the_values(label, constructor, mode):
    source = _source(constructor, mode)
    repeats = _run(source)
    flagged = [f for f in check_source(source, settings=INI303) if f.code == "INI303"]
    assert bool(flagged) == repeats, (
        f"{label}: TensorFlow gave the two variables {'the same' if repeats else 'different'} values, "
        f"initlint {'reported' if flagged else 'did not report'} it:\n{source}")


def test_the_cases_cover_both_answers():
    answers = {_run(_source(constructor, mode)) for _label, constructor, mode in CASES[:2] + CASES[5:6]}
    assert answers == {True, False}
