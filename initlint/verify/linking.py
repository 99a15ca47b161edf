"""Static ↔ runtime: for each static finding in ``model.py``, do the numbers confirm it, refute it, or was
its code never reached while the model was built?

A static finding is linked to the tensors whose recorded declarations have a user frame on its lines
(an initialiser call, a layer constructor, an initialiser object's construction), else to the tensors
declared while the function around it was running. Whether a line ran comes from a line tracer active
during the build (only when there are static findings); without one, a finding no tensor links to
counts as not reached. Each code has a judge that reads the linked tensors' numbers.
"""

from __future__ import annotations

import ast
import math
import os
import re
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from ..ftypes import Finding
from .expect import BAND, activation_band, judged_fan
from .recording import Recording, display_path
from .results import RuntimeFinding, StaticLink, TensorResult
from .stats import MIN_SHAPE_VALUES, MIN_VALUES

CONFIRMED, REFUTED, NOT_REACHED, UNMEASURABLE = "confirmed", "refuted", "not reached", "not measurable"
# the runtime codes whose findings confirm a static code
CONFIRMING = {"INI101": {"INI601"}, "INI102": {"INI602"}, "INI201": {"INI605"}, "INI202": {"INI605"},
              "INI203": {"INI605"}, "INI204": {"INI605"}, "INI301": {"INI603"}, "INI302": {"INI606"},
              "INI303": {"INI604"}, "INI304": {"INI604"}, "INI305": {"INI604"}, "INI401": {"INI605"},
              "INI402": {"INI605", "INI601"}, "INI403": {"INI605"}, "INI404": {"INI605", "INI606"},
              "INI406": {"INI607"}}
Verdict = Tuple[str, str]


def _declared_std(result: TensorResult) -> bool:
    """The tensor holds what its declaration promises (or is too small to say otherwise): its std is known."""
    return bool(result.expect is not None and result.expect.std and "INI601" not in result.codes
                and "INI602" not in result.codes)


def _enough(results: Sequence[TensorResult]) -> List[TensorResult]:
    """The tensors whose numbers can settle a question: enough values, a constant (no noise at all), or a
    declared law the values do not contradict (its std is exact)."""
    return [r for r in results if r.moments is not None and r.moments.finite
            and (r.moments.n >= MIN_VALUES or r.moments.min == r.moments.max or _declared_std(r))]


def _scale(result: TensorResult, rms: bool = False) -> Optional[Tuple[float, float, str]]:
    """(std·sqrt(fan)/gain, gain, activation) of a weight, with the activation the forward pass found
    (linear when none)."""
    info, moments = result.info, result.moments
    fan = judged_fan(info, info.declared) or info.fan_in
    if not fan or moments is None:
        return None
    band = activation_band(info.activation, info.slope)
    gain = band[0] if band else 1.0
    if _declared_std(result):
        std, mean = result.expect.std, result.expect.mean or 0.0
    else:
        std, mean = moments.std, moments.mean
    if rms:
        std = math.sqrt(std ** 2 + mean ** 2)
    return std * math.sqrt(fan) / gain, gain, info.activation or "linear"


def _judge_low_scale(results, finding) -> Verdict:
    relu = [r for r in _enough(results) if r.info.activation in ("relu", "leaky_relu")]
    if not relu:
        if _enough(results):
            return REFUTED, "the forward pass shows no ReLU-family activation directly after this layer"
        return UNMEASURABLE, "too few values to tell"
    worst = min(relu, key=lambda r: (_scale(r) or (math.inf,))[0])
    scale = _scale(worst)
    if scale is None:
        return UNMEASURABLE, "no fan-in to judge the scale by"
    if scale[0] < BAND[0]:
        return CONFIRMED, f"{worst.info.name}: std·sqrt(fan_in) is {scale[0]:.2f}× the {scale[2]} gain {scale[1]:.3g}"
    return REFUTED, f"{worst.info.name}: std·sqrt(fan_in) is {scale[0]:.2f}× the {scale[2]} gain, within ±25%"


def _judge_band(results, finding) -> Verdict:
    usable = [r for r in _enough(results) if activation_band(r.info.activation, r.info.slope)]
    if not usable:
        return (UNMEASURABLE, "the forward pass shows no scale-sensitive activation directly after this layer")
    for result in usable:
        scale = _scale(result)
        if scale is not None and not BAND[0] <= scale[0] <= BAND[1] and result.info.activation != "tanh":
            return CONFIRMED, f"{result.info.name}: std·sqrt(fan) is {scale[0]:.2f}× the {scale[2]} gain {scale[1]:.3g}"
        band = activation_band(result.info.activation, result.info.slope)
        if scale is not None and result.info.activation == "tanh":
            value = scale[0] * scale[1]
            if not band[1] <= value <= band[2]:
                return CONFIRMED, (f"{result.info.name}: std·sqrt(fan) = {value:.3g}, outside tanh's "
                                   f"[{band[1]:.3g}, {band[2]:.3g}]")
    result = usable[0]
    scale = _scale(result)
    return REFUTED, (f"{result.info.name}: std·sqrt(fan) is {scale[0]:.2f}× the {scale[2]} gain, within the "
                     f"activation's range" if scale else "scale within range")


