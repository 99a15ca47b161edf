"""PyTorch: record ``torch.nn.init`` (and every alias of it), tensor fills and samplers while the model is
built; read parameters on their device; observe the forward pass with hooks and a TorchFunctionMode.

Which tensor a recorded call filled: the key is (data_ptr, numel), so ``w``, ``w.data`` and
``w.detach()`` are the same tensor; an allocation (``torch.empty``, ``randn``...) at an address starts
its history afresh, so a freed temporary never lends its history to a later parameter.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
import weakref
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ... import catalogue
from ...catalogue import Activation, LayerKind, fans
from ..recording import Declaration, Patcher, candidate_modules, patch_aliases, plain_args, user_stack
from ..results import LayerSignal, Moments, TensorInfo
from ..stats import (
    EXACT_LIMIT,
    MOMENT_SAMPLE,
    SAMPLE_SIZE,
    TensorHandle,
    array_moments,
    coordinates,
    sample_moments,
)
from .base import Adapter, VerifyError, forward_batch

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
SIGNAL_VALUES = 1 << 16
BLOCK = 64
ZOO_PREFIXES = ("transformers", "timm", "torchvision", "diffusers", "peft")

_ACTIVATIONS = {
    "relu": Activation.RELU, "relu6": Activation.RELU, "hardtanh": None,
    "leaky_relu": Activation.LEAKY_RELU, "prelu": Activation.LEAKY_RELU, "rrelu": Activation.LEAKY_RELU,
    "tanh": Activation.TANH, "sigmoid": Activation.SIGMOID, "selu": Activation.SELU, "gelu": Activation.GELU,
    "silu": Activation.SILU, "mish": Activation.SILU, "hardswish": Activation.SILU, "elu": Activation.ELU,
    "celu": Activation.ELU, "softmax": Activation.SOFTMAX, "log_softmax": Activation.SOFTMAX,
    "softplus": Activation.SOFTPLUS, "softsign": Activation.SOFTSIGN,
}
_TRANSPARENT = {
    "view", "reshape", "flatten", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
    "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "permute", "transpose", "contiguous", "squeeze", "unsqueeze",
    "clone", "pad", "flatten_", "view_as", "reshape_as",
}


def _key(tensor) -> Optional[Tuple[int, int]]:
    local = getattr(tensor, "_local_tensor", None)  # a DTensor is known by its local shard's storage
    if local is not None:
        tensor = local
    try:
        ptr = tensor.data_ptr()
    except Exception:  # lazy / uninitialised parameters have no storage
        return None
    if not ptr:
        return None
    return ptr, tensor.numel()


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
        self.torch_root = os.path.dirname(torch.__file__) + os.sep
        self.budget = None  # the run's memory.MemoryBudget

    def history(self, tensor) -> List[Declaration]:
        key = _key(tensor)
        return list(self.histories.get(key, ())) if key else []

    def _declare(self, tensor, decl: Declaration, fresh: bool = False) -> None:
        key = _key(tensor)
        if key is None:
            return
        if fresh:
            self.histories[key] = [decl]
        else:
            self.histories.setdefault(key, []).append(decl)

    def _transform(self, tensor, kind: str, other) -> None:
        key = _key(tensor)
        history = self.histories.get(key) if key else None
        if not history:
            return
        last = history[-1]
        scalar = isinstance(other, (int, float)) and not isinstance(other, bool)
        if kind == "copy" or not scalar:
            history.append(Declaration(last.name, dict(last.args), user_stack(2), last.shape, last.scale, last.shift,
                                       unknown=True, modified=True, fans_override=last.fans_override))
            return
        changed = Declaration(last.name, dict(last.args), user_stack(2) or last.stack, last.shape, last.scale,
                              last.shift, last.unknown, last.assumed, last.modified, last.explicit, last.fans_override)
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

    def wrap_init(self, original, name: str):
        entry = catalogue.initializer(name)
        recorder = self

        @functools.wraps(original)
        def recorded_init(*args, **kwargs):
            if not recorder.active or recorder.depth:
                return original(*args, **kwargs)
            recorder.depth += 1
            try:
                result = original(*args, **kwargs)
            finally:
                recorder.depth -= 1
            tensor = args[0] if args else kwargs.get("tensor")
            bound = entry.bind(args, kwargs) if entry is not None else {}
            if tensor is not None:
                caller = sys._getframe(1).f_code.co_filename
                explicit = not caller.startswith(recorder.torch_root)
                recorder._declare(tensor, Declaration(name, plain_args(bound), user_stack(1), explicit=explicit))
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
                result = original(tensor, *args, **kwargs)
            finally:
                recorder.depth -= 1
            bound = entry.bind(args, kwargs) if entry is not None else {}
            recorder._declare(tensor, Declaration(name, plain_args(bound), user_stack(1)))
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
                nbytes = requested_bytes(recorder.torch, function, args, kwargs)
                if nbytes:
                    budget.claim(nbytes, f"{name}() of shape {_shape_text(args, kwargs, function)}")
            recorder.depth += 1
            try:
                result = original(*args, **kwargs)
            finally:
                recorder.depth -= 1
            if entry is None:  # torch.empty: a fresh tensor whose values nobody declared
                decl = Declaration(name, stack=user_stack(1), unknown=True)
            else:
                decl = Declaration(name, plain_args(entry.bind(args, kwargs)), user_stack(1))
            if isinstance(result, recorder.torch.Tensor):
                recorder._declare(result, decl, fresh=True)
            return result

        return recorded_sampler

    def wrap_arithmetic(self, original, kind: str):
        recorder = self

        def recorded_arithmetic(tensor, *args, **kwargs):
            result = original(tensor, *args, **kwargs)
            if recorder.active and not recorder.depth:
                other = args[0] if args else kwargs.get("other", kwargs.get("src"))
                alpha = kwargs.get("alpha", 1)
                value = other * alpha if isinstance(other, (int, float)) and alpha != 1 else other
                recorder._transform(tensor, kind, value)
            return result

        return recorded_arithmetic

    @contextlib.contextmanager
    def patched(self) -> Iterator["TorchRecorder"]:
        torch = self.torch
        init = torch.nn.init
        replacements: Dict[int, Any] = {}
        try:  # `with torch.device(...)` caches its factory functions by identity on first use: the originals
            from torch.utils._device import _device_constructors

            _device_constructors()
        except ImportError:  # pragma: no cover - older torch
            pass
        with Patcher() as patcher:
            for name in INIT_FUNCTIONS:
                original = getattr(init, name, None)
                if original is None:
                    continue
                wrapper = self.wrap_init(original, f"torch.nn.init.{name}")
                replacements[id(original)] = wrapper
                patcher.set(init, name, wrapper)
            timm_init = sys.modules.get("timm.layers.weight_init")
            if timm_init is not None:
                for name in TIMM_FUNCTIONS:
                    original = getattr(timm_init, name, None)
                    if original is not None and id(original) not in replacements:
                        wrapper = self.wrap_init(original, f"timm.layers.{name}")
                        replacements[id(original)] = wrapper
                        patcher.set(timm_init, name, wrapper)
            patch_aliases(patcher, replacements, candidate_modules(ZOO_PREFIXES))
            for method, name in FILL_METHODS.items():
                patcher.set(torch.Tensor, method, self.wrap_fill(getattr(torch.Tensor, method), name))
            for method, kind in ARITHMETIC.items():
                patcher.set(torch.Tensor, method, self.wrap_arithmetic(getattr(torch.Tensor, method), kind))
            for function, name in SAMPLERS.items():
                original = getattr(torch, function)
                patcher.set(torch, function, self.wrap_sampler(original, name))
            self.active = True
            try:
                yield self
            finally:
                self.active = False


class TorchHandle(TensorHandle):
    """A torch tensor, read where it lives: moments and fingerprints are computed on its device and only
    a bounded sample ever reaches the host."""

    def __init__(self, torch, tensor):
        self.torch = torch
        self.tensor = tensor.detach()

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
        low, high = (float(v) for v in torch.aminmax(flat))
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
            index = torch.as_tensor(cols, device=matrix.device)
            matrix = matrix.index_select(0 if transposed else 1, index)
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


def _handle(torch, param) -> TensorHandle:
    """How a parameter is read: a sharded one (a DTensor, under torchrun) as its full logical tensor."""
    from ..sharded import ShardedHandle, is_dtensor

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

    def device_context(self):
        self.ensure()
        if self.device.startswith("cuda"):
            return self.torch.device(self.device)
        return contextlib.nullcontext()

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
        for module_name, module in model.named_modules():
            layer = _layer_entry(module)
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
        info.is_default = _is_default(info.declared, layer, pname)
        if info.declared is not None and info.declared.assumed:
            info.is_default = True
        return info

    def _assumed(self, layer, pname, info) -> Optional[Declaration]:
        if pname == layer.weight and layer.default_weight_init:
            entry = catalogue.initializer(layer.default_weight_init)
            args = entry.bind(("<tensor>",), dict(layer.default_weight_args)) if entry else {}
            return Declaration(layer.default_weight_init, plain_args(args), assumed=True)
        if pname == layer.bias and layer.default_bias_init:
            entry = catalogue.initializer(layer.default_bias_init)
            args = entry.bind(("<tensor>",), dict(layer.default_bias_args)) if entry else {}
            return Declaration(layer.default_bias_init, plain_args(args), assumed=True,
                               fans_override=(info.fan_in, info.fan_out, info.receptive))
        return None

    # --- the forward pass ------------------------------------------------------------------------

    def _first_layer(self, model):
        for module in model.modules():
            if len(list(module.children())) == 0 and any(True for _ in module.parameters(recurse=False)):
                return module
        return None

    def infer_input_shape(self, model) -> Optional[Tuple[int, ...]]:
        torch = self.torch
        config = getattr(model, "config", None)
        if config is not None:  # transformers models say what they take
            size = getattr(config, "image_size", None)
            channels = getattr(config, "num_channels", None)
            if channels and getattr(model, "main_input_name", "") == "pixel_values":
                size = size if isinstance(size, int) else (size[0] if size else 64)
                patch = getattr(config, "patch_size", None)
                if isinstance(patch, int) and self._accepts(model, "interpolate_pos_encoding") and size > 4 * patch:
                    # a vision transformer: 4x4 patches (position embeddings interpolated) keep the pass cheap
                    self.forward_kwargs["interpolate_pos_encoding"] = True
                    size = 4 * patch
                return (1, int(channels), int(size), int(size))
            if getattr(config, "vocab_size", None) and getattr(model, "main_input_name", "") == "input_ids":
                return (2, 16)
        first = self._first_layer(model)
        if isinstance(first, torch.nn.Linear):
            return (2, first.in_features)
        if isinstance(first, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)):
            dims = first.weight.dim() - 2
            return (2, first.in_channels) + (32,) * dims
        if isinstance(first, (torch.nn.Embedding, torch.nn.EmbeddingBag)):
            return (2, 16)
        return None

    @staticmethod
    def _accepts(model, name: str) -> bool:
        import inspect

        try:
            return name in inspect.signature(model.forward).parameters
        except (TypeError, ValueError):
            return False

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
        torch = self.torch
        shape = tuple(input_shape) if input_shape else self.infer_input_shape(model)
        if shape is None:
            return [], ["no forward pass (INI606): the input shape cannot be inferred; pass --input-shape"], None
        first = self._first_layer(model)
        shape = forward_batch(shape, integer=isinstance(first, (torch.nn.Embedding, torch.nn.EmbeddingBag)))
        by_layer: Dict[str, List[TensorInfo]] = {}
        for info in tensors:
            by_layer.setdefault(info.layer_path, []).append(info)
        watched = {}
        for name, module in model.named_modules():
            layer = _layer_entry(module)
            if layer is not None and layer.kind in (LayerKind.DENSE, LayerKind.CONV, LayerKind.CONV_TRANSPOSE,
                                                    LayerKind.EMBEDDING):
                watched[module] = (name, layer.kind)
        signals: Dict[str, LayerSignal] = {}
        order: List[str] = []
        labels: Dict[int, Tuple[Any, str]] = {}  # id(tensor) -> (weakref, layer name)

        def label(tensor, name):
            try:
                labels[id(tensor)] = (weakref.ref(tensor), name)
            except TypeError:  # pragma: no cover
                pass

        def label_of(tensor) -> Optional[str]:
            hit = labels.get(id(tensor))
            if hit is not None and hit[0]() is tensor:
                return hit[1]
            return None

        def hook(module, inputs, output):
            name, kind = watched[module]
            if not isinstance(output, torch.Tensor) or not output.is_floating_point():
                return
            if name not in signals:
                flat = output.detach().reshape(-1)
                if flat.numel() > SIGNAL_VALUES:  # a strided view, no copy: plenty for a std
                    flat = flat[:: flat.numel() // SIGNAL_VALUES]
                std = float(flat.float().std(correction=0)) if flat.numel() > 1 else 0.0
                signals[name] = LayerSignal(name, std, kind=kind.value,
                                            param=next((t.name for t in by_layer.get(name, ()) if t.role == "weight"),
                                                       name))
                order.append(name)
            label(output, name)

        activations: Dict[str, Tuple[Activation, Optional[float]]] = {}

        class Observer(torch.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                result = func(*args, **kwargs)
                name = getattr(func, "__name__", "")
                base = name[:-1] if name.endswith("_") and not name.startswith("_") else name
                source = args[0] if args and isinstance(args[0], torch.Tensor) else None
                origin = label_of(source) if source is not None else None
                if origin is None or not isinstance(result, torch.Tensor):
                    return result
                if base in _ACTIVATIONS:
                    act = _ACTIVATIONS[base]
                    if act is not None and origin not in activations:
                        slope = None
                        if act is Activation.LEAKY_RELU:
                            if base == "leaky_relu":
                                slope = kwargs.get("negative_slope", args[1] if len(args) > 1 else 0.01)
                            elif base == "prelu" and len(args) > 1:
                                slope = float(args[1].detach().float().mean())
                            else:
                                slope = (1 / 8 + 1 / 3) / 2
                        activations[origin] = (act, float(slope) if slope is not None else None)
                        _observe(signals.get(origin), act, result, watched_kind.get(origin))
                elif base in _TRANSPARENT:
                    label(result, origin)
                return result

        watched_kind = {name: kind for name, kind in watched.values()}

        def _observe(signal, act, result, kind):
            if signal is None or result.numel() == 0:
                return
            r = result.detach().float()
            if act is Activation.RELU:
                axis = 1 if kind in (LayerKind.CONV, LayerKind.CONV_TRANSPOSE) and r.dim() >= 3 else r.dim() - 1
                alive = (r > 0).movedim(axis, 0).reshape(r.shape[axis], -1).any(dim=1)
                signal.dead_fraction = float(1.0 - alive.float().mean())
            elif act in (Activation.TANH, Activation.SIGMOID):
                edge = 0.99 if act is Activation.TANH else 0.99
                magnitude = r.abs() if act is Activation.TANH else (2 * r - 1).abs()
                signal.saturated_fraction = float((magnitude > edge).float().mean())
            signal.activation = act.value

        handles = [module.register_forward_hook(hook) for module in watched]
        was_training = model.training
        notes: List[str] = []
        try:
            model.eval()
            with torch.no_grad(), Observer():
                model(self._make_input(model, shape), **self.forward_kwargs)
        except Exception as exc:  # the model's own forward failed: report, never crash
            notes.append(f"no forward pass (INI606): the model raised {type(exc).__name__}: {exc} on a standard-normal "
                         f"input of shape {tuple(shape)}; pass --input-shape")
            order = []
        finally:
            for handle in handles:
                handle.remove()
            model.train(was_training)
        for name, (act, slope) in activations.items():
            for info in by_layer.get(name, ()):
                info.activation, info.slope = act.value, slope
        return [signals[name] for name in order], notes, tuple(shape)
