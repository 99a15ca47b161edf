"""``initlint check`` and ``initlint rules`` as a user runs them: real subprocesses, real exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from conftest import DATA, ROOT, expected_findings, run_cli, write
from initlint import docs
from initlint.cli import main
from initlint.rule import all_rules

TEXT_LINE_RE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>INI\d{3}) (?P<message>.+)$")
FINDING_KEYS = ["path", "line", "column", "end_line", "end_column", "code", "name", "message", "framework", "fix"]


def text_findings(stdout: str):
    found = []
    for line in stdout.splitlines():
        match = TEXT_LINE_RE.match(line)
        assert match, f"not a finding line: {line!r}"
        found.append((match["path"], int(match["line"]), int(match["col"]), match["code"]))
    return found


def codes_of(result) -> list:
    return sorted(code for _, _, _, code in text_findings(result.stdout))


# --- output formats -------------------------------------------------------------------------------

def test_text_format_reports_the_expected_lines(bad_file):
    result = run_cli("check", str(bad_file))
    assert result.returncode == 1, result.stderr
    found = text_findings(result.stdout)
    assert sorted((line, code) for _, line, _, code in found) == expected_findings(bad_file)
    assert {path for path, _, _, _ in found} == {str(bad_file)}
    # the summary line on stderr, then the fix hint (two of the three have unsafe fixes), nothing else
    summary, hint = result.stderr.strip().splitlines()
    assert "3 findings in 1 file" in summary and "1 file checked" in summary
    assert hint.startswith("2 more fixes with `--unsafe-fixes`")


def test_text_columns_are_one_based(tmp_path):
    # the call starts at the first character of its line: column 1, as flake8 prints it
    path = write(tmp_path / "col.py", "import torch.nn as nn\nlayer = nn.Linear(4, 4)\nnn.init.normal_(layer.weight)\n"
                 "if True:\n    nn.init.normal_(layer.weight)\n")
    found = text_findings(run_cli("check", str(path)).stdout)
    assert [(line, col) for _, line, col, _ in found] == [(3, 1), (5, 5)]


def test_json_format_is_the_documented_object(bad_file, clean_file):
    result = run_cli("check", "--format", "json", str(bad_file), str(clean_file))
    assert result.returncode == 1
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert list(document) == ["version", "files_checked", "findings", "errors"]
    assert document["version"] == 1
    assert document["files_checked"] == 2
    assert document["errors"] == []
    assert document["findings"], "bad.py has findings"
    for finding in document["findings"]:
        assert list(finding) == FINDING_KEYS
        assert finding["path"] == str(bad_file)
        assert finding["line"] <= finding["end_line"]
        assert finding["name"] == next(r.name for r in all_rules() if r.code == finding["code"])
        assert finding["framework"] == "torch"
    assert sorted((f["line"], f["code"]) for f in document["findings"]) == expected_findings(bad_file)
    # json and text report the same findings
    text = text_findings(run_cli("check", str(bad_file)).stdout)
    assert text == [(f["path"], f["line"], f["column"], f["code"]) for f in document["findings"]]


def test_json_errors_entry(tmp_path, clean_file):
    broken = write(tmp_path / "broken.py", "import torch\ndef f(:\n")
    result = run_cli("check", "--format", "json", str(clean_file), str(broken), str(tmp_path / "missing.py"))
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["files_checked"] == 1
    assert [e["path"] for e in document["errors"]] == [str(broken), str(tmp_path / "missing.py")]
    assert all(list(e) == ["path", "line", "column", "message"] and e["message"] for e in document["errors"])
    # the syntax error's position; a file that could not be read has none
    assert [(e["line"], e["column"]) for e in document["errors"]] == [(2, 7), (None, None)]


# --- exit codes -----------------------------------------------------------------------------------

def test_exit_0_when_clean(clean_file):
    result = run_cli("check", str(clean_file))
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.startswith("All checks passed")


def test_quiet_drops_the_summary_only(bad_file, tmp_path):
    broken = write(tmp_path / "broken.py", "import torch\ndef f(:\n")
    loud, quiet = run_cli("check", str(bad_file), str(broken)), run_cli("check", "-q", str(bad_file), str(broken))
    assert quiet.returncode == loud.returncode == 1
    assert quiet.stdout == loud.stdout
    # loud adds the summary and the fix hint
    assert quiet.stderr.splitlines() == loud.stderr.splitlines()[:-2]
    assert len(quiet.stderr.splitlines()) == 1 and quiet.stderr.startswith(f"{broken}:2:7: error: ")


def test_no_python_files_is_not_an_error(tmp_path):
    write(tmp_path / "notes.txt", "import torch\n")
    result = run_cli("check", str(tmp_path))
    assert (result.returncode, result.stdout) == (0, "")
    assert "no Python files" in result.stderr


def test_exit_1_with_findings_and_0_with_exit_zero(bad_file):
    assert run_cli("check", str(bad_file)).returncode == 1
    result = run_cli("check", "--exit-zero", str(bad_file))
    assert result.returncode == 0 and result.stdout


@pytest.mark.parametrize("args", [
    ["check", "--select", "E501"],
    ["check", "--ignore", "INI10x"],
    ["check", "--format", "yaml"],
    ["check", "--jobs", "-3"],
    ["check", "--jobs", "many"],
    ["check", "--no-such-flag"],
    ["check", "--config", "does-not-exist.toml"],
    ["rules", "INI999"],
    [],
])
def test_exit_2_on_usage_errors(args, clean_file):
    result = run_cli(*args, *([str(clean_file)] if args[:1] == ["check"] else []))
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_python_dash_m_and_console_script_agree(bad_file):
    script = shutil.which("initlint", path=os.path.dirname(sys.executable))
    assert script, "the console script is not installed (pip install -e .)"
    import subprocess

    direct = subprocess.run([script, "check", str(bad_file)], capture_output=True, text=True)
    module = run_cli("check", str(bad_file))
    assert (direct.returncode, direct.stdout) == (module.returncode, module.stdout) == (1, module.stdout)


# --- selection ------------------------------------------------------------------------------------

def test_select_and_ignore(bad_file):
    all_codes = codes_of(run_cli("check", str(bad_file)))
    assert len(set(all_codes)) >= 2
    first = all_codes[0]
    assert set(codes_of(run_cli("check", "--select", first, str(bad_file)))) == {first}
    assert first not in codes_of(run_cli("check", "--ignore", first, str(bad_file)))
    # prefixes, comma lists, repetition, case
    prefix = first[:4]
    with_prefix = {c for c in all_codes if c.startswith(prefix)}
    assert set(codes_of(run_cli("check", "--select", prefix.lower(), str(bad_file)))) == with_prefix
    both = sorted(set(all_codes))[:2]
    assert set(codes_of(run_cli("check", "--select", ",".join(both), str(bad_file)))) == set(both)
    assert set(codes_of(run_cli("check", "--select", both[0], "--select", both[1], str(bad_file)))) == set(both)
    # the most specific selector wins
    assert set(codes_of(run_cli("check", "--select", first, "--ignore", "INI", str(bad_file)))) == {first}
    result = run_cli("check", "--ignore", "INI", str(bad_file))
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_runs_by_default_only_if_default_enabled(tmp_path, capsys, rule):
    example = write(tmp_path / "example.py", rule.doc_code("Example"))

    def codes(*args):  # in-process: the same main() the console script runs, without start-up cost
        capsys.readouterr()
        main(["check", *args, str(example)])
        return {code for _, _, _, code in text_findings(capsys.readouterr().out)}

    assert (rule.code in codes()) == rule.default_enabled
    assert (rule.code in codes("--select", "INI")) == rule.default_enabled
    assert rule.code in codes("--select", rule.code)
    assert rule.code in codes("--extend-select", rule.code)
    assert rule.code not in codes("--extend-select", rule.code, "--ignore", rule.code)


# --- configuration --------------------------------------------------------------------------------

def project(tmp_path: Path, config: str) -> Path:
    write(tmp_path / "pyproject.toml", "[project]\nname = 'demo'\n\n[tool.initlint]\n" + config)
    write(tmp_path / "pkg" / "bad.py", (DATA / "cli" / "bad.py").read_text())
    return tmp_path


def test_config_ignore_and_cli_override(tmp_path):
    first = sorted({c for _, c in expected_findings(DATA / "cli" / "bad.py")})[0]
    root = project(tmp_path, f'ignore = ["{first[:4]}"]\n')
    assert first not in codes_of(run_cli("check", "pkg", cwd=root))
    # found from a subdirectory too: the nearest pyproject.toml with [tool.initlint]
    assert first not in codes_of(run_cli("check", ".", cwd=root / "pkg"))
    # --select replaces the configured selection; the configured ignore still beats a broader
    # selector, and a more specific one beats the ignore
    assert first not in codes_of(run_cli("check", "--select", "INI", "pkg", cwd=root))
    assert first in codes_of(run_cli("check", "--select", first, "pkg", cwd=root))
    # --isolated ignores the file
    assert first in codes_of(run_cli("check", "--isolated", "pkg", cwd=root))


def test_config_select(tmp_path):
    first = sorted({c for _, c in expected_findings(DATA / "cli" / "bad.py")})[0]
    root = project(tmp_path, f'select = ["{first}"]\n')
    assert set(codes_of(run_cli("check", "pkg", cwd=root))) == {first}


def test_config_exclude(tmp_path):
    root = project(tmp_path, 'exclude = ["pkg/bad.py"]\n')
    write(root / "pkg" / "ok.py", "x = 1\n")
    result = run_cli("check", ".", cwd=root)
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    assert "1 file checked" in result.stderr
    # a file named explicitly (as pre-commit does) is excluded too, also through its folder
    assert run_cli("check", "pkg/bad.py", cwd=root).stdout == ""
    root_dir = project(tmp_path / "folder", 'exclude = ["pkg"]\n')
    assert run_cli("check", "pkg/bad.py", cwd=root_dir).stdout == ""
    # also on the command line
    root2 = project(tmp_path / "two", "")
    assert run_cli("check", "--exclude", "bad.py", ".", cwd=root2).stdout == ""


def test_explicit_config_file(tmp_path):
    first = sorted({c for _, c in expected_findings(DATA / "cli" / "bad.py")})[0]
    root = project(tmp_path, "")
    write(root / "lint.toml", f'ignore = ["{first}"]\n')
    assert first in codes_of(run_cli("check", "pkg", cwd=root))
    assert first not in codes_of(run_cli("check", "--config", "lint.toml", "pkg", cwd=root))


@pytest.mark.parametrize("config, complaint", [
    ('select = "INI1"\nignore = 3\n', "ignore"),
    ('select = ["W605"]\n', "W605"),
    ('jobs = "two"\n', "jobs"),
    ('no-such-option = 1\n', "no-such-option"),
    ('select = [\n', "invalid TOML"),
])
def test_bad_config_is_a_clear_error(tmp_path, config, complaint):
    root = project(tmp_path, config)
    result = run_cli("check", "pkg", cwd=root)
    assert result.returncode == 2
    assert result.stdout == ""
    assert complaint in result.stderr and "pyproject.toml" in result.stderr
    assert "Traceback" not in result.stderr


# --- parallelism ----------------------------------------------------------------------------------

def test_jobs_1_and_jobs_2_give_identical_output(tmp_path):
    sources = [DATA / "cli" / "bad.py", DATA / "cli" / "clean.py", *sorted((ROOT / "examples").glob("*.py"))]
    for index in range(48):  # enough files for the runner to use two processes
        source = sources[index % len(sources)]
        write(tmp_path / f"dir{index % 5}" / f"m{index:02d}_{source.name}", source.read_text())
    write(tmp_path / "broken.py", "import torch\ndef f(:\n")
    runs = {jobs: (run_cli("check", "--jobs", jobs, ".", cwd=tmp_path),
                   run_cli("check", "--format", "json", "--jobs", jobs, ".", cwd=tmp_path))
            for jobs in ("1", "2", "0")}
    text1, json1 = runs["1"]
    assert text1.returncode == 1 and text1.stdout.count("\n") > 48
    paths = [p for p, _, _, _ in text_findings(text1.stdout)]
    assert paths == sorted(paths)
    for jobs in ("2", "0"):
        text, document = runs[jobs]
        assert (text.returncode, text.stdout, text.stderr) == (text1.returncode, text1.stdout, text1.stderr)
        assert document.stdout == json1.stdout


# --- initlint rules -------------------------------------------------------------------------------

def test_rules_lists_every_rule():
    result = run_cli("rules")
    assert result.returncode == 0
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["Code", "Name", "Default", "Fix", "Summary"]
    assert len(lines) == len(all_rules())
    for line, rule in zip(lines, all_rules()):
        assert line.split()[:4] == [rule.code, rule.name, "on" if rule.default_enabled else "off",
                                    rule.fix_safety or "-"]
        # the summary as plain text: no Markdown marks
        assert line.endswith(docs.summary(rule).replace("`", "").replace("*", ""))


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rules_code_prints_its_rules_md_entry(rule):
    result = run_cli("rules", rule.code.lower())
    assert result.returncode == 0
    assert result.stdout == docs.rule_markdown(rule)
    for title in ("What it does", "Why is this bad?", "Example", "Use instead"):
        assert f"### {title}" in result.stdout
    assert result.stdout in (ROOT / "rules.md").read_text(encoding="utf-8")


# --- start-up -------------------------------------------------------------------------------------

def test_check_never_imports_a_framework(bad_file):
    """Start-up and a whole check import no deep-learning framework (they cost seconds each)."""
    result = run_cli("check", str(bad_file), env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 1
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "libcst" in imported  # the measurement works
    assert not imported & {"torch", "tensorflow", "keras", "jax", "flax", "mxnet", "numpy", "scipy"}
