"""PyTorch: torch.nn.init, tensor in-place methods, samplers, timm's helpers, layer defaults.

Checked against torch 2.13 ``torch/nn/init.py`` and ``torch/nn/modules/{linear,conv,sparse,
normalization,batchnorm,rnn,activation}.py``, and timm ``layers/weight_init.py``.

Facts worth knowing (held to reality by tests/test_catalogue_reality.py):

- ``trunc_normal_(w, mean, std, a=-2., b=2.)``: a and b are absolute, so std=.02 truncates nothing
  and the realised std is the std argument; timm's ``trunc_normal_tf_`` cuts in std units instead.
- Linear/Conv weights: ``kaiming_uniform_(w, a=sqrt(5))`` = U(+-1/sqrt(fan_in)), std 1/sqrt(3 fan_in);
  biases U(+-1/sqrt(fan_in)) with the weight's fan_in. ``Bilinear`` uses 1/sqrt(in1_features) for
  both (not the product of its input dims); RNNs U(+-1/sqrt(hidden_size)) for every parameter.
- Fan-based inits (xavier, kaiming, orthogonal, sparse) and eye_/dirac_ raise below 2-D; kaiming's
  ``mode`` is lower-cased and must be fan_in or fan_out.
- timm's ``variance_scaling_(distribution='normal')`` is untruncated and divides by the fan itself.
"""

from __future__ import annotations

import math

from .model import (
    REQUIRED,
    Activation,
    ActivationEntry,
    ConstantLaw,
    FanBoundUniformLaw,
    Family,
    Framework,
    Initializer,
    KaimingLaw,
    Layer,
    LayerKind,
    NormalLaw,
    OrthogonalLaw,
    P,
    Scheme,
    Style,
    Truncation,
    UniformLaw,
    UnknownLaw,
    VarianceScalingLaw,
    XavierLaw,
)

FRAMEWORK = Framework.TORCH
T = Framework.TORCH
_GEN = ("generator", None)


def _init(names, family, params, law, **kw):
    return Initializer(tuple(names), T, Style.INPLACE, family, tuple(params), law, **kw)


def _both(name):
    """torch.nn.init.X_ and its deprecated alias torch.nn.init.X."""
    return (f"torch.nn.init.{name}_", f"torch.nn.init.{name}")


