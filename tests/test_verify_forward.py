"""The forward pass at init stands for a training step: batch statistics on, dropout off, the model's state
restored; inputs fitted to the model; the signal followed through every module that owns a weight (custom
modules with functional activations too) and through each repeated block. Real models throughout."""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import write

pytest.importorskip("numpy")
pytest.importorskip("scipy")
torch = pytest.importorskip("torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import initlint  # noqa: E402

nn, F = torch.nn, torch.nn.functional


def _signal_findings(report):
    return [f for f in report.findings if f.code == "INI606"]


# --- custom modules whose forward applies the activation itself ------------------------------------------


class TanhLayer(nn.Module):
    """A layer no catalogue knows: its own parameters, the activation applied functionally."""

    def __init__(self, width, gain):
        super().__init__()
        self.w = nn.Parameter(torch.randn(width, width) * gain / width ** 0.5)
        self.b = nn.Parameter(torch.zeros(width))

    def forward(self, x):
        return torch.tanh(F.linear(x, self.w, self.b))


class ReluLayer(nn.Module):
    def __init__(self, width, gain):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(width, width) * gain / width ** 0.5)

    def forward(self, x):
        return F.relu(x @ self.weight.t())


def test_custom_functional_tanh_stack_that_vanishes_gets_ini606():
    report = initlint.verify(lambda: nn.Sequential(*[TanhLayer(64, 0.5) for _ in range(20)]), framework="torch",
                             input_shape=(32, 64))
    (finding,) = _signal_findings(report)
    assert "shrinks geometrically" in finding.message and "after 0" in finding.message and "after 19" in finding.message
    assert len(report.signal) == 20 and all(s.activation == "tanh" for s in report.signal)
    assert report.signal[0].std > 1000 * report.signal[-1].std


def test_custom_functional_relu_stack_that_vanishes_gets_ini606():
    report = initlint.verify(lambda: nn.Sequential(*[ReluLayer(64, 0.7) for _ in range(20)]), framework="torch",
                             input_shape=(32, 64))
    assert any("shrinks geometrically" in f.message for f in _signal_findings(report))
    assert all(s.activation == "relu" for s in report.signal)


def test_custom_functional_stack_at_its_gain_is_not_flagged():
    """The look-alike: tanh's gain 5/3 keeps the signal, ReLU's sqrt(2) too: no INI606."""
    for layer, gain in ((TanhLayer, 5 / 3), (ReluLayer, 2 ** 0.5)):
        report = initlint.verify(lambda: nn.Sequential(*[layer(64, gain) for _ in range(20)]), framework="torch",
                                 input_shape=(32, 64), seed=1)
        assert _signal_findings(report) == [], layer.__name__
        assert len(report.signal) == 20


# --- batch statistics, dropout, state restored -----------------------------------------------------------


def conv_bn_stack(depth=12):
    """Convolutions at a quarter of He's std, each followed by BatchNorm and ReLU: in training every batch is
    normalised, so the signal holds; run on the running statistics (eval mode at init) it would vanish."""
    layers = [nn.Conv2d(3, 16, 3, padding=1)]
    for index in range(depth):
        conv = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        nn.init.normal_(conv.weight, std=0.25 * (2 / (16 * 9)) ** 0.5)
        layers += [conv, nn.BatchNorm2d(16), nn.ReLU(), nn.Dropout(0.5)]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(16 * 8 * 8, 10))


def test_batch_norm_runs_on_batch_statistics_and_is_left_unchanged():
    model = conv_bn_stack()
    model[2].eval()  # a user's per-module mode: kept
    before = {name: value.clone() for name, value in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    report = initlint.verify(model, framework="torch", input_shape=(4, 3, 8, 8))
    assert _signal_findings(report) == []
    convs = [s for s in report.signal if s.kind == "conv"][1:]
    assert max(s.std for s in convs) / min(s.std for s in convs) < 3  # normalised before every convolution
    after = model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)  # running stats and counters too
    assert [m.training for m in model.modules()] == modes
    # the same model with the running statistics (what eval mode would measure) does lose its signal
    with torch.no_grad():
        x = torch.randn(4, 3, 8, 8)
        stds = []
        for layer in model.eval():
            x = layer(x)
            if isinstance(layer, nn.Conv2d):
                stds.append(float(x.std()))
    assert stds[1] > 1000 * stds[-1]


def test_a_batch_too_small_for_batch_statistics_falls_back_with_a_note():
    model = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    report = initlint.verify(model, framework="torch", input_shape=(1, 8))
    assert report.input_shape == (1, 8) and report.signal
    assert any("too small for batch statistics" in note for note in report.notes)
    assert model[1].num_batches_tracked.item() == 0


