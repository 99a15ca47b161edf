"""Hold the initialiser catalogue to reality.

Every catalogue initialiser whose framework is importable here and whose law gives a std is drawn
from the *real* framework (fixed seeds, a few argument sets, conv-shaped tensors so that fans
matter) and compared with what the catalogue predicts: std, mean, distribution family (excess
kurtosis), and where samples are cut. Layer defaults are checked by building the real layers,
signatures (positional order, defaults, keyword names) by inspecting the real callables, and every
catalogue name by importing it. MXNet is not importable (its wheel needs numpy < 2): its entries are
checked only for internal consistency.

Fans follow each framework's layout: torch/MXNet [out, in, k...], Keras/Flax [k..., in, out].
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import functools
import importlib
import importlib.util
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import pytest

from initlint import catalogue
from initlint.catalogue import (
    REQUIRED,
    VERSION_DEPENDENT,
    Activation,
    Family,
    Framework,
    Style,
    fans,
    truncated_std_factor,
)
from initlint.catalogue.model import UnknownLaw

scipy_stats = pytest.importorskip("scipy.stats")

SEED = 1234
TORCH_CONV = (256, 96, 3, 3)  # fan_in 864, fan_out 2304, 221k values
KERAS_CONV = (3, 3, 96, 256)  # the same kernel in Keras/Flax layout
TORCH_2D = (512, 384)  # fan_in 384, fan_out 512
KERAS_2D = (384, 512)
LAYOUT = {Framework.TORCH: "torch", Framework.KERAS: "keras", Framework.JAX: "flax"}


class _Placeholder:
    def __init__(self, label):
        self.label = label

    def __repr__(self):
        return self.label


TENSOR = _Placeholder("TENSOR")  # the tensor a torch in-place init fills
SHAPE = _Placeholder("SHAPE")  # the shape a sampler draws
KEY = _Placeholder("KEY")  # a JAX PRNG key
SEED2 = _Placeholder("SEED2")  # a stateless TF seed pair


# --- framework access (each imported once, lazily) ------------------------------------------------


@functools.lru_cache(maxsize=None)
def _module(name: str):
    return pytest.importorskip(name)


def _need(framework: Framework):
    if framework is Framework.TORCH:
        return _module("torch")
    if framework is Framework.KERAS:
        _module("tensorflow")
        return _module("keras")
    if framework is Framework.JAX:
        _module("flax")
        return _module("jax")
    pytest.skip(f"{framework.value} is not importable here")


@functools.lru_cache(maxsize=None)
def _timm_weight_init():
    """timm/layers/weight_init.py alone: the timm package imports torchvision, which is broken here."""
    spec = importlib.util.find_spec("timm")
    if spec is None or spec.origin is None:
        pytest.skip("timm is not installed")
    path = os.path.join(os.path.dirname(spec.origin), "layers", "weight_init.py")
    module_spec = importlib.util.spec_from_file_location("_initlint_timm_weight_init", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


_MISSING = object()


def resolve(name: str):
    """Import a catalogue name (``tf.`` means ``tensorflow.``); _MISSING if it does not exist."""
    if name.startswith("timm.layers."):
        return getattr(_timm_weight_init(), name.rsplit(".", 1)[1], _MISSING)
    if name.startswith("tf."):
        name = "tensorflow." + name[3:]
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


def _seed(framework: Framework, seed: int):
    np.random.seed(seed)
    if framework is Framework.TORCH:
        _module("torch").manual_seed(seed)
    elif framework is Framework.KERAS:
        _module("keras").utils.set_random_seed(seed)


# --- cases -----------------------------------------------------------------------------------------


@dataclass
class Case:
    entry: str  # a catalogue name
    label: str
    pos: Tuple = ()
    kw: Dict[str, Any] = field(default_factory=dict)
    shape: Optional[Tuple[int, ...]] = None  # default: the framework's conv shape
    via: Optional[str] = None  # sample through this spelling (default: the entry's first name)

    @property
    def id(self):
        return f"{self.entry}[{self.label}]"


def C(entry, label="defaults", *pos, shape=None, via=None, **kw):
    return Case(entry, label, tuple(pos), kw, shape, via)


TI = "torch.nn.init."
KI = "keras.initializers."
V1 = "tf.compat.v1."
IO = "tf.python.ops.init_ops."
IO2 = "tf.python.ops.init_ops_v2."
JI = "jax.nn.initializers."
RELU_GAIN = math.sqrt(2.0)

TORCH_CASES = [
    C(TI + "normal_", "defaults", TENSOR, shape=TORCH_2D),
    C(TI + "normal_", "mean.5,std.02", TENSOR, mean=0.5, std=0.02),
    C(TI + "uniform_", "defaults", TENSOR, shape=TORCH_2D),
    C(TI + "uniform_", "a-.3,b.1", TENSOR, -0.3, 0.1),
    # the case: std=.02 with the default absolute bounds +-2 truncates nothing
    C(TI + "trunc_normal_", "std.02", TENSOR, std=0.02, shape=TORCH_2D),
    C(TI + "trunc_normal_", "defaults", TENSOR),
    C(TI + "trunc_normal_", "a-1.5,b1.5", TENSOR, 0.0, 1.0, -1.5, 1.5),
    C(TI + "trunc_normal_", "narrow", TENSOR, std=1.0, a=-0.3, b=0.3),  # torch's rejection-sampling branch
    C("timm.layers.trunc_normal_", "std.02", TENSOR, std=0.02, shape=TORCH_2D),
    C("timm.layers.trunc_normal_tf_", "std.02", TENSOR, std=0.02, shape=TORCH_2D),
    C("timm.layers.trunc_normal_tf_", "std3,a-1,b1", TENSOR, 0.0, 3.0, -1.0, 1.0),
    C(TI + "constant_", "0.3", TENSOR, 0.3),
    C(TI + "ones_", "defaults", TENSOR),
    C(TI + "zeros_", "defaults", TENSOR),
    C(TI + "xavier_uniform_", "defaults", TENSOR),
    C(TI + "xavier_uniform_", "gain-relu", TENSOR, gain=RELU_GAIN, shape=TORCH_2D),
    C(TI + "xavier_normal_", "defaults", TENSOR),
    C(TI + "xavier_normal_", "gain-relu", TENSOR, RELU_GAIN, shape=TORCH_2D),
    C(TI + "kaiming_uniform_", "defaults", TENSOR),
    C(TI + "kaiming_uniform_", "a-sqrt5", TENSOR, a=math.sqrt(5), shape=TORCH_2D),
    C(TI + "kaiming_uniform_", "fan_out-relu", TENSOR, mode="fan_out", nonlinearity="relu"),
    C(TI + "kaiming_normal_", "defaults", TENSOR),
    C(TI + "kaiming_normal_", "fan_out-relu", TENSOR, 0, "fan_out", "relu"),
    C(TI + "kaiming_normal_", "leaky.2", TENSOR, a=0.2, shape=TORCH_2D),
    C(TI + "kaiming_normal_", "tanh", TENSOR, nonlinearity="tanh", shape=TORCH_2D),
    C(TI + "orthogonal_", "defaults", TENSOR),
    C(TI + "orthogonal_", "gain2", TENSOR, gain=2.0, shape=TORCH_2D),
    C(TI + "orthogonal_", "tall", TENSOR, shape=(1024, 192)),
    C("timm.layers.variance_scaling_", "defaults", TENSOR),
    C("timm.layers.variance_scaling_", "2,fan_avg,truncated", TENSOR, 2.0, "fan_avg", "truncated_normal",
      shape=TORCH_2D),
    C("timm.layers.variance_scaling_", "uniform", TENSOR, distribution="uniform"),
    C("timm.layers.lecun_normal_", "defaults", TENSOR),
    C("torch.Tensor.normal_", "0.1,0.02", 0.1, 0.02),
    C("torch.Tensor.normal_", "defaults", shape=TORCH_2D),
    C("torch.Tensor.uniform_", "-1,1", -1.0, 1.0),
    C("torch.Tensor.uniform_", "defaults", shape=TORCH_2D),
    C("torch.Tensor.fill_", "0.7", 0.7),
    C("torch.Tensor.zero_"),
    C("torch.randn", "defaults", SHAPE),
    C("torch.rand", "defaults", SHAPE),
    C("torch.zeros", "defaults", SHAPE),
    C("torch.ones", "defaults", SHAPE),
    C("torch.full", "0.25", SHAPE, 0.25),
    C("torch.normal", "0.5,0.1", 0.5, 0.1, SHAPE),
]

_PRESETS = ("GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform")
KERAS_CASES = [
    C(KI + "RandomNormal", "defaults", shape=KERAS_2D),
    C(KI + "RandomNormal", "0.1,0.2", 0.1, 0.2),
    C(KI + "TruncatedNormal", "defaults", shape=KERAS_2D),
    # the case: TruncatedNormal(stddev=s) realises 0.8796 s
    C(KI + "TruncatedNormal", "stddev.02", stddev=0.02),
    C(KI + "TruncatedNormal", "0,1", 0.0, 1.0, via=KI + "truncated_normal"),
    C(KI + "RandomUniform", "defaults", shape=KERAS_2D),
    C(KI + "RandomUniform", "-1,3", -1.0, 3.0),
    C(KI + "VarianceScaling", "defaults"),
    C(KI + "VarianceScaling", "2,fan_out,normal", 2.0, "fan_out", "normal", shape=KERAS_2D),
    C(KI + "VarianceScaling", "fan_avg,untruncated", mode="fan_avg", distribution="untruncated_normal"),
    C(KI + "VarianceScaling", "3,uniform", 3.0, distribution="uniform", shape=KERAS_2D),
    *[C(KI + p, "defaults") for p in _PRESETS],
    *[C(KI + p, "2d", shape=KERAS_2D) for p in _PRESETS],
    C(KI + "HeNormal", "alias-he_normal", via=KI + "he_normal"),
    C(KI + "Orthogonal", "defaults"),
    C(KI + "Orthogonal", "gain.5", 0.5, shape=KERAS_2D),
    C(KI + "Zeros"),
    C(KI + "Ones"),
    C(KI + "Constant", "0.3", 0.3),
    # TF1 init_ops, through tf.compat.v1
    C(V1 + "random_normal_initializer", "defaults", shape=KERAS_2D),
    C(V1 + "random_normal_initializer", "0,.02", 0.0, 0.02),
    C(V1 + "truncated_normal_initializer", "defaults", shape=KERAS_2D),
    C(V1 + "truncated_normal_initializer", "stddev.02", stddev=0.02, via=V1 + "initializers.truncated_normal"),
    C(V1 + "random_uniform_initializer", "defaults", shape=KERAS_2D),
    C(V1 + "random_uniform_initializer", "-.2,.2", -0.2, 0.2),
    C(V1 + "constant_initializer", "0.5", 0.5),
    C(V1 + "zeros_initializer"),
    C(V1 + "ones_initializer"),
    C(V1 + "variance_scaling_initializer", "defaults"),
    C(V1 + "variance_scaling_initializer", "2,fan_in,normal", 2.0, "fan_in", "normal", shape=KERAS_2D),
    C(V1 + "variance_scaling_initializer", "untruncated", distribution="untruncated_normal"),
    C(V1 + "variance_scaling_initializer", "uniform,fan_out", mode="fan_out", distribution="uniform"),
    C(V1 + "glorot_uniform_initializer"),
    C(V1 + "glorot_normal_initializer"),
    C(V1 + "initializers.he_normal"),
    C(V1 + "initializers.he_uniform"),
    C(V1 + "initializers.lecun_normal"),
    C(V1 + "initializers.lecun_uniform"),
    C(V1 + "orthogonal_initializer", "defaults"),
    C(V1 + "orthogonal_initializer", "gain2", 2.0, shape=KERAS_2D),
    C(V1 + "uniform_unit_scaling_initializer", "defaults"),
    C(V1 + "uniform_unit_scaling_initializer", "factor1.43", 1.43, shape=KERAS_2D),
    # TF2 top level, and the TF1/TF2-ambiguous spellings (explicit arguments only)
    C("tf.random_normal_initializer", "0,.02", 0.0, 0.02),
    C("tf.random_normal_initializer", "keras-0,.3", 0.0, 0.3, via="tf.initializers.random_normal"),
    C("tf.random_uniform_initializer", "-.5,.5", -0.5, 0.5),
    C("tf.initializers.truncated_normal", "stddev.3", stddev=0.3),
    C("tf.zeros_initializer"),
    C("tf.ones_initializer"),
    C("tf.constant_initializer", "0.2", 0.2),
    # the private modules behind them: init_ops is TF1's (stddev 1.0), init_ops_v2 TF2's (0.05)
    C(V1 + "random_normal_initializer", "init_ops", shape=KERAS_2D, via=IO + "RandomNormal"),
    C(V1 + "variance_scaling_initializer", "init_ops-normal", 2.0, "fan_in", "normal", via=IO + "VarianceScaling"),
    C(V1 + "initializers.he_normal", "init_ops", via=IO + "he_normal"),
    C(IO2 + "RandomNormal", "defaults", shape=KERAS_2D),
    C(IO2 + "RandomNormal", "alias", 0.1, 0.3, via=IO2 + "random_normal"),
    C(IO2 + "TruncatedNormal", "defaults", shape=KERAS_2D),
    C(IO2 + "TruncatedNormal", "stddev.02", stddev=0.02, via=IO2 + "truncated_normal"),
    C(IO2 + "RandomUniform", "defaults", shape=KERAS_2D),
    C(IO2 + "VarianceScaling", "defaults"),
    C(IO2 + "VarianceScaling", "2,fan_out,normal", 2.0, "fan_out", "normal", shape=KERAS_2D),
    C(IO2 + "VarianceScaling", "uniform", distribution="uniform"),
    C(IO2 + "GlorotUniform"),
    C(IO2 + "GlorotNormal", "alias", via=IO2 + "glorot_normal"),
    C(IO2 + "he_normal"),
    C(IO2 + "he_uniform"),
    C(IO2 + "lecun_normal"),
    C(IO2 + "lecun_uniform"),
    C(IO2 + "Orthogonal", "defaults"),
    C(IO2 + "Orthogonal", "gain2", 2.0, shape=KERAS_2D),
    C("tf.zeros_initializer", "init_ops_v2", via=IO2 + "zeros"),
    # Keras 2 spelled keras.initializers.normal; tf.keras.initializers.normal is gone with Keras 3,
    # so the entry is drawn through its Keras 3 name and the alias only checked to be absent there
    C(KI + "RandomNormal", "alias-normal", 0.0, 0.1, via=KI + "random_normal"),
    # samplers
    C("tf.random.normal", "0,.3", SHAPE, 0.0, 0.3),
    C("tf.random.truncated_normal", "stddev.5", SHAPE, stddev=0.5),
    C("tf.random.truncated_normal", "defaults", SHAPE, via=V1 + "truncated_normal"),
    C("tf.random.uniform", "defaults", SHAPE),
    C("tf.random.uniform", "-2,2", SHAPE, -2.0, 2.0),
    C("tf.random.stateless_normal", "defaults", SHAPE, SEED2),
    C("tf.random.stateless_truncated_normal", "0,2", SHAPE, SEED2, 0.0, 2.0),
    C("tf.random.stateless_uniform", "defaults", SHAPE, SEED2),
    C("tf.zeros", "defaults", SHAPE),
    C("tf.ones", "defaults", SHAPE),
    C("tf.fill", "0.5", SHAPE, 0.5),
    C("keras.random.normal", "stddev.1", SHAPE, stddev=0.1),
    C("keras.random.truncated_normal", "defaults", SHAPE),
    C("keras.random.uniform", "-1,1", SHAPE, -1.0, 1.0),
    C("keras.ops.zeros", "defaults", SHAPE),
    C("keras.ops.ones", "defaults", SHAPE),
    C("keras.ops.full", "0.5", SHAPE, 0.5),
]

_JAX_PRESETS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal")
JAX_CASES = [
    C(JI + "zeros", "defaults", KEY, SHAPE),
    C(JI + "ones", "defaults", KEY, SHAPE, via="flax.linen.ones"),
    C(JI + "zeros_init", "defaults", via="flax.linen.initializers.zeros_init"),
    C(JI + "ones_init", "defaults", via="flax.linen.initializers.ones_init"),
    C(JI + "constant", "0.3", 0.3),
    C(JI + "uniform", "defaults", shape=KERAS_2D),
    C(JI + "uniform", "2", 2.0),
    C(JI + "normal", "defaults", shape=KERAS_2D),
    C(JI + "normal", "0.5", 0.5),
    C(JI + "truncated_normal", "defaults", shape=KERAS_2D),
    # ENV.md: Flax truncated_normal(0.02) realises ~0.0176
    C(JI + "truncated_normal", "0.02", 0.02, via="flax.linen.initializers.truncated_normal"),
    C(JI + "truncated_normal", "1,-1.5,1.5", 1.0, lower=-1.5, upper=1.5),
    C(JI + "variance_scaling", "1,fan_in,normal", 1.0, "fan_in", "normal"),
    C(JI + "variance_scaling", "2,fan_avg,truncated", 2.0, "fan_avg", "truncated_normal", shape=KERAS_2D),
    C(JI + "variance_scaling", "1,fan_geo_avg,uniform", 1.0, "fan_geo_avg", "uniform"),
    C(JI + "variance_scaling", "1,fan_out,normal", scale=1.0, mode="fan_out", distribution="normal",
      shape=KERAS_2D),
    *[C(JI + p, "defaults") for p in _JAX_PRESETS],
    *[C(JI + p, "2d", shape=KERAS_2D) for p in _JAX_PRESETS],
    C(JI + "he_normal", "alias-kaiming_normal", via=JI + "kaiming_normal"),
    C(JI + "glorot_uniform", "alias-xavier_uniform", via="flax.linen.initializers.xavier_uniform"),
    C(JI + "orthogonal", "defaults"),
    C(JI + "orthogonal", "scale2", 2.0, shape=KERAS_2D),
    C(JI + "delta_orthogonal", "defaults"),
    C("jax.random.normal", "defaults", KEY, SHAPE),
    C("jax.random.truncated_normal", "-2,2", KEY, -2.0, 2.0, SHAPE),
    C("jax.random.truncated_normal", "-1,1", KEY, -1.0, 1.0, SHAPE),
    C("jax.random.uniform", "defaults", KEY, SHAPE),
    C("jax.random.uniform", "-3,1", KEY, SHAPE, minval=-3.0, maxval=1.0),
    C("jax.numpy.zeros", "defaults", SHAPE),
    C("jax.numpy.ones", "defaults", SHAPE),
    C("jax.numpy.full", "0.5", SHAPE, 0.5),
]

CASES = [(Framework.TORCH, c) for c in TORCH_CASES] + [(Framework.KERAS, c) for c in KERAS_CASES] + [
    (Framework.JAX, c) for c in JAX_CASES
]


# --- drawing from the real framework --------------------------------------------------------------


def _substitute(values, framework, shape, seed):
    out = []
    for value in values:
        if value is SHAPE:
            value = list(shape) if framework is Framework.KERAS else tuple(shape)
        elif value is KEY:
            value = _module("jax").random.key(seed)
        elif value is SEED2:
            value = [seed, 7]
        out.append(value)
    return out


def draw(framework: Framework, entry, case: Case, shape, seed=SEED) -> np.ndarray:
    """Call the real initialiser the way user code would, and return its samples."""
    _need(framework)
    _seed(framework, seed)
    name = case.via or entry.names[0]
    obj = resolve(name)
    assert obj is not _MISSING, f"{name} does not exist"
    if framework is Framework.TORCH:
        torch = _module("torch")
        tensor = torch.empty(shape)
        if name.startswith("torch.Tensor."):
            getattr(tensor, name.rsplit(".", 1)[1])(*case.pos, **case.kw)
            result = tensor
        elif entry.style is Style.INPLACE:
            pos = [tensor if p is TENSOR else p for p in case.pos]
            obj(*pos, **case.kw)
            result = tensor
        else:
            result = obj(*_substitute(case.pos, framework, shape, seed), **case.kw)
        return result.detach().numpy().astype(np.float64).ravel()
    if entry.style in (Style.SAMPLER, Style.FUNCTION):
        result = obj(*_substitute(case.pos, framework, shape, seed), **case.kw)
    elif framework is Framework.KERAS:
        result = obj(*case.pos, **case.kw)(list(shape))
    else:
        jax = _module("jax")
        result = obj(*case.pos, **case.kw)(jax.random.key(seed), tuple(shape))
    return np.asarray(result, dtype=np.float64).ravel()


def bind(entry, case: Case) -> dict:
    return entry.bind(case.pos, case.kw)


def _expected_kurtosis(family, bounds) -> Optional[float]:
    if family is Family.NORMAL:
        return 0.0
    if family is Family.UNIFORM:
        return -1.2
    if family is Family.TRUNCATED_NORMAL and bounds is not None:
        return float(scipy_stats.truncnorm.stats(bounds[0], bounds[1], moments="k"))
    return None


def check_samples(entry, args, samples, fan_in, fan_out, receptive, what=""):
    """Assert the samples agree with the catalogue; return (predicted std, sample std)."""
    n = samples.size
    std = entry.std(args, fan_in, fan_out, receptive)
    mean = entry.mean(args)
    assert std is not None, f"{entry.name}{what}: the catalogue gives no std for {args}"
    sample_std = float(samples.std())
    sample_mean = float(samples.mean())
    family = entry.family_for(args)
    if std == 0.0:
        assert np.all(np.abs(samples - mean) <= 1e-6 * max(1.0, abs(mean))), (  # float32 storage
            f"{entry.name}{what}: expected the constant {mean}, got values in [{samples.min()}, {samples.max()}]")
        return std, sample_std
    truncation = entry.truncation_for(args) if entry.distribution_param else entry.truncation
    bounds = None
    if truncation is not None:
        nominal = entry.nominal_std(args, fan_in, fan_out, receptive)
        # bounds in units of the pre-truncation sigma
        if truncation.std_is == "before":
            bounds = truncation.bounds_in_std_units(args, mean or 0.0, nominal)
            sigma = nominal
        else:
            bounds = truncation.bounds_in_std_units(args, mean or 0.0, std)
            sigma = std / truncated_std_factor(*bounds)
    kurt_expected = _expected_kurtosis(family, bounds)
    # relative standard error of a sample std: sqrt((excess kurtosis + 2) / 4n)
    rel_se = math.sqrt(((kurt_expected if kurt_expected is not None else 0.0) + 2) / (4 * n))
    tol = max(0.015, 6 * rel_se)
    assert sample_std == pytest.approx(std, rel=tol), (
        f"{entry.name}{what}: std {sample_std:.6g}, catalogue says {std:.6g} (fans {fan_in}, {fan_out})")
    assert abs(sample_mean - mean) <= 6 * std / math.sqrt(n) + 1e-7, (
        f"{entry.name}{what}: mean {sample_mean:.6g}, catalogue says {mean}")
    if kurt_expected is not None:
        kurt = float(scipy_stats.kurtosis(samples))
        assert kurt == pytest.approx(kurt_expected, abs=max(0.08, 8 * math.sqrt(24 / n))), (
            f"{entry.name}{what}: excess kurtosis {kurt:.3f}, a {family.value} "
            f"{'cut at %s ' % (bounds,) if bounds else ''}has {kurt_expected:.3f}")
    if bounds is not None:
        low, high = (mean or 0.0) + bounds[0] * sigma, (mean or 0.0) + bounds[1] * sigma
        span = high - low
        slack = 1e-6 * span
        assert samples.min() >= low - slack and samples.max() <= high + slack, (
            f"{entry.name}{what}: samples in [{samples.min():.5g}, {samples.max():.5g}], "
            f"cut at [{low:.5g}, {high:.5g}]")
        if max(abs(bounds[0]), abs(bounds[1])) <= 4:  # the cut is reachable: samples come close to it
            assert samples.min() <= low + 0.01 * span and samples.max() >= high - 0.01 * span, (
                f"{entry.name}{what}: samples in [{samples.min():.5g}, {samples.max():.5g}] never approach "
                f"the cut at [{low:.5g}, {high:.5g}]")
    return std, sample_std


@pytest.mark.parametrize("framework,case", CASES, ids=[c.id for _, c in CASES])
def test_initializer_matches_framework(framework, case):
    entry = catalogue.initializer(case.entry)
    assert entry is not None, f"{case.entry} is not in the catalogue"
    assert entry.framework is framework
    if case.via:
        assert catalogue.initializer(case.via) is entry, f"{case.via} should reach {entry.name}"
    shape = case.shape or (TORCH_CONV if framework is Framework.TORCH else KERAS_CONV)
    samples = draw(framework, entry, case, shape)
    fan_in, fan_out, receptive = fans(shape, LAYOUT[framework])
    check_samples(entry, bind(entry, case), samples, fan_in, fan_out, receptive, f"[{case.label}]")


# --- the cases named in the issue, spelled out --------------------------------------------------


def test_keras_truncated_normal_realises_088_of_stddev():
    _need(Framework.KERAS)
    keras = _module("keras")
    entry = catalogue.initializer("tf.keras.initializers.TruncatedNormal")
    samples = np.asarray(keras.initializers.TruncatedNormal(stddev=0.05, seed=1)([512, 512]), np.float64)
    assert entry.std(entry.bind((), {"stddev": 0.05})) == pytest.approx(0.05 * 0.87962566, rel=1e-6)
    assert samples.std() == pytest.approx(0.05 * 0.8796, rel=0.01)


def test_keras_he_normal_is_sqrt_2_over_fan_in():
    _need(Framework.KERAS)
    keras = _module("keras")
    entry = catalogue.initializer("tensorflow.keras.initializers.HeNormal")
    samples = np.asarray(keras.initializers.HeNormal(seed=1)([3, 3, 64, 128]), np.float64)
    fan_in = 3 * 3 * 64
    assert entry.std(entry.bind(), fan_in, 3 * 3 * 128) == pytest.approx(math.sqrt(2 / fan_in))
    assert samples.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.015)


def test_truncated_normal_with_he_std_is_not_he_normal():
    """The article's bug: truncated_normal(stddev=sqrt(2/fan_in)) is 0.88x he_normal."""
    _need(Framework.KERAS)
    keras = _module("keras")
    fan_in = 3 * 3 * 64
    he = catalogue.initializer("tf.compat.v1.initializers.he_normal")
    trunc = catalogue.initializer("tf.initializers.truncated_normal")
    std_he = he.std(he.bind(), fan_in, 1)
    std_trunc = trunc.std(trunc.bind((), {"mean": 0.0, "stddev": math.sqrt(2 / fan_in)}), fan_in, 1)
    assert std_trunc / std_he == pytest.approx(0.8796, abs=1e-4)
    samples = np.asarray(keras.initializers.TruncatedNormal(0.0, math.sqrt(2 / fan_in), seed=3)([3, 3, 64, 128]))
    assert samples.std() == pytest.approx(std_trunc, rel=0.015)


