"""A cache of results, so that an unchanged file is not checked again (``.initlint_cache``, like ruff's).

What a file yields is a function of its bytes, of the two facts the engine reads from its path (the
package its relative imports resolve against; whether it is a pytest file), of the rules that run
with their options, and of initlint's own code. So:

* the *run key* hashes initlint's version, the source of the package that decides findings
  (engine, analysis, catalogue, rules, noqa, prefilter: a code change invalidates the cache even
  without a version bump), the Python and libcst versions (they decide what parses), and the
  enabled rules with their options. It names a folder: ``<cache dir>/<run key>/``;
* the *entry key* hashes the file's content with those two path facts (and a third: a ``.ipynb``
  is read as a notebook). An entry holds the findings without their path (a notebook's with
  their cell), or the error that made the file uncheckable (a notebook's error about one cell,
  with the other cells' findings); the path is filled in when it is read back, so moving a file
  or checking it through another path costs nothing.
* a file checked as part of its project (``project/``) also depends on the other files its
  analysis consulted: the entry lists them (path relative to the project root, content hash) with
  a digest of the project's file list, and is used only while they all still match, so changing
  ``models/net.py`` re-checks the ``utils/init.py`` whose finding it completes. The summaries of
  the project's modules are cached here too (``summaries/``, by content).

Entries are lines ``[entry key, entry]`` of JSON appended to logs in the run key's folder, one
log per writing process (``log-<pid>-<random>.jsonl``), each line in one ``write`` to a file
opened for appending: parallel writers (worker processes, two runs at once) never share a log,
and a reader skips a line it cannot read (one being written, or damaged). One file per entry, as
before, cost a file creation and a rename each: on a cold run of 1,500 files, a second of system
time. A process reads the folder's logs once (``lookup_all``, before the workers fork: they
inherit what it read); when a run finds more than ``MAX_LOGS`` logs it merges them into one pack
(written beside them and renamed into place; a log still being appended to by another run loses
what it writes after: misses, never wrong answers). Only a file the engine could check, or could
not parse, is cached; unreadable files and internal errors are tried again next time. The cache
never fails a run: an entry it cannot read is a miss, one it cannot write is skipped. Folders of
run keys not used recently are removed beyond ``KEEP_RUNS``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Tuple

from .ftypes import FileError, FileReport, Finding, Settings

CACHE_DIR_NAME = ".initlint_cache"
KEEP_RUNS = 8  # run-key folders kept (settings and versions in use side by side)
_FORMAT = 2  # bump when the entry layout changes (2: appended logs, not one file per entry)
MAX_LOGS = 16  # logs in a run folder beyond which the next run merges them into one pack
# initlint's code that does not decide static findings: editing it keeps the cache
_NOT_CHECKING = ("verify", "cli.py", "formats.py", "fixer.py", "flake8_plugin.py", "docs.py", "__main__.py",
                 "config.py", "runner.py", "cache.py", "notebook_fix.py",
                 "notebook_text.py")
_CACHEDIR_TAG = (b"Signature: 8a477f597d28d172789f06886806bc55\n"
                 b"# This file is a cache directory tag created by initlint.\n"
                 b"# For information about cache directory tags see https://bford.info/cachedir/\n")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the source of the initlint modules that decide findings."""
    package = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.blake2b(digest_size=16)
    for directory, subdirs, names in os.walk(package):
        relative = os.path.relpath(directory, package)
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not (relative == "." and d in _NOT_CHECKING))
        for name in sorted(names):
            if not name.endswith(".py") or (relative == "." and name in _NOT_CHECKING):
                continue
            path = os.path.join(directory, name)
            digest.update(os.path.relpath(path, package).replace(os.sep, "/").encode() + b"\0")
            with open(path, "rb") as handle:
                digest.update(handle.read() + b"\0")
    return digest.hexdigest()


def _libcst_version() -> str:
    try:
        from libcst._version import __version__  # importlib.metadata would cost 25 ms of start-up

        return __version__
    except ImportError:  # pragma: no cover - another layout
        from importlib.metadata import version

        return version("libcst")


def run_key(settings: Settings) -> str:
    """The part of the cache key shared by every file of a run (see the module docstring)."""
    from . import __version__
    from .engine import _enabled_rules

    rules = _enabled_rules(settings)
    parts = {
        "format": _FORMAT,
        "initlint": __version__,
        "code": code_fingerprint(),
        "python": list(sys.version_info[:2]),
        "libcst": _libcst_version(),
        "rules": [rule.code for rule in rules],
        "options": sorted((str(k), repr(v)) for k, v in settings.options),
        "skip_test_files": sorted(rule.code for rule in rules if rule.skip_test_files),
    }
    return hashlib.blake2b(json.dumps(parts, sort_keys=True).encode(), digest_size=12).hexdigest()


