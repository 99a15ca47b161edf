"""Real ``flake8 --select INI`` and ``initlint check`` agree, position for position.

Both front ends run on the same files (every rule fixture, every example, the noqa data) and must
report the same (path, line, column, code, message) — including on lines carrying ``# noqa``.
flake8 runs as a subprocess of this interpreter, with the plugin found through its entry point
(``pip install -e .``): if flake8 or the plugin is missing, CI fails here instead of skipping.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

import pytest

from conftest import DATA, ROOT, cli_json, expected_findings, fixture_files, relative, require_module
from initlint.rule import all_rules

FLAKE8_LINE_RE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<message>.*)$")

Key = Tuple[str, int, int, str, str]


def _params(files: Iterable[Path]):
    return [pytest.param(relative(p), id=relative(p)) for p in files]


def _require_flake8_with_plugin() -> None:
    require_module("flake8", "the flake8 front end is tested against real flake8")
    version = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert version.returncode == 0, version.stderr
    assert "initlint:" in version.stdout, f"flake8 does not load the initlint plugin (pip install -e .): {version.stdout}"


def run_flake8(paths: List[str], *args: str, stdin: str = None) -> Tuple[int, List[Key], str]:
    """``flake8 --isolated ARGS PATHS`` (no user or project flake8 config); its INI findings."""
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args, *paths],
        cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr
    findings = []
    for line in result.stdout.splitlines():
        match = FLAKE8_LINE_RE.match(line)
        assert match, f"unexpected flake8 output line: {line!r}"
        findings.append((os.path.normpath(match["path"]), int(match["line"]), int(match["col"]),
                         match["code"], match["message"]))
    return result.returncode, findings, result.stderr


def run_cli(paths: List[str], *args: str) -> List[Key]:
    document = cli_json("--isolated", *args, *paths)
    assert document["errors"] == []
    return [(os.path.normpath(f["path"]), f["line"], f["column"], f["code"], f["message"])
            for f in document["findings"]]


def by_file(findings: Iterable[Key]) -> Dict[str, Set[Key]]:
    out: Dict[str, Set[Key]] = {}
    for finding in findings:
        out.setdefault(finding[0], set()).add(finding)
    return out


FILES = [relative(p) for p in fixture_files()]
OFF_BY_DEFAULT = [rule.code for rule in all_rules() if not rule.default_enabled]
SELECTIONS = {"default": "INI", "everything": ",".join(["INI", *OFF_BY_DEFAULT])}


@pytest.fixture(scope="module")
def outputs() -> Dict[str, Tuple[Dict[str, Set[Key]], Dict[str, Set[Key]]]]:
    """For each selection, (flake8's findings, the CLI's findings) by file: each front end runs once
    over all files. flake8 uses its own --jobs (2 processes here), the CLI its own."""
    _require_flake8_with_plugin()
    out = {}
    for name, select in SELECTIONS.items():
        _, flake8, stderr = run_flake8(FILES, "--select", select, "--jobs", "2")
        assert "Traceback" not in stderr, stderr
        out[name] = (by_file(flake8), by_file(run_cli(FILES, "--select", select, "--jobs", "2")))
    return out


def test_there_is_something_to_compare():
    assert FILES, "no fixture files found"
    assert any(expected_findings(ROOT / f) for f in FILES), "no fixture expects a finding"


@pytest.mark.parametrize("selection", sorted(SELECTIONS))
@pytest.mark.parametrize("path", _params(fixture_files()))
def test_flake8_and_cli_report_the_same(outputs, selection, path):
    flake8, cli = outputs[selection]
    assert flake8.get(path, set()) == cli.get(path, set())


@pytest.mark.parametrize("path", _params(sorted((DATA / "noqa").glob("*.py"))))
def test_noqa_data_meets_its_expectations(path):
    """The CLI reports exactly the lines marked ``# expect:`` (flake8's reading of each noqa)."""
    got = sorted((line, code) for _, line, _, code, _ in run_cli([path]))
    assert got == expected_findings(ROOT / path)


