"""The verification pipeline: build under recording → read the tensors → forward pass → measure and test →
conclude with multiple-testing control → link the static findings."""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import os
import re
import sys
import threading
import time
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

from . import checks
from .adapters import adapter_class, framework_of
from .adapters.base import Adapter, VerifyError
from .discovery import (
    call_entry,
    find_entry,
    frameworks_in_source,
    has_user_frame,
    load_module,
    looks_like_model,
    raised,
    user_traceback,
)
from .defaults import holds_layer_default
from .expect import expectation
from .guard import UserCode
from .memory import MemoryBudget
from .recording import LineTracer, Recording, forget_frames
from .results import Report, TensorResult
from .stats import sample_kurtosis

Progress = Callable[[str], None]
LARGE_TENSORS, LARGE_VALUES = 100, 5_000_000


def parse_shape(text) -> Optional[Tuple[int, ...]]:
    """``"2,4"`` / ``"2x4"`` / ``(2, 4)`` → (2, 4)."""
    if text is None or text == "":
        return None
    if isinstance(text, str):
        parts = re.split(r"\s*[,x]\s*|\s+", text.strip())
        if not all(p.isdigit() for p in parts):
            raise VerifyError(f"--input-shape {text!r}: expected integers separated by commas, e.g. 2,4")
        shape = tuple(int(p) for p in parts)
    else:
        shape = tuple(int(d) for d in text)
    if not shape or any(d <= 0 for d in shape):
        raise VerifyError(f"--input-shape {text!r}: every dimension must be a positive integer")
    return shape


