"""INI601's sharded case: a full tensor whose std depends on the world size, because each rank
initialised its own shard from the shard's fans.

A DTensor parameter's fans are its global shape's, and ``torch.nn.init`` called on the DTensor computes
them so. Called on the local shard instead (``init(param.to_local())``), or with a std the code computes
from the local shape (``1 / sqrt(local.shape[1])``), the fan along a sharded axis is the global one
divided by the number of shards: a row-wise tensor-parallel weight (``Shard(1)`` of torch's
[out, in] layout) gets a std sqrt(shards) too large, and another world size gives another std. A
column-wise one (``Shard(0)``) keeps its fan_in, and fan_in-mode inits on it are right.

Two shapes of the bug, both on the full logical tensor measured from the shards:
- a fan-based initialiser ran on the shard: the measured std is what it gives for the shard's fans,
  not the full tensor's (``std_message`` explains the INI601 its declaration test already raised);
- a std written from the shard's shape: the declared std is a variance-scaling target of the shard's
  fans and of none of the full tensor's, and the initialiser was called on the local tensor
  (``local_target_test`` raises INI601 against the full tensor's target). Exact equality (0.1%) with
  such a target is required: a literal that happens to be near one is no evidence, and neither is one
  written for the DTensor itself.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Tuple

from ..catalogue import fans
from .expect import expectation
from .results import TensorResult
from .stats import STD_EFFECT, Test, std_test

EXACT = 1e-3  # a std equal to a target within this (relative) was computed from it


@dataclasses.dataclass(frozen=True)
class ShardLayout:
    """How a DTensor parameter is cut: ``shards[d]`` slices along dimension ``d``; ``local_shape`` the
    shard the reporting rank holds; ``world`` the mesh's size; ``placements`` in torch's words;
    ``local_init`` whether the recording saw its initialiser called on the local tensor rather than the
    DTensor (the only way a std can come from the shard's shape without the code computing it so)."""

    local_shape: Tuple[int, ...]
    shards: Tuple[int, ...]
    world: int
    placements: str
    local_init: Optional[bool] = None  # its last initialiser was called on the local shard (None: not recorded)

    def sharded(self) -> bool:
        return any(count > 1 for count in self.shards)


def layout_of(dtensor) -> Optional[ShardLayout]:
    """The ShardLayout of a DTensor (None when it cannot be read)."""
    try:
        mesh = dtensor.device_mesh
        shards = [1] * dtensor.dim()
        for mesh_dim, placement in enumerate(dtensor.placements):
            dim = getattr(placement, "dim", None)
            if type(placement).__name__ in ("Shard", "_StridedShard") and dim is not None:
                shards[dim % dtensor.dim()] *= int(mesh.size(mesh_dim))
        local = tuple(int(d) for d in dtensor.to_local().shape)
        return ShardLayout(local, tuple(shards), int(mesh.size()), ", ".join(_placement(p) for p in dtensor.placements))
    except Exception:  # pragma: no cover - a DTensor torch cannot describe: no shard case to tell
        return None


def _placement(placement) -> str:
    """``Shard(1)``, ``Replicate()``, ``Partial()``: as the user's code spells them (torch prints S(1), R)."""
    name = type(placement).__name__.lstrip("_")
    dim = getattr(placement, "dim", None)
    return f"{name}({dim})" if dim is not None else f"{name}()"


def _g(value: float) -> str:
    return f"{value:.4g}"


def _shape(shape) -> str:
    return "x".join(str(int(d)) for d in shape)


def _local_fans(result: TensorResult):
    layout = result.info.shard
    if layout is None or not layout.sharded() or len(layout.local_shape) < 2:
        return None
    return fans(layout.local_shape, "torch")


def _which(info, local_in, local_out) -> str:
    """The fans that differ, as "fan_in 32 of the shard (64 of the full tensor)"."""
    parts = []
    if local_in != info.fan_in:
        parts.append(f"fan_in {_g(local_in)} (the full tensor's is {_g(info.fan_in)})")
    if local_out != info.fan_out:
        parts.append(f"fan_out {_g(local_out)} (the full tensor's is {_g(info.fan_out)})")
    return " and ".join(parts)


def _where(info) -> str:
    layout = info.shard
    return (f"the {_shape(layout.local_shape)} shard each rank holds of the full {_shape(info.shape)} tensor "
            f"({layout.placements} over {layout.world} ranks)")


FIX = ("initialise the DTensor parameter itself (torch.nn.init on it computes fans from the global shape), or compute "
       "the std from the full tensor's shape (param.shape, not param.to_local().shape)")


def std_message(result: TensorResult, measured: float, ratio: float, p_text: str) -> Optional[str]:
    """The INI601 message when the measured std is what the declared initialiser gives for the shard's
    fans (and not the full tensor's): the initialiser ran on each rank's local shard."""
    info, decl, expect = result.info, result.info.declared, result.expect
    local = _local_fans(result)
    if local is None or decl is None or decl.fans_override is not None or decl.shape is not None or expect is None \
            or info.shard.local_init is False:
        return None
    local_in, local_out, receptive = local
    if (local_in, local_out) == (info.fan_in, info.fan_out):
        return None
    on_shard = expectation(dataclasses.replace(decl, fans_override=(local_in, local_out, receptive)), info, "torch")
    if on_shard is None or not on_shard.std or not expect.std:
        return None
    if abs(math.log(on_shard.std / expect.std)) <= math.log1p(STD_EFFECT):
        return None  # the sharded fan does not enter this initialiser's std
    if abs(math.log(measured / on_shard.std)) > math.log1p(STD_EFFECT):
        return None  # not what the shard's fans give either: the plain message says what is known
    from .checks import _declared

    return (f"std {_g(measured)} of the full tensor is {ratio:.3g}× the {_g(expect.std)} that {_declared(result)} "
            f"promises for its fan_in {_g(info.fan_in)}, fan_out {_g(info.fan_out)}, and is what it gives for "
            f"{_which(info, local_in, local_out)} of {_where(info)}: it ran on each rank's local shard "
            f"(to_local()), so the full tensor's std changes with the world size "
            f"(×{on_shard.std / expect.std:.3g} on {info.shard.world} ranks); {FIX}{p_text}")


# (variance numerator k, fan, words): a std sqrt(k / fan); k = 1/3 is a uniform bound 1/sqrt(fan)
_TARGETS = (
    (2.0, "fan_in", "the He std sqrt(2/fan_in)"),
    (1.0, "fan_in", "the LeCun std sqrt(1/fan_in)"),
    (1.0 / 3.0, "fan_in", "the std of a uniform bound 1/sqrt(fan_in)"),
    (2.0, "fan_out", "the He std sqrt(2/fan_out)"),
    (1.0, "fan_out", "the std sqrt(1/fan_out)"),
    (1.0, "fan_avg", "the Glorot std sqrt(2/(fan_in+fan_out))"),
)


def _fan(mode: str, fan_in, fan_out) -> Optional[float]:
    if fan_in is None or fan_out is None:
        return None
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]


