"""The catalogue's vocabulary: what an initialiser, a layer and an activation are, as data.

Every fact here is shared by the static rules and the runtime verifier. A *law* says how an
initialiser's mean and realised standard deviation follow from its (resolved) arguments and the
tensor's fans; a *truncation* says where samples are cut and whether the std argument is taken
before or after the cut. Laws evaluate to ``None`` whenever an argument they need is unknown, so
callers never have to guess.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple, Union


class Framework(str, enum.Enum):
    TORCH = "torch"
    KERAS = "keras"  # tf.keras, Keras 3, tf.compat.v1 initialisers and tf.random samplers
    JAX = "jax"  # jax.nn.initializers, flax.linen, jax.random samplers
    MXNET = "mxnet"


class Style(str, enum.Enum):
    """How user code invokes an initialiser."""

    INPLACE = "inplace"  # fills its first argument: torch.nn.init.normal_(w, std=.02)
    FACTORY = "factory"  # returns an initialiser for a layer: keras.initializers.HeNormal()
    FUNCTION = "function"  # *is* an initialiser, passed uncalled: jax.nn.initializers.zeros
    SAMPLER = "sampler"  # returns a tensor of a given shape: torch.randn(3, 4), jax.random.normal(k, s)


class Family(str, enum.Enum):
    NORMAL = "normal"
    TRUNCATED_NORMAL = "truncated_normal"
    UNIFORM = "uniform"
    CONSTANT = "constant"
    ORTHOGONAL = "orthogonal"
    IDENTITY = "identity"  # eye_, dirac_, keras Identity
    SPARSE = "sparse"
    OTHER = "other"


class Scheme(str, enum.Enum):
    """The derivation a fan-based initialiser follows; rules about activations ask for this."""

    GLOROT = "glorot"  # Xavier: variance 2/(fan_in+fan_out) * gain**2
    HE = "he"  # Kaiming: variance 2/fan_in (or gain**2/fan)
    LECUN = "lecun"  # variance 1/fan_in
    VARIANCE_SCALING = "variance_scaling"  # generic, scheme decided by its arguments
    ORTHOGONAL = "orthogonal"


class Activation(str, enum.Enum):
    RELU = "relu"  # ReLU, ReLU6 (He et al.'s derivation)
    LEAKY_RELU = "leaky_relu"  # LeakyReLU, PReLU, RReLU: slope matters
    TANH = "tanh"
    SIGMOID = "sigmoid"
    SELU = "selu"
    GELU = "gelu"
    SILU = "silu"
    ELU = "elu"
    SOFTMAX = "softmax"
    SOFTPLUS = "softplus"  # softplus / MXNet softrelu: smooth, not in the ReLU family
    SOFTSIGN = "softsign"
    LINEAR = "linear"  # identity / no activation


RELU_FAMILY = frozenset({Activation.RELU, Activation.LEAKY_RELU})


class LayerKind(str, enum.Enum):
    DENSE = "dense"
    CONV = "conv"
    CONV_TRANSPOSE = "conv_transpose"
    EMBEDDING = "embedding"
    NORM = "norm"  # batch/layer/group/instance norm: weight is a scale, ones by design
    RNN = "rnn"
    ATTENTION = "attention"


@dataclass(frozen=True)
class P:
    """A reference to an argument of the initialiser call, by its parameter name."""

    name: str


Term = Union[P, float, None]


class _Sentinel:
    def __init__(self, label: str):
        self.label = label

    def __repr__(self) -> str:
        return self.label


REQUIRED = _Sentinel("REQUIRED")  # signature default for a parameter with no default
# A default that differs between framework versions the same spelling reaches (TF1 vs TF2
# ``tf.random_normal_initializer()``: stddev 1.0 vs 0.05). It binds like a value nobody can
# resolve, so every law that needs it answers None.
VERSION_DEPENDENT = _Sentinel("VERSION_DEPENDENT")


def _value(term: Term, args: Mapping[str, Any]) -> Optional[float]:
    if isinstance(term, P):
        value = args.get(term.name)
    else:
        value = term
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _fan(mode: Optional[str], fan_in: Optional[float], fan_out: Optional[float]) -> Optional[float]:
    if mode in ("fan_in", "in"):
        return fan_in
    if mode in ("fan_out", "out"):
        return fan_out
    if fan_in is None or fan_out is None:
        return None
    if mode in ("fan_avg", "avg"):
        return (fan_in + fan_out) / 2.0
    if mode == "fan_geo_avg":  # JAX only
        return math.sqrt(fan_in * fan_out)
    return None


def _arg(term, args: Mapping[str, Any]):
    """A string-or-literal argument (mode, distribution): the literal, or the bound value."""
    return args.get(term.name) if isinstance(term, P) else term


def fans(shape, layout: str) -> Tuple[Optional[int], Optional[int], int]:
    """(fan_in, fan_out, receptive_field) of a weight ``shape`` as the framework computes them.

    ``layout``: ``"torch"`` and ``"mxnet"`` store [out, in, k...]; ``"keras"``, ``"flax"`` and
    ``"jax"`` store [k..., in, out]. For fewer than 2 dims torch/MXNet have no fans (their fan-based
    inits raise), Keras uses (n, n), JAX raises with its default axes: (None, None, 1) there.
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) >= 2:
        if layout in ("torch", "mxnet"):
            receptive = math.prod(shape[2:])
            return shape[1] * receptive, shape[0] * receptive, receptive
        receptive = math.prod(shape[:-2])
        return shape[-2] * receptive, shape[-1] * receptive, receptive
    if layout == "keras":
        n = shape[0] if shape else 1
        return n, n, 1
    return None, None, 1


