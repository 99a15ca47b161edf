"""INI406 in JAX/Flax and TF's NumPy: the facts the rule rests on (their ``empty`` is zeros, lax's
is not) and what its messages say."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import initlint
from initlint.ftypes import Settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(select=frozenset({"INI406"}))


def messages(path: Path) -> dict:
    report = initlint.check_file(str(path), SETTINGS)
    assert report.error is None, report.error
    return {f.line: f.message for f in report.findings}


def test_jax_and_tf_numpy_empty_are_zeros():
    jnp = pytest.importorskip("jax.numpy")
    assert float(abs(jnp.empty((64, 64))).max()) == 0.0
    assert float(abs(jnp.empty_like(jnp.ones(8))).max()) == 0.0
    # TF's NumPy, read from its source rather than imported (an import costs seconds)
    spec = importlib.util.find_spec("tensorflow")
    if spec is None:
        pytest.skip("tensorflow not installed")
    source = (Path(spec.origin).parent / "python" / "ops" / "numpy_ops" / "np_array_ops.py").read_text()
    body = source.split("def empty(", 1)[1].split("\ndef ", 1)[0]
    assert "return zeros(shape, dtype)" in body


def test_the_flagged_router_really_starts_with_every_token_on_the_same_experts():
    pytest.importorskip("flax.nnx")
    import jax
    import jax.numpy as jnp
    from flax import nnx

    namespace: dict = {}
    path = ROOT / "tests" / "fixtures" / "INI406" / "positive_flax.py"
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    router = namespace["Router"](16, 8, rngs=nnx.Rngs(0))
    scores = router(jax.random.normal(jax.random.key(0), (32, 16)))
    assert float(abs(router.weight[...]).max()) == 0.0
    _, chosen = jax.lax.top_k(scores, 2)
    assert jnp.all(chosen == chosen[0])  # every token routed to the same two experts


def test_messages_say_zeros_for_jnp_empty_and_uninitialised_for_lax_empty():
    found = messages(ROOT / "tests" / "fixtures" / "INI406" / "positive_flax.py")
    zero = [m for m in found.values() if "jnp.empty" in m]
    lax = [m for m in found.values() if "jax.lax.empty" in m]
    assert len(zero) == 2 and all("fills it with zeros" in m for m in zero)
    assert len(lax) == 1 and "uninitialised memory" in lax[0]
    assert {f.framework for f in initlint.check_file(
        str(ROOT / "tests" / "fixtures" / "INI406" / "positive_flax.py"), SETTINGS).findings} == {"jax"}
