"""JAX and Flax: jax.nn.initializers (= flax.linen.initializers = flax.nnx.initializers), flax's
zeros_init/ones_init, jax.random samplers, Flax linen and NNX layer defaults, activations.

Checked against jax 0.10.2 ``jax/_src/nn/initializers.py`` and ``jax/_src/random.py``, and flax
0.12.8 ``flax/linen/{initializers,linear,attention,normalization,recurrent,activation}.py`` and
``flax/nnx/nn/{linear,attention,normalization,recurrent,activations}.py``.

Facts worth knowing (held to reality by tests/test_catalogue_reality.py):

- ``truncated_normal(stddev)`` cuts at ``lower``/``upper`` (default +-2) *in std units* and does no
  correction: it realises 0.8796 * stddev. ``variance_scaling(..., "truncated_normal")`` and its
  presets (glorot/he/lecun normal) divide by .87962566103423978 and realise sqrt(scale / fan).
- ``variance_scaling(..., "normal")`` is an *untruncated* normal (Keras maps "normal" to truncated).
- ``uniform(scale)`` is U[0, scale): mean scale/2, not centred.
- The variance-scaling family raises on a 0-D/1-D shape with the default ``in_axis=-2`` (a bias);
  passing ``in_axis``/``out_axis`` explicitly avoids the error and changes the fans.
- No ``max(1, fan)`` clamp, and ``mode="fan_geo_avg"`` (sqrt(fan_in * fan_out)) exists.
- Fans of a kernel [k..., in, out] (in_axis=-2, out_axis=-1) are (k * in, k * out).
- Flax ``Dense``/``Conv``/attention default to lecun_normal (not He), ``Embed`` to
  variance_scaling(1.0, 'fan_in', 'normal', out_axis=0): on a [num_embeddings, features] table
  that gives std 1/sqrt(features), i.e. 1/sqrt(fan_out) in the [in, out] layout.
"""

from __future__ import annotations

from .model import (
    REQUIRED,
    Activation,
    ActivationEntry,
    ConstantLaw,
    Family,
    Framework,
    GainFanLaw,
    Initializer,
    Layer,
    LayerKind,
    NormalLaw,
    OrthogonalLaw,
    P,
    Scheme,
    Style,
    Truncation,
    UniformLaw,
    VarianceScalingLaw,
)

FRAMEWORK = Framework.JAX
J = Framework.JAX
JI = "jax.nn.initializers."  # flax.linen.initializers / flax.nnx.initializers map here (names.canonical)

_AXES = (("in_axis", -2), ("out_axis", -1), ("batch_axis", ()))
_AXIS_PARAMS = (("in_axis", -2), ("out_axis", -1), ("batch_axis", ()), ("dtype", None))
_TRUNC_AFTER = Truncation("std", -2.0, 2.0, std_is="after")
_VS_FAMILIES = (
    ("truncated_normal", Family.TRUNCATED_NORMAL),
    ("normal", Family.NORMAL),  # untruncated in JAX
    ("uniform", Family.UNIFORM),
)


def _factory(names, family, params, law, **kw):
    return Initializer(tuple(JI + n for n in names), J, Style.FACTORY, family, tuple(params), law, **kw)


def _preset(names, scale, mode, distribution, scheme):
    family = Family.UNIFORM if distribution == "uniform" else Family.TRUNCATED_NORMAL
    return _factory(names, family, _AXIS_PARAMS,
                    VarianceScalingLaw(scale, mode, distribution, axis_defaults=_AXES, clamp_fan=False),
                    truncation=None if distribution == "uniform" else _TRUNC_AFTER, scheme=scheme,
                    raises_below_2d=True)


