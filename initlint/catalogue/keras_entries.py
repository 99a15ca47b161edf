"""TensorFlow and Keras: Keras 3 / tf.keras initialisers, tf.compat.v1 and TF1 spellings, samplers,
layer defaults, activations and the strings Keras accepts for them.

Checked against Keras 3.15 ``keras/src/initializers/{random,constant}_initializers.py`` (and
``initializers/__init__.py`` for the string names), ``keras/src/layers/**`` and
``keras/src/activations/__init__.py``; TensorFlow 2.21 ``tensorflow/python/ops/init_ops.py`` (v1)
and ``init_ops_v2.py`` (TF2 ``tf.*_initializer``), and ``tf.random.*``.

Facts worth knowing (all from the source, and held to reality by tests/test_catalogue_reality.py):

- ``TruncatedNormal(stddev=s)`` and ``tf.random.truncated_normal(stddev=s)`` cut at +-2 *s* and
  ``s`` is the std *before* the cut: the samples have std 0.8796 s. ``VarianceScaling`` (and He,
  Glorot, LeCun normal) divide by .87962566103423978 first, so they realise sqrt(scale / fan).
- Keras 3 ``VarianceScaling(distribution="normal")`` is silently mapped to ``"truncated_normal"``;
  only ``"untruncated_normal"`` gives a plain normal (JAX's ``"normal"`` is untruncated).
- Keras computes fans for a 1-D tensor as (n, n) and never raises there; ``Orthogonal`` and
  ``Identity`` do raise (below 2-D, resp. anything but 2-D).
- Fans follow the kernel layout [k..., in, out]; a ``Conv*DTranspose`` kernel is [k..., out, in],
  so its "fan_in" is k * filters.
- ``tf.initializers.X`` is ``tf.keras.initializers.X`` since TF 2.0 (names.canonical maps it), but
  TF1 code meant ``init_ops``: ``random_normal``/``truncated_normal`` had stddev 1.0 (TF2: 0.05),
  ``random_uniform`` U(0, 1) (TF2: U(-.05, .05)). Those spellings, and ``tf.random_normal_initializer``
  / ``tf.random_uniform_initializer`` (the same split), carry VERSION_DEPENDENT defaults.
- Every Keras 3 initialiser instance is seeded at construction (seed=None draws one then), so one
  instance passed to two layers gives both the same weights (INI303).
"""

from __future__ import annotations

from dataclasses import replace

from .model import (
    REQUIRED,
    VERSION_DEPENDENT,
    Activation,
    ActivationEntry,
    ConstantLaw,
    ContribVarianceScalingLaw,
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
    UnknownLaw,
    VarianceScalingLaw,
)

FRAMEWORK = Framework.KERAS
K = Framework.KERAS
KI = "keras.initializers."
V1 = "tf.compat.v1."

_TRUNC_BEFORE = Truncation("std", -2.0, 2.0, std_is="before")  # tf.random.truncated_normal semantics
_TRUNC_AFTER = Truncation("std", -2.0, 2.0, std_is="after")  # VarianceScaling's corrected std
_VS_FAMILIES = (  # Keras 3 and TF1 VarianceScaling: "normal" means truncated
    ("truncated_normal", Family.TRUNCATED_NORMAL),
    ("normal", Family.TRUNCATED_NORMAL),
    ("untruncated_normal", Family.NORMAL),
    ("uniform", Family.UNIFORM),
)
_KERAS_AXES = (("input_axes", None), ("output_axes", None))
_DTYPE = ("dtype", None)


def _keras(names, family, params, law, **kw):
    """A Keras 3 initialiser class; ``names`` are bare symbols under keras.initializers."""
    return Initializer(tuple(KI + n for n in names), K, Style.FACTORY, family, tuple(params), law, **kw)


def _factory(names, family, params, law, **kw):
    return Initializer(tuple(names), K, Style.FACTORY, family, tuple(params), law, **kw)


def _preset(names, scale, mode, distribution, scheme, params, axis_defaults=()):
    """A fixed VarianceScaling (Glorot/He/LeCun): realised std sqrt(scale / fan(mode))."""
    family = Family.UNIFORM if distribution == "uniform" else Family.TRUNCATED_NORMAL
    return Initializer(tuple(names), K, Style.FACTORY, family, tuple(params),
                       VarianceScalingLaw(scale, mode, distribution, axis_defaults=axis_defaults),
                       truncation=None if distribution == "uniform" else _TRUNC_AFTER, scheme=scheme)


