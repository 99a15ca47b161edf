"""Finding the files to check and checking (or fixing) them, serially or across processes.

Every file goes through ``engine.check_file`` (``fixer.fix_file`` for ``fix_paths``), which never
raises; both share one worker map (``_run``). The runner adds what only a run
over many files can get wrong: paths that do not exist, files that are not regular files (a FIFO
would block ``open`` for ever), excluded directories, and a process that dies while checking (files
are checked in worker processes, one or more, so a crash costs only the file that caused it).

With a ``cache.Cache``, this process first answers every file the cache knows (reading and hashing
its bytes costs ~1/1000 of checking it); only the others go to the workers, which add what they
find. The output is sorted by path, so neither the cache nor the number of jobs changes it.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .engine import check_file, might_hold_findings
from .ftypes import FileError, FileReport, Settings
from .globs import path_matches
from .notebook import too_large

if TYPE_CHECKING:  # pragma: no cover
    from .cache import Cache

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".tox", ".nox", "node_modules", "build", "dist",
     ".initlint_cache", ".mypy_cache", ".pytest_cache", ".eggs", ".ipynb_checkpoints"}
)
# what a directory walk checks: Python files and Jupyter notebooks (read as one program: notebook.py)
SOURCE_SUFFIXES = (".py", ".ipynb")
# None: "fork" where it is safe (Linux, a single-threaded process: the CLI), else see _pool_context;
# tests may pin one
START_METHOD: Optional[str] = None
# below this many files per process, starting processes costs more than it saves
MIN_FILES_PER_JOB = 8
MAX_CHUNK = 64
CHUNKS_PER_JOB = 8  # more chunks balance the load better; each costs a round trip to a worker


def _norm(path: str) -> str:
    return os.path.normpath(path)


def is_excluded(path: str, patterns: Sequence[str]) -> bool:
    """A path matches an exclude glob by its name, by itself, or by any trailing part of its absolute
    path (``tests/fixtures`` excludes ``/repo/tests/fixtures``), as flake8 and ruff match."""
    return bool(patterns) and path_matches(path, patterns)


def _excluded_here_or_above(path: str, patterns: Sequence[str]) -> bool:
    """Folders above ``path`` count up to the working directory, not beyond (a walk never sees those)."""
    if not patterns:
        return False
    relative = os.path.relpath(os.path.abspath(path))
    if relative.startswith(os.pardir):
        return is_excluded(path, patterns)
    path = relative
    while path not in ("", "."):
        if is_excluded(path, patterns):
            return True
        path = os.path.dirname(path)
    return False


def discover(paths: Iterable[str], exclude: Sequence[str] = ()) -> Tuple[List[str], List[FileError]]:
    """The ``.py`` and ``.ipynb`` files under ``paths`` (sorted, without duplicates) and the paths
    that could not be used. A path named explicitly is checked whatever its suffix; directories are walked without
    following symbolic links to directories (so a link loop cannot hang us), skipping ``SKIP_DIRS``
    and anything matching ``exclude``. A symbolic link to a file is checked (a dangling one becomes
    an error when it is read)."""
    files: Dict[str, None] = {}
    errors: List[FileError] = []
    for given in paths:
        path = _norm(given)
        if _excluded_here_or_above(path, exclude):  # pre-commit names files inside excluded folders
            continue
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            if os.path.islink(path):  # a dangling link named explicitly: let reading it say why
                files[path] = None
            else:
                errors.append(FileError(path, f"cannot check: {exc.strerror or exc}"))
            continue
        if stat.S_ISDIR(mode):
            files.update(dict.fromkeys(_walk(path, exclude)))
        else:
            files[path] = None
    return sorted(files), errors


def _walk(root: str, exclude: Sequence[str]) -> Iterable[str]:
    def on_error(exc: OSError) -> None:
        unreadable.append(exc)

    unreadable: List[OSError] = []
    for directory, subdirs, names in os.walk(root, onerror=on_error):
        subdirs[:] = sorted(
            d for d in subdirs
            if d not in SKIP_DIRS and not d.endswith(".egg-info") and not is_excluded(os.path.join(directory, d), exclude)
        )
        for name in sorted(names):
            if name.endswith(SOURCE_SUFFIXES):
                path = _norm(os.path.join(directory, name))
                if not is_excluded(path, exclude):
                    yield path
    for exc in unreadable:
        # a directory we may not list: report it as a "file" that could not be checked
        yield exc.filename or root


def _check_one(path: str, settings: Settings, cache: "Optional[Cache]" = None, prefilter: bool = True,
               projects=None) -> FileReport:
    try:
        status = os.stat(path)
        mode = status.st_mode
    except OSError:
        status = mode = None  # let check_file report why it cannot be read
    if mode is not None and stat.S_ISDIR(mode):
        return FileReport(path, error=FileError(path, "cannot read: is a directory that cannot be listed"))
    if mode is not None and not stat.S_ISREG(mode):
        return FileReport(path, error=FileError(path, "cannot read: not a regular file"))
    large = too_large(path, status.st_size) if status is not None else None
    if large:
        return FileReport(path, error=FileError(path, large))
    options = {} if cache is None else {"cache": cache}
    if not prefilter:
        options["prefilter"] = False
    if projects is not None:
        options["projects"] = projects
    return check_file(path, settings, **options)


def _check_chunk(paths: Sequence[str], settings: Settings, cache=None, prefilter: bool = True,
                 projects=None) -> List[FileReport]:
    return [_check_one(path, settings, cache, prefilter, projects) for path in paths]


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _chunks(paths: Sequence[str], jobs: int) -> List[Sequence[str]]:
    """Work for the pool, largest files first and in chunks of about equal bytes, so that no
    worker is left with a 10,000-line file while the others idle. Bytes stand for cost: a file
    the prefilter rejects costs far less per byte, which only makes its chunk finish early. The
    order of the results does not depend on this: they are sorted by path."""
    sized = sorted(((_size(p), p) for p in paths), key=lambda item: -item[0])
    budget = max(1, sum(size for size, _ in sized) // (jobs * CHUNKS_PER_JOB))
    chunks: List[List[str]] = []
    current: List[str] = []
    filled = 0
    for size, path in sized:
        current.append(path)
        filled += size
        if filled >= budget or len(current) >= MAX_CHUNK:
            chunks.append(current)
            current, filled = [], 0
    if current:
        chunks.append(current)
    return chunks


def _crashed(path: str, why: str = "the process checking this file died") -> FileReport:
    return FileReport(path, error=FileError(path, f"internal error: {why}"))


def _single_threaded() -> bool:
    try:  # native threads too (a framework's thread pool), which threading does not see
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


def _fork_context():
    """``fork`` where it is cheap and safe: Linux, and this process has a single thread, as the CLI
    has. Forking a multithreaded process (one that imported JAX, say) can deadlock the child."""
    if START_METHOD is not None:
        return multiprocessing.get_context(START_METHOD)
    if sys.platform.startswith("linux") and _single_threaded():
        return multiprocessing.get_context("fork")
    return None


def _pool_context():
    """For ``jobs > 1`` where fork is not safe: a fork server started from a clean state on Linux,
    the platform's default (spawn) elsewhere."""
    context = _fork_context()
    if context is None and sys.platform.startswith("linux"):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["initlint.runner", "initlint.rules"])
    return context