def calculate_gain(nonlinearity: Optional[str], param: Optional[float] = None) -> Optional[float]:
    """torch.nn.init.calculate_gain, without importing torch (values from its source)."""
    linear = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid"}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    return None


def activation_gain(activation: Optional[Activation], slope: Optional[float] = None) -> float:
    """The SPEC's target gain for an activation (PyTorch's calculate_gain values)."""
    if activation is Activation.RELU:
        return math.sqrt(2.0)
    if activation is Activation.LEAKY_RELU:
        return math.sqrt(2.0 / (1 + (0.01 if slope is None else slope) ** 2))
    if activation is Activation.TANH:
        return 5.0 / 3
    if activation is Activation.SELU:
        return 3.0 / 4
    return 1.0


# --- laws -------------------------------------------------------------------------------------


class Law:
    """How mean and *untruncated* std follow from arguments and fans (truncation is applied after)."""

    fan_based = False

    def mean(self, args: Mapping[str, Any]) -> Optional[float]:
        return 0.0

    def std(self, args: Mapping[str, Any], fan_in=None, fan_out=None, receptive_field=1) -> Optional[float]:
        """``receptive_field``: product of the kernel's spatial dims (1 for a matrix); only
        laws that read the tensor as a [units, rest] matrix (orthogonal) need it."""
        raise NotImplementedError


@dataclass(frozen=True)
class NormalLaw(Law):
    std_term: Term = P("std")
    mean_term: Term = 0.0

    def mean(self, args):
        return _value(self.mean_term, args)

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        return _value(self.std_term, args)


@dataclass(frozen=True)
class UniformLaw(Law):
    low: Term
    high: Term
    symmetric_scale: bool = False  # low is ignored: U(-high, high) (MXNet Uniform(scale))

    def _bounds(self, args):
        high = _value(self.high, args)
        low = -high if (self.symmetric_scale and high is not None) else _value(self.low, args)
        return low, high

    def mean(self, args):
        low, high = self._bounds(args)
        return None if low is None or high is None else (low + high) / 2.0

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        low, high = self._bounds(args)
        return None if low is None or high is None else abs(high - low) / math.sqrt(12.0)


@dataclass(frozen=True)
class ConstantLaw(Law):
    value: Term

    def mean(self, args):
        return _value(self.value, args)

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        return 0.0

    def constant(self, args) -> Optional[float]:
        return _value(self.value, args)


