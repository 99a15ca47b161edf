"""What each tensor was meant to be: declarations recorded while the model is built, in every framework,
and every patch undone afterwards."""

from __future__ import annotations

import math
import os

import pytest

from conftest import write

pytest.importorskip("numpy")
pytest.importorskip("scipy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import initlint  # noqa: E402
from initlint.verify import verify_file  # noqa: E402


def _by_name(report):
    return {r.info.name: r for r in report.tensors}


# --- torch ---------------------------------------------------------------------------------------

TORCH_MODEL = '''
import math
import torch
from torch import nn
from torch.nn.init import xavier_uniform_


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 128)
        self.fc3 = nn.Linear(128, 128)
        self.emb = nn.Embedding(100, 64)
        self.raw = nn.Parameter(torch.randn(32, 32))
        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")
        xavier_uniform_(self.fc2.weight, gain=nn.init.calculate_gain("relu"))
        self.fc3.weight.data.normal_(0.0, 0.125)
        with torch.no_grad():
            self.fc3.weight.mul_(2.0)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def build_model():
    return Block()
'''


def test_torch_declarations_defaults_aliases_and_in_place_scaling(tmp_path):
    pytest.importorskip("torch")
    path = write(tmp_path / "model.py", TORCH_MODEL)
    report = verify_file(str(path), input_shape="2,64", seed=0)
    tensors = _by_name(report)
    fc1, fc2, fc3 = tensors["fc1.weight"], tensors["fc2.weight"], tensors["fc3.weight"]
    assert fc1.info.declared.name == "torch.nn.init.kaiming_normal_"
    assert fc1.info.declared.args["nonlinearity"] == "relu" and fc1.info.declared.explicit
    assert fc1.info.source().line == 16 and fc1.info.source().path == str(path)
    assert fc1.expect.std == pytest.approx(math.sqrt(2 / 64))
    # `from torch.nn.init import xavier_uniform_`, executed while recording, is recorded too
    assert fc2.info.declared.name == "torch.nn.init.xavier_uniform_"
    assert fc2.expect.std == pytest.approx(math.sqrt(2) * math.sqrt(2 / 256))
    # w.data.normal_(0, .125) then w.mul_(2): the declared std follows the scaling
    assert fc3.info.declared.name == "torch.Tensor.normal_" and fc3.info.declared.scale == 2.0
    assert fc3.expect.std == pytest.approx(0.25)
    # the module default: nn.Linear's kaiming_uniform_(a=sqrt(5)), recorded inside torch: a default
    bias = tensors["fc1.bias"]
    assert bias.info.declared.name == "torch.nn.init.uniform_"
    assert bias.expect.std == pytest.approx(1 / math.sqrt(3 * 64))
    assert tensors["emb.weight"].expect.std == pytest.approx(1.0)  # Embedding: normal_(std=1)
    assert tensors["raw"].info.declared.name == "torch.randn"
    assert tensors["raw"].expect.std == pytest.approx(1.0)
    assert report.findings == [] or {f.code for f in report.findings} <= {"INI605"}
    assert all(f.code != "INI601" for f in report.findings)


def test_torch_patches_are_undone():
    torch = pytest.importorskip("torch")
    before_init = {n: getattr(torch.nn.init, n) for n in dir(torch.nn.init) if n.endswith("_")}
    before_tensor = {n: torch.Tensor.__dict__.get(n) for n in ("normal_", "uniform_", "fill_", "zero_", "mul_",
                                                              "__imul__", "copy_", "add_")}
    before_samplers = {n: getattr(torch, n) for n in ("randn", "rand", "zeros", "ones", "empty", "full")}

    def build():
        from torch import nn

        net = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
        nn.init.kaiming_normal_(net[0].weight)
        raise_after = net
        return raise_after

    initlint.verify(build, framework="torch")
    assert {n: getattr(torch.nn.init, n) for n in before_init} == before_init
    assert {n: torch.Tensor.__dict__.get(n) for n in before_tensor} == before_tensor
    assert {n: getattr(torch, n) for n in before_samplers} == before_samplers
    # also when the build raises
    with pytest.raises(initlint.verify.VerifyError):
        initlint.verify(lambda: 1 / 0, framework="torch")
    assert {n: getattr(torch.nn.init, n) for n in before_init} == before_init
    with torch.device("meta"):  # the device context still works: its cache holds the real factories
        assert torch.empty(2).is_meta


def test_copied_weights_have_no_law_and_are_identical(tmp_path):
    pytest.importorskip("torch")
    path = write(tmp_path / "model.py", '''
from torch import nn


def build_model():
    a, b = nn.Linear(64, 64), nn.Linear(64, 64)
    b.load_state_dict(a.state_dict())
    return nn.Sequential(a, nn.Tanh(), b, nn.Tanh(), nn.Linear(64, 2))
''')
    report = verify_file(str(path), seed=0, static=False)
    copied = _by_name(report)["2.weight"]
    assert copied.info.declared.unknown and copied.expect is None
    assert "INI604" in [f.code for f in report.findings if f.parameter == "2.weight"]


def test_transformers_model_declarations():
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=128, vocab_size=500, max_position_embeddings=64)

    report = initlint.verify(lambda: transformers.BertModel(config), framework="torch", seed=0)
    assert report.findings == []
    linear = [r for r in report.tensors if r.info.layer == "torch.nn.Linear" and r.info.role == "weight"]
    assert linear and all(r.expect.std == pytest.approx(config.initializer_range) for r in linear)
    assert report.input_shape == (2, 16)  # token ids from the config, not a float input
    assert report.signal


