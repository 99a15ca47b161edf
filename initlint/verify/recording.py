"""What happened while the model was built: declared initialisers, where in the user's code, and which
lines ran. Framework-free; each adapter patches its own framework and reports here.

Patches are always undone: ``Patcher`` remembers every attribute it replaced (or added) and restores
them in reverse order, whatever the build raised. A wrapper that survives in the user's namespace
(``from torch.nn.init import normal_`` executed while recording) only forwards once recording is over.
"""

from __future__ import annotations

import itertools
import numbers
import os
import site
import sys
import sysconfig
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

_MISSING = object()


@dataclass(frozen=True)
class Frame:
    """One frame of the user's own code (never a library's): file, line, and its function's first line."""

    path: str
    line: int
    first_line: int
    function: str
    column: Optional[int] = field(default=None, compare=False)  # 1-based, of the call running (innermost frame)

    def where(self) -> str:
        return f"{display_path(self.path)}:{self.line}" + (f":{self.column}" if self.column else "")


def display_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it (as the static findings print)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith("..") else relative


def _library_roots() -> Tuple[str, ...]:
    roots: Set[str] = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    try:
        roots.update(os.path.realpath(p) for p in site.getsitepackages())
    except AttributeError:  # pragma: no cover - virtualenv's old site.py
        pass
    user_site = getattr(site, "getusersitepackages", lambda: None)()
    if user_site:
        roots.add(os.path.realpath(user_site))
    roots.add(os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))  # initlint itself
    return tuple(sorted(root.rstrip(os.sep) + os.sep for root in roots))


_ROOTS: Optional[Tuple[str, ...]] = None
_IS_USER: Dict[str, bool] = {}


def is_user_file(filename: str) -> bool:
    """True for code the user wrote: not the standard library, an installed package, or initlint."""
    known = _IS_USER.get(filename)
    if known is not None:
        return known
    global _ROOTS
    if _ROOTS is None:
        _ROOTS = _library_roots()
    if filename.startswith("<") or filename.startswith(_ROOTS):
        result = False
    else:
        real = os.path.realpath(filename)
        result = not any(real.startswith(root) for root in _ROOTS)
    _IS_USER[filename] = result
    return result


# the words of an initialiser helper's name (torch's, timm's, transformers' initialization module): the user
# who calls one chose the initialiser, though the call that draws the values is a library's
_HELPER_WORDS = frozenset({"normal", "uniform", "xavier", "glorot", "kaiming", "he", "lecun", "orthogonal",
                           "variance", "scaling", "constant", "zeros", "ones", "eye", "dirac", "sparse", "trunc"})


def chosen_by_library(frame) -> bool:
    """Whether an initialiser (or a layer's initialiser argument) was chosen by an installed library's code
    rather than the user's: ``frame`` is the code that called the initialiser (or the layer's constructor).
    The user's when that code is the user's (a notebook cell and exec'd code count as the user's), or when
    the user's innermost frame called a library's initialiser helper (``transformers.initialization.
    normal_``); the library's when the user called something else that chose it (a model's constructor,
    ``post_init``, ``model.apply(model._init_weights)``, ``keras.applications.EfficientNetB0``)."""
    return _walk(frame, 1)[1]


def constructing_frame(skip: int = 1):
    """The frame of the code that called a class being constructed (past the ``__new__`` chain)."""
    frame = sys._getframe(skip + 1)
    while frame is not None and frame.f_code.co_name == "__new__":
        frame = frame.f_back
    return frame


