"""One adapter per framework behind one interface (``base.Adapter``); none imports its framework until used."""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

from .base import Adapter, VerifyError

FRAMEWORKS = ("torch", "keras", "flax")
# what --framework accepts, and the names the frameworks' own packages go by
ALIASES = {"torch": "torch", "pytorch": "torch", "keras": "keras", "tensorflow": "keras", "tf": "keras",
           "tf.keras": "keras", "flax": "flax", "jax": "flax"}


def adapter_class(framework: str) -> Type[Adapter]:
    """The adapter class for a framework name or alias (its module is imported only now)."""
    framework = ALIASES.get(framework.lower(), framework.lower())
    if framework == "torch":
        from .torch_adapter import TorchAdapter

        return TorchAdapter
    if framework == "keras":
        from .keras_adapter import KerasAdapter

        return KerasAdapter
    if framework == "flax":
        from .flax_adapter import FlaxAdapter

        return FlaxAdapter
    raise VerifyError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}")


_OWNERS: Dict[str, tuple] = {"torch": ("torch",), "keras": ("keras", "tensorflow", "tf_keras"),
                             "flax": ("flax", "jax", "jaxlib")}


def framework_of(obj: Any) -> Optional[str]:
    """The framework a model object belongs to, from its type's modules (imports nothing)."""
    from .base import type_modules

    if isinstance(obj, tuple) and len(obj) == 2:
        obj = obj[0]
    modules = set(type_modules(obj))
    for framework, packages in _OWNERS.items():
        if modules & set(packages):
            return framework
    return None


__all__ = ["Adapter", "VerifyError", "FRAMEWORKS", "adapter_class", "framework_of"]