@dataclass(frozen=True)
class VarianceScalingLaw(Law):
    """std = sqrt(scale / fan(mode)); Keras/JAX VarianceScaling and the He/Glorot/LeCun presets.

    ``distribution`` is the argument's value or a literal; the std is the *realised* one (Keras and
    JAX correct a truncated normal by 1/.87962566103423978, so no truncation factor applies).
    ``axis_defaults``: (param, default) pairs that choose which axes are fans (Keras
    ``input_axes``/``output_axes``, JAX ``in_axis``/``out_axis``/``batch_axis``); when a call moves
    them away from the default, the layout's fans no longer apply and the std is unknown.
    ``clamp_fan``: Keras/TF divide by max(1, fan); JAX and timm by the fan itself."""

    scale: Term = P("scale")
    mode: Union[P, str] = P("mode")
    distribution: Union[P, str] = P("distribution")
    axis_defaults: Tuple[Tuple[str, Any], ...] = ()
    clamp_fan: bool = True
    fan_based = True

    def _axes_moved(self, args) -> bool:
        for name, default in self.axis_defaults:
            if name not in args:
                continue
            value = args[name]
            if isinstance(value, list):
                value = tuple(value)
            if isinstance(value, tuple) and len(value) == 1 and not isinstance(default, tuple):
                value = value[0]
            if value != default:
                return True
        return False

    def variance_scale(self, args) -> Tuple[Optional[float], Optional[str]]:
        """(k, mode) such that variance = k / fan(mode)."""
        return _value(self.scale, args), _arg(self.mode, args)

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        scale, mode = self.variance_scale(args)
        fan = _fan(mode, fan_in, fan_out)
        if scale is None or fan is None or fan <= 0 or self._axes_moved(args):
            return None
        return math.sqrt(scale / (max(1.0, fan) if self.clamp_fan else fan))


@dataclass(frozen=True)
class ContribVarianceScalingLaw(VarianceScalingLaw):
    """tf.contrib.layers.variance_scaling_initializer (TF <= 1.15): variance factor / n with n from
    an upper-case ``mode`` ('FAN_IN', 'FAN_OUT', 'FAN_AVG'; anything else raises) and a boolean
    ``uniform``. Its normal is cut at +-2 sigma with sigma = sqrt(1.3 factor / n), a rounder
    correction than Keras' 1/.8796: the samples' std is 1.3**.5 * .8796 = 1.0029 sqrt(factor / n)."""

    scale: Term = P("factor")
    uniform: Union[P, bool] = P("uniform")
    clamp_fan: bool = False

    def variance_scale(self, args) -> Tuple[Optional[float], Optional[str]]:
        scale, mode = super().variance_scale(args)
        return scale, mode.lower() if mode in ("FAN_IN", "FAN_OUT", "FAN_AVG") else None

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        std = super().std(args, fan_in, fan_out, receptive_field)
        uniform = _arg(self.uniform, args)
        if std is None or not isinstance(uniform, bool):
            return None
        return std if uniform else std * math.sqrt(1.3) * truncated_std_factor(-2.0, 2.0)


@dataclass(frozen=True)
class KaimingLaw(Law):
    """torch.nn.init.kaiming_{normal,uniform}_: std = gain(nonlinearity, a) / sqrt(fan(mode)).

    torch lower-cases ``mode`` and accepts only fan_in/fan_out; ``a`` is read only for leaky_relu."""

    fan_based = True

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        nonlinearity = args.get("nonlinearity")
        a = _value(P("a"), args)
        if nonlinearity == "leaky_relu" and a is None and args.get("a") is not None:
            return None  # an unresolved slope: never guess torch's 0.01
        gain = calculate_gain(nonlinearity, a)
        mode = args.get("mode")
        mode = mode.lower() if isinstance(mode, str) else None
        fan = _fan(mode, fan_in, fan_out) if mode in ("fan_in", "fan_out") else None
        if gain is None or fan is None or fan <= 0:
            return None
        return gain / math.sqrt(fan)


@dataclass(frozen=True)
class XavierLaw(Law):
    """torch xavier_*: std = gain * sqrt(2 / (fan_in + fan_out))."""

    gain: Term = P("gain")
    fan_based = True

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        gain = _value(self.gain, args)
        if gain is None or fan_in is None or fan_out is None:
            return None
        return gain * math.sqrt(2.0 / (fan_in + fan_out))


