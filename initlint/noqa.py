"""``# noqa`` exactly as flake8 7 reads it, so the CLI and the flake8 plugin agree on every file.

- inline: ``# noqa`` (everything) or ``# noqa: INI201,INI3`` (codes or prefixes), searched in the
  text of the whole token range a finding's line belongs to (a backslash-continued statement or a
  multi-line string counts as one range), as ``FileProcessor._noqa_line_mapping`` does;
- file-level: a line that starts with ``# flake8: noqa`` skips the file.
Lines are split as ``readlines()`` splits them (``\\n``, ``\\r\\n``, ``\\r``; never a form feed).
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Dict, List

NOQA_INLINE_RE = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
NOQA_FILE_RE = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
_LINES_RE = re.compile(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)")
_SPLIT_CODES_RE = re.compile(r"[,\s]")


def physical_lines(code: str) -> List[str]:
    """The file's lines with their endings, as ``readlines()`` in text mode returns them."""
    return [line for line in _LINES_RE.split(code) if line]


def file_is_ignored(lines: List[str]) -> bool:
    return any(NOQA_FILE_RE.match(line) for line in lines)


def line_mapping(code: str, lines: List[str]) -> Dict[int, str]:
    """line number -> the text searched for ``# noqa`` when a finding is reported on that line."""
    mapping: Dict[int, str] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return mapping
    low, high = len(lines) + 2, -1
    for token in tokens:
        if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        low, high = min(low, token.start[0]), max(high, token.end[0])
        if token.type in (tokenize.NL, tokenize.NEWLINE):
            joined = "".join(lines[low - 1:high])
            mapping.update(dict.fromkeys(range(low, high + 1), joined))
            low, high = len(lines) + 2, -1
    return mapping


def suppresses(text: str, code: str) -> bool:
    match = NOQA_INLINE_RE.search(text)
    if match is None:
        return False
    codes_text = match.group("codes")
    if not codes_text:
        return True
    codes = {c for c in _SPLIT_CODES_RE.split(codes_text) if c}
    return code in codes or code.startswith(tuple(codes))


class NoqaFilter:
    """Built once per file that has findings."""

    def __init__(self, code: str) -> None:
        self.lines = physical_lines(code)
        self.ignore_file = file_is_ignored(self.lines)
        # no "# noqa" anywhere: nothing to look up, and no need to tokenize the file
        self._none = NOQA_INLINE_RE.search(code) is None
        self._code = code
        self._mapping = None

    def suppressed(self, line: int, code: str) -> bool:
        if self.ignore_file:
            return True
        if self._none:
            return False
        if self._mapping is None:
            self._mapping = line_mapping(self._code, self.lines)
        text = self._mapping.get(line)
        if text is None:  # flake8 falls back to the physical line
            text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return suppresses(text, code)


def add_noqa(code: str, line: int, rule_code: str) -> str:
    """``code`` with ``rule_code`` suppressed on ``line`` (1-based): added to the ``# noqa:`` list
    already in that line's token range, else ``  # noqa: CODE`` appended to the range's last
    physical line (the one place a comment is a comment for every line of a continued statement or
    a multi-line string). Unchanged when the line is already suppressed."""
    lines = physical_lines(code)
    mapping = line_mapping(code, lines)
    text = mapping.get(line)
    if text is not None and suppresses(text, rule_code):
        return code
    first = last = line
    if text is not None:  # the range of physical lines that joined to ``text``
        while first > 1 and mapping.get(first - 1) is text:
            first -= 1
        while mapping.get(last + 1) is text:
            last += 1
    for number in range(first, last + 1):
        match = NOQA_INLINE_RE.search(lines[number - 1]) if number <= len(lines) else None
        if match is not None and match.group("codes"):
            current, start = lines[number - 1], match.start("codes")
            codes = match.group("codes").rstrip(", \t\r\n")
            lines[number - 1] = current[:start] + codes + "," + rule_code + current[start + len(codes):]
            return "".join(lines)
    if last > len(lines):
        return code
    current = lines[last - 1]
    body = current.rstrip("\r\n")
    ending = current[len(body):]
    lines[last - 1] = f"{body}  # noqa: {rule_code}{ending}"
    return "".join(lines)
