"""The statistics: calibrated under the null, powerful where the SPEC says, bounded in memory."""

from __future__ import annotations

import math
import tracemalloc

import pytest

np = pytest.importorskip("numpy")
stats = pytest.importorskip("scipy.stats")

from initlint.verify import stats as vs  # noqa: E402
from initlint.verify.results import Moments  # noqa: E402

RNG = np.random.default_rng(20261122)


def _truncated(n, rng, low=-2.0, high=2.0):
    return stats.truncnorm.rvs(low, high, size=n, random_state=rng)


@pytest.mark.parametrize("family,kurtosis,draw", [
    ("normal", 0.0, lambda n, r: r.standard_normal(n)),
    ("uniform", -1.2, lambda n, r: r.uniform(-math.sqrt(3), math.sqrt(3), n)),
    ("truncated", float(stats.truncnorm.stats(-2, 2, moments="k")),
     lambda n, r: _truncated(n, r) / stats.truncnorm.std(-2, 2)),
])
def test_std_test_is_calibrated_under_the_null(family, kurtosis, draw):
    rng = np.random.default_rng(1)
    ps = np.array([vs.std_test(400, float(draw(400, rng).std()), 1.0, kurtosis) for _ in range(2000)])
    assert 0.02 < np.mean(ps < 0.05) < 0.08  # about 5% false rejections at 5%
    assert np.mean(ps < 0.001) < 0.004


def test_a_088_std_is_seen_by_the_variance_test_with_a_few_hundred_values():
    """The SPEC: a KS test needs about 5,000 values to see 0.88x at alpha 1e-4, a variance test far fewer."""
    rng = np.random.default_rng(2)
    kurtosis = float(stats.truncnorm.stats(-2, 2, moments="k"))
    factor = float(stats.truncnorm.std(-2, 2))  # 0.8796
    hits = 0
    for _ in range(200):
        values = _truncated(600, rng)  # std 0.8796, where a He target of 1 was meant
        hits += vs.std_test(values.size, float(values.std()), 1.0, kurtosis) < 1e-4
    assert hits >= 190
    # the shape test on the same 600 values cannot tell: it standardises them (it judges shape only)
    distance, p = vs.ks_test(values / factor, "truncated_normal", (-2 / factor, 2 / factor))
    assert p > 1e-4


def test_kurtosis_and_ks_separate_the_families():
    n = vs.SAMPLE_SIZE
    normal = RNG.standard_normal(n)
    uniform = RNG.uniform(-1, 1, n)
    factor = float(stats.truncnorm.std(-2, 2))
    bounds = (-2 / factor, 2 / factor)
    truncated = _truncated(n, RNG)
    assert vs.sample_kurtosis(normal) == pytest.approx(0.0, abs=0.15)
    assert vs.sample_kurtosis(uniform) == pytest.approx(-1.2, abs=0.05)
    assert vs.sample_kurtosis(truncated) == pytest.approx(-0.634, abs=0.1)
    assert vs.kurtosis_test(truncated, 0.0)[1] < 1e-12 and vs.kurtosis_test(truncated, -0.634)[1] > 1e-3
    assert vs.ks_test(normal, "normal", None)[1] > 1e-3 and vs.ks_test(uniform, "normal", None)[1] < 1e-12
    assert vs.ks_test(truncated, "truncated_normal", bounds)[1] > 1e-3
    assert vs.ks_test(uniform, "uniform", None)[1] > 1e-3
    assert vs.ks_test(truncated, "uniform", None)[1] < 1e-12


def test_ks_matches_scipy():
    values = RNG.standard_normal(5000)
    distance, p = vs.ks_test(values, "normal", None)
    reference = stats.kstest((values - values.mean()) / values.std(), "norm")
    assert distance == pytest.approx(reference.statistic)
    assert p == pytest.approx(reference.pvalue, rel=0.05, abs=1e-3)


def test_holm_and_benjamini_hochberg():
    tests = [vs.Test(f"t{i}", "INI601", p, "") for i, p in enumerate([1e-6, 0.004, 0.01, 0.03, 0.5])]
    # Holm: 1e-6 <= .05/5, .004 <= .05/4, .01 <= .05/3, then .03 > .05/2 stops it
    assert [t.tensor for t in vs.holm(tests, 0.05)] == ["t0", "t1", "t2"]
    assert [t.tensor for t in vs.benjamini_hochberg(tests, 0.05)] == ["t0", "t1", "t2", "t3"]
    facts = [vs.Test("x", "INI603", None, ""), vs.Test("y", "INI601", 1e-9, "", effect=False)]
    assert [t.tensor for t in vs.holm(facts, 0.05)] == ["x"]  # a fact always; a negligible effect never