def default_directory(config_source: Optional[str] = None) -> str:
    """``.initlint_cache`` beside the ``pyproject.toml`` the settings came from, else in the
    working directory (as ruff places ``.ruff_cache``)."""
    base = os.path.dirname(os.path.abspath(config_source)) if config_source else os.getcwd()
    return os.path.join(base, CACHE_DIR_NAME)


@dataclass(frozen=True)
class Cache:
    """The results of one run's settings in one cache directory. Cheap to pickle (worker processes
    get a copy)."""

    directory: str
    run: str
    settings: Settings = Settings()  # for the per-file ignores, which depend on the path

    @classmethod
    def open(cls, directory: str, settings: Settings) -> "Cache":
        cache = cls(os.path.abspath(directory), run_key(settings), settings)
        cache._prepare()
        return cache

    @property
    def folder(self) -> str:
        return os.path.join(self.directory, self.run)

    # -- keys and entries ------------------------------------------------------------------------

    def key(self, data: bytes, path: str, projects=None) -> str:
        from .engine import is_test_file, package_of

        digest = hashlib.blake2b(data, digest_size=20)
        digest.update(b"\0" + (package_of(path) or "").encode("utf-8", "surrogateescape"))
        digest.update(b"\0" + (b"test" if is_test_file(path) else b""))
        digest.update(b"\0" + (b"project" if projects is not None else b""))
        # the same text under another path may have other per-file ignores
        digest.update(b"\0" + ",".join(sorted(self.settings.ignored_here(path))).encode())
        if path.endswith(".ipynb"):  # the same bytes read as a notebook, not as Python
            digest.update(b"\0notebook")
        return digest.hexdigest()

    def get(self, key: str, path: str, projects=None) -> Optional[FileReport]:
        """The report cached under ``key``, for the file at ``path``; None when there is none, or
        when a file of the project it depends on has changed since (``projects``)."""
        entry = _entries(self.folder).known().get(key)
        if entry is None:
            return None
        try:
            if entry.get("deps") is not None and not _unchanged(entry["deps"], path, projects):
                return None
            # a notebook's entry also holds cell numbers: its findings' last field, its error's "cell"
            error = None
            if "error" in entry:
                error = FileError(path, entry["error"], *entry.get("at", ()), cell=entry.get("cell"))
                if "findings" not in entry:
                    return FileReport(path, error=error)
            return FileReport(path, tuple(Finding(path, *fields) for fields in entry["findings"]), error)
        except (OSError, ValueError, TypeError, KeyError):  # not an entry we wrote
            return None

    def put(self, key: str, report: FileReport, deps: Optional[dict] = None) -> None:
        """Remember ``report`` (a file that was checked, or that did not parse) under ``key``;
        ``deps``: the other files of its project it depends on (``ProjectView.dependencies``)."""
        entry = {}
        if report.error is not None:
            entry.update({"error": report.error.message, "at": [report.error.line, report.error.column]})
            if report.error.cell is not None:  # a notebook with a cell that does not parse: checked but for it
                entry["cell"] = report.error.cell
        if report.error is None or report.error.cell is not None:
            entry["findings"] = [[f.line, f.column, f.end_line, f.end_column, f.code, f.name, f.message, f.framework,
                                  f.fix] + ([f.cell] if f.cell is not None else []) for f in report.findings]
        if deps is not None and report.error is None:
            entry["deps"] = deps
        _entries(self.folder).append(key, entry)

    def lookup(self, path: str, projects=None) -> Optional[FileReport]:
        """The cached report of the file at ``path`` as it is now; None if it has none (or it is
        not a regular file, which only ``check_file`` may open)."""
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return None
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        return self.get(self.key(data, path, projects), path, projects)

    def lookup_all(self, paths: Iterable[str], projects=None) -> Tuple[dict, List[str]]:
        """``({path: report}, [paths not in the cache])``."""
        paths = list(paths)
        if not _entries(self.folder).reload():  # what every process has written so far, read once per run
            return {}, paths  # a cold cache: nothing to read
        found, missing = {}, []
        for path in paths:
            report = self.lookup(path, projects)
            if report is None:
                missing.append(path)
            else:
                found[path] = report
        return found, missing

    # -- the directory -----------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Create the directory with its tag and ``.gitignore``, mark this run key as used, prune."""
        try:
            os.makedirs(self.folder, exist_ok=True)
            mark_directory(self.directory)
            now = time.time()
            os.utime(self.folder, (now, now))
            self._prune()
            _entries(self.folder).merge_logs()
        except OSError:
            pass

    def _prune(self) -> None:
        runs = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and entry.name not in (self.run, "summaries"):
                    runs.append((entry.stat(follow_symlinks=False).st_mtime, entry.path))
        for _mtime, folder in sorted(runs, reverse=True)[KEEP_RUNS - 1:]:
            _remove_tree(folder)


