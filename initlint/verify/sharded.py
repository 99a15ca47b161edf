"""``initlint verify`` under ``torchrun``: parameters sharded (FSDP2, DTensor, tensor parallel) or
replicated (DDP, HSDP's replicas) over processes.

Every rank runs the same build and the same pipeline; each collective below is called by every rank
in the same order (the pipeline visits the tensors in the model's order, and every decision that
precedes a collective is taken from values all ranks share), and only rank 0 prints.

- ``ShardedHandle`` stands for a DTensor parameter in the statistics: its moments and sample are
  those of the full logical tensor. A small tensor (up to ``FULL_LIMIT`` values) is gathered whole
  once and read exactly as in one process; a larger one is never gathered: each shard is measured
  where it lives (its replicas skipped), the moments are merged (Chan et al.) and a bounded sample is
  gathered, each shard contributing in proportion to its size.
- ``cross_rank_findings`` compares what only sharding can break, from one digest per local tensor:
  shards of one tensor that are bit-identical on ranks that should hold different slices (INI604,
  naming the ranks: one seed on every rank and no DTensor RNG tracker, as torchtitan #3106), and
  replicas that differ on ranks that should hold the same values (INI608: each rank seeded
  differently and nothing broadcast, as OLMo-core #319 and torchtitan #166).
"""

from __future__ import annotations

import hashlib
import math
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .results import Moments, RuntimeFinding, TensorInfo
from .stats import SAMPLE_SIZE, TensorHandle, array_moments, combine

FULL_LIMIT = 1 << 20  # values: a sharded tensor up to this size (4 MB in fp32) is gathered whole


def distributed(torch) -> bool:
    """Whether this process is one rank of several (a process group with more than one member)."""
    dist = torch.distributed
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank(torch) -> int:
    return torch.distributed.get_rank() if distributed(torch) else 0


def end_process_group(torch) -> None:
    """Every rank reaches this (the command line's last step), so the barrier cannot wait for a rank that
    will not come, and no rank leaves while another still talks to it; then the groups are destroyed
    while every rank is still alive (see command._leave)."""
    if not distributed(torch):
        return
    dist = torch.distributed
    try:
        if dist.get_backend() == "nccl":  # its barrier runs on this rank's GPU (launch.bind_device set it)
            dist.barrier(device_ids=[torch.cuda.current_device()])
        else:
            dist.barrier()
        dist.destroy_process_group()
    except Exception:  # the user's code closed it already, or a peer is gone: nothing left to tidy
        pass


def is_dtensor(torch, tensor) -> bool:
    # no DTensor exists before its module is imported, and importing it costs 0.3 s (sympy, torch.fx) in a
    # process that never uses it: every verification of a plain model paid that for nothing
    module = sys.modules.get("torch.distributed.tensor")
    dtensor = getattr(module, "DTensor", None)
    return dtensor is not None and isinstance(tensor, dtensor)


def _gather_objects(torch, value) -> list:
    out = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(out, value)
    return out


def _is_shard(placement) -> bool:
    return type(placement).__name__ in ("Shard", "_StridedShard")


def _canonical(dtensor) -> bool:
    """Whether this rank's local tensor counts for the full tensor: the replica at coordinate 0 of
    every mesh dimension the tensor is not sharded over (a replicated or partial dimension)."""
    coordinate = dtensor.device_mesh.get_coordinate()
    if coordinate is None:  # this rank is not in the tensor's mesh
        return False
    return all(_is_shard(p) or c == 0 for p, c in zip(dtensor.placements, coordinate))


