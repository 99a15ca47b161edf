"""A project: its modules found by name, their summaries, and what they say about one another.

Everything is lazy and memoised per process: a module is read and summarised the first time some
analysis asks about a name in it (and its summary is cached on disk by content, see
``SummaryStore``). The one question that needs the whole project, which modules apply a function
(``x.apply(f)``) defined elsewhere, is answered from a scan that reads every file's bytes once and
summarises only those that call ``.apply(`` on a plain name.

``ProjectView`` is what the analysis of one file sees (``analysis.facts.analyse(project=...)``);
it records every file it consulted, so that a cached result can be re-checked when one of them
changes (``dependencies``).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import json
import os
import re
import stat
from collections import OrderedDict
from functools import lru_cache
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from ..analysis.inheritance import outside, runs
from ..engine import SourceError, syntax_check
from .layout import MARKERS, module_names, project_root
from .summary import FORMAT, FRAMEWORKS, summarise

# a project bigger than this is not scanned whole for ``.apply(f)`` calls (a monorepo): names are
# still resolved through imports, module by module
MAX_SCANNED_FILES = 20_000
# a project whose root is only the working directory (no pyproject.toml, setup.cfg, setup.py or
# .git there): ``cd ~; initlint check scratch/a.py`` must not read a home folder's Python files
# for one file (the walk stops here too); a research repository without markers is far smaller
MAX_UNMARKED_SCAN = 2_000
# below this many files to scan, reading them here costs less than starting processes to share it
MIN_SPREAD_SCAN = 2_000
MIN_SPREAD_SECOND = 200  # items of a second reading (_worth_spreading)
MAX_DEPTH = 8
MAX_STARS = 8
# ``x.apply(f)`` / ``x.apply(partial(f, ...))`` with ``f`` a plain name, its only argument (as
# ``nn.Module.apply`` takes it): an application the summary can resolve (``self.apply(self._init)``
# is the file's own business; ``Fn.apply(x, w)`` is an autograd Function, everywhere in torch)
_APPLY_RE = re.compile(rb"\.apply\(\s*(?:(?:functools\.)?partial\(\s*(?!self\.)([A-Za-z_]\w*)[\w.]*\s*[,)]"
                       rb"|(?!self\.)([A-Za-z_]\w*)[\w.]*\s*\))")
# what the summary resolves ``f`` through (summary.qualify): a module-level def, class, assignment or
# import of its first name, or a star import; lines at the margin that open a def or class body
_IMPORT_RE = re.compile(rb"(?m)^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import[ \t]+(\([^)]*\)|[^\n]*)")
_BODY_OPENER_RE = re.compile(rb"(?:async[ \t]+)?def[ \t]|class[ \t]|@")
# the name just before ``.apply(`` (matched at the end of the text before it), and a class's name
_RECEIVER_RE = re.compile(rb"([A-Za-z_]\w*)$")
_CLASS_NAME_RE = re.compile(rb"_*[A-Z]\w*[a-z]")
# ``for m in x.modules(): f(m)`` (under an ``if`` at most), which applies ``f`` as ``x.apply(f)`` does
# (not a method of the class itself, ``self._init(m)``, nor a builtin, ``setattr(m, ...)``)
_LOOP_CALL_RE = re.compile(rb"for[ \t]+(?:\w+[ \t]*,[ \t]*)?([A-Za-z_]\w*)[ \t]+in[ \t]+[\w.]+\.(?:named_)?(?:modules|children)"
                           rb"\(\)[ \t]*:(?:[^\n]*\n){1,4}?[ \t]*(?:if[^\n]*:[ \t]*)?"
                           rb"(?!self\.|(?:setattr|getattr|hasattr|delattr|isinstance|print|len|id|type)\()"
                           rb"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)\([ \t]*\1[ \t]*[,)]")
# init helpers: a top-level function whose first parameter's modules it reaches; its body runs to
# the next line that starts at the margin
_DEF_RE = re.compile(rb"def[ \t]+([A-Za-z_]\w*)[ \t]*\([ \t]*([A-Za-z_]\w*)")
_MARGIN_RE = re.compile(rb"(?m)^[^\s#)\]}]")
_ITERATIONS = (b".modules(", b".named_modules(", b".apply(", b".children(", b".named_children(")
# an in-place init of a parameter: ``xavier_uniform_(m.weight``, ``m.weight.data.normal_(``
_INPLACE_INIT_RE = re.compile(
    rb"(?:normal|uniform|constant|zeros|ones|eye|dirac|xavier_uniform|xavier_normal|kaiming_uniform|kaiming_normal"
    rb"|trunc_normal|orthogonal|sparse)_\(\s*[A-Za-z_][\w.]*\.(?:weight|bias)\b"
    rb"|\.(?:weight|bias)(?:\.data)?\.(?:normal_|uniform_|fill_|zero_)\(")


@lru_cache(maxsize=1)
def _framework_names() -> FrozenSet[str]:
    """The catalogue's names and every dotted prefix of them (``torch``, ``torch.nn``, ``torch.nn.init``)."""
    from ..catalogue import all_names

    out = set()
    for name in all_names():
        parts = name.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(out)


@lru_cache(maxsize=16384)
def _framework_name(qualname: str) -> bool:
    from ..catalogue.names import canonical

    return canonical(qualname) in _framework_names()


def _unmarked_working_directory(root: str) -> bool:
    """Is ``root`` a project root only because it is the working directory (``layout``)?"""
    try:
        if os.path.realpath(root) != os.path.realpath(os.getcwd()):
            return False
    except OSError:
        return False
    return not any(os.path.exists(os.path.join(root, marker)) for marker in MARKERS)


def _read_regular(path: str) -> Optional[bytes]:
    """The bytes of a regular file no larger than the engine checks; None for anything else (a
    FIFO would block ``open`` for ever, a device or a huge generated file is not a module of ours)."""
    return _read_stated(path)[0]