def _column(frame) -> Optional[int]:
    """The 1-based column where the call the frame is running starts (Python 3.11+), as check reports one."""
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is None or frame.f_lasti < 0:
        return None
    try:
        start = next(itertools.islice(positions(), frame.f_lasti // 2, None), None)
    except (TypeError, ValueError):  # pragma: no cover
        return None
    if not start or start[0] != frame.f_lineno or start[2] is None:
        return None
    return start[2] + 1


def user_stack(skip: int = 1, limit: int = 12) -> Tuple[Frame, ...]:
    """The user's frames on the current stack, innermost first (at most ``limit``)."""
    return _walk(sys._getframe(skip + 1), limit)[0]


def user_stack_and_chooser(skip: int = 1, limit: int = 12) -> Tuple[Tuple[Frame, ...], bool]:
    """``user_stack`` and ``chosen_by_library`` of the caller's frame, from one walk of the stack (every
    recorded initialiser asks both: the build's hottest path in verify)."""
    return _walk(sys._getframe(skip + 1), limit)


_FRESH_EACH_CALL = 0x20 | 0x80 | 0x200  # CO_GENERATOR, CO_COROUTINE, CO_ASYNC_GENERATOR: resumed by any caller
# The frames of the last complete walk and of its callers, by frame: id -> (frame, f_lasti, the user's frames
# from it outward (no column), the first of them with its column, whether the frame decides who chose, the
# decision the frames above it make, its place in ``_CHAIN``). A frame still running at the same instruction has
# the same callers, suspended where they were: a walk that reaches it takes the rest from here (a build's
# initialisers share all but their innermost frames). ``_CHAIN``: their ids, outermost first. A walk that
# reaches a kept frame keeps that frame's callers too (they are on the stack: nothing is held that the stack
# does not hold) and drops the frames below it, which have returned or are another branch's: a sibling's walk
# (``model.apply`` reaching the next module) then stops where the branches meet, not at the stack's top, as
# it did when a walk kept only the frames it visited (a quarter of ResNet-50's walks went to the top). Held
# until the next walk or the end of the recording (``forget_frames``); a generator's frame is never kept.
_SEEN: Dict[int, tuple] = {}
_CHAIN: List[int] = []
_FRAMES: Dict[Tuple[Any, int], Tuple[Frame, Frame]] = {}  # (code, f_lasti) -> _user_frames (immutable)
_HELPERS: Dict[Any, bool] = {}  # code -> whether its name is an initialiser helper's


def forget_frames() -> None:
    """Drop the frames the last walk kept (at the end of a recording: their locals go with them)."""
    global _SEEN, _CHAIN
    _SEEN, _CHAIN = {}, []
    _FRAMES.clear()
    _HELPERS.clear()


def _helper(code) -> bool:
    known = _HELPERS.get(code)
    if known is None:
        known = _HELPERS[code] = bool(_HELPER_WORDS & set(code.co_name.lower().split("_")))
    return known


def _user_frames(frame, code) -> Tuple[Frame, Frame]:
    """A user's frame as ``Frame``: (without its column, with it); one code at one instruction is one line
    and one column."""
    key = (code, frame.f_lasti)
    frames = _FRAMES.get(key)
    if frames is None:
        line, column = frame.f_lineno, _column(frame)
        frames = _FRAMES[key] = (Frame(code.co_filename, line, code.co_firstlineno, code.co_name),
                                 Frame(code.co_filename, line, code.co_firstlineno, code.co_name, column))
    return frames


def _walk(frame, limit: int) -> Tuple[Tuple[Frame, ...], bool]:
    found: List[Frame] = []
    callee, library = None, None
    known, seen = _IS_USER, _SEEN
    visited = []  # (frame, its Frames when the user's (without and with its column), whether it decides)
    hit = None
    while frame is not None and len(found) < limit:
        hit = seen.get(id(frame))
        if hit is not None and hit[0] is frame and hit[1] == frame.f_lasti:
            break
        hit = None
        code = frame.f_code
        filename = code.co_filename
        user = known.get(filename)
        if user is None:
            user = is_user_file(filename)
        decides = user or (filename.startswith("<") and not filename.startswith("<frozen"))
        if library is None:
            if decides:
                library = callee is not None and not _helper(callee)
            else:
                callee = code
        mine = None
        if user:
            mine = _user_frames(frame, code)
            found.append(mine[0] if found else mine[1])
        visited.append((frame, mine, decides))
        frame = frame.f_back
    if hit is not None:
        _, _, users, head, decides, above, _ = hit
        if library is None:
            library = (callee is not None and not _helper(callee)) if decides else above
        room = limit - len(found)
        if users and room > 0:
            found += ((users[0] if found else head),) + users[1:room]
    if frame is None or hit is not None:  # complete: kept for the next walk
        _remember(visited, hit)
    return tuple(found), True if library is None else library


def _remember(visited, hit) -> None:
    """Keep a complete walk's frames (see ``_SEEN``): below the frame it reached (and that frame's callers,
    kept already), or from the stack's top."""
    global _SEEN, _CHAIN
    chain, seen = _CHAIN, _SEEN
    if hit is not None and hit[6] < len(chain) and chain[hit[6]] == id(hit[0]):
        _, _, users, head, decides, above, place = hit
        for gone in chain[place + 1:]:  # below the frame reached: returned, or another branch's
            seen.pop(gone, None)
        del chain[place + 1:]
    elif hit is not None:  # a walk in between (a finalizer's initialiser) moved the chain: keep the hit alone
        _, _, users, head, decides, above, _ = hit
        chain, seen = [id(hit[0])], {id(hit[0]): hit[:6] + (0,)}
        _SEEN, _CHAIN = seen, chain
    else:
        users, head, decides, above = (), None, False, None
        chain, seen = [], {}
        _SEEN, _CHAIN = seen, chain
    for frame, mine, frame_decides in reversed(visited):
        # the decision above this frame: the next one out, whose callee is this frame's code
        above = (not _helper(frame.f_code)) if decides else above
        if mine is not None:
            users, head = (mine[0],) + users, mine[1]
        decides = frame_decides
        if not frame.f_code.co_flags & _FRESH_EACH_CALL:
            seen[id(frame)] = (frame, frame.f_lasti, users, head, decides, above, len(chain))
            chain.append(id(frame))


@dataclass
class Declaration:
    """An initialiser that ran (or was assigned) for one tensor.

    ``name``: the catalogue's qualified name when the catalogue knows it, else a description
    ("custom MyInit"). ``args``: the call's arguments bound to parameter names (numbers and strings
    only). ``shape``: the shape the initialiser was called with when that differs from the tensor's
    (Flax DenseGeneral draws a flat matrix); None means the tensor's own. ``scale``/``shift``: what
    in-place arithmetic afterwards did to it (w *= 0.1). ``unknown``: the values were overwritten by
    something that declares no distribution (copy_, a tensor mask)."""

    name: str
    args: Dict[str, Any] = field(default_factory=dict)
    stack: Tuple[Frame, ...] = ()
    shape: Optional[Tuple[int, ...]] = None
    scale: float = 1.0
    shift: float = 0.0
    unknown: bool = False
    assumed: bool = False  # not recorded: the layer type's default, assumed because nothing was recorded
    modified: bool = False  # changed after initialisation by something that declares no distribution
    explicit: Optional[bool] = None  # the user's (or a library's) code asked for it; None: cannot tell
    fans_override: Optional[Tuple[Optional[float], Optional[float], int]] = None  # (fan_in, fan_out, receptive)
    display: Optional[str] = None  # the name to show when it is not the catalogue's (a JAX preset's closure)
    copied: bool = False  # the values are a copy of another tensor's (a deep-copied module), this its declaration
    library: bool = False  # an installed library's own code chose it (transformers' _init_weights, a keras
    # application's kernel_initializer): the model's default for whoever builds it, as a layer type's is

    def label(self) -> str:
        """``kaiming_normal_(mode='fan_out', nonlinearity='relu')``: the arguments that differ from defaults."""
        short = self.display or (self.name.rsplit(".", 1)[-1] if self.name.count(".") else self.name)
        from .. import catalogue

        entry = None if self.display else catalogue.initializer(self.name)
        defaults = entry.defaults() if entry is not None else {}
        shown = []
        for key, value in self.args.items():
            if key in defaults and defaults[key] == value and not isinstance(defaults[key], bool):
                continue
            if isinstance(value, float):
                shown.append(f"{key}={value:.4g}")
            elif isinstance(value, (int, str)) and not isinstance(value, bool):
                shown.append(f"{key}={value!r}" if isinstance(value, str) else f"{key}={value}")
        text = f"{short}({', '.join(shown)})" if not self.display else f"{short}()"
        if self.scale != 1.0:
            text += f"×{self.scale:.4g}"
        if self.shift:
            text += f"{self.shift:+.4g}"
        if self.modified:
            text += " then modified"
        if self.assumed:
            text = "default " + text
        return text


def plain_args(bound: Dict[str, Any]) -> Dict[str, Any]:
    """Only the JSON-friendly arguments (numbers, strings, tuples of numbers): never a tensor."""
    out: Dict[str, Any] = {}
    for key, value in bound.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float, str)):
            out[key] = value
        elif isinstance(value, tuple) and all(isinstance(v, (int, float)) for v in value):
            out[key] = value
        elif isinstance(value, numbers.Number):  # numpy and 0-d framework scalars
            out[key] = float(value)
    return out


