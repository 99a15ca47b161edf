"""Every front end sees the project: real flake8, ``initlint check`` and real pre-commit report the
same findings on the multi-file projects of ``tests/projects/``, on the whole tree and on one
changed file; and flake8 reads ``[tool.initlint]`` as the CLI does (selection, and a typo that
must not silence the other flake8 plugins).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, cli_json, write
from test_flake8_agreement import FLAKE8_LINE_RE, _require_flake8_with_plugin
from test_precommit import git, hook_env  # noqa: F401  (the module-scoped hook environment)

PROJECTS = ROOT / "tests" / "projects"


def flake8(cwd: Path, *args: str):
    result = subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode in (0, 1), result.stderr
    found = set()
    for line in result.stdout.splitlines():
        match = FLAKE8_LINE_RE.match(line)
        assert match, f"unexpected flake8 output line: {line!r}"
        found.add((Path(match["path"]).as_posix().removeprefix("./"), int(match["line"]), int(match["col"]),
                   match["code"], match["message"]))
    return found, result.stderr


def cli(cwd: Path, *args: str):
    document = cli_json("--no-cache", *args, cwd=cwd)
    assert document["errors"] == []
    return {(Path(f["path"]).as_posix(), f["line"], f["column"], f["code"], f["message"])
            for f in document["findings"]}


@pytest.mark.parametrize("name", ["gan_repo", "gan_repo_ok", "keras_src", "helper_repo", "helper_repo_ok", "hier_repo"])
def test_flake8_and_the_cli_agree_on_a_project(name):
    _require_flake8_with_plugin()
    project = PROJECTS / name
    from_flake8, stderr = flake8(project, "--isolated", "--select", "INI", ".")
    assert "Traceback" not in stderr, stderr
    assert from_flake8 == cli(project, "--isolated", ".")
    if not name.endswith("_ok"):
        assert from_flake8, "the project's cross-module bugs are found"
    # one file, as an editor runs flake8 on the buffer's file
    one = {"keras_src": "src/kpkg/model.py", "hier_repo": "pkg/base.py"}.get(name, "utils/init.py")
    assert flake8(project, "--isolated", "--select", "INI", one)[0] == cli(project, "--isolated", one)


def _project_repo(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(PROJECTS / name, target, ignore=shutil.ignore_patterns(".initlint_cache", "__pycache__"))
    git("init", "-q", cwd=target)
    git("add", "-A", cwd=target)
    git("commit", "-q", "-m", "project", cwd=target)
    return target


def _precommit(hook_env, project: Path, *args: str):  # noqa: F811
    repo, _, env = hook_env
    result = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(repo), "initlint", *args],
                            cwd=project, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    found = set()
    for line in output.splitlines():
        match = re.match(r"^(?P<path>[^\s:]+\.py):(?P<line>\d+):(?P<col>\d+): (?P<code>INI\d{3}) (?P<message>.*)$", line)
        if match:
            found.add((match["path"], int(match["line"]), int(match["col"]), match["code"], match["message"]))
    return result.returncode, found, output


@pytest.mark.parametrize("name, changed, lines", [
    ("gan_repo", "utils/init.py", {6}),
    # base classes' init methods that subclasses of other modules run, through classes between
    ("hier_repo", "pkg/base.py", {10, 17, 24, 31, 66}),
])
def test_precommit_flake8_and_the_cli_agree_on_one_changed_file(hook_env, tmp_path, name, changed, lines):  # noqa: F811
    """pre-commit passes only the changed files: the helper (the base class) alone is named, and the
    network and the train script (the subclasses) that complete its bug come from the project all the same."""
    _require_flake8_with_plugin()
    project = _project_repo(tmp_path, name)
    helper = project / changed
    helper.write_text(helper.read_text() + "\n")  # the change being committed
    git("add", changed, cwd=project)
    code, from_precommit, output = _precommit(hook_env, project, "--files", changed)
    assert code == 1 and re.search(r"initlint\.+Failed", output), output
    from_cli = cli(project, "--isolated", changed)
    from_flake8, _ = flake8(project, "--isolated", "--select", "INI", changed)
    assert from_precommit == from_cli == from_flake8
    assert {(path, line, code) for path, line, _, code, _ in from_cli} == {(changed, line, "INI201") for line in lines}
    # and the whole tree, as `pre-commit run --all-files`
    code, everything, output = _precommit(hook_env, project, "--all-files")
    assert code == 1 and everything == cli(project, "--isolated", "."), output


# -- configuration parity ----------------------------------------------------------------------------

BUGGY = ("import os\n"  # F401 for pyflakes
         "from torch import nn\n\n"
         "net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4))\n"
         "nn.init.xavier_uniform_(net[0].weight)\n"
         "nn.init.constant_(net[2].weight, 0.5)\n")


def test_a_typo_in_tool_initlint_does_not_silence_flake8(tmp_path):
    _require_flake8_with_plugin()
    write(tmp_path / "pyproject.toml", '[tool.initlint]\nselct = ["INI2"]\n')
    write(tmp_path / "net.py", BUGGY)
    found, stderr = flake8(tmp_path, "--select", "F,INI", "net.py")
    codes = {code for _, _, _, code, _ in found}
    assert "F401" in codes, "the other plugins still run"
    assert {"INI201", "INI301"} <= codes, "initlint runs with its defaults"
    assert stderr.count("initlint: warning:") == 1 and "'selct'" in stderr, stderr
    # the CLI still refuses it (exit 2), naming the key
    result = subprocess.run([sys.executable, "-m", "initlint", "check", "net.py"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 2 and "'selct'" in result.stderr


@pytest.mark.parametrize("table", [
    'select = ["INI2"]',
    'ignore = ["INI201"]',
    'extend-select = ["INI204"]',
    'select = ["INI3"]\nextend-select = ["INI204"]\nignore = ["INI301"]',
])
def test_flake8_honours_tool_initlint_as_the_cli_does(tmp_path, table):
    _require_flake8_with_plugin()
    write(tmp_path / "pyproject.toml", f"[tool.initlint]\n{table}\n")
    write(tmp_path / "net.py", BUGGY)
    from_cli = {(p, line, code) for p, line, _, code, _ in cli(tmp_path, "net.py")}
    for args in (("--select", "INI"), ("--extend-select", "INI"), ()):
        from_flake8 = {(p, line, code) for p, line, _, code, _ in flake8(tmp_path, *args, "net.py")[0]
                       if code.startswith("INI")}
        assert from_flake8 == from_cli, args
    # a rule flake8 names precisely runs even where the configuration leaves it out, as with
    # initlint check --select
    from_cli = {(p, line, code) for p, line, _, code, _ in cli(tmp_path, "--select", "INI301", "net.py")}
    from_flake8 = {(p, line, code) for p, line, _, code, _ in flake8(tmp_path, "--select", "INI301", "net.py")[0]}
    assert from_flake8 == from_cli