def _read_stated(path: str) -> Tuple[Optional[bytes], Optional[Tuple[int, int]]]:
    """``_read_regular``'s bytes, and the file's (size, modification time in ns) as the scan's
    stamp records them (None where it cannot be stat'ed)."""
    from ..engine import MAX_FILE_BYTES

    try:
        status = os.stat(path)
    except OSError:
        return None, None
    stated = (status.st_size, status.st_mtime_ns)
    if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_FILE_BYTES:
        return None, stated
    try:
        with open(path, "rb") as handle:
            return handle.read(), stated
    except OSError:
        return None, stated


def _status(path: str) -> Optional[Tuple[int, int]]:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


def _stamp(files: List[str], stats: List[Optional[Tuple[int, int]]]) -> str:
    """A digest of every file's path, size and modification time: the scan's tables hold while it does."""
    stamp = hashlib.blake2b(digest_size=16)
    for path, stated in zip(files, stats):
        text = f"{path}\0{stated[0]}\0{stated[1]}\0" if stated is not None else f"{path}\0-\0"
        stamp.update(text.encode("utf-8", "surrogateescape"))
    return stamp.hexdigest()


def _init_functions(data: bytes) -> Tuple[List[str], List[str]]:
    """``(helpers, per_module)``: the top-level functions of a module that initialise a weight or
    bias in place (and name an initialiser) on what their first parameter reaches. A *helper*
    reaches its argument's modules (``for m in net.modules()``, ``net.apply(init_func)``) and is
    called on a model (``init_weights(self)``); a *per-module* init is called on each module of a
    loop (``for m in self.modules(): init_layer(m)``). Read from the text, for the scan: the files
    that call one are summarised, and a loose test here costs a parse of each."""
    if b".weight" not in data and b".bias" not in data:
        return [], []
    from .view import _gate

    helpers: List[str] = []
    per_module: List[str] = []
    header = None  # the module's text before its first function: its imports, which the prefilter reads
    for match in _top_defs(data):
        parameter = match.group(2)
        if parameter in (b"self", b"cls"):
            continue
        margin = _MARGIN_RE.search(data, match.end())
        start, end = match.end(), margin.start() if margin else len(data)

        def holds(suffix: bytes) -> bool:  # a substring test on the body, without copying it: C speed
            return data.find(parameter + suffix, start, end) >= 0

        # for m in modules: the parameter is the modules (init_weights(self.modules()))
        loops_over = data.find(b"in " + parameter, start, end) >= 0 and re.search(
            rb"\bfor[ \t]+\w+[ \t]+in[ \t]+" + parameter + rb"[ \t]*:", data[start:end]) is not None
        iterates = loops_over or any(holds(suffix) for suffix in _ITERATIONS)
        if not iterates and not holds(b".weight") and not holds(b".bias"):
            continue
        body = data[start:end]
        header = data[:match.start()] if header is None else header
        if not _INPLACE_INIT_RE.search(body) or not _gate("inits")(header + body, None):
            continue
        if loops_over or iterates and re.search(rb"\b" + parameter + rb"\.(?:apply|(?:named_)?(?:modules|children))\(",
                                                body):
            helpers.append(match.group(1).decode("ascii"))
        else:
            per_module.append(match.group(1).decode("ascii"))
    helpers.extend(_init_methods(data))
    return helpers, per_module


_SELF_MODULES = (b"self.modules()", b"self.named_modules()", b"self.children()", b"self.named_children()")
_METHOD_DEF_RE = re.compile(rb"\n([ \t]+)def[ \t]+([A-Za-z_]\w*)[ \t]*\([ \t]*self\b")


def _init_methods(data: bytes) -> List[str]:
    """``Class.method`` of the methods of top-level classes that loop over their instance's modules
    and initialise them in place (``def init_weights(self): for m in self.modules():
    xavier_uniform_(m.weight)``): a subclass elsewhere that calls ``self.init_weights()`` has them
    run on its own layers (the summaries of the files that call one say which)."""
    # every marker ends in ``modules()`` or ``children()``: two passes over the text, not four, for most files
    if not (b"modules()" in data and (b"self.modules()" in data or b"self.named_modules()" in data)
            or b"children()" in data and (b"self.children()" in data or b"self.named_children()" in data)):
        return []
    from .view import _gate

    found: List[str] = []
    for match in _METHOD_DEF_RE.finditer(data):
        start = match.end()
        end = re.compile(rb"\n[ \t]{0,%d}(?=[^\s#])" % len(match.group(1))).search(data, start)
        end = end.start() if end else len(data)
        if not any(data.find(marker, start, end) >= 0 for marker in _SELF_MODULES) \
                or not _INPLACE_INIT_RE.search(data, start, end):
            continue
        owner = _enclosing_class(data, match.start())
        if owner is None or not _called_bare(data, data.index(b"(", match.start())):
            continue
        name = f"{owner}.{match.group(2).decode('ascii')}"
        if name not in found and _gate("inits")(data[:match.start()] + data[start:end], None):
            found.append(name)
    return found


def _called_bare(data: bytes, paren: int) -> bool:
    """Can the method whose parameter list opens at ``paren`` be called as ``self.method()``: every
    parameter after ``self`` has a default (``nn.Module.apply(self, fn)`` is no init method)?"""
    depth, start, parts = 0, paren + 1, []
    for index in range(paren, min(len(data), paren + 2000)):
        char = data[index:index + 1]
        if char in b"([{":
            depth += 1
        elif char in b")]}":
            depth -= 1
            if depth == 0:
                parts.append(data[start:index])
                break
        elif char == b"," and depth == 1:
            parts.append(data[start:index])
            start = index + 1
    else:
        return False
    return all(b"=" in part or part.strip().startswith(b"*") or not part.strip() for part in parts[1:])


_TOP_CLASS_RE = re.compile(rb"class[ \t]+([A-Za-z_]\w*)")
# a top-level class statement with a base other than nn.Module or object alone: one that may inherit
# a project class's method
_SUBCLASS_RE = re.compile(rb"(?m)^class[ \t]+\w+[ \t]*\((?![ \t]*(?:(?:torch\.)?nn\.Module|object)?[ \t]*\))")


