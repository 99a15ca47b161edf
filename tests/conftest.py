"""Helpers shared by the test modules.

Fixture files state their expectations inline: a line that must be reported ends with
``# expect: INI201`` (several codes comma-separated; repeat a code for two findings on one line).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import pytest

# fixture projects, models and notebooks are inputs of the tests, not tests (a fixture project has
# its own tests/test_model.py)
collect_ignore = ["projects", "data", "fixtures"]
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
EXPECT_RE = re.compile(r"#\s*expect:\s*(INI\d{3}(?:\s*,\s*INI\d{3})*)")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def expected_findings(path, codes: Optional[Iterable[str]] = None) -> List[Tuple[int, str]]:
    """``(line, code)`` for every ``# expect:`` comment in the file, sorted, duplicates kept.
    Only real comments count (tokenize, not a text search), so a string that mentions
    ``# expect:`` is no expectation. ``codes``: keep only these (e.g. the rules that exist)."""
    keep = None if codes is None else set(codes)
    source = Path(path).read_bytes()
    found = []
    for token in tokenize.tokenize(io.BytesIO(source).readline):
        if token.type == tokenize.COMMENT:
            match = EXPECT_RE.search(token.string)
            if match:
                for code in match.group(1).split(","):
                    code = code.strip()
                    if keep is None or code in keep:
                        found.append((token.start[0], code))
    return sorted(found)


def fixture_files() -> List[Path]:
    """Every Python file the front ends are compared on: rule fixtures, examples, test data."""
    files = list((ROOT / "tests" / "fixtures").rglob("*.py"))
    files += (ROOT / "examples").rglob("*.py")
    files += (DATA / "noqa").rglob("*.py")
    return sorted(files)


def relative(path) -> str:
    return Path(path).resolve().relative_to(ROOT).as_posix()


def run_cli(*args: str, cwd=None, input: Optional[str] = None, env: Optional[Dict[str, str]] = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m initlint ARGS`` in a subprocess: real exit codes, real stdout/stderr."""
    return subprocess.run(
        [sys.executable, "-m", "initlint", *args],
        cwd=cwd or ROOT, input=input, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def cli_json(*args: str, cwd=None) -> dict:
    result = run_cli("check", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def require_module(name: str, why: str) -> None:
    """Skip when an optional tool is missing, except in CI, where a missing tool is a failure: a
    test that silently skips there proves nothing."""
    if importlib.util.find_spec(name) is None:
        message = f"{name} is not installed ({why}); `pip install -e '.[dev]'`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_project(root: Path, files: Dict[str, str], name: str = "p") -> Path:
    """A project at ``root``: a ``pyproject.toml`` naming it and ``files`` (relative path -> text,
    dedented), folders made as needed."""
    import textwrap

    (root / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n')
    for relative_path, text in files.items():
        target = root / relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def bad_file(tmp_path) -> Path:
    """A copy of ``tests/data/cli/bad.py``, which has findings of several codes."""
    return write(tmp_path / "bad.py", (DATA / "cli" / "bad.py").read_text(encoding="utf-8"))


@pytest.fixture
def clean_file(tmp_path) -> Path:
    return write(tmp_path / "clean.py", (DATA / "cli" / "clean.py").read_text(encoding="utf-8"))