def test_torch_trunc_normal_std_002_truncates_nothing():
    torch = _need(Framework.TORCH)
    torch.manual_seed(0)
    w = torch.nn.init.trunc_normal_(torch.empty(512, 512), std=0.02)
    entry = catalogue.initializer("torch.nn.init.trunc_normal_")
    args = entry.bind((w,), {"std": 0.02})
    assert entry.std(args) == pytest.approx(0.02, rel=1e-9)  # bounds at +-100 sigma
    assert float(w.std()) == pytest.approx(0.02, rel=0.015)
    assert float(w.abs().max()) < 0.2


def test_version_dependent_tf_defaults_really_differ():
    """tf.random_normal_initializer() is N(0, .05) in TF2 but N(0, 1) in TF1: the catalogue won't guess."""
    _need(Framework.KERAS)
    tf = _module("tensorflow")
    tf.random.set_seed(0)
    v2 = np.asarray(tf.random_normal_initializer()([256, 256]))
    v1 = np.asarray(tf.compat.v1.random_normal_initializer()([256, 256]))
    assert v2.std() == pytest.approx(0.05, rel=0.02) and v1.std() == pytest.approx(1.0, rel=0.02)
    v2u = np.asarray(tf.random_uniform_initializer()([256, 256]))
    v1u = np.asarray(tf.compat.v1.random_uniform_initializer()([256, 256]))
    assert v2u.min() < 0 < v1u.min()
    for name in ("tf.random_normal_initializer", "tf.random_uniform_initializer", "tf.initializers.random_normal",
                 "tf.initializers.random_uniform", "tf.initializers.truncated_normal"):
        entry = catalogue.initializer(name)
        assert entry.std(entry.bind(), 100, 100) is None, name
    # and TF 2.21's tf.initializers is Keras': the same class as keras.initializers
    assert tf.initializers.truncated_normal is _module("keras").initializers.TruncatedNormal