class Patcher:
    """Replace attributes and put every one of them back, in reverse order."""

    def __init__(self) -> None:
        self._undo: List[Tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        if isinstance(owner, dict):
            self._undo.append((owner, name, owner.get(name, _MISSING)))
            owner[name] = value
            return
        original = owner.__dict__.get(name, _MISSING) if hasattr(owner, "__dict__") else _MISSING
        self._undo.append((owner, name, original))
        setattr(owner, name, value)

    def restore(self) -> None:
        while self._undo:
            owner, name, original = self._undo.pop()
            try:
                if isinstance(owner, dict):
                    if original is _MISSING:
                        owner.pop(name, None)
                    else:
                        owner[name] = original
                elif original is _MISSING and name == "__new__" and isinstance(owner, type):
                    setattr(owner, name, _inherited_new(owner))
                elif original is _MISSING:
                    delattr(owner, name)
                else:
                    setattr(owner, name, original)
            except (AttributeError, TypeError):  # pragma: no cover - never leave the rest unrestored
                pass

    def __enter__(self) -> "Patcher":
        return self

    def __exit__(self, *exc) -> None:
        self.restore()


def _object_new(cls, *args, **kwargs):
    return object.__new__(cls)


def _inherited_new(owner: type):
    """What ``owner.__new__`` was before a patch that ``del`` cannot undo: CPython keeps a deleted
    ``__new__``'s slot, so ``object.__new__`` would then reject the constructor's arguments
    (``TypeError: object.__new__() takes exactly one argument``, seen with Keras initialisers). The
    inherited ``__new__`` is set explicitly; object's through a function that drops the arguments, as
    object's own slot does."""
    for base in owner.__mro__[1:]:
        if "__new__" in base.__dict__:
            found = base.__dict__["__new__"]
            return staticmethod(_object_new) if found is object.__new__ else found
    return staticmethod(_object_new)  # pragma: no cover - object is in every MRO


def patch_aliases(patcher: Patcher, replacements: Dict[int, Callable], module_names: Sequence[str]) -> None:
    """Where a module's globals (or a dict among them) hold one of the originals (by identity), put its
    wrapper there too: ``from torch.nn.init import normal_`` and transformers' table of torch's inits."""
    for module_name in module_names:
        module = sys.modules.get(module_name)
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            wrapper = replacements.get(id(value))
            if wrapper is not None:
                patcher.set(module, key, wrapper)
            elif type(value) is dict and 0 < len(value) <= 64 and not key.startswith("__"):  # never a lazy mapping
                for inner_key, inner in list(value.items()):
                    inner_wrapper = replacements.get(id(inner))
                    if inner_wrapper is not None:
                        patcher.set(value, inner_key, inner_wrapper)


def candidate_modules(prefixes: Sequence[str]) -> List[str]:
    """Loaded modules worth scanning for aliases: the named framework prefixes and the user's own."""
    names = []
    for name, module in list(sys.modules.items()):
        if name.startswith(tuple(prefixes)):
            names.append(name)
            continue
        filename = getattr(module, "__file__", None)
        if filename and is_user_file(filename):
            names.append(name)
    return names


class LineTracer:
    """Which lines of some files ran (sys.settrace, only while building, only when a static finding asks).

    Does nothing when another tracer (a debugger, coverage) is active: it is never displaced."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = {os.path.realpath(p) for p in paths}
        self.lines: Dict[str, Set[int]] = {p: set() for p in self.paths}
        self.active = False
        self._real: Dict[str, Optional[str]] = {}

    def _target(self, filename: str) -> Optional[str]:
        hit = self._real.get(filename, _MISSING)
        if hit is _MISSING:
            real = os.path.realpath(filename) if not filename.startswith("<") else filename
            hit = real if real in self.paths else None
            self._real[filename] = hit
        return hit

    def _global(self, frame, event, arg):
        target = self._target(frame.f_code.co_filename)
        if target is None:
            return None
        lines = self.lines[target]
        lines.add(frame.f_lineno)

        def local(frame, event, arg):
            if event == "line":
                lines.add(frame.f_lineno)
            return local

        return local

    def __enter__(self) -> "LineTracer":
        if self.paths and sys.gettrace() is None:
            import threading

            self.active = True
            threading.settrace(self._global)
            sys.settrace(self._global)
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            import threading

            sys.settrace(None)
            threading.settrace(None)  # type: ignore[arg-type]


class Recording:
    """Everything the adapters learnt while the model was built (shared by all adapters)."""

    def __init__(self) -> None:
        self.active = False
        self.tracer: Optional[LineTracer] = None
        # construction sites of objects that declare initialisers (Keras initialisers, JAX closures)
        self.sites: Dict[int, Tuple[Any, Tuple[Frame, ...]]] = {}
        self.extra: Dict[str, Any] = {}  # per-adapter data
        self.budget: Any = None  # a memory.MemoryBudget the adapters ask before large allocations (None: no check)

    def site_of(self, obj: Any) -> Tuple[Frame, ...]:
        """Where the user's code made ``obj`` (an initialiser), innermost user frame first."""
        hit = self.sites.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        return ()

    def remember_site(self, obj: Any, stack: Tuple[Frame, ...]) -> None:
        """Remember where ``obj`` was made."""
        if stack:
            self.sites[id(obj)] = (obj, stack)  # the reference keeps the id from being reused

    def executed_lines(self, path: str) -> Optional[Set[int]]:
        """The lines of ``path`` that ran while building (None: no tracer was active)."""
        if self.tracer is None or not self.tracer.active:
            return None
        return self.tracer.lines.get(os.path.realpath(path))
