"""verify says what INI406's uninitialised memory held: the static finding is linked to its parameter
by name (nothing records an nn.Parameter(torch.empty(...))), and the judge reads the values."""

from __future__ import annotations

from types import SimpleNamespace

from initlint.ftypes import Finding
from initlint.verify.linking import CONFIRMED, UNMEASURABLE, _judge_uninitialised, _undeclared_named
from initlint.verify.results import Moments

FINDING = Finding("model.py", 9, 23, 9, 60, "INI406", "uninitialised-parameter",
                  "parameter `weight` is created from uninitialised memory (torch.empty) and ...", "torch")


def result(name, moments, declared=None):
    return SimpleNamespace(info=SimpleNamespace(name=name, declared=declared), moments=moments)


def test_the_parameter_is_found_by_name_among_the_undeclared():
    empty = result("block.weight", Moments(64, 0.0, 0.0, 0.0, 0.0))
    declared = result("proj.weight", Moments(64, 0.0, 0.2, -0.4, 0.4), declared=object())
    assert _undeclared_named([declared, empty], FINDING) == [empty]


def test_what_the_memory_held():
    zeros = _judge_uninitialised([result("w", Moments(64, 0.0, 0.0, 0.0, 0.0))], FINDING)
    assert zeros[0] == CONFIRMED and "all zeros" in zeros[1]
    nan = _judge_uninitialised([result("w", Moments(64, 0.0, 0.0, 0.0, 0.0, finite=False, nonfinite=3))], FINDING)
    assert nan[0] == CONFIRMED and "NaN" in nan[1]
    huge = _judge_uninitialised([result("w", Moments(64, 1e20, 1e21, -1e22, 6e22))], FINDING)
    assert huge[0] == CONFIRMED and "6e+22" in huge[1]
    denormal = _judge_uninitialised([result("w", Moments(64, 0.0, 1e-40, -1e-39, 1e-39))], FINDING)
    assert denormal[0] == CONFIRMED and "denormal" in denormal[1]
    ordinary = _judge_uninitialised([result("w", Moments(64, 0.0, 0.1, -0.3, 0.3))], FINDING)
    assert ordinary[0] == UNMEASURABLE
