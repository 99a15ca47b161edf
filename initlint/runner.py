"""Finding the files to check and checking them, serially or across processes.

Every file goes through ``engine.check_file``, which never raises; the runner adds what only a run
over many files can get wrong: paths that do not exist, files that are not regular files (a FIFO
would block ``open`` for ever), excluded directories, and a worker process that dies.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .engine import check_file
from .ftypes import FileError, FileReport, Settings

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".tox", ".nox", "node_modules", "build", "dist",
     ".initlint_cache", ".mypy_cache", ".pytest_cache", ".eggs"}
)
# below this many files per process, starting processes costs more than it saves
MIN_FILES_PER_JOB = 8
MAX_CHUNK = 64


def _norm(path: str) -> str:
    return os.path.normpath(path)


def is_excluded(path: str, patterns: Sequence[str]) -> bool:
    """A path matches an exclude glob by its name, by itself, or by any trailing part of its absolute
    path (``tests/fixtures`` excludes ``/repo/tests/fixtures``), as flake8 and ruff match."""
    if not patterns:
        return False
    path = _norm(path)
    candidates = {os.path.basename(path), path.replace(os.sep, "/"), os.path.abspath(path).replace(os.sep, "/")}
    for pattern in patterns:
        pattern = pattern.rstrip("/").replace(os.sep, "/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, pattern) or fnmatch.fnmatchcase(candidate, "*/" + pattern):
                return True
    return False


def discover(paths: Iterable[str], exclude: Sequence[str] = ()) -> Tuple[List[str], List[FileError]]:
    """The ``.py`` files under ``paths`` (sorted, without duplicates) and the paths that could not be
    used. A path named explicitly is checked whatever its suffix; directories are walked without
    following symbolic links to directories (so a link loop cannot hang us), skipping ``SKIP_DIRS``
    and anything matching ``exclude``. A symbolic link to a file is checked (a dangling one becomes
    an error when it is read)."""
    files: Dict[str, None] = {}
    errors: List[FileError] = []
    for given in paths:
        path = _norm(given)
        if is_excluded(path, exclude):
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
            if name.endswith(".py"):
                path = _norm(os.path.join(directory, name))
                if not is_excluded(path, exclude):
                    yield path
    for exc in unreadable:
        # a directory we may not list: report it as a "file" that could not be checked
        yield exc.filename or root


def _check_one(path: str, settings: Settings) -> FileReport:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # let check_file report why it cannot be read
    if mode is not None and stat.S_ISDIR(mode):
        return FileReport(path, error=FileError(path, "cannot read: is a directory that cannot be listed"))
    if mode is not None and not stat.S_ISREG(mode):
        return FileReport(path, error=FileError(path, "cannot read: not a regular file"))
    return check_file(path, settings)


def _check_chunk(paths: Sequence[str], settings: Settings) -> List[FileReport]:
    return [_check_one(path, settings) for path in paths]


def _chunks(paths: Sequence[str], jobs: int) -> List[Sequence[str]]:
    size = max(1, min(MAX_CHUNK, -(-len(paths) // (jobs * 4))))
    return [paths[i:i + size] for i in range(0, len(paths), size)]


def _crashed(path: str) -> FileReport:
    return FileReport(path, error=FileError(path, "internal error: the process checking this file died"))


def _check_isolated(paths: Sequence[str], settings: Settings) -> Dict[str, FileReport]:
    """Re-check files after a worker died, one process at a time, in order: the first file whose
    future fails is the one that kills its process; everything after it is tried again."""
    done: Dict[str, FileReport] = {}
    remaining = list(paths)
    while remaining:
        with ProcessPoolExecutor(max_workers=1) as pool:
            futures = [pool.submit(_check_one, path, settings) for path in remaining]
            for index, future in enumerate(futures):
                try:
                    done[remaining[index]] = future.result()
                except BrokenProcessPool:
                    done[remaining[index]] = _crashed(remaining[index])
                    remaining = remaining[index + 1:]
                    break
                except Exception as exc:  # pragma: no cover - check_file catches everything it can
                    done[remaining[index]] = FileReport(
                        remaining[index], error=FileError(remaining[index], f"internal error: {type(exc).__name__}: {exc}"))
            else:
                remaining = []
    return done


def _check_parallel(paths: Sequence[str], settings: Settings, jobs: int) -> List[FileReport]:
    from .rule import all_rules

    all_rules()  # import the rules once here, before the workers fork
    reports: Dict[str, FileReport] = {}
    suspects: List[str] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_check_chunk, chunk, settings): chunk for chunk in _chunks(paths, jobs)}
        for future in as_completed(futures):
            try:
                for report in future.result():
                    reports[report.path] = report
            except Exception:  # BrokenProcessPool, or a report that would not pickle
                suspects.extend(futures[future])
    if suspects:
        reports.update(_check_isolated(sorted(suspects), settings))
    return [reports[path] for path in paths]


def resolve_jobs(jobs: Optional[int]) -> int:
    return jobs if jobs else (os.cpu_count() or 1)


def check_paths(paths: Iterable[str], settings: Optional[Settings] = None, jobs: Optional[int] = 1,
                exclude: Sequence[str] = ()) -> List[FileReport]:
    """One report per file under ``paths`` (and per path that could not be used), sorted by path.
    ``jobs``: processes to use; 0 or ``None`` means one per CPU. Output does not depend on it."""
    settings = settings or Settings()
    files, errors = discover(paths, exclude)
    jobs = min(resolve_jobs(jobs), max(1, len(files) // MIN_FILES_PER_JOB))
    if jobs > 1:
        reports = _check_parallel(files, settings, jobs)
    else:
        reports = _check_chunk(files, settings)
    reports.extend(FileReport(e.path, error=e) for e in errors)
    return sorted(reports, key=lambda r: r.path)
