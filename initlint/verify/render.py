"""A verification as text (a table, the findings, the static findings' fate, the forward pass) or as the
SPEC's JSON object."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

from .labels import readable
from .results import Report, TensorResult

JSON_VERSION = 1
WIDTH = 120  # the text table's width at most


def _number(value: Optional[float]) -> Optional[float]:
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _fan(value) -> Optional[float]:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def parameter_json(result: TensorResult) -> Dict[str, Any]:
    """One entry of the JSON ``parameters`` list (the SPEC's keys; under torchrun ``ranks`` after them)."""
    info, moments, expect = result.info, result.moments, result.expect
    return {
        "name": info.name,
        "shape": list(info.shape),
        "fan_in": _fan(info.fan_in) if info.role == "weight" else None,
        "fan_out": _fan(info.fan_out) if info.role == "weight" else None,
        "initializer": readable(info.declared, None),
        "expected_std": _number(expect.std) if expect is not None else None,
        "mean": _number(moments.mean) if moments else None,
        "std": _number(moments.std) if moments else None,
        "min": _number(moments.min) if moments else None,
        "max": _number(moments.max) if moments else None,
        "codes": list(result.codes),
        **({"ranks": result.ranks} if result.ranks is not None else {}),  # under torchrun only
    }


def report_json(report: Report) -> Dict[str, Any]:
    """The SPEC's JSON object of a verification, with the forward pass (``forward``) after its keys."""
    return {
        "version": JSON_VERSION,
        "model": report.model,
        "framework": report.framework,
        "device": report.device,
        "parameters": [parameter_json(r) for r in report.tensors],
        "findings": [f.to_json() for f in report.findings] + [f.to_json() for f in report.static],
        "forward": {
            "input": report.input,
            "input_shape": list(report.input_shape) if report.input_shape else None,
            "layers": [signal.to_json() for signal in report.signal],
            "notes": list(report.notes),
        },
        **({"distributed": report.distributed} if report.distributed is not None else {}),  # under torchrun only
    }


def _g(value: Optional[float], digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}g}"


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape) or "scalar"