def _enclosing_class(data: bytes, position: int) -> Optional[str]:
    """The top-level class whose body ``position`` is in (the last ``class`` line at the margin
    before it), if any."""
    start = data.rfind(b"\nclass ", 0, position)
    start = start + 1 if start >= 0 else (0 if data.startswith(b"class ") else -1)
    if start < 0 or _MARGIN_RE.search(data, start + 1, position) is not None:
        return None  # none, or a statement at the margin between: the method is not in it
    match = _TOP_CLASS_RE.match(data, start)
    return match.group(1).decode("ascii") if match else None


def _applies_a_function(data: bytes) -> bool:
    """May ``data`` apply a function to modules (``x.apply(f)``)? Not on a receiver named as a class
    (``Fn.apply(x)``: an autograd Function, everywhere in torch; ``nn.Module.apply`` is a method of an
    instance), nor in a comment: such files are not summarised for the scan."""
    if b".apply(" not in data:
        return False
    for match in _APPLY_RE.finditer(data):
        line = data.rfind(b"\n", 0, match.start()) + 1
        if data[line:match.start()].lstrip().startswith(b"#"):
            continue
        receiver = _RECEIVER_RE.search(data, line, match.start())
        if (receiver is None or not _CLASS_NAME_RE.match(receiver.group(1))) \
                and _bound_at_top(data, match.group(1) or match.group(2)):
            return True
    return False


def _bound_at_top(data: bytes, name: bytes) -> bool:
    """May ``name`` be bound at the top of the module (summary.qualify resolves only such names: the
    argument of ``pattern.apply(graph)`` or ``r.apply(points)`` is a local)? A def or class of it at any
    depth, an import naming it, a star import, or an assignment outside any def or class body (judged
    by the last line at the margin before it: a top-level ``if``/``try`` holds module-level names). A
    test that errs only towards yes: the summary decides."""
    if b"import *" in data or re.search(rb"\b(?:def|class)[ \t]+" + name + rb"\b", data):
        return True
    word = re.compile(rb"\b" + name + rb"\b")
    if any(word.search(statement.group(1)) for statement in _IMPORT_RE.finditer(data)):
        return True
    for assignment in re.finditer(rb"(?m)^([ \t]*)" + name + rb"[ \t]*(?::[^=\n]*)?=(?!=)", data):
        if not assignment.group(1):
            return True
        start = _last_margin_line(data, assignment.start())
        if start is None or not _BODY_OPENER_RE.match(data, start):
            return True
    return False


def _last_margin_line(data: bytes, before: int) -> Optional[int]:
    """Where the last line before ``before`` that starts at the margin with code starts (None: none)."""
    end = before
    while end > 0:
        start = data.rfind(b"\n", 0, end - 1) + 1
        first = data[start:start + 1]
        if first and first not in b" \t\n\r#)]}":
            return start
        end = start
    return None


def _top_defs(data: bytes):
    """``_DEF_RE`` matches of the ``def`` lines at the margin, found by a literal search (a regex
    anchored at every line start costs ten times more on a large module)."""
    position = 0 if data.startswith(b"def") else data.find(b"\ndef") + 1
    while position >= 0 and (position > 0 or data.startswith(b"def")):
        match = _DEF_RE.match(data, position)
        if match is not None:
            yield match
        found = data.find(b"\ndef", position)
        position = found + 1 if found >= 0 else -1


_UNKNOWN = object()


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class SummaryStore:
    """Summaries on disk, one JSON file per (content, module name): ``<cache>/summaries/ab/cd….json``."""

    def __init__(self, directory: Optional[str]) -> None:
        self.base = directory
        self.directory = os.path.join(directory, "summaries") if directory else None
        self._marked = False

    def _path(self, key: str) -> str:
        return os.path.join(self.directory, key[:2], key[2:] + ".json")

    def get(self, key: str) -> Optional[dict]:
        if self.directory is None:
            return None
        try:
            with open(self._path(key), "rb") as handle:
                summary = json.loads(handle.read())
            return summary if isinstance(summary, dict) and summary.get("format") == FORMAT else None
        except (OSError, ValueError):
            return None

    def put(self, key: str, summary: dict) -> None:
        if self.directory is None:
            return
        target = self._path(key)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if not self._marked:
                from ..cache import mark_directory

                mark_directory(self.base)
                self._marked = True
            from ..cache import write_json

            write_json(target, summary)
        except (OSError, TypeError, ValueError):
            pass