_KERAS_PRESET_PARAMS = (("seed", None), ("input_axes", None), ("output_axes", None))
_PRESETS = (  # (Class, snake_case, scale, mode, distribution, scheme)
    ("GlorotUniform", "glorot_uniform", 1.0, "fan_avg", "uniform", Scheme.GLOROT),
    ("GlorotNormal", "glorot_normal", 1.0, "fan_avg", "truncated_normal", Scheme.GLOROT),
    ("HeNormal", "he_normal", 2.0, "fan_in", "truncated_normal", Scheme.HE),
    ("HeUniform", "he_uniform", 2.0, "fan_in", "uniform", Scheme.HE),
    ("LecunNormal", "lecun_normal", 1.0, "fan_in", "truncated_normal", Scheme.LECUN),
    ("LecunUniform", "lecun_uniform", 1.0, "fan_in", "uniform", Scheme.LECUN),
)

# --- Keras 3 (keras.initializers, tf.keras.initializers, tf.compat.v1.keras.initializers) --------
INITIALIZERS = (
    # "normal", "uniform": Keras 2 / tf.keras 2 compatibility aliases (gone in Keras 3; Keras 2's "zero" and
    # "one" are left out: the prefilter would read every "one" in a Keras file as a constant initialiser)
    _keras(("RandomNormal", "random_normal", "normal"), Family.NORMAL, [("mean", 0.0), ("stddev", 0.05), ("seed", None)],
           NormalLaw(P("stddev"), P("mean"))),
    _keras(("TruncatedNormal", "truncated_normal"), Family.TRUNCATED_NORMAL,
           [("mean", 0.0), ("stddev", 0.05), ("seed", None)], NormalLaw(P("stddev"), P("mean")),
           truncation=_TRUNC_BEFORE, doc="stddev is before the +-2 stddev cut: realised 0.8796 * stddev"),
    _keras(("RandomUniform", "random_uniform", "uniform"), Family.UNIFORM,
           [("minval", -0.05), ("maxval", 0.05), ("seed", None)], UniformLaw(P("minval"), P("maxval"))),
    _keras(("VarianceScaling", "variance_scaling"), Family.TRUNCATED_NORMAL,
           [("scale", 1.0), ("mode", "fan_in"), ("distribution", "truncated_normal"), ("seed", None),
            ("input_axes", None), ("output_axes", None)],
           VarianceScalingLaw(axis_defaults=_KERAS_AXES), truncation=_TRUNC_AFTER, scheme=Scheme.VARIANCE_SCALING,
           distribution_param="distribution", distribution_families=_VS_FAMILIES,
           doc='distribution="normal" is mapped to "truncated_normal"; use "untruncated_normal" for a normal'),
    *[_preset((KI + cls, KI + snake), scale, mode, dist, scheme, _KERAS_PRESET_PARAMS, _KERAS_AXES)
      for cls, snake, scale, mode, dist, scheme in _PRESETS],
    _keras(("Orthogonal", "orthogonal", "OrthogonalInitializer"), Family.ORTHOGONAL, [("gain", 1.0), ("seed", None)],
           OrthogonalLaw(P("gain")), scheme=Scheme.ORTHOGONAL, raises_below_2d=True),
    _keras(("Identity", "identity", "IdentityInitializer"), Family.IDENTITY, [("gain", 1.0)], UnknownLaw(),
           raises_below_2d=True, doc="gain * eye; raises unless 2-D"),
    _keras(("Zeros", "zeros"), Family.CONSTANT, [], ConstantLaw(0.0)),
    _keras(("Ones", "ones"), Family.CONSTANT, [], ConstantLaw(1.0)),
    _keras(("Constant", "constant"), Family.CONSTANT, [("value", 0.0)], ConstantLaw(P("value"))),
    _keras(("STFT", "stft", "STFTInitializer"), Family.OTHER,
           [("side", "real"), ("window", "hann"), ("scaling", "density"), ("periodic", False)], UnknownLaw()),
)

