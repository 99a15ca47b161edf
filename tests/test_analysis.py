"""The analysis layer on small, exact cases: names, values, pairing, targets."""

from __future__ import annotations

import math

import libcst as cst
import pytest

from initlint.analysis import analyse
from initlint.analysis.graph import LayerUse
from initlint.analysis.values import UNKNOWN
from initlint.catalogue import Activation


def facts_of(source: str, package=None):
    return analyse(cst.parse_module(source), package)


def last_call(facts, name_suffix: str) -> cst.Call:
    calls = [s.node for s in facts.collected.calls if facts.module.code_for_node(s.node.func).endswith(name_suffix)]
    return calls[-1]


@pytest.mark.parametrize("source, expected", [
    ("import torch.nn as nn\nx = nn.init.normal_", {"torch.nn.init.normal_"}),
    ("from torch import nn\nx = nn.init.normal_", {"torch.nn.init.normal_"}),
    ("from torch.nn import init\nx = init.normal_", {"torch.nn.init.normal_"}),
    ("import torch\ninit = torch.nn.init\nx = init.normal_", {"torch.nn.init.normal_"}),
    ("import tensorflow as tf\nx = tf.keras.layers.Dense", {"tensorflow.keras.layers.Dense"}),
    ("from flax import linen as nn\nx = nn.Dense", {"flax.linen.Dense"}),
    # a parameter shadows the import: nothing is established
    ("from torch import nn\ndef f(nn):\n    x = nn.init.normal_", set()),
    # rebinding: the use sees the last unconditional binding before it
    ("from torch import nn\nfrom mxnet.gluon import nn\nx = nn.Dense", {"mxnet.gluon.nn.Dense"}),
    ("from torch import nn\nif c:\n    from mxnet.gluon import nn\nx = nn.X", {"torch.nn.X", "mxnet.gluon.nn.X"}),
])
def test_qualified_names(source, expected):
    facts = facts_of(source)
    scopes = [facts.collected.module_scope] + [scope for _, scope in facts.collected.functions]
    value = next(scope.bindings["x"][-1].value for scope in scopes if "x" in scope.bindings)
    assert set(facts.names(value)) == expected


def test_relative_imports_resolve_against_the_package():
    facts = facts_of("from .weight_init import trunc_normal_\nx = trunc_normal_", package="timm.layers")
    value = facts.collected.module_scope.bindings["x"][-1].value
    assert set(facts.names(value)) == {"timm.layers.weight_init.trunc_normal_"}


@pytest.mark.parametrize("expr, expected", [
    ("2 ** 0.5", math.sqrt(2)),
    ("math.sqrt(2.0 / 4)", math.sqrt(0.5)),
    ("np.sqrt(6 / (3 + 5))", math.sqrt(0.75)),
    ("(2 / shape[0]) ** 0.5", 1.0),
    ("1 / math.sqrt(n)", UNKNOWN),
    ("nn.init.calculate_gain('relu')", math.sqrt(2)),
    ("nn.init.calculate_gain('leaky_relu', 0.2)", math.sqrt(2 / 1.04)),
    ("-2 * 0.02", -0.04),
])
def test_evaluate(expr, expected):
    source = f"import math\nimport numpy as np\nfrom torch import nn\nshape = [2, 50000]\nn = get()\nx = {expr}\n"
    facts = facts_of(source)
    value = facts.value(facts.collected.module_scope.bindings["x"][-1].value)
    if expected is UNKNOWN:
        assert value is UNKNOWN
    else:
        assert value == pytest.approx(expected)


@pytest.mark.parametrize("expr, k", [
    ("(2 / (kh * kw * cin)) ** 0.5", 2.0),
    ("math.sqrt(2. / fan_in)", 2.0),
    ("np.sqrt(1 / n)", 1.0),
    ("1 / math.sqrt(fan_in)", 1.0),
    ("math.sqrt(2) / math.sqrt(fan_in)", 2.0),
    ("fan_in ** -0.5", 1.0),
    ("std", 2.0),  # through a variable
    ("(2 / shape[0]) ** 0.5", 2.0),  # the article: fan is shape[0], a known number, still a target
])
def test_variance_target_shapes(expr, k):
    source = (f"import math\nimport numpy as np\nshape = [2, 50000]\nstd = math.sqrt(2 / fan_in)\n"
              f"x = {expr}\n")
    facts = facts_of(source)
    found = facts.evaluator.variance_target(facts.collected.module_scope.bindings["x"][-1].value)
    assert found is not None and found[0] == pytest.approx(k)