def _clip(text: str, width: int, middle: bool = False) -> str:
    """``text`` in at most ``width`` characters: cut at the end with "…", or in the middle (a dotted name's
    head and its most specific tail survive)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    if not middle:
        return text[: width - 1] + "…"
    parts = text.split(".")
    for keep in (3, 1):  # a dotted name: its leading components abbreviated, the indices and the tail kept
        for index in sorted(range(len(parts) - 2), key=lambda i: -len(parts[i])):
            if len(".".join(parts)) <= width:
                return ".".join(parts)
            if not parts[index].isdigit() and len(parts[index]) > keep:
                parts[index] = parts[index][:keep]
        if len(".".join(parts)) <= width:
            return ".".join(parts)
    text = ".".join(parts)
    tail = (width - 1) * 3 // 5
    return text[: width - 1 - tail] + "…" + text[len(text) - tail:]


# how a table too wide narrows, step by step: (column, the width it may be cut to)
NARROWING = (("declared init", 28), ("verdict", 46), ("parameter", 32), ("layer", 40), ("declared init", 20),
             ("verdict", 30), ("parameter", 24), ("layer", 24), ("declared init", 16), ("verdict", 12))
OPTIONAL = ("kurt", "range (σ)")  # dropped first when a table is too wide


def _table(rows: List[List[str]], header: List[str], width: int = WIDTH) -> List[str]:
    """Rows in columns, at most ``width`` characters a line: optional columns dropped, then the columns of
    ``NARROWING`` cut in its order, until it fits."""
    header, rows = list(header), [list(r) for r in rows]

    def widths():
        return [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]

    def total(ws):
        return sum(ws) + 2 * (len(ws) - 1)

    for name in OPTIONAL:
        if total(widths()) <= width or name not in header:
            continue
        index = header.index(name)
        del header[index]
        for row in rows:
            del row[index]
    ws = widths()
    for name, narrowest in NARROWING:
        excess = total(ws) - width
        if excess <= 0:
            break
        if name in header and ws[header.index(name)] > narrowest:
            index = header.index(name)
            ws[index] = max(narrowest, ws[index] - excess, len(name))
    for row in rows:
        for i, cell in enumerate(row):
            row[i] = _clip(cell, ws[i], middle=header[i] in ("parameter", "layer"))
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, ws)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, ws)).rstrip())
    return lines


def report_text(report: Report, max_rows: int = 400) -> str:
    """The readable report: the table, the findings, the static findings' fate, the forward pass."""
    where = report.device
    if report.distributed is not None:  # under torchrun: the run's ranks and backend
        where += f", {report.distributed['world_size']} ranks over {report.distributed['backend']}"
    lines = [f"initlint verify: {report.model} ({report.framework}, {where})", ""]
    header = ["parameter", "shape", "fans (in/out)", "declared init", "expected", "measured", "ratio", "kurt",
              "range (σ)", "verdict"]
    rows = []
    shown = report.tensors
    if len(shown) > max_rows:  # a big model: flagged tensors first, then as many as fit
        flagged = [r for r in shown if r.codes]
        shown = flagged + [r for r in shown if not r.codes][: max(0, max_rows - len(flagged))]
    for result in shown:
        info = result.info
        fans = f"{_g(info.fan_in, 6)}/{_g(info.fan_out, 6)}" if info.role == "weight" else "-"
        declared = readable(info.declared)
        expected = _g(result.expect.std) if result.expect is not None else "-"
        measured = _g(result.moments.std) if result.moments is not None else "-"
        ratio = _g(result.ratio, 3)
        verdict = result.verdict
        if result.notes and not result.codes:
            verdict = result.notes[0] if verdict in ("ok", "too few values") else verdict
        kurt = f"{result.kurtosis:+.2f}" if result.kurtosis is not None else "-"
        spread = result.range_in_std
        spread = f"{spread[0]:+.2f}/{spread[1]:+.2f}" if spread else "-"
        rows.append([info.name, _shape(info.shape), fans, declared, expected, measured, ratio, kurt, spread, verdict])
    lines += _table(rows, header)
    if len(shown) < len(report.tensors):
        lines.append(f"... {len(report.tensors) - len(shown)} more tensors without findings (--format json lists all)")
    lines.append("")
    if report.findings:
        lines.append("Findings:")
        lines += [f"  {f.text()}" for f in report.findings]
        lines.append("")
    if report.static:
        lines.append("Static findings in the model's source, against the numbers:")
        lines += [f"  {f.source}: {f.code} {f.message}" for f in report.static]
        lines.append("")
    if report.signal:
        shape = "x".join(str(d) for d in report.input_shape) if report.input_shape else "?"
        fed = report.input or f"a standard-normal input of shape {shape}"
        lines.append(f"Forward pass at init on {fed} (output std of each layer, and of each repeated block):")
        rows = []
        for signal in report.signal[:80]:
            extra = ""
            if signal.dead_fraction is not None:
                extra = f"{signal.dead_fraction:.0%} dead"
            elif signal.saturated_fraction is not None:
                extra = f"{signal.saturated_fraction:.0%} saturated"
            rows.append([signal.name, signal.kind or "-", _g(signal.std, 3), signal.activation or "-", extra])
        lines += [f"  {line}" for line in _table(rows, ["layer", "kind", "output std", "activation", "units"],
                                                 WIDTH - 2)]
        if len(report.signal) > 80:
            lines.append(f"  ... {len(report.signal) - 80} more (--format json lists all)")
        lines.append("")
    for note in report.notes:
        lines.append(f"note: {note}")
    count = len(report.findings)
    small = sum(1 for r in report.tensors if r.verdict == "too few values")
    summary = (f"{'Found ' + str(count) + ' finding' + ('s' if count != 1 else '') if count else 'No findings'} in "
               f"{len(report.tensors)} parameter tensors")
    if small:
        summary += f" ({small} too small to tell)"
    lines.append(summary + ".")
    return "\n".join(lines) + "\n"
