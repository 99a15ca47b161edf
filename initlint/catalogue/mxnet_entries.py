"""MXNet: mxnet.init initialisers, Gluon layer defaults, activations and the strings MXNet accepts.

MXNet is not installed (its wheel does not import with numpy 2), so these facts come from reading
apache/mxnet ``python/mxnet/initializer.py`` and ``python/mxnet/gluon/nn/{basic_layers,conv_layers,
activations}.py`` (1.x and master agree on everything below unless noted).

Facts worth knowing:

- ``Block.initialize(init=initializer.Uniform(), ...)``: ``net.initialize()`` with no init draws every
  weight from U(-0.07, 0.07) whatever the fan (``DEFAULT_INITIALIZE``).
- A global initialiser only reaches parameters named ``*weight``: ``*bias``/``*beta`` get 0 and
  ``*gamma`` 1 from the base class, unless the parameter has its own init (Gluon layers give biases
  ``bias_initializer='zeros'``). Layers' ``weight_initializer=None`` means "the global one".
- ``Xavier(rnd_type='uniform', factor_type='avg', magnitude=3)``: scale = sqrt(magnitude / fan); a
  uniform draw uses U(-scale, scale) (std scale/sqrt(3)), a gaussian N(0, scale). The default is Glorot
  uniform; ``Xavier(rnd_type='gaussian', factor_type='in', magnitude=2)`` is He. It raises on a vector.
- ``MSRAPrelu(factor_type='avg', slope=0.25)`` is gaussian Xavier with magnitude 2 / (1 + slope**2).
- ``Orthogonal(scale=1.414, rand_type='uniform')``: SVD of a [shape[0], prod(shape[1:])] draw, times
  ``scale`` (sqrt(2) by default, not 1). It does not raise on a vector.
- Weights are stored [out, in, k...] like torch (``Dense`` weight is (units, in_units)); transposed
  convolutions store [in, out/groups, k...].
"""

from __future__ import annotations

from .model import (
    REQUIRED,
    Activation,
    ActivationEntry,
    ConstantLaw,
    Family,
    Framework,
    Initializer,
    Layer,
    LayerKind,
    MagnitudeLaw,
    NormalLaw,
    OrthogonalLaw,
    P,
    Scheme,
    Style,
    UniformLaw,
    UnknownLaw,
)

FRAMEWORK = Framework.MXNET
M = Framework.MXNET
MI = "mxnet.init."  # mxnet.initializer.X canonicalises here

# What net.initialize() uses when given no init (gluon Block.initialize's default argument).
DEFAULT_INITIALIZE = MI + "Uniform"


def _init(names, family, params, law, **kw):
    return Initializer(tuple(MI + n for n in names), M, Style.FACTORY, family, tuple(params), law, **kw)


_XAVIER_FAMILIES = (("uniform", Family.UNIFORM), ("gaussian", Family.NORMAL))

INITIALIZERS = (
    _init(("Zero",), Family.CONSTANT, [], ConstantLaw(0.0)),
    _init(("One",), Family.CONSTANT, [], ConstantLaw(1.0)),
    _init(("Constant",), Family.CONSTANT, [("value", REQUIRED)], ConstantLaw(P("value")),
          doc="value may also be an array of the parameter's shape"),
    _init(("Uniform",), Family.UNIFORM, [("scale", 0.07)], UniformLaw(None, P("scale"), symmetric_scale=True),
          doc="U(-scale, scale)"),
    _init(("Normal",), Family.NORMAL, [("sigma", 0.01)], NormalLaw(P("sigma"), 0.0)),
    _init(("Xavier",), Family.UNIFORM, [("rnd_type", "uniform"), ("factor_type", "avg"), ("magnitude", 3)],
          MagnitudeLaw(), scheme=Scheme.VARIANCE_SCALING, raises_below_2d=True, distribution_param="rnd_type",
          distribution_families=_XAVIER_FAMILIES,
          doc="its arguments decide the scheme: effective_scheme() is Glorot for the defaults, He for "
              "rnd_type='gaussian', factor_type='in', magnitude=2"),
    _init(("MSRAPrelu",), Family.NORMAL, [("factor_type", "avg"), ("slope", 0.25)],
          MagnitudeLaw(None, P("factor_type"), "gaussian", slope=P("slope")), scheme=Scheme.HE,
          raises_below_2d=True),
    _init(("Orthogonal",), Family.ORTHOGONAL, [("scale", 1.414), ("rand_type", "uniform")],
          OrthogonalLaw(P("scale")), scheme=Scheme.ORTHOGONAL),
    _init(("Bilinear",), Family.OTHER, [], UnknownLaw(), doc="deterministic upsampling kernel (4-D)"),
    _init(("LSTMBias",), Family.CONSTANT, [("forget_bias", 1.0)], UnknownLaw(),
          doc="a bias: 0 except the forget gate's quarter, set to forget_bias"),
    # Samplers a hand-written mx.init.Initializer fills its array from (the textbook's MyInit):
    # mxnet.numpy mirrors numpy's signatures, mxnet.ndarray.random takes (low, high, shape)
    Initializer(("mxnet.numpy.random.uniform", "mxnet.ndarray.random.uniform", "mxnet.nd.random.uniform"), M,
                Style.SAMPLER, Family.UNIFORM, (("low", 0.0), ("high", 1.0), ("size", None)),
                UniformLaw(P("low"), P("high"))),
    Initializer(("mxnet.numpy.random.normal", "mxnet.ndarray.random.normal", "mxnet.nd.random.normal"), M,
                Style.SAMPLER, Family.NORMAL, (("loc", 0.0), ("scale", 1.0), ("size", None)),
                NormalLaw(P("scale"), P("loc"))),
)

