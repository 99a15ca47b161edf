from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, Optional, Tuple

import libcst as cst

from .. import prefilter
from ..analysis.arguments import mean_in_std_slot
from ..analysis.describe import short
from ..analysis.values import is_number
from ..catalogue import Framework, P
from ..catalogue.model import (ContribVarianceScalingLaw, KaimingLaw, MagnitudeLaw, NormalLaw, UniformLaw,
                              VarianceScalingLaw)
from ..rule import Fix, Report, Rule

# torch.nn.init.calculate_gain's names (torch 2.13 init.py): anything else raises, case-sensitively
TORCH_NONLINEARITIES = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu")
_GAIN = frozenset({"torch.nn.init.calculate_gain"})


# (accepted values, whether the framework lower-cases the argument before checking it)
Choices = Tuple[Tuple[str, ...], bool]


def _string_choices(entry) -> Dict[str, Choices]:
    """The string arguments ``entry`` checks, as each framework's source does:

    - torch kaiming_*: ``mode.lower()`` in (fan_in, fan_out); ``nonlinearity`` as calculate_gain;
    - Keras 3 / tf.keras / TF1 VarianceScaling: ``mode`` in (fan_in, fan_out, fan_avg) as written,
      ``distribution.lower()`` in (normal, uniform, truncated_normal, untruncated_normal);
    - JAX variance_scaling: ``mode`` in (fan_in, fan_out, fan_avg, fan_geo_avg) and
      ``distribution`` in (truncated_normal, normal, uniform), as written (it raises at init time);
    - timm variance_scaling_: mode (fan_in, fan_out, fan_avg) and distribution (truncated_normal,
      normal, uniform), as written;
    - MXNet Xavier: ``factor_type`` in (avg, in, out), ``rnd_type`` in (uniform, gaussian)."""
    law = entry.law
    if isinstance(law, KaimingLaw):
        return {"mode": (("fan_in", "fan_out"), True), "nonlinearity": (TORCH_NONLINEARITIES, False)}
    out: Dict[str, Choices] = {}
    if isinstance(law, ContribVarianceScalingLaw):  # TF1 contrib: its own modes are upper case
        if isinstance(law.mode, P):
            out[law.mode.name] = (("FAN_IN", "FAN_OUT", "FAN_AVG"), False)
        return out
    if isinstance(law, VarianceScalingLaw):
        modes = ("fan_in", "fan_out", "fan_avg") + (("fan_geo_avg",) if entry.framework is Framework.JAX else ())
        if entry.framework is Framework.KERAS:
            distributions: Choices = (("normal", "uniform", "truncated_normal", "untruncated_normal"), True)
        else:
            distributions = (("truncated_normal", "normal", "uniform"), False)
        if isinstance(law.mode, P):
            out[law.mode.name] = (modes, False)
        if isinstance(law.distribution, P):
            out[law.distribution.name] = distributions
    elif isinstance(law, MagnitudeLaw):
        if isinstance(law.mode, P):
            out[law.mode.name] = (("avg", "in", "out"), False)
        if isinstance(law.distribution, P):
            out[law.distribution.name] = (("uniform", "gaussian"), False)
    return out


def _reads_an_argument(entry) -> bool:
    """Can a call of ``entry`` have an argument this rule judges? Kaiming's mode and nonlinearity;
    otherwise a law with a term taken from an argument (a std, a mean, bounds, a scale, a mode).
    ``torch.randn``/``torch.rand`` (a fixed N(0, 1) and U(0, 1)) have none: a file that samples
    with them alone cannot hold a finding of this rule (torch.nn.functional, 7,000 lines, was parsed
    for them)."""
    law = entry.law
    if isinstance(law, KaimingLaw):
        return True
    if not isinstance(law, (VarianceScalingLaw, MagnitudeLaw, NormalLaw, UniformLaw)):
        return False
    return any(isinstance(getattr(law, field.name), P) for field in dataclasses.fields(law))


def _raises(entry) -> str:
    """How the framework answers an unknown string (JAX only when the initialiser is called)."""
    return "raises when the initialiser runs" if entry.framework is Framework.JAX else "raises"