def test_input_shape_is_used_exactly_as_given():
    net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    assert initlint.verify(net, framework="torch", input_shape=(2, 64)).input_shape == (2, 64)
    inferred = initlint.verify(net, framework="torch")  # inferred: a batch of 32 tells dead units apart
    assert inferred.input_shape == (32, 64)


def test_keras_input_shape_is_used_exactly_as_given():
    keras = pytest.importorskip("keras")
    net = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(2)])
    assert initlint.verify(net, framework="keras", input_shape=(2, 64)).input_shape == (2, 64)
    assert initlint.verify(net, framework="keras").input_shape == (32, 64)


def test_recurrent_models_get_a_sequence_in_their_own_layout():
    lstm = initlint.verify(nn.LSTM(8, 16, num_layers=2, batch_first=True), framework="torch")
    gru = initlint.verify(nn.GRU(8, 16), framework="torch")
    assert (lstm.input_shape, gru.input_shape) == ((2, 16, 8), (16, 2, 8))
    assert [s.kind for s in lstm.signal] == ["rnn"] and not lstm.notes and not gru.notes


def test_embedding_first_model_is_fed_token_ids():
    model = nn.Sequential(nn.Embedding(100, 32), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4))
    report = initlint.verify(model, framework="torch", input_shape=(3, 10))
    assert report.input_shape == (3, 10) and "token ids below 100" in report.input
    assert [s.name for s in report.signal] == ["0", "1", "3"]


def test_transformer_encoder_default_linear_is_not_judged_without_strict():
    """nn.TransformerEncoderLayer's linear1 (before ReLU) keeps torch's default: INI605 only under --strict.
    Its clones stay a real INI604 finding."""
    def build():
        layer = nn.TransformerEncoderLayer(d_model=32, nhead=2, dim_feedforward=64, batch_first=True)
        return nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)

    report = initlint.verify(build, framework="torch", input_shape=(2, 8, 32))
    assert "INI605" not in report.codes and "INI604" in report.codes
    strict = initlint.verify(build, framework="torch", input_shape=(2, 8, 32), strict=True)
    assert any(f.code == "INI605" and f.parameter.endswith("linear1.weight") for f in strict.findings)
    blocks = [s for s in report.signal if s.kind == "block"]
    assert [s.name for s in blocks] == ["layers.0", "layers.1", "layers.2"] and {s.group for s in blocks} == {"layers"}


def test_modules_with_several_inputs_get_the_input_for_each():
    """nn.MultiheadAttention(query, key, value) and nn.Transformer(src, tgt): the forward pass runs; the
    xavier_uniform_ nn.Transformer applies itself is torch's choice, judged against ReLU only under --strict."""
    attention = initlint.verify(nn.MultiheadAttention(32, 2, batch_first=True), framework="torch",
                                input_shape=(2, 8, 32))
    assert not attention.notes and [s.name for s in attention.signal] == ["(MultiheadAttention)"]
    build = lambda: nn.Transformer(d_model=32, nhead=2, num_encoder_layers=2, num_decoder_layers=2,  # noqa: E731
                                   dim_feedforward=64)
    report = initlint.verify(build, framework="torch", input_shape=(6, 2, 32))
    assert not report.notes and report.findings == []
    assert [s.name for s in report.signal if s.kind == "block"] == [
        "encoder.layers.0", "encoder.layers.1", "decoder.layers.0", "decoder.layers.1"]
    strict = initlint.verify(build, framework="torch", input_shape=(6, 2, 32), strict=True)
    assert {f.parameter for f in strict.findings if f.code == "INI605"} == {
        f"{part}.layers.{i}.linear1.weight" for part in ("encoder", "decoder") for i in range(2)}


