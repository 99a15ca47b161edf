"""Keras 3 / tf.keras: every layer holds its initialiser objects, so the declaration of each weight is
known even for a model built elsewhere; recording adds where they were made (an initialiser's
construction and ``Layer.add_weight``). The forward pass is observed by wrapping ``Layer.__call__``.

TensorFlow's own initialiser classes (``tf.random_normal_initializer``, ``tf.compat.v1`` init_ops) are
callables Keras accepts; ``TF_CLASSES`` maps them onto the catalogue's names (the catalogue is keyed by
the spellings users write, not by these implementation classes).
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ... import catalogue
from ...catalogue import Activation, Framework, LayerKind, fans
from ...catalogue.names import canonical
from ..recording import Declaration, Patcher, chosen_by_library, constructing_frame, plain_args, user_stack
from ..results import LayerSignal, TensorInfo
from ..stats import ArrayHandle
from .base import Adapter, BlockCandidates, VerifyError, forward_batch

_V2 = "tensorflow.python.ops.init_ops_v2."
_V1 = "tensorflow.python.ops.init_ops."
TF_CLASSES = {
    _V2 + "RandomNormal": "tf.random_normal_initializer",
    _V2 + "RandomUniform": "tf.random_uniform_initializer",
    _V2 + "TruncatedNormal": "tf.initializers.truncated_normal",
    _V2 + "Zeros": "tf.zeros_initializer",
    _V2 + "Ones": "tf.ones_initializer",
    _V2 + "Constant": "tf.constant_initializer",
    _V2 + "VarianceScaling": "keras.initializers.VarianceScaling",
    _V2 + "GlorotUniform": "keras.initializers.GlorotUniform",
    _V2 + "GlorotNormal": "keras.initializers.GlorotNormal",
    _V2 + "Orthogonal": "keras.initializers.Orthogonal",
    _V1 + "RandomNormal": "tf.compat.v1.random_normal_initializer",
    _V1 + "RandomUniform": "tf.compat.v1.random_uniform_initializer",
    _V1 + "TruncatedNormal": "tf.compat.v1.truncated_normal_initializer",
    _V1 + "Zeros": "tf.compat.v1.zeros_initializer",
    _V1 + "Ones": "tf.compat.v1.ones_initializer",
    _V1 + "Constant": "tf.compat.v1.constant_initializer",
    _V1 + "VarianceScaling": "tf.compat.v1.variance_scaling_initializer",
    _V1 + "GlorotUniform": "tf.compat.v1.glorot_uniform_initializer",
    _V1 + "GlorotNormal": "tf.compat.v1.glorot_normal_initializer",
    _V1 + "Orthogonal": "tf.compat.v1.orthogonal_initializer",
    _V1 + "UniformUnitScaling": "tf.compat.v1.uniform_unit_scaling_initializer",
}
# a (hard) sigmoid whose output multiplies another signal (keras.applications' squeeze-excitation: a Conv2D with
# activation="sigmoid" into layers.multiply) is a gate, not a layer of the signal's path
_GATE_FUNCTIONS = {"sigmoid", "hard_sigmoid"}
_ACTIVATION_LAYERS = {"ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Activation"}
_TRANSPARENT_PREFIXES = ("Dropout", "SpatialDropout", "GaussianDropout", "AlphaDropout", "Flatten", "Reshape",
                         "MaxPooling", "AveragePooling", "GlobalAveragePooling", "GlobalMaxPooling", "ZeroPadding",
                         "Cropping", "Permute", "Identity")
_BUFFERS = ("moving_mean", "moving_variance")


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence file descriptor 2 (not sys.stderr's Python buffer) while a framework's native code starts."""
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no descriptor 2 at all
        yield
        return
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def weight_bytes(layer, args, kwargs) -> Optional[int]:
    """The bytes ``layer.add_weight(shape, initializer, dtype, ...)`` (Keras 3's signature) will allocate."""
    shape = kwargs.get("shape", args[0] if args and isinstance(args[0], (tuple, list)) else None)
    if shape is None:
        return None
    try:
        numel = math.prod(int(d) for d in shape)
        dtype = kwargs.get("dtype") or getattr(layer, "variable_dtype", None) or "float32"
        itemsize = np.dtype(str(getattr(dtype, "name", dtype))).itemsize
    except (TypeError, ValueError):  # a symbolic dimension, a dtype numpy does not know (bfloat16): 4 bytes
        try:
            numel, itemsize = math.prod(int(d) for d in shape), 4
        except (TypeError, ValueError):
            return None
    return numel * itemsize


