"""``rules.md`` is generated from the rules' docstrings, so it cannot drift from them.

    python -m initlint.docs > rules.md     # or: initlint rules --markdown > rules.md
    python -m initlint.docs --write        # rewrite rules.md and the rule table in README.md
    python -m initlint.docs --check        # exit 1 when either is stale (a test runs this)

``initlint rules INI101`` prints ``rule_markdown`` of that rule: the same text as its entry here.
"""

from __future__ import annotations

import os
import re
import sys
from typing import List, Optional, Sequence, Tuple

from .rule import all_rules


def all_entries() -> Tuple[type, ...]:
    """Every documented code: the static rules, then the runtime checks of ``initlint verify``."""
    from .verify.codes import all_codes  # no framework, no numpy: docstrings only

    return tuple(all_rules()) + tuple(all_codes())


def _default_label(rule) -> str:
    if getattr(rule, "runtime", False):
        return "verify"
    return "on" if rule.default_enabled else "off"

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
    if getattr(rule, "runtime", False):
        default = "runtime check (`initlint verify`)"
    lines = [f"## {rule.code}", "", f"**`{rule.name}`** · {default} · frameworks: {frameworks}", ""]
    if preamble:
        lines += [preamble, ""]
    for title, body in found:
        lines += [f"### {title}", "", body, ""]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_table(rules: Optional[Sequence] = None, link: str = "") -> str:
    """The table of every rule; ``link`` is the page the codes link into (``rules.md`` for the README)."""
    rules = all_entries() if rules is None else rules
    lines = ["| Code | Name | Default | Frameworks | Summary |", "|---|---|---|---|---|"]
    for rule in rules:
        lines.append(
            f"| [{rule.code}]({link}#{anchor(rule)}) | `{rule.name}` | {_default_label(rule)} | "
            f"{_cell(', '.join(rule.frameworks) or 'all')} | {_cell(summary(rule))} |"
        )
    return "\n".join(lines) + "\n"


def render(rules: Optional[Sequence] = None) -> str:
    """The whole of ``rules.md``."""
    rules = all_entries() if rules is None else rules
    static = [r for r in rules if not getattr(r, "runtime", False)]
    runtime = len(rules) - len(static)
    counts = f"{len(static)} rules" + (f" and {runtime} runtime checks (INI6xx, reported by `initlint verify`)"
                                      if runtime else "")
    head = (
        f"# {TITLE}\n\n"
        "<!-- Generated from the rules' docstrings by `python -m initlint.docs > rules.md`; do not edit. -->\n\n"
        f"{counts}. Off-by-default rules run only when selected: `initlint check --select INI204`, "
        "`extend-select = [\"INI204\"]` in `[tool.initlint]`, or `flake8 --extend-select INI204`. "
        "`initlint rules CODE` prints one entry.\n\n"
    )
    return head + rules_table(rules) + "".join("\n" + rule_markdown(rule) for rule in rules) + _NOT_A_RULE


# the flake8 plugin's one code that is not a rule: flake8 reports what it can, so a file our
# engine could not read must show up there as a finding rather than pass silently
_NOT_A_RULE = """
## INI000

**File could not be checked** (flake8 plugin only). flake8 parsed the file but initlint could not
analyse it (a construct libcst cannot parse, or an internal error); the message says why. The CLI
reports the same files under `errors` and exits 1. Nothing to fix in your code; please report it.
"""


README_START = "<!-- rules-table:start (generated by `python -m initlint.docs --write`) -->"
README_END = "<!-- rules-table:end -->"


def updated_readme(readme: str) -> str:
    """README.md with the rule table between its markers replaced by the current one."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md lacks the markers {README_START!r} ... {README_END!r}")
    return readme[: start + len(README_START)] + "\n" + rules_table(link="rules.md") + readme[end:]


def _generated(root: str) -> dict:
    out = {os.path.join(root, "rules.md"): render()}
    readme = os.path.join(root, "README.md")
    with open(readme, encoding="utf-8") as handle:
        out[readme] = updated_readme(handle.read())
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        sys.stdout.write(render())
        return 0
    if argv == ["--table"]:
        sys.stdout.write(rules_table(link="rules.md"))
        return 0
    if argv[0] in ("--write", "--check") and len(argv) <= 2:
        root = argv[1] if len(argv) > 1 else "."
        try:
            generated = _generated(root)
            stale = []
            for path, text in generated.items():
                current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
                if current != text:
                    stale.append(path)
                    if argv[0] == "--write":
                        with open(path, "w", encoding="utf-8") as handle:
                            handle.write(text)
        except (OSError, ValueError) as exc:
            print(f"initlint.docs: {exc}", file=sys.stderr)
            return 2
        if stale and argv[0] == "--check":
            print(f"stale: {', '.join(stale)}; regenerate with `python -m initlint.docs --write`", file=sys.stderr)
            return 1
        return 0
    print("usage: python -m initlint.docs [--table | --write [ROOT] | --check [ROOT]]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