INITIALIZERS = (
    # zeros/ones *are* initialisers (key, shape, dtype): passed uncalled, kernel_init=zeros
    Initializer((JI + "zeros", "flax.linen.zeros"), J, Style.FUNCTION, Family.CONSTANT,
                (("key", REQUIRED), ("shape", REQUIRED), ("dtype", None)), ConstantLaw(0.0)),
    Initializer((JI + "ones", "flax.linen.ones"), J, Style.FUNCTION, Family.CONSTANT,
                (("key", REQUIRED), ("shape", REQUIRED), ("dtype", None)), ConstantLaw(1.0)),
    # flax adds factories that return them: zeros_init() is zeros
    Initializer(("flax.linen.initializers.zeros_init", "flax.linen.zeros_init"), J, Style.FACTORY, Family.CONSTANT,
                (), ConstantLaw(0.0)),
    Initializer(("flax.linen.initializers.ones_init", "flax.linen.ones_init"), J, Style.FACTORY, Family.CONSTANT,
                (), ConstantLaw(1.0)),
    _factory(("constant",), Family.CONSTANT, [("value", REQUIRED), ("dtype", None)], ConstantLaw(P("value"))),
    _factory(("uniform",), Family.UNIFORM, [("scale", 1e-2), ("dtype", None)], UniformLaw(0.0, P("scale")),
             doc="U[0, scale): mean scale/2"),
    _factory(("normal",), Family.NORMAL, [("stddev", 1e-2), ("dtype", None)], NormalLaw(P("stddev"), 0.0)),
    _factory(("truncated_normal",), Family.TRUNCATED_NORMAL,
             [("stddev", 1e-2), ("dtype", None), ("lower", -2.0), ("upper", 2.0)], NormalLaw(P("stddev"), 0.0),
             truncation=Truncation("std", P("lower"), P("upper"), std_is="before"),
             doc="stddev before the cut at lower/upper std units, no correction: realised 0.8796 * stddev"),
    _factory(("variance_scaling",), Family.TRUNCATED_NORMAL,
             [("scale", REQUIRED), ("mode", REQUIRED), ("distribution", REQUIRED), *_AXIS_PARAMS],
             VarianceScalingLaw(axis_defaults=_AXES, clamp_fan=False), truncation=_TRUNC_AFTER,
             scheme=Scheme.VARIANCE_SCALING, raises_below_2d=True, distribution_param="distribution",
             distribution_families=_VS_FAMILIES),
    _preset(("glorot_uniform", "xavier_uniform"), 1.0, "fan_avg", "uniform", Scheme.GLOROT),
    _preset(("glorot_normal", "xavier_normal"), 1.0, "fan_avg", "truncated_normal", Scheme.GLOROT),
    _preset(("he_uniform", "kaiming_uniform"), 2.0, "fan_in", "uniform", Scheme.HE),
    _preset(("he_normal", "kaiming_normal"), 2.0, "fan_in", "truncated_normal", Scheme.HE),
    _preset(("lecun_uniform",), 1.0, "fan_in", "uniform", Scheme.LECUN),
    _preset(("lecun_normal",), 1.0, "fan_in", "truncated_normal", Scheme.LECUN),
    # columns along column_axis (default last): element variance scale**2 / max(rows, cols)
    _factory(("orthogonal",), Family.ORTHOGONAL, [("scale", 1.0), ("column_axis", -1), ("dtype", None)],
             OrthogonalLaw(P("scale")), scheme=Scheme.ORTHOGONAL, raises_below_2d=True),
    # an orthogonal [in, out] matrix (needs in <= out) at the kernel centre, zeros elsewhere:
    # variance scale**2 / (out * receptive_field) = scale**2 / fan_out
    _factory(("delta_orthogonal",), Family.ORTHOGONAL, [("scale", 1.0), ("column_axis", -1), ("dtype", None)],
             GainFanLaw(P("scale"), "fan_out"), scheme=Scheme.ORTHOGONAL, raises_below_2d=True,
             doc="3-D to 5-D kernels only, fan_in <= fan_out"),
    # Flax Embed's default (flax.linen.linear.default_embed_init, nnx likewise)
    Initializer(("flax.linen.linear.default_embed_init", "flax.nnx.nn.linear.default_embed_init"), J, Style.FUNCTION,
                Family.NORMAL, (("key", REQUIRED), ("shape", REQUIRED), ("dtype", None)),
                VarianceScalingLaw(1.0, "fan_out", "normal", clamp_fan=False),
                doc="variance_scaling(1.0, 'fan_in', 'normal', out_axis=0) on [num_embeddings, features]: "
                    "std 1/sqrt(features), which is fan_out in the [in, out] layout"),
)