def _class_name(obj) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def initializer_declaration(initializer, stack=()) -> Optional[Declaration]:
    """The catalogue declaration of a Keras/TF initialiser object (a custom one declares nothing)."""
    if initializer is None:
        return None
    qualified = _class_name(initializer)
    name = TF_CLASSES.get(qualified) or canonical(qualified)
    entry = catalogue.initializer(name)
    if entry is None or entry.framework is not Framework.KERAS:
        label = getattr(type(initializer), "__name__", "initializer")
        if label == "function":
            label = getattr(initializer, "__name__", "function")
        return Declaration(f"custom {label}", stack=stack, unknown=True, explicit=True)
    try:
        config = dict(initializer.get_config())
    except Exception:  # pragma: no cover - every initialiser in the table has a config
        config = {}
    known = {key for key, _ in entry.params}
    args = entry.bind((), {k: v for k, v in config.items() if k in known})
    for key in ("input_axes", "output_axes"):  # None is the default; the law reads it as moved otherwise
        if args.get(key) is None:
            args.pop(key, None)
    return Declaration(entry.name, plain_args(args), stack=stack)


def uses_batch_statistics(layer) -> bool:
    """A batch normalisation layer (Keras' own, or a library's subclass or look-alike): it normalises by the
    batch in training and by its moving averages in inference."""
    return any(cls.__name__ in ("BatchNormalization", "SyncBatchNormalization") for cls in type(layer).__mro__)


def activation_of(function) -> Tuple[Optional[Activation], Optional[float]]:
    """(activation, slope) of a Keras activation function, None for linear or unknown."""
    name = getattr(function, "__name__", None)
    if not isinstance(name, str):
        return None, None
    hit = catalogue.activation_from_string(Framework.KERAS, name)
    if hit is None or hit[0] is Activation.LINEAR:
        return None, None
    return hit