def _map_isolated(task: Callable, paths: Sequence[str], context, crashed: Callable) -> Dict[str, object]:
    """Re-run files after a worker died: one file at a time in one worker process, so a file
    whose handling kills the process is known (``crashed(path)`` stands for its result), and a
    fresh process takes the rest."""
    done: Dict[str, object] = {}
    remaining = list(paths)
    while remaining:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            while remaining:
                path = remaining.pop(0)
                try:
                    done[path] = pool.submit(task, [path]).result()[0]
                except BrokenProcessPool:
                    done[path] = crashed(path)
                    break
                except Exception as exc:  # pragma: no cover - the tasks catch everything they can
                    done[path] = crashed(path, f"{type(exc).__name__}: {exc}")
    return done


def _map_in_workers(task: Callable, paths: Sequence[str], jobs: int, context, crashed: Callable,
                    progress: Optional[Callable[[int], None]] = None) -> list:
    """``task(chunk)`` (one result with a ``.path`` per file of the chunk) over ``paths`` in ``jobs``
    worker processes; the results in the order of ``paths``. The files of a worker that died are
    re-run one at a time (``_map_isolated``)."""
    results: Dict[str, object] = {}
    suspects: List[str] = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {}
        for chunk in _chunks(paths, jobs):
            try:
                futures[pool.submit(task, chunk)] = chunk
            except BrokenProcessPool:  # a worker already died: what is not submitted is retried below
                suspects.extend(chunk)
        for future in as_completed(futures):
            try:
                for result in future.result():
                    results[result.path] = result
            except Exception:  # BrokenProcessPool, or a result that would not pickle
                suspects.extend(futures[future])
            if progress is not None:
                progress(len(results))
    if suspects:
        results.update(_map_isolated(task, sorted(suspects), context, crashed))
    return [results[path] for path in paths]


