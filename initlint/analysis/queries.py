"""Questions several rules ask of the facts, answered once."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..catalogue import Family, LayerKind
from ..catalogue.model import ConstantLaw
from .graph import LayerUse
from .values import UNKNOWN, is_number

# names people give parameters that are zero- or constant-initialised on purpose (SPEC: LoRA's B
# matrix, adapters and gates, zero-init residual branches, classifier heads)
INTENTIONAL_ZERO_WORDS = ("lora_b", "lora_up", "adapter", "gate", "zero", "head", "classifier", "fc_out",
                          "out_proj", "proj_out", "final", "residual", "skip", "ls", "gamma", "scale")


def constant_value(facts, use) -> Optional[float]:
    """The value a constant initialiser fills with (None when not a constant or not established)."""
    if use.entry is None or use.entry.family is not Family.CONSTANT or not isinstance(use.entry.law, ConstantLaw):
        return None
    value = use.entry.law.constant(use.values(facts.evaluator))
    return value if is_number(value) else None


def units(facts, layer: LayerUse):
    """Output units/channels of a layer, or UNKNOWN."""
    node = layer.arg(layer.entry.units_param)
    return facts.value(node) if node is not None else UNKNOWN


def looks_intentional(layer: Optional[LayerUse]) -> bool:
    if layer is None:
        return False
    return any(word in name.lower() for name in layer.names for word in INTENTIONAL_ZERO_WORDS)


def is_frozen(facts, layer: LayerUse) -> bool:
    """``self.x.weight.requires_grad = False`` / ``requires_grad_(False)`` anywhere for this layer."""
    if not layer.names:
        return False
    wanted = set(layer.names)
    for site in facts.collected.calls:
        func = site.node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "requires_grad_" and site.node.args \
                and facts.value(site.node.args[0].value) is False and _mentions(func.value, wanted):
            return True
    return any(_mentions(node, wanted) for node in facts.collected.frozen)


def _mentions(node, names) -> bool:
    while isinstance(node, cst.Attribute):
        if node.attr.value in names:
            return True
        node = node.value
    return False


WEIGHTED_KINDS = frozenset({LayerKind.DENSE, LayerKind.CONV, LayerKind.CONV_TRANSPOSE, LayerKind.EMBEDDING,
                            LayerKind.RNN, LayerKind.ATTENTION})
