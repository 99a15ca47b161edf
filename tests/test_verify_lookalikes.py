"""Correct look-alikes of INI605 and INI606 that real models build, each beside the bug it resembles.

- Dead ReLU units behind inputs that are nearly one vector (DETR's decoder starts from zero queries): about as
  many units are positive for every input as are zero for every input, which is the input, not the layer's
  initialisation; a negative bias or a shifted weight still kills units on one side only.
- A squeeze-excitation (or GLU) gate: the conv before a sigmoid whose output multiplies the signal scales the
  signal, it does not carry it through depth; the same sigmoid that does carry it is still judged.
- A library's own initialisation (transformers' ``_init_weights``) is the model's default for whoever builds
  it: judged only under ``--strict``, like a layer type's default; the same law written by the user is judged.
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("numpy")
pytest.importorskip("scipy")
torch = pytest.importorskip("torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import initlint  # noqa: E402

nn = torch.nn
F = torch.nn.functional


def _codes(report, code):
    return [f for f in report.findings if f.code == code]


class Queries(nn.Module):
    """A decoder in DETR's shape: every position starts from the same learned vector plus a tiny offset, so the
    ReLU layers behind it see nearly one input per sample."""

    def __init__(self, width=64, depth=3, bias=0.0):
        super().__init__()
        self.stem = nn.Linear(16, width)
        self.query = nn.Parameter(torch.randn(1, 1, width))
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        for layer in self.layers:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.constant_(layer.bias, bias)
        self.head = nn.Linear(width, 4)

    def forward(self, x):  # x: (batch, 16)
        memory = self.stem(x).mean(dim=0, keepdim=True).unsqueeze(1)  # one summary for the whole batch
        h = self.query.expand(x.shape[0], 8, -1) + 1e-3 * memory
        for layer in self.layers:
            h = F.relu(layer(h))
        return self.head(h)


def test_dead_units_behind_nearly_identical_inputs_are_not_the_layers():
    report = initlint.verify(lambda: Queries(), framework="torch", input_shape=(4, 16))
    fixed = [s for s in report.signal if s.dead_fraction is not None]
    # every unit's sign is the input's doing: about half dead, the rest positive everywhere
    assert fixed and all(s.dead_fraction + s.live_fraction > 0.95 for s in fixed)
    assert not [f for f in _codes(report, "INI606") if "dead" in f.message]


def test_dead_units_from_a_negative_bias_are_reported_whatever_the_input():
    report = initlint.verify(lambda: Queries(bias=-3.0), framework="torch", input_shape=(4, 16))
    assert [f for f in _codes(report, "INI606") if "dead" in f.message]


def test_dead_units_from_a_shifted_weight_are_reported():
    def build():
        layers = []
        for _ in range(3):
            layer = nn.Linear(128, 128)
            nn.init.normal_(layer.weight, mean=-0.05, std=0.12)  # He's std, every weight pushed negative
            nn.init.zeros_(layer.bias)
            layers += [layer, nn.ReLU()]
        return nn.Sequential(nn.Linear(32, 128), nn.ReLU(), *layers, nn.Linear(128, 4))

    report = initlint.verify(build, framework="torch")
    assert [f for f in _codes(report, "INI606") if "dead" in f.message]


class SqueezeExcite(nn.Module):
    """Squeeze-excitation as the papers draw it: pool, reduce, ReLU, expand, sigmoid, scale the input."""

    def __init__(self, channels, product="operator", gate="sigmoid"):
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // 4, 1)
        self.expand = nn.Conv2d(channels // 4, channels, 1)
        self.product, self.gate = product, gate
        for conv in (self.reduce, self.expand):
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        s = F.relu(self.reduce(x.mean((2, 3), keepdim=True)))
        s = torch.sigmoid(self.expand(s)) if self.gate == "sigmoid" else F.hardsigmoid(self.expand(s))
        return torch.mul(x, s) if self.product == "function" else x * s


def _se_net(**options):
    layers = [nn.Conv2d(3, 32, 3, padding=1), nn.ReLU()]
    for _ in range(4):
        conv = nn.Conv2d(32, 32, 3, padding=1)
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        layers += [conv, nn.BatchNorm2d(32), nn.ReLU(), SqueezeExcite(32, **options)]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


@pytest.mark.parametrize("options", [{}, {"product": "function"}, {"gate": "hard"}])
def test_a_squeeze_excitation_gate_is_not_judged_as_a_signal_layer(options):
    report = initlint.verify(lambda: _se_net(**options), framework="torch", input_shape=(4, 3, 16, 16))
    assert not [f for f in _codes(report, "INI605") if ".expand." in f.parameter]
    gates = [r for r in report.tensors if r.info.name.endswith("expand.weight")]
    assert len(gates) == 4 and all(r.info.gate for r in gates)


def test_a_sigmoid_that_carries_the_signal_is_still_judged():
    """The look-alikes of a gate: a sigmoid layer whose output goes on, and x·sigmoid(x) (SiLU by hand), where
    the product is with the layer's own output."""

    class SiluByHand(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(128, 128)
            nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")

        def forward(self, x):
            h = self.fc(x)
            return h * torch.sigmoid(h)

    def carried():
        layers = []
        for _ in range(4):
            layer = nn.Linear(128, 128)
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")  # sqrt(2), where sigmoid needs 1
            layers += [layer, nn.Sigmoid()]
        return nn.Sequential(*layers, nn.Linear(128, 4))

    report = initlint.verify(carried, framework="torch")
    assert len(_codes(report, "INI605")) == 4
    silu = initlint.verify(lambda: nn.Sequential(SiluByHand(), SiluByHand(), nn.Linear(128, 4)), framework="torch")
    assert not any(r.info.gate for r in silu.tensors)


def test_keras_squeeze_excitation_gate_is_not_judged():
    keras = pytest.importorskip("keras")

    def build_model():
        inputs = keras.Input((16, 16, 32))
        x = inputs
        for _ in range(3):
            x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal")(x)
            s = keras.layers.GlobalAveragePooling2D(keepdims=True)(x)
            s = keras.layers.Conv2D(8, 1, activation="relu", kernel_initializer="he_normal")(s)
            s = keras.layers.Conv2D(32, 1, activation="sigmoid", kernel_initializer="he_normal")(s)
            x = keras.layers.Multiply()([x, s])
        return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(x)))

    report = initlint.verify(build_model, framework="keras")
    gates = [r for r in report.tensors if r.info.gate and r.info.role == "weight"]
    assert len(gates) == 3 and all(r.info.activation == "sigmoid" for r in gates)
    assert _codes(report, "INI605") == []


