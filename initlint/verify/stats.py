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

import functools
import math
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from .results import Moments

CHUNK = 1 << 20
EXACT_LIMIT = 1 << 16  # up to this many values, mean and std are exact
MOMENT_SAMPLE = 1 << 15  # beyond, they come from this many random values (min and max are always exact)
SAMPLE_SIZE = 10_000  # values drawn for the shape tests (KS: distance 0.02 at alpha 1e-4; kurtosis SE 0.05)
FINGERPRINT_WIDTH = 64
MIN_VALUES = 30  # fewer values: too few to tell
MIN_SHAPE_VALUES = 200  # the shape tests need more
STD_EFFECT = 0.05  # a std within 5% of the promise is never reported, however significant
FAMILY_KURTOSIS = {"normal": 0.0, "uniform": -1.2}


class TensorHandle:
    """Read access to one tensor. Subclasses keep the data where it lives (numpy, a torch device)."""

    def measure(self, rng: np.random.Generator) -> Tuple[Moments, np.ndarray]:  # pragma: no cover - interface
        """(moments, a float64 sample of at most SAMPLE_SIZE finite values). Exact moments up to
        EXACT_LIMIT values; beyond, min/max/non-finite from one pass over every value and mean/std from
        MOMENT_SAMPLE random values (their standard error, 0.3% of the std, is far below what is reported)."""
        raise NotImplementedError

    def unit_fingerprints(self, unit_axis: int, rng: np.random.Generator) -> Optional[np.ndarray]:  # pragma: no cover
        """One number per unit, equal for identical units: a random projection of up to FINGERPRINT_WIDTH
        fixed coordinates of each unit (so the cost does not grow with the tensor)."""
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

    def prefetch(self) -> bool:
        """Compute ahead, on another thread, what ``measure`` reads that needs no random draw (the same
        numbers either way). False once ``measure`` has begun on this tensor: the helper is then too late."""
        return True


@functools.lru_cache(maxsize=1024)
def coordinates(rest: int) -> Optional[np.ndarray]:
    """The fixed coordinates a unit fingerprint reads (None: all of them). Read-only: one array per width,
    shared by every tensor of that width (a model has few)."""
    if rest <= FINGERPRINT_WIDTH:
        return None
    cols = np.unique(np.linspace(0, rest - 1, FINGERPRINT_WIDTH).astype(np.int64))
    cols.flags.writeable = False
    return cols


@functools.lru_cache(maxsize=64)
def _ks_steps(n: int) -> Tuple[np.ndarray, np.ndarray]:
    """The empirical CDF's steps after and before each of ``n`` sorted values (read-only, per sample size)."""
    after = np.arange(1, n + 1) / n
    before = after - 1.0 / n
    after.flags.writeable = before.flags.writeable = False
    return after, before


def sample_moments(n: int, low: float, high: float, values: np.ndarray, nonfinite: int = 0) -> Moments:
    """Moments whose mean and std come from a sample (min, max, non-finite count from every value)."""
    mask = np.isfinite(values)
    finite = values if mask.all() else values[mask]  # the same values: no copy where all are finite
    mean = float(finite.mean()) if finite.size else math.nan
    std = float(finite.std()) if finite.size else math.nan
    return Moments(n, mean, std, low, high, finite=nonfinite == 0, nonfinite=nonfinite, count=int(finite.size))


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

    def measure(self, rng: np.random.Generator) -> Tuple[Moments, np.ndarray]:
        flat = self.array.reshape(-1)
        if flat.size <= EXACT_LIMIT:
            moments = array_moments(flat)
            values = flat if flat.size <= SAMPLE_SIZE else flat[rng.integers(0, flat.size, SAMPLE_SIZE)]
            values = np.asarray(values, dtype=np.float64)
            return moments, values[np.isfinite(values)]
        low, high, nonfinite = math.inf, -math.inf, 0
        for start in range(0, flat.size, CHUNK):
            chunk = flat[start:start + CHUNK]
            c_low, c_high = float(chunk.min()), float(chunk.max())
            if not (math.isfinite(c_low) and math.isfinite(c_high)):
                finite = np.isfinite(chunk)
                nonfinite += int(chunk.size - finite.sum())
                chunk = chunk[finite]
                if not chunk.size:
                    continue
                c_low, c_high = float(chunk.min()), float(chunk.max())
            low, high = min(low, c_low), max(high, c_high)
        values = np.asarray(flat[rng.integers(0, flat.size, MOMENT_SAMPLE)], dtype=np.float64)
        moments = sample_moments(int(flat.size), low, high, values, nonfinite)
        values = values[np.isfinite(values)]
        return moments, values[:SAMPLE_SIZE]

    def unit_fingerprints(self, unit_axis: int, rng: np.random.Generator) -> Optional[np.ndarray]:
        array = self.array
        units = array.shape[unit_axis]
        rest = array.size // max(units, 1)
        cols = coordinates(rest)
        if unit_axis in (-1, array.ndim - 1):
            matrix = array.reshape(rest, units)
            matrix = matrix if cols is None else matrix[cols]
            weights = rng.standard_normal(matrix.shape[0])
            return np.asarray(weights @ np.asarray(matrix, dtype=np.float64), dtype=np.float64)
        matrix = _as_units(array, unit_axis)
        matrix = matrix if cols is None else matrix[:, cols]
        weights = rng.standard_normal(matrix.shape[1])
        return np.asarray(np.asarray(matrix, dtype=np.float64) @ weights, dtype=np.float64)

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
    if kurtosis == 0.0:  # n s^2 / sigma^2 ~ chi2(n - 1); its CDF is the regularised incomplete gamma
        from scipy import special

        statistic = n * (std * std) / (expected * expected)
        low = special.gammainc((n - 1) / 2.0, statistic / 2.0)
        high = special.gammaincc((n - 1) / 2.0, statistic / 2.0)
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
    """p-value of H0: std <= bound (small when the std is convincingly above ``bound``)."""
    if n < 2 or bound <= 0:
        return 1.0
    if std <= 0:
        return 1.0
    se = math.sqrt(max(kurtosis + 2.0, 0.05) / n)
    z = math.log(std * std / (bound * bound)) / se
    return float(_sf(z))