INITIALIZERS = (
    _init(_both("normal"), Family.NORMAL, [("tensor", REQUIRED), ("mean", 0.0), ("std", 1.0), _GEN],
          NormalLaw(P("std"), P("mean"))),
    _init(_both("uniform"), Family.UNIFORM, [("tensor", REQUIRED), ("a", 0.0), ("b", 1.0), _GEN],
          UniformLaw(P("a"), P("b"))),
    _init(("torch.nn.init.trunc_normal_", "timm.layers.trunc_normal_"), Family.TRUNCATED_NORMAL,
          [("tensor", REQUIRED), ("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0), _GEN],
          NormalLaw(P("std"), P("mean")),
          truncation=Truncation("absolute", P("a"), P("b"), std_is="before")),
    # timm's TF-style variant: bounds in std units, std before truncation (as tf.random.truncated_normal)
    _init(("timm.layers.trunc_normal_tf_",), Family.TRUNCATED_NORMAL,
          [("tensor", REQUIRED), ("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0)],
          NormalLaw(P("std"), P("mean")),
          truncation=Truncation("std", P("a"), P("b"), std_is="before")),
    _init(_both("constant"), Family.CONSTANT, [("tensor", REQUIRED), ("val", REQUIRED)], ConstantLaw(P("val"))),
    _init(("torch.nn.init.ones_",), Family.CONSTANT, [("tensor", REQUIRED)], ConstantLaw(1.0)),
    _init(("torch.nn.init.zeros_",), Family.CONSTANT, [("tensor", REQUIRED)], ConstantLaw(0.0)),
    # eye_ raises unless 2-D, dirac_ unless 3-D to 5-D
    _init(("torch.nn.init.eye_", "torch.nn.init.eye"), Family.IDENTITY, [("tensor", REQUIRED)], UnknownLaw(),
          raises_below_2d=True),
    _init(("torch.nn.init.dirac_", "torch.nn.init.dirac"), Family.IDENTITY,
          [("tensor", REQUIRED), ("groups", 1)], UnknownLaw(), raises_below_2d=True),
    _init(_both("xavier_uniform"), Family.UNIFORM, [("tensor", REQUIRED), ("gain", 1.0), _GEN],
          XavierLaw(P("gain")), scheme=Scheme.GLOROT, raises_below_2d=True),
    _init(_both("xavier_normal"), Family.NORMAL, [("tensor", REQUIRED), ("gain", 1.0), _GEN],
          XavierLaw(P("gain")), scheme=Scheme.GLOROT, raises_below_2d=True),
    _init(_both("kaiming_uniform"), Family.UNIFORM,
          [("tensor", REQUIRED), ("a", 0.0), ("mode", "fan_in"), ("nonlinearity", "leaky_relu"), _GEN],
          KaimingLaw(), scheme=Scheme.HE, raises_below_2d=True),
    _init(_both("kaiming_normal"), Family.NORMAL,
          [("tensor", REQUIRED), ("a", 0.0), ("mode", "fan_in"), ("nonlinearity", "leaky_relu"), _GEN],
          KaimingLaw(), scheme=Scheme.HE, raises_below_2d=True),
    _init(_both("orthogonal"), Family.ORTHOGONAL, [("tensor", REQUIRED), ("gain", 1.0), _GEN],
          OrthogonalLaw(P("gain")), scheme=Scheme.ORTHOGONAL, raises_below_2d=True),
    _init(_both("sparse"), Family.SPARSE, [("tensor", REQUIRED), ("sparsity", REQUIRED), ("std", 0.01), _GEN],
          UnknownLaw(), raises_below_2d=True),
    # timm.layers.variance_scaling_: 'normal' is untruncated, 'truncated_normal' is corrected by
    # /.87962566103423978 (std in std units after truncation), fans are torch's, no max(1, fan)
    _init(("timm.layers.variance_scaling_",), Family.NORMAL,
          [("tensor", REQUIRED), ("scale", 1.0), ("mode", "fan_in"), ("distribution", "normal")],
          VarianceScalingLaw(clamp_fan=False), truncation=Truncation("std", -2.0, 2.0, std_is="after"),
          scheme=Scheme.VARIANCE_SCALING, raises_below_2d=True, distribution_param="distribution",
          distribution_families=(("normal", Family.NORMAL), ("truncated_normal", Family.TRUNCATED_NORMAL),
                                 ("uniform", Family.UNIFORM))),
    _init(("timm.layers.lecun_normal_",), Family.TRUNCATED_NORMAL, [("tensor", REQUIRED)],
          VarianceScalingLaw(1.0, "fan_in", "truncated_normal", clamp_fan=False),
          truncation=Truncation("std", -2.0, 2.0, std_is="after"), scheme=Scheme.LECUN, raises_below_2d=True),
    # Tensor methods: the receiver is the tensor (w.data.normal_(0, .02)); positional args follow it.
    Initializer(("torch.Tensor.normal_",), T, Style.INPLACE, Family.NORMAL,
                (("mean", 0.0), ("std", 1.0)), NormalLaw(P("std"), P("mean")), keyword_only=("generator",)),
    Initializer(("torch.Tensor.uniform_",), T, Style.INPLACE, Family.UNIFORM,
                (("from", 0.0), ("to", 1.0)), UniformLaw(P("from"), P("to"))),
    Initializer(("torch.Tensor.fill_",), T, Style.INPLACE, Family.CONSTANT, (("value", REQUIRED),),
                ConstantLaw(P("value"))),
    Initializer(("torch.Tensor.zero_",), T, Style.INPLACE, Family.CONSTANT, (), ConstantLaw(0.0)),
    # Samplers: a tensor of the given size; used as weights through nn.Parameter(...)
    Initializer(("torch.randn", "torch.randn_like"), T, Style.SAMPLER, Family.NORMAL, (("size", REQUIRED),),
                NormalLaw(1.0, 0.0)),
    Initializer(("torch.rand", "torch.rand_like"), T, Style.SAMPLER, Family.UNIFORM, (("size", REQUIRED),),
                UniformLaw(0.0, 1.0)),
    Initializer(("torch.zeros", "torch.zeros_like"), T, Style.SAMPLER, Family.CONSTANT, (("size", REQUIRED),),
                ConstantLaw(0.0)),
    Initializer(("torch.ones", "torch.ones_like"), T, Style.SAMPLER, Family.CONSTANT, (("size", REQUIRED),),
                ConstantLaw(1.0)),
    Initializer(("torch.full",), T, Style.SAMPLER, Family.CONSTANT, (("size", REQUIRED), ("fill_value", REQUIRED)),
                ConstantLaw(P("fill_value"))),
    # torch.normal(mean: float, std: float, size): the float overload (tensor overloads have no size)
    Initializer(("torch.normal",), T, Style.SAMPLER, Family.NORMAL,
                (("mean", REQUIRED), ("std", REQUIRED), ("size", REQUIRED)), NormalLaw(P("std"), P("mean")),
                keyword_only=("generator",)),
)

# The layers' own reset_parameters: kaiming_uniform_(w, a=sqrt(5)) == U(+-1/sqrt(fan_in)).
_KAIMING_A5 = (("a", math.sqrt(5)),)
_DEFAULT_BIAS = "torch.nn.init._default_bias"  # U(+-1/sqrt(fan_in)), see FanBoundUniformLaw
_BILINEAR_DEFAULT = "torch.nn.init._bilinear_default"
INITIALIZERS += (
    Initializer((_DEFAULT_BIAS,), T, Style.INPLACE, Family.UNIFORM, (("tensor", REQUIRED),),
                FanBoundUniformLaw(1.0), doc="bias default of Linear/Conv: U(+-1/sqrt(fan_in)), fans of the weight"),
    # Bilinear.reset_parameters: weight [out, in1, in2] and bias both U(+-1/sqrt(in1_features)), where
    # in1 = fan_in / receptive_field in torch's fans of the weight (not the a=sqrt(5) kaiming path)
    Initializer((_BILINEAR_DEFAULT,), T, Style.INPLACE, Family.UNIFORM, (("tensor", REQUIRED),),
                FanBoundUniformLaw(1.0, per_input_channel=True),
                doc="Bilinear default: U(+-1/sqrt(in1_features)) for weight and bias"),
)


def _fan_layer(names, kind, units, in_units, kernel=None, lazy=False):
    return Layer(tuple(names), T, kind, "weight", "bias",
                 default_weight_init="torch.nn.init.kaiming_uniform_", default_weight_args=_KAIMING_A5,
                 default_bias_init=_DEFAULT_BIAS, units_param=units, in_units_param=in_units,
                 kernel_param=kernel, lazy=lazy)


def _norm(name):
    return Layer((f"torch.nn.{name}",), T, LayerKind.NORM, "weight", "bias",
                 default_weight_init="torch.nn.init.ones_", default_bias_init="torch.nn.init.zeros_")


LAYERS = (
    _fan_layer(["torch.nn.Linear", "torch.nn.modules.linear.NonDynamicallyQuantizableLinear"], LayerKind.DENSE,
               ("out_features", 1), ("in_features", 0)),
    Layer(("torch.nn.Bilinear",), T, LayerKind.DENSE, "weight", "bias", default_weight_init=_BILINEAR_DEFAULT,
          default_bias_init=_BILINEAR_DEFAULT, units_param=("out_features", 2), in_units_param=("in1_features", 0)),
    _fan_layer(["torch.nn.LazyLinear"], LayerKind.DENSE, ("out_features", 0), None, lazy=True),
    *[_fan_layer([f"torch.nn.Conv{d}d"], LayerKind.CONV, ("out_channels", 1), ("in_channels", 0),
                 ("kernel_size", 2)) for d in (1, 2, 3)],
    *[_fan_layer([f"torch.nn.LazyConv{d}d"], LayerKind.CONV, ("out_channels", 0), None, ("kernel_size", 1),
                 lazy=True) for d in (1, 2, 3)],
    # ConvTranspose weights are stored [in, out/groups, k...]: torch's fans read them swapped
    *[_fan_layer([f"torch.nn.ConvTranspose{d}d"], LayerKind.CONV_TRANSPOSE, ("out_channels", 1),
                 ("in_channels", 0), ("kernel_size", 2)) for d in (1, 2, 3)],
    *[_fan_layer([f"torch.nn.LazyConvTranspose{d}d"], LayerKind.CONV_TRANSPOSE, ("out_channels", 0), None,
                 ("kernel_size", 1), lazy=True) for d in (1, 2, 3)],
    Layer(("torch.nn.Embedding",), T, LayerKind.EMBEDDING, "weight", None,
          default_weight_init="torch.nn.init.normal_", units_param=("embedding_dim", 1),
          in_units_param=("num_embeddings", 0)),
    Layer(("torch.nn.EmbeddingBag",), T, LayerKind.EMBEDDING, "weight", None,
          default_weight_init="torch.nn.init.normal_", units_param=("embedding_dim", 1),
          in_units_param=("num_embeddings", 0)),
    *[_norm(n) for n in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LayerNorm", "GroupNorm",
                         "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "RMSNorm", "LazyBatchNorm1d",
                         "LazyBatchNorm2d", "LazyBatchNorm3d")],
    *[Layer((f"torch.nn.{n}",), T, LayerKind.RNN, None, None, units_param=("hidden_size", 1),
            in_units_param=("input_size", 0),
            extra_weights=("weight_ih_l0", "weight_hh_l0"))
      for n in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")],
    Layer(("torch.nn.MultiheadAttention",), T, LayerKind.ATTENTION, "in_proj_weight", "in_proj_bias",
          default_weight_init="torch.nn.init.xavier_uniform_", default_bias_init="torch.nn.init.zeros_",
          units_param=("embed_dim", 0), in_units_param=("embed_dim", 0)),
)


def _act(names, activation, style="function", slope=None, default_slope=None):
    return ActivationEntry(tuple(names), T, activation, style, slope, default_slope)


_F = "torch.nn.functional."
ACTIVATIONS = (
    _act(["torch.nn.ReLU", "torch.nn.ReLU6"], Activation.RELU, "module"),
    _act(["torch.nn.LeakyReLU"], Activation.LEAKY_RELU, "module", ("negative_slope", 0), 0.01),
    _act(["torch.nn.PReLU"], Activation.LEAKY_RELU, "module", ("init", 1), 0.25),
    _act(["torch.nn.RReLU"], Activation.LEAKY_RELU, "module", None, (1 / 8 + 1 / 3) / 2),
    _act(["torch.nn.Tanh"], Activation.TANH, "module"),
    _act(["torch.nn.Sigmoid"], Activation.SIGMOID, "module"),
    _act(["torch.nn.SELU"], Activation.SELU, "module"),
    _act(["torch.nn.GELU"], Activation.GELU, "module"),
    _act(["torch.nn.SiLU", "torch.nn.Mish", "torch.nn.Hardswish"], Activation.SILU, "module"),
    _act(["torch.nn.ELU", "torch.nn.CELU"], Activation.ELU, "module"),
    _act(["torch.nn.Softmax", "torch.nn.LogSoftmax"], Activation.SOFTMAX, "module"),
    _act(["torch.nn.Identity"], Activation.LINEAR, "module"),
    _act(["torch.nn.Softplus"], Activation.SOFTPLUS, "module"),
    _act(["torch.nn.Softsign"], Activation.SOFTSIGN, "module"),
    _act([_F + "softplus"], Activation.SOFTPLUS),
    _act([_F + "softsign"], Activation.SOFTSIGN),
    _act(["torch.relu", "torch.relu_", _F + "relu", _F + "relu_", _F + "relu6"], Activation.RELU),
    _act([_F + "leaky_relu", _F + "leaky_relu_"], Activation.LEAKY_RELU, slope=("negative_slope", 1),
         default_slope=0.01),
    _act([_F + "prelu"], Activation.LEAKY_RELU, default_slope=0.25),
    _act([_F + "rrelu"], Activation.LEAKY_RELU, default_slope=(1 / 8 + 1 / 3) / 2),
    _act(["torch.tanh", _F + "tanh"], Activation.TANH),
    _act(["torch.sigmoid", _F + "sigmoid"], Activation.SIGMOID),
    _act(["torch.selu", _F + "selu"], Activation.SELU),
    _act([_F + "gelu"], Activation.GELU),
    _act([_F + "silu", _F + "mish", _F + "hardswish"], Activation.SILU),
    _act([_F + "elu", _F + "celu"], Activation.ELU),
    _act(["torch.softmax", _F + "softmax", _F + "log_softmax"], Activation.SOFTMAX),
)
