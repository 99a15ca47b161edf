"""Recording that no library can bypass: initialiser functions hooked in their code, and every other in-place
write to a tensor observed.

Patching ``torch.nn.init.normal_`` by name misses whoever bound the function before the patch:
transformers keeps a table of torch's initialisers (``TORCH_INIT_FUNCTIONS``) made at its import and
swaps its own guarded versions into ``torch.nn.init`` while it initialises; timm's models do ``from
timm.layers import trunc_normal_``. Every one of those names holds the same function *object*, so the
hook goes into the object: its ``__code__`` becomes a trampoline to the recorder for as long as the
recording lasts, and its own code is restored afterwards (nothing of initlint survives in anyone's
namespace).

What no initialiser declares (``w.data[:, :k] = 0``, ``masked_fill_``, ``clamp_``, ``.data = t``) still
writes values: ``WriteObserver``, a ``TorchFunctionMode`` active during the build, sees every in-place
call that reaches torch from Python, so a declaration whose values were overwritten afterwards is known
to be stale and is never compared with the tensor.
"""

from __future__ import annotations

import contextlib
import types
from typing import Any, Callable, Dict, Iterator, Optional, Sequence

HOOKS = "__initlint_init_hooks__"  # the name of the hook table in a hooked function's globals
_KEY = "__initlint_hook_key__"


def _template(*args, **kwargs):  # its code, with the key replaced, becomes a hooked function's code
    return __initlint_init_hooks__["__initlint_hook_key__"](*args, **kwargs)  # noqa: F821


def hookable(function: Any) -> bool:
    """A plain Python function without closure cells (its code can be swapped for the trampoline)."""
    return isinstance(function, types.FunctionType) and not function.__code__.co_freevars


def original_copy(function: types.FunctionType) -> types.FunctionType:
    """A new function object running ``function``'s own code (what the hook calls)."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    copy.__module__ = function.__module__
    return copy


@contextlib.contextmanager
def hooked(functions: Dict[str, Any], make_hook: Callable[[str, Callable], Callable]) -> Iterator[Dict[str, Any]]:
    """While active, every call of each function in ``functions`` (name -> function object), by whatever
    reference, goes to ``make_hook(name, original)``; the functions' own code is restored on exit.
    Yields the names actually hooked (name -> the function object)."""
    done: Dict[str, Any] = {}
    tables = {}
    try:
        for name, function in functions.items():
            if not hookable(function) or any(f is function for f in done.values()):
                continue
            table = function.__globals__.get(HOOKS)
            if table is None:
                table = function.__globals__[HOOKS] = {}
                tables[id(function.__globals__)] = function.__globals__
            table[name] = make_hook(name, original_copy(function))
            code = _template.__code__
            code = code.replace(co_consts=tuple(name if c == _KEY else c for c in code.co_consts),
                                co_name=function.__code__.co_name, co_qualname=function.__code__.co_qualname)
            function.__initlint_code__ = function.__code__
            function.__code__ = code
            done[name] = function
        yield done
    finally:
        for function in done.values():
            function.__code__ = function.__dict__.pop("__initlint_code__")
        for namespace in tables.values():
            namespace.pop(HOOKS, None)


# in-place methods that write no values, or that the recorder's own patches record
NOT_WRITES = frozenset({"requires_grad_", "share_memory_", "retain_grad", "resize_", "detach_", "rename_",
                        "pin_memory", "record_stream", "set_grad_enabled"})


def written_tensor(torch, func: Any, name: str, args: Sequence[Any]) -> Optional[Any]:
    """The tensor an in-place call writes (its first argument), None for any other call."""
    if not args or not isinstance(args[0], torch.Tensor):
        return None
    if name in ("__setitem__", "set_") or (name.endswith("_") and not name.startswith("_") and name not in NOT_WRITES):
        return args[0]
    return None  # w.data = other: the parameter now holds other's storage, and other's history


# calls whose result holds the same values as their first argument (a deep copy clones each parameter)
COPIES = frozenset({"clone", "contiguous", "to", "cpu", "cuda", "float", "double", "half", "bfloat16", "type"})


def write_observer(torch, on_write: Callable[[Any, str, Sequence[Any]], None], on_copy: Callable[[Any, Any], None],
                   busy: Callable[[], bool], on_part: Optional[Callable[[str, Sequence[Any], Any], None]] = None,
                   parts: frozenset = frozenset()):
    """A TorchFunctionMode that tells ``on_write(tensor, call name, args)`` after every in-place write,
    ``on_copy(source, copy)`` after every copy of a tensor's values, and ``on_part(call name, args,
    result)`` after every call named in ``parts`` (a view-like call: indexing, narrow, chunk...), made
    while ``busy()`` is false (inside a recorded initialiser, its own writes are its declaration)."""

    class WriteObserver(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types_, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            if not busy():
                name = getattr(func, "__name__", "") or ""
                target = written_tensor(torch, func, name, args)
                if target is not None:
                    on_write(target, name, args)
                elif name in COPIES and args and isinstance(args[0], torch.Tensor) and \
                        isinstance(result, torch.Tensor) and result is not args[0]:
                    on_copy(args[0], result)
                elif name in parts and on_part is not None and args and isinstance(args[0], torch.Tensor):
                    on_part(name, args, result)
            return result

    return WriteObserver()
