"""The shape a tensor-creating call spells out: ``torch.empty(a, b)``, ``torch.zeros((a, b))``,
``tf.random.normal([m, n])``, ``jax.random.normal(key, (m, n))``."""

from __future__ import annotations

from typing import FrozenSet, List, Optional

import libcst as cst

from .values import UNKNOWN, Evaluator

UNKNOWN_DIM = None  # a dimension whose expression the code does not show (shape from a variable)


def shape_of(ev: Evaluator, call: cst.Call, int_names: FrozenSet[str] = frozenset()) -> Optional[List]:
    """The dimension expressions of the created tensor (``UNKNOWN_DIM`` where only the count is
    known), or None when the code does not establish the shape. ``int_names``: names known to be
    ints, so ``torch.empty(n)`` is 1-D rather than a shape held in a variable."""
    if any(a.star == "*" for a in call.args):
        return None  # sizes unpacked from a sequence (**kwargs only carry dtype/device)
    shape = next((a.value for a in call.args if a.keyword is not None and a.keyword.value in ("shape", "size")), None)
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    names = ev.names(call.func)
    if shape is None:
        if any(n.startswith("torch.") for n in names):  # torch takes sizes as varargs or one sequence
            if len(positional) > 1:
                return list(positional)
            shape = positional[0] if positional else None
            if isinstance(shape, cst.Name) and shape.value in int_names:
                return [shape]
        elif any(n.startswith("jax.") for n in names):  # jax.random.normal(key, shape)
            shape = positional[1] if len(positional) > 1 else None
        elif positional:
            shape = positional[0]
    if shape is None:
        return None
    if isinstance(shape, (cst.Tuple, cst.List)):
        return [element.value for element in shape.elements]
    value = ev.evaluate(shape)
    if isinstance(value, tuple):
        return [UNKNOWN_DIM] * len(value)
    if isinstance(value, int) and value is not UNKNOWN:
        return [shape]
    return None
