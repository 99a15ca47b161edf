"""Where a notebook's cells lie in the text of its ``.ipynb`` file: the JSON string literals of each
cell's ``"source"`` (``SourceSpans``, found with the C scanner of the ``json`` module, which also
steps over outputs), and the file's own line and column of any character of a cell
(``NotebookFile.file_position``). ``--fix`` replaces those literals and nothing else
(``notebook_fix.py``); SARIF and GitHub annotate the stored file at those positions (``formats.py``).
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Tuple

from .ftypes import Finding
from .noqa import physical_lines
from .notebook import load_notebook


@dataclass
class Literal:
    start: int  # offset of the opening quote in the file's text
    end: int  # offset just past the closing quote
    value: str


@dataclass
class SourceSpan:
    """Where one cell's ``"source"`` value lies in the file's text."""

    start: int
    end: int
    literals: List[Literal]  # one for a string value; the elements of a list value
    is_list: bool


_WHITESPACE = re.compile(r"[ \t\n\r]*")


class SourceSpans:
    """The ``"source"`` of every cell, located in the file's text (with the ``json`` module's C
    scanner for strings, and its decoder to step over every other value)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._decoder = json.JSONDecoder()
        self.spans: List[Optional[SourceSpan]] = []
        self._scan()

    def _skip(self, i: int) -> int:
        return _WHITESPACE.match(self.text, i).end()

    def _expect(self, i: int, char: str) -> int:
        i = self._skip(i)
        if self.text[i:i + 1] != char:
            raise ValueError(f"expected {char!r} at offset {i}")
        return i + 1

    def _string(self, i: int) -> Tuple[Literal, int]:
        if self.text[i:i + 1] != '"':
            raise ValueError(f"expected a string at offset {i}")
        value, end = json.decoder.scanstring(self.text, i + 1)
        return Literal(i, end, value), end

    def _object(self, i: int, member) -> int:
        """Step over the object at ``i``; ``member(key, value start)`` parses each value and returns
        its end. Returns the offset past the closing brace."""
        i = self._skip(self._expect(i, "{"))
        if self.text[i:i + 1] == "}":
            return i + 1
        while True:
            key, i = self._string(self._skip(i))
            i = member(key.value, self._skip(self._expect(i, ":")))
            i = self._skip(i)
            if self.text[i:i + 1] == "}":
                return i + 1
            i = self._expect(i, ",")

    def _value_end(self, i: int) -> int:
        return self._decoder.raw_decode(self.text, i)[1]

    def _scan(self) -> None:
        self._object(self._skip(0), lambda key, i: self._cells(i) if key == "cells" else self._value_end(i))

    def _cells(self, i: int) -> int:
        self.spans = []  # a repeated "cells" key: the last one counts, as json.loads reads it
        i = self._skip(self._expect(i, "["))
        if self.text[i:i + 1] == "]":
            return i + 1
        while True:
            i = self._skip(self._cell(self._skip(i)))
            if self.text[i:i + 1] == "]":
                return i + 1
            i = self._expect(i, ",")

    def _cell(self, i: int) -> int:
        found: List[Optional[SourceSpan]] = [None]

        def member(key: str, start: int) -> int:
            if key != "source":
                return self._value_end(start)
            found[0] = self._source(start)
            return found[0].end

        end = self._object(i, member)
        self.spans.append(found[0])
        return end

    def _source(self, i: int) -> SourceSpan:
        if self.text[i:i + 1] == '"':
            literal, end = self._string(i)
            return SourceSpan(i, end, [literal], False)
        start = i
        literals = []
        i = self._skip(self._expect(i, "["))
        if self.text[i:i + 1] != "]":
            while True:
                literal, i = self._string(self._skip(i))
                literals.append(literal)
                i = self._skip(i)
                if self.text[i:i + 1] == "]":
                    break
                i = self._expect(i, ",")
        return SourceSpan(start, i + 1, literals, True)


def _literal_body_index(body: str, k: int) -> int:
    """The offset in a JSON string literal's body (without quotes) of its ``k``-th decoded
    character (an escape is one character; a surrogate pair of escapes is one code point)."""
    i = count = 0
    while count < k and i < len(body):
        if body[i] == "\\":
            if body[i + 1:i + 2] == "u":
                unit = int(body[i + 2:i + 6], 16)
                pair = (0xD800 <= unit < 0xDC00 and body[i + 6:i + 8] == "\\u"
                        and 0xDC00 <= int(body[i + 8:i + 12] or "0", 16) < 0xE000)
                i += 12 if pair else 6
            else:
                i += 2
        else:
            i += 1
        count += 1
    return i


