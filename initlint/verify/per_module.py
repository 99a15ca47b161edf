"""``initlint verify`` for a PyTorch model bigger than memory: built on the meta device, then verified one
storage (one parameter, in practice) at a time.

1. ``meta_build``: the user's builder runs under ``torch.device("meta")`` with the recording on, so that
   every initialiser, fill and in-place write is recorded (declarations, as for a real build) and kept as
   a call to replay (``replay.ReplayLog``). transformers skips its own ``_init_weights`` on the meta device
   (there is nothing to initialise there); during this build it is told it is not on meta, so that its
   per-module init runs where it would run for real, and is recorded like any other.
2. When the choice is automatic, the model is built for real first, each allocation asked whether it leaves
   room (``memory.HEADROOM``, ``memory.HEADROOM_SHARE``) for the forward pass and the statistics of a
   whole-model run (``memory.MemoryBudget.room_for_whole``); only a build refused there is built on meta.
   ``--max-memory`` keeps its meaning: a bound on the build, and here on each storage made.
3. ``verify_per_module``: for each storage in the model's order, a CPU tensor is made and initialised by
   replaying the build's own calls, every parameter in it is measured and checked alone (the same
   ``Run.measure_tensor`` as a whole-model run), and the storage is freed. What identical-tensor checks
   (INI604) need later is kept: a probe of 256 values, and the means to replay the storage again, which an
   exact comparison does only for tensors whose probes agree. Tensors whose values cannot be replayed
   are named in the report with why; the forward-pass checks (INI605, INI606), which need the whole model
   at once, are said not to have run.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

from . import checks
from .errors import VerifyError
from .expect import expectation
from .memory import format_size
from .recording import Patcher
from .results import Report, TensorResult
from .stats import TensorHandle

TICK = 2.0  # seconds between progress messages
SHOWN = 12  # untested tensors named one by one in a note


# --- the build on the meta device ----------------------------------------------------------------------

def _write_guard(torch, log, recorder):
    """A TorchFunctionMode, above the recorder's write observer, for what differs on the meta device.

    On a real device an in-place op (``clamp_``) is one kernel; on meta many are Python decompositions
    that call ``copy_`` and other patched methods inside, which the recorder would take for the user's
    writes. Here the op runs as one step (the recorder busy inside it) and is then reported as the write
    observer reports it. Also marks storages written by calls no replayable record describes: an ``out=``
    argument, and torch's ``_foreach_*_`` in-place calls over lists of tensors (an init written as one
    tensor op across modules)."""
    from .adapters.torch_hooks import COPIES, written_tensor

    class MetaWriteGuard(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types_, args=(), kwargs=None):
            kwargs = kwargs or {}
            outside = recorder.active and not recorder.depth
            recorder.depth += 1
            try:
                result = func(*args, **kwargs)
            finally:
                recorder.depth -= 1
            if not outside:
                return result
            name = getattr(func, "__name__", "") or ""
            out = kwargs.get("out")
            if isinstance(out, torch.Tensor):
                log.untracked(out, f"written through out= of torch.{name}(), which is not replayed")
            if name.startswith("_foreach_") and name.endswith("_") and args and isinstance(args[0], (list, tuple)):
                for tensor in args[0]:
                    log.untracked(tensor, f"written by torch.{name}() over a list of tensors, which is not replayed")
            if name in ("tensor", "as_tensor") and args and isinstance(result, torch.Tensor):
                log.literal(result, args[0])
            target = written_tensor(torch, func, name, args)
            if target is not None:
                recorder.observed_write(target, name, args)
            elif name in COPIES and args and isinstance(args[0], torch.Tensor) and \
                    isinstance(result, torch.Tensor) and result is not args[0]:
                recorder.observed_copy(args[0], result)
            return result

    return MetaWriteGuard()


@contextlib.contextmanager
def _on_meta(torch, log, recorder):
    """Everything a build on the meta device needs: the device, the replay log on the recorder, seeds
    seen (``torch.manual_seed`` by any name), writes no record describes marked, and transformers'
    per-module init run as on a real device."""
    from .adapters.torch_hooks import hooked

    def seed_hook(name, original):
        def manual_seed(seed, *args, **kwargs):
            result = original(seed, *args, **kwargs)
            log.reseed(torch.default_generator, seed)
            return result

        return manual_seed

    previous = recorder.log
    recorder.log = log
    try:
        with Patcher() as patcher, hooked({"torch.manual_seed": torch.random.manual_seed}, seed_hook), \
                torch.device("meta"), _write_guard(torch, log, recorder):
            modeling = sys.modules.get("transformers.modeling_utils")
            if modeling is not None and hasattr(modeling, "get_torch_context_manager_or_global_device"):
                patcher.set(modeling, "get_torch_context_manager_or_global_device", lambda: None)
            yield
    finally:
        recorder.log = previous


def meta_build(run, name: str, target: Any) -> Tuple[Any, Any]:
    """Call the builder on the meta device, under the run's active recording: (model, replay log). Raises
    VerifyError when the build fails there or returns no torch module."""
    import torch

    from .replay import ReplayLog

    run.join_imported()
    adapter = run.adapter("torch")
    if run._recording is not None and adapter._recorder is None:
        run._record_with(adapter)
    log = ReplayLog(torch)
    try:
        with _on_meta(torch, log, adapter._recorder):
            model = run.build(name, target)
    except VerifyError as exc:
        raise VerifyError(f"building the model on the meta device, to verify it one module at a time: {exc.message} "
                          f"(code that needs values during the build, such as .item() or .numpy() on a parameter, "
                          f"cannot run there; --whole-model builds it for real)", exc.user_traceback)
    if not isinstance(model, torch.nn.Module):
        raise VerifyError(f"{name}() returned a {type(model).__name__}, not a torch.nn.Module: only PyTorch models "
                          f"are verified one module at a time")
    return model, log


def parameter_bytes(model) -> int:
    """The bytes of the model's parameters (each storage once; a lazy layer's count for nothing)."""
    import torch

    if not isinstance(model, torch.nn.Module):
        return 0
    seen, total = set(), 0
    for param in model.parameters():
        if isinstance(param, torch.nn.parameter.UninitializedParameter):
            continue
        storage = param.untyped_storage()
        key = (storage._cdata, param.device.type)
        if key not in seen:
            seen.add(key)
            total += storage.nbytes()
    return total


# --- one storage at a time -------------------------------------------------------------------------------

class Replayed(TensorHandle):
    """A parameter already measured and freed: a probe of its values (``_long_probe``) and its structure
    kept, its values made again by replay only when an exact comparison needs them (two tensors whose
    probes agree)."""

    def __init__(self, torch, remake: Callable[[], Any], probe: Tuple[float, ...], few: bool):
        self.torch, self._remake, self._probe, self._few = torch, remake, probe, few

    def probe(self) -> Tuple[float, ...]:
        return self._probe

    def distinct_at_most(self, k: int) -> bool:
        return self._few if k == 8 else False

    def equals(self, other: TensorHandle) -> bool:
        if not isinstance(other, Replayed):
            return False
        try:
            mine = self._remake()
            theirs = other._remake()
        except Exception:  # pragma: no cover - both replayed once already
            return False
        return bool(self.torch.equal(mine, theirs))


@contextlib.contextmanager
def _rng_kept(torch):
    """Replay seeds torch's default generator: its state is put back afterwards."""
    state = torch.get_rng_state()
    try:
        yield
    finally:
        torch.set_rng_state(state)


