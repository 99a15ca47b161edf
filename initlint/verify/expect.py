"""From a declared initialiser to the distribution it promises, with the shared catalogue's laws.

Also the activation targets INI605 judges against: PyTorch's ``calculate_gain`` (the SPEC's targets),
with a band of +-25% in std around it, widened for tanh down to gain 1 (LeCun/Glorot, the classic
choice there) and centred on 1 for SELU (LeCun normal, which is what SELU's derivation assumes;
``calculate_gain('selu')`` = 3/4 is torch's own, different, convention).
"""

from __future__ import annotations

import functools
import math
from typing import Optional, Tuple

from .. import catalogue
from ..catalogue import Activation, Family, fans, truncated_std_factor
from .recording import Declaration
from .results import Expectation, TensorInfo

# truncation further out than this (in pre-truncation std units) cuts nothing measurable
_NO_CUT = 6.0
BAND = (0.8, 1.25)
SCALE_SENSITIVE = {Activation.RELU, Activation.LEAKY_RELU, Activation.TANH, Activation.SIGMOID, Activation.SELU}


@functools.lru_cache(maxsize=256)
def _truncnorm_moments(a: float, b: float) -> Tuple[float, float, float]:
    """(mean, std, excess kurtosis) of N(0, 1) cut to [a, b]."""
    from scipy import stats

    mean, var, _, kurt = stats.truncnorm.stats(a, b, moments="mvsk")
    return float(mean), math.sqrt(float(var)), float(kurt)


def expectation(decl: Optional[Declaration], info: TensorInfo, layout: str) -> Optional[Expectation]:
    """What ``decl`` promises for ``info``'s tensor, or None when it promises nothing testable."""
    if decl is None or decl.unknown:
        return None
    entry = catalogue.initializer(decl.name)
    if entry is None:
        return None
    args = dict(decl.args)
    if decl.fans_override is not None:
        fan_in, fan_out, receptive = decl.fans_override
    elif decl.shape is not None:
        fan_in, fan_out, receptive = fans(decl.shape, layout)
    else:
        fan_in, fan_out, receptive = info.fan_in, info.fan_out, info.receptive
    family = entry.family_for(args)
    if family is None:
        return None
    mean = entry.mean(args)
    std = entry.std(args, fan_in, fan_out, receptive)
    if family is Family.CONSTANT:
        value = mean
        if value is None:
            return None
        value = value * decl.scale + decl.shift
        return Expectation("constant", value, 0.0, constant=value)
    if family not in (Family.NORMAL, Family.TRUNCATED_NORMAL, Family.UNIFORM, Family.ORTHOGONAL):
        return None
    if std is None or mean is None:
        return None
    bounds, kurtosis, intended, label = None, FAMILY_KURT.get(family), None, ""
    name = family.value
    truncation = entry.truncation_for(args) if entry.distribution_param else entry.truncation
    if family is Family.TRUNCATED_NORMAL and truncation is not None:
        nominal = entry.nominal_std(args, fan_in, fan_out, receptive)
        if truncation.std_is == "before":
            sigma = nominal
            cut = truncation.bounds_in_std_units(args, mean, nominal) if nominal else None
        else:
            cut = truncation.bounds_in_std_units(args, mean, std)
            sigma = std / truncated_std_factor(*cut) if cut else None
        if cut is None or sigma is None:
            return None
        a, b = cut
        if a <= -_NO_CUT and b >= _NO_CUT:
            name, kurtosis = "normal", 0.0  # torch trunc_normal_(std=.02): nothing is cut
        else:
            shift, factor, kurtosis = _truncnorm_moments(a, b)
            mean = mean + sigma * shift
            std = sigma * factor
            bounds = ((a - shift) / factor, (b - shift) / factor)
            if truncation.std_is == "before" and nominal:
                intended, label = evident_target(nominal, fan_in, fan_out)
    elif family is Family.ORTHOGONAL:
        kurtosis = None
    std *= abs(decl.scale)
    mean = mean * decl.scale + decl.shift
    if intended is not None:
        intended *= abs(decl.scale)
    return Expectation(name, mean, std, bounds=bounds, intended_std=intended, intended_label=label,
                       kurtosis=kurtosis)


FAMILY_KURT = {Family.NORMAL: 0.0, Family.UNIFORM: -1.2}

_TARGETS = (  # (variance numerator, fan, label)
    (2.0, "fan_in", "He target sqrt(2/fan_in)"),
    (1.0, "fan_in", "LeCun target sqrt(1/fan_in)"),
    (2.0, "fan_out", "He target sqrt(2/fan_out)"),
    (1.0, "fan_out", "target sqrt(1/fan_out)"),
    (1.0, "fan_avg", "Glorot target sqrt(2/(fan_in+fan_out))"),
)


def evident_target(nominal: float, fan_in, fan_out) -> Tuple[Optional[float], str]:
    """A std the user evidently meant as a realised std: ``nominal`` equals a variance-scaling target
    sqrt(k / fan) (He, LeCun, Glorot) within 1%. A literal such as 0.02 matches nothing: no intent."""
    for k, mode, label in _TARGETS:
        if mode == "fan_in":
            fan = fan_in
        elif mode == "fan_out":
            fan = fan_out
        else:
            fan = None if fan_in is None or fan_out is None else (fan_in + fan_out) / 2.0
        if not fan:
            continue
        target = math.sqrt(k / fan)
        if math.isclose(nominal, target, rel_tol=0.01):
            return target, label
    return None, ""


def activation_band(activation: Optional[str], slope: Optional[float]) -> Optional[Tuple[float, float, float]]:
    """(gain, low, high): INI605 accepts std * sqrt(fan) in [low, high]. None: not scale-sensitive."""
    if activation is None:
        return None
    try:
        act = Activation(activation)
    except ValueError:
        return None
    if act not in SCALE_SENSITIVE:
        return None
    if act is Activation.TANH:
        gain = 5.0 / 3
        return gain, BAND[0], gain * BAND[1]
    if act is Activation.SELU:
        return 1.0, BAND[0], BAND[1]
    gain = catalogue.activation_gain(act, slope)
    return gain, gain * BAND[0], gain * BAND[1]


def judged_fan(info: TensorInfo, decl: Optional[Declaration]) -> Optional[float]:
    """The fan INI605 divides by: the layer's real fan-in, or its fan-out when the declared initialiser
    explicitly chose mode='fan_out' (He et al.'s backward-pass variant)."""
    if info.semantic_fan_in is None:
        return None
    if decl is not None and not decl.unknown:
        mode = decl.args.get("mode")
        if isinstance(mode, str) and mode.lower() in ("fan_out", "out") and info.fan_out:
            return float(info.fan_out)
    return float(info.semantic_fan_in)