def test_lazy_model_is_materialised_under_recording(tmp_path):
    pytest.importorskip("torch")
    path = write(tmp_path / "model.py", '''
from torch import nn


def build_model():
    return nn.Sequential(nn.LazyLinear(32), nn.ReLU(), nn.LazyLinear(1))
''')
    report = verify_file(str(path), input_shape="2,16", seed=0)
    first = _by_name(report)["0.weight"]
    assert first.info.shape == (32, 16)
    assert first.info.declared.name == "torch.nn.init.kaiming_uniform_" and first.info.is_default
    assert report.findings == []


def test_api_model_object_assumes_layer_defaults():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 4))
    report = initlint.verify(model)
    first = _by_name(report)["0.weight"]
    assert first.info.declared.assumed and first.expect.std == pytest.approx(1 / math.sqrt(3 * 256))
    assert report.findings == []
    strict = initlint.verify(model, strict=True)  # a framework default under ReLU is judged only on request
    assert [f.code for f in strict.findings] == ["INI605"]


# --- keras ---------------------------------------------------------------------------------------


def test_keras_declarations_from_initialiser_objects(tmp_path):
    pytest.importorskip("keras")
    path = write(tmp_path / "model.py", '''
import keras
import tensorflow as tf


def build_model():
    return keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(128, activation="relu",
                           kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal")),
        keras.layers.Dense(128, activation="tanh", kernel_initializer=tf.random_normal_initializer(stddev=0.05)),
        keras.layers.Dense(10),
    ])
''')
    report = verify_file(str(path), seed=0)
    weights = [r for r in report.tensors if r.info.role == "weight"]
    assert weights[0].info.declared.name == "keras.initializers.VarianceScaling"
    assert weights[0].expect.family == "normal" and weights[0].expect.std == pytest.approx(math.sqrt(2 / 64))
    assert weights[0].info.declared.explicit and weights[0].info.activation == "relu"
    assert weights[1].info.declared.name == "tf.random_normal_initializer"
    assert weights[1].expect.std == pytest.approx(0.05)
    # the default glorot_uniform of the head: Keras' own default, truncation-free uniform
    assert weights[2].info.is_default and weights[2].expect.family == "uniform"
    assert weights[0].info.source().line == 10  # the initialiser's construction
    # 0.05 * sqrt(128) = 0.57 under tanh: below LeCun's 1
    assert [f.code for f in report.findings] == ["INI605"]


def test_keras_patches_are_undone():
    keras = pytest.importorskip("keras")
    from keras.src.initializers.initializer import Initializer
    from keras.src.layers.layer import Layer

    before = (Initializer.__dict__.get("__new__"), Layer.__dict__.get("__new__"), Layer.__dict__.get("add_weight"),
              Layer.__dict__.get("__call__"))
    initlint.verify(lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)]), framework="keras")
    after = (Initializer.__dict__.get("__new__"), Layer.__dict__.get("__new__"), Layer.__dict__.get("add_weight"),
             Layer.__dict__.get("__call__"))
    assert after == before


# --- flax ----------------------------------------------------------------------------------------

