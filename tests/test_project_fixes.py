"""Fixes with project scope: a finding that another module completes is fixed by ``--fix`` and shown
by ``--diff`` on a tree (and on the one changed file, and on stdin with ``--stdin-filename``), and the
fix is the one the language server offers for it.

``tests/projects/helper_repo``'s ``utils/init.py`` holds two Glorot inits that only other modules
make wrong: ``glorot_all`` reaches the conv that ``Head`` (``models/head.py``) inherits from
``ConvBase`` (``models/base.py``), followed by a ReLU; ``per_module`` reaches the ReLU Linear
layers of ``models/mlp.py``. Checked alone, the file has nothing to fix.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT, cli_json, run_cli
from initlint.fixer import fix_one, fix_source
from initlint.ftypes import Settings
from initlint.server import _project_view

PROJECT = ROOT / "tests" / "projects" / "helper_repo"
HELPER = "utils/init.py"
DEFAULT = Settings()


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "helper_repo"
    shutil.copytree(PROJECT, target, ignore=shutil.ignore_patterns(".initlint_cache", "__pycache__"))
    return target


def _fixable(project: Path, *args: str):
    document = cli_json("--isolated", "--no-cache", *args, HELPER, cwd=project)
    return [(f["line"], f["column"], f["code"]) for f in document["findings"] if f.get("fix")]


def test_the_cli_fixes_what_another_module_completes(tmp_path):
    project = _copy(tmp_path)
    original = (project / HELPER).read_text()
    fixable = _fixable(project)
    completed = [number for number, text in enumerate(original.splitlines(), 1)
                 if "Head of models/head.py" in text or "models/mlp.py calls it" in text
                 or "models/tower.py" in text]
    assert [(line, code) for line, _, code in fixable] == [(number, "INI201") for number in completed]
    assert _fixable(project, "--no-project") == []
    # --diff on the tree shows the helper's fixes; checked alone, the helper has none
    diff = run_cli("check", "--isolated", "--no-cache", "--diff", "--unsafe-fixes", ".", cwd=project)
    helper_diff = diff.stdout.split("+++ utils/init.py", 1)[1]
    assert helper_diff.count("+            nn.init.kaiming_normal_(m.weight, nonlinearity='relu')") == 1
    assert helper_diff.count("+        nn.init.kaiming_normal_(m.weight, nonlinearity='relu')") == 1
    alone = run_cli("check", "--isolated", "--no-cache", "--no-project", "--diff", "--unsafe-fixes", ".", cwd=project)
    assert "utils/init.py" not in alone.stdout
    # --fix on the one changed file (as pre-commit names it) writes them, and a second run finds nothing to fix
    fixed = run_cli("check", "--isolated", "--no-cache", "--fix", "--unsafe-fixes", HELPER, cwd=project)
    assert fixed.returncode in (0, 1), fixed.stderr
    text = (project / HELPER).read_text()
    assert text != original and "xavier_normal_" not in text.split("def glorot_all", 1)[1]
    assert _fixable(project) == []
    # the stdin spelling of the same buffer, as an editor pipes it
    piped = run_cli("check", "--isolated", "--no-cache", "--diff", "--unsafe-fixes", "-", "--stdin-filename", HELPER,
                    cwd=_copy(tmp_path / "again"), input=original)
    assert piped.stdout.replace("--- -", "--- utils/init.py").replace("+++ -", "+++ utils/init.py") \
        == "--- utils/init.py\n+++ utils/init.py" + helper_diff and piped.returncode == 1


def test_the_server_offers_the_same_fix(tmp_path):
    """The editor's quick fix of each finding, applied one after the other, gives what --fix writes."""
    project = _copy(tmp_path)
    path = str(project / HELPER)
    source = Path(path).read_text()
    fixable = _fixable(project)
    assert fixable
    assert all(fix_one(source, path, DEFAULT, line, column, code) is None for line, column, code in fixable), \
        "without the project there is no such finding to fix"
    offered = source
    for line, column, code in fixable:  # a fix changes no line count here: the positions hold
        offered = fix_one(offered, path, DEFAULT, line, column, code, project=_project_view(path))
        assert offered is not None
    assert offered == fix_source(source, path, DEFAULT, unsafe=True, project=_project_view(path)).fixed
    run_cli("check", "--isolated", "--no-cache", "--fix", "--unsafe-fixes", ".", cwd=project)
    assert Path(path).read_text() == offered
