"""Statistics on parameter tensors: bounded memory, real tests, multiple-testing control.

A tensor is read through a ``TensorHandle`` (numpy here; the torch adapter has its own that stays on
the device). Moments are exact over the whole tensor, accumulated in float64 over chunks of at most
``CHUNK`` values, so no float64 copy of a large tensor is ever made; the distribution-shape tests
(Kolmogorov-Smirnov, excess kurtosis) use a bounded random sample.

Why these tests: a KS test needs about 5,000 values to see a std 0.88x off at alpha=1e-4, while a
test of the variance sees it with a few hundred, so scale is tested through the variance (with the
family's kurtosis in its standard error) and shape through KS plus kurtosis (normal 0, normal cut at
+-2 sigma -0.634, uniform -1.2). Below ``MIN_VALUES`` values nothing is tested: "too few values to
tell" is a verdict, a false alarm is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from .results import Moments

CHUNK = 1 << 20
SAMPLE_SIZE = 20_000  # values drawn for the shape tests (KS, kurtosis)
MIN_VALUES = 30  # fewer values: too few to tell
MIN_SHAPE_VALUES = 200  # the shape tests need more
STD_EFFECT = 0.05  # a std within 5% of the promise is never reported, however significant
FAMILY_KURTOSIS = {"normal": 0.0, "uniform": -1.2}


class TensorHandle:
    """Read access to one tensor. Subclasses keep the data where it lives (numpy, a torch device)."""

    def moments(self) -> Moments:  # pragma: no cover - interface
        raise NotImplementedError

    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def unit_fingerprints(self, unit_axis: int, rng: np.random.Generator) -> Optional[np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def units_equal(self, unit_axis: int, i: int, j: int) -> bool:  # pragma: no cover
        raise NotImplementedError

    def probe(self) -> Tuple[float, ...]:  # pragma: no cover
        """A few exact values at fixed positions: equal probes make two tensors candidates for INI604."""
        raise NotImplementedError

    def equals(self, other: "TensorHandle") -> bool:  # pragma: no cover
        raise NotImplementedError

    def distinct_at_most(self, k: int) -> bool:
        """True when the tensor holds at most ``k`` distinct values (a structured, non-random tensor)."""
        return False


def combine(parts: Sequence[Tuple[int, float, float]]) -> Tuple[int, float, float]:
    """Chan et al.'s parallel merge of (count, mean, M2) triples."""
    count, mean, m2 = 0, 0.0, 0.0
    for n, m, s in parts:
        if n == 0:
            continue
        total = count + n
        delta = m - mean
        mean += delta * n / total
        m2 += s + delta * delta * count * n / total
        count = total
    return count, mean, m2


def array_moments(flat: np.ndarray) -> Moments:
    """Exact moments of a 1-D array in float64, CHUNK values at a time."""
    parts = []
    low, high, nonfinite = math.inf, -math.inf, 0
    for start in range(0, flat.size, CHUNK):
        chunk = np.asarray(flat[start:start + CHUNK], dtype=np.float64)
        finite = np.isfinite(chunk)
        if not finite.all():
            nonfinite += int(chunk.size - finite.sum())
            chunk = chunk[finite]
        if chunk.size == 0:
            continue
        mean = float(chunk.mean())
        parts.append((chunk.size, mean, float(np.square(chunk - mean).sum())))
        low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    count, mean, m2 = combine(parts)
    std = math.sqrt(m2 / count) if count else math.nan
    if not count:
        low = high = mean = math.nan
    return Moments(int(flat.size), mean, std, low, high, finite=nonfinite == 0, nonfinite=nonfinite)


def _as_units(array: np.ndarray, unit_axis: int) -> np.ndarray:
    """[units, rest] without a copy when the unit axis is the first or the last."""
    units = array.shape[unit_axis]
    if unit_axis == 0:
        return array.reshape(units, -1)
    return np.moveaxis(array, unit_axis, 0).reshape(units, -1)


