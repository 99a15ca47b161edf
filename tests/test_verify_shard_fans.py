"""INI601's sharded case, unit by unit: which declared stds are evidence of a std computed from the local
shard's shape (a variance-scaling target of the shard's fans, exactly, and of none of the full tensor's).
The whole mechanism runs under torchrun in test_verify_distributed.py."""

from __future__ import annotations

import math

import pytest

from initlint.verify.recording import Declaration
from initlint.verify.results import Expectation, Moments, TensorInfo, TensorResult
from initlint.verify.shard_fans import ShardLayout, local_target_test, std_message

pytest.importorskip("scipy")

ROWWISE = ShardLayout((64, 32), (1, 2), 2, "Shard(1)", local_init=True)  # torch [out, in]: fan_in cut in two
COLWISE = ShardLayout((32, 64), (2, 1), 2, "Shard(0)", local_init=True)  # fan_out cut, fan_in whole
ON_DTENSOR = ShardLayout((64, 32), (1, 2), 2, "Shard(1)", local_init=False)  # initialised through the DTensor


def result(std: float, layout: ShardLayout, measured: float = None, decl: Declaration = None) -> TensorResult:
    info = TensorInfo("w", (64, 64), "float32", None, fan_in=64, fan_out=64, shard=layout,
                      declared=decl or Declaration("torch.nn.init.normal_", {"std": std}))
    measured = std if measured is None else measured
    return TensorResult(info, Expectation("normal", 0.0, std, kurtosis=0.0), Moments(4096, 0.0, measured, -1, 1))


def test_a_he_std_of_the_shards_fan_in_is_flagged_against_the_full_tensors():
    test = local_target_test(result(math.sqrt(2 / 32), ROWWISE))
    assert test is not None and test.code == "INI601" and test.effect
    assert "fan_in 32" in test.message and "fan_in 64" in test.message and "Shard(1) over 2 ranks" in test.message
    # a column-wise shard cuts fan_out: a fan_out-mode std from its shape is the same bug
    test = local_target_test(result(math.sqrt(2 / 32), COLWISE))
    assert test is not None and "fan_out 32" in test.message and "fan_out 64" in test.message


@pytest.mark.parametrize("std, layout", [
    (0.251, ROWWISE),  # near the shard's He std, not equal: a literal, no evidence
    (math.sqrt(2 / 32), ON_DTENSOR),  # written for the DTensor itself: a literal, whatever it equals
    (math.sqrt(1 / 64 * 2), COLWISE),  # the full tensor's He std for fan_in 64 (fan_in is whole column-wise)
    (math.sqrt(1 / 32), ROWWISE),  # also sqrt(2/64), the full tensor's He std: right, whatever the reason
    (math.sqrt(2 / 64), ROWWISE),  # computed from the full tensor
    (0.02, ROWWISE),
])
def test_no_evidence_no_finding(std, layout):
    assert local_target_test(result(std, layout)) is None


def test_a_fan_based_init_measured_at_the_shards_fans_is_explained():
    decl = Declaration("torch.nn.init.kaiming_normal_", {"a": 0, "mode": "fan_in", "nonlinearity": "relu"})
    expected = math.sqrt(2 / 64)
    measured = math.sqrt(2 / 32)
    text = std_message(result(expected, ROWWISE, measured, decl), measured, measured / expected, "")
    assert text is not None and "fan_in 32 (the full tensor's is 64)" in text and "to_local()" in text
    # fan_in-mode He on a column-wise shard reads the same fan_in: nothing to explain
    assert std_message(result(expected, COLWISE, measured, decl), measured, measured / expected, "") is None
    # called on the DTensor, its fans were the full tensor's: whatever the numbers say, not this
    assert std_message(result(expected, ON_DTENSOR, measured, decl), measured, measured / expected, "") is None
    # a std that is neither the full tensor's nor the shard's: the plain INI601 message stays
    assert std_message(result(expected, ROWWISE, 0.5, decl), 0.5, 0.5 / expected, "") is None
