"""Whether a tensor whose declaration is not known holds its layer type's default law.

When recording cannot say what initialised a tensor (a module deep-copied after its build, as
``nn.TransformerEncoder`` copies its layer; values written by code initlint does not see), the values can
still say it: a ``Linear`` weight whose std is the 1/sqrt(3·fan_in) of torch's ``reset_parameters`` was left at
the framework's default. Defaults are judged against the activation only under ``--strict`` (as a recorded
default is), so such a tensor must not be either.
"""

from __future__ import annotations

import math
from typing import Optional

from .. import catalogue
from .expect import expectation
from .recording import Declaration, plain_args
from .results import Moments, TensorInfo

SLACK = 0.02  # relative, beyond the std's sampling error


def layer_default(info: TensorInfo) -> Optional[Declaration]:
    """The declaration of the layer type's default weight initialiser (None: not a known layer's weight)."""
    entry = catalogue.layer(info.layer) if info.layer else None
    if entry is None or info.role != "weight" or not entry.default_weight_init:
        return None
    init = catalogue.initializer(entry.default_weight_init)
    if init is None:
        return None
    try:
        args = init.bind(("<tensor>",), dict(entry.default_weight_args))
    except Exception:  # a signature the placeholder cannot bind: nothing to compare with
        return None
    args.pop("tensor", None)
    return Declaration(entry.default_weight_init, plain_args(args), assumed=True)


def holds_layer_default(info: TensorInfo, moments: Optional[Moments], layout: str) -> bool:
    """True when an undeclared weight's mean and std are those of its layer type's default law, within five
    standard errors (and 2%)."""
    if info.declared is not None and not info.declared.unknown:
        return False
    if moments is None or not moments.finite or moments.count < 30 or not moments.std:
        return False
    decl = layer_default(info)
    expect = expectation(decl, info, layout) if decl is not None else None
    if expect is None or not expect.std:
        return False
    kurtosis = expect.kurtosis if expect.kurtosis is not None else 0.0
    error = math.sqrt(max(kurtosis + 2.0, 0.1) / (4.0 * moments.count))
    if abs(moments.std / expect.std - 1.0) > SLACK + 5 * error:
        return False
    return abs(moments.mean - (expect.mean or 0.0)) <= 5 * expect.std / math.sqrt(moments.count) + 1e-12