# --- raising below 2-D -------------------------------------------------------------------------------


def _raises_on_vector(framework, entry) -> Optional[bool]:
    """Whether the real initialiser raises on a 1-D tensor (None: not applicable)."""
    if entry.style is Style.SAMPLER or isinstance(entry.law, UnknownLaw) and entry.family is not Family.IDENTITY:
        return None
    obj = resolve(entry.names[0])
    if obj is _MISSING:
        return None
    try:
        if framework is Framework.TORCH:
            torch = _module("torch")
            t = torch.empty(16)
            if entry.names[0].startswith("torch.Tensor."):
                return None
            required = [v for k, v in entry.params[1:] if v is REQUIRED]
            obj(t, *([0.5] * len(required)))
        elif framework is Framework.KERAS:
            required = [v for k, v in entry.params if v is REQUIRED]
            if required:
                return None
            obj()([16])
        else:
            jax = _module("jax")
            if entry.style is Style.FUNCTION:
                if "default_embed_init" in entry.names[0]:
                    return None
                obj(jax.random.key(0), (16,))
            else:
                required = [v for k, v in entry.params if v is REQUIRED]
                init = obj(*([1.0, "fan_in", "normal"] if entry.names[0].endswith("variance_scaling") else
                             [0.5] * len(required)))
                init(jax.random.key(0), (16,))
    except Exception:  # noqa: BLE001 - any error is "raises"
        return True
    return False


