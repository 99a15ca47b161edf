"""Flax (linen): ``build_model()`` returns a module (initialised here with the input shape and the seed)
or a ``(module, variables)`` pair. Declarations are recorded by wrapping ``Module.param`` while the
module is initialised; a JAX initialiser is a closure, read through its closure cells
(``variance_scaling.<locals>.init`` holds scale, mode, distribution, axes), and where the user's code
made it by wrapping the factories while their module was imported and the model built.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ... import catalogue
from ...catalogue import Activation, Framework, LayerKind, fans
from ...catalogue.names import canonical
from ..recording import Declaration, Patcher, candidate_modules, patch_aliases, plain_args, user_stack
from ..results import LayerSignal, TensorInfo
from ..stats import ArrayHandle
from .base import Adapter, BlockCandidates, VerifyError, forward_batch

FACTORIES = ("constant", "normal", "truncated_normal", "uniform", "variance_scaling", "glorot_normal",
             "glorot_uniform", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform", "kaiming_normal",
             "kaiming_uniform", "lecun_normal", "lecun_uniform", "orthogonal", "delta_orthogonal", "zeros_init",
             "ones_init")
ACTIVATIONS = {"relu": Activation.RELU, "relu6": Activation.RELU, "leaky_relu": Activation.LEAKY_RELU,
               "tanh": Activation.TANH, "sigmoid": Activation.SIGMOID, "selu": Activation.SELU,
               "gelu": Activation.GELU, "silu": Activation.SILU, "swish": Activation.SILU, "elu": Activation.ELU,
               "celu": Activation.ELU, "softmax": Activation.SOFTMAX, "log_softmax": Activation.SOFTMAX,
               "softplus": Activation.SOFTPLUS}
PRESETS = {(1.0, "fan_avg", "uniform"): "glorot_uniform", (1.0, "fan_avg", "truncated_normal"): "glorot_normal",
           (2.0, "fan_in", "truncated_normal"): "he_normal", (2.0, "fan_in", "uniform"): "he_uniform",
           (1.0, "fan_in", "truncated_normal"): "lecun_normal", (1.0, "fan_in", "uniform"): "lecun_uniform"}
WEIGHT_KINDS = (LayerKind.DENSE, LayerKind.CONV, LayerKind.CONV_TRANSPOSE, LayerKind.EMBEDDING)


def _jax_fans(shape, in_axis=-2, out_axis=-1, batch_axis=()) -> Tuple[Optional[float], Optional[float], int]:
    """jax.nn.initializers' _compute_fans, for any axes."""
    shape = tuple(int(d) for d in shape)
    if len(shape) < 2:
        return None, None, 1

    def norm(axes):
        return tuple(a % len(shape) for a in (axes if isinstance(axes, (tuple, list)) else (axes,)))

    ins, outs, batches = norm(in_axis), norm(out_axis), norm(batch_axis)
    receptive = math.prod(d for i, d in enumerate(shape) if i not in ins + outs + batches)
    return (math.prod(shape[i] for i in ins) * receptive, math.prod(shape[i] for i in outs) * receptive, receptive)


