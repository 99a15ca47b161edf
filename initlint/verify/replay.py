"""What a model's build wrote into each parameter, kept while it is built on the meta device, so that the
values can be made later on real storage, one storage at a time.

A meta tensor holds no values, but every write the build makes is seen by the torch recorder (its
initialisers, fills, samplers, scalar arithmetic, and other in-place writes through the write observer):
``ReplayLog`` keeps each write as a call to replay (the function, its arguments with the tensor left
out, and the view of the storage it wrote). ``materialise`` replays a storage's calls on a fresh CPU
tensor: from its last call that overwrote all of it, in order.

Random draws are positioned, not reproduced: each random call gets a position in its generator's stream
(the seed the generator last received, and a running digest of the random calls since), and at replay
it draws from a generator seeded by that position. Two calls at the same position in the build (the
same seed set again before the same calls: ``torch.manual_seed(0)`` before each layer's init) draw the
same values again, so identical tensors stay identical (INI604); any other two draw independently, as
they did. A storage whose values cannot be replayed (a copy from another tensor, a write with a tensor
operand, memory never written) says why instead (``broken``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

# calls that draw random numbers (initialisers, Tensor methods, factory functions)
RANDOM = frozenset({"uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                    "kaiming_normal_", "orthogonal_", "sparse_", "trunc_normal_tf_", "variance_scaling_",
                    "lecun_normal_", "bernoulli_", "random_", "exponential_", "cauchy_", "log_normal_",
                    "geometric_", "randn", "rand", "normal", "randn_like", "rand_like"})
# calls whose result does not depend on the values before them (when they cover the whole storage)
OVERWRITES = frozenset({"uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
                        "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
                        "sparse_", "trunc_normal_tf_", "variance_scaling_", "lecun_normal_", "fill_", "zero_",
                        "random_", "bernoulli_", "exponential_", "cauchy_", "log_normal_", "geometric_",
                        "randn", "rand", "normal", "randn_like", "rand_like", "zeros", "ones", "full", "zeros_like",
                        "ones_like"})
# a factory function, replayed as the Tensor method that fills a storage the same way: (method, arguments)
SAMPLED_AS = {"randn": ("normal_", (0.0, 1.0)), "randn_like": ("normal_", (0.0, 1.0)),
              "rand": ("uniform_", (0.0, 1.0)), "rand_like": ("uniform_", (0.0, 1.0)),
              "zeros": ("zero_", ()), "zeros_like": ("zero_", ()), "ones": ("fill_", (1.0,)),
              "ones_like": ("fill_", (1.0,))}
_TARGET = object()  # stands for the written tensor in a kept call's arguments


@dataclass
class Write:
    """One call that wrote into a storage: ``function(*args, **kwargs)`` with the view at ``geometry``
    (size, stride, offset in elements) in place of ``_TARGET``; ``position``: its random stream position."""

    name: str
    function: Callable
    args: Tuple[Any, ...]
    kwargs: Dict[str, Any]
    geometry: Tuple[Tuple[int, ...], Tuple[int, ...], int]
    position: Optional[str] = None
    whole: bool = False  # it overwrote every value of the storage, whatever was there

    def apply(self, torch, flat) -> None:
        size, stride, offset = self.geometry
        view = flat.as_strided(size, stride, offset)
        args = tuple(view if a is _TARGET else a for a in self.args)
        kwargs = {k: (view if v is _TARGET else v) for k, v in self.kwargs.items()}
        if self.position is not None:
            seed = int.from_bytes(hashlib.blake2b(self.position.encode(), digest_size=8).digest(), "little") >> 1
            if "generator" in kwargs:
                kwargs["generator"] = torch.Generator().manual_seed(seed)
            else:
                torch.default_generator.manual_seed(seed)
        self.function(*args, **kwargs)


@dataclass
class StorageLog:
    """Every write into one meta storage, and why it cannot be replayed (None: it can)."""

    writes: List[Write] = field(default_factory=list)
    broken: Optional[str] = None
    written: bool = False  # something gave it values (a factory function's, or a write)


class ReplayLog:
    """The writes of a build on the meta device, per storage (see the module docstring)."""

    def __init__(self, torch):
        from .adapters.torch_adapter import storage_id

        self.torch = torch
        self._storage_id = storage_id
        self.storages: Dict[int, StorageLog] = {}
        self.streams: Dict[int, Tuple[Any, str]] = {}  # id(generator) -> (generator, its position)
        self.reseed(torch.default_generator, torch.initial_seed())

    # --- random streams ---------------------------------------------------------------------------

    def reseed(self, generator, seed) -> None:
        """``generator`` was seeded with ``seed``: its stream starts again from there."""
        self.streams[id(generator)] = (generator, f"seed {int(seed)}")

    def _position(self, name: str, generator, numel: int) -> str:
        generator = generator if generator is not None else self.torch.default_generator
        known = self.streams.get(id(generator))
        if known is None or known[0] is not generator:
            known = (generator, f"seed {generator.initial_seed()}")
        here = hashlib.blake2b(f"{known[1]} {name} {numel}".encode(), digest_size=16).hexdigest()
        self.streams[id(generator)] = (generator, here)
        return here

    # --- what the recorder tells ------------------------------------------------------------------

    def _meta(self, tensor) -> bool:
        return isinstance(tensor, self.torch.Tensor) and tensor.is_meta

    def _entry(self, tensor, fresh: bool = False) -> StorageLog:
        key = self._storage_id(tensor)
        entry = self.storages.get(key)
        if entry is None or fresh:
            entry = self.storages[key] = StorageLog()
        return entry

    def _geometry(self, tensor):
        return tuple(int(d) for d in tensor.shape), tuple(int(d) for d in tensor.stride()), int(tensor.storage_offset())

    def _covers(self, tensor) -> bool:
        """Whether the view is all of its storage (every element once)."""
        numel = tensor.numel()
        return numel * tensor.element_size() == tensor.untyped_storage().nbytes() and tensor.is_contiguous()

    def call(self, tensor, function: Callable, name: str, args, kwargs) -> None:
        """``function(*args, **kwargs)`` wrote into ``tensor`` (one of ``args``, or ``kwargs["tensor"]``)."""
        if not self._meta(tensor):
            return
        short = name.rsplit(".", 1)[-1]
        entry = self._entry(tensor)
        kept_args = tuple(_TARGET if a is tensor else a for a in args)
        kept_kwargs = {k: (_TARGET if v is tensor else v) for k, v in kwargs.items()}
        operand = next((v for v in list(kept_args) + list(kept_kwargs.values())
                        if isinstance(v, self.torch.Tensor)), None)
        if operand is not None and short == "copy_" and self._meta(operand) and \
                self.storages.get(self._storage_id(operand)) is not None:
            self.copy(operand, tensor)  # another parameter's values, as they are now: the same writes
            return
        if operand is not None:
            entry.broken = entry.broken or (f"{short}() wrote values computed from another tensor, which the meta "
                                            f"device does not hold")
            return
        self._keep(entry, tensor, Write(short, function, kept_args, kept_kwargs, self._geometry(tensor)), short,
                   kwargs.get("generator"))

    def _keep(self, entry: StorageLog, tensor, write: Write, short: str, generator=None) -> None:
        if short in RANDOM:
            write.position = self._position(short, generator, tensor.numel())
        write.whole = short in OVERWRITES and self._covers(tensor)
        if write.whole:
            entry.writes.clear()
            entry.broken = None
        entry.writes.append(write)
        entry.written = True

    def sample(self, result, function: str, args, kwargs) -> None:
        """A factory function (``torch.randn``, ``torch.empty``...) made ``result``."""
        if not self._meta(result):
            return
        entry = self._entry(result, fresh=True)  # a new storage (its address may be a freed one's)
        torch = self.torch
        if function in ("empty", "empty_like"):
            return  # no values: a later write must give them
        if function in SAMPLED_AS:
            method, method_args = SAMPLED_AS[function]
        elif function == "full":
            value = kwargs.get("fill_value", args[1] if len(args) > 1 else None)
            method, method_args = "fill_", (value,)
        elif function == "normal":
            mean = kwargs.get("mean", args[0] if args else 0.0)
            std = kwargs.get("std", args[1] if len(args) > 1 else 1.0)
            method, method_args = "normal_", (mean, std)
        else:
            entry.broken = f"made by torch.{function}(), which is not replayed"
            return
        if any(isinstance(a, torch.Tensor) or not isinstance(a, (int, float)) for a in method_args):
            entry.broken = f"made by torch.{function}() from tensors the meta device does not hold"
            return
        call_kwargs = {"generator": kwargs["generator"]} if kwargs.get("generator") is not None else {}
        self._keep(entry, result, Write(function, getattr(torch.Tensor, method), (_TARGET,) + tuple(method_args),
                                        call_kwargs, self._geometry(result)), function, kwargs.get("generator"))

    def literal(self, result, data) -> None:
        """``torch.tensor(data)`` made ``result`` from Python numbers (CLIP's ``logit_scale``): the numbers
        are kept, up to LITERAL of them."""
        if not self._meta(result):
            return
        entry = self._entry(result, fresh=True)
        if result.numel() > LITERAL or not _numbers(data):
            entry.broken = "made by torch.tensor() from data the meta device does not hold"
            return
        self._keep(entry, result, Write("tensor", _fill_from, (_TARGET, data), {}, self._geometry(result)), "tensor")
        entry.writes[-1].whole = self._covers(result)

    def write(self, tensor, name: str, args) -> None:
        """Another in-place write the write observer saw (``clamp_``, ``w[i] = v``, ``masked_fill_``)."""
        if not self._meta(tensor):
            return
        entry = self._entry(tensor)
        method = getattr(self.torch.Tensor, name, None)
        rest = tuple(args[1:])
        if method is None or not all(_plain(a) for a in rest):
            entry.broken = entry.broken or f"{name}() wrote values the meta device does not hold (a tensor operand)"
            return
        self._keep(entry, tensor, Write(name, method, (_TARGET,) + rest, {}, self._geometry(tensor)), name)

    def copy(self, source, copy) -> None:
        """``copy`` holds ``source``'s values (a clone, a deep-copied module): the same writes, at the same
        random positions, so the copy replays to the same values."""
        if not (self._meta(source) and self._meta(copy)):
            return
        known = self.storages.get(self._storage_id(source))
        entry = self._entry(copy, fresh=True)
        if known is None:
            return
        if not self._covers(source) or not self._covers(copy):
            entry.broken = "a copy of part of another tensor"
            return
        entry.writes, entry.broken, entry.written = list(known.writes), known.broken, known.written

    def untracked(self, tensor, why: str) -> None:
        """A write no replayable call describes (an ``out=`` argument, a ``_foreach_`` call)."""
        if self._meta(tensor):
            entry = self._entry(tensor)
            entry.broken = entry.broken or why

    # --- after the build ----------------------------------------------------------------------------

    def why_not(self, tensor) -> Optional[str]:
        """Why ``tensor``'s storage cannot be replayed (None: it can)."""
        entry = self.storages.get(self._storage_id(tensor))
        if entry is None or not entry.written:
            return "its values were never written during the build (memory left uninitialised, or made by code " \
                   "that does not run on the meta device)"
        if entry.broken:
            return entry.broken
        if not entry.writes or not entry.writes[0].whole:
            return "its first recorded write covers only part of it, so the rest was never given values"
        return None

    def materialise(self, tensor, dtype=None):
        """A new CPU tensor over the whole of ``tensor``'s storage (flat, of ``tensor``'s dtype) holding the
        values the build gave it; None when they cannot be replayed. Seeds torch's default generator: the
        caller saves and restores its state."""
        torch = self.torch
        if self.why_not(tensor) is not None:
            return None
        entry = self.storages[self._storage_id(tensor)]
        dtype = dtype or tensor.dtype
        itemsize = torch.empty((), dtype=dtype).element_size()
        flat = torch.empty(tensor.untyped_storage().nbytes() // itemsize, dtype=dtype)
        with torch.no_grad():
            for write in entry.writes:
                write.apply(torch, flat)
        return flat


LITERAL = 1 << 16  # numbers of a torch.tensor() literal kept for replay


def _numbers(data) -> bool:
    """Python numbers, or (nested) lists and tuples of them."""
    if isinstance(data, (bool, int, float)):
        return True
    return isinstance(data, (list, tuple)) and all(_numbers(v) for v in data)


def _fill_from(view, data) -> None:
    import torch

    view.copy_(torch.tensor(data, dtype=view.dtype).reshape(view.shape))


def _plain(value) -> bool:
    """A value that replays as it is: a number, a string, None, a slice or tuple of them."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, slice):
        return all(_plain(v) for v in (value.start, value.stop, value.step))
    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    return value is Ellipsis