class ShardedHandle(TensorHandle):
    """A DTensor parameter, read as the full logical tensor (see the module docstring)."""

    def __init__(self, torch, dtensor):
        from .adapters.torch_adapter import TorchHandle

        self.torch = torch
        self.dtensor = dtensor.detach()
        self._torch_handle = TorchHandle
        self._full: Optional[TensorHandle] = None
        self._probe: Tuple[float, ...] = ()

    @property
    def tensor(self):
        """The local shard (what this process holds)."""
        return self.dtensor.to_local()

    def measure(self, rng: np.random.Generator) -> Tuple[Moments, np.ndarray]:
        if self.dtensor.numel() <= FULL_LIMIT:
            self._full = self._torch_handle(self.torch, self.dtensor.full_tensor())
            moments, sample = self._full.measure(rng)
            return moments, sample
        local_rng = np.random.default_rng(int(rng.integers(0, 2**62)))  # every rank draws the same from rng
        contributes = _canonical(self.dtensor)
        part = None
        if contributes:
            local = self._torch_handle(self.torch, self.dtensor.to_local())
            moments, sample = local.measure(local_rng)
            part = (moments.n, moments.count, moments.mean, moments.std, moments.min, moments.max,
                    moments.nonfinite, sample, local.probe())
        parts = [p for p in _gather_objects(self.torch, part) if p is not None and p[0]]
        if not parts:
            return Moments(0, math.nan, math.nan, math.nan, math.nan), np.zeros(0)
        n = sum(p[0] for p in parts)
        count, mean, m2 = combine([(p[1], p[2], p[3] ** 2 * p[1]) for p in parts if p[1]])
        nonfinite = sum(p[6] for p in parts)
        finite = [p for p in parts if p[1]]
        low = min((p[4] for p in finite), default=math.nan)
        high = max((p[5] for p in finite), default=math.nan)
        std = math.sqrt(m2 / count) if count else math.nan
        moments = Moments(n, mean if count else math.nan, std, low, high, finite=nonfinite == 0,
                          nonfinite=nonfinite, count=count)
        # a sample in proportion to each shard's size, the same on every rank
        pieces = []
        for p in finite:
            want = max(1, round(SAMPLE_SIZE * p[1] / count))
            values = p[7]
            pieces.append(values if values.size <= want else values[local_rng.choice(values.size, want, replace=False)])
        self._probe = tuple(parts[0][8])
        return moments, np.concatenate(pieces) if pieces else np.zeros(0)

    # identical units need the whole tensor: only a gathered one is read for them
    def unit_fingerprints(self, unit_axis: int, rng: np.random.Generator) -> Optional[np.ndarray]:
        return self._full.unit_fingerprints(unit_axis, rng) if self._full is not None else None

    def units_equal(self, unit_axis: int, i: int, j: int) -> bool:
        return self._full.units_equal(unit_axis, i, j) if self._full is not None else False

    def probe(self) -> Tuple[float, ...]:
        return self._full.probe() if self._full is not None else self._probe

    def equals(self, other: TensorHandle) -> bool:
        if not isinstance(other, ShardedHandle):
            return False
        if self._full is not None and other._full is not None:
            return self._full.equals(other._full)
        if self._full is not None or other._full is not None or self.dtensor.placements != other.dtensor.placements:
            return False
        local = self.dtensor.to_local()
        same = int(self.torch.equal(local, other.dtensor.to_local()))
        flag = self.torch.tensor([same], dtype=self.torch.int64, device=local.device)  # NCCL moves CUDA tensors only
        self.torch.distributed.all_reduce(flag, op=self.torch.distributed.ReduceOp.MIN)
        return bool(flag.item())

    def distinct_at_most(self, k: int) -> bool:
        return self._full.distinct_at_most(k) if self._full is not None else False


# --- across ranks -----------------------------------------------------------------------------------

def _digest(torch, tensor) -> Optional[str]:
    """A digest of a local tensor's values (None when it holds nothing)."""
    local = tensor.detach()
    if local.numel() == 0:
        return None
    data = local.contiguous().cpu().reshape(-1)
    if data.dtype == torch.bfloat16:
        data = data.view(torch.int16)
    return hashlib.blake2b(data.numpy().tobytes(), digest_size=16).hexdigest()


def _constant(torch, tensor) -> bool:
    local = tensor.detach().reshape(-1)
    return local.numel() == 0 or bool((local == local[0]).all())


def _slot(dtensor) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """``(shard coordinates, replica coordinates)`` of this rank for a DTensor: ranks with equal
    shard coordinates hold the same slice (and must agree); ranks with different shard coordinates
    hold different slices (and must not be identical)."""
    coordinate = dtensor.device_mesh.get_coordinate() or ()
    shard = tuple(c for p, c in zip(dtensor.placements, coordinate) if _is_shard(p))
    replica = tuple(c for p, c in zip(dtensor.placements, coordinate) if not _is_shard(p))
    return shard, replica


def _ranks(ranks: Sequence[int]) -> str:
    return ", ".join(str(r) for r in sorted(ranks))


DETAIL_RANKS = 64  # per-rank detail in the JSON report up to this many ranks (beyond, the report stays bounded)
DETAIL_VALUES = 1 << 20  # a local tensor up to this size gets its statistics in the detail; a larger one its shape


def _placement_text(dtensor) -> str:
    from .shard_fans import _placement

    return ", ".join(_placement(p) for p in dtensor.placements)


def _local_stats(tensor) -> Optional[Tuple[float, float, float, float, int]]:
    """(mean, std, min, max, non-finite count) of a small local tensor, exactly; None for a large one."""
    local = tensor.detach()
    if local.numel() == 0 or local.numel() > DETAIL_VALUES:
        return None
    moments = array_moments(local.reshape(-1).cpu().float().numpy())
    return moments.mean, moments.std, moments.min, moments.max, moments.nonfinite


@dataclass
class AcrossRanks:
    """What the ranks compared: the findings only sharding or replication can make (every rank the same),
    and, for the report (rank 0), each tensor's local piece on every rank (``detail``: name -> one dict per
    rank, with its shape, placement and, where small, statistics; empty beyond DETAIL_RANKS ranks)."""

    findings: List[RuntimeFinding] = field(default_factory=list)
    detail: Dict[str, List[dict]] = field(default_factory=dict)
    world_size: int = 1
    backend: Optional[str] = None


