"""libcst's node construction made cheaper while it builds a tree from source CPython has accepted.

libcst's native parser makes every node by calling its class, a frozen dataclass with slots. The
``__init__`` dataclasses generate for it writes each field through ``object.__setattr__`` (a frozen
class refuses plain assignment) and then validates the node (``CSTNode.__post_init__``: whitespace
against regular expressions, parentheses that balance, and so on). For a parsed tree both cost
without serving: its nodes are valid (libcst's own comment calls the validation wasted work on a
parse), and a slot can be written through its descriptor directly. ``parsed_nodes()`` puts in, for
the time of a parse, an ``__init__`` per node class with the same signature and defaults that writes
the slots through their descriptors and does not validate. Over the 381 files the benchmark corpus
parses: 17.0 -> 15.8 CPU s against the parse that only skipped the validation (each file parsed both
ways in turn), which had saved a tenth against libcst's own.

Nodes built anywhere else (the fixes, the user's own libcst code in the same process) are built by
libcst's own ``__init__`` and validated: the swap lasts only as long as the ``with`` block, and is
undone if the parse fails. Two threads parsing at once are safe: whichever leaves first restores
libcst's construction, and the other's remaining nodes are built (and validated) by libcst's own.
"""

from __future__ import annotations

import dataclasses
import types
from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional, Tuple

from libcst._nodes.base import CSTNode

# (class, libcst's __init__, the cheaper one), made on the first parse of a process
_Swap = Tuple[type, Callable, Callable]
_SWAPS: Optional[Tuple[_Swap, ...]] = None
_FROM_FACTORY = object()  # a parameter left to its default_factory, as dataclasses' own sentinel
_VALIDATE = CSTNode.__post_init__  # libcst's, restored whatever was in place when a block began


@contextmanager
def parsed_nodes() -> Iterator[None]:
    """Within the block, libcst's node classes are constructed without validation, their slots
    written directly (see the module's docstring); libcst's own construction comes back after."""
    swaps = _swaps()
    for cls, _, cheaper in swaps:
        cls.__init__ = cheaper
    CSTNode.__post_init__ = _no_validation  # a class whose __init__ was not replaced
    try:
        yield
    finally:
        for cls, own, _ in swaps:
            cls.__init__ = own
        CSTNode.__post_init__ = _VALIDATE


def _no_validation(self) -> None:
    pass


def _swaps() -> Tuple[_Swap, ...]:
    global _SWAPS
    if _SWAPS is None:
        _SWAPS = tuple((cls, cls.__dict__["__init__"], _cheaper_init(cls)) for cls in _generated_classes())
    return _SWAPS


def _generated_classes() -> List[type]:
    """Every node class whose ``__init__`` is the one dataclasses generated for it (its code is
    compiled from a string) and whose fields are all slots. libcst's ``add_slots`` makes each node
    class anew with slots; the class it was made from stays among ``CSTNode``'s subclasses, without
    slots, and is never constructed: it is left as it is, as is a class with an ``__init__`` of
    its own making or a field the cheaper one does not write as dataclasses would (none in libcst
    today: a field left out of ``__init__`` or keyword-only)."""
    found, seen, stack = [], set(), [CSTNode]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub in seen:
                continue
            seen.add(sub)
            stack.append(sub)
            own = sub.__dict__.get("__init__")
            if (dataclasses.is_dataclass(sub) and isinstance(own, types.FunctionType)
                    and own.__code__.co_filename == "<string>"
                    and all(_plain(sub, field) for field in dataclasses.fields(sub))):
                found.append(sub)
    return found


def _cheaper_init(cls: type) -> Callable:
    """An ``__init__`` for ``cls`` with the parameters, order and defaults of the generated one,
    that writes each field's slot through its descriptor and does not call ``__post_init__``."""
    namespace = {"_FROM_FACTORY": _FROM_FACTORY}
    parameters, body = ["self"], []
    for field in dataclasses.fields(cls):
        name = field.name
        value = name
        if field.default is not dataclasses.MISSING:
            namespace[f"_default_{name}"] = field.default
            parameters.append(f"{name}=_default_{name}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{name}"] = field.default_factory
            parameters.append(f"{name}=_FROM_FACTORY")
            value = f"(_factory_{name}() if {name} is _FROM_FACTORY else {name})"
        else:
            parameters.append(name)
        namespace[f"_set_{name}"] = _slot(cls, name).__set__
        body.append(f"    _set_{name}(self, {value})")
    source = f"def __init__({', '.join(parameters)}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(compile(source, f"<initlint parsed_nodes {cls.__name__}>", "exec"), namespace)
    function = namespace["__init__"]
    function.__qualname__ = f"{cls.__qualname__}.__init__"
    return function


def _plain(cls: type, field: dataclasses.Field) -> bool:
    return field.init and not getattr(field, "kw_only", False) and _slot(cls, field.name) is not None


def _slot(cls: type, name: str) -> Optional[types.MemberDescriptorType]:
    for klass in cls.__mro__:
        found = klass.__dict__.get(name)
        if isinstance(found, types.MemberDescriptorType):
            return found
    return None