class Run:
    """One verification: settings, the recording, and the adapters in play."""

    def __init__(self, *, input_shape=None, framework: Optional[str] = None, device: str = "cpu", seed: int = 0,
                 alpha: float = 1e-3, correction: str = "holm", strict: bool = False, keep_samples: bool = False,
                 progress: Optional[Progress] = None, max_memory: Optional[int] = -1,
                 per_module: Optional[bool] = None, ticks: bool = True):
        if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
            raise VerifyError(f"--device {device!r}: choose cpu or cuda")
        if not 0 < alpha < 1:
            raise VerifyError(f"alpha must be between 0 and 1, not {alpha}")
        if correction not in checks.CORRECTIONS:
            raise VerifyError(f"correction {correction!r}: choose one of {', '.join(checks.CORRECTIONS)}")
        self.input_shape = parse_shape(input_shape)
        self.framework = framework
        self.device, self.seed, self.alpha, self.correction = device, int(seed), alpha, correction
        self.strict, self.keep_samples = strict, keep_samples
        self.progress = progress or (lambda message: None)
        # None: one module at a time when the model would not fit in memory (per_module.py); True: always
        self.per_module, self.ticks = per_module, ticks
        self.recording = Recording()
        # -1: the default, what the machine has available; None: no check; else the bytes the build may add
        if max_memory is not None:
            self.recording.budget = MemoryBudget(None if max_memory == -1 else int(max_memory))
        self.adapters: List[Adapter] = []
        self.seconds = {}
        self._recording = None  # (ExitStack, build) while a recording is active
        self._measuring = None  # (thread, result box) while the statistics run beside the forward pass

    def adapter(self, framework: str) -> Adapter:
        """The run's adapter for ``framework``, made ready (imported, device checked, seeded) once."""
        for adapter in self.adapters:
            if adapter.framework == framework:
                return adapter
        adapter = adapter_class(framework)(self.seed, self.device, self.recording)
        adapter.ensure()
        adapter.check_device()
        adapter.seed_everything()
        self.adapters.append(adapter)
        return adapter

    @contextlib.contextmanager
    def recording_context(self, tracer: Optional[LineTracer] = None, build: bool = True):
        """Every adapter's recorder (and the line tracer) active: around the import and the build, and
        around ``prepare`` (lazy layers, a Flax init), which only the build marks as recorded. An adapter
        made while it is active (``join_imported``) joins it."""
        with contextlib.ExitStack() as stack:
            if tracer is not None:
                self.recording.tracer = tracer
                stack.enter_context(tracer)
            self._recording = (stack, build)
            for adapter in self.adapters:
                self._record_with(adapter)
            self.recording.active = True
            try:
                yield
            finally:
                self.recording.active = False
                self._recording = None
                forget_frames()  # the stack walks' cache holds frames (and their locals) of the build

    def _record_with(self, adapter: Adapter) -> None:
        stack, build = self._recording
        stack.enter_context(adapter.device_context())
        stack.enter_context(adapter.recorder())
        if build:
            adapter.built_under_recording = True

    def join_imported(self) -> None:
        """Adapters (recording, when a recording is active) for the frameworks imported by now: a model
        file that imports only ``transformers`` or ``timm`` still builds torch modules, and its build
        must be recorded like any other."""
        if self.framework:
            return
        for fw in _imported_frameworks():
            framework = adapter_class(fw).framework
            if any(adapter.framework == framework for adapter in self.adapters):
                continue
            adapter = self.adapter(framework)
            if self._recording is not None:
                self._record_with(adapter)

    def seed_all(self) -> None:
        """Every generator a build can touch, seeded with ``seed`` (Python, NumPy, and each framework's:
        torch including CUDA, TensorFlow/Keras), right before the build: whatever ran before it (an
        import, another framework's start-up) leaves no trace in the model."""
        import random

        random.seed(self.seed)
        np.random.seed(self.seed % 2**32)
        for adapter in self.adapters:
            adapter.seed_everything()

    def build(self, name: str, target: Any) -> Any:
        """Call the entry (a builder) under the active recording, every framework imported by now
        recording and every generator seeded: the one way the command and the API build a model."""
        self.join_imported()
        for adapter in self.adapters:
            adapter.before_build()
        self.seed_all()
        return call_entry(name, target)

    def choose(self, obj: Any, label: str) -> Adapter:
        """The adapter that owns ``obj``; VerifyError when ``obj`` is no model of a supported framework."""
        framework = self.framework or framework_of(obj)
        if framework is None:
            kind = type(obj).__name__
            raise VerifyError(f"{label} is a {kind}, not a PyTorch, Keras or Flax model (a torch.nn.Module, a "
                              f"keras Model/Layer, a flax Module or a (module, variables) pair)")
        adapter = self.adapter(adapter_class(framework).framework)
        if not adapter.is_model(obj):
            hint = ""
            if any(c.__module__.startswith("flax.nnx") for c in type(obj).__mro__):
                hint = " (Flax NNX modules are not supported yet: a linen module or (module, variables) is)"
            raise VerifyError(f"{label} is a {type(obj).__name__}, not a {adapter.framework} model{hint}")
        return adapter

    def build_model(self, name: str, target: Any, frameworks: Optional[List[str]] = None):
        """Under the active recording, the one way the command and the API build a model: (model, None)
        built as usual, or (model on the meta device, (model, replay log, why)) to be verified one module
        at a time (``per_module.py``). Asked for (``per_module=True``), it is built on meta; never
        (``per_module=False``, another device, a model already built, another framework, torchrun), as
        usual; else (automatic) as usual, every allocation asked whether it leaves room for verifying the
        whole model, and on meta only when one does not. ``frameworks``: those the model file imports
        (default: those imported in this process)."""
        wanted = self._split_wanted(name, target, frameworks)
        if wanted:
            split = self._split_build(name, target)
            return split[0], split
        if wanted is False:
            return self.build(name, target), None
        return self._whole_else_split(name, target)

    def build_per_module(self, name: str, target: Any, frameworks: Optional[List[str]] = None):
        """Under the active recording: (model on the meta device, replay log, why) when this model is to be
        verified one module at a time by the user's choice (``per_module=True``), else None."""
        return self._split_build(name, target) if self._split_wanted(name, target, frameworks) else None

    def _split_wanted(self, name: str, target: Any, frameworks: Optional[List[str]]) -> Optional[bool]:
        """True: one module at a time (asked for); False: the whole model; None: let the memory decide.
        VerifyError when asked for where it cannot be done."""
        wanted = self.per_module
        if wanted is False or self.device != "cpu":
            if wanted:
                raise VerifyError("--per-module verifies on the CPU: drop --device")
            return False
        if looks_like_model(target) or not callable(target):
            if wanted:
                raise VerifyError(f"--per-module needs a function that builds the model, so that it can be built "
                                  f"on the meta device; {name} is a model already built")
            return False
        if self.framework not in (None, "torch"):
            if wanted:
                raise VerifyError("--per-module verifies PyTorch models only")
            return False
        from .sharded import distributed

        # under torchrun (whose build may create the process group itself: never twice)
        world = os.environ.get("WORLD_SIZE", "").strip()
        launched = world.isdigit() and int(world) > 1
        if launched or ("torch" in sys.modules and distributed(sys.modules["torch"])):
            if wanted:
                raise VerifyError("--per-module verifies a model in one process; under torchrun each rank holds "
                                  "its own shards: drop --per-module")
            return False
        if wanted:
            return True
        imported = _imported_frameworks()
        if "torch" not in imported or set(imported if frameworks is None else frameworks) - {"torch"}:
            return False  # automatic only where nothing but torch can be building (a Keras build costs a build)
        return None

    def _whole_else_split(self, name: str, target: Any):
        """The automatic choice: the build for real, where each allocation must leave room for verifying the
        whole model (``MemoryBudget.room_for_whole``); refused, what it built is dropped and the model is
        built on the meta device. The user's build runs once when the model fits (it used to run a second
        time on meta, for its size alone). A model that cannot be built on meta is built whole, as asked
        for by --whole-model."""
        from .errors import NoRoomForWhole
        from .memory import HEADROOM, HEADROOM_SHARE, format_size

        adapter = self.adapter("torch")
        if self._recording is not None and adapter._recorder is None:
            self._record_with(adapter)
        recorder = adapter._recorder
        if recorder is None:  # pragma: no cover - the build always runs under the recording
            return self.build(name, target), None
        budget = self.recording.budget if self.recording.budget is not None else MemoryBudget(None, machine=False)
        kept, recorder.budget = recorder.budget, budget  # --max-memory none: this check, and no other
        try:
            with budget.room_for_whole(HEADROOM, HEADROOM_SHARE):
                model = self.build(name, target)
        except NoRoomForWhole:
            model = None
        finally:
            recorder.budget = kept
        if budget.refused is None:
            return model, None
        room, model = budget.refused, None
        gc.collect()  # what the refused build made is garbage now (its frames held it): gone before the next
        recorder.forget()
        from . import per_module

        try:
            split = self._split_build(name, target)
        except VerifyError:  # it needs values while it builds: whole after all, each allocation as usual
            recorder.forget()
            return self.build(name, target), None
        need = per_module.parameter_bytes(split[0])
        why = f"too big to verify whole: {format_size(need)} of parameters, {format_size(room)} available"
        return split[0], (split[0], split[1], why)

    def _split_build(self, name: str, target: Any):
        """(model on the meta device, replay log, why) from ``per_module.meta_build``."""
        from . import per_module

        model, log = per_module.meta_build(self, name, target)
        lazy = self.adapter("torch").torch.nn.parameter.UninitializedParameter
        if any(isinstance(p, lazy) for p in model.parameters()):
            raise VerifyError("a model with lazy layers (LazyLinear/LazyConv*) cannot be verified one module at a "
                              "time: their parameters exist only after a forward pass, which needs the whole model")
        return model, log, ""

    def verify_per_module(self, built, label: str, guard: Optional[UserCode] = None) -> Report:
        """Verify a model from ``build_per_module`` one storage at a time."""
        from .per_module import verify_per_module

        model, log, why = built
        if guard is not None:
            guard.phase = "initialising and measuring the model one module at a time"
        with collector_paused():
            return verify_per_module(self, model, self.adapter("torch"), label, log, why)

    # --- after the build -------------------------------------------------------------------------

    def verify_model(self, obj: Any, adapter: Adapter, label: str, guard: Optional[UserCode] = None) -> Report:
        """Prepare, read, run forward (the user's code, inside ``guard``), then measure and conclude: the
        report (static links added by the caller)."""
        with guard or UserCode(label):
            model, infos, forwarded = self.run_model(obj, adapter, label, guard)
        return self.conclude(model, adapter, label, infos, forwarded)

    def run_model(self, obj: Any, adapter: Adapter, label: str, guard: Optional[UserCode] = None):
        with collector_paused():
            return self._run_model(obj, adapter, label, guard)

    def _run_model(self, obj: Any, adapter: Adapter, label: str, guard: Optional[UserCode] = None):
        """What runs the model's code after its build: prepare (lazy layers, a Flax init), read the tensors,
        the forward pass. Returns (model, tensors, (signals, notes, input shape used))."""
        started = time.perf_counter()
        if adapter not in self.adapters:
            self.adapters.append(adapter)
        if guard is not None:
            guard.phase = "initialising the model"
        recording = self.recording_context(build=False) if adapter.declares_in_prepare(obj) else \
            contextlib.nullcontext()  # a Flax init or a lazy layer's first input declares too
        try:
            with recording, adapter.device_context():
                model = adapter.prepare(obj, self.input_shape)
        except Exception as exc:  # the model's own code failed (else initlint's: an internal error)
            if isinstance(exc, VerifyError) or not has_user_frame(exc):
                raise
            raise VerifyError(f"{label}: initialising the model raised {raised(exc)}",
                              user_traceback(exc))
        infos = adapter.tensors(model)
        if not infos:
            raise VerifyError(f"{label} has no floating-point parameters to verify")
        self.seconds["prepare"] = time.perf_counter() - started
        if adapter.measures_during_forward():
            self._measure_beside(infos, adapter)
        started = time.perf_counter()
        if guard is not None:
            guard.phase = "running the model forward"
        forwarded = adapter.forward(model, self.input_shape, infos)
        self.seconds["forward"] = time.perf_counter() - started
        self._help_measuring(infos)
        return model, infos, forwarded

    def conclude(self, model: Any, adapter: Adapter, label: str, infos, forwarded) -> Report:
        with collector_paused():
            return self._conclude(model, adapter, label, infos, forwarded)

    def _conclude(self, model: Any, adapter: Adapter, label: str, infos, forwarded) -> Report:
        """Measure every tensor and decide (initlint's own code only: outside the user's bounds)."""
        signals, notes, used_shape = forwarded
        mark_last_layer(infos, signals)
        mark_in_block(infos, signals)
        started = time.perf_counter()
        results, facts, tests = self._measured(infos, adapter)
        findings = checks.conclude(results, facts, tests, signals, self.alpha, self.correction, self.strict)
        ranks = self.across_ranks(adapter, infos)
        across = ranks.findings if ranks is not None else []
        if across:
            # identical shards make the full tensor repeat one block: its duplicated units (INI603) are
            # the same finding, and tests that assume independent draws (INI601, INI602) are not valid
            repeated = {f.parameter for f in across if f.code == "INI604"}
            consequences = {"INI601", "INI602", "INI603"}
            findings = [f for f in findings if not (f.code in consequences and f.parameter in repeated)] + across
            for result in results:
                name = result.info.name
                codes = [c for c in result.codes if not (c in consequences and name in repeated)]
                codes += [f.code for f in across if f.parameter == name and f.code not in codes]
                result.codes = sorted(codes)
                result.verdict = " ".join(result.codes) if result.codes else result.verdict
        self.seconds["statistics"] = time.perf_counter() - started
        device = adapter.device_name(model)
        if self.device.startswith("cuda") and not device.startswith("cuda"):
            # a sharded model's tensors stay where its build put them (a CPU device mesh): said, not hidden
            notes = list(notes) + [f"--device {self.device} was asked, but the model's parameters are on {device}, "
                                   "where its build put them (a device mesh or to_empty on the CPU): measured there"]
        report = Report(label, adapter.framework, device, results, findings, signal=list(signals),
                        notes=notes, input_shape=used_shape, seconds=self.seconds,
                        input=getattr(adapter, "input_description", None))
        if ranks is not None and ranks.world_size > 1:
            attach_rank_detail(report, ranks)
        return report

    def measure_tensor(self, info, adapter: Adapter, rng: np.random.Generator):
        """One tensor measured (a bounded sample) and checked alone: (result, facts, round-one tests)."""
        moments, sample = info.handle.measure(rng)
        result = TensorResult(info, expectation(info.declared, info, adapter.layout), moments)
        result.default_like = holds_layer_default(info, moments, adapter.layout)
        if moments.n and moments.finite:
            result.sample, result.sample_size = sample, int(sample.size)
            if sample.size >= 100 and moments.max > moments.min:
                result.kurtosis = sample_kurtosis(sample)
        facts, tests = checks.tensor_checks(result, rng)
        if result.info.declared is not None and result.info.declared.assumed:
            tests = checks.assumed_default(result, tests)
        if not self.keep_samples:
            result.sample = None if result.sample is None or result.sample.size > 2048 else result.sample
        return result, facts, tests

    @staticmethod
    def across_ranks(adapter: Adapter, infos):
        """Under torchrun: what only sharding or replication can break, and each rank's piece of every
        tensor (``sharded.py``); None for a framework without it."""
        if adapter.framework != "torch":
            return None
        from .sharded import across_ranks

        return across_ranks(adapter.torch, infos)

    def _measure_beside(self, infos, adapter: Adapter) -> None:
        """Start measuring every tensor on a thread of its own while the forward pass runs: both are mostly
        the framework's native code, which releases the GIL, and the statistics read nothing the pass
        finds (activations are judged after both). The numbers are the same as measured in turn (one
        generator, used by this thread alone)."""
        box: dict = {}

        def work():
            try:
                box["result"] = self.measure(infos, adapter)
            except BaseException as exc:  # re-raised where the result is taken
                box["error"] = exc

        thread = threading.Thread(target=work, name="initlint-measure", daemon=True)
        self._measuring = (thread, box, infos)
        thread.start()

    def _help_measuring(self, infos) -> None:
        """After the forward pass, while the statistics' thread still measures: what measuring needs that
        draws nothing at random (``TensorHandle.prefetch``: a large tensor's exact min and max, the largest
        part), from the model's last tensor backwards until the thread reaches them. The thread's numbers
        are the same (its one generator draws as before); the pass is usually over first (ResNet-50: 0.045
        s of forward beside 0.07 s of statistics), and the largest tensors come last."""
        measuring = self._measuring
        if measuring is None or measuring[2] is not infos:
            return
        thread = measuring[0]
        for info in reversed(infos):
            if not thread.is_alive() or not info.handle.prefetch():
                return

    def _measured(self, infos, adapter: Adapter):
        """The measurement started beside the forward pass (waited for), else one made now."""
        measuring, self._measuring = self._measuring, None
        if measuring is None or measuring[2] is not infos:
            return self.measure(infos, adapter)
        thread, box, _ = measuring
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["result"]

    def measure(self, infos, adapter: Adapter):
        """Measure every tensor once (a bounded sample each) and collect its facts and round-one tests."""
        rng = np.random.default_rng(self.seed)
        total = sum(info.numel for info in infos)
        loud = len(infos) >= LARGE_TENSORS or total >= LARGE_VALUES
        if loud:
            self.progress(f"measuring {len(infos)} tensors ({total / 1e6:.1f}M values)")
        results, facts, tests = [], [], []
        next_mark, last_report = 0.25, time.perf_counter()
        done = 0
        for info in infos:
            result, more_facts, more_tests = self.measure_tensor(info, adapter, rng)
            facts += more_facts
            tests += more_tests
            results.append(result)
            done += info.numel
            if loud and total and done / total >= next_mark and time.perf_counter() - last_report > 0.2:
                self.progress(f"  {done / total:.0%}")
                last_report = time.perf_counter()
                next_mark = math.floor(done / total * 4 + 1) / 4
        return results, facts, tests


