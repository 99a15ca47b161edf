"""Under torchrun: the GPU each rank uses and the process group when the model's build opens none.

torchrun starts N processes with ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` in their environment. The
model's build normally opens the process group itself (``dist.init_process_group()``, as its training
script does), and initlint never opens one before the build: a build that calls
``init_process_group`` unconditionally (torchtitan's does) would fail on a second one. Two things are
initlint's to do:

- ``--device cuda`` on a rank means that rank's own GPU (``LOCAL_RANK``), as every torchrun script sets
  it: the current CUDA device is set before the build, so ``cuda`` tensors, NCCL collectives and
  ``all_gather_object`` all use it. Without that every rank would build on GPU 0. A node with more
  ranks than GPUs is an error said before the build: NCCL refuses two ranks on one GPU (``invalid
  usage``), and gloo's collectives on CUDA tensors crashed the process (SIGSEGV) on a one-GPU H200
  machine; ``cuda:N`` given explicitly is the user's choice and left alone.
- a build that opens no group (a plain model under torchrun) gets one after it, so that rank 0 alone
  reports and the ranks' copies are compared: NCCL for a model on CUDA, gloo otherwise (NCCL moves
  only CUDA tensors; gloo moves CPU tensors, and is what a CPU machine has).
"""

from __future__ import annotations

import os
from typing import Optional, Tuple

from .errors import VerifyError


def torchrun_ranks() -> Optional[Tuple[int, int, int]]:
    """``(rank, local_rank, world_size)`` when this process is one of several started by torchrun (or
    any launcher that sets torch's environment variables), else None."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ["RANK"])
        local = int(os.environ.get("LOCAL_RANK", rank))
    except (KeyError, ValueError):
        return None
    return (rank, local, world) if world > 1 else None


def choose_backend(device: str, cuda_available: bool, nccl_available: bool) -> str:
    """The backend of a process group for a model on ``device``: NCCL on CUDA where it is built in,
    gloo otherwise."""
    if device.startswith("cuda") and cuda_available and nccl_available:
        return "nccl"
    return "gloo"


class SharedGpuError(VerifyError):
    """More ranks on this node than GPUs for ``--device cuda``."""


def bind_device(torch, device: str) -> Optional[int]:
    """Before the build, under torchrun with ``--device cuda``: make this rank's GPU (LOCAL_RANK) the
    current device. Returns its index, or None when nothing was set (a CPU run, ``--device cuda:N``
    given explicitly, no CUDA). Raises SharedGpuError when this node runs more ranks than it has GPUs."""
    ranks = torchrun_ranks()
    if ranks is None or device != "cuda" or not torch.cuda.is_available():
        return None
    gpus = torch.cuda.device_count()
    try:
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "0"))
    except ValueError:
        local_world = 0
    local_world = max(local_world, ranks[1] + 1)
    if local_world > gpus:
        raise SharedGpuError(
            f"--device cuda under torchrun needs a GPU for each rank: this node runs {local_world} ranks and "
            f"sees {gpus} GPU{'s' if gpus != 1 else ''} (NCCL refuses two ranks on one GPU). Start at most "
            f"{gpus} rank{'s' if gpus != 1 else ''} per node (--nproc-per-node {gpus}), or verify on the CPU "
            "(drop --device cuda; gloo runs any number of ranks).")
    torch.cuda.set_device(ranks[1])
    return ranks[1]


def ensure_group(torch, device: str) -> Optional[str]:
    """After the build, under torchrun: open the default process group when the build opened none.
    Returns the backend it opened, or None (not under torchrun, no torch.distributed, already open)."""
    if torchrun_ranks() is None:
        return None
    dist = torch.distributed
    if not dist.is_available() or dist.is_initialized():
        return None
    backend = choose_backend(device, torch.cuda.is_available(), dist.is_nccl_available())
    dist.init_process_group(backend)
    return backend