class Project:
    """One project root and what is known about its modules (memoised, lazily)."""

    def __init__(self, root: str, cache_dir: Optional[str] = None, exclude: Tuple[str, ...] = ()) -> None:
        self.root = root
        self.exclude = exclude
        self.store = SummaryStore(cache_dir)
        self.bases = self._bases(root)
        self.tops = self._tops()
        self.scan_limit = MAX_UNMARKED_SCAN if _unmarked_working_directory(root) else MAX_SCANNED_FILES
        # the first names of this project's imports that ``is_project_name`` can accept
        self.project_tops = frozenset(top for top in self.tops if top not in FRAMEWORKS)
        self._mentioned: Optional[FrozenSet[str]] = None  # the module prefixes of the tables' keys
        self._path_of: Dict[str, Optional[str]] = {}
        self._summaries: Dict[str, Optional[dict]] = {}
        self._hashes: Dict[str, Optional[str]] = {}
        self._canonical: Dict[str, Tuple[str, FrozenSet[str]]] = {}
        self._applications: Optional[Dict[str, Set[Tuple[str, str]]]] = None
        self._passes: Dict[str, Set[Tuple[str, str]]] = {}
        self._layout: Optional[str] = None
        self.layers_memo: Dict[str, object] = {}  # path -> {class: [layer records]} (project.layers)
        self.layerless: dict = {"answers": {}, "asking": set(), "trees": OrderedDict()}  # project.layerless
        self._script_prefix: Dict[str, Optional[str]] = {}

    # -- layout ------------------------------------------------------------------------------------

    @staticmethod
    def _bases(root: str) -> Tuple[str, ...]:
        """Folders whose children are importable top-level names: the root, ``root/src``, and the
        folder above the root when the root is itself a package (an installed package)."""
        bases = [root, os.path.join(root, "src")]
        if os.path.isfile(os.path.join(root, "__init__.py")):
            bases.insert(0, os.path.dirname(root))
        return tuple(b for b in bases if os.path.isdir(b))

    def _tops(self) -> FrozenSet[str]:
        names = set()
        for base in self.bases:
            if base == os.path.dirname(self.root):  # above an installed package: only the package
                names.add(os.path.basename(self.root))
                continue
            try:
                entries = os.listdir(base)
            except OSError:
                continue
            for entry in entries:
                stem = entry[:-3] if entry.endswith(".py") else entry
                if stem.isidentifier() and (entry.endswith(".py") or os.path.isdir(os.path.join(base, entry))):
                    names.add(stem)
        return frozenset(names)

    def module_path(self, module: str) -> Optional[str]:
        """The file of the project that module ``module`` names (a package's ``__init__.py``), or None."""
        if module in self._path_of:
            return self._path_of[module]
        found = None
        if module.split(".", 1)[0] in self.tops:
            relative = module.replace(".", os.sep)
            for base in self.bases:
                for candidate in (os.path.join(base, relative + ".py"), os.path.join(base, relative, "__init__.py")):
                    if candidate.startswith(self.root + os.sep) and os.path.isfile(candidate):
                        found = candidate
                        break
                if found:
                    break
        self._path_of[module] = found
        return found

    def relative(self, path: str) -> str:
        prefix = self.root.rstrip(os.sep) + os.sep
        tail = path[len(prefix) - 1:]
        if path.startswith(prefix) and os.sep + "." not in tail and os.sep * 2 not in tail + os.sep:
            return tail[1:].replace(os.sep, "/")  # a normalised path under the root: relpath's answer, cheaply
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    # -- summaries ---------------------------------------------------------------------------------

    def file_hash(self, path: str) -> Optional[str]:
        if path not in self._hashes:
            data = _read_regular(path)
            self._hashes[path] = content_hash(data) if data is not None else None
        return self._hashes[path]

    def summary_of(self, path: str, data: Optional[bytes] = None, tree: Optional[ast.Module] = None,
                   uses: bool = False) -> Optional[dict]:
        """The summary of the file at ``path`` (None if it cannot be read or parsed). ``uses``: with
        what it applies and passes to which class (``applications``, ``passes``), which only the
        project's scan asks of the few files it reads for them (the walk costs)."""
        known = self._summaries.get(path, _UNKNOWN)
        if known is not _UNKNOWN and (not uses or known is None or "passes" in known):
            return known
        summary = None
        try:
            if data is None:
                data = _read_regular(path)
                if data is None:
                    raise OSError(path)
            digest = content_hash(data)
            self._hashes[path] = digest
            names = module_names(path, self.root)
            module = names[0] if names else os.path.splitext(os.path.basename(path))[0]
            key = hashlib.blake2b(f"{digest}\0{module}\0{FORMAT}\0{uses:d}".encode(), digest_size=20).hexdigest()
            summary = self.store.get(key)
            if summary is None:
                if tree is None:
                    tree = syntax_check(data, path)
                summary = summarise(tree, module, os.path.basename(path) == "__init__.py", data, uses=uses)
                self.store.put(key, summary)
        except (OSError, SourceError, ValueError, RecursionError, MemoryError, UnicodeDecodeError):
            summary = None
        if summary is not None and self.script_prefix(path) is not None:
            summary = _localized(summary, lambda name: self.localize(path, name))
        self._summaries[path] = summary
        return summary

    # -- scripts -----------------------------------------------------------------------------------

    def script_prefix(self, path: str) -> Optional[str]:
        """For a file outside any package (a script), the dotted name of its folder within the
        project (``implementations.cyclegan``; ``""`` at the root), else None. Python puts a
        script's own folder first on ``sys.path``, so ``from models import *`` there means the
        ``models.py`` beside it, wherever the project's root is."""
        directory = os.path.dirname(path)
        known = self._script_prefix.get(directory, False)  # asked for every name a file resolves
        if known is False:
            known = None
            if not os.path.isfile(os.path.join(directory, "__init__.py")):
                relative = os.path.relpath(directory, self.root)
                parts = [] if relative == "." else relative.split(os.sep)
                if not relative.startswith(os.pardir) and all(p.isidentifier() for p in parts):
                    known = ".".join(parts)
            self._script_prefix[directory] = known
        return known

    def localize(self, path: str, qualname: str) -> str:
        """``qualname`` as the script at ``path`` imports it: a module beside the script comes out
        under its project-wide name (``models.Generator`` -> ``implementations.cyclegan.models.Generator``)."""
        prefix = self.script_prefix(path)
        if not prefix:
            return qualname
        top = qualname.split(".", 1)[0]
        directory = os.path.dirname(path)
        if not (os.path.isfile(os.path.join(directory, top + ".py")) or os.path.isdir(os.path.join(directory, top))):
            return qualname  # the script's folder comes first on sys.path: a module there wins
        return f"{prefix}.{qualname}"

    def own_summary(self, path: str, data: bytes, tree) -> Optional[dict]:
        """What a file being checked asks about itself (imports, functions, stars: ``summarise``'s
        light form), from the tree the engine has (``engine.TreeSource``: the tree, or the function
        that makes it); the full summary when it is already known."""
        known = self._summaries.get(path)
        if known is not None or tree is None:
            return known if known is not None else self.summary_of(path, data or None)
        from ..engine import tree_of

        tree = tree_of(tree)
        names = module_names(path, self.root)
        module = names[0] if names else os.path.splitext(os.path.basename(path))[0]
        try:
            summary = summarise(tree, module, os.path.basename(path) == "__init__.py", data, light=True)
        except (RecursionError, MemoryError, ValueError):
            return None
        if self.script_prefix(path) is not None:
            summary = dict(summary, imports={k: self.localize(path, v) for k, v in summary["imports"].items()},
                           stars=[self.localize(path, s) for s in summary["stars"]])
        return summary

    def module_summary(self, module: str) -> Optional[dict]:
        path = self.module_path(module)
        return self.summary_of(path) if path else None

    # -- names -------------------------------------------------------------------------------------

    def is_project_name(self, qualname: str) -> bool:
        """Does ``qualname`` name something of this project that the catalogue does not know? A
        framework's own names (``keras.layers.Dense`` inside keras, ``torch.nn`` inside torch) are
        the catalogue's: following their re-exports would only cost time."""
        top = qualname.split(".", 1)[0]
        return top in self.tops and top not in FRAMEWORKS and not _framework_name(qualname)

    def locate(self, qualname: str) -> Optional[Tuple[str, str, List[str]]]:
        """``(path, name, rest)``: the module file ``qualname`` starts in, the top-level name of it
        that follows, and the attributes after it; the longest module prefix wins."""
        parts = qualname.split(".")
        for i in range(len(parts) - 1, 0, -1):
            path = self.module_path(".".join(parts[:i]))
            if path is not None:
                return path, parts[i], parts[i + 1:]
        return None

    def canonical(self, qualname: str, touched: Optional[Set[str]] = None) -> str:
        """The qualified name ``qualname`` stands for once the project's own re-exports and aliases
        are followed (``pkg.backend.keras.layers.Dense`` -> ``keras.layers.Dense``; a name defined
        in the project comes out under its module's primary name). ``touched`` collects the files read."""
        known = self._canonical.get(qualname)
        if known is None:
            paths: Set[str] = set()
            known = self._canonical[qualname] = (self._follow(qualname, paths), frozenset(paths))
        if touched is not None:
            touched.update(known[1])
        return known[0]

    def _follow(self, qualname: str, touched: Set[str]) -> str:
        name = qualname
        for _ in range(MAX_DEPTH):
            if not self.is_project_name(name):
                break
            found = self.locate(name)
            if found is None:
                break
            path, attr, rest = found
            touched.add(path)
            summary = self.summary_of(path)
            if summary is None:
                break
            target = summary["imports"].get(attr) or summary["aliases"].get(attr)
            if target is None and attr not in summary["defined"]:
                target = self._through_stars(summary, attr, touched)
            if target is None:
                return ".".join([summary["module"], attr, *rest])
            name = ".".join([target, *rest])
        return name

    def _through_stars(self, summary: dict, attr: str, touched: Set[str]) -> Optional[str]:
        """``attr`` as one of the module's ``from m import *`` brings it in, if one does. A module
        with many (transformers' ``models/__init__.py`` star-imports every model family) is not
        searched: research code stars a few modules of its own."""
        if len(summary["stars"]) > MAX_STARS:
            return None
        for star in summary["stars"]:
            if not self.is_project_name(star):
                continue
            candidate = self.canonical(f"{star}.{attr}", touched)
            found = self.definition(candidate, touched)
            if found is not None and found[2] in found[1]["defined"]:
                return candidate
        return None

    def definition(self, qualname: str, touched: Optional[Set[str]] = None) -> Optional[Tuple[str, dict, str]]:
        """``(path, summary, name)`` of the top-level definition a canonical project name denotes."""
        if not self.is_project_name(qualname):
            return None
        found = self.locate(qualname)
        if found is None or found[2]:
            return None
        path, attr, _ = found
        if touched is not None:
            touched.add(path)
        summary = self.summary_of(path)
        return (path, summary, attr) if summary is not None else None

    # -- the whole project --------------------------------------------------------------------------

    def files(self) -> List[str]:
        """The project's ``.py`` files (sorted), the first ``scan_limit`` of them the walk finds
        (it stops there: a bigger project is not scanned whole, names are still resolved through
        imports module by module)."""
        from ..runner import _walk

        found: List[str] = []
        for path in _walk(self.root, self.exclude):
            if path.endswith(".py"):
                found.append(os.path.abspath(path))
                if len(found) >= self.scan_limit:
                    break
        return sorted(found)

    def _scan(self) -> None:
        pending = self.pending_scan()
        if pending is not None:
            self.complete_scan(pending)

    def pending_scan(self) -> "Optional[PendingScan]":
        """The scan still to do (None: done, or read from the store). The scan's tables are kept
        on disk with a stamp of every file's size and modification time: an unchanged project (a
        warm run) is only walked and stat'ed, and any change anywhere (an edited re-export changes
        what a name stands for) scans again."""
        if self._applications is not None:
            return None
        files = self.files()
        key = hashlib.blake2b(f"scan\0{FORMAT}\0{self.root}".encode("utf-8", "surrogateescape"),
                              digest_size=20).hexdigest()
        stored = self.store.get(key)
        if stored is None:  # nothing to compare with: the stamp comes from the reading's own stats
            return PendingScan(files, None, key)
        stamp = _stamp(files, [_status(path) for path in files])
        if stored.get("stamp") == stamp:
            self._applications, self._passes = (
                {function: {(cls, os.path.join(self.root, where)) for cls, where in pairs}
                 for function, pairs in stored[table].items()} for table in ("applications", "passes"))
            self._layout = stored["layout"]
            self._mentioned = None
            return None
        return PendingScan(files, stamp, key)

    def complete_scan(self, pending: "PendingScan") -> None:
        """Do ``pending`` here: both readings (``Projects.prepare`` spreads them over processes),
        then keep the tables on disk."""
        self.finish_scan(pending, self.first_reading(pending.files))

    def scan_file(self, path: str):
        """What the scan reads in one file, as a tuple a worker process can send back: ``(init
        helpers, per-module inits, whether it may apply a function (``x.apply(f)``), the summary
        of one that does (None: it cannot be summarised), its content hash, the functions its
        loops over modules call)``; None for a file that cannot be read."""
        data, status = _read_stated(path)
        if data is None:
            return None
        helpers, per_module = _init_functions(data)
        if _applies_a_function(data):
            summary = self.summary_of(path, data, uses=True)
            return helpers, per_module, True, summary, self._hashes.get(path), (), status
        called = ()
        if b"modules()" in data or b"children()" in data:
            called = tuple({m.group(2).rsplit(b".", 1)[-1].decode("ascii") for m in _LOOP_CALL_RE.finditer(data)})
        return helpers, per_module, False, None, None, called, status

    def first_reading(self, files: List[str], facts: Optional[list] = None) -> "SecondReading":
        """Every file is read once (``scan_file``); those that may apply a function (``x.apply(f)``,
        a loop over ``x.modules()``) are summarised. Init helpers (``_init_functions``) are noted on
        the way: the files that call one are to be summarised in a second reading (most projects
        have none), whose plan this returns (``SecondReading``: it can run in other processes)."""
        second = SecondReading(self.root)
        for index, path in enumerate(files):
            found = self.scan_file(path) if facts is None else facts[index]
            if found is None:
                continue
            found_helpers, found_per_module, applies, summary, digest, called = found[:6]
            second.helpers.update(found_helpers)
            second.per_module.update(found_per_module)
            if applies:
                if summary is not None:
                    if facts is not None:
                        self._adopt(path, summary, digest)
                    second.summarised.append(path)
            elif called:
                second.looping.append((path, frozenset(called)))
        second.plan(files)
        return second

    def second_read(self, path: str, second: "SecondReading", loops: bool):
        """The second reading of one file (``SecondReading``): its summary with what it applies and
        passes (``summary_of(uses=True)``) and its content hash where it is to be summarised (a loop
        over modules that calls an init of the project: ``loops``; or a call of an init helper, or a
        subclass's ``self.method()`` of an init method), else None."""
        if loops:
            data = None
        else:
            data = _read_regular(path)
            if data is None or not second.calls_one(data):
                return None
        summary = self.summary_of(path, data, uses=True)
        return None if summary is None else (summary, self._hashes.get(path))

    def _adopt(self, path: str, summary: dict, digest: Optional[str]) -> None:
        """A summary with what the file applies and passes, read in another process: kept here as
        ``summary_of(uses=True)`` would have kept it (unless one is here already)."""
        if "passes" not in (self._summaries.get(path) or {}):
            self._summaries[path] = summary
        self._hashes.setdefault(path, digest)

    def finish_scan(self, pending: "PendingScan", second: "SecondReading", found: Optional[list] = None,
                    facts: Optional[list] = None) -> None:
        """The tables from the first reading and the second (``found``: ``second_read`` of each of
        ``second.items``, read in other processes; None: read here), kept on disk with their stamp."""
        self._tables(pending.files, second, found)
        if self.store.directory is None:
            return  # no cache: neither the tables nor their stamp are kept
        stamp = pending.stamp
        if stamp is None:  # the stats the reading took in other processes; here (or a file it could not read): now
            read = facts if facts is not None else [None] * len(pending.files)
            stamp = _stamp(pending.files, [fact[6] if fact is not None else _status(path)
                                           for path, fact in zip(pending.files, read)])
        self.store.put(pending.key, {"format": FORMAT, "stamp": stamp, "layout": self._layout,
                                     **{name: {function: sorted([cls, self.relative(where)] for cls, where in pairs)
                                               for function, pairs in table.items()}
                                        for name, table in (("applications", self._applications),
                                                            ("passes", self._passes))}})

    def _tables(self, files: List[str], second: "SecondReading", found: Optional[list]) -> None:
        """What applies or passes which function to which class (``_applications``, ``_passes``),
        from the summaries of both readings, and the layout stamp every cached answer depends on."""
        self._applications, self._passes = {}, {}
        summarised = list(second.summarised)
        for index, (path, loops) in enumerate(second.items):
            result = self.second_read(path, second, loops) if found is None else found[index]
            if result is not None:
                if found is not None:
                    self._adopt(path, *result)
                summarised.append(path)
        helpers, methods = second.helpers, second.methods
        method_names = {m.split(".", 1)[1] for m in methods}
        for path in summarised:
            summary = self.summary_of(path)
            self._record(path, summary["applications"], self._applications)
            # only calls of the helpers found matter (a summary lists every call that passes a name)
            self._record(path, [pair for pair in summary["passes"] if pair[0].rsplit(".", 1)[-1] in helpers],
                         self._passes)
            for function, cls in summary["passes"]:
                if cls and function.startswith(cls + ".") and function[len(cls) + 1:] in method_names:
                    self._record_method(path, cls, function[len(cls) + 1:], methods)
        # what applies or passes a function to which class is part of every answer about it: a
        # cached result holds only while these tables are unchanged
        layout = hashlib.blake2b(digest_size=16)
        for path in files:
            layout.update(self.relative(path).encode("utf-8", "surrogateescape") + b"\0")
        for table in (self._applications, self._passes):
            layout.update(json.dumps({function: sorted([cls, self.relative(where)] for cls, where in pairs)
                                      for function, pairs in sorted(table.items())}).encode())
        self._layout = layout.hexdigest()
        self._mentioned = None

    def _record(self, path: str, pairs, table: Dict[str, Set[Tuple[str, str]]]) -> None:
        for function, cls in pairs:
            table.setdefault(self.canonical(function), set()).add((self.canonical(cls) if cls else "", path))

    def _record_method(self, path: str, cls: str, method: str, methods: Set[str]) -> None:
        """``self.method()`` in class ``cls`` at ``path``: recorded under each class whose ``method``
        then runs (``pkg.base.Base.init_weights``) where that one is an init method of the scan's."""
        owner = self.canonical(cls)
        for definer in self.method_runs(owner, method) or ():
            if f"{definer.rsplit('.', 1)[-1]}.{method}" in methods:
                self._passes.setdefault(f"{definer}.{method}", set()).add((owner, path))

    # -- classes -----------------------------------------------------------------------------------

    def class_facts(self, qualname: str, touched: Optional[Set[str]] = None):
        """``(bases, methods, supers)`` of the class ``qualname`` names, as ``analysis.inheritance``
        reads a class (its bases canonical); nothing defined for a framework's class; None for one
        whose body is not known (an installed library's, a name that is no class)."""
        if not self.is_project_name(qualname):
            return outside(qualname)
        found = self.definition(self.canonical(qualname, touched), touched)
        if found is None or found[2] not in found[1]["classes"]:
            return None
        info = found[1]["classes"][found[2]]
        return ([self.canonical(base, touched) for base in info["bases"]],
                info.get("methods", ()), info.get("supers", ()))

    def method_runs(self, cls: str, method: str, touched: Optional[Set[str]] = None) -> Optional[List[str]]:
        """The classes (canonical names) whose ``method`` runs when an instance of the project class
        ``cls`` calls ``self.method()``, in order (``analysis.inheritance.runs``); None where the
        project cannot tell (a class of an installed library comes first)."""
        paths: Set[str] = set()
        found = runs(self.canonical(cls, paths), method, lambda name: self.class_facts(name, paths))
        if touched is not None:
            touched.update(paths)
        return found

    def prepare(self) -> "Project":
        """Do the whole-project scan now (before worker processes fork, so that they share it)."""
        if self._applications is None:
            self._scan()
        return self

    @property
    def layout(self) -> str:
        """A digest of the project's file list: adding or removing a module may change any answer."""
        self.prepare()
        return self._layout or ""

    def applied_classes(self, function: str) -> List[Tuple[str, str]]:
        """``(class, file)`` for every ``x.apply(function)`` in the project whose class is known."""
        self.prepare()
        return sorted(pair for pair in self._applications.get(function, ()) if pair[0])

    def passed_classes(self, function: str) -> List[Tuple[str, str]]:
        """``(class, file)`` for every call ``function(x, ...)`` in the project whose ``x``'s class is known."""
        self.prepare()
        return sorted(pair for pair in self._passes.get(function, ()) if pair[0])

    def passed_to_methods(self, module: str) -> List[Tuple[str, str]]:
        """``(class, file)`` for every class that runs a method of one of ``module``'s classes on
        itself (``self.init_weights()`` in ``class Net(BaseModel)``)."""
        self.prepare()
        prefix = module + "."
        return sorted(pair for key, pairs in self._passes.items()
                      if key.startswith(prefix) and key.count(".", len(prefix)) == 1 for pair in pairs if pair[0])

    def mentions_module(self, module: str) -> bool:
        """Does a key of the project's tables (what is applied or passed to which class, whose
        methods subclasses run) name something of ``module``? Where none does, no class of another
        module completes what ``module``'s functions and methods do."""
        self.prepare()
        if self._mentioned is None:  # made again whenever the tables are set (``_tables``, ``pending_scan``)
            prefixes = set()
            for table in (self._applications, self._passes):
                for key in table:
                    parts = key.split(".")
                    prefixes.update(".".join(parts[:i]) for i in range(1, len(parts)))
            self._mentioned = frozenset(prefixes)
        return module in self._mentioned

    def unknown_uses(self, function: str) -> List[str]:
        """The files that apply ``function`` to, or call it on, modules whose class they do not show."""
        self.prepare()
        return sorted({where for table in (self._applications, self._passes)
                       for cls, where in table.get(function, ()) if not cls})