class _Entries:
    """One process's view of a run folder's entries: the ones it has read or written, and the log
    it appends to (opened again in a forked child, which must not share its parent's)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._known: Optional[dict] = None
        self._read: List[str] = []  # the logs and packs read into _known
        self._log: Optional[Tuple[int, int]] = None  # (pid, file descriptor)

    def known(self) -> dict:
        """The entries read (once) and written here."""
        return self._known if self._known is not None else self.reload()

    def reload(self) -> dict:
        """The entries on disk now (another process may have written some since they were read)."""
        self._known, self._read = _read_entries(self.folder)
        return self._known

    def append(self, key: str, entry: dict) -> None:
        line = _line(key, entry)
        try:
            if self._log is None or self._log[0] != os.getpid():
                os.makedirs(self.folder, exist_ok=True)
                name = f"{_LOG}{os.getpid()}-{os.urandom(4).hex()}.jsonl"
                flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL | getattr(os, "O_BINARY", 0)
                self._log = (os.getpid(), os.open(os.path.join(self.folder, name), flags, 0o644))
            os.write(self._log[1], line)  # one write per entry: a reader sees all of it or skips it
        except OSError:  # read-only tree, disk full, a folder pruned by another run: stay uncached
            return
        if self._known is not None:
            self._known[key] = entry

    def merge_logs(self) -> None:
        """More than ``MAX_LOGS`` logs: their entries (and the packs') into one pack, then the
        files read removed. Another run appending to one of them meanwhile loses what it adds."""
        try:
            logs = [name for name in os.listdir(self.folder) if name.startswith(_LOG)]
        except OSError:
            return
        if len(logs) <= MAX_LOGS:
            return
        known, read = _read_entries(self.folder)
        target = os.path.join(self.folder, f"{_PACK}{os.urandom(6).hex()}.jsonl")
        write_atomically(target, b"".join(_line(key, entry) for key, entry in known.items()))
        for name in read:
            _remove(os.path.join(self.folder, name))
        self._known, self._read = known, [os.path.basename(target)]


def _line(key: str, entry: dict) -> bytes:
    """An entry as a log or pack holds it: one line of JSON."""
    return (json.dumps([key, entry], separators=(",", ":")) + "\n").encode()


_LOG, _PACK = "log-", "pack-"
# the run folders this process has opened (a forked worker inherits its parent's, entries read included)
_OPEN: Dict[str, _Entries] = {}


def _entries(folder: str) -> _Entries:
    state = _OPEN.get(folder)
    if state is None:
        state = _OPEN[folder] = _Entries(folder)
    return state


def _read_entries(folder: str) -> Tuple[dict, List[str]]:
    """``({key: entry}, names of the files read)`` from a run folder's packs, then its logs; a line
    that is not a whole ``[key, entry]`` is skipped, and a later line for a key wins."""
    try:
        names = sorted((name for name in os.listdir(folder) if name.startswith((_PACK, _LOG))),
                       key=lambda name: not name.startswith(_PACK))
    except OSError:
        return {}, []
    known: dict = {}
    read = []
    for name in names:
        try:
            with open(os.path.join(folder, name), "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        read.append(name)
        for line in data.split(b"\n")[:-1]:  # the last piece has no newline: being written, or cut
            try:
                key, entry = json.loads(line)
            except (ValueError, TypeError):
                continue
            if isinstance(key, str) and _well_formed(entry):
                known[key] = entry
    return known, read


def _well_formed(entry) -> bool:
    """Is ``entry`` shaped as ``put`` writes one (a damaged line must not shadow a good one)?"""
    if not isinstance(entry, dict) or not ("findings" in entry or isinstance(entry.get("error"), str)):
        return False
    findings = entry.get("findings", [])
    return isinstance(findings, list) and all(isinstance(f, list) and 9 <= len(f) <= 10 for f in findings)


def mark_directory(directory: str) -> None:
    """The cache directory's tag and ``.gitignore`` (so that git and backup tools leave it alone)."""
    for name, content in (("CACHEDIR.TAG", _CACHEDIR_TAG), (".gitignore", b"# created by initlint\n*\n")):
        marker = os.path.join(directory, name)
        if not os.path.exists(marker):
            with open(marker, "wb") as handle:
                handle.write(content)


def _unchanged(deps: dict, path: str, projects) -> bool:
    """Do the files a project check of ``path`` depended on still hold what they held?"""
    if projects is None or not isinstance(deps, dict):
        return False
    project = projects.project_of(path)
    for relative, digest in deps.items():
        if relative == "":
            if digest != project.layout:
                return False
        elif project.file_hash(os.path.join(project.root, relative)) != digest:
            return False
    return True


def write_json(target: str, data) -> None:
    """``data`` as compact JSON in ``target``, atomically (a temporary file beside it, renamed over
    it): a reader sees the old entry or the new one, never half of one."""
    write_atomically(target, json.dumps(data, separators=(",", ":")).encode())


def write_atomically(target: str, content: bytes) -> None:
    """``content`` in ``target`` through a temporary file beside it, renamed over it."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".tmp-",
                                         suffix=os.path.splitext(target)[1])
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, target)
    except BaseException:
        _remove(temporary)
        raise


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _remove_tree(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