# --- TF1 init_ops (tf.compat.v1.*, and TF1's own top-level spellings) -----------------------------
INITIALIZERS += (
    _factory((V1 + "random_normal_initializer", V1 + "initializers.random_normal"), Family.NORMAL,
             [("mean", 0.0), ("stddev", 1.0), ("seed", None), _DTYPE], NormalLaw(P("stddev"), P("mean"))),
    _factory((V1 + "truncated_normal_initializer", V1 + "initializers.truncated_normal",
              "tf.truncated_normal_initializer"), Family.TRUNCATED_NORMAL,
             [("mean", 0.0), ("stddev", 1.0), ("seed", None), _DTYPE], NormalLaw(P("stddev"), P("mean")),
             truncation=_TRUNC_BEFORE, doc="TF1 TruncatedNormal: stddev before the +-2 stddev cut"),
    # maxval=None means 1.0 for float dtypes
    _factory((V1 + "random_uniform_initializer", V1 + "initializers.random_uniform"), Family.UNIFORM,
             [("minval", 0.0), ("maxval", 1.0), ("seed", None), _DTYPE], UniformLaw(P("minval"), P("maxval"))),
    _factory((V1 + "constant_initializer", V1 + "initializers.constant"), Family.CONSTANT,
             [("value", 0), _DTYPE, ("verify_shape", False)], ConstantLaw(P("value"))),
    _factory((V1 + "zeros_initializer", V1 + "initializers.zeros"), Family.CONSTANT, [_DTYPE], ConstantLaw(0.0)),
    _factory((V1 + "ones_initializer", V1 + "initializers.ones"), Family.CONSTANT, [_DTYPE], ConstantLaw(1.0)),
    _factory((V1 + "variance_scaling_initializer", V1 + "initializers.variance_scaling",
              "tf.variance_scaling_initializer"), Family.TRUNCATED_NORMAL,
             [("scale", 1.0), ("mode", "fan_in"), ("distribution", "truncated_normal"), ("seed", None), _DTYPE],
             VarianceScalingLaw(), truncation=_TRUNC_AFTER, scheme=Scheme.VARIANCE_SCALING,
             distribution_param="distribution", distribution_families=_VS_FAMILIES),
    _preset((V1 + "glorot_uniform_initializer", V1 + "initializers.glorot_uniform", "tf.glorot_uniform_initializer"),
            1.0, "fan_avg", "uniform", Scheme.GLOROT, (("seed", None), _DTYPE)),
    _preset((V1 + "glorot_normal_initializer", V1 + "initializers.glorot_normal", "tf.glorot_normal_initializer"),
            1.0, "fan_avg", "truncated_normal", Scheme.GLOROT, (("seed", None), _DTYPE)),
    _preset((V1 + "initializers.he_normal",), 2.0, "fan_in", "truncated_normal", Scheme.HE, (("seed", None),)),
    _preset((V1 + "initializers.he_uniform",), 2.0, "fan_in", "uniform", Scheme.HE, (("seed", None),)),
    _preset((V1 + "initializers.lecun_normal",), 1.0, "fan_in", "truncated_normal", Scheme.LECUN, (("seed", None),)),
    _preset((V1 + "initializers.lecun_uniform",), 1.0, "fan_in", "uniform", Scheme.LECUN, (("seed", None),)),
    _factory((V1 + "orthogonal_initializer", V1 + "initializers.orthogonal", "tf.orthogonal_initializer"),
             Family.ORTHOGONAL, [("gain", 1.0), ("seed", None), _DTYPE], OrthogonalLaw(P("gain")),
             scheme=Scheme.ORTHOGONAL, raises_below_2d=True),
    _factory((V1 + "initializers.identity",), Family.IDENTITY, [("gain", 1.0), _DTYPE], UnknownLaw(),
             raises_below_2d=True),
    # U(+-factor*sqrt(3/input_size)), input_size = prod(shape[:-1]) = fan_in for kernels (1 for a vector)
    _factory((V1 + "uniform_unit_scaling_initializer", V1 + "initializers.uniform_unit_scaling",
              "tf.uniform_unit_scaling_initializer"), Family.UNIFORM, [("factor", 1.0), ("seed", None), _DTYPE],
             GainFanLaw(P("factor"), "fan_in")),
)

# --- TF2 top level (init_ops_v2), and the spellings whose defaults TF1 and TF2 disagree on ---------
INITIALIZERS += (
    _factory(("tf.random_normal_initializer", "tf.initializers.random_normal"), Family.NORMAL,
             [("mean", 0.0), ("stddev", VERSION_DEPENDENT), ("seed", None)], NormalLaw(P("stddev"), P("mean")),
             doc="TF2: stddev=0.05; TF1: stddev=1.0"),
    _factory(("tf.random_uniform_initializer", "tf.initializers.random_uniform"), Family.UNIFORM,
             [("minval", VERSION_DEPENDENT), ("maxval", VERSION_DEPENDENT), ("seed", None)],
             UniformLaw(P("minval"), P("maxval")), doc="TF2: U(-0.05, 0.05); TF1: U(0, 1)"),
    _factory(("tf.initializers.truncated_normal",), Family.TRUNCATED_NORMAL,
             [("mean", 0.0), ("stddev", VERSION_DEPENDENT), ("seed", None)], NormalLaw(P("stddev"), P("mean")),
             truncation=_TRUNC_BEFORE, doc="TF >= 2: keras TruncatedNormal (stddev 0.05); TF1: stddev 1.0"),
    _factory(("tf.zeros_initializer",), Family.CONSTANT, [], ConstantLaw(0.0)),
    _factory(("tf.ones_initializer",), Family.CONSTANT, [], ConstantLaw(1.0)),
    _factory(("tf.constant_initializer",), Family.CONSTANT, [("value", 0), ("support_partition", False)],
             ConstantLaw(P("value"))),
)


