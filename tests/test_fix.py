"""--fix: before/after pairs, idempotence, what is left, atomic writes, and fixed models that build."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

import initlint
from initlint import fixer
from initlint.engine import SourceError
from initlint.ftypes import Settings
from initlint.rule import all_rules, rule_by_code

ROOT = Path(__file__).resolve().parent.parent


def fixed(source: str, unsafe: bool = True) -> str:
    result = fixer.fix_source(textwrap.dedent(source), "model.py", Settings(), unsafe=unsafe)
    assert result.error is None, result.error
    return result.fixed


PAIRS = [
    ("INI503", """
        from torch import nn

        def init_weights(m):
            if type(m) == nn.Linear:  # keep this comment
                nn.init.zeros_(m.bias)
            if type(m) not in (nn.Conv2d, nn.Conv1d):
                return
        """, """
        from torch import nn

        def init_weights(m):
            if isinstance(m, nn.Linear):  # keep this comment
                nn.init.zeros_(m.bias)
            if not isinstance(m, (nn.Conv2d, nn.Conv1d)):
                return
        """),
    ("INI201", """
        from torch import nn
        from torch.nn.init import xavier_uniform_

        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        xavier_uniform_(net[0].weight, gain=1.0)
        nn.init.xavier_normal_(net[2].weight)
        """, """
        from torch import nn
        from torch.nn.init import kaiming_uniform_, xavier_uniform_

        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        kaiming_uniform_(net[0].weight, nonlinearity='relu')
        nn.init.kaiming_normal_(net[2].weight, a=0.2, nonlinearity='leaky_relu')
        """),
    ("INI201", """
        import keras

        model = keras.Sequential([
            keras.layers.Dense(64, activation="relu", kernel_initializer="glorot_uniform"),
            keras.layers.Dense(64, activation="relu", kernel_initializer=keras.initializers.GlorotNormal()),
        ])
        """, """
        import keras

        model = keras.Sequential([
            keras.layers.Dense(64, activation="relu", kernel_initializer='he_uniform'),
            keras.layers.Dense(64, activation="relu", kernel_initializer=keras.initializers.HeNormal()),
        ])
        """),
    ("INI101", """
        import tensorflow as tf

        def kernel(kh, kw, cin):
            stddev = (2 / (kh * kw * cin)) ** 0.5
            return tf.keras.initializers.TruncatedNormal(stddev=stddev)
        """, """
        import tensorflow as tf

        def kernel(kh, kw, cin):
            stddev = (2 / (kh * kw * cin)) ** 0.5
            return tf.keras.initializers.TruncatedNormal(stddev=stddev / .87962566103423978)
        """),
    ("INI102", """
        from torch import nn

        w = nn.Parameter(nn.init.empty(3))
        nn.init.trunc_normal_(w, std=0.02)
        nn.init.trunc_normal_(w, 0.0, 0.5, -2, 2)
        """, """
        from torch import nn

        w = nn.Parameter(nn.init.empty(3))
        nn.init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04)
        nn.init.trunc_normal_(w, 0.0, 0.5, a=-1.0, b=1.0)
        """),
    ("INI402", """
        from torch import nn

        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        nn.init.normal_(net[0].weight)
        nn.init.uniform_(net[2].weight)
        """, """
        from torch import nn

        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        nn.init.kaiming_normal_(net[0].weight, nonlinearity='relu')
        nn.init.xavier_uniform_(net[2].weight)
        """),
    ("INI501", """
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 4)
                self.norm = nn.LayerNorm(4)
                nn.init.xavier_uniform_(self.fc.bias)
                nn.init.kaiming_normal_(self.norm.weight, mode="fan_out")
        """, """
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 4)
                self.norm = nn.LayerNorm(4)
                nn.init.zeros_(self.fc.bias)
                nn.init.ones_(self.norm.weight)
        """),
]


@pytest.mark.parametrize("code, before, after", PAIRS, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(PAIRS)])
def test_fix_pairs(code, before, after):
    settings = Settings(select=frozenset({code}))
    result = fixer.fix_source(textwrap.dedent(before), "model.py", settings, unsafe=True)
    assert result.error is None
    assert result.fixed == textwrap.dedent(after)
    assert {f.code for f in result.applied} == {code}
    # idempotent, and the rule is satisfied
    assert fixer.fix_source(result.fixed, "model.py", settings, unsafe=True).fixed == result.fixed
    assert initlint.check_source(result.fixed, settings=settings) == []


def test_unsafe_fixes_need_the_flag():
    source = PAIRS[0][1]
    assert fixed(source, unsafe=False) == textwrap.dedent(source)  # INI503's fix is unsafe
    assert fixed(PAIRS[-1][1], unsafe=False) == textwrap.dedent(PAIRS[-1][2])  # INI501's is safe


def test_every_fixable_rule_documents_its_safety():
    for rule in all_rules():
        if rule.fix_safety is not None:
            assert rule.fix_safety in ("safe", "unsafe")
            assert rule.doc_section("Fix safety"), rule.code
        else:
            assert not rule.doc_section("Fix safety"), rule.code
    fixable = {r.code for r in all_rules() if r.fix_safety}
    assert {"INI101", "INI102", "INI201", "INI402", "INI501", "INI503"} <= fixable


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "initlint", *args], capture_output=True, text=True, cwd=cwd)


def test_fix_examples_leaves_only_what_has_no_fix_and_the_models_still_build(tmp_path):
    work = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", work)
    first = run_cli("check", str(work), "--fix", "--unsafe-fixes", "--format", "json")
    assert first.returncode in (0, 1), first.stderr
    second = run_cli("check", str(work), "--fix", "--unsafe-fixes", "--diff")
    assert second.returncode == 0 and second.stdout == "", "a second --fix must change nothing"
    report = run_cli("check", str(work), "--format", "json")
    import json

    left = {f["code"] for f in json.loads(report.stdout)["findings"]}
    assert left, "the examples keep findings that have no fix (INI301, INI403)"
    assert all(rule_by_code(code).fix_safety is None for code in left), left
    # the fixed PyTorch and Keras examples still import and build
    for name in ("torch_textbook.py", "keras_textbook.py", "keras_article.py"):
        build = subprocess.run(
            [sys.executable, "-c", "import runpy, sys; m = runpy.run_path(sys.argv[1]); m['build_model']()",
             str(work / name)], capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        assert build.returncode == 0, build.stderr[-2000:]


def test_diff_does_not_write_and_exits_1(tmp_path):
    target = tmp_path / "model.py"
    target.write_text(textwrap.dedent(PAIRS[-1][1]))
    before = target.read_bytes()
    result = run_cli("check", str(target), "--diff")
    assert result.returncode == 1
    assert "+        nn.init.zeros_(self.fc.bias)" in result.stdout
    assert target.read_bytes() == before


def test_write_is_atomic_and_keeps_the_mode(tmp_path, monkeypatch):
    target = tmp_path / "model.py"
    target.write_text(textwrap.dedent(PAIRS[-1][1]))
    os.chmod(target, 0o640)
    before = target.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(fixer.os, "replace", failing_replace)
    result = fixer.fix_file(str(target))
    assert result.error and "disk full" in result.error
    assert target.read_bytes() == before, "a failed write leaves the original"
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"], "no temporary file is left behind"
    monkeypatch.undo()
    assert fixer.fix_file(str(target)).error is None
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert b"zeros_(self.fc.bias)" in target.read_bytes()


def test_a_fix_that_would_not_parse_is_refused():
    with pytest.raises(SourceError):
        fixer._verify("x = (\n")


def test_unparseable_and_crlf_sources():
    assert fixer.fix_source("def (:\n", "bad.py").error
    crlf = textwrap.dedent(PAIRS[-1][1]).replace("\n", "\r\n")
    out = fixer.fix_source(crlf, "model.py").fixed
    assert "zeros_(self.fc.bias)\r\n" in out and "\n" not in out.replace("\r\n", "")


def test_fix_keeps_the_checks_gates_a_chain_libcst_would_crash_on_is_an_error_not_a_segfault(tmp_path):
    """--fix runs in this process: a 20,000-term ``and`` chain once killed the whole run (SIGSEGV in
    libcst's native parser) before any other file was fixed."""
    deep = tmp_path / "deep.py"
    deep.write_text("from torch import nn\nnn.init.xavier_uniform_(w)\ny = " + " and ".join(["x"] * 20_000) + "\n")
    model = tmp_path / "model.py"
    model.write_text(textwrap.dedent(PAIRS[-1][1]))
    result = run_cli("check", str(deep), str(model), "--fix", "--no-cache")
    assert result.returncode == 1, result.stderr
    assert b"zeros_(self.fc.bias)" in model.read_bytes()
    # reported once, by the check (the fix does not repeat what the check says)
    assert result.stderr.count("deep.py:3:1: error: too deeply nested to parse") == 1, result.stderr


def test_a_file_that_cannot_hold_a_finding_is_not_parsed_for_a_fix(monkeypatch):
    parsed = []
    monkeypatch.setattr(fixer, "parse", lambda code: parsed.append(code) or initlint.engine.parse(code))
    assert fixer.fix_source("import numpy as np\nw = np.zeros((3, 3))\n", "util.py").fixed.startswith("import numpy")
    assert parsed == []
    fixer.fix_source(textwrap.dedent(PAIRS[-1][1]), "model.py")
    assert len(parsed) >= 1


def test_diff_reports_a_file_that_does_not_parse_and_exits_1(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\ndef f(:\n")
    result = run_cli("check", str(bad), "--diff", "--no-cache")
    assert result.returncode == 1
    assert result.stderr.count("bad.py:2:7: error: syntax error") == 1, result.stderr
    assert run_cli("check", str(bad), "--diff", "--exit-zero", "--no-cache").returncode == 0
    fix = run_cli("check", str(bad), "--fix", "--no-cache")
    assert fix.returncode == 1 and fix.stderr.count("bad.py:2:7: error: syntax error") == 1, fix.stderr


def _fixable_tree(root: Path, copies: int) -> List[Path]:
    """``copies`` files with fixable findings (the examples, round-robin), enough for workers."""
    examples = sorted((ROOT / "examples").glob("*.py"))
    root.mkdir(parents=True)
    paths = []
    for i in range(copies):
        target = root / f"m{i:02d}_{examples[i % len(examples)].name}"
        shutil.copy(examples[i % len(examples)], target)
        paths.append(target)
    return paths


def test_fix_with_workers_writes_what_one_job_writes(tmp_path):
    """With more than one job (and enough files) the fixes run in worker processes; the files and
    the summary are the same as with one job, which fixes in this process."""
    one = _fixable_tree(tmp_path / "one", 20)
    many = _fixable_tree(tmp_path / "many", 20)
    first = run_cli("check", str(tmp_path / "one"), "--fix", "--unsafe-fixes", "--no-cache", "--jobs", "1")
    second = run_cli("check", str(tmp_path / "many"), "--fix", "--unsafe-fixes", "--no-cache", "--jobs", "2")
    assert first.returncode == second.returncode
    summary = [line for line in first.stderr.splitlines() if line.startswith("Fixed ")]
    assert summary and summary[0] != "Fixed 0 findings in 0 files."
    assert summary == [line for line in second.stderr.splitlines() if line.startswith("Fixed ")]
    assert [p.read_bytes() for p in one] == [p.read_bytes() for p in many]
    assert any(p.read_bytes() != (ROOT / "examples" / p.name[4:]).read_bytes() for p in many)


def test_a_worker_that_dies_fixing_a_file_costs_only_that_file(tmp_path):
    paths = _fixable_tree(tmp_path / "work", 20)
    victim = paths[7]
    driver = textwrap.dedent(f"""
        import os, sys
        from initlint import cli, fixer
        real = fixer.fix_file
        def dying(path, *args, **kwargs):
            if path.endswith({victim.name!r}):
                os._exit(3)  # as a crash in native code would end the process
            return real(path, *args, **kwargs)
        fixer.fix_file = dying
        sys.exit(cli.main(sys.argv[1:]))
        """)
    before = victim.read_bytes()
    result = subprocess.run([sys.executable, "-c", driver, "check", str(tmp_path / "work"), "--fix", "--unsafe-fixes",
                             "--no-cache", "--jobs", "2", "--format", "json"], capture_output=True, text=True)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count(f"{victim.name}:1:1: error: internal error: the process fixing this file died") == 1
    assert victim.read_bytes() == before
    reference = _fixable_tree(tmp_path / "reference", 20)
    run_cli("check", str(tmp_path / "reference"), "--fix", "--unsafe-fixes", "--no-cache", "--jobs", "1")
    assert [p.read_bytes() for p in paths if p != victim] == [r.read_bytes() for r in reference if r.name != victim.name]
    assert result.returncode == 1  # the victim's findings are still there