def attach_rank_detail(report: Report, ranks) -> None:
    """Under torchrun, the JSON report's per-rank detail: each tensor's local piece on every rank, and
    each finding's ranks (a cross-rank finding names its own; any other concerns every rank holding
    a piece of its tensor)."""
    report.distributed = {"world_size": ranks.world_size, "backend": ranks.backend}
    for result in report.tensors:
        result.ranks = ranks.detail.get(result.info.name)
    for finding in report.findings:
        if finding.ranks is None and finding.parameter in ranks.detail:
            finding.ranks = [entry["rank"] for entry in ranks.detail[finding.parameter]]


@contextlib.contextmanager
def collector_paused():
    """What exists when verify starts (the frameworks) is frozen out of the cycle collector's reach while
    it runs, the build included: in a process holding torch, transformers and scipy a full automatic
    collection walks every object of them (0.35-0.7 s measured, longer than ResNet-50's whole build), and
    the recording's allocations (a declaration and its frames per initialiser call) trigger one in the
    build that the same build unrecorded would not: measured on ResNet-50 in a fresh process, the one
    collection was most of what verify added. Frozen, a collection walks only what was made since (the
    user's build collects its own cycles as it would). Unfrozen afterwards. Nested: the outermost decides
    (gc.get_freeze_count() walks every frozen object: 30 ms each time once torch is frozen)."""
    if _PAUSED[0] or not hasattr(gc, "freeze") or gc.get_freeze_count():  # frozen already: by us or the user
        yield
        return
    gc.freeze()
    _PAUSED[0] += 1
    try:
        yield
    finally:
        _PAUSED[0] -= 1
        gc.unfreeze()