# --- tensorflow.python.ops.init_ops / init_ops_v2: the private modules behind those spellings -----
# init_ops holds TF1's classes (RandomNormal is tf.compat.v1.random_normal_initializer: stddev 1.0),
# init_ops_v2 TF2's (RandomNormal is TF2's tf.random_normal_initializer: stddev 0.05). Code that
# imports them directly leaves no doubt about the version, so their defaults are fixed here. (Their
# one-word aliases, init_ops_v2.normal/zero/one, are left out: as prefilter words they match too much.)
_IO = "tf.python.ops.init_ops."
_IO2 = "tf.python.ops.init_ops_v2."
_INIT_OPS_SPELLINGS = {  # catalogue entry -> its symbols in init_ops (one object each)
    V1 + "random_normal_initializer": (_IO + "RandomNormal", _IO + "random_normal_initializer"),
    V1 + "truncated_normal_initializer": (_IO + "TruncatedNormal", _IO + "truncated_normal_initializer"),
    V1 + "random_uniform_initializer": (_IO + "RandomUniform", _IO + "random_uniform_initializer"),
    V1 + "constant_initializer": (_IO + "Constant", _IO + "constant_initializer"),
    V1 + "zeros_initializer": (_IO + "Zeros", _IO + "zeros_initializer"),
    V1 + "ones_initializer": (_IO + "Ones", _IO + "ones_initializer"),
    V1 + "variance_scaling_initializer": (_IO + "VarianceScaling", _IO + "variance_scaling_initializer"),
    V1 + "glorot_uniform_initializer": (_IO + "GlorotUniform", _IO + "glorot_uniform_initializer"),
    V1 + "glorot_normal_initializer": (_IO + "GlorotNormal", _IO + "glorot_normal_initializer"),
    V1 + "initializers.he_normal": (_IO + "he_normal",),
    V1 + "initializers.he_uniform": (_IO + "he_uniform",),
    V1 + "initializers.lecun_normal": (_IO + "lecun_normal",),
    V1 + "initializers.lecun_uniform": (_IO + "lecun_uniform",),
    V1 + "orthogonal_initializer": (_IO + "Orthogonal", _IO + "orthogonal_initializer"),
    V1 + "initializers.identity": (_IO + "Identity", _IO + "identity_initializer"),
    V1 + "uniform_unit_scaling_initializer": (_IO + "UniformUnitScaling", _IO + "uniform_unit_scaling_initializer"),
    # TF2's top-level constants are init_ops_v2's classes (zero = zeros = Zeros, ...)
    "tf.zeros_initializer": (_IO2 + "Zeros", _IO2 + "zeros_initializer", _IO2 + "zeros"),
    "tf.ones_initializer": (_IO2 + "Ones", _IO2 + "ones_initializer", _IO2 + "ones"),
    "tf.constant_initializer": (_IO2 + "Constant", _IO2 + "constant_initializer", _IO2 + "constant"),
}
INITIALIZERS = tuple(replace(e, names=e.names + _INIT_OPS_SPELLINGS.get(e.name, ())) for e in INITIALIZERS)


def _v2(names, family, params, law, **kw):
    return _factory(tuple(_IO2 + n for n in names), family, params, law, **kw)


INITIALIZERS += (
    _v2(("RandomNormal", "random_normal_initializer", "random_normal"), Family.NORMAL,
        [("mean", 0.0), ("stddev", 0.05), ("seed", None)], NormalLaw(P("stddev"), P("mean"))),
    _v2(("TruncatedNormal", "truncated_normal_initializer", "truncated_normal"), Family.TRUNCATED_NORMAL,
        [("mean", 0.0), ("stddev", 0.05), ("seed", None)], NormalLaw(P("stddev"), P("mean")),
        truncation=_TRUNC_BEFORE, doc="stddev before the +-2 stddev cut: realised 0.8796 * stddev"),
    _v2(("RandomUniform", "random_uniform_initializer", "random_uniform"), Family.UNIFORM,
        [("minval", -0.05), ("maxval", 0.05), ("seed", None)], UniformLaw(P("minval"), P("maxval"))),
    _v2(("VarianceScaling", "variance_scaling_initializer"), Family.TRUNCATED_NORMAL,
        [("scale", 1.0), ("mode", "fan_in"), ("distribution", "truncated_normal"), ("seed", None)],
        VarianceScalingLaw(), truncation=_TRUNC_AFTER, scheme=Scheme.VARIANCE_SCALING,
        distribution_param="distribution", distribution_families=_VS_FAMILIES),
    _preset((_IO2 + "GlorotUniform", _IO2 + "glorot_uniform_initializer", _IO2 + "glorot_uniform"),
            1.0, "fan_avg", "uniform", Scheme.GLOROT, (("seed", None),)),
    _preset((_IO2 + "GlorotNormal", _IO2 + "glorot_normal_initializer", _IO2 + "glorot_normal"),
            1.0, "fan_avg", "truncated_normal", Scheme.GLOROT, (("seed", None),)),
    _preset((_IO2 + "he_normal",), 2.0, "fan_in", "truncated_normal", Scheme.HE, (("seed", None),)),
    _preset((_IO2 + "he_uniform",), 2.0, "fan_in", "uniform", Scheme.HE, (("seed", None),)),
    _preset((_IO2 + "lecun_normal",), 1.0, "fan_in", "truncated_normal", Scheme.LECUN, (("seed", None),)),
    _preset((_IO2 + "lecun_uniform",), 1.0, "fan_in", "uniform", Scheme.LECUN, (("seed", None),)),
    _v2(("Orthogonal", "orthogonal_initializer", "orthogonal"), Family.ORTHOGONAL, [("gain", 1.0), ("seed", None)],
        OrthogonalLaw(P("gain")), scheme=Scheme.ORTHOGONAL, raises_below_2d=True),
    _v2(("Identity", "identity_initializer", "identity"), Family.IDENTITY, [("gain", 1.0)], UnknownLaw(),
        raises_below_2d=True),
)

