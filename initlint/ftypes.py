"""Plain types shared by the engine, the rules and every front end. No logic beyond (de)serialisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import total_ordering
from typing import FrozenSet, Optional, Tuple


@total_ordering
@dataclass(frozen=True)
class Finding:
    """One problem at one place. Lines and columns are 1-based, as printed. In a notebook, ``cell``
    is the cell's number (1-based, every cell counted, as in the file's ``cells`` list) and the line
    is the line within that cell; findings sort by path, cell, line, column."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str = field(compare=False)
    message: str = field(compare=False)
    framework: str = field(compare=False, default="")
    # "safe" (``--fix`` applies it), "unsafe" (only with ``--unsafe-fixes``) or None (no fix)
    fix: Optional[str] = field(compare=False, default=None)
    cell: Optional[int] = None

    def _order(self) -> tuple:
        return self.path, self.cell or 0, self.line, self.column, self.end_line, self.end_column, self.code

    def __lt__(self, other: "Finding") -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return self._order() < other._order()

    def to_json(self) -> dict:
        document = asdict(self)
        if self.cell is None:  # a .py file's finding: the documented fields only
            del document["cell"]
        return document

    def fixable(self, unsafe: bool = False) -> bool:
        """Would ``--fix`` (with ``--unsafe-fixes`` when ``unsafe``) apply a fix here?"""
        return self.fix == "safe" or (unsafe and self.fix == "unsafe")

    def text(self, unsafe_fixes: Optional[bool] = None) -> str:
        """``path:line:col: CODE message`` (``path:cell N:line:col: …`` in a notebook); with
        ``unsafe_fixes`` given, ``[*]`` before the message marks a finding the run's ``--fix`` would
        fix (ruff's mark)."""
        mark = "[*] " if unsafe_fixes is not None and self.fixable(unsafe_fixes) else ""
        where = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{where}{self.line}:{self.column}: {self.code} {mark}{self.message}"


@dataclass(frozen=True)
class FileError:
    """A file that could not be checked (does not parse, not UTF-8, unreadable...). ``cell``: a
    notebook whose cells were checked except this one (the first that does not parse; ``line`` and
    ``column`` are in it) and any others the message names."""

    path: str
    message: str
    # where the file stopped being readable (a syntax error's position), 1-based; None: the file as a whole
    line: Optional[int] = None
    column: Optional[int] = None
    cell: Optional[int] = None

    def to_json(self) -> dict:
        document = {"path": self.path, "line": self.line, "column": self.column, "message": self.message}
        if self.cell is not None:
            document["cell"] = self.cell
        return document

    def text(self) -> str:
        """``path:line:col: error: message``: the position problem matchers and editors jump to
        (1:1 for a file that could not be read at all); ``path:cell N:line:col: error: …`` for a
        notebook's cell."""
        where = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{where}{self.line or 1}:{self.column or 1}: error: {self.message}"


@dataclass(frozen=True)
class FileReport:
    path: str
    findings: Tuple[Finding, ...] = ()
    error: Optional[FileError] = None


@dataclass(frozen=True)
class Settings:
    """Which rules run, and their options. ``select``/``ignore`` hold codes or code prefixes."""

    select: FrozenSet[str] = frozenset()  # empty: every default-on rule
    extend_select: FrozenSet[str] = frozenset()
    ignore: FrozenSet[str] = frozenset()
    options: Tuple[Tuple[str, object], ...] = ()  # sorted (name, value) pairs: hashable, picklable
    # ``(glob, codes)`` pairs: in a file the glob matches, those codes or prefixes are ignored too
    per_file_ignores: Tuple[Tuple[str, FrozenSet[str]], ...] = ()

    def ignored_here(self, path: str) -> FrozenSet[str]:
        """The per-file ignores that apply to ``path``."""
        from .globs import path_matches

        codes = frozenset()
        for pattern, ignored in self.per_file_ignores:
            if path_matches(path, (pattern,)):
                codes |= ignored
        return codes

    def for_path(self, path: str) -> "Settings":
        """These settings as they apply to ``path``: its per-file ignores folded into ``ignore``."""
        if not self.per_file_ignores:
            return self
        return Settings(self.select, self.extend_select, self.ignore | self.ignored_here(path), self.options)

    def option(self, name: str, default=None):
        return dict(self.options).get(name, default)

    def enabled(self, code: str, default_on: bool = True) -> bool:
        """ruff's semantics: the most specific matching prefix decides; an off-by-default rule runs
        only when a prefix more specific than ``INI`` selects it (``--select INI204``)."""
        chosen = [p for p in self.select | self.extend_select if code.startswith(p)]
        ignored = [p for p in self.ignore if code.startswith(p)]
        best_choice = max(map(len, chosen), default=-1)
        if ignored and max(map(len, ignored)) >= best_choice:
            return False
        if chosen and (default_on or best_choice > len("INI")):
            return True
        return default_on and not self.select