def mean_test(n: int, mean: float, expected_mean: float, expected_std: float) -> float:
    """Two-sided p-value of H0: the population mean is ``expected_mean``."""
    if expected_std <= 0 or n < 2:
        return 1.0
    z = (mean - expected_mean) / (expected_std / math.sqrt(n))
    return float(min(1.0, 2 * _sf(abs(z))))


def sample_kurtosis(values: np.ndarray) -> Optional[float]:
    """The sample's excess kurtosis (None when it has no spread)."""
    if values.size < 4:
        return None
    centred = values - values.mean()
    squares = centred * centred
    var = float(squares.mean())
    if var <= 0:
        return None
    return float(np.dot(squares, squares) / squares.size / (var * var) - 3.0)


def kurtosis_test(values: np.ndarray, expected: float) -> Tuple[Optional[float], float]:
    """(sample excess kurtosis, two-sided p-value against ``expected``). The standard error is the
    normal's sqrt(24/n), conservative for the lighter-tailed families tested here."""
    kurt = sample_kurtosis(values)
    if kurt is None:
        return None, 1.0
    z = (kurt - expected) / math.sqrt(24.0 / values.size)
    return kurt, float(min(1.0, 2 * _sf(abs(z))))


def standard_cdf(family: str, bounds: Optional[Tuple[float, float]]):
    """The CDF of the family standardised to mean 0 and std 1, vectorised (None when it has no fixed shape)."""
    from scipy import special

    if family == "normal":
        return special.ndtr
    if family == "uniform":
        half = math.sqrt(3.0)
        return lambda x: np.clip((x + half) / (2 * half), 0.0, 1.0)
    if family == "truncated_normal" and bounds is not None:
        # bounds are in units of the realised std about the realised mean: recover the parent normal
        a, b = bounds
        shape_mean, shape_std = _truncnorm_shape(a, b)
        low, high = a * shape_std + shape_mean, b * shape_std + shape_mean  # the cut in parent-sigma units
        base_low, mass = special.ndtr(low), special.ndtr(high) - special.ndtr(low)

        def cdf(x):
            parent = np.clip(x * shape_std + shape_mean, low, high)
            return np.clip((special.ndtr(parent) - base_low) / mass, 0.0, 1.0)

        return cdf
    return None


@functools.lru_cache(maxsize=256)
def _truncnorm_shape(a: float, b: float) -> Tuple[float, float]:
    """(mean, std), in parent-sigma units, of a normal cut where the realised-std bounds are (a, b): solve
    for the parent cut (lo, hi) with (lo - m)/s = a and (hi - m)/s = b by fixed-point iteration."""
    from scipy import stats

    lo, hi = a, b
    for _ in range(60):
        m, v = (float(x) for x in stats.truncnorm.stats(lo, hi, moments="mv"))
        s = math.sqrt(v)
        new_lo, new_hi = a * s + m, b * s + m
        if abs(new_lo - lo) < 1e-12 and abs(new_hi - hi) < 1e-12:
            break
        lo, hi = new_lo, new_hi
    m, v = (float(x) for x in stats.truncnorm.stats(lo, hi, moments="mv"))
    return m, math.sqrt(v)


def ks_test(values: np.ndarray, family: str, bounds: Optional[Tuple[float, float]]) -> Tuple[Optional[float], float]:
    """(KS distance, p-value) of the standardised sample against the standardised family. Standardising
    by the sample's own mean and std makes the test conservative (Lilliefors): it judges the shape only,
    never the scale (that is the variance test's job). The p-value is Kolmogorov's limit law, accurate
    at the sample sizes tested (at least MIN_SHAPE_VALUES)."""
    from scipy import special

    cdf = standard_cdf(family, bounds)
    std = float(values.std())
    if cdf is None or values.size < MIN_SHAPE_VALUES or std <= 0:
        return None, 1.0
    z = np.sort((values - values.mean()) / std)
    n = z.size
    F = cdf(z)
    steps, before = _ks_steps(n)
    distance = float(max(np.max(steps - F), np.max(F - before)))
    return distance, float(min(1.0, special.kolmogorov(math.sqrt(n) * distance)))


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
