"""Plain types shared by the engine, the rules and every front end. No logic beyond (de)serialisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import FrozenSet, Optional, Tuple


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place. Lines and columns are 1-based, as printed."""

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

    def to_json(self) -> dict:
        return asdict(self)

    def fixable(self, unsafe: bool = False) -> bool:
        """Would ``--fix`` (with ``--unsafe-fixes`` when ``unsafe``) apply a fix here?"""
        return self.fix == "safe" or (unsafe and self.fix == "unsafe")

    def text(self, unsafe_fixes: Optional[bool] = None) -> str:
        """``path:line:col: CODE message``; with ``unsafe_fixes`` given, ``[*]`` before the message
        marks a finding the run's ``--fix`` would fix (ruff's mark)."""
        mark = "[*] " if unsafe_fixes is not None and self.fixable(unsafe_fixes) else ""
        return f"{self.path}:{self.line}:{self.column}: {self.code} {mark}{self.message}"


@dataclass(frozen=True)
class FileError:
    """A file that could not be checked (does not parse, not UTF-8, unreadable...)."""

    path: str
    message: str
    # where the file stopped being readable (a syntax error's position), 1-based; None: the file as a whole
    line: Optional[int] = None
    column: Optional[int] = None

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.line, "column": self.column, "message": self.message}

    def text(self) -> str:
        """``path:line:col: error: message``: the position problem matchers and editors jump to
        (1:1 for a file that could not be read at all)."""
        return f"{self.path}:{self.line or 1}:{self.column or 1}: error: {self.message}"


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
