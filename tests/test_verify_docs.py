"""The runtime codes' documentation: ruff's sections, in rules.md and `initlint rules`, and examples that
behave as documented (each *Example* is flagged with its code, each *Use instead* gives no finding)."""

from __future__ import annotations

import os
import re
import types

import pytest

from conftest import ROOT, run_cli
from initlint import docs
from initlint.verify.codes import all_codes, code_by_name

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

RULES_MD = (ROOT / "rules.md").read_text(encoding="utf-8")
CODES = all_codes()


def test_codes_are_unique_and_complete():
    assert [c.code for c in CODES] == [f"INI60{i}" for i in range(1, 9)]
    assert len({c.name for c in CODES}) == len(CODES)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c.name) for c in CODES)
    assert code_by_name("ini605").name == "scale-off-activation-target" and code_by_name("INI999") is None


@pytest.mark.parametrize("code", CODES, ids=lambda c: c.code)
def test_entry_in_rules_md_in_ruff_order(code):
    entry = docs.rule_markdown(code)
    assert entry in RULES_MD
    assert f"[{code.code}](#{code.code.lower()})" in RULES_MD
    assert "runtime check (`initlint verify`)" in entry
    titles = re.findall(r"^### (.+)$", entry, re.M)
    assert titles[:4] == ["What it does", "Why is this bad?", "Example", "Use instead"]
    known = [t for t in titles if t in docs.SECTION_ORDER]
    assert known == sorted(known, key=docs.SECTION_ORDER.index)
    assert docs.summary(code).startswith("Flags ")


def test_rules_command_lists_and_explains_runtime_codes():
    header, *listing = run_cli("rules", "--runtime").stdout.splitlines()
    assert header.split()[:3] == ["Code", "Name", "Default"]
    assert len(listing) == len(CODES)
    for code in CODES:
        (line,) = [entry for entry in listing if entry.startswith(code.code)]
        # "verify": reported by `initlint verify`, as rules.md labels them
        assert line.split()[:3] == [code.code, code.name, "verify"]
    explained = run_cli("rules", "ini603")
    assert explained.returncode == 0 and explained.stdout == docs.rule_markdown(code_by_name("INI603"))


FRAMEWORK_OF = {"torch": "torch", "flax": "flax", "keras": "keras"}


def _build(code: str, source: str):
    framework = "flax" if "flax" in source else ("keras" if "import keras" in source else "torch")
    pytest.importorskip(FRAMEWORK_OF[framework])
    module = types.ModuleType(f"_doc_{code}")
    exec(compile(source, f"<{code} docs>", "exec"), module.__dict__)
    return module.build_model, framework


@pytest.mark.parametrize("code", CODES, ids=lambda c: c.code)
def test_example_is_flagged_and_use_instead_is_not(code):
    pytest.importorskip("numpy")
    pytest.importorskip("scipy")
    if getattr(code, "distributed", False):
        pytest.skip("runs under torchrun: tests/test_verify_distributed.py runs its examples")
    import initlint

    build, framework = _build(code.code, code.doc_code("Example"))
    report = initlint.verify(build, framework=framework, seed=0)
    assert code.code in {f.code for f in report.findings}, [f.text() for f in report.findings]
    build, framework = _build(code.code, code.doc_code("Use instead"))
    report = initlint.verify(build, framework=framework, seed=0)
    assert report.findings == [], [f.text() for f in report.findings]
