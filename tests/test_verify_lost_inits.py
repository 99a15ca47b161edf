"""An initialiser that filled a copy of part of a parameter, never the parameter (INI601): in one process,
advanced indexing copies (``nn.init.normal_(w[rows])`` with a list of rows); slices are views and reach it.
(The DTensor case, a slice along a sharded dimension, runs under torchrun in test_verify_distributed.py.)"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

import initlint  # noqa: E402
from torch import nn  # noqa: E402


class Fused(nn.Module):
    """A fused q/k/v projection (96 rows = 3 blocks of 32) whose blocks ``init_block`` initialises."""

    def __init__(self, init_block):
        super().__init__()
        self.qkv = nn.Linear(64, 96)
        self.out = nn.Linear(96, 8)
        with torch.no_grad():
            self.qkv.weight.zero_()
        for block in range(3):
            init_block(self.qkv.weight, block)

    def forward(self, x):
        return self.out(torch.relu(self.qkv(x)))


def rows(block):
    return list(range(block * 32, (block + 1) * 32))


def lost(report):
    return [f for f in report.findings if f.code == "INI601" and "copy of part" in f.message]


def test_an_init_through_advanced_indexing_is_lost_and_reported_at_its_call():
    def init_block(weight, block):
        nn.init.normal_(weight[rows(block)], std=0.02)  # a list index: a copy

    report = initlint.verify(lambda: Fused(init_block), input_shape=(2, 64))
    [finding] = lost(report)
    assert finding.parameter == "qkv.weight" and finding.p_value is None
    assert all(f"normal_(std=0.02) on qkv.weight[[{a}, {a + 1}, …, {a + 31}]]" in finding.message for a in (0, 32, 64))
    assert "advanced indexing" in finding.message and "every value 0" in finding.message
    assert finding.line is not None and finding.path.endswith("test_verify_lost_inits.py")


def test_a_lost_init_is_reported_even_where_the_numbers_look_right():
    """The parameter keeps nn.Linear's default, whose std (1/sqrt(3 fan_in) = 0.072) is what the lost init
    asked for: no statistic can tell, the recording can."""
    class Default(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(64, 96)
            nn.init.uniform_(self.qkv.weight.data[[0, 1, 2, 3]], -0.125, 0.125)

        def forward(self, x):
            return self.qkv(x)

    [finding] = lost(initlint.verify(Default, input_shape=(2, 64)))
    assert "uniform_(a=-0.125, b=0.125) on qkv.weight[[0, 1, 2, 3]]" in finding.message
    assert "the values of kaiming_uniform_" in finding.message


@pytest.mark.parametrize("how", ["slice", "narrow", "written back", "copy_ after"])
def test_views_and_pieces_written_back_are_not_reported(how):
    def init_block(weight, block):
        if how == "slice":
            nn.init.normal_(weight[block * 32:(block + 1) * 32], std=0.1)
        elif how == "narrow":
            nn.init.normal_(weight.data.narrow(0, block * 32, 32), std=0.1)
        elif how == "written back":
            piece = weight.data[rows(block)]
            nn.init.normal_(piece, std=0.1)
            weight.data[rows(block)] = piece
        else:
            piece = weight.data[rows(block)]
            nn.init.normal_(piece, std=0.1)
            with torch.no_grad():
                weight.copy_(torch.randn(96, 64) * 0.1)

    report = initlint.verify(lambda: Fused(init_block), input_shape=(2, 64))
    assert lost(report) == []


def test_a_copy_taken_but_never_initialised_is_nothing():
    class Reads(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(64, 96)
            self.first_rows = self.qkv.weight.detach()[[0, 1]].clone()  # read, not written
            self.first_rows.mul_(2.0)

        def forward(self, x):
            return self.qkv(x)

    assert lost(initlint.verify(Reads, input_shape=(2, 64))) == []