def resolve_jobs(jobs: Optional[int]) -> int:
    return jobs if jobs else (os.cpu_count() or 1)


def check_paths(paths: Iterable[str], settings: Optional[Settings] = None, jobs: Optional[int] = 1,
                exclude: Sequence[str] = (), isolate: bool = True, cache: "Optional[Cache]" = None,
                prefilter: bool = True, progress: Optional[Callable[[int, int], None]] = None,
                project: bool = True) -> List[FileReport]:
    """One report per file under ``paths`` (and per path that could not be used), sorted by path.

    ``jobs``: processes to use; 0 or ``None`` means one per CPU; the output does not depend on it.
    ``isolate``: check in a forked worker even when ``jobs`` is 1 (where forking is safe), so that
    input which crashes the native parser (a segfault on absurd nesting) costs that one file, not
    the run. ``cache``: a ``cache.Cache`` opened for these settings; the output does not depend on
    it either. ``prefilter=False`` parses every file, even those whose text shows they cannot hold
    a finding (for tests of the prefilter; the cache is not used then). ``progress(done, total)``
    is called as files are done (from worker processes' results; a run in one process reports once).
    ``project``: each file is checked as part of its project (``project/``: imports between its
    modules resolved through their summaries, wherever the project's other files are, named here
    or not); False checks every file alone."""
    settings = settings or Settings()
    paths = list(paths)
    files, errors = discover(paths, exclude)
    if not prefilter:
        cache = None
    projects = _projects(paths, files, exclude, cache.directory if cache is not None else None, jobs) \
        if project else None
    known: Dict[str, FileReport] = {}
    if cache is not None:
        known, files = cache.lookup_all(files, projects)
    task = partial(_check_chunk, settings=settings, cache=cache, prefilter=prefilter, projects=projects)
    counted = None
    if progress is not None:
        total, base = len(files) + len(known), len(known)
        counted = lambda done: progress(base + done, total)  # noqa: E731
    reports = _run(task, files, settings, jobs, isolate, _crashed, counted)
    reports.extend(known.values())
    reports.extend(FileReport(e.path, error=e) for e in errors)
    return sorted(reports, key=lambda r: r.path)