# --- samplers (jax.random): a weight drawn directly ----------------------------------------------
INITIALIZERS += (
    Initializer(("jax.random.normal",), J, Style.SAMPLER, Family.NORMAL,
                (("key", REQUIRED), ("shape", ()), ("dtype", None)), NormalLaw(1.0, 0.0)),
    # lower/upper are absolute bounds of a standard normal (std 1 before truncation): std units
    Initializer(("jax.random.truncated_normal",), J, Style.SAMPLER, Family.TRUNCATED_NORMAL,
                (("key", REQUIRED), ("lower", REQUIRED), ("upper", REQUIRED), ("shape", None), ("dtype", None)),
                NormalLaw(1.0, 0.0), truncation=Truncation("std", P("lower"), P("upper"), std_is="before")),
    Initializer(("jax.random.uniform",), J, Style.SAMPLER, Family.UNIFORM,
                (("key", REQUIRED), ("shape", ()), ("dtype", None), ("minval", 0.0), ("maxval", 1.0)),
                UniformLaw(P("minval"), P("maxval"))),
    Initializer(("jax.numpy.zeros", "jax.numpy.zeros_like"), J, Style.SAMPLER, Family.CONSTANT,
                (("shape", REQUIRED), ("dtype", None)), ConstantLaw(0.0)),
    Initializer(("jax.numpy.ones", "jax.numpy.ones_like"), J, Style.SAMPLER, Family.CONSTANT,
                (("shape", REQUIRED), ("dtype", None)), ConstantLaw(1.0)),
    Initializer(("jax.numpy.full",), J, Style.SAMPLER, Family.CONSTANT,
                (("shape", REQUIRED), ("fill_value", REQUIRED), ("dtype", None)), ConstantLaw(P("fill_value"))),
)

# --- layers ---------------------------------------------------------------------------------------
_LECUN = JI + "lecun_normal"
_ZEROS = JI + "zeros"
_ONES = JI + "ones"


def _linen(names, kind, units=None, kernel=None, weight="kernel", weight_kwarg="kernel_init", extra=(),
           default=_LECUN, default_activation=None):
    return Layer(tuple("flax.linen." + n for n in names), J, kind, weight, "bias",
                 default_weight_init=default, default_bias_init=_ZEROS, weight_init_kwarg=weight_kwarg,
                 bias_init_kwarg="bias_init", units_param=units, kernel_param=kernel, extra_weights=tuple(extra),
                 default_activation=default_activation)


def _nnx(names, kind, units=None, in_units=None, kernel=None, weight="kernel", extra=(), default_activation=None):
    return Layer(tuple("flax.nnx." + n for n in names), J, kind, weight, "bias",
                 default_weight_init=_LECUN, default_bias_init=_ZEROS, weight_init_kwarg="kernel_init",
                 bias_init_kwarg="bias_init", units_param=units, in_units_param=in_units, kernel_param=kernel,
                 extra_weights=tuple(extra), default_activation=default_activation)


def _norm(prefix, names, in_units=None, bias="bias"):
    return Layer(tuple(prefix + n for n in names), J, LayerKind.NORM, "scale", bias,
                 default_weight_init=_ONES, default_bias_init=_ZEROS if bias else None,
                 weight_init_kwarg="scale_init", bias_init_kwarg="bias_init" if bias else None,
                 in_units_param=in_units)