def jax_declaration(init_fn, shape, stack=()) -> Declaration:
    """What a JAX/Flax initialiser function declares, read from its qualified name and closure."""
    from flax.linen import linear

    if init_fn is getattr(linear, "default_embed_init", None):
        return Declaration("flax.linen.linear.default_embed_init", {}, stack, shape=tuple(shape))
    module = getattr(init_fn, "__module__", "") or ""
    qualname = getattr(init_fn, "__qualname__", "") or ""
    if module.startswith("jax") and qualname in ("zeros", "ones"):
        return Declaration(f"jax.nn.initializers.{qualname}", {}, stack, shape=tuple(shape))
    if module.startswith("jax._src.nn.initializers") and ".<locals>." in qualname:
        factory = qualname.split(".<locals>.")[0]
        entry = catalogue.initializer(f"jax.nn.initializers.{factory}")
        if entry is not None:
            cells = [c.cell_contents for c in (init_fn.__closure__ or ())]
            closure = dict(zip(init_fn.__code__.co_freevars, cells))
            known = {k for k, _ in entry.params}
            args = entry.bind((), {k: v for k, v in closure.items() if k in known})
            override = None
            if "in_axis" in closure or "out_axis" in closure:
                override = _jax_fans(shape, closure.get("in_axis", -2), closure.get("out_axis", -1),
                                     closure.get("batch_axis", ()))
                for key in ("in_axis", "out_axis", "batch_axis"):
                    args.pop(key, None)
            display = None
            if factory == "variance_scaling":
                key = (float(closure.get("scale", 0)), closure.get("mode"), closure.get("distribution"))
                display = PRESETS.get(key)
            return Declaration(entry.name, plain_args(args), stack, shape=tuple(shape), fans_override=override,
                               display=display)
    name = getattr(init_fn, "__name__", type(init_fn).__name__)
    return Declaration(f"custom {name}", {}, stack, shape=tuple(shape), unknown=True)