@pytest.mark.parametrize("framework", [Framework.TORCH, Framework.KERAS, Framework.JAX], ids=lambda f: f.value)
def test_raises_below_2d_matches_framework(framework):
    _need(framework)
    wrong = []
    for entry in catalogue.by_framework(framework):
        if entry.names[0].startswith("timm.") or "._" in entry.names[0]:
            continue
        raises = _raises_on_vector(framework, entry)
        if raises is not None and raises != entry.raises_below_2d:
            wrong.append(f"{entry.name}: raises={raises}, catalogue says {entry.raises_below_2d}")
    assert not wrong, "\n".join(wrong)


# --- layer defaults ---------------------------------------------------------------------------------


@dataclass
class LayerCase:
    layer: str
    label: str
    build: Callable[[], Tuple[np.ndarray, Optional[np.ndarray]]]  # -> (weight, bias) as built


def _weights(layer_name):
    """The catalogue's weight and bias attribute names for a layer (what the builders read)."""
    layer = catalogue.layer(layer_name)
    assert layer is not None, f"{layer_name} is not in the catalogue"
    return layer.weight, layer.bias


def _torch_layer(name, factory):
    def build():
        torch = _need(Framework.TORCH)
        torch.manual_seed(SEED)
        module = factory(torch.nn)
        weight, bias = _weights(name)
        w = getattr(module, weight).detach().numpy()
        b = getattr(module, bias) if bias else None
        return w, (None if b is None else b.detach().numpy())

    return name, build