def test_exact_moments_over_chunks():
    values = RNG.standard_normal(vs.CHUNK * 3 + 17).astype(np.float32) * 3 + 1
    moments = vs.array_moments(values)
    reference = values.astype(np.float64)
    assert moments.n == values.size and moments.finite
    assert moments.mean == pytest.approx(reference.mean(), rel=1e-9)
    assert moments.std == pytest.approx(reference.std(), rel=1e-9)
    assert (moments.min, moments.max) == (float(values.min()), float(values.max()))
    values[5] = np.nan
    values[vs.CHUNK + 1] = np.inf
    broken = vs.array_moments(values)
    assert not broken.finite and broken.nonfinite == 2


def test_a_large_array_is_sampled_without_a_float64_copy():
    values = RNG.standard_normal(4_000_000).astype(np.float32) * 0.05  # 16 MB; a float64 copy is 32 MB
    handle = vs.ArrayHandle(lambda: values)
    tracemalloc.start()
    moments, sample = handle.measure(np.random.default_rng(0))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 12 * 2**20
    assert moments.n == values.size and moments.count == vs.MOMENT_SAMPLE
    assert moments.std == pytest.approx(0.05, rel=0.02)
    assert (moments.min, moments.max) == (float(values.min()), float(values.max()))  # always from every value
    assert sample.size == vs.SAMPLE_SIZE and sample.dtype == np.float64


def test_a_large_torch_tensor_never_reaches_float64_whole(monkeypatch):
    torch = pytest.importorskip("torch")
    from initlint.verify.adapters.torch_adapter import TorchHandle

    largest = []
    original = torch.Tensor.double
    monkeypatch.setattr(torch.Tensor, "double", lambda self, *a, **k: (largest.append(self.numel()),
                                                                        original(self, *a, **k))[1])
    weight = torch.randn(2048, 2048) * 0.02
    weight[3, 5] = float("nan")
    handle = TorchHandle(torch, weight)
    moments, sample = handle.measure(np.random.default_rng(0))
    prints = handle.unit_fingerprints(0, np.random.default_rng(0))
    assert max(largest) <= max(vs.MOMENT_SAMPLE, 2048 * vs.FINGERPRINT_WIDTH)
    assert not moments.finite and moments.nonfinite == 1 and moments.count > 10_000
    assert moments.std == pytest.approx(0.02, rel=0.03)
    assert prints.shape == (2048,)


def test_unit_fingerprints_find_duplicates_only():
    weights = RNG.standard_normal((64, 300)).astype(np.float32)
    handle = vs.ArrayHandle(lambda: weights)
    prints = handle.unit_fingerprints(0, np.random.default_rng(0))
    assert len(np.unique(prints)) == 64
    weights[10] = weights[42]
    prints = handle.unit_fingerprints(0, np.random.default_rng(0))
    assert prints[10] == prints[42] and len(np.unique(prints)) == 63
    columns = RNG.standard_normal((300, 64)).astype(np.float32)
    columns[:, 7] = columns[:, 9]
    prints = vs.ArrayHandle(lambda: columns).unit_fingerprints(1, np.random.default_rng(0))
    assert prints[7] == prints[9] and len(np.unique(prints)) == 63


def test_too_few_values_to_tell():
    from initlint.verify.checks import declaration_tests
    from initlint.verify.recording import Declaration
    from initlint.verify.results import Expectation, TensorInfo, TensorResult

    info = TensorInfo("w", (2, 5), "float32", None, fan_in=5, fan_out=2)
    info.declared = Declaration("torch.nn.init.normal_", {"std": 1.0})
    result = TensorResult(info, Expectation("normal", 0.0, 1.0, kurtosis=0.0), Moments(10, 0.0, 5.0, -9, 9))
    assert declaration_tests(result) == []
    assert result.notes == ["too few values to tell (10 < 30)"]


def test_a_torch_tensor_measured_ahead_by_another_thread_gives_the_same_numbers():
    # the runner's main thread computes a large tensor's min and max ahead (prefetch) while the statistics'
    # thread measures: the moments and the sample must be the same bits either way, NaNs included
    torch = pytest.importorskip("torch")
    from initlint.verify.adapters.torch_adapter import TorchHandle

    generator = torch.Generator().manual_seed(3)
    for tensor in (torch.randn(600, 500, generator=generator), torch.rand(200_000, generator=generator)):
        if tensor.dim() == 1:
            tensor[17] = float("nan")
        plain, ahead = TorchHandle(torch, tensor), TorchHandle(torch, tensor)
        assert ahead.prefetch() and ahead._extremes is not None
        first, second = plain.measure(np.random.default_rng(5)), ahead.measure(np.random.default_rng(5))
        assert repr(first[0]) == repr(second[0]) and np.array_equal(first[1], second[1], equal_nan=True)
        assert not ahead.prefetch()  # measuring has begun: the helper stops there
    small = TorchHandle(torch, torch.randn(100))
    assert small.prefetch() and small._extremes is None  # exact from one host copy: nothing to compute ahead