def _localized(summary: dict, localize) -> dict:
    """A script's summary with the names of modules beside it made project-wide (``Project.localize``)."""
    out = dict(summary)
    out["imports"] = {k: localize(v) for k, v in summary["imports"].items()}
    out["aliases"] = {k: localize(v) for k, v in summary["aliases"].items()}
    out["stars"] = [localize(s) for s in summary["stars"]]
    out["instances"] = {k: [localize(c), t] for k, (c, t) in summary["instances"].items()}
    out["classes"] = {k: dict(c, bases=[localize(b) for b in c["bases"]], calls=[localize(n) for n in c["calls"]])
                      for k, c in summary["classes"].items()}
    for table in ("applications", "passes"):  # a class not shown ("") stays so
        if table in summary:
            out[table] = [[localize(f), localize(c) if c else ""] for f, c in summary[table]]
    return out


class SecondReading:
    """The second reading of a project's scan, planned from the first (``Project.first_reading``):
    which files to summarise with what they apply and pass (``items``: ``(path, loops)``, a file
    whose loop over modules calls an init of the project, or any file where it may call an init
    helper or run an init method, ``calls_one``). Each item is independent of the others, so the
    reading can be spread over processes (``Projects.prepare``) like the first."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.helpers: Set[str] = set()
        self.per_module: Set[str] = set()
        self.methods: Set[str] = set()
        self.summarised: List[str] = []  # summarised by the first reading
        self.looping: List[Tuple[str, FrozenSet[str]]] = []  # files with loops over modules, and what they call
        self.items: List[Tuple[str, bool]] = []
        self.names: Tuple[bytes, ...] = ()
        self.run_by: Tuple[bytes, ...] = ()
        self._calls = None

    def plan(self, files: List[str]) -> None:
        # init methods (``Class.method``) are run by subclasses, in other files too, through any
        # number of classes between (``class Net(Middle)``, ``Middle`` a subclass of ``Base`` or an
        # import of it under another name): ``self.method(`` in a file with a top-level class
        # statement naming a base other than nn.Module; the summary tells which classes call it,
        # the project which class's method that runs (``method_runs``)
        self.methods = {h for h in self.helpers if "." in h}
        self.helpers -= self.methods
        self.run_by = tuple(b"self." + name.encode() + b"(" for name in sorted({m.split(".", 1)[1] for m in self.methods}))
        self.names = tuple(sorted(h.encode() for h in self.helpers))
        # a loop matters where it calls a per-module init (or a helper) of the project
        inits = self.per_module | self.helpers
        self.items = [(path, True) for path, called in self.looping if called & inits]
        if self.helpers or self.methods:
            done = set(self.summarised) | {path for path, _ in self.items}
            self.items.extend((path, False) for path in files if path not in done)

    def calls_one(self, data: bytes) -> bool:
        """May ``data`` call an init helper, or run an init method on a subclass of its class?"""
        if self.names and any(name in data for name in self.names):
            if self._calls is None:
                self._calls = re.compile(rb"\b(?:" + b"|".join(self.names) + rb")[ \t]*\(")
            if self._calls.search(data):
                return True
        return any(call in data for call in self.run_by) and _SUBCLASS_RE.search(data) is not None

    def __getstate__(self):  # what the processes that read need (the lists can be long)
        return {"root": self.root, "names": self.names, "run_by": self.run_by}

    def __setstate__(self, state) -> None:
        self.__init__(state["root"])
        self.names, self.run_by = state["names"], state["run_by"]


@dataclasses.dataclass(frozen=True)
class PendingScan:
    """A project's scan to do: its files, their stamp (None: none was asked, no tables being kept;
    the reading's own stats make it), and the key its tables are kept under."""

    files: List[str]
    stamp: Optional[str]
    key: str