LAYERS = (
    _linen(["Dense"], LayerKind.DENSE, ("features", 0)),
    _linen(["DenseGeneral", "Einsum"], LayerKind.DENSE),
    _linen(["Conv", "ConvLocal"], LayerKind.CONV, ("features", 0), ("kernel_size", 1)),
    _linen(["ConvTranspose"], LayerKind.CONV_TRANSPOSE, ("features", 0), ("kernel_size", 1)),
    Layer(("flax.linen.Embed",), J, LayerKind.EMBEDDING, "embedding", None,
          default_weight_init="flax.linen.linear.default_embed_init", weight_init_kwarg="embedding_init",
          units_param=("features", 1), in_units_param=("num_embeddings", 0)),
    _linen(["MultiHeadDotProductAttention", "MultiHeadAttention", "SelfAttention"], LayerKind.ATTENTION),
    *[_linen([n], LayerKind.RNN, ("features", 0), extra=("recurrent_kernel",), default_activation="jax.numpy.tanh")
      for n in ("LSTMCell", "OptimizedLSTMCell", "GRUCell", "SimpleCell")],
    _norm("flax.linen.", ["LayerNorm", "BatchNorm", "GroupNorm", "InstanceNorm"]),
    _norm("flax.linen.", ["RMSNorm"], bias=None),
    _nnx(["Linear"], LayerKind.DENSE, ("out_features", 1), ("in_features", 0)),
    _nnx(["LinearGeneral"], LayerKind.DENSE, ("out_features", 1), ("in_features", 0)),
    _nnx(["Einsum"], LayerKind.DENSE),
    _nnx(["Conv"], LayerKind.CONV, ("out_features", 1), ("in_features", 0), ("kernel_size", 2)),
    _nnx(["ConvTranspose"], LayerKind.CONV_TRANSPOSE, ("out_features", 1), ("in_features", 0), ("kernel_size", 2)),
    Layer(("flax.nnx.Embed",), J, LayerKind.EMBEDDING, "embedding", None,
          default_weight_init="flax.nnx.nn.linear.default_embed_init", weight_init_kwarg="embedding_init",
          units_param=("features", 1), in_units_param=("num_embeddings", 0)),
    _nnx(["MultiHeadAttention"], LayerKind.ATTENTION, in_units=("in_features", 1)),
    *[_nnx([n], LayerKind.RNN, ("hidden_features", 1), ("in_features", 0), extra=("recurrent_kernel",),
           default_activation="jax.numpy.tanh") for n in ("LSTMCell", "OptimizedLSTMCell", "GRUCell", "SimpleCell")],
    _norm("flax.nnx.", ["LayerNorm", "BatchNorm", "GroupNorm", "InstanceNorm"], in_units=("num_features", 0)),
    _norm("flax.nnx.", ["RMSNorm"], in_units=("num_features", 0), bias=None),
)


# --- activations ----------------------------------------------------------------------------------
def _act(names, activation, style="function", slope=None, default_slope=None):
    return ActivationEntry(tuple(names), J, activation, style, slope, default_slope)


def _everywhere(fn):
    """jax.nn.fn and its flax re-exports (flax.linen.activation.fn canonicalises to flax.linen.fn)."""
    return ["jax.nn." + fn, "flax.linen." + fn, "flax.nnx." + fn]


ACTIVATIONS = (
    _act(_everywhere("relu") + _everywhere("relu6"), Activation.RELU),
    _act(_everywhere("leaky_relu"), Activation.LEAKY_RELU, slope=("negative_slope", 1), default_slope=0.01),
    # flax.linen.tanh is jax.numpy.tanh; jax.nn.tanh exists too
    _act(_everywhere("tanh") + ["jax.numpy.tanh", "jax.lax.tanh"], Activation.TANH),
    _act(_everywhere("sigmoid") + ["jax.lax.logistic"], Activation.SIGMOID),
    _act(_everywhere("selu"), Activation.SELU),
    _act(_everywhere("gelu"), Activation.GELU),
    _act(_everywhere("silu") + _everywhere("swish") + _everywhere("hard_silu") + _everywhere("hard_swish")
         + ["jax.nn.mish"], Activation.SILU),
    _act(_everywhere("elu") + _everywhere("celu"), Activation.ELU),
    _act(_everywhere("softmax") + _everywhere("log_softmax"), Activation.SOFTMAX),
    _act(_everywhere("softplus"), Activation.SOFTPLUS),
    _act(_everywhere("soft_sign"), Activation.SOFTSIGN),
    _act(["jax.nn.identity"], Activation.LINEAR),
    # PReLU modules: linen's first field is param_dtype, so negative_slope_init is positional 1
    _act(["flax.linen.PReLU"], Activation.LEAKY_RELU, "module", ("negative_slope_init", 1), 0.01),
    _act(["flax.nnx.PReLU"], Activation.LEAKY_RELU, "module", ("negative_slope_init", 0), 0.01),
)
