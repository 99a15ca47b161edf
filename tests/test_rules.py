"""Every rule against its documentation, the fixtures and the examples.

Fixture files carry their expectations inline: a bad line ends with ``# expect: INI201`` (several
codes comma-separated). Codes that have no rule yet (later issues) are ignored; negative files must
give no finding at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import initlint
from initlint.ftypes import Settings
from initlint.rule import CODE_RE, NAME_RE, all_rules

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures").rglob("*.py"))
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
EXPECT_RE = re.compile(r"#\s*expect:\s*(INI\d{3}(?:\s*,\s*INI\d{3})*)")
IMPLEMENTED = {rule.code for rule in all_rules()}
EVERYTHING = Settings(select=frozenset({"INI"}), extend_select=frozenset(IMPLEMENTED))


def expected(path: Path) -> set:
    out = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT_RE.search(line)
        if match:
            out |= {(number, code.strip()) for code in match.group(1).split(",") if code.strip() in IMPLEMENTED}
    return out


def found(path: Path) -> set:
    report = initlint.check_file(str(path), EVERYTHING)
    assert report.error is None, report.error
    return {(f.line, f.code) for f in report.findings}


@pytest.mark.parametrize("path", FIXTURES + EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_findings_match_inline_expectations(path):
    want, got = expected(path), found(path)
    missing = sorted(want - got)
    extra = sorted(got - want)
    assert not missing and not extra, f"missing {missing}, unexpected {extra}"


@pytest.mark.parametrize("path", [p for p in FIXTURES if p.name.startswith("negative")],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_negative_fixtures_are_clean(path):
    assert found(path) == set()


def test_every_rule_has_fixtures():
    dirs = {p.parent.name for p in FIXTURES}
    for rule in all_rules():
        if rule.code in dirs:
            files = {p.name for p in FIXTURES if p.parent.name == rule.code}
            assert any(f.startswith("positive") for f in files), rule.code
            assert any(f.startswith("negative") for f in files), rule.code
            assert any(rule.code in {c for _, c in expected(p)} for p in FIXTURES if p.parent.name == rule.code)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_documented_example_triggers_and_fix_is_clean(rule):
    settings = Settings(select=frozenset({rule.code}))
    example, fixed = rule.doc_code("Example"), rule.doc_code("Use instead")
    assert example and fixed, "docstring needs ```python blocks under Example and Use instead"
    assert [f.code for f in initlint.check_source(example, settings=settings)] != []
    assert initlint.check_source(fixed, settings=settings) == []


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_metadata(rule):
    assert CODE_RE.match(rule.code)
    assert NAME_RE.match(rule.name)
    for section in ("What it does", "Why is this bad?", "Example", "Use instead", "Frameworks"):
        assert rule.doc_section(section), f"{rule.code} lacks '## {section}'"
    assert rule.doc().splitlines()[0].strip(), "first docstring line is the summary"
    assert rule.frameworks


def test_rule_names_and_codes_are_unique():
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)


def test_issue_two_rules_exist():
    assert {"INI101", "INI102", "INI201", "INI301", "INI302", "INI401", "INI402", "INI501", "INI503"} <= IMPLEMENTED