class Projects:
    """The projects of one run, by root (``project_root``). Pickled as a token (see ``_revive``)."""

    def __init__(self, cache_dir: Optional[str] = None, exclude: Tuple[str, ...] = (),
                 token: Optional[str] = None, hints: Tuple[str, ...] = ()) -> None:
        self.cache_dir = cache_dir
        self.exclude = tuple(exclude)
        self.hints = tuple(hints)
        self._by_root: Dict[str, Project] = {}
        self.token = token or os.urandom(8).hex()

    def share(self) -> "Projects":
        """Make this object the one worker processes forked from here find (see ``_revive``)."""
        _LIVE.clear()  # one run at a time: an earlier run's projects are not kept alive
        _LIVE[self.token] = self
        return self

    def __reduce__(self):
        return _revive, (self.token, self.cache_dir, self.exclude, self.hints)

    def project_of(self, path: str) -> Project:
        root = project_root(path, self.hints)
        project = self._by_root.get(root)
        if project is None:
            project = self._by_root[root] = Project(root, self.cache_dir, self.exclude)
        return project

    def prepare(self, paths: Iterable[str], read_all=None) -> "Projects":
        """Do the whole-project scans of the projects of ``paths`` now (before worker processes
        fork, so that they share them). ``read_all(task, items)``: ``task`` over a list of items
        in other processes, the results in order (None if it could not run them), which reads the
        files of every scan at once, spread over them (``runner``); the tables are put together here."""
        pending = []
        for project in dict.fromkeys(self.project_of(path) for path in paths):
            scan = project.pending_scan()
            if scan is not None:
                pending.append((project, scan))
        items = [(project.root, path) for project, scan in pending for path in scan.files]
        facts = read_all(functools.partial(_scan_files_of, self.token), items) \
            if read_all is not None and len(items) >= MIN_SPREAD_SCAN else None
        read = _parts(facts, [len(scan.files) for _project, scan in pending])
        seconds = [project.first_reading(scan.files, part) for (project, scan), part in zip(pending, read)]
        # the second reading (the files that call an init helper, summarised), spread the same way
        again = [(second, path, loops) for second in seconds for path, loops in second.items]
        found = read_all(functools.partial(_second_reading_of, self.token), again) \
            if read_all is not None and again and _worth_spreading(again) else None
        for (project, scan), second, part, found_part in zip(pending, seconds, read,
                                                             _parts(found, [len(s.items) for s in seconds])):
            project.finish_scan(scan, second, found_part, part)
        return self

    def view(self, path: str) -> Optional["ProjectView"]:
        from .view import ProjectView

        if not path or path.startswith("<"):
            return None
        path = os.path.abspath(path)
        return ProjectView(self.project_of(path), path)