# mx.init.create / initializer= strings: the registry keys are lower-cased class names plus aliases
STRING_INITIALIZERS = {
    "zero": (MI + "Zero", {}),
    "zeros": (MI + "Zero", {}),
    "one": (MI + "One", {}),
    "ones": (MI + "One", {}),
    "uniform": (MI + "Uniform", {}),
    "normal": (MI + "Normal", {}),
    "xavier": (MI + "Xavier", {}),
    "msraprelu": (MI + "MSRAPrelu", {}),
    "orthogonal": (MI + "Orthogonal", {}),
    "bilinear": (MI + "Bilinear", {}),
    "lstmbias": (MI + "LSTMBias", {}),
}

# --- Gluon layers -----------------------------------------------------------------------------------
_NN = "mxnet.gluon.nn."


def _layer(names, kind, units, in_units, kernel=None, activation="activation"):
    return Layer(tuple(_NN + n for n in names), M, kind, "weight", "bias",
                 default_weight_init=DEFAULT_INITIALIZE, default_bias_init=MI + "Zero",
                 weight_init_kwarg="weight_initializer", bias_init_kwarg="bias_initializer",
                 activation_kwarg=activation, units_param=units, in_units_param=in_units, kernel_param=kernel)


def _norm(names):
    return Layer(tuple(_NN + n for n in names), M, LayerKind.NORM, "gamma", "beta",
                 default_weight_init=MI + "One", default_bias_init=MI + "Zero",
                 weight_init_kwarg="gamma_initializer", bias_init_kwarg="beta_initializer")


LAYERS = (
    # Dense(units, activation=None, use_bias=True, flatten=True, dtype, weight_initializer=None,
    #       bias_initializer='zeros', in_units=0)
    _layer(["Dense"], LayerKind.DENSE, ("units", 0), ("in_units", 7)),
    # Conv{1,2,3}D(channels, kernel_size, strides, padding, dilation, groups, layout, activation, use_bias,
    #              weight_initializer, bias_initializer, in_channels)
    *[_layer([f"Conv{d}D"], LayerKind.CONV, ("channels", 0), ("in_channels", 11), ("kernel_size", 1))
      for d in (1, 2, 3)],
    # Conv{1,2,3}DTranspose(channels, kernel_size, strides, padding, output_padding, dilation, groups, layout,
    #                       activation, use_bias, weight_initializer, bias_initializer, in_channels)
    *[_layer([f"Conv{d}DTranspose"], LayerKind.CONV_TRANSPOSE, ("channels", 0), ("in_channels", 12),
             ("kernel_size", 1)) for d in (1, 2, 3)],
    Layer((_NN + "Embedding",), M, LayerKind.EMBEDDING, "weight", None, default_weight_init=DEFAULT_INITIALIZE,
          weight_init_kwarg="weight_initializer", units_param=("output_dim", 1), in_units_param=("input_dim", 0)),
    _norm(["BatchNorm", "BatchNormReLU", "SyncBatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm"]),
)


# --- activations --------------------------------------------------------------------------------------
def _act(names, activation, style="module", slope=None, default_slope=None, activation_param=None):
    return ActivationEntry(tuple(names), M, activation, style, slope, default_slope, activation_param)


ACTIVATIONS = (
    _act([_NN + "Activation"], Activation.LINEAR, activation_param=("activation", 0)),
    _act([_NN + "LeakyReLU"], Activation.LEAKY_RELU, slope=("alpha", 0)),  # alpha is required
    # PReLU(alpha_initializer=Constant(0.25)) in MXNet >= 1.6 ('zeros' before)
    _act([_NN + "PReLU"], Activation.LEAKY_RELU, default_slope=0.25),
    _act([_NN + "ELU"], Activation.ELU),
    _act([_NN + "SELU"], Activation.SELU),
    _act([_NN + "GELU"], Activation.GELU),
    _act([_NN + "Swish", _NN + "SiLU"], Activation.SILU),
    _act(["mxnet.nd.relu", "mxnet.ndarray.relu", "mxnet.npx.relu", "mxnet.sym.relu", "mxnet.symbol.relu"],
         Activation.RELU, "function"),
    _act(["mxnet.nd.sigmoid", "mxnet.ndarray.sigmoid", "mxnet.npx.sigmoid", "mxnet.sym.sigmoid"],
         Activation.SIGMOID, "function"),
    _act(["mxnet.nd.tanh", "mxnet.ndarray.tanh", "mxnet.np.tanh", "mxnet.sym.tanh"], Activation.TANH, "function"),
    _act(["mxnet.nd.softmax", "mxnet.ndarray.softmax", "mxnet.npx.softmax"], Activation.SOFTMAX, "function"),
)

# Activation(act_type) / activation= strings
STRING_ACTIVATIONS = {
    "relu": (Activation.RELU, None),
    "sigmoid": (Activation.SIGMOID, None),
    "tanh": (Activation.TANH, None),
    "softrelu": (Activation.SOFTPLUS, None),
    "softsign": (Activation.SOFTSIGN, None),
    "mish": (Activation.SILU, None),
}