# --- tf.contrib.layers (TF <= 1.15; tf.contrib.slim re-exports them) ------------------------------
# contrib/layers/python/layers/initializers.py (r1.15): variance_scaling_initializer(factor=2.0,
# mode='FAN_IN', uniform=False): U(+-sqrt(3 factor / n)), or a normal cut at +-2 sigma with sigma =
# sqrt(1.3 factor / n), which realises 1.0029 sqrt(factor / n). xavier_initializer(uniform=True) is
# variance_scaling_initializer(factor=1.0, mode='FAN_AVG', uniform=uniform): Glorot, uniform or normal.
_CONTRIB = "tf.contrib.layers."
_CONTRIB_FAMILIES = ((True, Family.UNIFORM), (False, Family.TRUNCATED_NORMAL))
INITIALIZERS += (
    _factory((_CONTRIB + "xavier_initializer", _CONTRIB + "xavier_initializer_conv2d"), Family.UNIFORM,
             [("uniform", True), ("seed", None), _DTYPE], ContribVarianceScalingLaw(1.0, "FAN_AVG"),
             truncation=_TRUNC_AFTER, scheme=Scheme.GLOROT, distribution_param="uniform",
             distribution_families=_CONTRIB_FAMILIES, doc="Glorot; uniform=False: a corrected truncated normal"),
    _factory((_CONTRIB + "variance_scaling_initializer",), Family.TRUNCATED_NORMAL,
             [("factor", 2.0), ("mode", "FAN_IN"), ("uniform", False), ("seed", None), _DTYPE],
             ContribVarianceScalingLaw(), truncation=_TRUNC_AFTER, scheme=Scheme.VARIANCE_SCALING,
             distribution_param="uniform", distribution_families=_CONTRIB_FAMILIES,
             doc="defaults are He (factor 2, FAN_IN, truncated normal); modes are upper-case"),
)

# --- samplers: a tensor of the given shape (tf.Variable(tf.random.normal(...))) -----------------
def _sampler(names, family, params, law, **kw):
    return Initializer(tuple(names), K, Style.SAMPLER, family, tuple(params), law, **kw)


_NORMAL_SIG = [("shape", REQUIRED), ("mean", 0.0), ("stddev", 1.0), ("dtype", None), ("seed", None), ("name", None)]
_UNIFORM_SIG = [("shape", REQUIRED), ("minval", 0.0), ("maxval", 1.0), ("dtype", None), ("seed", None),
                ("name", None)]  # maxval=None means 1.0 for float dtypes
_STATELESS_NORMAL = [("shape", REQUIRED), ("seed", REQUIRED), ("mean", 0.0), ("stddev", 1.0), ("dtype", None)]
_STATELESS_UNIFORM = [("shape", REQUIRED), ("seed", REQUIRED), ("minval", 0.0), ("maxval", 1.0), ("dtype", None)]
_KERAS_NORMAL = [("shape", REQUIRED), ("mean", 0.0), ("stddev", 1.0), ("dtype", None), ("seed", None)]