def _units(torch, model) -> Tuple[List[Tuple[Any, List[tuple]]], List[Tuple[str, str]]]:
    """The model's parameters in its order, grouped by storage: [(first parameter, [(name, module name,
    module, parameter name, parameter), ...])], and the ties [(name, the name it is tested under)]: a
    parameter reached twice (tied weights) is one tensor, tested once."""
    from .adapters.torch_adapter import storage_id

    seen: dict = {}
    units: List[Tuple[Any, List[tuple]]] = []
    index: dict = {}
    ties: List[Tuple[str, str]] = []
    for module_name, module in model.named_modules():
        for pname, param in module.named_parameters(recurse=False):
            full = f"{module_name}.{pname}" if module_name else pname
            if id(param) in seen:
                ties.append((full, seen[id(param)]))
                continue
            if not torch.is_floating_point(param):
                continue
            seen[id(param)] = full
            key = (storage_id(param), param.device.type)
            if key not in index:
                index[key] = len(units)
                units.append((param, []))
            units[index[key]][1].append((full, module_name, module, pname, param))
    return units, ties


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def verify_per_module(run, model, adapter, label: str, log, why: str = "") -> Report:
    """Verify ``model`` (built by ``meta_build``) one storage at a time; see the module docstring."""
    from .adapters.torch_adapter import TorchHandle, _layer_entry

    torch = adapter.torch
    started = time.perf_counter()
    units, ties = _units(torch, model)
    if not units:
        raise VerifyError(f"{label} has no floating-point parameters to verify")
    total_tensors = sum(len(members) for _, members in units)
    total_bytes = sum(first.untyped_storage().nbytes() for first, _ in units) or 1
    recorded = adapter._recorder is not None and adapter.built_under_recording
    rng = np.random.default_rng(run.seed)
    budget = run.recording.budget
    if budget is not None:
        budget.restart()
    results: List[TensorResult] = []
    facts: list = []
    tests: list = []
    untested: List[Tuple[str, str]] = []
    done_tensors = done_bytes = 0
    last_tick = started
    run.progress(f"verifying {total_tensors} tensors ({format_size(total_bytes)}) one module at a time"
                 + (f" ({why})" if why else ""))
    with _rng_kept(torch), torch.no_grad():
        for first, members in units:
            real = not first.is_meta
            if budget is not None and not real:  # --max-memory bounds what one module at a time holds too
                budget.claim(first.untyped_storage().nbytes(), f"the storage of {members[0][0]}")
            flat, reason = (None, None) if real else _materialise(log, first)
            for full, module_name, module, pname, param in members:
                info = adapter._info(full, module_name, module, _layer_entry(module), pname, param, recorded)
                if reason is not None:
                    untested.append((full, reason))
                    result = TensorResult(info, expectation(info.declared, info, adapter.layout), None)
                    result.verdict = "not tested"
                    result.notes.append(f"not tested one module at a time: {reason}")
                    results.append(result)
                    continue
                view = param.detach() if real else flat.as_strided(param.shape, param.stride(), param.storage_offset())
                info.handle = TorchHandle(torch, view)
                result, more_facts, more_tests = run.measure_tensor(info, adapter, rng)
                facts += more_facts
                tests += more_tests
                results.append(result)
                if not real:
                    info.handle = Replayed(torch, _remaker(torch, log, param), _long_probe(view),
                                           info.handle.distinct_at_most(8))
                view = None  # a view keeps its base alive: this storage must go before the next is made
            flat = None
            done_tensors += len(members)
            done_bytes += first.untyped_storage().nbytes()
            now = time.perf_counter()
            if run.ticks and now - last_tick >= TICK:
                last_tick = now
                elapsed = now - started
                eta = elapsed * (total_bytes - done_bytes) / max(done_bytes, 1)
                run.progress(f"  {done_tensors}/{total_tensors} tensors, {format_size(done_bytes)} of "
                             f"{format_size(total_bytes)}, {_duration(elapsed)} elapsed, ETA {_duration(eta)}")
        run.seconds["measure"] = time.perf_counter() - started
        started = time.perf_counter()
        with _rng_kept(torch):
            findings = checks.conclude(results, facts, tests, [], run.alpha, run.correction, run.strict)
    run.seconds["statistics"] = time.perf_counter() - started
    notes = [f"verified one module at a time: the model was built on the meta device ({format_size(total_bytes)} "
             f"of parameters) and each parameter was made on the CPU by replaying the build's own initialisation, "
             f"tested and freed" + (f" ({why})" if why else ""),
             "the forward-pass checks (INI605 scale against the activation, INI606 signal propagation) need the "
             "whole model in memory at once and did not run; verify a smaller configuration of the same "
             "architecture (or on a machine with room for the whole model) for them"]
    if ties:
        tied = "; ".join(f"{name} is {first}" for name, first in ties[:SHOWN])
        more = f"; and {len(ties) - SHOWN} more" if len(ties) > SHOWN else ""
        notes.append(f"tied weights, one tensor each, tested once: {tied}{more}")
    if untested:
        named = "; ".join(f"{name} ({reason})" for name, reason in untested[:SHOWN])
        more = f"; and {len(untested) - SHOWN} more (--format json lists them)" if len(untested) > SHOWN else ""
        notes.append(f"{len(untested)} of {total_tensors} tensors could not be tested one module at a time: "
                     f"{named}{more}")
    return Report(label, adapter.framework, "cpu (per module, from meta)", results, findings, notes=notes,
                  seconds=run.seconds)


