"""INI601 for an initialiser that never reached its parameter: the recording saw it fill a copy of part
of the parameter (a DTensor sliced along a sharded dimension, an advanced index; see
adapters/torch_pieces.py), and nothing wrote the parameter afterwards. Not a statistical question: the
declared values are not in the parameter whatever its numbers look like (a default init can have
nearly the std the lost one promised), so it is a fact, with what the parameter holds instead."""

from __future__ import annotations

from typing import Dict, List

from .labels import readable
from .results import TensorResult
from .stats import Test

DTENSOR_WHY = ("indexing a DTensor along a sharded dimension gathers the slice into a new, replicated tensor, "
               "and assigning to such a slice writes that copy too (pytorch#139735)")
PLAIN_WHY = ("advanced indexing (a list, tensor or mask index) returns a copy, as reshape of a non-contiguous "
             "tensor does")
DTENSOR_FIX = ("initialise the full tensor and copy it back (full = param.full_tensor(); init(full[...]); "
               "param.copy_(distribute_tensor(full, param.device_mesh, param.placements))), as llm-foundry #1820 "
               "does, or initialise the parameter itself")
PLAIN_FIX = "index with slices, which are views, or write the piece back (param[index] = piece)"


def _g(value: float) -> str:
    return f"{value:.4g}"


def _before(result: TensorResult) -> str:
    """What the parameter holds instead, in words, from its own declaration and its numbers."""
    decl, moments = result.info.declared, result.moments
    if decl is not None and decl.name.startswith("torch.empty"):
        held = "uninitialised memory (torch.empty, as to_empty() leaves it)"
    elif decl is not None and not decl.unknown:
        held = f"the values of {readable(decl)}"
    else:
        held = "values nothing declared"
    if moments is None or not moments.n:
        return held
    if not moments.finite:
        return f"{held}: {moments.nonfinite} of its values NaN or infinite"
    if moments.min == moments.max:
        return f"{held}: every value {_g(moments.min)}"
    return f"{held}: std {_g(moments.std)}, from {_g(moments.min)} to {_g(moments.max)}"


def lost_init_facts(result: TensorResult) -> List[Test]:
    """One INI601 fact per tensor with lost initialisers, naming each (at most three)."""
    lost = result.info.lost
    if not lost:
        return []
    name = result.info.name
    counts: Dict[str, int] = {}  # the same call on the same piece (a loop over blocks) once, with its count
    for entry in lost:
        call = f"{name}{entry.piece} = … (an assignment)" if entry.decl.name == "assignment" else \
            f"{readable(entry.decl)} on {name}{entry.piece}"
        counts[call] = counts.get(call, 0) + 1
    shown = [call + (f" ({n} times)" if n > 1 else "") for call, n in counts.items()]
    calls = "; ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
    dtensor = any(entry.dtensor for entry in lost)
    return [Test(name, "INI601", None,
                 f"{calls}: {'each' if len(lost) > 1 else 'it'} wrote a copy of part of the parameter, not a view "
                 f"({DTENSOR_WHY if dtensor else PLAIN_WHY}), so the parameter never received those values and "
                 f"still holds {_before(result)}; {DTENSOR_FIX if dtensor else PLAIN_FIX}")]