INITIALIZERS += (
    _sampler(("tf.random.normal", "tf.random_normal", V1 + "random_normal", V1 + "random.normal"),
             Family.NORMAL, _NORMAL_SIG, NormalLaw(P("stddev"), P("mean"))),
    _sampler(("tf.random.truncated_normal", "tf.truncated_normal", V1 + "truncated_normal",
              V1 + "random.truncated_normal"), Family.TRUNCATED_NORMAL, _NORMAL_SIG,
             NormalLaw(P("stddev"), P("mean")), truncation=_TRUNC_BEFORE,
             doc="stddev before the +-2 stddev cut: realised 0.8796 * stddev"),
    _sampler(("tf.random.uniform", "tf.random_uniform", V1 + "random_uniform", V1 + "random.uniform"),
             Family.UNIFORM, _UNIFORM_SIG, UniformLaw(P("minval"), P("maxval"))),
    _sampler(("tf.random.stateless_normal",), Family.NORMAL, _STATELESS_NORMAL, NormalLaw(P("stddev"), P("mean"))),
    _sampler(("tf.random.stateless_truncated_normal",), Family.TRUNCATED_NORMAL, _STATELESS_NORMAL,
             NormalLaw(P("stddev"), P("mean")), truncation=_TRUNC_BEFORE),
    _sampler(("tf.random.stateless_uniform",), Family.UNIFORM, _STATELESS_UNIFORM,
             UniformLaw(P("minval"), P("maxval"))),
    _sampler(("tf.zeros", "tf.zeros_like"), Family.CONSTANT, [("shape", REQUIRED), ("dtype", None)], ConstantLaw(0.0)),
    _sampler(("tf.ones", "tf.ones_like"), Family.CONSTANT, [("shape", REQUIRED), ("dtype", None)], ConstantLaw(1.0)),
    _sampler(("tf.fill",), Family.CONSTANT, [("dims", REQUIRED), ("value", REQUIRED)], ConstantLaw(P("value"))),
    _sampler(("keras.random.normal",), Family.NORMAL, _KERAS_NORMAL, NormalLaw(P("stddev"), P("mean"))),
    _sampler(("keras.random.truncated_normal",), Family.TRUNCATED_NORMAL, _KERAS_NORMAL,
             NormalLaw(P("stddev"), P("mean")), truncation=_TRUNC_BEFORE),
    _sampler(("keras.random.uniform",), Family.UNIFORM,
             [("shape", REQUIRED), ("minval", 0.0), ("maxval", 1.0), ("dtype", None), ("seed", None)],
             UniformLaw(P("minval"), P("maxval"))),
    _sampler(("keras.ops.zeros", "keras.ops.zeros_like"), Family.CONSTANT, [("shape", REQUIRED), ("dtype", None)],
             ConstantLaw(0.0)),
    _sampler(("keras.ops.ones", "keras.ops.ones_like"), Family.CONSTANT, [("shape", REQUIRED), ("dtype", None)],
             ConstantLaw(1.0)),
    _sampler(("keras.ops.full",), Family.CONSTANT, [("shape", REQUIRED), ("fill_value", REQUIRED), ("dtype", None)],
             ConstantLaw(P("fill_value"))),
)

# --- strings keras.initializers.get accepts (case-sensitive there; lower-cased here) -------------
_CLASS_NAMES = ("RandomNormal", "TruncatedNormal", "RandomUniform", "VarianceScaling", "GlorotUniform",
                "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal",
                "Identity", "Zeros", "Ones", "Constant", "STFT")
_SNAKE = {"RandomNormal": "random_normal", "TruncatedNormal": "truncated_normal", "RandomUniform": "random_uniform",
          "VarianceScaling": "variance_scaling", "GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal",
          "HeNormal": "he_normal", "HeUniform": "he_uniform", "LecunNormal": "lecun_normal",
          "LecunUniform": "lecun_uniform", "Orthogonal": "orthogonal", "Identity": "identity", "Zeros": "zeros",
          "Ones": "ones", "Constant": "constant", "STFT": "stft"}
STRING_INITIALIZERS = {}
for _cls in _CLASS_NAMES:
    if _cls == "Constant":  # not accepted as a string: Constant.from_config needs "value" (KeyError)
        continue
    STRING_INITIALIZERS[_cls.lower()] = (KI + _cls, {})
    STRING_INITIALIZERS[_SNAKE[_cls]] = (KI + _cls, {})
STRING_INITIALIZERS.update({
    "identityinitializer": (KI + "Identity", {}),
    "orthogonalinitializer": (KI + "Orthogonal", {}),
    "stftinitializer": (KI + "STFT", {}),
    "normal": (KI + "RandomNormal", {}),
    "uniform": (KI + "RandomUniform", {}),
    "one": (KI + "Ones", {}),
    "zero": (KI + "Zeros", {}),
})

# --- layers -------------------------------------------------------------------------------------
_GLOROT = KI + "GlorotUniform"
_ZEROS = KI + "Zeros"
_ONES = KI + "Ones"


def _kernel_layer(names, kind, units=None, kernel=None, weight="kernel", weight_kwarg="kernel_initializer",
                  activation="activation", default_activation=None, extra=(), bias_init=_ZEROS):
    return Layer(tuple("keras.layers." + n for n in names), K, kind, weight, "bias",
                 default_weight_init=_GLOROT, default_bias_init=bias_init, weight_init_kwarg=weight_kwarg,
                 bias_init_kwarg="bias_initializer", activation_kwarg=activation, units_param=units,
                 kernel_param=kernel, extra_weights=tuple(extra), default_activation=default_activation)