PROBE = 256  # values a freed tensor keeps: tensors that agree on all of them are compared exactly, by replay


def _long_probe(tensor) -> Tuple[float, ...]:
    """Values at PROBE evenly spaced positions: equal for identical tensors, and (unlike a whole-model
    run's 16) enough that tensors which merely share a structure rarely agree on all, since each exact
    comparison of freed tensors replays both."""
    flat = tensor.reshape(-1)
    n = flat.numel()
    if n == 0:
        return ()
    positions = sorted({int(round(i * (n - 1) / (PROBE - 1))) for i in range(min(PROBE, n))})
    return tuple(float(v) for v in flat[positions].double().tolist())


def _materialise(log, tensor) -> Tuple[Any, Optional[str]]:
    """(the storage's values made by replay, None) or (None, why not)."""
    try:
        flat = log.materialise(tensor)
    except Exception as exc:  # a call that ran on meta and fails on real storage: named, never a crash
        return None, f"replaying its initialisation failed ({type(exc).__name__}: {exc})"
    return (flat, None) if flat is not None else (None, log.why_not(tensor))


def _remaker(torch, log, param) -> Callable[[], Any]:
    shape, stride, offset = tuple(param.shape), tuple(param.stride()), param.storage_offset()

    def remake():
        with _rng_kept(torch), torch.no_grad():
            return log.materialise(param).as_strided(shape, stride, offset)

    return remake