class NotebookFile:
    """A notebook's text with its cells located in it: the file's own positions of the cells'
    characters (for SARIF and GitHub annotations) and the cells' lines (for SARIF fingerprints)."""

    def __init__(self, text: str) -> None:
        self.notebook = load_notebook(text)
        self.text = self.notebook.text
        self._spans: Optional[SourceSpans] = None
        self._line_starts: Optional[List[int]] = None

    @property
    def spans(self) -> List[Optional[SourceSpan]]:
        if self._spans is None:
            self._spans = SourceSpans(self.text)
            if len(self._spans.spans) != len(self.notebook.cells):  # pragma: no cover - json.loads agreed
                raise ValueError("the cells located in the text are not the cells json read")
        return self._spans.spans

    def cell_line(self, cell: int, line: int) -> str:
        """The text of line ``line`` (1-based) of cell ``cell``, without its ending; '' if none."""
        if not 0 < cell <= len(self.notebook.cells):
            return ""
        lines = physical_lines(self.notebook.cells[cell - 1].source)
        return lines[line - 1].rstrip("\r\n") if 0 < line <= len(lines) else ""

    def file_position(self, cell: int, line: int, column: int) -> Tuple[int, int]:
        """The 1-based ``(line, column)`` in the file's text of a cell's character (1-based line and
        column in the cell, column in code points): inside the JSON string literal that holds it."""
        span = self.spans[cell - 1] if 0 < cell <= len(self.notebook.cells) else None
        if span is None or not span.literals:
            return 1, 1
        lines = physical_lines(self.notebook.cells[cell - 1].source)
        line = min(max(line, 1), max(len(lines), 1))
        offset = sum(len(text) for text in lines[:line - 1]) + column - 1
        offset = min(max(offset, 0), len(self.notebook.cells[cell - 1].source))
        starts = []
        total = 0
        for literal in span.literals:
            starts.append(total)
            total += len(literal.value)
        k = max(0, bisect.bisect_right(starts, offset) - 1)
        # at the end of one element and the start of the next, the next holds the character
        while k + 1 < len(starts) and offset >= starts[k] + len(span.literals[k].value):
            k += 1
        literal = span.literals[k]
        body = self.text[literal.start + 1:literal.end - 1]
        where = literal.start + 1 + _literal_body_index(body, offset - starts[k])
        return self._line_column(where)

    def _line_column(self, offset: int) -> Tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = [0] + [match.end() for match in re.finditer("\n", self.text)]
        row = bisect.bisect_right(self._line_starts, offset) - 1
        return row + 1, offset - self._line_starts[row] + 1


@lru_cache(maxsize=16)
def _read_notebook_file(path: str, stamp: Tuple[int, int]) -> Optional[NotebookFile]:
    try:
        with open(path, "rb") as handle:
            return NotebookFile(handle.read().decode("utf-8"))
    except Exception:  # gone, changed into something else: the formats fall back to the cell's numbers
        return None


def notebook_file(path: str) -> Optional[NotebookFile]:
    """The notebook at ``path`` as it is on disk now (read once per version of the file), or None."""
    import os

    try:
        status = os.stat(path)
    except OSError:
        return None
    return _read_notebook_file(path, (status.st_mtime_ns, status.st_size))


def file_region(finding: Finding) -> Tuple[int, int, int, int]:
    """``(line, column, end line, end column)`` of a notebook finding in the ``.ipynb`` file's own
    text, for the formats that annotate the stored file (SARIF, GitHub); the finding's own numbers
    when the file cannot be read back."""
    stored = notebook_file(finding.path) if finding.cell is not None else None
    if stored is None:
        return finding.line, finding.column, finding.end_line, finding.end_column
    try:
        line, column = stored.file_position(finding.cell, finding.line, finding.column)
        end_line, end_column = stored.file_position(finding.cell, finding.end_line, finding.end_column)
    except (ValueError, IndexError):
        return finding.line, finding.column, finding.end_line, finding.end_column
    if (end_line, end_column) < (line, column):
        end_line, end_column = line, column
    return line, column, end_line, end_column


def cell_line_text(path: str, cell: int, line: int) -> str:
    """The stripped text of a notebook cell's line ('' when it cannot be read)."""
    stored = notebook_file(path)
    return stored.cell_line(cell, line).strip() if stored is not None else ""