def _norm(names, weight="gamma", bias="beta", weight_kwarg="gamma_initializer", bias_kwarg="beta_initializer"):
    return Layer(tuple("keras.layers." + n for n in names), K, LayerKind.NORM, weight, bias,
                 default_weight_init=_ONES, default_bias_init=_ZEROS if bias else None,
                 weight_init_kwarg=weight_kwarg, bias_init_kwarg=bias_kwarg)


LAYERS = (
    _kernel_layer(["Dense"], LayerKind.DENSE, units=("units", 0)),
    _kernel_layer(["EinsumDense"], LayerKind.DENSE),
    *[_kernel_layer([f"Conv{d}D", f"Convolution{d}D"], LayerKind.CONV, ("filters", 0), ("kernel_size", 1))
      for d in (1, 2, 3)],
    # kernel is [k..., filters, in]: Keras' fans read filters as the input axis
    *[_kernel_layer([f"Conv{d}DTranspose", f"Convolution{d}DTranspose"], LayerKind.CONV_TRANSPOSE,
                    ("filters", 0), ("kernel_size", 1)) for d in (1, 2, 3)],
    *[_kernel_layer([f"DepthwiseConv{d}D"], LayerKind.CONV, None, ("kernel_size", 0),
                    weight_kwarg="depthwise_initializer") for d in (1, 2)],
    *[_kernel_layer([f"SeparableConv{d}D", f"SeparableConvolution{d}D"], LayerKind.CONV, ("filters", 0),
                    ("kernel_size", 1), weight="depthwise_kernel", weight_kwarg="depthwise_initializer",
                    extra=("pointwise_kernel",)) for d in (1, 2)],
    Layer(("keras.layers.Embedding",), K, LayerKind.EMBEDDING, "embeddings", None,
          default_weight_init=KI + "RandomUniform", weight_init_kwarg="embeddings_initializer",
          units_param=("output_dim", 1), in_units_param=("input_dim", 0)),
    _norm(["BatchNormalization", "LayerNormalization", "GroupNormalization"]),
    _norm(["RMSNormalization"], weight="scale", bias=None, weight_kwarg=None, bias_kwarg=None),
    # recurrent_kernel defaults to Orthogonal. LSTMs' unit_forget_bias=True sets the forget gate's
    # quarter of the bias to 1 (the rest 0): no single catalogue initialiser, so no bias default.
    *[_kernel_layer([n], LayerKind.RNN, ("units", 0), default_activation="tanh", extra=("recurrent_kernel",))
      for n in ("GRU", "SimpleRNN", "GRUCell", "SimpleRNNCell")],
    *[_kernel_layer([n], LayerKind.RNN, ("units", 0), default_activation="tanh", extra=("recurrent_kernel",),
                    bias_init=None) for n in ("LSTM", "LSTMCell")],
    *[_kernel_layer([f"ConvLSTM{d}D"], LayerKind.RNN, ("filters", 0), ("kernel_size", 1), default_activation="tanh",
                    extra=("recurrent_kernel",), bias_init=None) for d in (1, 2, 3)],
    _kernel_layer(["MultiHeadAttention", "GroupQueryAttention"], LayerKind.ATTENTION,
                  activation=None),
)

# TF1 tf.layers functions (tensorflow/python/layers/{core,convolutional}.py, r1.15): build a layer and
# apply it to ``inputs``, their first argument. kernel_initializer=None leaves the kernel to
# get_variable's default, glorot_uniform_initializer; the bias defaults to zeros_initializer().
_V1_GLOROT = V1 + "glorot_uniform_initializer"


def _tf_layers(names, kind, units, kernel=None):
    spellings = tuple(prefix + n for prefix in ("tf.layers.", V1 + "layers.") for n in names)
    return Layer(spellings, K, kind, "kernel", "bias", default_weight_init=_V1_GLOROT,
                 default_bias_init=V1 + "zeros_initializer", weight_init_kwarg="kernel_initializer",
                 bias_init_kwarg="bias_initializer", activation_kwarg="activation", units_param=units,
                 kernel_param=kernel, functional=True, activation_position=2 if kernel is None else 7)


# tf.contrib.layers (= slim) functions, r1.15 contrib/layers/python/layers/layers.py:
# fully_connected(inputs, num_outputs, activation_fn=nn.relu, ..., weights_initializer=
# initializers.xavier_initializer(), ...), conv2d(inputs, num_outputs, kernel_size, ..., activation_fn=nn.relu,
# ...). Their ReLU default applies when activation_fn is not given; their Xavier default is left out
# (default_weight_init None): slim code sets both through arg_scope more often than not.
def _contrib_layers(names, kind, kernel=None):
    return Layer(tuple(_CONTRIB + n for n in names), K, kind, "weights", "biases",
                 weight_init_kwarg="weights_initializer", bias_init_kwarg="biases_initializer",
                 activation_kwarg="activation_fn", units_param=("num_outputs", 1), kernel_param=kernel,
                 default_activation="relu", functional=True, activation_position=2 if kernel is None else 7)


