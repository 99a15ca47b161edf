"""How an initialiser call's arguments land in its parameters, where that is evidently not what
the code meant (INI504 reports it; INI402 leaves it to INI504)."""

from __future__ import annotations

from typing import Optional, Tuple

import libcst as cst

from ..catalogue import P
from ..catalogue.model import NormalLaw
from .values import is_number

# a mean this small, with the std left at its default, is a std that went into the mean's slot
STD_LIKE_MEAN = 0.5


def mean_in_std_slot(facts, use) -> Optional[Tuple[cst.Arg, str, float]]:
    """``normal_(w, 0.02)``: the one number given lands in the *mean* (torch's normal_(tensor,
    mean, std), Keras' RandomNormal(mean, stddev), tf.random.normal(shape, mean, stddev)) while the
    std keeps its default. Returns (the positional argument, the std's parameter name, its value)."""
    entry = use.entry
    if entry is None or not isinstance(use.node, cst.Call) or not isinstance(entry.law, NormalLaw):
        return None
    mean_term, std_term = entry.law.mean_term, entry.law.std_term
    if not (isinstance(mean_term, P) and isinstance(std_term, P)) or std_term.name in use.args:
        return None
    node = use.args.get(mean_term.name)
    if node is None:
        return None
    arg = next((a for a in use.node.args if a.value is node), None)
    if arg is None or arg.keyword is not None:
        return None
    value = facts.value(node)
    if not is_number(value) or not 0 < abs(value) < STD_LIKE_MEAN:
        return None
    return arg, std_term.name, float(value)