class ZeroQueries(nn.Module):
    """A decoder fed constant zeros (as DETR's decoder starts from zero queries): its first layer's output is
    constant because its input is, which is no layer stopping the signal."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(16, 16)
        self.decoder = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 16))
        nn.init.zeros_(self.decoder[0].bias)

    def forward(self, x):
        return self.encoder(x).sum() + self.decoder(torch.zeros_like(x)).sum()


def test_a_layer_fed_a_constant_is_not_said_to_stop_the_signal():
    report = initlint.verify(ZeroQueries(), framework="torch", input_shape=(8, 16))
    first = next(s for s in report.signal if s.name == "decoder.0")
    assert first.std == 0.0 and first.input_std == 0.0
    assert not any("constant for every input" in f.message for f in report.findings)


# --- transformers, built from tiny configs -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["bert", "gpt2"])
def test_tiny_transformer_is_measured_per_block_on_token_ids(name):
    transformers = pytest.importorskip("transformers")
    if name == "bert":
        build = lambda: transformers.BertModel(transformers.BertConfig(  # noqa: E731
            num_hidden_layers=2, hidden_size=32, num_attention_heads=2, intermediate_size=64, vocab_size=1000))
        group = "encoder.layer"
    else:
        build = lambda: transformers.GPT2Model(transformers.GPT2Config(  # noqa: E731
            n_layer=2, n_embd=32, n_head=2, vocab_size=1000))
        group = "h"
    report = initlint.verify(build, framework="torch")
    assert report.input_shape == (2, 16) and "token ids below 1000" in report.input
    assert not any("no forward pass" in note for note in report.notes)
    blocks = [s for s in report.signal if s.kind == "block"]
    assert [s.name for s in blocks] == [f"{group}.0", f"{group}.1"] and all(s.std > 0 for s in blocks)
    layers = [s for s in report.signal if s.kind == "dense"]
    assert len(layers) >= 8  # GPT-2's Conv1D (addmm on its weight) is followed like nn.Linear
    assert _signal_findings(report) == []
    exact = initlint.verify(build, framework="torch", input_shape=(3, 7))
    assert exact.input_shape == (3, 7) and exact.signal


# --- Keras and Flax ----------------------------------------------------------------------------------------


def test_keras_mobilenet_v2_has_no_false_ini606_and_keeps_its_moving_statistics():
    keras = pytest.importorskip("keras")
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    moving = [v.numpy().copy() for v in model.non_trainable_variables]
    report = initlint.verify(model, framework="keras", input_shape=(2, 96, 96, 3))
    assert report.input_shape == (2, 96, 96, 3)
    assert _signal_findings(report) == []
    convs = [s for s in report.signal if s.kind == "conv"]
    assert len(convs) > 40 and min(s.std for s in convs) > 1e-3  # was 5.8e-12 after Conv_1 on running averages
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(moving, model.non_trainable_variables))


FLAX_BN = '''
import flax.linen as nn


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool):
        for _ in range(8):
            x = nn.Dense(32, use_bias=False, kernel_init=nn.initializers.normal(0.02))(x)
            x = nn.BatchNorm(use_running_average=not train)(x)
            x = nn.relu(x)
            x = nn.Dropout(0.5, deterministic=not train)(x)
        return nn.Dense(4)(x)


def build_model():
    return MLP()
'''


def test_flax_batch_norm_uses_batch_statistics(tmp_path):
    """Dense layers at std 0.02 (a sixth of He's): on running averages (``train=False`` as written) the signal
    would fall 5x a layer; training normalises every batch, and so does verify's pass."""
    pytest.importorskip("flax")
    from initlint.verify import verify_file

    path = write(tmp_path / "model.py", FLAX_BN)
    report = verify_file(str(path), input_shape=(16, 32), static=False)
    assert report.input_shape == (16, 32)
    hidden = [s for s in report.signal if s.kind == "dense"][:8]
    assert len(hidden) == 8 and max(s.std for s in hidden) / min(s.std for s in hidden) < 3
    assert _signal_findings(report) == []


# --- --plot: every flagged tensor, several files when there are many -----------------------------------------

MANY_FLAGGED = '''
from torch import nn


def build_model():
    layers = []
    for _ in range(14):
        layer = nn.Linear(64, 64)
        nn.init.xavier_uniform_(layer.weight)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 2))
'''


def test_plot_writes_every_flagged_tensor_over_several_files(tmp_path, capsys):
    """14 Xavier layers under ReLU: 14 INI605 and the head's INI606 (the signal halves in variance at each)."""
    pytest.importorskip("matplotlib")
    from initlint.cli import main

    path = write(tmp_path / "model.py", MANY_FLAGGED)
    image = tmp_path / "hist.png"
    code = main(["verify", str(path), "--plot", str(image), "--no-static"])
    err = capsys.readouterr().err
    assert code == 1, err
    pages = [tmp_path / "hist-1.png", tmp_path / "hist-2.png"]
    assert f"wrote 2 files: {pages[0]}, {pages[1]} (15 tensors, 12 a page)" in err
    assert all(page.read_bytes()[:4] == b"\x89PNG" for page in pages) and not image.exists()


FLAX_STACKS = '''
import flax.linen as nn
import jax.numpy as jnp


class Tiny(nn.Module):
    std: float

    @nn.compact
    def __call__(self, x):
        w = self.param("w", nn.initializers.normal(self.std), (32, 32))
        return jnp.tanh(x @ w)


class Stack(nn.Module):
    std: float

    @nn.compact
    def __call__(self, x):
        for _ in range(20):
            x = Tiny(self.std)(x)
        return x


class Block(nn.Module):
    @nn.compact
    def __call__(self, x):
        return x + nn.Dense(32)(nn.gelu(nn.Dense(32)(nn.LayerNorm()(x))))


class Residual(nn.Module):
    @nn.compact
    def __call__(self, x):
        for index in range(4):
            x = Block(name=f"block_{index}")(x)
        return x


def vanishing():
    return Stack(0.05)


def healthy():
    return Stack(1.0 / 32 ** 0.5 * 5 / 3)


def residual():
    return Residual()
'''


def test_flax_custom_modules_and_repeated_blocks_are_followed(tmp_path):
    pytest.importorskip("flax")
    from initlint.verify import verify_file

    path = write(tmp_path / "model.py", FLAX_STACKS)
    vanishing = verify_file(str(path), entry="vanishing", input_shape=(8, 32), static=False)
    (finding,) = _signal_findings(vanishing)
    assert "shrinks geometrically" in finding.message and finding.parameter == "Tiny_19/w"
    healthy = verify_file(str(path), entry="healthy", input_shape=(8, 32), static=False)
    assert _signal_findings(healthy) == [] and len(healthy.signal) == 20
    residual = verify_file(str(path), entry="residual", input_shape=(8, 32), static=False)
    blocks = [s for s in residual.signal if s.kind == "block"]
    assert [s.name for s in blocks] == [f"block_{i}" for i in range(4)] 
    assert blocks[0].param.startswith("block_0/Dense_") and blocks[0].group == ""
    assert _signal_findings(residual) == []


KERAS_BLOCKS = '''
import keras


class Block(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.norm = keras.layers.LayerNormalization()
        self.up = keras.layers.Dense(64, activation="gelu")
        self.down = keras.layers.Dense(32)

    def call(self, x):
        return x + self.down(self.up(self.norm(x)))


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.embed = keras.layers.Embedding(100, 32)
        self.blocks = [Block() for _ in range(4)]

    def call(self, ids):
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x)
        return x


def build_model():
    net = Net()
    net(keras.ops.zeros((2, 8), dtype="int32"))
    return net
'''


def test_keras_subclassed_blocks_are_followed_on_token_ids(tmp_path):
    pytest.importorskip("keras")
    from initlint.verify import verify_file

    path = write(tmp_path / "model.py", KERAS_BLOCKS)
    report = verify_file(str(path), input_shape=(2, 16), static=False)
    assert report.input_shape == (2, 16) and "token ids" in report.input
    blocks = [s for s in report.signal if s.kind == "block"]
    assert [s.name for s in blocks] == ["net/block", "net/block_1", "net/block_2", "net/block_3"]
    assert {s.group for s in blocks} == {"net"} and _signal_findings(report) == []


class ResidualFFN(nn.Module):
    """A pre-norm residual block whose feed-forward starts at LeCun's std before ReLU (as T5's does)."""

    def __init__(self, width):
        super().__init__()
        self.norm, self.up, self.down = nn.LayerNorm(width), nn.Linear(width, 2 * width), nn.Linear(2 * width, width)
        nn.init.normal_(self.up.weight, std=width ** -0.5)

    def forward(self, x):
        return x + self.down(torch.relu(self.up(self.norm(x))))


def test_scale_inside_a_residual_block_is_judged_only_under_strict():
    """Inside a repeated block a layer is a residual branch: its scale off ReLU's gain does not compound."""
    build = lambda: nn.Sequential(nn.Linear(32, 32), *[ResidualFFN(32) for _ in range(4)])  # noqa: E731
    report = initlint.verify(build, framework="torch", input_shape=(8, 32))
    assert "INI605" not in report.codes and len([s for s in report.signal if s.kind == "block"]) == 4
    strict = initlint.verify(build, framework="torch", input_shape=(8, 32), strict=True)
    assert {f.parameter for f in strict.findings if f.code == "INI605"} == {f"{i}.up.weight" for i in range(1, 5)}


def test_a_freed_temporarys_address_lends_no_declaration():
    """``randn(n, n) * gain / n ** 0.5``: the division's result often lands where randn's freed result
    was; it must not inherit randn's declaration (std 1), which it does not hold: no INI601 at any seed."""
    for seed in range(4):
        report = initlint.verify(lambda: nn.Sequential(*[TanhLayer(64, 5 / 3) for _ in range(20)]),
                                 framework="torch", input_shape=(32, 64), seed=seed)
        assert [f for f in report.findings if f.code in ("INI601", "INI602")] == [], seed


def test_a_declaration_holds_while_its_storage_lives():
    """The look-alike: a parameter made from randn itself (its storage alive throughout) keeps randn's
    declaration, however many temporaries were freed around it."""
    class Made(nn.Module):
        def __init__(self):
            super().__init__()
            scratch = torch.randn(256, 256) * 2
            del scratch
            self.w = nn.Parameter(torch.randn(256, 256))

    report = initlint.verify(Made, framework="torch")
    (result,) = [t for t in report.tensors if t.info.name == "w"]
    assert result.info.declared is not None and result.info.declared.name.endswith("randn")
