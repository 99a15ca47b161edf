"""From measurements to findings: which tests each tensor gets, multiple-testing control across the whole
model, and the forward pass's verdicts (INI606).

Two rounds, each controlled at ``alpha`` across the model: first what the declaration promises
(INI601 scale and location, INI602 shape), then the scale against the activation (INI605), which uses
the declared std wherever round one found it kept (exact, so a small tensor gets a verdict too) and
the measured one otherwise. Identical units and tensors (INI603, INI604) and non-finite values
(INI607) are facts, not tests: exact comparisons, no p-value.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Collection, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import codes as code_registry
from . import shard_fans
from .expect import activation_band, judged_fan
from .labels import readable
from .lost_inits import lost_init_facts
from .recording import display_path
from .results import LayerSignal, RuntimeFinding, TensorResult
from .stats import (
    CORRECTIONS,
    MIN_SHAPE_VALUES,
    MIN_VALUES,
    STD_EFFECT,
    Test,
    kurtosis_test,
    ks_test,
    mean_test,
    one_sided_std_above,
    one_sided_std_below,
    std_test,
)

KS_EFFECT = 0.02
KURTOSIS_EFFECT = 0.25
MEAN_EFFECT = 0.1  # a mean off by less than a tenth of the std is never reported
DEAD_FRACTION = 0.5
DEAD_SHIFT_P = 1e-3  # how unlikely, for a layer symmetric about zero, its excess of dead over always-on units
TREND_PER_LAYER = math.log(1.15)
TREND_TOTAL = math.log(10.0)
MIN_TREND_LAYERS = 4


def _p(p: Optional[float]) -> str:
    if p is None:
        return ""
    if p < 1e-12:
        return ", p < 1e-12"
    return f", p = {p:.2g}"


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _declared(result: TensorResult) -> str:
    label = getattr(result, "_label", None)
    if label is None:
        decl = result.info.declared
        label = readable(decl) if decl is not None else "its initialiser"
        result._label = label
    return label


def _identical_units(result: TensorResult, rng: np.random.Generator) -> Optional[str]:
    info, moments = result.info, result.moments
    if info.role != "weight" or len(info.shape) < 2:
        return None
    units = info.shape[info.unit_axis]
    if units < 2 or info.numel // units < 1:
        return None
    if moments.min == moments.max:
        if moments.min == 0.0:
            return None  # zeros are a deliberate choice (heads, LoRA B, gates); INI606 sees a dead hidden layer
        return (f"all {units} units are identical: every value is {_fmt(moments.min)}, so every unit computes the "
                f"same function and receives the same gradient (symmetry is never broken)")
    decl = info.declared
    if decl is not None and decl.name.rsplit(".", 1)[-1].rstrip("_").lower() in ("eye", "dirac", "identity"):
        return None
    prints = info.handle.unit_fingerprints(info.unit_axis, rng)
    if prints is None:
        return None
    order = np.argsort(prints, kind="stable")
    ranked = prints[order]
    scale = np.maximum(np.abs(ranked[1:]), np.abs(ranked[:-1])) * 1e-5 + 1e-30
    close = np.nonzero(np.abs(np.diff(ranked)) <= scale)[0]
    duplicates, pair = set(), None
    for index in close[:4096]:
        i, j = int(order[index]), int(order[index + 1])
        if info.handle.units_equal(info.unit_axis, i, j):
            duplicates.update((i, j))
            pair = pair or (min(i, j), max(i, j))
    if not duplicates:
        return None
    return (f"{len(duplicates)} of its {units} units duplicate another (units {pair[0]} and {pair[1]} are identical): "
            f"duplicated units stay identical through training")


def declaration_tests(result: TensorResult) -> List[Test]:
    """INI601 and INI602 for one tensor: does it hold what its declared initialiser promises?"""
    info, expect, moments = result.info, result.expect, result.moments
    tests: List[Test] = []
    if expect is None or moments is None or not moments.finite:
        return tests
    n = moments.count
    if expect.family == "constant":
        if moments.min != moments.max or not math.isclose(moments.min, expect.constant, rel_tol=1e-6, abs_tol=1e-12):
            tests.append(Test(info.name, "INI601", None,
                              f"{_declared(result)} promises the constant {_fmt(expect.constant)}, but the values "
                              f"range "
                              f"from {_fmt(moments.min)} to {_fmt(moments.max)} (changed after initialisation?)"))
        return tests
    if not expect.std:
        return tests
    if n < MIN_VALUES:
        result.notes.append(f"too few values to tell ({n} < {MIN_VALUES})")
        return tests
    kurt0 = expect.kurtosis if expect.kurtosis is not None else 0.0
    ratio = moments.std / expect.std
    p = std_test(n, moments.std, expect.std, kurt0)
    message = shard_fans.std_message(result, moments.std, ratio, _p(p)) if info.shard is not None else None
    tests.append(Test(info.name, "INI601", p,
                      message or f"std {_fmt(moments.std)} is {ratio:.3g}× the {_fmt(expect.std)} that "
                      f"{_declared(result)} promises"
                      f" for fan_in {_fmt(info.fan_in or 0)}, fan_out {_fmt(info.fan_out or 0)}{_p(p)}",
                      effect=abs(math.log(max(ratio, 1e-30))) > math.log1p(STD_EFFECT)))
    if info.shard is not None:  # a std written from the local shard's shape (shard_fans.py)
        tests += filter(None, [shard_fans.local_target_test(result)])
    if expect.mean is not None:
        p = mean_test(n, moments.mean, expect.mean, expect.std)
        tests.append(Test(info.name, "INI601", p,
                          f"mean {_fmt(moments.mean)} where {_declared(result)} promises {_fmt(expect.mean)} "
                          f"(std {_fmt(expect.std)}){_p(p)}",
                          effect=abs(moments.mean - expect.mean) > MEAN_EFFECT * expect.std))
    if expect.intended_std and abs(math.log(ratio)) <= math.log1p(STD_EFFECT):
        intended_ratio = moments.std / expect.intended_std
        p = std_test(n, moments.std, expect.intended_std, kurt0)
        tests.append(Test(info.name, "INI601", p,
                          f"std {_fmt(moments.std)} is {intended_ratio:.3g}× the {expect.intended_label} = "
                          f"{_fmt(expect.intended_std)} that {_declared(result)} evidently meant: its std is taken "
                          f"before the cut at ±2σ, which removes {100 * (1 - intended_ratio):.0f}% of it{_p(p)}",
                          effect=abs(math.log(intended_ratio)) > math.log1p(STD_EFFECT), extra={"intended": True}))
    if expect.bounds is not None and expect.std:
        low = expect.mean + expect.bounds[0] * expect.std
        high = expect.mean + expect.bounds[1] * expect.std
        slack = 1e-3 * expect.std + 1e-6 * max(abs(low), abs(high))
        if moments.min < low - slack or moments.max > high + slack:
            worst = max((expect.mean - moments.min) / expect.std, (moments.max - expect.mean) / expect.std)
            tests.append(Test(info.name, "INI602", None,
                              f"values reach {worst:.2f}σ from the mean, beyond the cut at "
                              f"[{expect.bounds[0]:.2f}σ, {expect.bounds[1]:.2f}σ] that {_declared(result)} promises"))
    sample = result.sample
    if sample is not None and sample.size >= MIN_SHAPE_VALUES and expect.family in ("normal", "uniform",
                                                                                     "truncated_normal"):
        distance, p = ks_test(sample, expect.family, expect.bounds)
        if distance is not None:
            tests.append(Test(info.name, "INI602", p,
                              f"its values are not {_family(expect)}: Kolmogorov-Smirnov distance {distance:.3f} on "
                              f"{sample.size} values{_p(p)}", effect=distance > KS_EFFECT))
        if expect.kurtosis is not None:
            kurt, p = kurtosis_test(sample, expect.kurtosis)
            result.kurtosis = kurt
            if kurt is not None:
                tests.append(Test(info.name, "INI602", p,
                                  f"excess kurtosis {kurt:.3f} where {_family(expect)} has "
                                  f"{expect.kurtosis:.3f}{_p(p)}",
                                  effect=abs(kurt - expect.kurtosis) > KURTOSIS_EFFECT))
    elif sample is not None and sample.size < MIN_SHAPE_VALUES and n >= MIN_VALUES:
        result.notes.append(f"too few values to test the shape ({sample.size} < {MIN_SHAPE_VALUES})")
    return tests


def _family(expect) -> str:
    if expect.family == "truncated_normal" and expect.bounds:
        return f"a normal cut at [{expect.bounds[0]:.2f}σ, {expect.bounds[1]:.2f}σ]"
    return {"normal": "normal", "uniform": "uniform"}.get(expect.family, expect.family or "?")


def activation_tests(result: TensorResult, kept_declared: bool, strict: bool) -> List[Test]:
    """INI605: std * sqrt(fan) against the gain of the activation that follows the layer."""
    info, expect, moments = result.info, result.expect, result.moments
    band = activation_band(info.activation, info.slope)
    fan = judged_fan(info, info.declared)
    if band is None or fan is None or moments is None or not moments.finite or moments.min == moments.max:
        return []
    # a framework's or library's own choice (the layer type's default; nn.Transformer's xavier_uniform_, which
    # torch's code applies; transformers' _init_weights, a keras application's initialisers; values that hold
    # the layer's default law) is the model's default for whoever builds it: judged only under --strict
    chosen_by_framework = info.is_default or result.default_like or (
        info.declared is not None and (info.declared.explicit is False or info.declared.library))
    # inside a repeated block (a residual branch: T5's and DETR's feed-forward) a scale off the gain does not
    # compound with depth; --strict judges it too
    if ((chosen_by_framework or info.in_block) and not strict) or info.last_layer:
        return []
    if info.gate:  # a squeeze-excitation or GLU gate: its output scales the signal, it does not carry it
        result.notes.append(f"a gate: its {info.activation} output multiplies another signal, so its scale does "
                            f"not compound with depth (not judged against the activation's gain)")
        return []
    gain, low, high = band
    name = info.activation.replace("_", " ")
    target = gain / math.sqrt(fan)
    result.target_std = target
    if kept_declared and expect is not None and expect.std:
        std, p, measured = expect.std, None, False
    else:
        if moments.count < MIN_VALUES:
            result.notes.append(f"too few values to judge the scale against {name} ({moments.count} < {MIN_VALUES})")
            return []
        std, measured = moments.std, True
        p = None
    scale = std * math.sqrt(fan)
    result.scale_ratio = scale / gain
    if low <= scale <= high:
        return []
    if measured:
        bound = (low if scale < low else high) / math.sqrt(fan)
        p = one_sided_std_below(moments.count, std, bound) if scale < low else \
            one_sided_std_above(moments.count, std, bound)
    direction = "below" if scale < low else "above"
    which = "declared" if not measured else "measured"
    if info.activation in ("tanh",):
        band_text = f"[{low:.3g}, {high:.3g}]"
    else:
        band_text = f"{gain:.3g} (±25%)"
    message = (f"scale {direction} the {name} target: {which} std {_fmt(std)} × sqrt(fan {_fmt(fan)}) = {scale:.3g}, "
               f"where {name} needs a gain of {band_text}: std {_fmt(target)}; "
               f"{'the signal shrinks' if scale < low else 'the signal grows'} by {((scale / gain) ** 2):.2g}× in "
               f"variance at every such layer{_p(p)}")
    return [Test(info.name, "INI605", p, message)]


def identical_tensors(results: Sequence[TensorResult]) -> List[Tuple[TensorResult, TensorResult]]:
    """Pairs (first, later) of weight tensors with exactly the same values."""
    groups: Dict[tuple, List[TensorResult]] = defaultdict(list)
    for result in results:
        info, moments = result.info, result.moments
        if info.role != "weight" or moments is None or not moments.finite or moments.min == moments.max:
            continue
        groups[(info.shape, info.dtype, info.handle.probe())].append(result)
    pairs = []
    for members in groups.values():
        # a structured tensor (an identity, a few levels) is identical to its like by design
        members = [m for m in members if len(members) > 1 and not m.info.handle.distinct_at_most(8)]
        for index, later in enumerate(members[1:], 1):
            first = next((m for m in members[:index] if m.info.handle.equals(later.info.handle)), None)
            if first is not None:
                pairs.append((first, later))
    return pairs


def signal_tests(signals: Sequence[LayerSignal], biased: Collection[str] = ()) -> List[Test]:
    """INI606: dead ReLU layers, a signal that stops, and geometric growth or decay with depth. ``biased``: the
    layers whose bias is not zero."""
    tests = []
    for signal in signals:
        if signal.dead_fraction is not None and signal.dead_fraction > DEAD_FRACTION and \
                (signal.name in biased or _shifted_dead(signal)):
            tests.append(Test(signal.param, "INI606", None,
                              f"{signal.dead_fraction:.0%} of the ReLU units after {signal.name} are dead: zero for "
                              f"every input of the standard-normal batch, so they pass no gradient"))
    chain = [s for s in signals if s.kind not in ("embedding", "block")]
    for index, signal in enumerate(chain[:-1]):
        # a layer fed a constant (DETR's decoder starts from zero queries) does not stop the signal itself
        if signal.std == 0.0 and signal.input_std != 0.0:
            tests.append(Test(signal.param, "INI606", None,
                              f"the output of {signal.name} is constant for every input (std 0): the signal stops "
                              f"there and no later layer sees the input"))
    # in a model with repeated blocks, depth is its blocks: inside one a layer's output is a branch (a residual
    # network carries its signal in the blocks' outputs, judged below), and the layers outside them are a stem
    # and heads side by side (DETR's class and box heads), no chain in depth
    if not any(s.kind == "block" for s in signals):
        trend = _trend(chain, "layer")
        if trend is not None:
            tests.append(trend)
    groups: Dict[str, List[LayerSignal]] = defaultdict(list)
    for signal in signals:
        if signal.kind == "block":
            groups[signal.group or ""].append(signal)
    for group, blocks in groups.items():
        trend = _trend(blocks, f"block of {group}" if group else "block")
        if trend is not None:
            tests.append(trend)
    return tests


def _shifted_dead(signal: LayerSignal) -> bool:
    """Whether the dead units of a layer without a bias come from its weights rather than from its input. A
    unit is dead (negative for every input) or always on (positive for every input) when its sign does not
    change across the batch; weights symmetric about zero make as many of one as of the other (w and -w are
    equally likely), so inputs that are nearly the same vector (DETR's decoder queries, which start at zero
    by design) leave about half the units dead and half always on, and that is not this layer's
    initialisation. Its dead units are its own when they outnumber the always-on ones beyond chance (a sign
    test): weights with a negative mean. A layer with a bias is not excused: its bias can be what outweighs
    its weights and fixes the signs (weights too small for the bias beside them). Without the counts (an
    adapter that does not give them) the dead fraction alone decides."""
    if signal.live_fraction is None or not signal.units:
        return True
    dead = round(signal.dead_fraction * signal.units)
    fixed = dead + round(signal.live_fraction * signal.units)
    from scipy.stats import binom

    return float(binom.sf(dead - 1, fixed, 0.5)) < DEAD_SHIFT_P


def _trend(chain: Sequence[LayerSignal], unit: str) -> Optional[Test]:
    """INI606 when the output std of a chain in depth changes geometrically: by more than 15% per step on a
    log-linear fit and by more than 10x from first to last."""
    positive = [s for s in chain if s.std > 0 and math.isfinite(s.std)]
    if len(positive) < MIN_TREND_LAYERS:
        return None
    y = np.log([s.std for s in positive])
    x = np.arange(len(y), dtype=np.float64)
    slope = float(np.polyfit(x, y, 1)[0])
    total = float(y[-1] - y[0])
    if not (abs(slope) > TREND_PER_LAYER and abs(total) > TREND_TOTAL and np.sign(slope) == np.sign(total)):
        return None
    first, last = positive[0], positive[-1]
    verb = "grows" if slope > 0 else "shrinks"
    what = "activation std" if unit == "layer" else "output std of the repeated blocks"
    step = "layer" if unit == "layer" else "block"
    return Test(last.param, "INI606", None,
                f"the {what} {verb} geometrically with depth: {_fmt(first.std)} after {first.name}, "
                f"{_fmt(last.std)} after {last.name} ({math.exp(slope):.2f}× per {step} over {len(positive)} "
                f"{step}s) in the forward pass at init")


def tensor_checks(result: TensorResult, rng: np.random.Generator) -> Tuple[List[Test], List[Test]]:
    """(facts, round-one tests) of one measured tensor; called while its sample is still in memory."""
    moments = result.moments
    if moments is None:
        return [], []
    facts = lost_init_facts(result)  # the cause, where the values below are its consequence
    if not moments.finite:
        return facts + [Test(result.info.name, "INI607", None,
                             f"{moments.nonfinite} of its {moments.n} values are NaN or infinite")], []
    message = _identical_units(result, rng)
    if message:
        facts.append(Test(result.info.name, "INI603", None, message))
    return facts, declaration_tests(result)


OVERWRITTEN_P = 1e-6


def assumed_default(result: TensorResult, tests: List[Test]) -> List[Test]:
    """A layer's default assumed because the build was not recorded (a model object handed over built)
    cannot disagree with itself: values that its law rejects were written by something else, which is
    unknown. Such a tensor loses the assumption (declared: unknown) and no test of it remains; one whose
    values agree keeps it for INI605 (under --strict), its tests dropped (they could only be chance)."""
    overwritten = any(t.code in ("INI601", "INI602") and t.effect and (t.p is None or t.p < OVERWRITTEN_P)
                      for t in tests)
    if overwritten:
        result.expect = None
        result.info.declared = None
        result.info.is_default = False
        result.notes.append("not the layer's default, which something overwrote: its initialiser is unknown")
    return [t for t in tests if t.code not in ("INI601", "INI602")]


def conclude(results: List[TensorResult], facts: List[Test], round_one: List[Test], signals: Sequence[LayerSignal],
             alpha: float, correction: str, strict: bool) -> List[RuntimeFinding]:
    """Every runtime finding of the model, in model order."""
    correct = CORRECTIONS[correction]
    by_name = {r.info.name: r for r in results}
    facts = list(facts)
    rejected = correct(round_one, alpha)
    flagged_std = {t.tensor for t in rejected if t.code == "INI601" and not (t.extra or {}).get("intended")}
    round_two: List[Test] = []
    for result in results:
        round_two += activation_tests(result, kept_declared=result.info.name not in flagged_std, strict=strict)
    rejected += correct(round_two, alpha)
    for first, later in identical_tensors(results):
        decl = later.info.declared
        if decl is not None and decl.copied:  # the recording saw the values copied (a module deep-copied)
            why = ("one layer deep-copied into several, as nn.TransformerEncoder(layer, N), nn.TransformerDecoder and "
                   "copy.deepcopy do, and nothing re-initialised the copies; call each copy's reset_parameters() "
                   "or re-initialise after cloning")
        else:
            why = "one seeded initialiser shared, one PRNG key reused, or one layer copied"
        facts.append(Test(later.info.name, "INI604", None,
                          f"identical to {first.info.name}: every value equal ({why}), so both layers start as copies "
                          f"and stay identical through training"))
    biased = {r.info.layer_path for r in results if r.info.role == "bias" and r.moments is not None
              and r.moments.n and not r.moments.min == r.moments.max == 0}
    facts += signal_tests(signals, biased)
    chosen: Dict[Tuple[str, str], Test] = {}
    for test in facts + rejected:
        key = (test.tensor, test.code)
        current = chosen.get(key)
        if current is None or (test.p or 0.0) < (current.p or 0.0):
            chosen[key] = test
    order = {r.info.name: i for i, r in enumerate(results)}
    findings = []
    for (tensor, code), test in sorted(chosen.items(), key=lambda kv: (order.get(kv[0][0], 1 << 30), kv[0][1])):
        result = by_name.get(tensor)
        frame = result.info.source() if result is not None else None
        if result is not None and code not in result.codes:
            result.codes.append(code)
        findings.append(RuntimeFinding(code, code_registry.name_of(code), tensor, test.message,
                                       frame.where() if frame else None, p_value=test.p,
                                       path=display_path(frame.path) if frame else None,
                                       line=frame.line if frame else None, column=frame.column if frame else None))
    for result in results:
        result.codes.sort()
        if result.codes:
            result.verdict = " ".join(result.codes)
        elif result.moments is not None and result.moments.n < MIN_VALUES and result.expect is not None \
                and result.expect.family != "constant":
            result.verdict = "too few values"
        elif result.expect is None and result.moments is not None:
            decl = result.info.declared
            result.verdict = "ok (custom init)" if decl is not None and decl.name.startswith("custom") else \
                "ok (no declared law)"
    return findings