@dataclass(frozen=True)
class GainFanLaw(Law):
    """std = gain / sqrt(fan(mode)) (TF1 UniformUnitScaling(factor), JAX delta_orthogonal(scale))."""

    gain: Term = P("gain")
    mode: Union[P, str] = "fan_in"
    fan_based = True

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        gain = _value(self.gain, args)
        fan = _fan(_arg(self.mode, args), fan_in, fan_out)
        if gain is None or fan is None or fan <= 0:
            return None
        return gain / math.sqrt(max(1.0, fan))


@dataclass(frozen=True)
class MagnitudeLaw(Law):
    """MXNet Xavier/MSRAPrelu: bound (uniform) or std (gaussian) = sqrt(magnitude / fan(factor_type)).

    So the std is sqrt(magnitude / (3 fan)) for ``rnd_type='uniform'``. MSRAPrelu passes
    ``magnitude = 2 / (1 + slope**2)``: give ``slope`` instead of ``magnitude`` for it."""

    magnitude: Term = P("magnitude")
    mode: Union[P, str] = P("factor_type")
    distribution: Union[P, str] = P("rnd_type")
    slope: Term = None
    fan_based = True

    def _magnitude(self, args) -> Optional[float]:
        if self.slope is not None:
            slope = _value(self.slope, args)
            return None if slope is None else 2.0 / (1 + slope**2)
        return _value(self.magnitude, args)

    def variance_scale(self, args) -> Tuple[Optional[float], Optional[str]]:
        magnitude, dist = self._magnitude(args), _arg(self.distribution, args)
        if magnitude is None or dist not in ("uniform", "gaussian"):
            return None, _arg(self.mode, args)
        return (magnitude / 3.0 if dist == "uniform" else magnitude), _arg(self.mode, args)

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        k, mode = self.variance_scale(args)
        fan = _fan(mode, fan_in, fan_out)
        if k is None or fan is None or fan <= 0:
            return None
        return math.sqrt(k / fan)


@dataclass(frozen=True)
class OrthogonalLaw(Law):
    """A (semi-)orthogonal matrix times ``gain``: each element has variance gain**2 / max(rows, cols).

    Every framework flattens the tensor to [units, fan_in] (torch, MXNet: rows = dim 0; Keras, JAX:
    columns = last dim), so max(rows, cols) = max(fan_in, fan_out / receptive_field)."""

    gain: Term = P("gain")
    fan_based = True

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        gain = _value(self.gain, args)
        if gain is None or fan_in is None or fan_out is None:
            return None
        return abs(gain) / math.sqrt(max(fan_in, fan_out / (receptive_field or 1)))


@dataclass(frozen=True)
class FanBoundUniformLaw(Law):
    """U(-scale/sqrt(n), scale/sqrt(n)) with n = fan_in: torch's default bias init.

    ``per_input_channel``: n = fan_in / receptive_field (torch ``Bilinear``: 1/sqrt(in1_features)).
    For a bias the fans are those of the layer's weight."""

    scale: float = 1.0
    per_input_channel: bool = False
    fan_based = True

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        if fan_in is None or fan_in <= 0:
            return None
        n = fan_in / (receptive_field or 1) if self.per_input_channel else fan_in
        return self.scale / math.sqrt(3.0 * n)


@dataclass(frozen=True)
class UnknownLaw(Law):
    def mean(self, args):
        return None

    def std(self, args, fan_in=None, fan_out=None, receptive_field=1):
        return None


# --- truncation -------------------------------------------------------------------------------


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _Phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def truncated_std_factor(low: float, high: float) -> float:
    """std of N(0,1) truncated to [low, high] (in std units); 0.87962566 for [-2, 2]."""
    if low == -math.inf and high == math.inf:
        return 1.0
    z = _Phi(high) - _Phi(low)
    if z <= 0:
        return 0.0
    pl = 0.0 if low == -math.inf else low * _phi(low)
    ph = 0.0 if high == math.inf else high * _phi(high)
    mean = (_phi(low) - _phi(high)) / z
    var = 1 + (pl - ph) / z - mean**2
    return math.sqrt(max(var, 0.0))