def _hf_mlp(own_init: bool):
    transformers = pytest.importorskip("transformers")
    from transformers import PretrainedConfig, PreTrainedModel

    class Mlp(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config):
            super().__init__(config)
            self.body = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                      nn.Linear(256, 4))
            self.post_init()

        def forward(self, x):
            return self.body(x)

        def _init_weights(self, module):
            if not own_init:  # the library's: normal(0, initializer_range) for every Linear
                return super()._init_weights(module)
            if isinstance(module, nn.Linear):  # the same law, written by the user
                nn.init.normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)

    assert transformers
    return lambda: Mlp(PretrainedConfig(initializer_range=0.02))


def test_a_librarys_own_initialisation_is_judged_only_under_strict():
    build = _hf_mlp(own_init=False)
    report = initlint.verify(build, framework="torch")
    declared = {r.info.name: r.info.declared for r in report.tensors}
    assert declared["body.0.weight"].label() == "normal_(std=0.02)" and declared["body.0.weight"].library
    assert _codes(report, "INI605") == []
    strict = initlint.verify(build, framework="torch", strict=True)
    assert {f.parameter for f in _codes(strict, "INI605")} == {"body.0.weight", "body.2.weight"}


def test_the_same_law_chosen_by_the_user_is_judged():
    report = initlint.verify(_hf_mlp(own_init=True), framework="torch")
    assert {f.parameter for f in _codes(report, "INI605")} == {"body.0.weight", "body.2.weight"}
    assert not any(r.info.declared.library for r in report.tensors if r.info.declared is not None)


def test_a_librarys_initialiser_helper_called_by_the_user_is_the_users_choice():
    pytest.importorskip("transformers")
    from transformers import initialization

    def build():
        net = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 4))
        for layer in net[:4:2]:
            initialization.normal_(layer.weight, std=0.02)
        return net

    report = initlint.verify(build, framework="torch")
    assert {f.parameter for f in _codes(report, "INI605")} == {"0.weight", "2.weight"}