_PAUSED = [0]  # collector_paused's depth: 1 while a verification holds the collector paused


def mark_last_layer(infos, signals) -> None:
    """The last weight layer the forward pass ran (else the last in the model's order)."""
    layers = [signal for signal in signals if signal.kind != "block"]
    if layers:
        last = layers[-1].name
    else:
        weights = [info for info in infos if info.semantic_fan_in is not None]
        last = weights[-1].layer_path if weights else None
    for info in infos:
        info.last_layer = last is not None and info.layer_path == last


def mark_in_block(infos, signals) -> None:
    """The tensors of layers inside a repeated block the forward pass followed (a transformer's layers): a
    branch whose output is added to the residual stream, where a scale off the activation's gain does not
    compound with depth (the blocks' own outputs show whether the signal does)."""
    blocks = tuple(signal.name + sep for signal in signals if signal.kind == "block" for sep in "./")
    if not blocks:
        return
    for info in infos:
        info.in_block = info.layer_path.startswith(blocks)


def _paused_throughout(function):
    """Run ``function`` (a verification, from its build to its report) with the collector paused."""
    @functools.wraps(function)
    def paused(*args, **kwargs):
        with collector_paused():
            return function(*args, **kwargs)

    return paused


@_paused_throughout
def verify(model: Any, *, input_shape=None, framework: Optional[str] = None, device: str = "cpu", seed: int = 0,
           alpha: float = 1e-3, correction: str = "holm", strict: bool = False, keep_samples: bool = False,
           name: Optional[str] = None, progress: Optional[Progress] = None, timeout: Optional[float] = None,
           max_memory: Optional[int] = -1, per_module: Optional[bool] = None) -> Report:
    """Verify a model's initialisation. ``model``: a torch ``nn.Module``, a Keras model or layer, a Flax
    module (with ``input_shape``) or ``(module, variables)`` pair, or a zero-argument callable that
    builds one, in which case the initialisers it runs are recorded (declared initialisers, and their
    sources for linking). ``timeout``: seconds the build, initialisation and forward pass may take (main
    thread only); ``max_memory``: bytes the build may allocate (default: what the machine has available;
    None: no check). ``per_module``: build a builder's model on the meta device and verify it one module
    at a time (True), never (False), or when it would not fit in memory (None, the default). Raises
    ``VerifyError`` for what the user must fix."""
    run = Run(input_shape=input_shape, framework=framework, device=device, seed=seed, alpha=alpha,
              correction=correction, strict=strict, keep_samples=keep_samples, progress=progress,
              max_memory=max_memory, per_module=per_module)
    started = time.perf_counter()
    if looks_like_model(model) or not callable(model):
        label = name or type(model[0] if isinstance(model, tuple) else model).__name__
        if per_module:
            raise VerifyError(f"per_module=True needs a function that builds the model, so that it can be built on "
                              f"the meta device; {label} is a model already built")
        adapter = run.choose(model, label)
        return run.verify_model(model, adapter, label, UserCode(label, timeout))
    label = name or getattr(model, "__qualname__", None) or type(model).__name__
    frameworks = [framework] if framework else _imported_frameworks()
    for fw in frameworks:
        run.adapter(adapter_class(fw).framework)
    guard = UserCode(f"{label}()", timeout)
    if run.recording.budget is not None:
        run.recording.budget.restart()
    with guard:
        with run.recording_context():
            obj, split = run.build_model(label, model, _frameworks_of(model))
        run.seconds["build"] = time.perf_counter() - started
        if split:
            return run.verify_per_module(split, label, guard)
        adapter = run.choose(obj, f"{label}() returned an object that")
        built = run.run_model(obj, adapter, label, guard)
    return run.conclude(built[0], adapter, label, *built[1:])


