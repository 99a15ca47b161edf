"""The initialiser catalogue: one table of facts, used by the static rules and by ``verify``.

Data lives in one module per framework (``torch_entries``, ``keras_entries``, ``jax_entries``,
``mxnet_entries``); each exports ``INITIALIZERS``, ``LAYERS``, ``ACTIVATIONS`` and optionally
``STRING_INITIALIZERS`` / ``STRING_ACTIVATIONS`` (names a framework accepts as strings). This module
indexes them by canonical qualified name.

Evaluating an initialiser: ``args = entry.bind(positional, keywords)``, then ``entry.std(args, fan_in,
fan_out, receptive_field)`` (the realised std, after any truncation) and ``entry.mean(args)``; fans
in the framework's own layout come from ``fans(shape, layout)``. Laws answer None whenever an
argument they need is unresolved (a variable, or a ``VERSION_DEPENDENT`` default). When an argument
picks the distribution (``VarianceScaling(distribution=...)``, MXNet ``Xavier(rnd_type=...)``) use
``entry.family_for(args)`` / ``entry.truncation_for(args)``; ``entry.effective_scheme(args)`` tells
whether a variance-scaling call amounts to Glorot, He or LeCun.

Every fact is held to the real frameworks by ``tests/test_catalogue_reality.py``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Dict, Iterable, Optional, Tuple

from . import jax_entries, keras_entries, mxnet_entries, torch_entries
from .model import (  # noqa: F401  (re-exported vocabulary)
    REQUIRED,
    RELU_FAMILY,
    VERSION_DEPENDENT,
    Activation,
    ActivationEntry,
    Family,
    Framework,
    Initializer,
    Layer,
    LayerKind,
    P,
    Scheme,
    Style,
    Truncation,
    activation_gain,
    calculate_gain,
    fans,
    truncated_std_factor,
)
from .names import canonical

_MODULES = (torch_entries, keras_entries, jax_entries, mxnet_entries)


def _index(entries: Iterable) -> Dict[str, object]:
    table: Dict[str, object] = {}
    for entry in entries:
        for name in entry.names:
            key = canonical(name)
            if key in table and table[key] is not entry:
                raise ValueError(f"catalogue name {name!r} is defined twice")
            table[key] = entry
    return table


INITIALIZERS: Tuple[Initializer, ...] = tuple(e for m in _MODULES for e in m.INITIALIZERS)
LAYERS: Tuple[Layer, ...] = tuple(e for m in _MODULES for e in m.LAYERS)
ACTIVATIONS: Tuple[ActivationEntry, ...] = tuple(e for m in _MODULES for e in m.ACTIVATIONS)

_INIT_BY_NAME = _index(INITIALIZERS)
_LAYER_BY_NAME = _index(LAYERS)
_ACT_BY_NAME = _index(ACTIVATIONS)
_STRING_INITS = {
    (m.FRAMEWORK, key): value for m in _MODULES for key, value in getattr(m, "STRING_INITIALIZERS", {}).items()
}
_STRING_ACTS = {
    (m.FRAMEWORK, key): value for m in _MODULES for key, value in getattr(m, "STRING_ACTIVATIONS", {}).items()
}


@lru_cache(maxsize=8192)
def initializer(qualified_name: str) -> Optional[Initializer]:
    """The initialiser reachable by ``qualified_name``, in any of its spellings."""
    return _INIT_BY_NAME.get(canonical(qualified_name))


@lru_cache(maxsize=8192)
def layer(qualified_name: str) -> Optional[Layer]:
    return _LAYER_BY_NAME.get(canonical(qualified_name))


@lru_cache(maxsize=8192)
def activation(qualified_name: str) -> Optional[ActivationEntry]:
    return _ACT_BY_NAME.get(canonical(qualified_name))


def initializer_from_string(framework: Framework, name: str) -> Optional[Tuple[Initializer, dict]]:
    """A string identifier (Keras ``'he_normal'``, MXNet ``'xavier'``) -> (initialiser, its args).

    The args are keyword arguments to bind: ``entry.bind((), args)``."""
    hit = _STRING_INITS.get((framework, name.lower()))
    if hit is None:
        return None
    entry_name, args = hit
    return initializer(entry_name), dict(args)


def activation_from_string(framework: Framework, name: str) -> Optional[Tuple[Activation, Optional[float]]]:
    """A string activation (Keras/MXNet ``activation='relu'``) -> (activation, slope)."""
    return _STRING_ACTS.get((framework, name.lower()))


def by_framework(framework: Framework) -> Tuple[Initializer, ...]:
    return tuple(e for e in INITIALIZERS if e.framework is framework)


def all_names() -> Tuple[str, ...]:
    """Every qualified name the catalogue knows (the prefilter derives its vocabulary from these)."""
    return tuple(sorted(set(_INIT_BY_NAME) | set(_LAYER_BY_NAME) | set(_ACT_BY_NAME)))


@lru_cache(maxsize=1024)
def is_subtype(entry: Layer, of: Layer) -> bool:
    """``isinstance(entry-instance, of)``, as far as the catalogue's layers go: torch's lazy modules
    subclass their eager counterparts (``class LazyLinear(LazyModuleMixin, Linear)``)."""
    if entry is of:
        return True
    if entry.lazy and entry.framework is of.framework:
        eager = layer(entry.name.replace(".Lazy", ".", 1))
        return eager is of
    return False