def cross_rank_findings(torch, infos: Sequence[TensorInfo]) -> List[RuntimeFinding]:
    """INI604 for shards identical across ranks, INI608 for replicas that differ (see the module
    docstring). Every rank calls it; every rank returns the same findings."""
    return across_ranks(torch, infos).findings


def across_ranks(torch, infos: Sequence[TensorInfo]) -> AcrossRanks:
    """``cross_rank_findings`` with the per-rank detail the JSON report adds (see AcrossRanks)."""
    if not distributed(torch):
        return AcrossRanks()
    world = torch.distributed.get_world_size()
    detailed = world <= DETAIL_RANKS
    mine = []
    for info in infos:
        handle = info.handle
        if isinstance(handle, ShardedHandle):
            local = handle.dtensor.to_local()
            mine.append((info.name, "sharded", _slot(handle.dtensor), _digest(torch, local),
                         _constant(torch, local), tuple(int(d) for d in local.shape),
                         (_placement_text(handle.dtensor), _local_stats(local) if detailed else None)))
        else:
            tensor = getattr(handle, "tensor", None)
            if tensor is None:
                continue
            mine.append((info.name, "replicated", ((), ()), _digest(torch, tensor), _constant(torch, tensor),
                         tuple(int(d) for d in tensor.shape), ("", _local_stats(tensor) if detailed else None)))
    everyone = _gather_objects(torch, mine)
    result = AcrossRanks(world_size=world, backend=_backend(torch))
    findings = result.findings
    by_info = {info.name: info for info in infos}
    for index, (name, kind, _, _, _, _, _) in enumerate(mine):
        info = by_info[name]
        entries = [(r, ranks[index]) for r, ranks in enumerate(everyone) if index < len(ranks) and ranks[index][0] == name]
        if detailed:
            result.detail[name] = [_detail(r, entry) for r, entry in entries]
        # replicas: every rank with the same shard coordinates must hold the same values
        slots: Dict[Tuple[int, ...], Dict[str, List[int]]] = {}
        for r, (_, _, (shard, _), digest, _, _, _) in entries:
            if digest is not None:
                slots.setdefault(shard, {}).setdefault(digest, []).append(r)
        diverged = [groups for groups in slots.values() if len(groups) > 1]
        if diverged:
            groups = sorted(diverged[0].values(), key=min)
            what = "its shard" if kind == "sharded" else "it"
            findings.append(RuntimeFinding(
                code="INI608", name="replicas-differ-across-ranks", parameter=name,
                message=(f"ranks that must hold the same values of {name} do not: {what} differs between ranks "
                         f"{' | '.join(_ranks(g) for g in groups)}. Each data-parallel replica starts from its own "
                         "weights, so the replicas train as different models driven by one averaged gradient; seed "
                         "every rank alike before building the model, or broadcast the parameters from rank 0 "
                         "(DDP does; FSDP and HSDP do not)"),
                ranks=sorted(r for g in groups for r in g)))
            continue
        # shards: ranks holding different slices of a weight must not hold the same values
        if kind != "sharded" or len(info.shape) < 2:
            continue
        distinct: Dict[str, List[Tuple[int, Tuple[int, ...]]]] = {}
        for r, (_, _, (shard, _), digest, constant, shape, _) in entries:
            if digest is not None and not constant:
                distinct.setdefault(digest, []).append((r, shard))
        for digest, holders in distinct.items():
            if len({shard for _, shard in holders}) > 1:
                ranks = sorted({r for r, _ in holders})
                findings.append(RuntimeFinding(
                    code="INI604", name="identical-tensors", parameter=name,
                    message=(f"the shards of {name} on ranks {_ranks(ranks)} are bit-identical although they are "
                             "different slices of the tensor: every rank drew the same random numbers for its "
                             "slice (one seed on every rank, and no DTensor RNG tracker to offset them, as "
                             "with meta-device init + to_empty on a CPU mesh or with CPU offload). The full "
                             "tensor repeats one block; initialise it with DTensor's random ops on a mesh "
                             "whose RNG tracker runs, or seed each shard by its offset"),
                    ranks=ranks))
                break
    return result


def _detail(rank_: int, entry) -> dict:
    """One rank's local piece of a tensor, for the JSON report."""
    _, kind, _, _, _, shape, (placement, stats) = entry
    out = {"rank": rank_, "shape": list(shape), "placement": placement or "replica"}
    mean, std, low, high, nonfinite = stats if stats is not None else (None,) * 5
    out.update({"mean": _finite(mean), "std": _finite(std), "min": _finite(low), "max": _finite(high)})
    if nonfinite:
        out["nonfinite"] = nonfinite
    return out


def _finite(value) -> Optional[float]:
    return float(value) if value is not None and math.isfinite(value) else None


def _backend(torch) -> Optional[str]:
    try:
        return str(torch.distributed.get_backend())
    except Exception:  # pragma: no cover - a group torch cannot name
        return None