_FRAMEWORK_ROOTS = {"torch": "torch", "keras": "keras", "tensorflow": "keras", "tf_keras": "keras", "flax": "flax"}


def _frameworks_of(build: Any) -> Optional[List[str]]:
    """The frameworks a build function's own module imports (its globals and closure), as a model file's
    imports decide for the CLI; None where the function shows none (then: those imported in this process).
    Why not always the process's: a test run or a notebook that imported TensorFlow for another model
    would otherwise never get the automatic per-module choice for a PyTorch build."""
    import types as _types

    names = dict(getattr(build, "__globals__", None) or {})
    for cell in getattr(build, "__closure__", None) or ():
        try:
            names[id(cell)] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    found = []
    for value in names.values():
        module = value if isinstance(value, _types.ModuleType) else getattr(value, "__module__", None)
        root = (module.__name__ if isinstance(module, _types.ModuleType) else module or "").partition(".")[0]
        fw = _FRAMEWORK_ROOTS.get(root) if isinstance(root, str) else None
        if fw and fw not in found:
            found.append(fw)
    return found or None


def _imported_frameworks() -> List[str]:
    import sys

    found = []
    if "torch" in sys.modules:
        found.append("torch")
    if "keras" in sys.modules or "tensorflow" in sys.modules:
        found.append("keras")
    if "flax" in sys.modules:
        found.append("flax")
    return found