def _keras_layer(name, factory, input_shape):
    def build():
        keras = _need(Framework.KERAS)
        keras.utils.set_random_seed(SEED)
        layer = factory(keras.layers)
        layer.build(input_shape)
        owner = getattr(layer, "cell", layer)  # RNN layers keep their weights on the cell
        weight, bias = _weights(name)
        w = np.asarray(getattr(owner, weight))
        b = getattr(owner, bias, None) if bias else None
        return w, (None if b is None else np.asarray(b))

    return name, build


def _flax_layer(name, factory, x, sub=(), reshape=None):
    def build():
        jax = _need(Framework.JAX)
        nn = _module("flax.linen")
        variables = factory(nn).init(jax.random.key(SEED), x(jax.numpy))["params"]
        for part in sub:
            variables = variables[part]
        weight, bias = _weights(name)
        w = np.asarray(variables[weight])
        if reshape:
            w = w.reshape(reshape)
        return w, (np.asarray(variables[bias]) if bias else None)

    return name, build


def _nnx_layer(name, factory):
    def build():
        _need(Framework.JAX)
        nnx = _module("flax.nnx")
        module = factory(nnx, nnx.Rngs(SEED))
        weight, bias = _weights(name)
        w = np.asarray(getattr(module, weight)[...])
        b = getattr(module, bias, None) if bias else None
        return w, (None if b is None else np.asarray(b[...]))

    return name, build


def L(label, spec):
    name, build = spec
    return LayerCase(name, label, build)


def _ones(shape, dtype=None):
    return lambda jnp: jnp.ones(shape, dtype)


LAYER_CASES = [
    # the case: nn.Linear(300, 200) has std 1/sqrt(3 * 300)
    L("300-200", _torch_layer("torch.nn.Linear", lambda nn: nn.Linear(300, 200))),
    L("1024-512", _torch_layer("torch.nn.Linear", lambda nn: nn.Linear(1024, 512))),
    L("96-256-3", _torch_layer("torch.nn.Conv2d", lambda nn: nn.Conv2d(96, 256, 3))),
    L("96-256-3", _torch_layer("torch.nn.ConvTranspose2d", lambda nn: nn.ConvTranspose2d(96, 256, 3))),
    L("60-50-40", _torch_layer("torch.nn.Bilinear", lambda nn: nn.Bilinear(60, 50, 40))),
    L("1000-256", _torch_layer("torch.nn.Embedding", lambda nn: nn.Embedding(1000, 256))),
    L("256", _torch_layer("torch.nn.LayerNorm", lambda nn: nn.LayerNorm(256))),
    L("64", _torch_layer("torch.nn.BatchNorm2d", lambda nn: nn.BatchNorm2d(64))),
    L("256-8", _torch_layer("torch.nn.MultiheadAttention", lambda nn: nn.MultiheadAttention(256, 8))),
    L("300-512", _keras_layer("keras.layers.Dense", lambda k: k.Dense(512), (None, 300))),
    L("96-256-3", _keras_layer("keras.layers.Conv2D", lambda k: k.Conv2D(256, 3), (None, 16, 16, 96))),
    L("96-256-3", _keras_layer("keras.layers.Conv2DTranspose", lambda k: k.Conv2DTranspose(256, 3),
                               (None, 16, 16, 96))),
    L("96x64", _keras_layer("keras.layers.DepthwiseConv2D", lambda k: k.DepthwiseConv2D(3, depth_multiplier=64),
                            (None, 16, 16, 96))),
    L("1000-256", _keras_layer("keras.layers.Embedding", lambda k: k.Embedding(1000, 256), (None,))),
    L("256", _keras_layer("keras.layers.LayerNormalization", lambda k: k.LayerNormalization(), (None, 256))),
    L("64", _keras_layer("keras.layers.BatchNormalization", lambda k: k.BatchNormalization(), (None, 8, 8, 64))),
    L("300-128", _keras_layer("keras.layers.GRU", lambda k: k.GRU(128), (None, 10, 300))),
    # the case: Flax Dense defaults to LeCun normal (std 1/sqrt(fan_in), truncated and corrected)
    L("300-512", _flax_layer("flax.linen.Dense", lambda nn: nn.Dense(512), _ones((1, 300)))),
    L("96-256-3", _flax_layer("flax.linen.Conv", lambda nn: nn.Conv(256, (3, 3)), _ones((1, 16, 16, 96)))),
    L("96-256-3", _flax_layer("flax.linen.ConvTranspose", lambda nn: nn.ConvTranspose(256, (3, 3)),
                              _ones((1, 16, 16, 96)))),
    L("1000-256", _flax_layer("flax.linen.Embed", lambda nn: nn.Embed(1000, 256), _ones((1, 4), "int32"))),
    L("256", _flax_layer("flax.linen.LayerNorm", lambda nn: nn.LayerNorm(), _ones((1, 256)))),
    # attention kernels are [in, heads, head_dim]: the fans are those of the [in, heads*head_dim] matrix
    L("256-8", _flax_layer("flax.linen.MultiHeadDotProductAttention",
                           lambda nn: nn.MultiHeadDotProductAttention(num_heads=8, qkv_features=256),
                           _ones((1, 4, 256)), sub=("query",), reshape=(256, 256))),
    L("300-512", _nnx_layer("flax.nnx.Linear", lambda nnx, r: nnx.Linear(300, 512, rngs=r))),
    L("96-256-3", _nnx_layer("flax.nnx.Conv", lambda nnx, r: nnx.Conv(96, 256, (3, 3), rngs=r))),
    L("1000-256", _nnx_layer("flax.nnx.Embed", lambda nnx, r: nnx.Embed(1000, 256, rngs=r))),
    L("256", _nnx_layer("flax.nnx.LayerNorm", lambda nnx, r: nnx.LayerNorm(256, rngs=r))),
]


def _default_args(entry, layer_args):
    positional = ("<tensor>",) if entry.style is Style.INPLACE and entry.params[:1] == (("tensor", REQUIRED),) else ()
    return entry.bind(positional, dict(layer_args))


