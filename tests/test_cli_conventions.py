"""The command-line conventions linter users expect from ruff and flake8, each tried as a user
would: fix marks and hints, positioned file errors, --statistics, --output-file, --show-source,
colour, per-file-ignores, progress, stdin, refused flag combinations, selectors that select nothing,
rule names, and the rules table."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from conftest import DATA, expected_findings, run_cli, write

from initlint import docs
from initlint.rule import all_rules

SAFE_FIX = "import torch.nn as nn\n\nb = nn.Parameter(torch.zeros(4))\nnn.init.xavier_uniform_(b)\n"


@pytest.fixture
def safe_fix_file(tmp_path) -> Path:
    """INI501 on a bias (a safe fix exists)."""
    return write(tmp_path / "vector.py", "import torch\nimport torch.nn as nn\n\n"
                                         "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                                         "        self.fc = nn.Linear(4, 4)\n"
                                         "        nn.init.xavier_uniform_(self.fc.bias)\n")


# --- fixes: marks, hints, --diff --------------------------------------------------------------------

def test_fixable_findings_are_marked_and_counted(bad_file, safe_fix_file):
    result = run_cli("check", "--no-cache", str(bad_file), str(safe_fix_file))
    lines = result.stdout.splitlines()
    marked = [line for line in lines if " [*] " in line]
    # only the safe fix is applicable by --fix: INI501
    assert [re.search(r" (INI\d+) ", line).group(1) for line in marked] == ["INI501"]
    assert "[*] 1 fixable with `--fix` (2 more fixes with `--unsafe-fixes`" in result.stderr
    # with --unsafe-fixes, the unsafe ones are marked and counted as fixable too
    unsafe = run_cli("check", "--no-cache", "--unsafe-fixes", str(bad_file), str(safe_fix_file))
    assert sum(" [*] " in line for line in unsafe.stdout.splitlines()) == 3
    assert "[*] 3 fixable with `--fix`" in unsafe.stderr and "more fix" not in unsafe.stderr


def test_json_says_which_fix_each_finding_has(bad_file):
    document = json.loads(run_cli("check", "--no-cache", "--format", "json", str(bad_file)).stdout)
    fixes = {f["code"]: f["fix"] for f in document["findings"]}
    assert fixes == {"INI201": "unsafe", "INI402": "unsafe", "INI301": None}


def test_diff_says_unsafe_fixes_exist(bad_file):
    result = run_cli("check", "--no-cache", "--diff", str(bad_file))
    assert result.returncode == 0 and result.stdout == ""
    assert "Would fix 0 findings in 0 files; 2 more with `--unsafe-fixes`" in result.stderr
    unsafe = run_cli("check", "--no-cache", "--diff", "--unsafe-fixes", str(bad_file))
    assert unsafe.returncode == 1 and unsafe.stdout.startswith("---")
    assert "Would fix 2 findings in 1 file." in unsafe.stderr


@pytest.mark.parametrize("flags, complaint", [
    (["--diff", "--format", "json"], "--diff prints a unified diff"),
    (["--statistics", "--format", "sarif"], "--statistics"),
    (["--stdin-filename", "x.py"], "give the path `-`"),
])
def test_combinations_that_cannot_mean_anything_are_usage_errors(bad_file, flags, complaint):
    result = run_cli("check", *flags, str(bad_file))
    assert result.returncode == 2 and complaint in result.stderr and result.stdout == ""


# --- file errors ------------------------------------------------------------------------------------

def test_file_errors_have_a_position_problem_matchers_can_read(tmp_path):
    broken = write(tmp_path / "broken.py", "import torch\nx = (\n")
    missing = tmp_path / "missing.py"
    result = run_cli("check", str(broken), str(missing))
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors[0].startswith(f"{broken}:2:5: error: syntax error")
    assert errors[1].startswith(f"{missing}:1:1: error: ")
    # the github format puts the position into the annotation
    github = run_cli("check", "--format", "github", str(broken)).stdout
    assert "line=2" in github and "col=5" in github


# --- --statistics, --output-file, --show-source, colour -------------------------------------------

def test_statistics_counts_per_rule(tmp_path, bad_file):
    write(tmp_path / "second.py", (DATA / "cli" / "bad.py").read_text())
    result = run_cli("check", "--no-cache", "--statistics", str(tmp_path))
    rows = [line.split() for line in result.stdout.splitlines()]
    expected = {}
    for _, code in expected_findings(bad_file):
        expected[code] = expected.get(code, 0) + 2
    assert {row[1]: int(row[0]) for row in rows} == expected
    names = {rule.code: rule.name for rule in all_rules()}
    assert all(row[-1] == names[row[1]] for row in rows)
    as_json = json.loads(run_cli("check", "--no-cache", "--statistics", "--format", "json", str(tmp_path)).stdout)
    assert {entry["code"]: entry["count"] for entry in as_json} == expected


def test_output_file_holds_what_stdout_would(tmp_path, bad_file):
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    result = run_cli("check", "--no-cache", "--format", "json", "--output-file", str(target), str(bad_file))
    assert result.returncode == 1 and result.stdout == ""
    direct = run_cli("check", "--no-cache", "--format", "json", str(bad_file)).stdout
    assert target.read_text() == direct


def test_show_source_prints_the_line_and_a_caret(bad_file):
    result = run_cli("check", "--no-cache", "--show-source", str(bad_file))
    lines = result.stdout.splitlines()
    source = bad_file.read_text().splitlines()
    for i in range(0, len(lines), 3):
        match = re.match(r"^.*?:(\d+):(\d+): ", lines[i])
        line, column = int(match.group(1)), int(match.group(2))
        assert lines[i + 1] == source[line - 1]
        assert lines[i + 2] == " " * (column - 1) + "^"


def test_colour_only_when_asked_or_on_a_terminal(bad_file):
    plain = run_cli("check", "--no-cache", str(bad_file)).stdout
    assert "\x1b[" not in plain  # a pipe is not a terminal
    coloured = run_cli("check", "--no-cache", "--color", "always", str(bad_file)).stdout
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain
    assert "\x1b[" in run_cli("check", "--no-cache", str(bad_file), env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in run_cli("check", "--no-cache", str(bad_file),
                                  env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout


# --- per-file-ignores -------------------------------------------------------------------------------

def test_per_file_ignores_from_the_flag_and_the_configuration(tmp_path):
    bad = (DATA / "cli" / "bad.py").read_text()
    write(tmp_path / "models" / "net.py", bad)
    write(tmp_path / "tests" / "helpers.py", bad)  # not test_*.py: rules that skip test files run
    everything = {code for _, code in expected_findings(DATA / "cli" / "bad.py")}

    def codes(result, where):
        return {line.split()[1] for line in result.stdout.splitlines() if where in line}

    flag = run_cli("check", "--per-file-ignores", "tests/*:INI3,INI4", ".", cwd=tmp_path)
    assert codes(flag, "models/") == everything
    assert codes(flag, "tests/") == {c for c in everything if not c.startswith(("INI3", "INI4"))}
    write(tmp_path / "pyproject.toml", '[tool.initlint]\nper-file-ignores = {"tests/*" = ["INI2"]}\n')
    configured = run_cli("check", ".", cwd=tmp_path)  # the cache is warm now: the path still decides
    assert codes(configured, "models/") == everything
    assert codes(configured, "tests/") == {c for c in everything if not c.startswith("INI2")}


def test_per_file_ignores_keep_fixes_away_from_ignored_codes(tmp_path):
    source = (DATA / "cli" / "bad.py").read_text()
    target = write(tmp_path / "tests" / "net.py", source)
    run_cli("check", "--fix", "--unsafe-fixes", "--per-file-ignores", "tests/*:INI201", str(target), cwd=tmp_path)
    fixed = target.read_text()
    assert "xavier_uniform_" in fixed  # INI201 ignored there: not fixed either
    assert fixed != source  # INI402's fix still applied


def test_bad_per_file_ignores_are_clear_errors(tmp_path, bad_file):
    result = run_cli("check", "--per-file-ignores", "tests/*", str(bad_file))
    assert result.returncode == 2 and "GLOB:CODES" in result.stderr


# --- stdin --------------------------------------------------------------------------------------------

def test_stdin_is_checked_under_its_stdin_filename(bad_file):
    source = bad_file.read_text()
    result = run_cli("check", "-", "--stdin-filename", "models/net.py", input=source)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("models/net.py:") for line in lines)
    assert sorted((int(l.split(":")[1]), l.split()[1]) for l in lines) == expected_findings(bad_file)
    anonymous = run_cli("check", "-", input=source)
    assert all(line.startswith("-:") for line in anonymous.stdout.splitlines())
    broken = run_cli("check", "-", input="def f(:\n")
    assert broken.returncode == 1 and broken.stderr.startswith("-:1:7: error: syntax error")


def test_stdin_fix_prints_the_fixed_source(bad_file):
    source = bad_file.read_text()
    result = run_cli("check", "-", "--fix", "--unsafe-fixes", input=source)
    assert result.stdout != source and "kaiming" in result.stdout
    compile(result.stdout, "fixed", "exec")
    assert "INI301" in result.stderr  # what is left, on stderr


# --- selection ----------------------------------------------------------------------------------------

def test_a_selector_that_selects_nothing_is_an_error(bad_file):
    result = run_cli("check", "--select", "INI9", str(bad_file))
    assert result.returncode == 2 and "'INI9' selects no rule" in result.stderr


def test_selecting_a_runtime_code_on_check_warns(bad_file):
    result = run_cli("check", "--select", "INI601", str(bad_file))
    assert result.returncode == 0 and result.stdout == ""
    assert "INI601: runtime check of `initlint verify`" in result.stderr


def test_rule_names_select_like_codes(bad_file):
    by_name = run_cli("check", "--no-cache", "--select", "xavier-under-relu", str(bad_file)).stdout
    by_code = run_cli("check", "--no-cache", "--select", "INI201", str(bad_file)).stdout
    assert by_name == by_code and "INI201" in by_name


# --- initlint rules -------------------------------------------------------------------------------------

def test_rules_by_name_and_by_prefix():
    rule = next(r for r in all_rules() if r.code == "INI201")
    assert run_cli("rules", "xavier-under-relu").stdout == docs.rule_markdown(rule)
    prefix = run_cli("rules", "INI2")
    header, *rows = prefix.stdout.splitlines()
    assert header.split()[:3] == ["Code", "Name", "Default"]
    assert [row.split()[0] for row in rows] == [r.code for r in all_rules() if r.code.startswith("INI2")]
    missing = run_cli("rules", "no-such-rule")
    assert missing.returncode == 2 and "`initlint rules` lists them" in missing.stderr


# --- progress --------------------------------------------------------------------------------------------

def test_progress_on_a_terminal_only(tmp_path, monkeypatch):
    """A long run on a terminal shows ``checked N/M files`` on stderr and wipes it; a pipe never."""
    import io

    from initlint import cli

    for i in range(40):
        write(tmp_path / f"m{i}.py", (DATA / "cli" / "bad.py").read_text())

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(cli._Progress, "DELAY", 0.0)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--no-cache", "--jobs", "2", "."]) == 1
    shown = terminal.getvalue()
    assert "initlint: checked " in shown and "/40 files" in shown and "\x1b[2K" in shown
    assert run_cli("check", "--no-cache", "--jobs", "2", str(tmp_path)).stderr.count("checked ") == 0