def static_findings(path: str, source: str):
    """The static rules' findings for the model file (configuration from the nearest pyproject.toml)."""
    from ..engine import SourceError, check_source

    settings = None
    try:
        from ..config import load_config

        settings = load_config(None).settings
    except Exception:  # a broken configuration must not stop a verification
        settings = None
    try:
        return check_source(source, path, settings)
    except (SourceError, RecursionError):
        return []


@_paused_throughout
def verify_file(path: str, *, entry: Optional[str] = None, input_shape=None, framework: Optional[str] = None,
                device: str = "cpu", seed: int = 0, alpha: float = 1e-3, correction: str = "holm",
                strict: bool = False, keep_samples: bool = False, static: bool = True,
                progress: Optional[Progress] = None, timeout: Optional[float] = None,
                max_memory: Optional[int] = -1, protect_stdout: bool = False, per_module: Optional[bool] = None,
                ticks: bool = True) -> Report:
    """``initlint verify model.py``: import the file, build its model, verify it, and say for each static
    finding in the file whether the numbers confirm it. ``timeout``, ``max_memory``, ``per_module``: as for
    ``verify``; ``protect_stdout``: the model's writes to stdout go to stderr (the command's output stays its
    own); ``ticks``: periodic progress (tensors done, ETA) of a verification one module at a time."""
    from .linking import link

    run = Run(input_shape=input_shape, framework=framework, device=device, seed=seed, alpha=alpha,
              correction=correction, strict=strict, keep_samples=keep_samples, progress=progress,
              max_memory=max_memory, per_module=per_module, ticks=ticks)
    guard = UserCode(path, timeout, protect_stdout)  # checks the timeout before anything is imported
    try:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise VerifyError(f"{path}: cannot read it ({exc})")
    started = time.perf_counter()
    findings = static_findings(path, source) if static else []
    run.seconds["static"] = time.perf_counter() - started
    frameworks = [framework] if framework else frameworks_in_source(source)
    for fw in frameworks:  # the frameworks' own import is not the model's time: before the clock starts
        run.adapter(adapter_class(fw).framework)
    tracer = LineTracer([path]) if findings else None
    started = time.perf_counter()
    if run.recording.budget is not None:
        run.recording.budget.restart()
    with guard:
        with run.recording_context(tracer):
            guard.phase = f"importing {path}"
            run.seed_all()  # a model made at import time is seeded as a built one is
            module = load_module(path)
            name, target = find_entry(module, entry, path)
            guard.phase = f"building the model ({name}())"
            obj, split = run.build_model(name, target, frameworks)
        run.seconds["build"] = time.perf_counter() - started
        label = f"{path}:{name}"
        if split:
            report = run.verify_per_module(split, label, guard)
        else:
            built = looks_like_model(target) or not callable(target)
            adapter = run.choose(obj, f"{'--entry ' if entry else ''}{name}" if built else f"what {name}() returned")
            model, infos, forwarded = run.run_model(obj, adapter, label, guard)
    if not split:
        report = run.conclude(model, adapter, label, infos, forwarded)
    report.static = link(findings, report.tensors, run.recording, report.findings)
    return report