@pytest.mark.parametrize("case", LAYER_CASES, ids=[f"{c.layer}[{c.label}]" for c in LAYER_CASES])
def test_layer_defaults_match_framework(case):
    layer = catalogue.layer(case.layer)
    assert layer is not None, f"{case.layer} is not in the catalogue"
    weight, bias = case.build()
    fan_in, fan_out, receptive = fans(weight.shape, LAYOUT[layer.framework])
    entry = catalogue.initializer(layer.default_weight_init)
    assert entry is not None, layer.default_weight_init
    check_samples(entry, _default_args(entry, layer.default_weight_args), weight.astype(np.float64).ravel(),
                  fan_in, fan_out, receptive, f" as {case.layer} weight")
    if bias is not None:
        assert layer.default_bias_init is not None, f"{case.layer} has a bias but no bias default"
        bias_entry = catalogue.initializer(layer.default_bias_init)
        # a bias default's fans are those of the layer's weight
        check_samples(bias_entry, _default_args(bias_entry, layer.default_bias_args),
                      bias.astype(np.float64).ravel(), fan_in, fan_out, receptive, f" as {case.layer} bias")


def test_torch_linear_default_is_one_over_sqrt_3_fan_in():
    torch = _need(Framework.TORCH)
    torch.manual_seed(0)
    layer = catalogue.layer("torch.nn.modules.linear.Linear")
    entry = catalogue.initializer(layer.default_weight_init)
    std = entry.std(_default_args(entry, layer.default_weight_args), 300, 200)
    assert std == pytest.approx(1 / math.sqrt(3 * 300))
    assert float(torch.nn.Linear(300, 200).weight.detach().std()) == pytest.approx(std, rel=0.02)


def test_flax_dense_default_is_lecun_normal():
    layer = catalogue.layer("flax.linen.linear.Dense")
    entry = catalogue.initializer(layer.default_weight_init)
    assert entry.effective_scheme(entry.bind()) is catalogue.Scheme.LECUN
    assert entry.family is Family.TRUNCATED_NORMAL
    assert entry.std(entry.bind(), 300, 512) == pytest.approx(1 / math.sqrt(300))


# --- signatures: positional order, defaults, keyword names ---------------------------------------

_UNCOMPARED_DEFAULTS = {"dtype", "seed", "name", "generator", "layout", "out_sharding"}
# documented substitutions: TF's maxval=None means 1.0 for float dtypes
_SUBSTITUTED = {("maxval", None, 1.0)}


