"""A layer's fan-in, where the code establishes it (for comparing a literal scale with its target)."""

from __future__ import annotations

import math
import re
from typing import Optional

import libcst as cst

from ..catalogue import LayerKind
from .graph import LayerUse
from .values import is_number

_DIMS_RE = re.compile(r"(\d)[dD]$")


def _positive(value) -> Optional[float]:
    return float(value) if is_number(value) and value > 0 else None


def receptive_field(facts, layer: LayerUse) -> Optional[float]:
    """Product of the kernel size: a tuple is multiplied out, an int raised to the layer's dims."""
    node = layer.arg(layer.entry.kernel_param)
    value = facts.value(node) if node is not None else None
    if isinstance(value, tuple) and value and all(is_number(v) for v in value):
        return float(math.prod(value))
    match = _DIMS_RE.search(layer.entry.name)
    if is_number(value) and match:
        return float(value) ** int(match.group(1))
    return None


def fan_in(facts, layer: Optional[LayerUse]) -> Optional[float]:
    """Inputs per output unit: in_features, in_channels·kernel/groups, or the size of what feeds
    it in a Sequential. None when the code does not establish it."""
    if layer is None or layer.kind not in (LayerKind.DENSE, LayerKind.CONV):
        return None
    node = layer.arg(layer.entry.in_units_param)
    inputs = _positive(facts.value(node)) if node is not None else None
    if inputs is None:
        inputs = _positive(facts.value(layer.args.get("input_dim")))
    if inputs is None:
        shape = facts.value(layer.args.get("input_shape"))
        if isinstance(shape, tuple) and len(shape) == 1:
            inputs = _positive(shape[0])
    if inputs is None and layer.fed_by is not None:
        inputs = _size_of(facts, layer.fed_by, layer)
    if inputs is None:
        return None
    if layer.kind is LayerKind.CONV:
        field = receptive_field(facts, layer)
        groups = facts.value(layer.args.get("groups")) if "groups" in layer.args else 1
        if field is None or not is_number(groups) or groups <= 0:
            return None
        return inputs * field / groups
    return inputs


def _size_of(facts, node: cst.CSTNode, layer: LayerUse) -> Optional[float]:
    """Features (or channels, for a conv) of what feeds ``layer``."""
    feeder = facts.graph.layers.get(node)
    if feeder is not None:
        units = feeder.arg(feeder.entry.units_param)
        return _positive(facts.value(units)) if units is not None else None
    if isinstance(node, cst.Call):  # keras.Input(shape=(4,)) / Input(shape=(32, 32, 3)) before a conv
        for arg in node.args:
            if arg.keyword is None or arg.keyword.value in ("shape", "input_shape"):
                shape = facts.value(arg.value)
                if not isinstance(shape, tuple) or not shape:
                    return None
                if layer.kind is LayerKind.DENSE and len(shape) == 1:
                    return _positive(shape[0])
                if layer.kind is LayerKind.CONV and len(shape) >= 2:
                    first = facts.value(layer.args.get("data_format")) == "channels_first"
                    return _positive(shape[0] if first else shape[-1])
                return None
    return None
