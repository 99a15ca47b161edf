"""INI606, signal propagation: a forward pass on a standard-normal input with every layer observed."""

from __future__ import annotations

import os

import pytest

from conftest import write

pytest.importorskip("numpy")
pytest.importorskip("scipy")
torch = pytest.importorskip("torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import initlint  # noqa: E402
from initlint.verify import verify_file  # noqa: E402

nn = torch.nn


def deep(std=None, depth=10, bias=0.0):
    layers = []
    for _ in range(depth):
        layer = nn.Linear(128, 128)
        if std is None:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        else:
            nn.init.normal_(layer.weight, std=std)
        nn.init.constant_(layer.bias, bias)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(128, 4))


def _signal(report):
    return [f for f in report.findings if f.code == "INI606"]


def test_geometric_decay_is_reported():
    report = initlint.verify(lambda: deep(std=0.05), framework="torch")
    (finding,) = [f for f in _signal(report) if "geometrically" in f.message]
    assert "shrinks" in finding.message and "per layer" in finding.message
    stds = [s.std for s in report.signal]
    assert stds[0] > 100 * stds[-2]
    assert all(s.activation == "relu" for s in report.signal[:-1])


def test_geometric_growth_is_reported():
    report = initlint.verify(lambda: deep(std=0.25), framework="torch")
    assert any("grows" in f.message for f in _signal(report))


def test_he_initialised_deep_network_is_stable():
    report = initlint.verify(lambda: deep(), framework="torch", seed=3)
    assert report.findings == []
    stds = [s.std for s in report.signal[:-1]]
    assert max(stds) / min(stds) < 3
    # deep ReLU networks lose some units with depth (inputs become all-positive): far from "most"
    assert all(s.dead_fraction is not None and s.dead_fraction < 0.5 for s in report.signal[:-1])


def test_dead_relu_units_are_reported():
    report = initlint.verify(lambda: deep(depth=2, bias=-10.0), framework="torch")
    dead = [f for f in _signal(report) if "dead" in f.message]
    assert dead and dead[0].parameter == "0.weight" and "100%" in dead[0].message


def test_normalised_network_reports_nothing_whatever_its_scale():
    def build():
        layers = []
        for _ in range(8):
            layer = nn.Linear(64, 64)
            nn.init.normal_(layer.weight, std=0.01)
            layers += [layer, nn.LayerNorm(64), nn.ReLU()]
        return nn.Sequential(*layers)

    report = initlint.verify(build, framework="torch")
    assert _signal(report) == []


def test_functional_activations_and_transparent_ops_are_followed():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3)
            self.fc = nn.Linear(16 * 6 * 6, 32)
            self.head = nn.Linear(32, 2)
            nn.init.xavier_normal_(self.conv.weight, gain=nn.init.calculate_gain("tanh"))
            nn.init.kaiming_normal_(self.fc.weight, nonlinearity="leaky_relu", a=0.2)

        def forward(self, x):
            x = torch.nn.functional.max_pool2d(self.conv(x), 2)
            x = torch.tanh(x)
            x = self.fc(x.flatten(1))
            return self.head(torch.nn.functional.leaky_relu(x, 0.2))

    report = initlint.verify(Net, framework="torch", input_shape=(2, 3, 14, 14))
    tensors = {r.info.name: r for r in report.tensors}
    assert tensors["conv.weight"].info.activation == "tanh"  # through a max-pool
    assert (tensors["fc.weight"].info.activation, tensors["fc.weight"].info.slope) == ("leaky_relu", 0.2)
    assert tensors["head.weight"].info.activation is None
    assert report.findings == []


def test_zero_hidden_layer_confirms_the_static_finding(tmp_path):
    path = write(tmp_path / "model.py", '''
from torch import nn


def build_model():
    net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4))
    nn.init.zeros_(net[0].weight)
    nn.init.zeros_(net[0].bias)
    return net
''')
    report = verify_file(str(path))
    assert "INI603" not in {f.code for f in report.findings}  # zeros are never "identical units"
    assert [f.parameter for f in _signal(report)][0] == "0.weight"
    (static,) = [f for f in report.static if f.code == "INI302"]
    assert static.confirms == "confirmed" and "all zeros" in static.message


def test_no_input_shape_skips_the_forward_pass_with_a_note():
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(16, 16) * 0.25)

        def forward(self, x):
            return x @ self.weight

    report = initlint.verify(Custom, framework="torch")
    assert report.signal == [] and any("input shape cannot be inferred" in n for n in report.notes)
    report = initlint.verify(Custom, framework="torch", input_shape=(2, 16))
    assert report.notes == []


def test_a_failing_forward_pass_is_a_note_not_a_crash():
    class Picky(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x, mask):
            return self.fc(x) * mask

    report = initlint.verify(Picky, framework="torch")
    assert report.signal == [] and any("raised TypeError" in n for n in report.notes)