FLAX_MODEL = '''
import flax.linen as nn


class Model(nn.Module):
    @nn.compact
    def __call__(self, tokens):
        x = nn.Embed(100, 32)(tokens)
        x = nn.MultiHeadDotProductAttention(num_heads=4, qkv_features=32)(x)
        x = nn.Dense(64, kernel_init=nn.initializers.he_normal())(x)
        x = nn.relu(x)
        return nn.Dense(8, kernel_init=nn.initializers.truncated_normal(0.02))(x)


def build_model():
    return Model()
'''


def test_flax_declarations_from_closures(tmp_path):
    pytest.importorskip("flax")
    jnp = pytest.importorskip("jax.numpy")
    path = write(tmp_path / "model.py", FLAX_MODEL)
    from initlint.verify.runner import Run

    run = Run(framework="flax", input_shape="2,5")
    adapter = run.adapter("flax")
    module = __import__("importlib").import_module  # noqa: F841  (the file is imported below)
    from initlint.verify.discovery import load_module

    with run.recording_context():
        model = load_module(str(path)).build_model()
        adapter._make_input = lambda shape: jnp.zeros(shape, jnp.int32)
        prepared = adapter.prepare(model, (2, 5))
    tensors = {t.name: t for t in adapter.tensors(prepared)}
    embed = tensors["Embed_0/embedding"]
    assert embed.declared.name == "flax.linen.linear.default_embed_init"
    query = tensors["MultiHeadDotProductAttention_0/query/kernel"]
    assert query.shape == (32, 4, 8) and (query.fan_in, query.fan_out) == (32, 32)  # the flat [in, heads*dim]
    dense = tensors["Dense_0/kernel"]
    assert dense.declared.name == "jax.nn.initializers.variance_scaling"
    assert dense.declared.label() == "he_normal()" and dense.declared.explicit
    assert dense.declared.args == {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"}
    assert dense.declared.stack and dense.declared.stack[0].line == 10
    head = tensors["Dense_1/kernel"]
    assert head.declared.name == "jax.nn.initializers.truncated_normal"
    assert head.declared.args["stddev"] == 0.02


def test_flax_patches_are_undone():
    nn = pytest.importorskip("flax.linen")
    import jax

    before = (nn.Module.param, jax.nn.initializers.he_normal, nn.initializers.he_normal, jax.nn.relu, nn.relu)

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(4)(nn.relu(nn.Dense(8, kernel_init=nn.initializers.he_normal())(x)))

    initlint.verify(MLP, framework="flax", input_shape=(2, 3))
    after = (nn.Module.param, jax.nn.initializers.he_normal, nn.initializers.he_normal, jax.nn.relu, nn.relu)
    assert after == before


def _line_of(marker: str) -> int:
    with open(__file__, encoding="utf-8") as handle:
        return next(i for i, text in enumerate(handle, 1) if text.rstrip().endswith(marker))


def test_where_an_initialiser_ran_follows_loops_generators_and_their_callers():
    # the stack walk reuses the frames its previous walk passed that still run at the same instruction: a
    # loop calls an initialiser from one instruction again and again, and a generator is resumed from any
    # caller (its own instruction the same, its callers not); each declaration must still name its own
    torch = pytest.importorskip("torch")

    def initialised(net):
        for layer in net:
            torch.nn.init.normal_(layer.weight, std=0.02)  # initialiser in the generator
            yield layer

    def build():
        net = torch.nn.Sequential(*[torch.nn.Linear(8, 8) for _ in range(4)])
        steps = initialised(net)
        next(steps)  # resumed first here
        next(steps)  # then here
        for _ in steps:  # then by this loop
            pass
        for layer in net:
            torch.nn.init.zeros_(layer.bias)  # the biases, in a plain loop
        return net

    report = initlint.verify(build)
    stacks = {r.info.name: r.info.declared.stack for r in report.tensors}
    generator, loop = _line_of("# initialiser in the generator"), _line_of("# the biases, in a plain loop")
    callers = [_line_of("# resumed first here"), _line_of("# then here")] + [_line_of("# then by this loop")] * 2
    for index, caller in enumerate(callers):
        stack = stacks[f"{index}.weight"]
        assert [frame.line for frame in stack[:2]] == [generator, caller], (index, stack)
        assert stack[0].column is not None and stack[1].column is None
        assert [frame.line for frame in stacks[f"{index}.bias"][:1]] == [loop]