def _judge_far_scale(results, finding) -> Verdict:
    usable = _enough(results)
    if not usable:
        return UNMEASURABLE, "too few values to tell"
    for result in usable:
        scale = _scale(result, rms=True)
        if scale is not None and (scale[0] > 10 or scale[0] < 0.1):
            return CONFIRMED, (f"{result.info.name}: root mean square · sqrt(fan_in) is {scale[0]:.3g}× the "
                               f"{scale[2]} gain")
    scale = _scale(usable[0], rms=True)
    return REFUTED, (f"{usable[0].info.name}: within 10× of the {scale[2]} target ({scale[0]:.3g}×)" if scale
                     else "no fan-in to judge by")


def _judge_unscaled(results, finding) -> Verdict:
    usable = _enough(results)
    if not usable:
        return UNMEASURABLE, "too few values to tell"
    for result in usable:
        scale = _scale(result, rms=True)
        if scale is not None and scale[0] > BAND[1]:
            return CONFIRMED, (f"{result.info.name}: std {result.moments.std:.3g}, mean {result.moments.mean:.3g}: "
                               f"{scale[0]:.3g}× the {scale[2]} target")
    return REFUTED, f"{usable[0].info.name}: the scale is within 25% of its target (or below it)"


def _judge_runtime(codes: Set[str], what: str) -> Callable:
    def judge(results, finding) -> Verdict:
        for result in results:
            hit = sorted(set(result.codes) & codes)
            if hit:
                return CONFIRMED, f"{result.info.name}: {', '.join(hit)}"
        if not _enough(results):
            return UNMEASURABLE, "too few values to tell"
        return REFUTED, f"{', '.join(r.info.name for r in results[:3])}: {what}"

    return judge


def _judge_untruncated(results, finding) -> Verdict:
    usable = [r for r in results if r.moments is not None and r.moments.finite and r.moments.n >= MIN_SHAPE_VALUES]
    if not usable:
        return UNMEASURABLE, "too few values to see where the values stop"
    for result in usable:
        moments = result.moments
        reach = max(abs(moments.max - moments.mean), abs(moments.min - moments.mean)) / (moments.std or 1)
        if reach > 2.2:
            return CONFIRMED, f"{result.info.name}: values reach {reach:.2f}σ: nothing was cut at ±2σ"
    return REFUTED, f"{usable[0].info.name}: every value lies within ±2.2σ"


def _judge_identical(results, finding) -> Verdict:
    for result in results:
        if "INI604" in result.codes:
            return CONFIRMED, f"{result.info.name} is identical to another tensor"
    if len(results) < 2:
        return UNMEASURABLE, "only one tensor is linked to it"
    return REFUTED, "the tensors it initialises differ (different shapes or seeds)"


def _judge_zero(results, finding) -> Verdict:
    usable = [r for r in results if r.moments is not None]
    zero = [r for r in usable if r.moments.min == r.moments.max == 0.0]
    if zero:
        dead = [r for r in zero if "INI606" in r.codes]
        tail = "; the forward pass stops there (INI606)" if dead else ""
        return CONFIRMED, f"{zero[0].info.name} is all zeros{tail}"
    if usable:
        return REFUTED, f"{usable[0].info.name} is not zero when the model is built"
    return UNMEASURABLE, "no tensor linked"


def _judge_uninitialised(results, finding) -> Verdict:
    """INI406: say what the memory held. Zeros, NaN/Inf, denormals or huge values are what an
    uninitialised allocation shows; anything else may be a freed tensor's old values."""
    if not results or results[0].moments is None:
        return UNMEASURABLE, "no tensor linked"
    result = results[0]
    moments, name = result.moments, result.info.name
    if not moments.finite:
        return CONFIRMED, f"{name} holds {moments.nonfinite} NaN/Inf value(s) of {moments.n}: whatever was in memory"
    largest = max(abs(moments.min), abs(moments.max))
    if largest == 0.0:
        return CONFIRMED, (f"{name} is all zeros: the allocator's memory happened to be zeroed here; another run "
                           f"or machine may hold anything else")
    if largest < 1e-30:
        return CONFIRMED, f"{name} holds denormal values (max |x| = {largest:.3g}): whatever was in memory"
    if largest > 1e6:
        return CONFIRMED, f"{name} holds values up to |x| = {largest:.3g}: whatever was in memory"
    return UNMEASURABLE, (f"{name} holds ordinary-looking values (mean {moments.mean:.3g}, std {moments.std:.3g}): "
                          f"an earlier tensor's memory cannot be told from an initialisation")