def test_noqa_comments_really_hide_findings():
    """``flake8 --disable-noqa`` shows what the noqa data hides: every call reported, so the noqa
    tests above compare something (and the plugin leaves noqa to flake8, so the flag works)."""
    _require_flake8_with_plugin()
    path = "tests/data/noqa/basic.py"
    _, with_noqa, _ = run_flake8([path], "--select", "INI")
    _, without, _ = run_flake8([path], "--select", "INI", "--disable-noqa")
    calls = [n for n, text in enumerate((ROOT / path).read_text().splitlines(), 1) if text.startswith("nn.init.normal_(")]
    assert sorted({line for _, line, _, _, _ in without}) == calls
    assert len(with_noqa) < len(without)


def test_flake8_reads_stdin():
    """``flake8 -`` gives the plugin the lines it read from stdin: same findings as for the file."""
    _require_flake8_with_plugin()
    path = "tests/data/cli/bad.py"
    _, from_file, _ = run_flake8([path], "--select", "INI")
    _, from_stdin, _ = run_flake8(["-"], "--select", "INI", "--stdin-display-name", path,
                                  stdin=(ROOT / path).read_text())
    assert from_file and from_stdin == from_file


def test_flake8_selection_and_ignore():
    _require_flake8_with_plugin()
    path = "tests/data/cli/bad.py"
    _, everything, _ = run_flake8([path], "--select", "INI")
    codes = {code for _, _, _, code, _ in everything}
    assert len(codes) >= 2, codes
    one = sorted(codes)[0]
    _, only, _ = run_flake8([path], "--select", one)
    assert {code for _, _, _, code, _ in only} == {one}
    _, rest, _ = run_flake8([path], "--select", "INI", "--extend-ignore", one)
    assert {code for _, _, _, code, _ in rest} == codes - {one}
    _, none, _ = run_flake8([path], "--select", "E9")
    assert none == []


def test_flake8_runs_off_by_default_rules_only_when_named(tmp_path):
    """Each rule's documented example, through flake8: a default-on rule reports under
    ``--select INI``; an off-by-default one only once ``--select``/``--extend-select`` names it."""
    _require_flake8_with_plugin()
    paths = {}
    for rule in all_rules():
        paths[rule.code] = tmp_path / f"{rule.code.lower()}_example.py"
        paths[rule.code].write_text(rule.doc_code("Example"), encoding="utf-8")
    files = [str(p) for p in paths.values()]

    def reported(*args):
        return {(Path(path).name, code) for path, _, _, code, _ in run_flake8(files, *args)[1]}

    default, extended, named = (reported("--select", "INI"),
                                reported("--select", "INI", "--extend-select", ",".join(OFF_BY_DEFAULT or ["INI9"])),
                                reported("--select", ",".join(paths)))
    for rule in all_rules():
        mine = (paths[rule.code].name, rule.code)
        assert (mine in default) == rule.default_enabled, rule.code
        assert mine in extended and mine in named, rule.code


def test_the_plugin_keeps_the_clis_size_limit(monkeypatch):
    """A file over the CLI's limit is an INI000 line in flake8, as it is an error entry in the CLI,
    instead of gigabytes and minutes of libcst."""
    from initlint import engine
    from initlint.flake8_plugin import Plugin

    lines = (ROOT / "tests/data/cli/bad.py").read_text().splitlines(keepends=True)
    assert [text.split()[0] for _, _, text, _ in Plugin(None, "bad.py", lines).run()] != ["INI000"]
    monkeypatch.setattr(engine, "MAX_FILE_BYTES", 100)
    reported = [text for _, _, text, _ in Plugin(None, "bad.py", lines).run()]
    assert len(reported) == 1 and reported[0].startswith("INI000 initlint could not check this file: too large")