class FlaxAdapter(Adapter):
    """Flax linen modules and (module, variables) pairs."""
    framework = "flax"
    layout = "flax"
    packages = ("flax", "jax", "jaxlib")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.jax = None
        self.nn = None
        self.params: Dict[Tuple[str, ...], Tuple[Any, Declaration]] = {}  # param path -> (module, declaration)
        self.variables = None

    def ensure(self) -> None:
        if self.jax is None:
            if not self.device.startswith("cuda"):
                os.environ.setdefault("JAX_PLATFORMS", "cpu")
            try:
                import jax
                import flax.linen as nn
            except ImportError as exc:  # pragma: no cover
                raise VerifyError(f"JAX/Flax is not installed ({exc}); `pip install 'initlint[jax]'`")
            self.jax, self.nn = jax, nn

    def check_device(self) -> None:
        self.ensure()
        if self.device.startswith("cuda"):
            try:
                self.jax.devices("gpu")
            except RuntimeError:
                raise VerifyError("--device cuda: JAX sees no GPU here (jax.devices('gpu') raised); use --device cpu")

    def device_context(self):
        if self.device.startswith("cuda"):
            return self.jax.default_device(self.jax.devices("gpu")[0])
        return contextlib.nullcontext()

    def seed_everything(self) -> None:
        import random

        random.seed(self.seed)
        np.random.seed(self.seed % 2**32)

    def _wrap_factory(self, original):
        recording = self.recording
        state = self._state

        def recorded_factory(*args, **kwargs):
            result = original(*args, **kwargs)
            if state["active"]:
                recording.remember_site(result, user_stack(1))
            return result

        recorded_factory.__wrapped__ = original
        recorded_factory.__name__ = getattr(original, "__name__", "factory")
        return recorded_factory

    @contextlib.contextmanager
    def recorder(self):
        self.ensure()
        import sys

        nn = self.nn
        self._state = state = {"active": True}
        recording = self.recording
        original_param = nn.Module.param

        def recorded_param(module, name, init_fn, *init_args, **init_kwargs):
            if state["active"]:
                try:
                    self._record_param(module, name, init_fn, init_args, recording)
                except Exception:  # a declaration we cannot read is just unknown
                    pass
            return original_param(module, name, init_fn, *init_args, **init_kwargs)

        replacements = {}
        with Patcher() as patcher:
            for module_name in ("jax.nn.initializers", "flax.linen.initializers"):
                module = sys.modules.get(module_name)
                for factory in FACTORIES:
                    original = getattr(module, factory, None) if module is not None else None
                    if original is None:
                        continue
                    wrapper = replacements.get(id(original)) or self._wrap_factory(original)
                    replacements[id(original)] = wrapper
                    patcher.set(module, factory, wrapper)
            patch_aliases(patcher, replacements, ["flax.linen"] + candidate_modules(()))
            patcher.set(nn.Module, "param", recorded_param)
            try:
                yield self
            finally:
                state["active"] = False

    def _record_param(self, module, name, init_fn, init_args, recording) -> None:
        path = tuple(module.scope.path) + (name,) if module.scope is not None else (name,)
        shape = init_args[0] if init_args and isinstance(init_args[0], (tuple, list)) else None
        target = init_fn
        qualname = getattr(init_fn, "__qualname__", "") or ""
        if "kernel_init_wrap" in qualname and hasattr(module, "kernel_init") and shape is not None:
            # DenseGeneral draws a flat [prod(in), prod(out)] matrix and reshapes it
            target = module.kernel_init
            features = module.features if isinstance(module.features, (tuple, list)) else (module.features,)
            out_size = math.prod(int(f) for f in features)
            shape = (int(math.prod(shape)) // out_size, out_size)
        stack = recording.site_of(target) + user_stack(2)
        decl = jax_declaration(target, tuple(int(d) for d in shape) if shape is not None else (), stack)
        field = getattr(type(module), "__dataclass_fields__", {}).get(f"{name}_init")
        if field is not None:  # kernel_init left at the module's own default, or given
            decl.explicit = getattr(module, f"{name}_init", None) is not field.default
        self.params[("params",) + path] = (module, decl)

    def is_model(self, obj: Any) -> bool:
        self.ensure()
        if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], self.nn.Module):
            return True
        return isinstance(obj, self.nn.Module)

    def prepare(self, obj: Any, input_shape: Optional[Sequence[int]]) -> Any:
        jax, nn = self.jax, self.nn
        if isinstance(obj, tuple):
            module, variables = obj
            input_shape = input_shape or self.infer_input_shape(variables)
            if input_shape and not self.params:
                x = self._make_input(tuple(input_shape))
                # trace only (under the runner's recording): declarations and shapes, no values computed
                jax.eval_shape(lambda: module.init(jax.random.PRNGKey(self.seed), x, **self.call_kwargs(module)))
        elif isinstance(obj, nn.Module):
            if not input_shape:
                raise VerifyError("a Flax module has no parameters until it is initialised on an input: pass "
                                  "--input-shape (e.g. --input-shape 2,4), or return (module, variables)")
            module = obj
            x = self._init_input(module, tuple(input_shape))
            if self.recording.budget is not None:  # the size of every variable first, for no memory at all
                shapes = jax.eval_shape(lambda: module.init(jax.random.PRNGKey(self.seed), x,
                                                            **self.call_kwargs(module)))
                leaves = jax.tree_util.tree_leaves(shapes)
                nbytes = sum(int(math.prod(leaf.shape)) * leaf.dtype.itemsize for leaf in leaves)
                self.recording.budget.claim(nbytes, f"initialising its {type(module).__name__} (the variables of "
                                                    f"jax.eval_shape of module.init)")
            variables = module.init(jax.random.PRNGKey(self.seed), x, **self.call_kwargs(module))
        else:
            raise VerifyError(f"expected a Flax module or (module, variables), got {type(obj).__name__}")
        if not isinstance(variables, dict) and not hasattr(variables, "keys"):
            raise VerifyError("the second item of (module, variables) is not a variables dict")
        self.variables = variables
        return module, variables

    def infer_input_shape(self, variables) -> Optional[Tuple[int, ...]]:
        """From the first kernel of a (module, variables) pair: [in, out] → (2, in); a conv kernel
        [k..., in, out] → (2, 32..., in). None when the first parameter says nothing."""
        params = variables.get("params", {}) if hasattr(variables, "get") else {}
        for path, leaf in _flatten(params):
            if path and path[-1] == "kernel" and len(getattr(leaf, "shape", ())) >= 2:
                shape = tuple(int(d) for d in leaf.shape)
                if len(shape) == 2:
                    return (2, shape[0])
                return (2,) + (32,) * (len(shape) - 2) + (shape[-2],)
            return None
        return None

    def describe(self, model: Any) -> str:
        return type(model[0]).__name__

    def device_name(self, model: Any) -> str:
        leaves = self.jax.tree_util.tree_leaves(model[1])
        if leaves and hasattr(leaves[0], "devices"):
            device = next(iter(leaves[0].devices()))
            return "cpu" if device.platform == "cpu" else f"cuda:{device.id}"
        return self.device

    def _make_input(self, shape, variables=None):
        vocab = embedding_rows(variables) if variables is not None else None
        if vocab:  # an embedding-first model takes token ids
            self.input_description = f"random token ids below {vocab} of shape {'x'.join(map(str, shape))}"
            return self.jax.random.randint(self.jax.random.PRNGKey(self.seed + 1), shape, 0, vocab)
        self.input_description = f"a standard-normal input of shape {'x'.join(map(str, shape))}"
        return self.jax.random.normal(self.jax.random.PRNGKey(self.seed + 1), shape)

    def _init_input(self, module, shape):
        """The input ``module.init`` traces with: standard normal, or token ids (0 and 1, valid for any
        vocabulary) when the module rejects floats (an ``nn.Embed`` first)."""
        x = self._make_input(shape)
        try:
            self.jax.eval_shape(lambda: module.init(self.jax.random.PRNGKey(self.seed), x, **self.call_kwargs(module)))
        except Exception as exc:  # the real init below reports any other failure with the user's traceback
            if "integer" in str(exc).lower():
                return self.jax.random.randint(self.jax.random.PRNGKey(self.seed + 1), shape, 0, 2)
        return x

    @staticmethod
    def call_kwargs(module) -> Dict[str, bool]:
        """The mode arguments a module's ``__call__`` takes, set as at evaluation (dropout off); batch norm is
        switched to batch statistics by the interceptor whatever they say."""
        import inspect

        try:
            names = inspect.signature(type(module).__call__).parameters
        except (TypeError, ValueError):
            return {}
        modes = {"train": False, "training": False, "is_training": False, "deterministic": True}
        return {name: value for name, value in modes.items() if name in names}

    def tensors(self, model: Any) -> List[TensorInfo]:
        _, variables = model
        params = variables.get("params", {}) if hasattr(variables, "get") else {}
        out: List[TensorInfo] = []
        for path, leaf in _flatten(params, ("params",)):
            dtype = str(getattr(leaf, "dtype", ""))
            if "float" not in dtype:
                continue
            out.append(self._info(path, leaf, dtype))
        return out

    def _info(self, path, leaf, dtype) -> TensorInfo:
        shape = tuple(int(d) for d in leaf.shape)
        module, decl = self.params.get(path, (None, None))
        entry = None
        if module is not None:
            for cls in type(module).__mro__:
                entry = catalogue.layer(canonical(f"{cls.__module__}.{cls.__qualname__}"))
                if entry is not None and entry.framework is Framework.JAX:
                    break
                entry = None
        kind = entry.kind if entry else None
        name = "/".join(path[1:])
        info = TensorInfo(name, shape, dtype, ArrayHandle(lambda v=leaf: np.asarray(v)),
                          layer=entry.name if entry else (type(module).__name__ if module is not None else ""),
                          layer_kind=kind.value if kind else None, layer_path="/".join(path[1:-1]))
        info.fan_in, info.fan_out, info.receptive = fans(shape, "flax")
        if decl is not None and decl.fans_override is not None and len(shape) >= 2:
            info.fan_in, info.fan_out, info.receptive = decl.fans_override
        elif decl is not None and decl.shape and decl.shape != shape:
            info.fan_in, info.fan_out, info.receptive = fans(decl.shape, "flax")
        short = path[-1]
        if len(shape) >= 2:
            info.role = "weight"
            info.unit_axis = len(shape) - 1
            if entry is not None and short == entry.weight and kind in (LayerKind.DENSE, LayerKind.CONV):
                info.semantic_fan_in = info.fan_in
        else:
            info.role = "scale" if kind is LayerKind.NORM and short == "scale" else "bias"
        info.declared = decl
        info.history = (decl,) if decl is not None else ()
        if decl is not None and entry is not None and short == entry.weight and entry.default_weight_init:
            default = jax_default_declaration(entry, decl)
            info.is_default = default
        return info

    # --- forward ---------------------------------------------------------------------------------

    def forward(self, model, input_shape, tensors):
        nn = self.nn
        module, variables = model
        self.input_description = None
        given = bool(input_shape)
        input_shape = input_shape or self.infer_input_shape(variables)
        if not input_shape:
            return [], ["no forward pass (INI606): pass --input-shape to run one on a Flax model"], None
        shape = tuple(input_shape) if given else forward_batch(input_shape)  # --input-shape exactly as given
        by_layer: Dict[str, List[TensorInfo]] = {}
        for info in tensors:
            by_layer.setdefault(info.layer_path, []).append(info)
        signals: Dict[str, LayerSignal] = {}
        order: List[str] = []
        labels: Dict[int, Tuple[Any, str]] = {}
        found: Dict[str, Tuple[Activation, Optional[float]]] = {}
        structural: Dict[str, Activation] = {}

        def effect(signal, act, array):
            signal.activation = act.value
            if act is Activation.RELU and array.ndim >= 2:
                positive = array.reshape(-1, array.shape[-1]) > 0
                signal.dead_fraction = float(1.0 - positive.any(axis=0).mean())
                signal.live_fraction = float(positive.all(axis=0).mean())
                signal.units = int(positive.shape[1])
            elif act is Activation.TANH:
                signal.saturated_fraction = float((np.abs(array) > 0.99).mean())
            elif act is Activation.SIGMOID:
                signal.saturated_fraction = float((np.abs(2 * array - 1) > 0.99).mean())

        def interceptor(next_fun, args, kwargs, context):
            if context.method_name == "__call__" and isinstance(context.module, nn.Dropout):
                return args[0] if args else kwargs.get("inputs")  # dropout off, as at evaluation
            if context.method_name == "__call__" and isinstance(context.module, nn.BatchNorm):
                output = batch_statistics(context.module, next_fun, args, kwargs)
            else:
                output = next_fun(*args, **kwargs)
            if context.method_name != "__call__":
                return output
            try:
                target = context.module
                path = "/".join(target.scope.path) if target.scope is not None else ""
                if isinstance(target, nn.Sequential):
                    self._sequential_activations(target, path, structural)
                weights = by_layer.get(path)
                if not weights and path and path not in signals:
                    block_candidate(target, path, output)
                if weights and any(t.role == "weight" for t in weights) and hasattr(output, "shape"):
                    if path not in signals:
                        main = next(t for t in weights if t.role == "weight")
                        # a known weight layer, or a module of the user's own that owns a weight
                        if main.layer_kind in {k.value for k in WEIGHT_KINDS} or main.layer_kind is None:
                            array = np.asarray(output, dtype=np.float32)
                            signals[path] = LayerSignal(path, float(array.std()), kind=main.layer_kind,
                                                        param=main.name)
                            order.append(path)
                            act = structural.get(path)
                            if act is not None:
                                effect(signals[path], act, np.maximum(array, 0) if act is Activation.RELU else array)
                    labels[id(output)] = (output, path)
            except Exception:  # pragma: no cover - observation never breaks the forward pass
                pass
            return output

        blocks = BlockCandidates(tensors)

        def block_candidate(target, path, output):
            signal = blocks.signal(target, path, output)
            if signal is not None:
                signals[path] = signal
                order.append(path)

        def wrap_activation(original, act):
            def observed(x, *args, **kwargs):
                result = original(x, *args, **kwargs)
                hit = labels.get(id(x))
                if hit is not None and hit[0] is x and hit[1] not in found:
                    slope = None
                    if act is Activation.LEAKY_RELU:
                        slope = float(kwargs.get("negative_slope", args[0] if args else 0.01))
                    found[hit[1]] = (act, slope)
                    if hit[1] in signals:
                        effect(signals[hit[1]], act, np.asarray(result, dtype=np.float32))
                return result

            return observed

        notes: List[str] = []
        replacements = {}
        import sys

        with Patcher() as patcher:
            for module_name in ("jax.nn", "flax.linen", "flax.linen.activation"):
                namespace = sys.modules.get(module_name)
                for fn_name, act in ACTIVATIONS.items():
                    original = getattr(namespace, fn_name, None) if namespace is not None else None
                    if original is None:
                        continue
                    wrapper = replacements.get(id(original)) or wrap_activation(original, act)
                    replacements[id(original)] = wrapper
                    patcher.set(namespace, fn_name, wrapper)
            patch_aliases(patcher, replacements, candidate_modules(()))
            try:
                with nn.intercept_methods(interceptor):  # mutable: the batch statistics go to a copy
                    module.apply(variables, self._make_input(shape, variables), mutable=True,
                                 **self.call_kwargs(module))
            except Exception as exc:
                notes.append(f"no forward pass (INI606): the model raised {type(exc).__name__}: {exc} on a "
                             f"standard-normal input of shape {shape}")
                order = []
        order = blocks.repeated(order)
        for path, act in structural.items():
            found.setdefault(path, (act, None))
        for path, (act, slope) in found.items():
            for info in by_layer.get(path, ()):
                if info.role == "weight":
                    info.activation, info.slope = act.value, slope
        return [signals[p] for p in order], notes, shape

    def _sequential_activations(self, sequential, path, structural) -> None:
        layers = list(sequential.layers)
        for index, layer in enumerate(layers[:-1]):
            following = layers[index + 1]
            if isinstance(layer, self.nn.Module) and not isinstance(following, self.nn.Module):
                act = ACTIVATIONS.get(getattr(following, "__name__", ""))
                if act is not None:
                    name = layer.name or f"layers_{index}"
                    structural["/".join(p for p in (path, name) if p)] = act