def _judge_ran(results, finding) -> Verdict:
    return REFUTED, "the code ran without raising while the model was built"


def _judge_none(results, finding) -> Verdict:
    return UNMEASURABLE, "not something a tensor's values can show"


JUDGES: Dict[str, Callable] = {
    "INI101": _judge_runtime({"INI601"}, "std as the truncated normal promises, not below an evident target"),
    "INI102": _judge_untruncated,
    "INI201": _judge_low_scale,
    "INI202": _judge_band,
    "INI203": _judge_band,
    "INI204": _judge_low_scale,
    "INI301": _judge_runtime({"INI603"}, "the units differ"),
    "INI302": _judge_zero,
    "INI303": _judge_identical,
    "INI304": _judge_identical,
    "INI305": _judge_identical,
    "INI401": _judge_unscaled,
    "INI402": _judge_unscaled,
    "INI403": _judge_far_scale,
    "INI501": _judge_ran,
    "INI502": _judge_ran,
    "INI406": _judge_uninitialised,
}


def _undeclared_named(results, finding) -> List[TensorResult]:
    """INI406's parameter (named in its message) among the tensors no initialiser declared: nothing
    records an ``nn.Parameter(torch.empty(...))``, so it is found by name."""
    match = re.search(r"parameter `([^`]+)`", finding.message)
    if match is None:
        return []
    return [r for r in results if r.info.declared is None and r.info.name.rsplit(".", 1)[-1] == match.group(1)]


def _functions(path: str) -> List[Tuple[int, int, int]]:
    """(first line incl. decorators, def line, last line) of every function in the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            out.append((first, node.lineno, getattr(node, "end_lineno", node.lineno) or node.lineno))
    return out


def link(findings: Sequence[Finding], results: Sequence[TensorResult], recording: Recording,
         runtime: Sequence[RuntimeFinding]) -> List[RuntimeFinding]:
    """A RuntimeFinding per static finding (its code, its message and what the numbers say), and the
    runtime findings it confirms get ``confirms`` set."""
    out = []
    functions: Dict[str, List[Tuple[int, int, int]]] = {}
    for finding in findings:
        real = os.path.realpath(finding.path)
        lines = range(finding.line, finding.end_line + 1)
        linked = [r for r in results if any(os.path.realpath(f.path) == real and f.line in lines
                                            for stack in r.info.stacks() for f in stack)]
        if not linked and finding.code == "INI406":
            linked = _undeclared_named(results, finding)
        if not linked:
            spans = functions.setdefault(real, _functions(real))
            around = [s for s in spans if s[0] <= finding.line <= s[2]]
            if around:
                first, def_line, _ = max(around, key=lambda s: s[0])
                linked = [r for r in results
                          if any(os.path.realpath(f.path) == real and f.first_line in (first, def_line)
                                 for stack in r.info.stacks() for f in stack)]
        if not linked and finding.code == "INI305":
            # deep copies run no initialiser, so a clone has no declaration to link by: what marks
            # them is the identity itself (INI604), or, when nothing is identical, every weight
            linked = [r for r in results if "INI604" in r.codes] or [r for r in results if len(r.info.shape) >= 2]
        executed = recording.executed_lines(finding.path)
        reached = bool(linked) or (executed is not None and any(line in executed for line in lines))
        if not reached:
            verdict, reason = NOT_REACHED, "building the model never ran this code"
        elif finding.code not in JUDGES:
            verdict, reason = _judge_none(linked, finding)
        elif not linked and finding.code not in ("INI501", "INI502"):
            verdict, reason = UNMEASURABLE, "the code ran, but no parameter tensor is linked to it"
        else:
            verdict, reason = JUDGES[finding.code](linked, finding)
        path = display_path(finding.path)
        where = f"{path}:{finding.line}:{finding.column}"
        parameter = linked[0].info.name if linked else None
        out.append(RuntimeFinding(finding.code, finding.name, parameter, f"{finding.message} → {verdict}: {reason}",
                                  source=where, confirms=verdict, path=path, line=finding.line,
                                  column=finding.column))
        if verdict == CONFIRMED:
            names = {r.info.name for r in linked}
            for item in runtime:
                if item.parameter in names and item.code in CONFIRMING.get(finding.code, ()) and item.linked is None:
                    item.confirms = CONFIRMED
                    item.linked = StaticLink(finding.code, path, finding.line, finding.column)
    return out
