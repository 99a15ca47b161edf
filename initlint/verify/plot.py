"""``--plot FILE.png``: for each flagged tensor, a histogram of its values against the density its declared
initialiser promises (and the one the code evidently meant, when that differs): the article's figure,
drawn by the tool. matplotlib is imported here only, with the Agg backend."""

from __future__ import annotations

import dataclasses
import math
from typing import List

import numpy as np

from .results import Report, TensorResult

PLOTTED = {"INI601", "INI602", "INI603", "INI605"}


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


def plot(report: Report, path: str) -> int:
    """Write the figure; returns how many tensors it shows (0: nothing flagged, no file written)."""
    chosen: List[TensorResult] = [r for r in report.tensors if set(r.codes) & PLOTTED and r.sample is not None
                                  and r.sample.size > 1]
    if not chosen:
        return 0
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    chosen = chosen[:12]
    columns = min(3, len(chosen))
    rows = math.ceil(len(chosen) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    for axis, result in zip(axes.flat, chosen):
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
                          label=f"declared {expect.family} (std {expect.std:.3g})")
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
                      label=f"activation target (std {result.target_std:.3g})")
        declared = result.info.declared.label() if result.info.declared else "?"
        axis.set_title(f"{result.info.name}  [{' '.join(result.codes)}]\n{declared}", fontsize=9)
        axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(chosen):]:
        axis.axis("off")
    figure.suptitle(f"initlint verify: {report.model}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return len(chosen)