class KerasAdapter(Adapter):
    """Keras 3 / tf.keras models and layers."""
    framework = "keras"
    layout = "keras"
    packages = ("keras", "tensorflow", "tf_keras")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.keras = None
        self.weights: Dict[int, Tuple[Any, Any, Any, tuple]] = {}  # id(variable) -> (variable, layer, init, stack)
        # id(layer) -> (layer, keyword arguments given, whether a library's code constructed it)
        self.constructed: Dict[int, Tuple[Any, frozenset, bool]] = {}
        self._names = None  # this run's Keras name counter (see _fresh_names)

    def ensure(self) -> None:
        if self.keras is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            try:
                with quiet_native_stderr():  # TensorFlow's C++ start-up banner ignores TF_CPP_MIN_LOG_LEVEL
                    import keras
            except ImportError as exc:  # pragma: no cover
                raise VerifyError(f"Keras is not installed ({exc}); `pip install 'initlint[tensorflow]'`")
            self.keras = keras

    def check_device(self) -> None:
        self.ensure()
        if self.device.startswith("cuda"):
            devices = []
            if "tensorflow" in sys.modules or self.keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                devices = tf.config.list_physical_devices("GPU")
            if not devices:
                raise VerifyError("--device cuda: TensorFlow sees no GPU here (tf.config.list_physical_devices('GPU') "
                                  "is empty); use --device cpu")

    def device_context(self):
        if self.device.startswith("cuda"):
            import tensorflow as tf

            return tf.device("/GPU:0")
        return contextlib.nullcontext()

    def seed_everything(self) -> None:
        self.ensure()
        self.keras.utils.set_random_seed(self.seed)

    def _initializer_bases(self) -> List[type]:
        from keras.src.initializers.initializer import Initializer

        bases = [Initializer]
        if "tensorflow" in sys.modules:
            try:
                from tensorflow.python.ops import init_ops, init_ops_v2

                bases += [init_ops_v2.Initializer, init_ops.Initializer]
            except ImportError:  # pragma: no cover
                pass
        return bases

    @contextlib.contextmanager
    def recorder(self):
        self.ensure()
        from keras.src.layers.layer import Layer

        recording = self.recording
        state = {"active": True}

        def recorded_new(cls, *args, **kwargs):
            obj = object.__new__(cls)
            if state["active"]:
                recording.remember_site(obj, user_stack(1))
            return obj

        original_add_weight = Layer.add_weight
        weights = self.weights
        keras = self.keras

        def recorded_add_weight(layer, *args, **kwargs):
            if state["active"] and recording.budget is not None:  # before the variable exists
                nbytes = weight_bytes(layer, args, kwargs)
                if nbytes:
                    weight = f" {kwargs['name']!r}" if isinstance(kwargs.get("name"), str) else ""
                    recording.budget.claim(nbytes, f"the weight{weight} of layer {getattr(layer, 'name', '?')!r}")
            variable = original_add_weight(layer, *args, **kwargs)
            if state["active"]:
                initializer = kwargs.get("initializer")
                try:
                    initializer = keras.initializers.get(initializer) if initializer is not None else None
                except Exception:  # pragma: no cover
                    initializer = None
                weights[id(variable)] = (variable, layer, initializer, user_stack(1))
            return variable

        original_layer_new = Layer.__new__
        constructed = self.constructed

        def recorded_layer_new(cls, *args, **kwargs):
            layer = original_layer_new(cls, *args, **kwargs)
            if state["active"]:
                constructed[id(layer)] = (layer, frozenset(k for k, v in kwargs.items() if v is not None),
                                          chosen_by_library(constructing_frame(1)))
            return layer

        with Patcher() as patcher, self._fresh_names():
            for base in self._initializer_bases():
                patcher.set(base, "__new__", staticmethod(recorded_new))
            patcher.set(Layer, "__new__", staticmethod(recorded_layer_new))
            patcher.set(Layer, "add_weight", recorded_add_weight)
            try:
                yield self
            finally:
                state["active"] = False

    @contextlib.contextmanager
    def _fresh_names(self):
        """Keras names unnamed layers and variables from one counter per process ("variable", then
        "variable_18" when a model is built a second time): while this run records, the counter is its
        own, from zero, so a model's tensors have the same names in the command, in ``initlint.verify``
        and in every run; the process's counter is put back afterwards."""
        try:
            from keras.src.backend.common import global_state
        except ImportError:  # pragma: no cover - another Keras layout: names as Keras gives them
            yield
            return
        if self._names is None:
            self._names = collections.defaultdict(int)
        saved = global_state.get_global_attribute("object_name_uids")
        global_state.set_global_attribute("object_name_uids", self._names)
        try:
            yield
        finally:
            global_state.set_global_attribute("object_name_uids", saved)

    def is_model(self, obj: Any) -> bool:
        self.ensure()
        return isinstance(obj, self.keras.layers.Layer)

    def declares_in_prepare(self, obj: Any) -> bool:
        return isinstance(obj, self.keras.layers.Layer) and (not obj.weights or not getattr(obj, "built", True))

    def prepare(self, obj: Any, input_shape: Optional[Sequence[int]]) -> Any:
        keras = self.keras
        if not isinstance(obj, keras.layers.Layer):
            raise VerifyError(f"expected a Keras model or layer, got {type(obj).__name__}")
        if not obj.weights or not getattr(obj, "built", True):
            if not input_shape:
                raise VerifyError("the Keras model has no weights yet (it is built on its first input): pass "
                                  "--input-shape (e.g. --input-shape 2,4), or give it a keras.Input")
            obj(self._make_input(obj, tuple(input_shape)))
        return obj

    def describe(self, model: Any) -> str:
        return f"{type(model).__name__} {getattr(model, 'name', '')}".strip()

    def _layers(self, model) -> List[Any]:
        return list(model._flatten_layers(include_self=True, recursive=True))

    def tensors(self, model: Any) -> List[TensorInfo]:
        out: List[TensorInfo] = []
        seen = set()
        for layer in self._layers(model):
            own = list(getattr(layer, "_trainable_variables", []))
            own += list(getattr(layer, "_non_trainable_variables", []))
            for variable in own:
                if id(variable) in seen:
                    continue
                seen.add(id(variable))
                info = self._info(layer, variable)
                if info is not None:
                    out.append(info)
        return out

    def _info(self, layer, variable) -> Optional[TensorInfo]:
        dtype = str(getattr(variable, "dtype", ""))
        if "float" not in dtype:
            return None
        short = variable.path.rsplit("/", 1)[-1] if getattr(variable, "path", None) else variable.name
        if short in _BUFFERS:
            return None
        entry = catalogue.layer(canonical(_class_name(layer)))
        if entry is None or entry.framework is not Framework.KERAS:
            entry = next((catalogue.layer(canonical(f"{c.__module__}.{c.__qualname__}")) for c in type(layer).__mro__
                          if catalogue.layer(canonical(f"{c.__module__}.{c.__qualname__}")) is not None), None)
        shape = tuple(int(d) for d in variable.shape)
        info = TensorInfo(getattr(variable, "path", variable.name), shape, dtype,
                          ArrayHandle(lambda v=variable: np.asarray(v)),
                          layer=entry.name if entry else type(layer).__name__,
                          layer_kind=entry.kind.value if entry else None, layer_path=getattr(layer, "path", layer.name))
        kind = entry.kind if entry else None
        info.fan_in, info.fan_out, info.receptive = fans(shape, "keras")
        if len(shape) >= 2:
            info.role = "weight"
            info.unit_axis = len(shape) - 2 if kind is LayerKind.CONV_TRANSPOSE else len(shape) - 1
            name = type(layer).__name__
            if kind in (LayerKind.DENSE, LayerKind.CONV) and short in ("kernel", "pointwise_kernel"):
                if kind is LayerKind.CONV or len(shape) == 2:
                    info.semantic_fan_in = info.fan_in
            elif short == "depthwise_kernel" or (short == "kernel" and name.startswith("Depthwise")):
                info.semantic_fan_in = info.receptive
        else:
            info.role = "scale" if kind is LayerKind.NORM and short in ("gamma", "scale") else "bias"
        recorded = self.weights.get(id(variable))
        if recorded is not None and recorded[0] is variable:
            _, _, initializer, stack = recorded
            decl = initializer_declaration(initializer, self.recording.site_of(initializer) + stack)
        else:
            initializer = self._attribute_initializer(layer, short)
            decl = initializer_declaration(initializer, self.recording.site_of(initializer))
        given = self.constructed.get(id(layer))
        if decl is not None and given is not None and given[0] is layer and entry is not None:
            decl.explicit = bool(entry.weight_init_kwarg) and entry.weight_init_kwarg in given[1]
            decl.library = decl.explicit and given[2]  # keras.applications' own choice of initialiser
        info.declared = decl
        info.history = (decl,) if decl else ()
        info.is_default = self._is_default(decl, entry, short)
        if info.role == "weight":
            act, slope = activation_of(getattr(layer, "activation", None))
            if act is not None:
                info.activation, info.slope = act.value, slope
        return info

    @staticmethod
    def _attribute_initializer(layer, short):
        for attribute in (f"{short}_initializer", f"{short.replace('_kernel', '')}_initializer",
                          "kernel_initializer" if short == "kernel" else "", "embeddings_initializer"
                          if short == "embeddings" else ""):
            if attribute and getattr(layer, attribute, None) is not None:
                return getattr(layer, attribute)
        return None

    @staticmethod
    def _is_default(decl, entry, short) -> bool:
        if decl is None or entry is None or decl.unknown or short != entry.weight or decl.explicit:
            return False
        default = catalogue.initializer(entry.default_weight_init) if entry.default_weight_init else None
        if default is None or decl.name != default.name:
            return False
        return all(decl.args.get(k, v) == v for k, v in default.defaults().items() if k != "seed")

    # --- forward ---------------------------------------------------------------------------------

    def _input_spec(self, model) -> Tuple[Optional[Tuple[int, ...]], Optional[str]]:
        try:  # a subclassed model may have no symbolic inputs at all
            inputs = getattr(model, "inputs", None)
        except Exception:
            inputs = None
        if not inputs:
            return None, None
        first = inputs[0]
        shape = tuple(2 if i == 0 and d is None else (32 if d is None else int(d)) for i, d in enumerate(first.shape))
        return shape, str(getattr(first, "dtype", "float32"))

    def _make_input(self, model, shape, dtype: Optional[str] = None):
        rng = np.random.default_rng(self.seed)
        if dtype and "int" in dtype:
            embedding = next((layer for layer in self._layers(model) if type(layer).__name__ == "Embedding"), None)
            high = int(getattr(embedding, "input_dim", 100)) if embedding is not None else 100
            return rng.integers(0, high, size=shape).astype(dtype)
        return rng.standard_normal(shape).astype("float32")

    def forward(self, model, input_shape, tensors):
        from keras.src.layers.layer import Layer

        self.input_description = None
        shape, dtype = (tuple(input_shape), None) if input_shape else self._input_spec(model)
        if shape is None:
            return [], ["no forward pass (INI606): the input shape cannot be inferred; pass --input-shape"], None
        if dtype is None:
            dtype = self._input_spec(model)[1]
        if self._starts_with_embedding(model):
            dtype = dtype if dtype and "int" in dtype else "int32"
        if not input_shape:  # --input-shape is used exactly as given; an inferred one gets a batch of 32
            shape = forward_batch(shape, integer=bool(dtype and "int" in dtype))
        by_layer: Dict[str, List[TensorInfo]] = {}
        for info in tensors:
            by_layer.setdefault(info.layer_path, []).append(info)
        signals: Dict[str, LayerSignal] = {}
        order: List[str] = []
        labels: Dict[int, Tuple[Any, str]] = {}
        found: Dict[str, Tuple[Activation, Optional[float]]] = {}
        gate_outputs: Dict[int, Tuple[Any, str]] = {}  # id(a sigmoid's output) -> (it, the layer it gates)
        gating: set = set()
        original_call = Layer.__call__

        def is_gate_function(function) -> bool:
            return getattr(function, "__name__", None) in _GATE_FUNCTIONS

        def label_of(value) -> Optional[str]:
            hit = labels.get(id(value))
            return hit[1] if hit is not None and hit[0] is value else None

        normalising = [layer for layer in self._layers(model) if uses_batch_statistics(layer)]
        # training runs them on batch statistics; their moving averages are put back afterwards
        saved = [(variable, np.array(variable.numpy())) for layer in normalising
                 for variable in getattr(layer, "non_trainable_variables", ())]
        normalising_ids = {id(layer) for layer in normalising}

        def observed_call(layer, *args, **kwargs):
            if id(layer) in normalising_ids:  # the model runs with training=False (dropout off), which a
                kwargs["training"] = True  # functional model passes on to every layer explicitly
            output = original_call(layer, *args, **kwargs)
            try:
                _observe(layer, args[0] if args else next(iter(kwargs.values()), None), output)
            except Exception:  # observation must never break the model's own forward pass
                pass
            return output

        def _observe(layer, value, output):
            path = getattr(layer, "path", layer.name)
            cls = type(layer).__name__
            weights = by_layer.get(path)
            if weights and any(t.role == "weight" and t.layer_kind != "norm" for t in weights):
                array = np.asarray(output, dtype=np.float32)
                if path not in signals:
                    main = next((t for t in weights if t.role == "weight"), weights[0])
                    signal = LayerSignal(path, float(array.std()), kind=main.layer_kind, param=main.name)
                    if main.activation:
                        _effect(signal, Activation(main.activation), array)
                    signals[path] = signal
                    order.append(path)
                labels[id(output)] = (output, path)
                if is_gate_function(getattr(layer, "activation", None)):
                    gate_outputs[id(output)] = (output, path)
                return
            if cls == "Multiply" and isinstance(value, (list, tuple)):
                gated(list(value))
            if not weights and layer is not model and path not in signals:
                block_candidate(layer, path, output)
            origin = label_of(value)
            if origin is None:
                return
            if cls in _ACTIVATION_LAYERS:
                act, slope = self._layer_activation(layer)
                if cls == "Activation" and is_gate_function(getattr(layer, "activation", None)):
                    gate_outputs[id(output)] = (output, origin)
                if act is not None and origin not in found:
                    found[origin] = (act, slope)
                    signal = signals.get(origin)
                    if signal is not None:
                        _effect(signal, act, np.asarray(output, dtype=np.float32))
            elif cls.startswith(_TRANSPARENT_PREFIXES):
                labels[id(output)] = (output, origin)

        def gated(operands):
            """A product of a layer's sigmoid output with a signal other than that layer's own: a gate."""
            for operand in operands:
                hit = gate_outputs.get(id(operand))
                if hit is None or hit[0] is not operand:
                    continue
                if any(other is not operand and label_of(other) != hit[1] for other in operands):
                    gating.add(hit[1])

        blocks = BlockCandidates(tensors)

        def block_candidate(layer, path, output):
            signal = blocks.signal(layer, path, output)
            if signal is not None:
                signals[path] = signal
                order.append(path)

        def _effect(signal, act, array):
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

        notes: List[str] = []
        # an eager call names the operations it makes ("pad", "functional") from the process's counter:
        # the run's own, so the user's next unnamed layer or op gets the name it would have got
        with Patcher() as patcher, self._fresh_names():
            patcher.set(Layer, "__call__", observed_call)
            try:
                model(self._make_input(model, shape, dtype), training=False)
            except TypeError:
                try:
                    model(self._make_input(model, shape, dtype))
                except Exception as exc:
                    notes.append(self._failed(exc, shape))
                    order = []
            except Exception as exc:
                notes.append(self._failed(exc, shape))
                order = []
            finally:
                for variable, value in saved:
                    variable.assign(value)
        order = blocks.repeated(order)
        self.input_description = (f"random token ids of shape {'x'.join(map(str, shape))}" if dtype and "int" in dtype
                                  else f"a standard-normal input of shape {'x'.join(map(str, shape))}")
        for path, (act, slope) in found.items():
            for info in by_layer.get(path, ()):
                if info.role == "weight" and info.activation is None:
                    info.activation, info.slope = act.value, slope
        for path in gating:
            for info in by_layer.get(path, ()):
                info.gate = True
        return [signals[p] for p in order], notes, tuple(shape)

    def _starts_with_embedding(self, model) -> bool:
        first = next((layer for layer in self._layers(model)
                      if layer is not model and getattr(layer, "_trainable_variables", None)), None)
        return first is not None and type(first).__name__ == "Embedding"

    @staticmethod
    def _failed(exc, shape) -> str:
        return (f"no forward pass (INI606): the model raised {type(exc).__name__}: {exc} on a standard-normal input "
                f"of shape {tuple(shape)}; pass --input-shape")

    @staticmethod
    def _layer_activation(layer) -> Tuple[Optional[Activation], Optional[float]]:
        cls = type(layer).__name__
        if cls == "Activation":
            return activation_of(getattr(layer, "activation", None))
        if cls == "ReLU":
            slope = float(getattr(layer, "negative_slope", 0.0) or 0.0)
            return (Activation.LEAKY_RELU, slope) if slope else (Activation.RELU, None)
        if cls == "LeakyReLU":
            return Activation.LEAKY_RELU, float(getattr(layer, "negative_slope", 0.3))
        if cls == "PReLU":
            alpha = getattr(layer, "alpha", None)
            slope = float(np.mean(np.asarray(alpha))) if alpha is not None else 0.0
            return (Activation.LEAKY_RELU, slope) if slope else (Activation.RELU, None)
        if cls == "ELU":
            return Activation.ELU, None
        if cls == "Softmax":
            return Activation.SOFTMAX, None
        return None, None