def _signature(obj):
    try:
        target = obj.__init__ if inspect.isclass(obj) else obj
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    params = [p for p in sig.parameters.values() if p.name != "self"]
    return [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _importable_entries(kind):
    table = {"initializer": catalogue.INITIALIZERS, "layer": catalogue.LAYERS, "activation": catalogue.ACTIVATIONS}
    return [e for e in table[kind] if e.framework is not Framework.MXNET]


@pytest.mark.parametrize("framework", [Framework.TORCH, Framework.KERAS, Framework.JAX], ids=lambda f: f.value)
def test_initializer_signatures_match_framework(framework):
    _need(framework)
    wrong = []
    for entry in catalogue.by_framework(framework):
        name = entry.names[0]
        if "._" in name or name.startswith(("torch.Tensor.", "timm.")):
            continue
        obj = resolve(name)
        params = _signature(obj) if obj is not _MISSING else None
        if params is None:
            continue
        positional = [p for p in params if p.kind is not p.KEYWORD_ONLY]
        for index, (pname, default) in enumerate(entry.params):
            if pname in entry.keyword_only:
                continue
            if index >= len(positional) or positional[index].name != pname:
                got = positional[index].name if index < len(positional) else "nothing"
                wrong.append(f"{name}: parameter {index} is {got}, catalogue says {pname}")
                break
            real = positional[index].default
            if pname in _UNCOMPARED_DEFAULTS or default is VERSION_DEPENDENT:
                continue
            if default is REQUIRED:
                if real is not inspect.Parameter.empty:
                    wrong.append(f"{name}: {pname} has default {real!r}, catalogue says required")
            elif real is inspect.Parameter.empty:
                wrong.append(f"{name}: {pname} is required, catalogue says default {default!r}")
            elif real != default and (pname, real, default) not in _SUBSTITUTED:
                wrong.append(f"{name}: {pname} defaults to {real!r}, catalogue says {default!r}")
    assert not wrong, "\n".join(wrong)


def _layer_params(obj):
    """Constructor parameters after self, in order (flax linen: dataclass fields, parent/name last)."""
    params = _signature(obj)
    if params is None:
        return None
    return [p.name for p in params if p.name not in ("parent", "name") or p.kind is p.KEYWORD_ONLY]


@pytest.mark.parametrize("framework", [Framework.TORCH, Framework.KERAS, Framework.JAX], ids=lambda f: f.value)
def test_layer_signatures_match_framework(framework):
    _need(framework)
    wrong = []
    for layer in catalogue.LAYERS:
        if layer.framework is not framework:
            continue
        for name in layer.names:
            if _gone(name):  # TF1 tf.layers.*: see test_tf1_layers_follow_their_source
                continue
            obj = resolve(name)
            if obj is _MISSING:
                wrong.append(f"{name} does not exist")
                continue
            names = _layer_params(obj)
            if not names:  # (*args, **kwargs): torch RNNs
                continue
            for what, param in (("units", layer.units_param), ("in_units", layer.in_units_param),
                                ("kernel", layer.kernel_param)):
                if param and (param[1] >= len(names) or names[param[1]] != param[0]):
                    wrong.append(f"{name}: {what} {param} but parameters are {names[:param[1] + 2]}")
            for kwarg in (layer.weight_init_kwarg, layer.bias_init_kwarg, layer.activation_kwarg):
                if kwarg and kwarg not in names:
                    wrong.append(f"{name}: no keyword {kwarg}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("framework", [Framework.TORCH, Framework.KERAS, Framework.JAX], ids=lambda f: f.value)
def test_activation_slopes_match_framework(framework):
    _need(framework)
    wrong = []
    for entry in catalogue.ACTIVATIONS:
        if entry.framework is not framework:
            continue
        for name in entry.names:
            obj = resolve(name)
            if obj is _MISSING:
                wrong.append(f"{name} does not exist")
                continue
            for param in (entry.slope_param, entry.activation_param):
                if param is None:
                    continue
                names = _layer_params(obj) if entry.style == "module" else [p.name for p in (_signature(obj) or [])]
                if not names:  # a builtin without an introspectable signature
                    continue
                if param[1] >= len(names) or names[param[1]] != param[0]:
                    wrong.append(f"{name}: {param} but parameters are {names}")
                elif param is entry.slope_param and entry.default_slope is not None:
                    sig = _signature(obj)
                    real = next(p.default for p in sig if p.name == param[0])
                    if real != entry.default_slope:
                        wrong.append(f"{name}: {param[0]} defaults to {real}, catalogue says {entry.default_slope}")
    assert not wrong, "\n".join(wrong)


def test_keras_prelu_starts_as_relu_and_leaky_relu_slope():
    keras = _need(Framework.KERAS)
    layer = keras.layers.PReLU()
    layer.build((None, 4))
    assert np.all(np.asarray(layer.alpha) == 0.0)
    assert catalogue.activation("keras.layers.PReLU").default_slope == 0.0
    assert keras.layers.LeakyReLU().negative_slope == catalogue.activation("tf.keras.layers.LeakyReLU").default_slope
    assert inspect.signature(keras.activations.leaky_relu).parameters["negative_slope"].default == \
        catalogue.activation_from_string(Framework.KERAS, "leaky_relu")[1]


# --- every name exists, strings resolve ---------------------------------------------------------------

# TF1-only top-level spellings: absent from TF 2, present (same suffix) under tf.compat.v1
_TF1_ONLY = {"tf.truncated_normal_initializer", "tf.variance_scaling_initializer", "tf.glorot_uniform_initializer",
             "tf.glorot_normal_initializer", "tf.orthogonal_initializer", "tf.uniform_unit_scaling_initializer",
             "tf.random_normal", "tf.truncated_normal", "tf.random_uniform"}


# Spellings of TF <= 1.15 and Keras 2 that TF 2.21 / Keras 3 no longer have: held to the r1.15 and
# Keras 2 sources instead (tf.contrib's initialisers by test_contrib_initializers_follow_their_source)
_GONE = ("tf.layers.", "tf.compat.v1.layers.", "tf.contrib.", "keras.initializers.normal",
         "keras.initializers.uniform")


def _gone(name: str) -> bool:
    return name.startswith(_GONE) and (not name.startswith("keras.initializers.") or name in _GONE)


def _spellings_may_differ(entry) -> bool:
    """Entries whose spellings are different objects by design: torch's deprecated aliases and
    *_like samplers, TF1-vs-TF2 spellings, TF1 top-level names, Flax linen/nnx default instances."""
    return (entry.framework is Framework.TORCH or entry.style is Style.FUNCTION
            or any(default is VERSION_DEPENDENT for _, default in entry.params)
            or any(name in _TF1_ONLY or name.endswith("_like") for name in entry.names))


@pytest.mark.parametrize("framework", [Framework.TORCH, Framework.KERAS, Framework.JAX], ids=lambda f: f.value)
def test_every_name_exists(framework):
    _need(framework)
    missing = []
    for kind in ("initializer", "layer", "activation"):
        for entry in _importable_entries(kind):
            if entry.framework is not framework:
                continue
            objects = set()
            for name in entry.names:
                if "._" in name:  # synthetic: torch.nn.init._default_bias
                    continue
                if name.startswith("timm.") and importlib.util.find_spec("timm") is None:
                    continue
                if name in _TF1_ONLY:
                    assert resolve(name) is _MISSING, f"{name} exists in this TF: not TF1-only"
                    name = "tf.compat.v1." + name[3:]
                if _gone(name):
                    obj = resolve(name)
                    assert obj is _MISSING or (name.startswith("tf.compat.v1.layers.") and not callable(obj)), \
                        f"{name} exists in this TF/Keras: drop it from _GONE and check it here"
                    continue
                obj = resolve(name)
                if obj is _MISSING:
                    missing.append(name)
                elif kind == "initializer" and not name.startswith("torch.Tensor."):
                    objects.add(id(obj))
            # one initialiser entry = one object, however it is spelled
            if kind == "initializer" and len(objects) > 1 and not _spellings_may_differ(entry):
                missing.append(f"{entry.name}: its names reach {len(objects)} different objects")
    assert not missing, "\n".join(missing)


def test_keras_strings_are_accepted_by_keras():
    keras = _need(Framework.KERAS)
    for key, (entry_name, _args) in catalogue.keras_entries.STRING_INITIALIZERS.items():
        entry = catalogue.initializer(entry_name)
        assert entry is not None, entry_name
        cls = resolve(entry.names[0])
        # Keras' own spelling of the key: snake_case keys as they are, CamelCase keys by class name
        spelled = key if "_" in key or key in ("normal", "uniform", "one", "zero", "zeros", "ones", "constant",
                                               "identity", "orthogonal", "stft") else cls.__name__
        if key.endswith("initializer"):
            spelled = {"identityinitializer": "IdentityInitializer", "orthogonalinitializer": "OrthogonalInitializer",
                       "stftinitializer": "STFTInitializer"}[key]
        got = keras.initializers.get(spelled)
        assert isinstance(got, cls), f"keras.initializers.get({spelled!r}) is {type(got).__name__}, not {cls.__name__}"
    for key in catalogue.keras_entries.STRING_ACTIVATIONS:
        keras.activations.get(key)  # raises for an unknown name


def test_string_tables_resolve():
    for framework in Framework:
        module = {Framework.TORCH: catalogue.torch_entries, Framework.KERAS: catalogue.keras_entries,
                  Framework.JAX: catalogue.jax_entries, Framework.MXNET: catalogue.mxnet_entries}[framework]
        for key in getattr(module, "STRING_INITIALIZERS", {}):
            hit = catalogue.initializer_from_string(framework, key.upper())
            assert hit is not None and hit[0].framework is framework, key
        for key, (act, _slope) in getattr(module, "STRING_ACTIVATIONS", {}).items():
            assert catalogue.activation_from_string(framework, key) == (act, _slope)
    for layer in catalogue.LAYERS:
        for init in (layer.default_weight_init, layer.default_bias_init):
            assert init is None or catalogue.initializer(init) is not None, f"{layer.name}: {init}"
        if layer.default_activation:
            assert (catalogue.activation_from_string(layer.framework, layer.default_activation)
                    or catalogue.activation(layer.default_activation)) is not None, layer.name


# --- MXNet, from its source -------------------------------------------------------------------------


def test_mxnet_facts_from_source():
    from initlint.catalogue import mxnet_entries

    xavier = catalogue.initializer("mxnet.initializer.Xavier")
    args = xavier.bind()
    # default: U(-c, c), c = sqrt(3 / ((fan_in + fan_out) / 2)): Glorot uniform
    assert xavier.std(args, 300, 100) == pytest.approx(math.sqrt(2 / 400))
    assert xavier.family_for(args) is Family.UNIFORM and xavier.effective_scheme(args) is catalogue.Scheme.GLOROT
    he = xavier.bind((), {"rnd_type": "gaussian", "factor_type": "in", "magnitude": 2})
    assert xavier.std(he, 300, 100) == pytest.approx(math.sqrt(2 / 300))
    assert xavier.effective_scheme(he) is catalogue.Scheme.HE
    assert xavier.raises_below_2d
    msra = catalogue.initializer("mxnet.init.MSRAPrelu")
    assert msra.std(msra.bind(), 300, 100) == pytest.approx(math.sqrt(2 / (1 + 0.25**2) / 200))
    uniform = catalogue.initializer(mxnet_entries.DEFAULT_INITIALIZE)
    assert uniform.std(uniform.bind()) == pytest.approx(0.14 / math.sqrt(12)) and uniform.mean(uniform.bind()) == 0
    orth = catalogue.initializer("mxnet.init.Orthogonal")
    assert orth.std(orth.bind(), 64 * 9, 128 * 9, 9) == pytest.approx(1.414 / math.sqrt(576))
    assert catalogue.initializer_from_string(Framework.MXNET, "Xavier")[0] is xavier
    assert catalogue.activation_from_string(Framework.MXNET, "softrelu")[0] is Activation.SOFTPLUS
    dense = catalogue.layer("mxnet.gluon.nn.basic_layers.Dense")
    assert dense.default_weight_init == mxnet_entries.DEFAULT_INITIALIZE and dense.units_param == ("units", 0)


def test_fans_and_effective_scheme():
    assert fans((64, 32, 3, 3), "torch") == (288, 576, 9)
    assert fans((3, 3, 32, 64), "keras") == (288, 576, 9)
    assert fans((16,), "keras") == (16, 16, 1) and fans((16,), "torch") == (None, None, 1)
    vs = catalogue.initializer("keras.initializers.VarianceScaling")
    assert vs.effective_scheme(vs.bind((2.0, "fan_in"))) is catalogue.Scheme.HE
    assert vs.effective_scheme(vs.bind((1.0, "fan_avg", "uniform"))) is catalogue.Scheme.GLOROT
    assert vs.effective_scheme(vs.bind()) is catalogue.Scheme.LECUN
    assert vs.effective_scheme(vs.bind((3.0,))) is catalogue.Scheme.VARIANCE_SCALING
    assert vs.family_for(vs.bind((), {"distribution": "normal"})) is Family.TRUNCATED_NORMAL
    jvs = catalogue.initializer("flax.linen.initializers.variance_scaling")
    assert jvs.family_for(jvs.bind((1.0, "fan_in", "normal"))) is Family.NORMAL
    assert jvs.std(jvs.bind((1.0, "fan_in", "normal"), {"in_axis": 0}), 100, 100) is None  # axes moved
    kaiming = catalogue.initializer("torch.nn.init.kaiming_normal_")
    assert kaiming.std(kaiming.bind(("w",), {"a": "slope"}), 100, 100) is None  # unresolved slope


# --- coverage: no entry with a std escapes the samples above -----------------------------------------


# --- TF1 spellings TF 2.21 no longer has, from the r1.15 source -------------------------------------


def _contrib_sample(factor, mode, uniform, shape, seed=SEED):
    """tensorflow/contrib/layers/python/layers/initializers.py (r1.15), variance_scaling_initializer's
    _initializer, transcribed onto the TF ops it calls: fans from the [k..., in, out] shape, then
    random_uniform(+-sqrt(3 factor / n)) or truncated_normal(0, sqrt(1.3 factor / n))."""
    tf = _module("tensorflow")
    fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1])
    fan_out = float(shape[-1])
    for dim in shape[:-2]:
        fan_in *= float(dim)
        fan_out *= float(dim)
    n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]
    tf.random.set_seed(seed)
    if uniform:
        limit = math.sqrt(3.0 * factor / n)
        values = tf.random.uniform(shape, -limit, limit)
    else:
        values = tf.random.truncated_normal(shape, 0.0, math.sqrt(1.3 * factor / n))
    return np.asarray(values, dtype=np.float64).ravel()


