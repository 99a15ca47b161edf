"""rules.md and the README's rule table are generated from the rules' docstrings and must be current."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, run_cli
from initlint import docs
from initlint.rule import all_rules

RULES_MD = (ROOT / "rules.md").read_text(encoding="utf-8")


def test_generated_files_are_current():
    result = run_cli("rules", "--markdown")
    assert result.stdout == RULES_MD, "rules.md is stale: python -m initlint.docs --write"
    assert docs.updated_readme((ROOT / "README.md").read_text(encoding="utf-8")) == \
        (ROOT / "README.md").read_text(encoding="utf-8"), "README's rule table is stale: python -m initlint.docs --write"


def test_docs_check_command_notices_a_stale_file(tmp_path):
    (tmp_path / "rules.md").write_text(RULES_MD + "hand edit\n", encoding="utf-8")
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert docs.main(["--check", str(tmp_path)]) == 1
    assert docs.main(["--write", str(tmp_path)]) == 0
    assert docs.main(["--check", str(tmp_path)]) == 0
    assert (tmp_path / "rules.md").read_text(encoding="utf-8") == RULES_MD


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_every_rule_has_an_anchored_entry_in_ruff_order(rule):
    assert f"\n## {rule.code}\n" in RULES_MD  # so rules.md#ini101 resolves
    assert f"[{rule.code}](#{rule.code.lower()})" in RULES_MD
    entry = docs.rule_markdown(rule)
    titles = re.findall(r"^### (.+)$", entry, re.M)
    known = [t for t in titles if t in docs.SECTION_ORDER]
    assert known == sorted(known, key=docs.SECTION_ORDER.index)
    assert titles[:4] == ["What it does", "Why is this bad?", "Example", "Use instead"]
    assert rule.name in entry and docs.summary(rule) in RULES_MD
