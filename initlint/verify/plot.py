"""``--plot FILE.png``: for each flagged tensor, a histogram of its values against the density its declared
initialiser promises (and the one the code evidently meant, when that differs): the article's figure,
drawn by the tool. Every flagged tensor is drawn: twelve to a page, one file per page (``FILE.png`` when one
page holds them all, else ``FILE-1.png``, ``FILE-2.png``...). matplotlib is imported here only, with the Agg
backend."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import List

import numpy as np

from .labels import readable
from .results import Report, TensorResult

PLOTTED = {"INI601", "INI602", "INI603", "INI604", "INI605", "INI606", "INI607"}  # every runtime code
PER_PAGE, COLUMNS = 12, 3
UNSEEN = {"INI603", "INI604", "INI606", "INI607"}


def _density(expect, grid):
    from scipy import stats

    if expect.family == "normal":
        return stats.norm(expect.mean, expect.std).pdf(grid)
    if expect.family == "uniform":
        half = expect.std * math.sqrt(3.0)
        return stats.uniform(expect.mean - half, 2 * half).pdf(grid)
    if expect.family == "truncated_normal" and expect.bounds:
        a, b = expect.bounds
        shape = stats.truncnorm(a, b)
        sigma = expect.std / float(shape.std())
        loc = expect.mean - sigma * float(shape.mean())
        return stats.truncnorm(a, b, loc=loc, scale=sigma).pdf(grid)
    return None


def plotted(report: Report) -> List[TensorResult]:
    """The tensors a plot draws: every flagged one with values to draw."""
    return [r for r in report.tensors if set(r.codes) & PLOTTED and r.sample is not None and r.sample.size > 1]


def page_paths(path: str, pages: int) -> List[str]:
    """``a.png`` for one page; ``a-1.png``, ``a-2.png``... for several."""
    if pages <= 1:
        return [path]
    stem, ext = os.path.splitext(path)
    return [f"{stem}-{index}{ext or '.png'}" for index in range(1, pages + 1)]


def plot(report: Report, path: str) -> List[str]:
    """Draw every flagged tensor; returns the files written (none when nothing is flagged)."""
    chosen = plotted(report)
    if not chosen:
        return []
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    # what a histogram cannot show (a copy of another tensor, duplicated units, the signal): the finding's
    # first clause under the panel's title
    reasons = {}
    for finding in report.findings:
        if finding.code in UNSEEN and finding.parameter not in reasons:
            reasons[finding.parameter] = finding.message.split(":")[0]
    pages = [chosen[i:i + PER_PAGE] for i in range(0, len(chosen), PER_PAGE)]
    paths = page_paths(path, len(pages))
    for number, (page, target) in enumerate(zip(pages, paths), 1):
        title = f"initlint verify: {report.model}"
        if len(pages) > 1:
            title += f" (page {number} of {len(pages)}: tensors {(number - 1) * PER_PAGE + 1}-" \
                     f"{(number - 1) * PER_PAGE + len(page)} of {len(chosen)})"
        _page(plt, page, title, target, reasons)
    return paths


def _page(plt, chosen: List[TensorResult], title: str, path: str, reasons) -> None:
    columns = min(COLUMNS, len(chosen))
    rows = math.ceil(len(chosen) / columns)
    # constrained layout keeps the figure's title above the panels' titles (tight_layout ignores suptitle)
    figure, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.8 * rows + 0.6), squeeze=False,
                                layout="constrained")
    for axis, result in zip(axes.flat, chosen):
        _panel(axis, result, reasons.get(result.info.name))
    for axis in list(axes.flat)[len(chosen):]:
        axis.axis("off")
    figure.suptitle(title, fontsize=11)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _panel(axis, result: TensorResult, reason=None) -> None:
    values = result.sample
    low, high = float(values.min()), float(values.max())
    expect = result.expect
    if expect is not None and expect.std:
        low = min(low, expect.mean - 3.5 * expect.std)
        high = max(high, expect.mean + 3.5 * expect.std)
    if high <= low:
        high = low + 1.0
    axis.hist(values, bins=60, range=(low, high), density=True, alpha=0.55, color="tab:blue",
              label=f"measured (std {result.moments.std:.3g})")
    grid = np.linspace(low, high, 400)
    if expect is not None and expect.std:
        density = _density(expect, grid)
        if density is not None:
            axis.plot(grid, density, color="tab:orange", lw=2,
                      label=f"declared {expect.family.replace('_', ' ')} (std {expect.std:.3g})")
        if expect.intended_std:  # the same family, at the std the code evidently meant (Keras' he_normal)
            meant = _density(dataclasses.replace(expect, std=expect.intended_std), grid)
            if meant is not None:
                axis.plot(grid, meant, color="tab:green", lw=1.5, ls="--",
                          label=f"{expect.intended_label.split(' target')[0]} target "
                                f"(std {expect.intended_std:.3g})")
    shown = expect.intended_std if expect is not None else None
    if result.target_std and not (shown and math.isclose(shown, result.target_std, rel_tol=0.01)):
        from scipy import stats

        axis.plot(grid, stats.norm(0.0, result.target_std).pdf(grid), color="tab:red", lw=1.2, ls=":",
                  label=f"{result.info.activation or 'activation'} target (std {result.target_std:.3g})")
    declared = readable(result.info.declared, "no declared initialiser")
    title = f"{_short(result.info.name, 48)}  [{' '.join(result.codes)}]\n{_short(declared, 56)}"
    if reason:
        title += f"\n{_short(reason, 60)}"
    axis.set_title(title, fontsize=9)
    axis.set_xlabel("value", fontsize=8)
    axis.set_ylabel("density", fontsize=8)
    axis.tick_params(labelsize=7)
    axis.legend(fontsize=7)


def describe_plot(written: List[str], tensors: int) -> str:
    """``wrote a.png (3 tensors)`` or ``wrote 3 files: a-1.png, a-2.png, a-3.png (30 tensors)``."""
    noun = "tensor" if tensors == 1 else "tensors"
    if len(written) == 1:
        return f"wrote {written[0]} ({tensors} {noun})"
    return f"wrote {len(written)} files: {', '.join(written)} ({tensors} {noun}, {PER_PAGE} a page)"