class ArrayHandle(TensorHandle):
    """A numpy array (Keras and JAX tensors arrive as one, one tensor at a time)."""

    def __init__(self, getter: Callable[[], np.ndarray]):
        self._getter = getter

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self._getter())

    def moments(self) -> Moments:
        return array_moments(self.array.reshape(-1))

    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        flat = self.array.reshape(-1)
        if flat.size <= size:
            values = np.asarray(flat, dtype=np.float64)
        else:
            values = np.asarray(flat[rng.integers(0, flat.size, size)], dtype=np.float64)
        return values[np.isfinite(values)]

    def unit_fingerprints(self, unit_axis: int, rng: np.random.Generator) -> Optional[np.ndarray]:
        array = self.array
        units = _as_units(array, unit_axis) if unit_axis == 0 else None
        if units is None and unit_axis in (-1, array.ndim - 1):
            rest = int(array.size // array.shape[-1])
            weights = rng.standard_normal(rest).astype(np.float32)
            return np.asarray(weights @ array.reshape(rest, -1), dtype=np.float64)
        if units is None:
            units = _as_units(array, unit_axis)
        weights = rng.standard_normal(units.shape[1]).astype(np.float32)
        return np.asarray(units.astype(np.float32, copy=False) @ weights, dtype=np.float64)

    def units_equal(self, unit_axis: int, i: int, j: int) -> bool:
        array = self.array
        return bool(np.array_equal(np.take(array, i, axis=unit_axis), np.take(array, j, axis=unit_axis)))

    def probe(self) -> Tuple[float, ...]:
        flat = self.array.reshape(-1)
        if flat.size == 0:
            return ()
        positions = np.unique(np.linspace(0, flat.size - 1, num=min(16, flat.size)).astype(np.int64))
        return tuple(float(v) for v in flat[positions])

    def equals(self, other: TensorHandle) -> bool:
        if not isinstance(other, ArrayHandle):
            return False
        return bool(np.array_equal(self.array, other.array))

    def distinct_at_most(self, k: int) -> bool:
        flat = self.array.reshape(-1)
        head = flat[: min(flat.size, 4096)]
        return np.unique(head).size <= k


# --- tests --------------------------------------------------------------------------------------


@dataclass
class Test:
    """One hypothesis test on one tensor. ``p`` None: not a statistical question (an impossibility
    such as a value beyond the declared cut, or a constant tensor): reported whatever alpha is."""

    tensor: str
    code: str
    p: Optional[float]
    message: str
    effect: bool = True  # the effect is large enough to matter, whatever the p-value
    extra: Optional[dict] = None


def _sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def std_test(n: int, std: float, expected: float, kurtosis: float = 0.0) -> float:
    """Two-sided p-value of H0: the population std is ``expected`` (log-variance z-test whose standard
    error includes the family's excess kurtosis; chi-square when the family is normal)."""
    if expected <= 0 or n < 2:
        return 1.0
    if kurtosis == 0.0:
        from scipy import stats

        statistic = (n - 1) * (std * std) * n / (n - 1) / (expected * expected)
        low = stats.chi2.cdf(statistic, n - 1)
        high = stats.chi2.sf(statistic, n - 1)
        return float(min(1.0, 2 * min(low, high)))
    if std <= 0:
        return 0.0
    se = math.sqrt(max(kurtosis + 2.0, 0.05) / n)  # sd of s^2/sigma^2 - 1
    z = math.log(std * std / (expected * expected)) / se
    return float(min(1.0, 2 * _sf(abs(z))))


def one_sided_std_below(n: int, std: float, bound: float, kurtosis: float = 0.0) -> float:
    """p-value of H0: std >= bound (small when the std is convincingly below ``bound``)."""
    if n < 2 or bound <= 0:
        return 1.0
    if std <= 0:
        return 0.0
    se = math.sqrt(max(kurtosis + 2.0, 0.05) / n)
    z = math.log(std * std / (bound * bound)) / se
    return float(_sf(-z))


def one_sided_std_above(n: int, std: float, bound: float, kurtosis: float = 0.0) -> float:
    if n < 2 or bound <= 0:
        return 1.0
    if std <= 0:
        return 1.0
    se = math.sqrt(max(kurtosis + 2.0, 0.05) / n)
    z = math.log(std * std / (bound * bound)) / se
    return float(_sf(z))


def mean_test(n: int, mean: float, expected_mean: float, expected_std: float) -> float:
    if expected_std <= 0 or n < 2:
        return 1.0
    z = (mean - expected_mean) / (expected_std / math.sqrt(n))
    return float(min(1.0, 2 * _sf(abs(z))))


def sample_kurtosis(values: np.ndarray) -> Optional[float]:
    if values.size < 4:
        return None
    centred = values - values.mean()
    var = float(np.mean(centred * centred))
    if var <= 0:
        return None
    return float(np.mean(centred ** 4) / (var * var) - 3.0)


def kurtosis_test(values: np.ndarray, expected: float) -> Tuple[Optional[float], float]:
    """(sample excess kurtosis, two-sided p-value against ``expected``). The standard error is the
    normal's sqrt(24/n), conservative for the lighter-tailed families tested here."""
    kurt = sample_kurtosis(values)
    if kurt is None:
        return None, 1.0
    z = (kurt - expected) / math.sqrt(24.0 / values.size)
    return kurt, float(min(1.0, 2 * _sf(abs(z))))


def standard_cdf(family: str, bounds: Optional[Tuple[float, float]]):
    """The CDF of the family standardised to mean 0 and std 1 (None when it has no fixed shape)."""
    from scipy import stats

    if family == "normal":
        return stats.norm().cdf
    if family == "uniform":
        half = math.sqrt(3.0)
        return stats.uniform(loc=-half, scale=2 * half).cdf
    if family == "truncated_normal" and bounds is not None:
        a, b = bounds
        dist = stats.truncnorm(a, b)
        mean, std = float(dist.mean()), float(dist.std())
        return stats.truncnorm(a, b, loc=-mean / std, scale=1.0 / std).cdf
    return None


def ks_test(values: np.ndarray, family: str, bounds: Optional[Tuple[float, float]]) -> Tuple[Optional[float], float]:
    """(KS distance, p-value) of the standardised sample against the standardised family. Standardising
    by the sample's own mean and std makes the test conservative (Lilliefors): it judges the shape only,
    never the scale (that is the variance test's job)."""
    from scipy import stats

    cdf = standard_cdf(family, bounds)
    std = float(values.std())
    if cdf is None or values.size < MIN_SHAPE_VALUES or std <= 0:
        return None, 1.0
    result = stats.kstest((values - values.mean()) / std, cdf)
    return float(result.statistic), float(result.pvalue)


def holm(tests: Sequence[Test], alpha: float) -> List[Test]:
    """The tests Holm's step-down procedure rejects at family-wise level ``alpha`` (plus every test with
    no p-value), among those whose effect matters."""
    ranked = sorted((t for t in tests if t.p is not None), key=lambda t: t.p)
    m = len(ranked)
    rejected = [t for t in tests if t.p is None and t.effect]
    for index, test in enumerate(ranked):
        if test.p > alpha / (m - index):
            break
        if test.effect:
            rejected.append(test)
    return rejected


def benjamini_hochberg(tests: Sequence[Test], alpha: float) -> List[Test]:
    """The tests the Benjamini-Hochberg procedure rejects at false-discovery rate ``alpha``."""
    ranked = sorted((t for t in tests if t.p is not None), key=lambda t: t.p)
    m = len(ranked)
    cutoff = -1
    for index, test in enumerate(ranked):
        if test.p <= alpha * (index + 1) / m:
            cutoff = index
    rejected = [t for t in tests if t.p is None and t.effect]
    rejected += [t for t in ranked[: cutoff + 1] if t.effect]
    return rejected


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg}
