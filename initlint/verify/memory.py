"""The memory limit of a build: refuse an allocation that would not fit *before* it is made, so that a model
too large for the machine ends with a message and exit 2 rather than with the kernel's OOM killer.

The adapters ask before each large parameter-sized allocation (torch's factory functions such as
``torch.empty``, Keras' ``Layer.add_weight``, the whole of a Flax init through ``jax.eval_shape``). The
answer uses real numbers, not a running sum of requests (temporaries are freed, ``nn.Parameter`` wraps a
tensor already counted): the memory the process has gained since the build began (resident set, from
``/proc/self/statm``) plus the request must stay within ``--max-memory``; without the option, the request
must fit in what the machine has available now (``MemAvailable`` in ``/proc/meminfo``). Where ``/proc`` is
missing (macOS, Windows) the sum of requests stands in for the growth, and without ``--max-memory`` nothing
is checked.

While verify chooses by itself between the whole model and one module at a time (``room_for_whole``), each
request must also leave room for the whole-model run after the build (the forward pass, the statistics):
refused, the runner builds the model on the meta device instead, so that the usual build runs once and
nothing is built twice merely to learn its size. Framework-free: nothing here imports numpy or a framework.
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import Iterator, Optional, Tuple

from .errors import NoRoomForWhole, OverMemory

SMALL = 1 << 20  # requests below 1 MiB are counted, not checked (a model of many tiny tensors is checked
# at its next large one): reading /proc costs tens of microseconds

HEADROOM = 2 << 30  # bytes a whole-model run needs beside the parameters (the forward pass, the statistics)
HEADROOM_SHARE = 0.25  # and this share of the parameters' size

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "kb": 10**3, "m": 1 << 20, "mib": 1 << 20, "mb": 10**6,
          "g": 1 << 30, "gib": 1 << 30, "gb": 10**9, "t": 1 << 40, "tib": 1 << 40, "tb": 10**12}


def parse_size(text: str) -> Optional[int]:
    """``2GiB``, ``1.5G``, ``512MB``, ``100000`` (bytes) → bytes; ``none`` → None (no check)."""
    value = text.strip().lower()
    if value in ("none", "off"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)", value)
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"{text!r}: expected a size such as 2GiB, 512MiB, 1.5G or 800MB (or none)")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size <= 0:
        raise ValueError(f"{text!r}: the size must be positive")
    return size


def format_size(size: float) -> str:
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(size) >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{int(size)} B"


def available_memory() -> Optional[int]:
    """MemAvailable from /proc/meminfo (what can be allocated without swapping), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_memory() -> Optional[int]:
    """This process's resident set in bytes (/proc/self/statm), or None."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class MemoryBudget:
    """``limit``: the bytes the build may add (``--max-memory``), or None: whatever the machine has available
    (``machine=False``: nothing, for ``--max-memory none``, but the room a whole-model run needs when asked)."""

    def __init__(self, limit: Optional[int] = None, machine: bool = True):
        self.limit = limit
        self.machine = machine
        self.start = resident_memory()
        self.requested = 0  # the sum of requests: the stand-in for the growth where /proc is missing
        self.whole: Optional[Tuple[int, float]] = None  # (bytes, share of the build) a whole-model run needs
        self.refused: Optional[int] = None  # once ``whole`` refused a request: the room the build began with
        self._unchecked = 0  # small requests since the last check (checked per SMALL while ``whole`` is set)

    def restart(self) -> None:
        """The build begins now (after the frameworks' own import, which is not the model's memory)."""
        self.start = resident_memory()
        self.requested = 0

    def used(self) -> int:
        """What the build has added so far."""
        now = resident_memory() if self.start is not None else None
        return max(0, now - self.start) if now is not None else self.requested

    def claim(self, nbytes: int, what: str) -> None:
        """Raise OverMemory when ``nbytes`` more (for ``what``, e.g. "a 3.0 GiB torch.empty") would not fit."""
        self.requested += nbytes
        if nbytes < SMALL:
            self._unchecked += nbytes  # a model of many small tensors must not slip past the choice
            if self.whole is None or self._unchecked < SMALL:
                return
            self._unchecked = 0
        if self.whole is not None:
            self._check_room(nbytes, what)
        if self.limit is not None:
            used = self.used()
            if used + nbytes > self.limit:
                raise OverMemory(
                    f"the model needs more memory than --max-memory {format_size(self.limit)} allows: {what} of "
                    f"{format_size(nbytes)}, after {format_size(used)} already taken by the build, would exceed it "
                    f"(stopped before allocating it). Build a smaller configuration of the model, raise the "
                    f"limit (--max-memory 64GiB, or none for no check), or verify it one module at a time "
                    f"(--per-module)")
            return
        if not self.machine:
            return
        available = available_memory()
        if available is not None and nbytes > available:
            raise OverMemory(
                f"the model needs more memory than this machine has available: {what} of {format_size(nbytes)} "
                f"does not fit in the {format_size(available)} available (MemAvailable in /proc/meminfo; "
                f"{format_size(self.used())} already taken by the build), so it was stopped before allocating "
                f"it rather than by the out-of-memory killer. Build a smaller configuration of the model, verify "
                f"it one module at a time (--per-module), run where more memory is free, or set the limit "
                f"yourself with --max-memory SIZE (none: no check)")

    @contextlib.contextmanager
    def room_for_whole(self, fixed: int, share: float) -> Iterator[None]:
        """While active, every request must leave ``fixed`` bytes and ``share`` of the build's own free
        beside it (``_check_room``); ``refused`` says afterwards whether one did not."""
        self.whole, self.refused, self._unchecked = (fixed, share), None, 0
        try:
            yield
        finally:
            self.whole = None

    def _check_room(self, nbytes: int, what: str) -> None:
        """Raise NoRoomForWhole when, after ``nbytes`` more, what is available would not hold the room a
        whole-model run needs beside the build (``whole``: a fixed part and a share of the build so far):
        at the build's last parameter, the same decision as comparing all the parameters' bytes with what
        was available when the build began."""
        available = available_memory()
        if available is None:
            return
        fixed, share = self.whole
        used = self.used()
        if nbytes + fixed + share * (used + nbytes) > available:
            self.refused = available + used
            raise NoRoomForWhole(
                f"the model is too big to verify whole: {what} of {format_size(nbytes)}, after "
                f"{format_size(used)} taken by the build, would leave less than the {format_size(fixed)} and "
                f"more the forward pass and the statistics need of the {format_size(available)} available")