def _matches(std: float, fan_in, fan_out):
    for k, mode, words in _TARGETS:
        fan = _fan(mode, fan_in, fan_out)
        if fan and math.isclose(std, math.sqrt(k / fan), rel_tol=EXACT):
            return k, mode, words
    return None


def local_target_test(result: TensorResult) -> Optional[Test]:
    """INI601 for a declared std that is a variance-scaling target of the shard's fans and of none of the
    full tensor's: a std computed from the local shard's shape (see the module docstring)."""
    info, expect, moments = result.info, result.expect, result.moments
    local = _local_fans(result)
    # the evidence is an equality, so it must be the shard the initialiser was called on: a literal such as
    # 0.125 written for the DTensor equals sqrt(1/64) of some shard without being computed from it
    if local is None or info.role != "weight" or expect is None or not expect.std or moments is None \
            or info.shard.local_init is not True:
        return None
    local_in, local_out, _ = local
    if (local_in, local_out) == (info.fan_in, info.fan_out) or _matches(expect.std, info.fan_in, info.fan_out):
        return None
    found = _matches(expect.std, local_in, local_out)
    if found is None:
        return None
    k, mode, words = found
    full = _fan(mode, info.fan_in, info.fan_out)
    local_fan = _fan(mode, local_in, local_out)
    if not full or full == local_fan:
        return None
    intended = math.sqrt(k / full)
    ratio = moments.std / intended
    p = std_test(moments.count, moments.std, intended, expect.kurtosis or 0.0)
    p_text = "" if p is None else (", p < 1e-12" if p < 1e-12 else f", p = {p:.2g}")
    return Test(info.name, "INI601", p,
                f"std {_g(moments.std)} of the full tensor is {words} for {mode} {_g(local_fan)}, the {mode} of "
                f"{_where(info)}, not for the full tensor's {mode} {_g(full)} ({_g(intended)}; {ratio:.3g}×): the "
                f"std was computed from the local shard's shape, so the full tensor's std changes with the world "
                f"size; {FIX}{p_text}",
                effect=abs(math.log(max(ratio, 1e-30))) > math.log1p(STD_EFFECT), extra={"intended": True})
