"""Value flow inside a file (analysis/flow.py, classnames.py, callsites.py) on small, exact cases."""

from __future__ import annotations

import libcst as cst
import pytest

from initlint.analysis import analyse
from initlint.analysis.classnames import class_name_test
from initlint.analysis.values import UNKNOWN


def facts_of(source: str):
    return analyse(cst.parse_module(source))


def value_of(source: str, name: str):
    """The value the evaluator gives the last expression assigned to ``name`` at module level."""
    facts = facts_of(source)
    return facts.value(facts.collected.module_scope.bindings[name][-1].value)


@pytest.mark.parametrize("source, expected", [
    # a parameter: every call site agrees
    ("def f(std):\n    return std\nx = f(0.02)\ny = f(0.02)\nv = f(0.02)", 0.02),
    # the call being followed binds its own arguments (a helper's return depends on its argument)
    ("import math\ndef scale(n):\n    return 1 / math.sqrt(n)\nv = scale(64)\nw = scale(4)", 0.125),
    # a default fills a call that omits the argument
    ("def _g(a, b=3):\n    return b\nv = _g(1)", 3),
    # tuple unpacking of literals
    ("nz, ngf = 100, 64\nv = ngf", 64),
    # starred targets: positions after the star are not known
    ("a, *b, c = 1, 2, 3, 4\nv = c", UNKNOWN),
])
def test_values_through_calls_and_unpacking(source, expected):
    assert value_of(source, "v") == expected


def test_disagreeing_call_sites_leave_a_parameter_unknown():
    facts = facts_of("def _f(std):\n    t = std\n_f(0.1)\n_f(0.2)\n")
    fn, scope = facts.collected.functions[0]
    assert facts.value(scope.bindings["t"][0].value) is UNKNOWN
    arguments = facts.flow.parameter_arguments(scope.bindings["std"][0])
    assert [facts.value(a.value) for a in arguments] == [0.1, 0.2]


def test_a_function_used_as_a_value_has_no_known_arguments():
    facts = facts_of("def _f(std):\n    return std\n_f(0.1)\nhooks = [_f]\n")
    _, scope = facts.collected.functions[0]
    assert facts.flow.parameter_arguments(scope.bindings["std"][0]) is None


def test_public_function_adds_its_default_for_outside_callers():
    facts = facts_of("def f(std=0.5):\n    return std\nf(0.1)\n")
    _, scope = facts.collected.functions[0]
    arguments = facts.flow.parameter_arguments(scope.bindings["std"][0])
    assert sorted(facts.value(a.value) for a in arguments) == [0.1, 0.5]
    assert [a.site for a in arguments if facts.value(a.value) == 0.5] == [None]


SELF_ATTRS = """
class Base:
    def __init__(self, std):
        self.std = std

class Child(Base):
    def __init__(self):
        super().__init__(0.02)

    def use(self):
        return self.std

class Reset(Child):
    def reset(self):
        self.std = 1.0
"""


def test_attribute_through_super_init_chain_and_subclass_override():
    facts = facts_of(SELF_ATTRS)
    use = [f for f, _ in facts.collected.functions if f.name.value == "use"][0]
    returned = use.body.body[0].body[0].value
    # Reset (a subclass in the file) sets it to 1.0 elsewhere: no one value
    assert facts.value(returned) is UNKNOWN
    assert sorted(facts.value(v) for v in facts.flow.attribute_values(returned)) == [0.02, 1.0]
    facts = facts_of(SELF_ATTRS.split("class Reset")[0])
    use = [f for f, _ in facts.collected.functions if f.name.value == "use"][0]
    assert facts.value(use.body.body[0].body[0].value) == 0.02


def test_attribute_changed_by_augmented_assignment_is_unknown():
    facts = facts_of("class A:\n    def __init__(self):\n        self.s = 1.0\n        self.s *= 2\n"
                     "    def g(self):\n        return self.s\n")
    g = [f for f, _ in facts.collected.functions if f.name.value == "g"][0]
    assert facts.value(g.body.body[0].body[0].value) is UNKNOWN


