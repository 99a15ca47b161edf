"""``rules.md`` is generated from the rules' docstrings, so it cannot drift from them.

    python -m initlint.docs > rules.md          # or: initlint rules --markdown > rules.md
    python -m initlint.docs --check rules.md    # exit 1 when rules.md is stale

``initlint rules INI101`` prints ``rule_markdown`` of that rule: the same text as its entry here.
"""

from __future__ import annotations

import re
import sys
from typing import List, Optional, Sequence, Tuple

from .rule import all_rules

TITLE = "initlint rules"
# ruff's order; a section a rule adds beyond these follows them, in the docstring's order
SECTION_ORDER = (
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "Fix safety",
    "Options",
    "Known problems",
    "Frameworks",
    "References",
)
_SECTION_RE = re.compile(r"^## (.+?)\s*$", re.M)
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.")


def sections(rule) -> Tuple[str, List[Tuple[str, str]]]:
    """The docstring's text before its first ``## `` heading, and its ``(title, body)`` sections in
    ``SECTION_ORDER``."""
    doc = rule.doc()
    parts = _SECTION_RE.split(doc)
    preamble, found = parts[0].strip(), []
    for index in range(1, len(parts), 2):
        found.append((parts[index].strip(), parts[index + 1].strip()))
    rank = {title: i for i, title in enumerate(SECTION_ORDER)}
    ordered = sorted(enumerate(found), key=lambda item: (rank.get(item[1][0], len(rank)), item[0]))
    return preamble, [section for _, section in ordered]


def summary(rule) -> str:
    """One line: the first sentence of *What it does* (or of the docstring)."""
    _, found = sections(rule)
    text = dict(found).get("What it does") or rule.doc()
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    for match in re.finditer(r"[.!?](?=\s|$)", paragraph):
        head = paragraph[: match.end()]
        if not head.lower().endswith(_ABBREVIATIONS):
            return head
    return paragraph


def anchor(rule) -> str:
    """``rules.md#ini101``: the rule's section heading is its bare code, which every Markdown
    renderer turns into this anchor."""
    return rule.code.lower()


def rule_markdown(rule) -> str:
    """The rule's entry in ``rules.md``; ``initlint rules CODE`` prints exactly this."""
    preamble, found = sections(rule)
    frameworks = ", ".join(rule.frameworks) if rule.frameworks else "all"
    default = "on by default" if rule.default_enabled else "off by default (enable with `--select " + rule.code + "`)"
    lines = [f"## {rule.code}", "", f"**`{rule.name}`** · {default} · frameworks: {frameworks}", ""]
    if preamble:
        lines += [preamble, ""]
    for title, body in found:
        lines += [f"### {title}", "", body, ""]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_table(rules: Sequence) -> str:
    lines = ["| Code | Name | Default | Frameworks | Summary |", "|---|---|---|---|---|"]
    for rule in rules:
        lines.append(
            f"| [{rule.code}](#{anchor(rule)}) | `{rule.name}` | {'on' if rule.default_enabled else 'off'} | "
            f"{_cell(', '.join(rule.frameworks) or 'all')} | {_cell(summary(rule))} |"
        )
    return "\n".join(lines) + "\n"


def render(rules: Optional[Sequence] = None) -> str:
    """The whole of ``rules.md``."""
    rules = all_rules() if rules is None else rules
    head = (
        f"# {TITLE}\n\n"
        "<!-- Generated from the rules' docstrings by `python -m initlint.docs > rules.md`; do not edit. -->\n\n"
        f"{len(rules)} rules. Off-by-default rules run only when selected: `initlint check --select INI204`, "
        "`extend-select = [\"INI204\"]` in `[tool.initlint]`, or `flake8 --extend-select INI204`. "
        "`initlint rules CODE` prints one entry.\n\n"
    )
    return head + rules_table(rules) + "".join("\n" + rule_markdown(rule) for rule in rules)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    text = render()
    if argv[:1] == ["--check"]:
        target = argv[1] if len(argv) > 1 else "rules.md"
        try:
            with open(target, encoding="utf-8") as handle:
                current = handle.read()
        except OSError as exc:
            print(f"{target}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            return 1
        if current != text:
            print(f"{target} is stale: regenerate it with `python -m initlint.docs > {target}`", file=sys.stderr)
            return 1
        return 0
    if argv:
        print("usage: python -m initlint.docs [--check [rules.md]]", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