class InvalidInitializerArgument(Rule):
    """An initialiser argument the framework rejects, or one that cannot be meant.

    ## What it does
    Flags an initialiser argument the framework rejects or that cannot be meant: an unknown mode,
    distribution or nonlinearity string, a bool or negative std, uniform bounds out of order, and a
    std-sized number passed positionally into the mean's slot. In detail, on any initialiser the
    catalogue knows:

    - a string argument the framework does not accept: an unknown `mode`, `distribution` or
      `nonlinearity` (`VarianceScaling(mode='FAN_OUT')`, `variance_scaling(2.0, 'fan_in',
      'gaussian')`, `kaiming_normal_(w, nonlinearity='gelu')`, `calculate_gain('ReLU')`), checked
      as each framework's source checks it (torch lower-cases kaiming's `mode`, so `'FAN_OUT'` is
      fine there; Keras lower-cases `distribution` but not `mode`; JAX neither);
    - a bool or a negative number as a std or scale (`normal_(w, std=True)`, `stddev=-0.02`,
      `VarianceScaling(scale=0)`);
    - uniform bounds in the wrong order or equal (`uniform_(w, 1.0, 0.02)`, `RandomUniform(0.1, -0.1)`);
    - a std-sized number passed positionally into the *mean*'s slot, the std left at its default:
      `nn.init.normal_(w, 0.02)` (torch's signature is `normal_(tensor, mean, std)`), `w.data.normal_(0.02)`,
      `trunc_normal_(w, .02)`, `RandomNormal(0.02)`, `tf.random.normal(shape, 0.02)`.

    ## Why is this bad?
    An unknown string raises, often only when the model is first built on the training machine
    (JAX raises when the initialiser runs, not when it is created). A negative std raises in torch
    and flips the sign elsewhere; a bool std is 1. Uniform bounds with `a > b` raise in torch; equal
    bounds give a constant. And `normal_(w, 0.02)` initialises with mean 0.02 and std 1, fifty times
    the std meant, with every weight shifted by the same offset: nothing raises, training just starts
    badly.

    ## Example
    ```python
    import tensorflow as tf

    layer = tf.keras.layers.Dense(
        64, kernel_initializer=tf.keras.initializers.VarianceScaling(2.0, mode="FAN_OUT"))
    ```

    ## Use instead
    ```python
    import tensorflow as tf

    layer = tf.keras.layers.Dense(
        64, kernel_initializer=tf.keras.initializers.VarianceScaling(2.0, mode="fan_out"))
    ```

    ## Known problems
    Not checked in test files (`test_*.py`, `*_test.py`), which pass invalid arguments on purpose to
    test that they raise.

    ## Fix safety
    An upper- or mixed-case string whose lower-case spelling is the accepted one is lower-cased: a
    safe fix (the call raised before, so no model ever started from other numbers). A std in the
    mean's slot is moved to the std (`normal_(w, 0.02)` -> `normal_(w, std=0.02)`): unsafe, the
    weights change (to what the code evidently meant); applied with `--fix --unsafe-fixes`.

    ## Frameworks
    PyTorch (`torch.nn.init`, tensor methods, timm), TensorFlow/Keras, JAX/Flax, MXNet Gluon.
    """

    code = "INI504"
    name = "invalid-initializer-argument"
    message = "{detail}"
    frameworks = ("torch", "keras", "jax", "mxnet")
    fix_safety = "safe"
    # a test that an invalid argument raises (`with pytest.raises(ValueError): VarianceScaling(scale=-1)`)
    # writes it on purpose
    skip_test_files = True
    requires = prefilter.initializers(_reads_an_argument, why="an initialiser with a mode, std or bounds",
                                      strings=False) | (
        prefilter.words("calculate_gain", why="calculate_gain") & prefilter.module("torch"))

    def check(self, facts):
        for use in facts.init_uses:
            if use.entry is None:
                continue
            yield from self._strings(facts, use)
            yield from self._numbers(facts, use)
        for site in facts.collected.calls:
            call = site.node
            if call.args and call.args[0].keyword is None and facts.names(call.func) & _GAIN:
                report = self._string_report(facts, call, call.args[0].value, (TORCH_NONLINEARITIES, False),
                                             "calculate_gain", "nonlinearity", "raises", "torch")
                if report is not None:
                    yield report

    # -- strings ----------------------------------------------------------------------------------

    def _strings(self, facts, use) -> Iterator[Report]:
        for param, choices in _string_choices(use.entry).items():
            node = use.args.get(param)
            if node is None:
                continue
            report = self._string_report(facts, use.node, node, choices, short(use.entry.name), param,
                                         _raises(use.entry), use.framework.value)
            if report is not None:
                yield report

    @staticmethod
    def _string_report(facts, at, node, choices: Choices, init: str, param: str, raises: str,
                       framework: str) -> Optional[Report]:
        accepted, folds = choices
        value = facts.value(node)
        if not isinstance(value, str) or (value.lower() if folds else value) in accepted:
            return None
        listed = ", ".join(repr(a) for a in accepted)
        fix = None
        if value.lower() in accepted and not folds:
            detail = f"{init}: {param}={value!r} {raises}: it accepts only {listed}, in lower case; use {value.lower()!r}"
            if isinstance(node, cst.SimpleString) and not node.prefix:
                quote = node.quote
                fix = Fix(node, node.with_changes(value=f"{quote}{value.lower()}{quote}"))
        else:
            detail = f"{init}: {param}={value!r} {raises}: it accepts only {listed}"
        return Report(at, {"detail": detail}, framework, fix)

    # -- numbers ----------------------------------------------------------------------------------

    def _numbers(self, facts, use) -> Iterator[Report]:
        entry, law = use.entry, use.entry.law
        name = short(entry.name)
        torch = entry.framework is Framework.TORCH
        if isinstance(law, NormalLaw) and isinstance(law.std_term, P):
            node = use.args.get(law.std_term.name)
            value = facts.value(node) if node is not None else None
            if isinstance(value, bool):
                yield Report(use.node, {"detail": f"{name}: {law.std_term.name}={value} is a bool, read as std "
                                              f"{int(value)}; pass the std as a number"}, use.framework.value)
            elif is_number(value) and value < 0:
                consequence = "raises (std must be >= 0)" if torch and "trunc" not in name else \
                    "is not a std (the sign only flips the samples)"
                yield Report(use.node, {"detail": f"{name}: {law.std_term.name}={value:g} {consequence}; "
                                              f"pass {abs(value):g}"}, use.framework.value)
        if isinstance(law, VarianceScalingLaw) and isinstance(law.scale, P):
            node = use.args.get(law.scale.name)
            value = facts.value(node) if node is not None else None
            if isinstance(value, bool) or (is_number(value) and value <= 0):
                consequence = "raises" if entry.framework is Framework.KERAS else \
                    "gives a std of sqrt(scale / fan), which is not real"
                yield Report(use.node, {"detail": f"{name}: scale={value} {consequence}: scale is a variance "
                                              f"multiplier and must be a positive number"}, use.framework.value)
        if isinstance(law, UniformLaw) and not law.symmetric_scale:
            yield from self._bounds(facts, use, law, name, torch)
        found = mean_in_std_slot(facts, use)
        if found is not None:
            arg, std_name, value = found
            fixed = arg.with_changes(keyword=cst.Name(std_name), equal=cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
            default = law.std(entry.defaults())
            if default is None:  # a default that differs between versions (TF1 1.0, TF2 0.05)
                outcome = "the std keeps its default (1.0 in TF1, 0.05 in TF2)"
            else:
                outcome = f"the std stays {default:g}: the weights get mean {value:g} and std {default:g}"
            yield Report(use.node, {"detail": f"{name}: {value:g} is passed positionally into the mean; "
                                               f"{outcome}; pass {std_name}={value:g}"},
                         use.framework.value, Fix(arg, fixed, safety="unsafe"))

    @staticmethod
    def _bounds(facts, use, law, name, torch) -> Iterator[Report]:
        values = use.values(facts.evaluator)
        low, high = law._bounds(values)
        nodes = [use.args.get(t.name) if isinstance(t, P) else None for t in (law.low, law.high)]
        if not any(node is not None for node in nodes):
            return
        if low is None or high is None:
            # uniform_(w, bound, -bound) with bound = 1 / sqrt(fan): the order is evident, the value is not
            if None in nodes or not _negation_of(facts, nodes[1], nodes[0]) or not _evidently_positive(facts, nodes[0]):
                return
            text = facts.module.code_for_node(nodes[0]).strip()
            consequence = "raises (from > to)" if torch else "draws from an inverted range"
            yield Report(use.node, {"detail": f"{name}: bounds ({text}, -{text}) are in the wrong order for a "
                                              f"positive {text}: {consequence}; pass (-{text}, {text})"},
                         use.framework.value)
            return
        if low < high:
            return
        if low == high:
            consequence = f"every value is {low:g} (a constant, not a uniform)"
        else:
            consequence = "raises (from > to)" if torch else "draws from an inverted range"
        yield Report(use.node, {"detail": f"{name}: lower bound {low:g} >= upper bound {high:g}: {consequence}; "
                                          f"the bounds are (low, high)"}, use.framework.value)


def _negation_of(facts, node, other) -> bool:
    """``node`` is written as ``-other``."""
    code = facts.module.code_for_node
    return isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) \
        and code(node.expression).strip() == code(other).strip()


def _evidently_positive(facts, node, depth=0) -> bool:
    """A bound the code shows is positive without knowing its value: ``1 / sqrt(fan)``,
    ``sqrt(6 / (fan_in + fan_out))``, ``fan ** -0.5``, through local assignments."""
    node = facts.evaluator.substitute(node)
    value = facts.value(node)
    if is_number(value):
        return value > 0
    if depth > 4:
        return False
    if facts.evaluator.variance_target(node) is not None or facts.evaluator._is_sqrt_call(node) is not None:
        return True
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Power):
            return _evidently_positive(facts, node.left, depth + 1) or facts.evaluator._is_sqrt_call(node.left) \
                is not None or isinstance(facts.evaluator.substitute(node.left), cst.Name)
        if isinstance(node.operator, (cst.Multiply, cst.Divide)):
            return _evidently_positive(facts, node.left, depth + 1) and (
                _evidently_positive(facts, node.right, depth + 1)
                or facts.evaluator._is_sqrt_call(facts.evaluator.substitute(node.right)) is not None)
    return False
