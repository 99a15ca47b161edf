"""What scheme an initialiser use amounts to, with its actual arguments (He, Glorot, LeCun, ...)."""

from __future__ import annotations

from typing import Optional

from ..catalogue import Family, Scheme
from ..catalogue.model import KaimingLaw, XavierLaw
from .values import is_number


def effective_scheme(facts, use) -> Optional[Scheme]:
    """The scheme the call amounts to, with its actual arguments."""
    if use.entry is None:
        return None
    return scheme_of(use.entry, use.values(facts.evaluator))


def scheme_of(entry, values) -> Optional[Scheme]:
    """torch kaiming is He only for a ReLU-family nonlinearity with a small slope (``a=sqrt(5)``,
    PyTorch's layer default, is not; ``nonlinearity='tanh'`` is tanh's gain); xavier with a gain is
    not Glorot; everything else asks the catalogue."""
    if isinstance(entry.law, KaimingLaw):
        nonlinearity = values.get("nonlinearity")
        a = values.get("a")
        if not isinstance(nonlinearity, str):
            return None
        if nonlinearity in ("relu", "leaky_relu") and is_number(a) and a < 0.5:
            return Scheme.HE
        if nonlinearity in ("linear", "sigmoid", "conv1d", "conv2d", "conv3d") and values.get("mode") == "fan_in":
            return Scheme.LECUN
        return Scheme.VARIANCE_SCALING
    if isinstance(entry.law, XavierLaw):
        gain = values.get("gain")
        return Scheme.GLOROT if is_number(gain) and gain <= 1.05 else (
            Scheme.VARIANCE_SCALING if is_number(gain) else None)
    return entry.effective_scheme(values)


def is_normal_family(facts, use) -> bool:
    family = use.entry.family_for(use.values(facts.evaluator)) if use.entry is not None else None
    return family in (Family.NORMAL, Family.TRUNCATED_NORMAL)