def embedding_rows(variables) -> Optional[int]:
    """The vocabulary size when the model's first parameter is an ``nn.Embed`` table (its input is token ids)."""
    params = variables.get("params", {}) if hasattr(variables, "get") else {}
    for path, leaf in _flatten(params):
        if path and path[-1] == "embedding" and len(getattr(leaf, "shape", ())) == 2:
            return int(leaf.shape[0])
        return None
    return None


def batch_statistics(module, next_fun, args, kwargs):
    """Call a BatchNorm as training calls it: normalised by the batch (``use_running_average=False``). The
    flag may be the module's attribute or the call's argument, never both (flax's merge_param)."""
    kwargs = dict(kwargs)
    if module.use_running_average is None:
        kwargs["use_running_average"] = False
        return next_fun(*args, **kwargs)
    kwargs.pop("use_running_average", None)
    saved = module.use_running_average
    object.__setattr__(module, "use_running_average", False)  # a frozen dataclass: restored right after
    try:
        return next_fun(*args, **kwargs)
    finally:
        object.__setattr__(module, "use_running_average", saved)


def jax_default_declaration(entry, decl) -> bool:
    """True when ``decl`` is the same law as the layer type's default initialiser."""
    if decl.unknown or decl.explicit:
        return False
    default = catalogue.initializer(entry.default_weight_init)
    declared = catalogue.initializer(decl.name)
    if default is None or declared is None:
        return False
    if declared.name == default.name:
        return True
    scheme = declared.effective_scheme(decl.args)
    return scheme is not None and scheme == default.scheme and declared.family_for(decl.args) == default.family


def _flatten(tree, prefix=()):
    if hasattr(tree, "items"):
        for key, value in tree.items():
            yield from _flatten(value, prefix + (str(key),))
    else:
        yield prefix, tree