@pytest.mark.parametrize("expr", ["0.02", "math.sqrt(2 / 9)", "std_of(layer)", "2 / fan_in", "math.sqrt(fan_in)"])
def test_not_variance_targets(expr):
    facts = facts_of(f"import math\nx = {expr}\n")
    assert facts.evaluator.variance_target(facts.collected.module_scope.bindings["x"][-1].value) is None


def _layers(facts):
    return sorted(facts.graph.layers.values(), key=lambda layer: facts.module.code.index(
        facts.module.code_for_node(layer.node)))


def test_pairing_in_sequential_and_forward():
    source = """
import torch.nn.functional as F
from torch import nn

seq = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 2))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.LeakyReLU(0.2)
        self.fc2 = nn.Linear(8, 8)
        self.fc3 = nn.Linear(8, 1)

    def forward(self, x):
        x = self.act(self.fc1(x))
        x = self.fc2(x)
        x = F.gelu(x)
        return self.fc3(x)
"""
    facts = facts_of(source)
    conv, bn, lin1, lin2, fc1, fc2, fc3 = _layers(facts)
    assert conv.followed_by.activation is Activation.RELU and conv.feeds_layer
    assert lin1.followed_by.activation is Activation.TANH
    assert lin2.followed_by is None and not lin2.feeds_layer
    assert fc1.followed_by.activation is Activation.LEAKY_RELU and fc1.followed_by.slope == pytest.approx(0.2)
    assert fc1.feeds_layer
    assert fc2.followed_by.activation is Activation.GELU
    assert fc3.followed_by is None and not fc3.feeds_layer


def test_residual_sum_is_not_a_pairing():
    source = """
import torch
from torch import nn

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3)

    def forward(self, x):
        out = self.conv(x)
        out += x
        return torch.relu(out)
"""
    (conv,) = _layers(facts_of(source))
    assert conv.followed_by is None


def test_init_function_reaches_the_layers_it_is_applied_to():
    source = """
from torch import nn

net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))

def init_w(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)

net[2].apply(init_w)
"""
    facts = facts_of(source)
    (use,) = [u for u in facts.init_uses if u.entry.name.endswith("xavier_uniform_")]
    assert use.targets_known
    assert [t.layer.node for t in use.targets] == [_layers(facts)[1].node]


def test_modules_loop_with_guard_filters_layer_types():
    source = """
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 2)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
"""
    facts = facts_of(source)
    kaiming, ones = (u for u in facts.init_uses if u.via == "inplace")
    assert [t.layer.entry.name for t in kaiming.targets] == ["torch.nn.Conv2d"]
    assert [t.layer.entry.name for t in ones.targets] == ["torch.nn.BatchNorm2d"]
    assert isinstance(kaiming.targets[0].layer, LayerUse)


def test_nested_comprehensions_and_their_iterables():
    source = """
import jax

def init(key, sizes):
    grid = [[a for a in b] for b in [c for c in range(3)]]
    keys = {k: [v for v in w] for k, w in [(i, j) for i in sizes for j in [q for q in sizes]]}
    return [jax.random.normal(k, (m, m)) for k in jax.random.split(key, 3) for m in sizes]
"""
    facts = facts_of(source)
    (split,) = [s for s in facts.collected.calls if facts.module.code_for_node(s.node.func) == "jax.random.split"]
    (normal,) = [s for s in facts.collected.calls if facts.module.code_for_node(s.node.func) == "jax.random.normal"]
    assert split.loops == ()  # the outermost iterable runs once
    assert len(normal.loops) == 1