@dataclass(frozen=True)
class Truncation:
    """Where a normal is cut.

    ``units``: ``"std"`` (bounds are multiples of the std: TF/Keras/JAX, timm's trunc_normal_tf_) or
    ``"absolute"`` (torch.nn.init.trunc_normal_: a=-2., b=2. whatever the std).
    ``std_is``: ``"before"`` when the std argument is that of the normal before truncation (so the
    realised std is smaller), ``"after"`` when the framework corrects for the cut.
    """

    units: str
    low: Term = -2.0
    high: Term = 2.0
    std_is: str = "before"

    def bounds_in_std_units(self, args, mean: float, std: float) -> Optional[Tuple[float, float]]:
        low, high = _value(self.low, args), _value(self.high, args)
        if low is None or high is None:
            return None
        if self.units == "std":
            return low, high
        if not std:
            return None
        return (low - mean) / std, (high - mean) / std


# --- entries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Initializer:
    """One initialiser of one framework, under all the qualified names it is reachable by."""

    names: Tuple[str, ...]
    framework: Framework
    style: Style
    family: Family
    params: Tuple[Tuple[str, Any], ...]  # (name, default) in positional order; REQUIRED if none
    law: Law
    truncation: Optional[Truncation] = None
    scheme: Optional[Scheme] = None
    raises_below_2d: bool = False  # the framework raises on a 0-D/1-D tensor (torch fan-based inits)
    keyword_only: Tuple[str, ...] = ()  # parameters accepted only by keyword
    doc: str = ""
    # When an argument picks the distribution (VarianceScaling(distribution=...), MXNet Xavier
    # rnd_type): its name and (value, family) pairs; ``family`` is then the family of the default.
    distribution_param: Optional[str] = None
    distribution_families: Tuple[Tuple[Any, Family], ...] = ()

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def fan_based(self) -> bool:
        return self.law.fan_based

    def defaults(self) -> dict:
        return {k: v for k, v in self.params if v is not REQUIRED}

    def bind(self, positional=(), keywords: Optional[Mapping[str, Any]] = None) -> dict:
        """Map call arguments onto parameter names, filling defaults. Unknown values stay as given."""
        bound = self.defaults()
        names = [k for k, _ in self.params if k not in self.keyword_only]
        for name, value in zip(names, positional):
            bound[name] = value
        bound.update(keywords or {})
        return bound

    def family_for(self, args: Mapping[str, Any]) -> Optional[Family]:
        """The distribution family these arguments select (None if the selecting argument is unknown)."""
        if self.distribution_param is None:
            return self.family
        value = args.get(self.distribution_param)
        if isinstance(value, str):
            value = value.lower()
        for candidate, family in self.distribution_families:
            if candidate == value and type(candidate) is type(value):
                return family
        return None

    def truncation_for(self, args: Mapping[str, Any]) -> Optional[Truncation]:
        """The truncation that applies to a call with these arguments (None for a uniform choice)."""
        if self.truncation is None or self.family_for(args) is not Family.TRUNCATED_NORMAL:
            return None
        return self.truncation

    def effective_scheme(self, args: Mapping[str, Any]) -> Optional[Scheme]:
        """The scheme the arguments amount to: VarianceScaling(2., 'fan_in') is He, MXNet
        Xavier(magnitude=2, factor_type='in', rnd_type='gaussian') is He, MXNet Xavier() is Glorot.
        Falls back to the declared ``scheme`` when the arguments match no named scheme."""
        variance_scale = getattr(self.law, "variance_scale", None)
        if variance_scale is None:
            return self.scheme
        k, mode = variance_scale(args)
        if k is None or not isinstance(mode, str):
            return self.scheme
        mode = {"in": "fan_in", "out": "fan_out", "avg": "fan_avg"}.get(mode, mode)
        if math.isclose(k, 1.0, rel_tol=1e-6) and mode == "fan_avg":
            return Scheme.GLOROT
        if math.isclose(k, 2.0, rel_tol=1e-6) and mode in ("fan_in", "fan_out"):
            return Scheme.HE
        if math.isclose(k, 1.0, rel_tol=1e-6) and mode == "fan_in":
            return Scheme.LECUN
        return self.scheme

    def mean(self, args: Mapping[str, Any]) -> Optional[float]:
        return self.law.mean(args)

    def std(self, args: Mapping[str, Any], fan_in=None, fan_out=None, receptive_field=1) -> Optional[float]:
        """The realised std of the samples (after any truncation).

        ``fan_in``/``fan_out`` in the framework's own layout (see ``fans``); ``receptive_field`` only
        matters for orthogonal laws on conv kernels."""
        std = self.law.std(args, fan_in, fan_out, receptive_field)
        truncation = self.truncation_for(args) if self.distribution_param else self.truncation
        if std is None or truncation is None or truncation.std_is == "after":
            return std
        mean = self.law.mean(args) or 0.0
        bounds = truncation.bounds_in_std_units(args, mean, std)
        if bounds is None:
            return None
        return std * truncated_std_factor(*bounds)

    def nominal_std(self, args: Mapping[str, Any], fan_in=None, fan_out=None, receptive_field=1) -> Optional[float]:
        """The std the arguments ask for, before any truncation effect."""
        return self.law.std(args, fan_in, fan_out, receptive_field)


