"""Every file of the big frameworks parses or is reported: ``initlint check`` over the ``.py`` files
of the installed torch, tensorflow, keras, jax, flax, transformers and timm, through the real CLI.

Zero crashes (no "internal error", no traceback, exit 0/1 under ``--exit-zero``), every file
accounted for (checked or in ``errors``), and every error entry has a reason and names a file that
really does not compile (or decode, or read) for the Python running the tests.

The packages are located without importing them (``find_spec``'s search locations) and walked
whole, the directories the CLI would skip (``build``, ``dist``, …) included: every file is named on
the command line. Marked slow (``INITLINT_SLOW=1``; always in CI), on a deterministic sample of
every ``k``-th file (at most ``SAMPLE_SIZE`` files, spread over the packages by their sizes: about
70 s on 2 busy cores); ``INITLINT_SITE_PACKAGES=all`` checks every file (8,978 with torch 2.13:
about 17 minutes on 2 busy cores), and
``INITLINT_SITE_PACKAGES_REPORT=FILE`` writes the counts as JSON. A package that is not installed is
skipped, except in CI, where it fails.
"""

from __future__ import annotations

import ast
import collections
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from conftest import IN_CI

PACKAGES = ("torch", "tensorflow", "keras", "jax", "flax", "transformers", "timm")
RUN_SLOW = IN_CI or os.environ.get("INITLINT_SLOW", "") not in ("", "0")
WHOLE = os.environ.get("INITLINT_SITE_PACKAGES", "").lower() == "all"
SAMPLE_SIZE = 1500
BATCH = 1000  # files per CLI run: keeps the command line and each JSON document modest


def locations(name: str) -> List[str]:
    """The package's directories, found without importing it (``find_spec`` of a top-level name
    runs nothing of the package)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # imported already by another test, without a spec
        module = sys.modules.get(name)
        return sorted(set(getattr(module, "__path__", ()) or ()))
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted(set(spec.submodule_search_locations))


def package_files(name: str) -> List[str]:
    files = []
    for root in locations(name):
        for directory, subdirs, names in os.walk(root):  # links to directories are not followed
            subdirs.sort()
            files.extend(os.path.join(directory, n) for n in sorted(names) if n.endswith(".py"))
    return files


def corpus() -> Dict[str, List[str]]:
    found, missing = {}, []
    for name in PACKAGES:
        files = package_files(name)
        if files:
            found[name] = files
        else:
            missing.append(name)
    if missing:
        message = f"not installed: {', '.join(missing)} (`pip install -e '.[all,dev]'` and timm)"
        if IN_CI:
            pytest.fail(message)
        if not found:
            pytest.skip(message)
        warnings.warn(message)
    return found


def sample(files: List[str], size: int) -> List[str]:
    """Every k-th file, deterministically (the same files on every run of the same install)."""
    step = max(1, -(-len(files) // size))
    return files[::step]


def why_it_does_not_compile(path: str) -> Optional[str]:
    """None if CPython reads, decodes and compiles the file; else why not."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return f"read: {exc}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        return f"{type(exc).__name__}: {exc.msg}"
    except (ValueError, UnicodeDecodeError, LookupError, RecursionError, MemoryError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def kind_of(message: str) -> str:
    """An error message without its positions and details, for the summary."""
    kind = re.sub(r"line \d+, column \d+", "line L, column C", message)
    return re.sub(r"\d+", "N", kind)[:80]


def run_check(files: List[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "initlint", "check", "--format", "json", "--isolated", "--exit-zero", "--no-cache",
         "--jobs", os.environ.get("INITLINT_SITE_PACKAGES_JOBS", "2"), *files],
        cwd=cwd, capture_output=True, text=True, timeout=3600,
    )


@pytest.mark.slow
@pytest.mark.skipif(not RUN_SLOW, reason="minutes of real code: INITLINT_SLOW=1 (always in CI)")
def test_every_installed_framework_file_parses_or_is_reported(tmp_path):
    found = corpus()
    chosen = {name: files if WHOLE else sample(files, max(1, SAMPLE_SIZE * len(files) // sum(map(len, found.values()))))
              for name, files in found.items()}
    paths = [path for files in chosen.values() for path in files]
    started = time.monotonic()
    checked = findings = 0
    errors: Dict[str, str] = {}
    problems: List[str] = []
    for first in range(0, len(paths), BATCH):
        batch = paths[first:first + BATCH]
        result = run_check(batch, tmp_path)
        if "Traceback" in result.stderr or result.returncode not in (0, 1):
            problems.append(f"exit {result.returncode} on files {first}..{first + len(batch)}: {result.stderr[-3000:]}")
            continue
        document = json.loads(result.stdout)
        checked += document["files_checked"]
        findings += len(document["findings"])
        reported = {entry["path"]: entry["message"] for entry in document["errors"]}
        errors.update(reported)
        if document["files_checked"] + len(reported) != len(batch) or not set(reported) <= set(batch):
            problems.append(f"files {first}..{first + len(batch)}: {document['files_checked']} checked and "
                            f"{len(reported)} errors for {len(batch)} files")
    elapsed = time.monotonic() - started

    crashes = {path: message for path, message in errors.items() if "internal error" in message}
    problems += [f"{path}: crash: {message}" for path, message in crashes.items()]
    problems += [f"{path}: error entry without a reason" for path, message in errors.items() if not message.strip()]
    for path, message in errors.items():
        if why_it_does_not_compile(path) is None:
            problems.append(f"{path}: reported ({message}) but CPython compiles it")
    kinds = collections.Counter(kind_of(message) for message in errors.values())
    summary = {
        "python": sys.version.split()[0], "whole": WHOLE, "files": len(paths), "files_checked": checked,
        "findings": findings, "errors": len(errors), "crashes": len(crashes), "seconds": round(elapsed, 1),
        "per_package": {name: len(files) for name, files in chosen.items()},
        "error_kinds": dict(kinds.most_common()),
        "error_files": {os.path.relpath(p, os.path.dirname(os.path.dirname(p))): m for p, m in sorted(errors.items())},
    }
    if os.environ.get("INITLINT_SITE_PACKAGES_REPORT"):
        Path(os.environ["INITLINT_SITE_PACKAGES_REPORT"]).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "error_files"}, indent=1))
    assert problems == []
    assert checked + len(errors) == len(paths)
