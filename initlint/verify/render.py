"""A verification as text (a table, the findings, the static findings' fate, the forward pass) or as the
SPEC's JSON object."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

from .results import Report, TensorResult

JSON_VERSION = 1


def _number(value: Optional[float]) -> Optional[float]:
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _fan(value) -> Optional[float]:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def parameter_json(result: TensorResult) -> Dict[str, Any]:
    """One entry of the JSON ``parameters`` list (exactly the SPEC's keys)."""
    info, moments, expect = result.info, result.moments, result.expect
    return {
        "name": info.name,
        "shape": list(info.shape),
        "fan_in": _fan(info.fan_in) if info.role == "weight" else None,
        "fan_out": _fan(info.fan_out) if info.role == "weight" else None,
        "initializer": info.declared.label() if info.declared is not None else None,
        "expected_std": _number(expect.std) if expect is not None else None,
        "mean": _number(moments.mean) if moments else None,
        "std": _number(moments.std) if moments else None,
        "min": _number(moments.min) if moments else None,
        "max": _number(moments.max) if moments else None,
        "codes": list(result.codes),
    }


def report_json(report: Report) -> Dict[str, Any]:
    """The SPEC's JSON object of a verification."""
    return {
        "version": JSON_VERSION,
        "model": report.model,
        "framework": report.framework,
        "device": report.device,
        "parameters": [parameter_json(r) for r in report.tensors],
        "findings": [f.to_json() for f in report.findings] + [f.to_json() for f in report.static],
    }


def _g(value: Optional[float], digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}g}"


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape) or "scalar"


def _table(rows: List[List[str]], header: List[str]) -> List[str]:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return lines


def report_text(report: Report, max_rows: int = 400) -> str:
    """The readable report: the table, the findings, the static findings' fate, the forward pass."""
    lines = [f"initlint verify: {report.model} ({report.framework}, {report.device})", ""]
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
        declared = info.declared.label() if info.declared is not None else "-"
        if len(declared) > 42:
            declared = declared[:41] + "…"
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
        lines.append(f"Forward pass on a standard-normal input of shape {shape} (output std per layer):")
        parts = []
        for signal in report.signal[:60]:
            extra = ""
            if signal.dead_fraction is not None:
                extra = f", {signal.dead_fraction:.0%} dead"
            elif signal.saturated_fraction is not None:
                extra = f", {signal.saturated_fraction:.0%} saturated"
            parts.append(f"{signal.name} {_g(signal.std, 3)}{' → ' + signal.activation if signal.activation else ''}"
                         f"{extra}")
        lines += [f"  {p}" for p in parts]
        if len(report.signal) > 60:
            lines.append(f"  ... {len(report.signal) - 60} more layers")
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
