"""PyTorch: record ``torch.nn.init`` (and every alias of it), tensor fills and samplers while the model is
built; read parameters on their device; observe the forward pass with hooks and a TorchFunctionMode.

Which tensor a recorded call filled: the key is (data_ptr, numel), so ``w``, ``w.data`` and
``w.detach()`` are the same tensor; an allocation (``torch.empty``, ``randn``...) at an address starts
its history afresh, and a history holds only while the storage it was recorded on lives (a weak
reference to it: torch keeps one Python object per storage), so a freed temporary never lends its
history to a later tensor at its address (``randn(n, n) * g / n ** 0.5``: the division's result
where randn's was), however that tensor was made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import sys
import weakref
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ... import catalogue
from ...catalogue import LayerKind, fans
from ..recording import Declaration, Patcher, plain_args, user_stack, user_stack_and_chooser
from ..results import Moments, TensorInfo
from ..launch import bind_device, ensure_group
from ..shard_fans import layout_of
from ..sharded import ShardedHandle, is_dtensor
from ..stats import (
    EXACT_LIMIT,
    MOMENT_SAMPLE,
    SAMPLE_SIZE,
    TensorHandle,
    array_moments,
    coordinates,
    sample_moments,
)
from .base import Adapter, VerifyError
from .torch_hooks import hooked, write_observer
from .torch_pieces import VIEW_LIKE, Pieces

INIT_FUNCTIONS = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
                  "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
                  "sparse_")
TIMM_FUNCTIONS = ("trunc_normal_", "trunc_normal_tf_", "variance_scaling_", "lecun_normal_")
FILL_METHODS = {"normal_": "torch.Tensor.normal_", "uniform_": "torch.Tensor.uniform_",
                "fill_": "torch.Tensor.fill_", "zero_": "torch.Tensor.zero_"}
SAMPLERS = {"randn": "torch.randn", "rand": "torch.rand", "zeros": "torch.zeros", "ones": "torch.ones",
            "full": "torch.full", "normal": "torch.normal", "randn_like": "torch.randn_like",
            "rand_like": "torch.rand_like", "zeros_like": "torch.zeros_like", "ones_like": "torch.ones_like",
            "empty": "torch.empty", "empty_like": "torch.empty_like"}
ARITHMETIC = {"mul_": "scale", "__imul__": "scale", "div_": "divide", "__itruediv__": "divide",
              "add_": "shift", "__iadd__": "shift", "sub_": "unshift", "__isub__": "unshift", "copy_": "copy"}
CLAMPS = ("clamp_", "clamp_min_", "clamp_max_", "clip_")
PARTIAL = 0.01  # a write to less of a tensor than this leaves its statistics as declared
BLOCK = 64
ZOO_PREFIXES = ("transformers", "timm", "torchvision", "diffusers", "peft")


META_SPAN = 1 << 48  # a meta storage's stand-in address space: its StorageImpl's address times this


def _key(tensor) -> Optional[Tuple[int, int]]:
    local = getattr(tensor, "_local_tensor", None)  # a DTensor is known by its local shard's storage
    if local is not None:
        tensor = local
    try:
        if tensor.is_meta:  # no address: the storage object stands in for it (shared by w, w.data, views)
            return storage_id(tensor) + tensor.storage_offset() * tensor.element_size(), tensor.numel()
        ptr = tensor.data_ptr()
    except Exception:  # lazy / uninitialised parameters have no storage
        return None
    if not ptr:
        return None
    return ptr, tensor.numel()


def storage_id(tensor) -> int:
    """The storage's address, or for a meta tensor (which has none) a stand-in above every real address,
    unique per storage, so that a model built on the meta device is recorded as a real one is."""
    storage = tensor.untyped_storage()
    if tensor.is_meta:
        return storage._cdata * META_SPAN
    return storage.data_ptr()


def _storage_of(tensor):
    """The storage object of ``tensor`` (a DTensor's: its local shard's); None when it has none."""
    local = getattr(tensor, "_local_tensor", None)
    try:
        return (local if local is not None else tensor).untyped_storage()
    except Exception:  # lazy / uninitialised parameters
        return None


SIZED = ("empty", "zeros", "ones", "rand", "randn", "full")  # a size first (full: then its fill value)


def _size_of(function: str, args, kwargs):
    size = kwargs.get("size")
    if size is None and args:
        if function == "full" or not isinstance(args[0], int):
            size = args[0]
        else:
            size = args
    return size


def requested_bytes(torch, function: str, args, kwargs) -> Optional[int]:
    """The bytes a factory call (``torch.empty(3, 4)``, ``zeros((3, 4), dtype=...)``, ``randn_like(t)``) will
    allocate in host memory; None when it cannot tell or the tensor goes elsewhere (meta, a GPU)."""
    try:
        device = kwargs.get("device")
        if function.endswith("_like"):
            source = args[0] if args else kwargs.get("input")
            if not isinstance(source, torch.Tensor):
                return None
            numel, dtype = source.numel(), kwargs.get("dtype") or source.dtype
            device = device if device is not None else source.device
        elif function in SIZED:
            size = _size_of(function, args, kwargs)
            if size is None:
                return None
            numel = math.prod(int(d) for d in size)
            dtype = kwargs.get("dtype") or torch.get_default_dtype()
        else:
            return None
        if device is None:  # under `with torch.device("meta")` too
            device = torch.get_default_device() if hasattr(torch, "get_default_device") else torch.device("cpu")
        if torch.device(device).type != "cpu":
            return None
        return int(numel) * int(getattr(dtype, "itemsize", 4))
    except (TypeError, ValueError, RuntimeError):  # a size torch itself will reject: let it say so
        return None


def _shape_text(args, kwargs, function: str) -> str:
    if function.endswith("_like"):
        source = args[0] if args else kwargs.get("input")
        return "x".join(str(int(d)) for d in getattr(source, "shape", ())) or "()"
    try:
        return "x".join(str(int(d)) for d in _size_of(function, args, kwargs))
    except TypeError:  # pragma: no cover
        return "?"


class TorchRecorder:
    """The torch half of a recording: histories of declarations keyed by tensor."""

    def __init__(self, torch):
        self.torch = torch
        self.active = False
        self.depth = 0
        self.histories: Dict[Tuple[int, int], List[Declaration]] = {}
        self.owners: Dict[Tuple[int, int], Any] = {}  # key -> weak reference to the storage its history is of
        self.storages: Dict[int, Dict[Tuple[int, int], int]] = {}  # storage -> recorded keys in it -> item size
        self._hooks: Optional[contextlib.ExitStack] = None  # the active recording's hooks
        self._hooked_libraries: set = set()
        self.torch_root = os.path.dirname(torch.__file__) + os.sep
        self.budget = None  # the run's memory.MemoryBudget
        self.log = None  # a replay.ReplayLog while a model is built on the meta device (its writes, to replay)
        self.pieces = Pieces(torch, _key)  # copies of parts of tensors, and initialisers lost in them
        self.local_init: Dict[Tuple[int, int], bool] = {}  # key -> last declared through a DTensor's local shard
        # the recorder's own bookkeeping (a tensor's address, size, storage) is no write of the model's: run
        # without the torch-function modes (the write observer), which would otherwise see each of its calls
        # (two thirds of the calls the observer saw in ResNet-50's build)
        self.quiet = torch._C.DisableTorchFunction
        self._observer = None  # the write observer (a TorchFunctionMode) while the recording is active

    def unobserved(self, original, args, kwargs):
        """``original(*args, **kwargs)``, a recorded call (the recorder busy: its own writes are its
        declaration), with the write observer off the mode stack when it is on top: the observer ignores
        every call made inside, and would otherwise still be handed each one (an initialiser's
        ``no_grad``, ``dim``, ``size``: 3,000 calls in ResNet-50's build). A mode above it (a device, the
        meta build's guard) stays, and so does the observer then."""
        C = self.torch._C
        depth = C._len_torch_function_stack()
        if self._observer is None or not depth or C._get_function_stack_at(depth - 1) is not self._observer:
            return original(*args, **kwargs)
        C._pop_torch_function_stack()
        try:
            return original(*args, **kwargs)
        finally:
            C._push_on_torch_function_stack(self._observer)

    def forget(self) -> None:
        """Drop what a build recorded: it was stopped part-way and its tensors are gone (the automatic
        per-module choice builds the model afresh, on the meta device)."""
        self.histories.clear()
        self.owners.clear()
        self.storages.clear()
        self.local_init.clear()
        self.pieces.lost.clear()

    def history(self, tensor) -> List[Declaration]:
        key = _key(tensor)
        return list(self._live(tensor, key) or ()) if key else []

    def _live(self, tensor, key) -> Optional[List[Declaration]]:
        """``key``'s history if it was recorded on the storage ``tensor`` has; one left by a freed
        storage whose address ``tensor``'s reuses is dropped (None)."""
        history = self.histories.get(key)
        if history is None:
            return None
        owner = self.owners.get(key)
        if owner is not None and owner() is not _storage_of(tensor):
            del self.histories[key]
            del self.owners[key]
            self.local_init.pop(key, None)
            return None
        return history

    def _own(self, tensor, key) -> None:
        storage = _storage_of(tensor)
        if storage is not None:
            self.owners[key] = weakref.ref(storage)

    def _declare(self, tensor, decl: Declaration, fresh: bool = False) -> None:
        if not fresh and self.pieces.wrote(tensor, decl):
            return  # it filled a copy of part of a tensor, not the tensor (torch_pieces.py)
        key = _key(tensor)
        if key is None:
            return
        self.pieces.reached(key)
        self.local_init[key] = not hasattr(tensor, "_local_tensor")  # a plain tensor: a DTensor's shard, if any
        if fresh:
            self.histories[key] = [decl]
            self._own(tensor, key)
        else:
            if self._live(tensor, key) is None:
                self._partial(tensor, key, decl.name)
                self._own(tensor, key)
            self.histories.setdefault(key, []).append(decl)
        self._remember_storage(tensor, key)

    def _remember_storage(self, tensor, key) -> None:
        try:
            storage = storage_id(tensor)
        except Exception:  # pragma: no cover - a tensor without storage has no key either
            return
        self.storages.setdefault(storage, {})[key] = tensor.element_size()

    def _partial(self, tensor, key, what: str, count: Optional[int] = None) -> None:
        """A write to part of recorded tensors (``w[:, :k].zero_()``, ``w[mask] = 0``): ``count`` values of
        them (the view's, by default). A write to more than PARTIAL of a tensor leaves its declaration
        unknown; one to less (transformers' and nn.Embedding's zero padding row) changes no statistic."""
        try:
            storage = storage_id(tensor)
        except Exception:  # pragma: no cover
            return
        ptr, numel = key
        count = numel if count is None else count
        for base, itemsize in list(self.storages.get(storage, {}).items()):
            base_ptr, base_numel = base
            if base == key or not base_ptr <= ptr < base_ptr + base_numel * itemsize:
                continue
            history = self._live(tensor, base)  # the base is in tensor's storage, if it still lives
            if history and count > PARTIAL * base_numel:
                self._overwritten(history, what)

    def _overwritten(self, history: List[Declaration], what: str) -> None:
        last = history[-1]
        history.append(Declaration(last.name, dict(last.args), user_stack(3), last.shape, last.scale, last.shift,
                                   unknown=True, modified=True, fans_override=last.fans_override))

    def observed_copy(self, source, copy) -> None:
        """``copy`` holds ``source``'s values (``clone``, a deep copy of a module): it inherits the
        declaration, marked as a copy (INI604 then says where identical tensors come from)."""
        source_key, key = _key(source), _key(copy)
        history = self._live(source, source_key) if source_key else None
        if not history or key is None or key == source_key:
            return
        copied = [dataclasses.replace(decl, copied=True) for decl in history]
        self.histories[key] = copied
        self._own(copy, key)
        self._remember_storage(copy, key)
        if self.log is not None:
            self.log.copy(source, copy)

    def observed_write(self, tensor, name: str, args) -> None:
        """An in-place write that no recorded initialiser, fill or arithmetic made (the WriteObserver's)."""
        if name in FILL_METHODS or name in ARITHMETIC:
            return  # recorded by their own patches
        if self.log is not None:
            self.log.write(tensor, name, args)
        key = _key(tensor)
        if key is None:
            return
        if name == "__setitem__" and len(args) > 1:
            piece = self.pieces.assignment_lost(tensor, args[1])
            if piece is not None:  # it wrote a gathered copy: the tensor is unchanged (torch_pieces.py)
                self.pieces.assigned(key, Declaration("assignment", stack=user_stack(2), unknown=True), piece)
                return
        self.pieces.reached(key)
        count = None
        if name == "__setitem__" and len(args) > 1:
            try:
                count = int(tensor[args[1]].numel())
            except Exception:  # an index torch rejects raised already; anything else: the whole tensor
                count = None
        history = self._live(tensor, key)
        if history is None:
            self._partial(tensor, key, name, count)
        elif name in CLAMPS:  # the declared values, cut: still compared (INI602 says they are no longer normal)
            last = history[-1]
            history.append(Declaration(last.name, dict(last.args), user_stack(2) or last.stack, last.shape, last.scale,
                                       last.shift, last.unknown, last.assumed, True, last.explicit,
                                       last.fans_override, library=last.library))
        elif count is None or count > PARTIAL * key[1]:
            self._overwritten(history, name)

    def _transform(self, tensor, kind: str, other) -> None:
        key = _key(tensor)
        if kind == "copy" and key is not None:
            self.pieces.reached(key)
        history = self._live(tensor, key) if key else None
        if not history:
            if key is not None:
                self._partial(tensor, key, kind)
            return
        last = history[-1]
        scalar = isinstance(other, (int, float)) and not isinstance(other, bool)
        if kind == "copy" or not scalar:
            history.append(Declaration(last.name, dict(last.args), user_stack(2), last.shape, last.scale, last.shift,
                                       unknown=True, modified=True, fans_override=last.fans_override))
            return
        changed = Declaration(last.name, dict(last.args), user_stack(2) or last.stack, last.shape, last.scale,
                              last.shift, last.unknown, last.assumed, last.modified, last.explicit, last.fans_override,
                              library=last.library)
        if kind == "scale":
            changed.scale, changed.shift = last.scale * other, last.shift * other
        elif kind == "divide" and other:
            changed.scale, changed.shift = last.scale / other, last.shift / other
        elif kind == "shift":
            changed.shift = last.shift + other
        elif kind == "unshift":
            changed.shift = last.shift - other
        history.append(changed)

    # --- wrappers --------------------------------------------------------------------------------

    def wrap_init(self, original, name: str, caller_depth: int = 1):
        """``caller_depth``: frames between the wrapper and the initialiser's caller (2 behind a code hook's
        trampoline)."""
        entry = catalogue.initializer(name)
        recorder = self

        @functools.wraps(original)
        def recorded_init(*args, **kwargs):
            if not recorder.active or recorder.depth:
                return original(*args, **kwargs)
            recorder.depth += 1
            try:
                result = recorder.unobserved(original, args, kwargs)
            finally:
                recorder.depth -= 1
            tensor = args[0] if args else kwargs.get("tensor")
            with recorder.quiet():
                bound = entry.bind(args, kwargs) if entry is not None else {}
                if tensor is not None and recorder.log is not None:
                    recorder.log.call(tensor, original, name, args, kwargs)
                if tensor is not None:
                    explicit = not sys._getframe(caller_depth).f_code.co_filename.startswith(recorder.torch_root)
                    stack, library = user_stack_and_chooser(caller_depth)
                    recorder._declare(tensor, Declaration(name, plain_args(bound), stack, explicit=explicit,
                                                          library=library))
            return result

        return recorded_init

    def wrap_fill(self, original, name: str):
        entry = catalogue.initializer(name)
        recorder = self

        def recorded_fill(tensor, *args, **kwargs):
            if not recorder.active or recorder.depth:
                return original(tensor, *args, **kwargs)
            recorder.depth += 1
            try:
                result = recorder.unobserved(original, (tensor,) + args, kwargs)
            finally:
                recorder.depth -= 1
            with recorder.quiet():
                bound = entry.bind(args, kwargs) if entry is not None else {}
                if recorder.log is not None:
                    recorder.log.call(tensor, original, name, (tensor,) + args, kwargs)
                # torch's own code filling (an init function bound before the patches, as nn.Transformer's
                # xavier_uniform_): the framework's choice, as for a recorded init
                explicit = not sys._getframe(1).f_code.co_filename.startswith(recorder.torch_root)
                stack, library = user_stack_and_chooser(1)
                recorder._declare(tensor, Declaration(name, plain_args(bound), stack, explicit=explicit,
                                                      library=library))
            return result

        return recorded_fill

    def wrap_sampler(self, original, name: str):
        entry = catalogue.initializer(name)
        function = name.rsplit(".", 1)[-1]
        recorder = self

        @functools.wraps(original)
        def recorded_sampler(*args, **kwargs):
            if not recorder.active or recorder.depth:
                return original(*args, **kwargs)
            budget = recorder.budget
            if budget is not None:  # before the allocation: a model too large must not reach the OOM killer
                with recorder.quiet():
                    nbytes = requested_bytes(recorder.torch, function, args, kwargs)
                    if nbytes:
                        budget.claim(nbytes, f"{name}() of shape {_shape_text(args, kwargs, function)}")
            recorder.depth += 1
            try:
                result = recorder.unobserved(original, args, kwargs)
            finally:
                recorder.depth -= 1
            with recorder.quiet():
                if entry is None:  # torch.empty: a fresh tensor whose values nobody declared
                    decl = Declaration(name, stack=user_stack(1), unknown=True)
                else:
                    stack, library = user_stack_and_chooser(1)
                    decl = Declaration(name, plain_args(entry.bind(args, kwargs)), stack, library=library)
                if isinstance(result, recorder.torch.Tensor):
                    recorder._declare(result, decl, fresh=True)
                    if recorder.log is not None:
                        recorder.log.sample(result, function, args, kwargs)
            return result

        return recorded_sampler

    def wrap_arithmetic(self, original, kind: str):
        recorder = self

        def recorded_arithmetic(tensor, *args, **kwargs):
            if not recorder.active or recorder.depth:
                return original(tensor, *args, **kwargs)
            recorder.depth += 1  # a torch-function mode hands the call back here once more: record it once
            try:
                result = recorder.unobserved(original, (tensor,) + args, kwargs)
            finally:
                recorder.depth -= 1
            other = args[0] if args else kwargs.get("other", kwargs.get("src"))
            alpha = kwargs.get("alpha", 1)
            value = other * alpha if isinstance(other, (int, float)) and alpha != 1 else other
            with recorder.quiet():
                recorder._transform(tensor, kind, value)
                if recorder.log is not None:
                    recorder.log.call(tensor, original, getattr(original, "__name__", kind), (tensor,) + args,
                                      kwargs)
            return result

        return recorded_arithmetic

    @contextlib.contextmanager
    def patched(self) -> Iterator["TorchRecorder"]:
        torch = self.torch
        init = torch.nn.init
        try:  # `with torch.device(...)` caches its factory functions by identity on first use: the originals
            from torch.utils._device import _device_constructors

            _device_constructors()
        except ImportError:  # pragma: no cover - older torch
            pass
        with Patcher() as patcher, contextlib.ExitStack() as stack:
            self._hooks, self._hooked_libraries = stack, set()
            stack.enter_context(hooked({f"torch.nn.init.{name}": getattr(init, name) for name in INIT_FUNCTIONS
                                        if hasattr(init, name)}, self._make_hook))
            self.hook_libraries()
            for method, name in FILL_METHODS.items():
                patcher.set(torch.Tensor, method, self.wrap_fill(getattr(torch.Tensor, method), name))
            for method, kind in ARITHMETIC.items():
                patcher.set(torch.Tensor, method, self.wrap_arithmetic(getattr(torch.Tensor, method), kind))
            for function, name in SAMPLERS.items():
                original = getattr(torch, function)
                patcher.set(torch, function, self.wrap_sampler(original, name))
            self._observer = stack.enter_context(write_observer(torch, self.observed_write, self.observed_copy,
                                                                lambda: self.depth > 0 or not self.active,
                                                                self.pieces.observed, VIEW_LIKE))
            self.active = True
            try:
                yield self
            finally:
                self.active = False
                self._hooks = self._observer = None

    def _make_hook(self, name: str, original):
        return self.wrap_init(original, name, caller_depth=2)

    def hook_libraries(self) -> None:
        """Hook the initialisers of libraries imported by now (timm's), once: a model file imports them
        after the recording started, before its build."""
        timm_init = sys.modules.get("timm.layers.weight_init")
        if timm_init is None or self._hooks is None or "timm" in self._hooked_libraries:
            return
        self._hooked_libraries.add("timm")
        self._hooks.enter_context(hooked({f"timm.layers.{name}": getattr(timm_init, name) for name in TIMM_FUNCTIONS
                                          if hasattr(timm_init, name)}, self._make_hook))


class TorchHandle(TensorHandle):
    """A torch tensor, read where it lives: moments and fingerprints are computed on its device and only
    a bounded sample ever reaches the host."""

    def __init__(self, torch, tensor):
        self.torch = torch
        self.tensor = tensor.detach()
        self._extremes: Optional[Tuple[float, float]] = None  # (min, max), when computed ahead (prefetch)
        self._begun = False  # measure() has started

    def prefetch(self) -> bool:
        """A large tensor's exact min and max (one pass over every value, the largest part of measuring it
        that needs no random draw), computed ahead by another thread."""
        if self._begun:
            return False
        flat = self._flat()
        if flat.numel() > EXACT_LIMIT and self._extremes is None:
            low, high = self.torch.aminmax(flat)
            self._extremes = (float(low), float(high))
        return True

    def _flat(self):
        flat = self.tensor.reshape(-1)
        if flat.dtype not in (self.torch.float32, self.torch.float64):
            flat = flat.float()
        return flat

    def _gather(self, flat, size: int, rng: np.random.Generator) -> np.ndarray:
        """About ``size`` values: for a large tensor, runs of BLOCK consecutive values spread evenly from a
        random offset (a strided view, copied only after selection: for the i.i.d. draws under test as
        good as single values at random, and far kinder to the memory system); else values at random."""
        torch = self.torch
        n = flat.numel()
        if n >= 16 * size:
            blocks = size // BLOCK
            step = n // blocks
            offset = int(rng.integers(0, step - BLOCK + 1))
            flat = flat.contiguous()
            flat = torch.as_strided(flat, (blocks, BLOCK), (step, 1), flat.storage_offset() + offset)
        elif n > size:
            generator = torch.Generator(device=flat.device)
            generator.manual_seed(int(rng.integers(0, 2**62)))
            flat = flat[torch.randint(0, n, (size,), generator=generator, device=flat.device)]
        return flat.double().reshape(-1).cpu().numpy()

    def measure(self, rng: np.random.Generator) -> Tuple[Moments, np.ndarray]:
        torch = self.torch
        self._begun = True
        flat = self._flat()
        n = flat.numel()
        if n == 0:
            return Moments(0, math.nan, math.nan, math.nan, math.nan), np.zeros(0)
        if n <= EXACT_LIMIT:  # small: one copy to the host (at most 512 KB), everything exact from it
            values = flat.double().cpu().numpy()
            moments = array_moments(values)
            finite = values[np.isfinite(values)] if not moments.finite else values
            if finite.size > SAMPLE_SIZE:
                finite = finite[rng.integers(0, finite.size, SAMPLE_SIZE)]
            return moments, finite
        nonfinite = 0
        extremes = self._extremes
        low, high = extremes if extremes is not None else (float(v) for v in torch.aminmax(flat))
        if not (math.isfinite(low) and math.isfinite(high)):  # NaN and inf reach the min or the max
            finite = torch.isfinite(flat)
            nonfinite = int(n - finite.sum())
            if nonfinite:
                flat = flat[finite]
                if flat.numel() == 0:
                    return Moments(n, math.nan, math.nan, math.nan, math.nan, finite=False,
                                   nonfinite=nonfinite), np.zeros(0)
                low, high = (float(v) for v in torch.aminmax(flat))
        if flat.numel() <= EXACT_LIMIT:
            std, mean = torch.std_mean(flat, correction=0)
            moments = Moments(n, float(mean), float(std), low, high, finite=nonfinite == 0, nonfinite=nonfinite,
                              count=flat.numel())
            return moments, self._gather(flat, SAMPLE_SIZE, rng)
        values = self._gather(flat, MOMENT_SAMPLE, rng)
        return sample_moments(n, low, high, values, nonfinite), values[:SAMPLE_SIZE]

    def _units(self, unit_axis: int):
        t = self.tensor
        units = t.shape[unit_axis]
        if unit_axis == 0:
            return t.reshape(units, -1), False
        if unit_axis in (-1, t.dim() - 1):
            return t.reshape(-1, units), True
        return t.movedim(unit_axis, 0).reshape(units, -1), False

    def unit_fingerprints(self, unit_axis: int, rng: np.random.Generator) -> Optional[np.ndarray]:
        torch = self.torch
        matrix, transposed = self._units(unit_axis)
        rest = matrix.shape[0] if transposed else matrix.shape[1]
        cols = coordinates(rest)
        if cols is not None:
            matrix = matrix.index_select(0 if transposed else 1, _index(torch, rest, matrix.device))
        matrix = matrix.double()
        generator = torch.Generator(device=matrix.device)
        generator.manual_seed(int(rng.integers(0, 2**62)))
        weights = torch.randn(matrix.shape[0] if transposed else matrix.shape[1], generator=generator,
                              device=matrix.device, dtype=matrix.dtype)
        prints = weights @ matrix if transposed else matrix @ weights
        return prints.cpu().numpy()

    def units_equal(self, unit_axis: int, i: int, j: int) -> bool:
        return bool(self.torch.equal(self.tensor.select(unit_axis, i), self.tensor.select(unit_axis, j)))

    def probe(self) -> Tuple[float, ...]:
        flat = self.tensor.reshape(-1)
        n = flat.numel()
        if n == 0:
            return ()
        positions = sorted({int(round(i * (n - 1) / 15)) for i in range(min(16, n))})
        return tuple(float(v) for v in flat[positions].double().cpu().tolist())

    def equals(self, other: TensorHandle) -> bool:
        if not isinstance(other, TorchHandle) or other.tensor.device != self.tensor.device:
            return False
        return bool(self.torch.equal(self.tensor, other.tensor))

    def distinct_at_most(self, k: int) -> bool:
        head = self.tensor.reshape(-1)[:4096]
        return int(self.torch.unique(head).numel()) <= k


@functools.lru_cache(maxsize=256)
def _index(torch, rest: int, device) -> Any:
    """``coordinates(rest)`` as a torch index on ``device``: one per width and device (a model has few), never
    written (index_select only reads it)."""
    return torch.tensor(coordinates(rest), device=device)


def _handle(torch, param) -> TensorHandle:
    """How a parameter is read: a sharded one (a DTensor, under torchrun) as its full logical tensor."""
    return ShardedHandle(torch, param) if is_dtensor(torch, param) else TorchHandle(torch, param)


def _layer_entry(module) -> Optional[catalogue.Layer]:
    for cls in type(module).__mro__:
        entry = catalogue.layer(f"{cls.__module__}.{cls.__qualname__}")
        if entry is not None and entry.framework is catalogue.Framework.TORCH:
            return entry
    return None


def _is_default(decl: Optional[Declaration], layer: Optional[catalogue.Layer], param: str) -> bool:
    """The layer type's own default, which no code of the user or a library asked for explicitly."""
    if decl is None or layer is None or param != layer.weight or decl.unknown or decl.explicit:
        return False
    if decl.name != layer.default_weight_init or decl.scale != 1.0 or decl.shift:
        return False
    for key, value in layer.default_weight_args:
        if not math.isclose(float(decl.args.get(key, math.nan)), float(value), rel_tol=1e-6):
            return False
    return True


class TorchAdapter(Adapter):
    """PyTorch ``nn.Module`` models."""
    framework = "torch"
    layout = "torch"
    packages = ("torch",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.torch = None
        self._recorder: Optional[TorchRecorder] = None
        self.forward_kwargs: Dict[str, Any] = {}

    def ensure(self) -> None:
        if self.torch is None:
            try:
                import torch
            except ImportError as exc:  # pragma: no cover - torch is installed wherever torch models are
                raise VerifyError(f"PyTorch is not installed ({exc}); `pip install 'initlint[torch]'`")
            self.torch = torch

    def check_device(self) -> None:
        self.ensure()
        if self.device.startswith("cuda") and not self.torch.cuda.is_available():
            raise VerifyError("--device cuda: no CUDA device is available here (torch.cuda.is_available() is "
                              "False); use --device cpu")
        bind_device(self.torch, self.device)  # under torchrun, each rank its own GPU (launch.py)

    def device_context(self):
        self.ensure()
        if self.device.startswith("cuda"):
            return self.torch.device(self.device)
        return contextlib.nullcontext()

    def measures_during_forward(self) -> bool:
        """The forward pass writes parameters never (batch statistics are buffers, restored after it); under
        torch.distributed a sharded tensor's measurement communicates, as the pass may (FSDP's gathers), and
        collectives issued from two threads would meet in different orders on different ranks."""
        distributed = getattr(self.torch, "distributed", None)
        return not (distributed is not None and distributed.is_available() and distributed.is_initialized())

    def seed_everything(self) -> None:
        self.ensure()
        import random

        random.seed(self.seed)
        np.random.seed(self.seed % 2**32)
        self.torch.manual_seed(self.seed)

    @contextlib.contextmanager
    def recorder(self):
        self.ensure()
        if self._recorder is None:  # one history for the build and for prepare (a lazy layer's first input)
            self._recorder = TorchRecorder(self.torch)
        self._recorder.budget = self.recording.budget
        with self._recorder.patched():
            yield self._recorder

    def before_build(self) -> None:
        if self._recorder is not None:
            self._recorder.hook_libraries()

    def is_model(self, obj: Any) -> bool:
        self.ensure()
        return isinstance(obj, self.torch.nn.Module)

    def declares_in_prepare(self, obj: Any) -> bool:
        lazy = self.torch.nn.parameter.UninitializedParameter
        return isinstance(obj, self.torch.nn.Module) and any(isinstance(p, lazy) for p in obj.parameters())

    def prepare(self, obj: Any, input_shape: Optional[Sequence[int]]) -> Any:
        torch = self.torch
        if not isinstance(obj, torch.nn.Module):
            raise VerifyError(f"expected a torch.nn.Module, got {type(obj).__name__}")
        ensure_group(torch, self.device)  # under torchrun, a build that opened no process group gets one
        params = list(obj.parameters())
        if any(p.is_meta for p in params):
            raise VerifyError("the model's parameters are on the meta device: they hold no values to verify. "
                              "Build it with real weights (not under torch.device('meta') or "
                              "init_empty_weights()).")
        if any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in params):
            if not input_shape:
                raise VerifyError("the model has lazy layers (LazyLinear/LazyConv*) whose parameters exist only "
                                  "after a first input: pass --input-shape (e.g. --input-shape 2,4)")
            with torch.no_grad():  # under the runner's recording: the materialising inits are recorded
                obj(self._make_input(obj, tuple(input_shape)))
        if self.device.startswith("cuda"):
            obj = obj.to(self.device)
        return obj

    def device_name(self, model: Any) -> str:
        for p in model.parameters():
            return str(p.device)
        return self.device

    def tensors(self, model: Any) -> List[TensorInfo]:
        torch = self.torch
        recorded = self._recorder is not None and getattr(self, "built_under_recording", False)
        seen = set()
        out: List[TensorInfo] = []
        layers: Dict[type, Optional[catalogue.Layer]] = {}  # a module type's catalogue entry, asked once
        for module_name, module in model.named_modules():
            kind = type(module)
            layer = layers[kind] if kind in layers else layers.setdefault(kind, _layer_entry(module))
            for pname, param in module.named_parameters(recurse=False):
                if id(param) in seen or not torch.is_floating_point(param):
                    continue
                seen.add(id(param))
                full = f"{module_name}.{pname}" if module_name else pname
                out.append(self._info(full, module_name, module, layer, pname, param, recorded))
        return out

    def _info(self, full, module_name, module, layer, pname, param, recorded) -> TensorInfo:
        shape = tuple(int(d) for d in param.shape)
        kind = layer.kind if layer is not None else None
        is_main = layer is not None and pname == layer.weight
        info = TensorInfo(full, shape, str(param.dtype).replace("torch.", ""), _handle(self.torch, param),
                          layer=layer.name if layer else type(module).__name__,
                          layer_kind=kind.value if kind else None, layer_path=module_name)
        if isinstance(info.handle, ShardedHandle):
            info.shard = layout_of(param)
            if info.shard is not None and recorded:
                info.shard = dataclasses.replace(info.shard, local_init=self._recorder.local_init.get(_key(param)))
        if len(shape) >= 2:
            info.role = "weight"
            info.fan_in, info.fan_out, info.receptive = fans(shape, "torch")
            if kind is LayerKind.CONV_TRANSPOSE:
                info.unit_axis = 1
            elif kind is LayerKind.EMBEDDING:
                info.unit_axis = len(shape) - 1
            if is_main and kind in (LayerKind.DENSE, LayerKind.CONV):
                info.semantic_fan_in = info.fan_in
        else:
            info.role = "scale" if kind is LayerKind.NORM and pname == "weight" else "bias"
            weight = getattr(module, layer.weight, None) if layer is not None and layer.weight else None
            if weight is not None and getattr(weight, "dim", lambda: 0)() >= 2:
                try:
                    info.fan_in, info.fan_out, info.receptive = fans(tuple(weight.shape), "torch")
                except Exception:  # pragma: no cover
                    pass
        history = self._recorder.history(param) if recorded else []
        if history:
            info.history = tuple(history)
            last = history[-1]
            info.declared = None if last.unknown and last.name == "torch.empty" else last
        elif not recorded and layer is not None:
            info.declared = self._assumed(layer, pname, info)
            info.history = (info.declared,) if info.declared else ()
        lost = self._recorder.pieces.lost.get(_key(param)) if recorded else None
        if lost:  # initialisers that filled a copy of part of it: the report points at them
            info.lost = tuple(lost)
            info.history += tuple(entry.decl for entry in lost)
        info.is_default = _is_default(info.declared, layer, pname)
        if info.declared is not None and info.declared.assumed:
            info.is_default = True
        return info

    def _assumed(self, layer, pname, info) -> Optional[Declaration]:
        if pname == layer.weight and layer.default_weight_init:
            entry = catalogue.initializer(layer.default_weight_init)
            args = entry.bind(("<tensor>",), dict(layer.default_weight_args)) if entry else {}
            args.pop("tensor", None)  # the placeholder bound to the tensor argument: no argument of the law
            return Declaration(layer.default_weight_init, plain_args(args), assumed=True)
        if pname == layer.bias and layer.default_bias_init:
            entry = catalogue.initializer(layer.default_bias_init)
            args = entry.bind(("<tensor>",), dict(layer.default_bias_args)) if entry else {}
            args.pop("tensor", None)
            return Declaration(layer.default_bias_init, plain_args(args), assumed=True,
                               fans_override=(info.fan_in, info.fan_out, info.receptive))
        return None

    # --- the forward pass ------------------------------------------------------------------------

    def _first_layer(self, model):
        for module in model.modules():
            if len(list(module.children())) == 0 and any(True for _ in module.parameters(recurse=False)):
                return module
        return None

    def _make_input(self, model, shape):
        torch = self.torch
        first = self._first_layer(model)
        device = next((p.device for p in model.parameters() if not isinstance(
            p, torch.nn.parameter.UninitializedParameter)), torch.device(self.device))
        generator = torch.Generator(device=device)
        generator.manual_seed(self.seed)
        if isinstance(first, (torch.nn.Embedding, torch.nn.EmbeddingBag)):
            return torch.randint(0, first.num_embeddings, shape, generator=generator, device=device)
        return torch.randn(shape, generator=generator, device=device)

    def forward(self, model, input_shape, tensors):
        from .torch_forward import run_forward

        return run_forward(self, model, input_shape, tensors, _layer_entry)