def _scan_files_of(token: str, items: List[Tuple[str, str]]) -> list:
    """``Project.scan_file`` of each ``(root, path)`` of ``items``, in a worker forked after the
    projects were made (``Projects.prepare``)."""
    projects = _LIVE[token]
    return [projects._by_root[root].scan_file(path) for root, path in items]


def _parts(results: Optional[list], sizes: List[int]) -> List[Optional[list]]:
    """``results`` (of every project's items, in order) cut into each project's; all None where none."""
    parts, start = [], 0
    for size in sizes:
        parts.append(results[start:start + size] if results is not None else None)
        start += size
    return parts


def _second_reading_of(token: str, items: List[Tuple["SecondReading", str, bool]]) -> list:
    """``Project.second_read`` of each ``(plan, path, loops)`` of ``items``, in a worker forked after
    the first reading (the summaries it made are there)."""
    projects = _LIVE[token]
    return [projects._by_root[second.root].second_read(path, second, loops) for second, path, loops in items]


def _worth_spreading(items: List[Tuple["SecondReading", str, bool]]) -> bool:
    """Is the second reading worth other processes? Starting them costs about as much as testing
    a few hundred files or summarising a few (timm's 304 files test for its init helpers and 15
    are summarised: 0.3 s)."""
    return len(items) + 100 * sum(1 for _second, _path, loops in items if loops) >= MIN_SPREAD_SECOND


# Projects alive in this process, by token: a worker forked from the process that prepared them
# finds them here (copy-on-write, nothing pickled); a spawned worker starts from an empty one
_LIVE: Dict[str, "Projects"] = {}


def _revive(token: str, cache_dir: Optional[str], exclude: Tuple[str, ...], hints: Tuple[str, ...]) -> "Projects":
    live = _LIVE.get(token)
    if live is None:
        live = _LIVE[token] = Projects(cache_dir, exclude, token, hints)  # spawned: built as it goes
    return live