def test_helper_return_classifies_as_its_layer_and_branching_helpers_do_not():
    facts = facts_of("import torch.nn as nn\n"
                     "def conv(c):\n    return nn.Conv2d(c, c, 3)\n"
                     "def act(name):\n    if name:\n        return nn.ReLU()\n    return nn.Tanh()\n"
                     "a = conv(8)\nb = act('relu')\n")
    bindings = facts.collected.module_scope.bindings
    assert facts.graph.classify(bindings["a"][0].value).entry.name == "torch.nn.Conv2d"
    assert facts.graph.classify(bindings["b"][0].value) is None


@pytest.mark.parametrize("test, admitted, refused", [
    ("classname.find('Conv') != -1", ["Conv2d", "ConvTranspose2d"], ["BatchNorm2d", "Linear"]),
    ("classname.find('Conv') == -1", ["Linear"], ["Conv2d"]),
    ("'BatchNorm' in m.__class__.__name__", ["BatchNorm1d"], ["Conv2d"]),
    ("type(m).__name__.startswith(('Conv', 'Linear'))", ["Conv1d", "Linear"], ["BatchNorm2d"]),
    ("type(m).__name__ == 'Linear'", ["Linear"], ["LazyLinear"]),
    ("classname in ('Linear', 'Bilinear')", ["Bilinear"], ["Conv2d"]),
    ("classname.lower().find('norm') >= 0 and not classname.startswith('Layer')", ["BatchNorm2d"], ["LayerNorm"]),
    ("classname.find('Conv') != -1 or classname.find('Linear') != -1", ["Conv2d", "Linear"], ["Embedding"]),
])
def test_class_name_guards(test, admitted, refused):
    facts = facts_of(f"def init(m):\n    classname = m.__class__.__name__\n    if {test}:\n        pass\n")
    fn, _ = facts.collected.functions[0]
    condition = fn.body.body[1].test
    predicate = class_name_test(facts.evaluator, condition, "m")
    assert predicate is not None
    assert all(predicate(name) for name in admitted)
    assert not any(predicate(name) for name in refused)


def test_a_test_on_another_variable_is_no_class_name_guard():
    facts = facts_of("def init(m, other):\n    if other.__class__.__name__.find('Conv') != -1:\n        pass\n")
    fn, _ = facts.collected.functions[0]
    assert class_name_test(facts.evaluator, fn.body.body[0].test, "m") is None


def test_a_sibling_class_does_not_set_my_attribute():
    facts = facts_of("class Base:\n    pass\n"
                     "class A(Base):\n    def __init__(self):\n        self.s = 0.02\n"
                     "    def g(self):\n        return self.s\n"
                     "class B(Base):\n    def __init__(self):\n        self.s = 1.0\n")
    g = [f for f, _ in facts.collected.functions if f.name.value == "g"][0]
    assert facts.value(g.body.body[0].body[0].value) == 0.02


FLAX_FIELDS = """
import flax.linen as nn

class MLP(nn.Module):
    features: int = 128

    @nn.compact
    def __call__(self, x):
        return self.features

{constructions}
"""


@pytest.mark.parametrize("constructions, expected", [
    ("m = MLP()", 128),  # every construction in the file keeps the default
    ("m = MLP(features=64)\nn = MLP(features=64)", UNKNOWN),  # the default stays a candidate: it disagrees
    ("m = MLP(64)", UNKNOWN),  # by position: not followed
    ("", UNKNOWN),  # never constructed here: another module may set it
])
def test_dataclass_fields_take_what_constructions_pass(constructions, expected):
    facts = facts_of(FLAX_FIELDS.format(constructions=constructions))
    call = [f for f, _ in facts.collected.functions if f.name.value == "__call__"][0]
    assert facts.value(call.body.body[0].body[0].value) == expected