_CONTRIB_CASES = [  # (entry, positional, keywords, what contrib's function passes on)
    ("tf.contrib.layers.xavier_initializer", (), {}, (1.0, "FAN_AVG", True)),
    ("tf.contrib.layers.xavier_initializer", (False,), {}, (1.0, "FAN_AVG", False)),
    ("tf.contrib.layers.xavier_initializer_conv2d", (), {"uniform": False}, (1.0, "FAN_AVG", False)),
    ("tf.contrib.layers.variance_scaling_initializer", (), {}, (2.0, "FAN_IN", False)),
    ("tf.contrib.layers.variance_scaling_initializer", (1.0, "FAN_AVG", True), {}, (1.0, "FAN_AVG", True)),
    ("tf.contrib.layers.variance_scaling_initializer", (), {"mode": "FAN_OUT", "factor": 3.0},
     (3.0, "FAN_OUT", False)),
]


@pytest.mark.parametrize("name,pos,kw,passed", _CONTRIB_CASES, ids=[f"{c[0]}{c[1]}{c[2]}" for c in _CONTRIB_CASES])
def test_contrib_initializers_follow_their_source(name, pos, kw, passed):
    _need(Framework.KERAS)
    entry = catalogue.initializer(name)
    assert entry is not None and entry.framework is Framework.KERAS
    args = entry.bind(pos, kw)
    for shape in (KERAS_CONV, KERAS_2D):
        samples = _contrib_sample(*passed, shape)
        fan_in, fan_out, receptive = fans(shape, "keras")
        check_samples(entry, args, samples, fan_in, fan_out, receptive, f"[{shape}]")
    assert entry.effective_scheme(args) is {(1.0, "FAN_AVG"): catalogue.Scheme.GLOROT,
                                            (2.0, "FAN_IN"): catalogue.Scheme.HE}.get(passed[:2], entry.scheme)
    if "mode" in dict(entry.params):  # contrib raises on a lower-case mode: no std to promise
        assert entry.std(entry.bind((), {"mode": "fan_in"}), 100, 100) is None


def test_contrib_xavier_is_glorot_and_slim_reaches_it():
    xavier = catalogue.initializer("tensorflow.contrib.slim.xavier_initializer")
    assert xavier is catalogue.initializer("tf.contrib.layers.xavier_initializer_conv2d")
    assert xavier.scheme is catalogue.Scheme.GLOROT and xavier.family_for(xavier.bind()) is Family.UNIFORM
    assert xavier.family_for(xavier.bind((False,))) is Family.TRUNCATED_NORMAL


def test_tf1_layers_follow_their_source():
    """tensorflow/python/layers/{core,convolutional}.py (r1.15): dense(inputs, units, activation=None,
    use_bias=True, kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(), ...),
    conv2d(inputs, filters, kernel_size, ...); kernel_initializer=None leaves the kernel to
    get_variable, whose default for floats is glorot_uniform_initializer()."""
    for spelling in ("tf.layers.dense", "tensorflow.compat.v1.layers.dense"):
        dense = catalogue.layer(spelling)
        assert dense.functional and dense.units_param == ("units", 1) and dense.activation_kwarg == "activation"
        assert catalogue.initializer(dense.default_weight_init) is catalogue.initializer(
            "tf.compat.v1.glorot_uniform_initializer")
    assert dense.activation_position == 2
    conv = catalogue.layer("tf.layers.conv2d")
    assert conv.units_param == ("filters", 1) and conv.kernel_param == ("kernel_size", 2)
    # conv2d(inputs, filters, kernel_size, strides, padding, data_format, dilation_rate, activation, ...)
    assert conv.activation_position == 7
    assert catalogue.layer("tf.layers.Dense") is catalogue.layer("keras.layers.Dense")
    # contrib/layers/python/layers/layers.py (r1.15): fully_connected(inputs, num_outputs,
    # activation_fn=nn.relu, ..., weights_initializer=initializers.xavier_initializer(), ...)
    fc = catalogue.layer("tensorflow.contrib.slim.fully_connected")
    assert fc is catalogue.layer("tf.contrib.layers.fully_connected") and fc.functional
    assert fc.units_param == ("num_outputs", 1) and fc.default_activation == "relu"
    assert (fc.weight_init_kwarg, fc.activation_kwarg) == ("weights_initializer", "activation_fn")
    assert catalogue.layer("tf.contrib.layers.conv2d").kernel_param == ("kernel_size", 2)
    # conv2d(inputs, num_outputs, kernel_size, stride, padding, data_format, rate, activation_fn, ...)
    assert (fc.activation_position, catalogue.layer("tf.contrib.layers.conv2d").activation_position) == (2, 7)


def test_every_entry_with_a_std_is_sampled():
    covered = {id(catalogue.initializer(c.entry)) for _, c in CASES}
    covered |= {id(catalogue.initializer(name)) for name, *_ in _CONTRIB_CASES}
    for case in LAYER_CASES:
        layer = catalogue.layer(case.layer)
        for init in (layer.default_weight_init, layer.default_bias_init):
            if init:
                covered.add(id(catalogue.initializer(init)))
    untested = [e.name for e in catalogue.INITIALIZERS
                if e.framework is not Framework.MXNET and not isinstance(e.law, UnknownLaw) and id(e) not in covered]
    assert not untested, "entries with a std but no sample from the real framework:\n" + "\n".join(untested)


def test_cases_name_catalogue_entries_of_their_framework():
    for framework, case in CASES:
        entry = catalogue.initializer(case.entry)
        assert entry is not None and entry.framework is framework, case.id