LAYERS += (
    _contrib_layers(["fully_connected"], LayerKind.DENSE),
    _contrib_layers(["conv2d", "convolution2d"], LayerKind.CONV, ("kernel_size", 2)),
    _contrib_layers(["conv2d_transpose", "convolution2d_transpose"], LayerKind.CONV_TRANSPOSE, ("kernel_size", 2)),
    _tf_layers(["dense"], LayerKind.DENSE, ("units", 1)),
    *[_tf_layers([f"conv{d}d"], LayerKind.CONV, ("filters", 1), ("kernel_size", 2)) for d in (1, 2, 3)],
    *[_tf_layers([f"conv{d}d_transpose"], LayerKind.CONV_TRANSPOSE, ("filters", 1), ("kernel_size", 2))
      for d in (2, 3)],
)

# --- activations --------------------------------------------------------------------------------
def _act(names, activation, style="function", slope=None, default_slope=None, activation_param=None):
    return ActivationEntry(tuple(names), K, activation, style, slope, default_slope, activation_param)


_KA = "keras.activations."
_L = "keras.layers."
ACTIVATIONS = (
    _act([_KA + "relu", _KA + "relu6", "tf.nn.relu", "tf.nn.relu6"], Activation.RELU),
    _act([_KA + "leaky_relu"], Activation.LEAKY_RELU, slope=("negative_slope", 1), default_slope=0.2),
    _act(["tf.nn.leaky_relu"], Activation.LEAKY_RELU, slope=("alpha", 1), default_slope=0.2),
    _act([_KA + "tanh", "tf.nn.tanh", "tf.tanh", "tf.math.tanh"], Activation.TANH),
    _act([_KA + "sigmoid", "tf.nn.sigmoid", "tf.sigmoid", "tf.math.sigmoid"], Activation.SIGMOID),
    _act([_KA + "selu", "tf.nn.selu"], Activation.SELU),
    _act([_KA + "gelu", "tf.nn.gelu"], Activation.GELU),
    _act([_KA + "silu", _KA + "swish", _KA + "mish", _KA + "hard_silu", _KA + "hard_swish", "tf.nn.silu",
          "tf.nn.swish"], Activation.SILU),
    _act([_KA + "elu", _KA + "celu", "tf.nn.elu"], Activation.ELU),
    _act([_KA + "softmax", _KA + "log_softmax", "tf.nn.softmax", "tf.math.softmax", "tf.nn.log_softmax"],
         Activation.SOFTMAX),
    _act([_KA + "softplus", "tf.nn.softplus", "tf.math.softplus"], Activation.SOFTPLUS),
    _act([_KA + "softsign", "tf.nn.softsign", "tf.math.softsign"], Activation.SOFTSIGN),
    _act([_KA + "linear"], Activation.LINEAR),
    # layers
    _act([_L + "ReLU"], Activation.RELU, "module"),
    _act([_L + "LeakyReLU"], Activation.LEAKY_RELU, "module", ("negative_slope", 0), 0.3),
    # Keras PReLU starts at alpha_initializer="Zeros": a plain ReLU at init
    _act([_L + "PReLU"], Activation.LEAKY_RELU, "module", None, 0.0),
    _act([_L + "ELU"], Activation.ELU, "module"),
    _act([_L + "Softmax"], Activation.SOFTMAX, "module"),
    _act([_L + "Activation"], Activation.LINEAR, "module", activation_param=("activation", 0)),
)

# keras.activations.get: names of ALL_OBJECTS plus "swish"/"hard_swish"
STRING_ACTIVATIONS = {
    "relu": (Activation.RELU, None),
    "relu6": (Activation.RELU, None),
    "leaky_relu": (Activation.LEAKY_RELU, 0.2),
    "tanh": (Activation.TANH, None),
    "sigmoid": (Activation.SIGMOID, None),
    "selu": (Activation.SELU, None),
    "gelu": (Activation.GELU, None),
    "silu": (Activation.SILU, None),
    "swish": (Activation.SILU, None),
    "mish": (Activation.SILU, None),
    "hard_silu": (Activation.SILU, None),
    "hard_swish": (Activation.SILU, None),
    "elu": (Activation.ELU, None),
    "celu": (Activation.ELU, None),
    "softmax": (Activation.SOFTMAX, None),
    "log_softmax": (Activation.SOFTMAX, None),
    "softplus": (Activation.SOFTPLUS, None),
    "softsign": (Activation.SOFTSIGN, None),
    "linear": (Activation.LINEAR, None),
}