def _run(task: Callable, paths: Sequence[str], settings: Settings, jobs: Optional[int], isolate: bool,
         crashed: Callable, progress: Optional[Callable[[int], None]] = None) -> list:
    """``task`` over ``paths``: in worker processes when there are enough files for ``jobs`` > 1,
    in one forked worker when ``isolate`` (where forking is safe), else in this process."""
    jobs = min(resolve_jobs(jobs), max(1, len(paths) // MIN_FILES_PER_JOB))
    # isolation is worth a fork, not a spawn: where fork is unsafe, one job runs in this process
    context = _pool_context() if jobs > 1 else _fork_context() if isolate else None
    if paths and (jobs > 1 or context is not None):
        from .rule import all_rules

        all_rules()  # import the rules (and build the prefilter) once here, before the workers fork
        might_hold_findings("", settings)
        try:
            return _map_in_workers(task, paths, jobs, context, crashed, progress)
        except (OSError, NotImplementedError):  # no processes here (no /dev/shm, a sandbox): do without
            pass
    return task(paths)


def _projects(paths: Sequence[str], files: Sequence[str], exclude: Sequence[str], cache_dir: Optional[str],
              jobs: Optional[int] = 1):
    """The ``project.Projects`` of a run over ``paths``, shared with the workers it will fork."""
    from .project import Projects

    # the whole-project scans happen here, once, before the workers fork (they inherit them); the
    # files they read are read by ``jobs`` processes (a big project's scan is most of the wait)
    folders = tuple(sorted({os.path.abspath(p) for p in paths if os.path.isdir(p)}, key=len))
    projects = Projects(cache_dir, tuple(exclude), hints=folders).share()
    jobs = resolve_jobs(jobs)
    try:
        projects.prepare(files, partial(_map_forked, jobs=jobs) if jobs > 1 else None)
    except Exception:  # a project that cannot be scanned: each worker reads what it needs, or less
        pass
    return projects


def _map_forked(task: Callable, items: Sequence, jobs: int) -> Optional[list]:
    """``task(part)`` (a list of results, one per item of the part) over ``items`` in ``jobs``
    forked processes, the results in the order of ``items``; None where forking is not safe or a
    worker died (the caller then does the work itself). Each process takes every ``jobs``-th item,
    which spreads a run of large files over them."""
    context = _fork_context()
    if context is None:
        return None
    parts = [list(items[i::jobs]) for i in range(jobs)]
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            done = list(pool.map(task, parts))
    except Exception:  # BrokenProcessPool, no processes here (no /dev/shm), a result that would not pickle
        return None
    results: list = [None] * len(items)
    for i, part in enumerate(done):
        results[i::jobs] = part
    return results


def fix_paths(files: Sequence[str], settings: Settings, unsafe: bool = False, write: bool = True,
              jobs: Optional[int] = 1, project: bool = True, paths: Sequence[str] = (),
              exclude: Sequence[str] = (), cache_dir: Optional[str] = None) -> list:
    """``fixer.fix_file`` over ``files`` (as ``discover`` found them): one ``FixResult`` each, in
    their order. With ``jobs`` > 1 (0 or None: one per CPU) in worker processes as a check runs,
    so a file that crashes the parser costs only itself (each write is atomic: a worker that dies
    leaves its file whole); with one job in this process, writing the files in their order.
    ``project``: each file is fixed as it is checked, with its project (the folders named in
    ``paths`` place it, as for ``check_paths``; ``cache_dir``: where its summaries are kept), so
    that ``--fix`` fixes what ``check`` reports."""
    projects = _projects(paths or files, files, exclude, cache_dir, jobs) if project else None
    task = partial(_fix_chunk, settings=settings, unsafe=unsafe, write=write, projects=projects)
    return _run(task, list(files), settings, jobs, False, _crashed_fix)


def _fix_chunk(paths: Sequence[str], settings: Settings, unsafe: bool, write: bool, projects=None) -> list:
    from .fixer import fix_file

    return [fix_file(path, settings, unsafe=unsafe, write=write, projects=projects) for path in paths]


def _crashed_fix(path: str, why: str = "the process fixing this file died"):
    from .fixer import FixResult

    return FixResult(path, "", "", error=f"internal error: {why}", crashed=True)