@dataclass(frozen=True)
class Layer:
    """A layer type: where its parameters live, how they are initialised by default, its arguments.

    ``default_bias_init`` is evaluated with the fans of the layer's *weight* (torch's bias bound is
    1/sqrt(fan_in of the weight)). Default inits that no catalogue entry describes (torch RNNs'
    U(+-1/sqrt(hidden_size)), Keras LSTMs' unit_forget_bias) are None."""

    names: Tuple[str, ...]
    framework: Framework
    kind: LayerKind
    weight: Optional[str] = "weight"  # attribute/param name of the main weight ("kernel" in Keras/Flax)
    bias: Optional[str] = "bias"
    default_weight_init: Optional[str] = None  # a catalogue initialiser name
    default_weight_args: Tuple[Tuple[str, Any], ...] = ()
    default_bias_init: Optional[str] = None
    default_bias_args: Tuple[Tuple[str, Any], ...] = ()
    weight_init_kwarg: Optional[str] = None  # kernel_initializer / kernel_init / weight_initializer
    bias_init_kwarg: Optional[str] = None
    activation_kwarg: Optional[str] = None  # Keras/MXNet activation=
    units_param: Optional[Tuple[str, int]] = None  # (name, position) of the output units/channels
    in_units_param: Optional[Tuple[str, int]] = None  # (name, position) of the input features
    kernel_param: Optional[Tuple[str, int]] = None  # (name, position) of the kernel size
    lazy: bool = False
    extra_weights: Tuple[str, ...] = ()  # other weight params (RNN weight_ih_l0, ...)
    # The activation the layer applies itself when ``activation_kwarg`` is not given (Keras RNNs:
    # "tanh", a string for ``activation_from_string``; Flax cells: "jax.numpy.tanh", a qualified name
    # for ``activation``). None means linear.
    default_activation: Optional[str] = None
    # A function that builds the layer and applies it in one call, its input first and its output
    # returned (TF1 ``tf.layers.dense(x, 64, activation=tf.nn.relu)``): data flow runs through the call.
    functional: bool = False
    # where a functional layer takes its activation positionally (tf.layers.dense(x, 64, tf.nn.relu))
    activation_position: Optional[int] = None

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class ActivationEntry:
    """An activation reachable by qualified name (module class, function or string)."""

    names: Tuple[str, ...]
    framework: Framework
    activation: Activation
    style: str = "function"  # "module" (instantiated, then called), "function" (called/passed)
    slope_param: Optional[Tuple[str, int]] = None  # LeakyReLU(negative_slope) / leaky_relu(x, slope)
    default_slope: Optional[float] = None
    # The activation is named by this argument (Keras/MXNet ``Activation('relu')``): resolve it with
    # ``activation_from_string``; ``activation`` is then only a placeholder (LINEAR).
    activation_param: Optional[Tuple[str, int]] = None

    @property
    def name(self) -> str:
        return self.names[0]
