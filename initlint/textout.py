"""What a person reads in a terminal: findings with fix marks, colour and source lines, the rule
statistics, and the fix hint under the summary. The machine formats (json, sarif, github) are in
``formats.py``; this module only dresses the text format."""

from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, TextIO

from .formats import CheckResult
from .ftypes import Finding

_BOLD, _RED, _CYAN, _DIM, _RESET = "\x1b[1m", "\x1b[31m", "\x1b[36m", "\x1b[2m", "\x1b[0m"


def use_colour(choice: str, stream: TextIO) -> bool:
    """``--color``: always, never, or auto — a terminal, unless ``NO_COLOR`` is set (no-color.org);
    ``FORCE_COLOR`` turns it on where auto would not."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"



def render_findings(result: CheckResult, colour: bool = False, show_source: bool = False) -> str:
    """``path:line:col: CODE [*] message`` per finding; ``[*]``: ``--fix`` (with this run's
    ``--unsafe-fixes``) would fix it. ``show_source`` adds the line and a caret, as flake8 does."""
    lines: List[str] = []
    read = _source_lines() if show_source else None
    for finding in result.findings:
        mark = "[*] " if finding.fixable(result.unsafe_fixes) else ""
        if colour:
            cell = f"cell {finding.cell}:" if finding.cell is not None else ""
            where = f"{_BOLD}{finding.path}{_RESET}:{cell}{finding.line}:{finding.column}:"
            mark = f"{_CYAN}{mark}{_RESET}" if mark else ""
            lines.append(f"{where} {_BOLD}{_RED}{finding.code}{_RESET} {mark}{finding.message}")
        else:
            lines.append(finding.text(result.unsafe_fixes))
        if read is not None:
            source = read(finding.path, finding.line) if finding.cell is None else _cell_line(finding)
            if source is not None:
                lines.append(source.rstrip("\r\n").expandtabs(1))
                lines.append(" " * (finding.column - 1) + "^")
    return "".join(line + "\n" for line in lines)


def _cell_line(finding: Finding) -> Optional[str]:
    """A notebook finding's line, from its cell (the file's own line is JSON)."""
    from .notebook_text import notebook_file

    stored = notebook_file(finding.path)
    return stored.cell_line(finding.cell, finding.line) if stored is not None else None


def _source_lines():
    """``read(path, line)``: the line as written (indentation kept), None if it cannot be read."""
    cache: Dict[str, Optional[List[str]]] = {}

    def read(path: str, line: int) -> Optional[str]:
        if path not in cache:
            try:
                import tokenize

                with tokenize.open(path) as handle:
                    cache[path] = handle.read().splitlines()
            except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
                cache[path] = None
        lines = cache[path]
        return lines[line - 1] if lines is not None and 0 < line <= len(lines) else None

    return read


def statistics(result: CheckResult, fmt: str = "text") -> str:
    """How many findings each rule has, most first (ruff's ``--statistics``): text rows
    ``count  CODE  [*] name`` (``[*]``: every one of them fixable), or a JSON list."""
    counts: Dict[str, List[Finding]] = {}
    for finding in result.findings:
        counts.setdefault(finding.code, []).append(finding)
    rows = sorted(counts.items(), key=lambda item: (-len(item[1]), item[0]))
    if fmt == "json":
        return json.dumps([{"code": code, "name": found[0].name, "count": len(found),
                            "fixable": sum(f.fixable(result.unsafe_fixes) for f in found)}
                           for code, found in rows], indent=2) + "\n"
    width = max((len(str(len(found))) for _, found in rows), default=1)
    out = []
    for code, found in rows:
        fixable = all(f.fixable(result.unsafe_fixes) for f in found)
        out.append(f"{len(found):>{width}}  {code}  {'[*] ' if fixable else '    '}{found[0].name}\n")
    return "".join(out)


def fix_hint(result: CheckResult) -> Optional[str]:
    """ruff's line under the summary: how many findings ``--fix`` would fix, and how many more
    ``--unsafe-fixes`` would add. None when there is nothing to fix."""
    fixable = sum(f.fixable(result.unsafe_fixes) for f in result.findings)
    hidden = 0 if result.unsafe_fixes else sum(f.fix == "unsafe" for f in result.findings)
    return fix_counts_text(fixable, hidden, "fixable with `--fix`")


def fix_counts_text(fixable: int, hidden: int, what: str) -> Optional[str]:
    if not fixable and not hidden:
        return None
    parts = []
    if fixable:
        parts.append(f"[*] {fixable} {what}")
    if hidden:
        more = f"{hidden} more fix{'es' * (hidden != 1)} with `--unsafe-fixes` (they change the numbers the model starts from)"
        parts.append(f"({more})" if fixable else more)
    return " ".join(parts)
