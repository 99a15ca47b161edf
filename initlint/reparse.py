"""Successive versions of one buffer parsed and positioned again only where they changed.

An editor sends the whole buffer after each keystroke, and on a 2,000-line model file libcst's
parse and the positions' code generation are most of a check (``benchmarks/bench_server.py``).
A keystroke changes one top-level statement, so a ``Reparser`` cuts each version into chunks of
top-level statements, parses only the chunks whose text it has not seen, and reuses the others'
trees (and the positions of their nodes) from the version before. What it returns is the tree a
whole parse gives (equal node for node, the test compares them with ``deep_equals`` on real files),
so the engine's findings are those of ``initlint check``.

When is a chunk parsed alone the same as in the whole file? libcst gives the comments and blank
lines between two statements to the second one (its ``leading_lines``), except lines indented
further, which belong to the first one's block (``IndentedBlock.footer``), and it records a
block's indentation relative to the file's first (``Module.default_indent``). So a cut is made only
where the lines between two statements are empty or comments at column 0, and a chunk other than
the first is parsed after a one-line prefix that fixes the file's first indentation
(``if 1:`` + an indented ``pass``), whose statement is then dropped. Anything else (``\\r``
newlines, a byte-order mark, a tokenizer that disagrees with libcst on that indentation) is
parsed whole, as before.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst

from .analysis.positions import CODEGEN_RECURSION_LIMIT, Range, _PositionState

DEFAULT_INDENT = "    "  # libcst's, for a file without an indented block


@dataclass(eq=False)
class Chunk:
    """Consecutive top-level statements; ``first``: the file's header comes with them."""

    text: str
    statements: Tuple[cst.BaseStatement, ...]
    first: bool
    header: Tuple[cst.EmptyLine, ...] = ()
    footer: Tuple[cst.EmptyLine, ...] = ()
    trailing_newline: bool = True
    # positions of every node in the chunk, lines counted from the chunk's first line (computed on
    # first need, then kept as long as the chunk is)
    ranges: Optional[Dict[cst.CSTNode, Range]] = field(default=None, repr=False)


def line_texts(source: str) -> List[str]:
    """The lines of ``source``, each with its ``\\n`` (the last one may have none)."""
    lines = source.split("\n")
    texts = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        texts.append(lines[-1])
    return texts


def _first_line(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", None) or ()
    return min([statement.lineno] + [decorator.lineno for decorator in decorators])


def cut_lines(tree: ast.Module, lines: Sequence[str]) -> List[int]:
    """The 0-based line indices where chunks start (the first is 0): each right after a top-level
    statement whose successor is separated from it only by empty lines and column-0 comments, and
    itself starts at column 0 (a continued decorator does not)."""
    cuts = [0]
    body = tree.body
    for before, after in zip(body, body[1:]):
        end, start = before.end_lineno, _first_line(after)
        if end is None or start <= end:
            continue  # `a = 1; b = 2`: one libcst statement
        if not all(line == "\n" or line.startswith("#") for line in lines[end:start - 1]):
            continue
        opening = lines[start - 1][:1]
        if not opening or opening in " \t\f#\\\n":
            continue
        cuts.append(end)
    return cuts


def statements_per_chunk(tree: ast.Module, cuts: Sequence[int]) -> List[int]:
    """How many libcst statements each chunk holds: one per top-level statement, except that
    statements sharing a line (``a = 1; b = 2``) are one ``SimpleStatementLine``."""
    counts = [0] * len(cuts)
    chunk, previous_end = 0, None
    for statement in tree.body:
        first = _first_line(statement)
        while chunk + 1 < len(cuts) and first > cuts[chunk + 1]:
            chunk += 1
        if previous_end is None or statement.lineno != previous_end:
            counts[chunk] += 1
        previous_end = statement.end_lineno
    return counts


_INDENTED_LINE = re.compile(r"^[ \t\f]", re.MULTILINE)


def first_indent(source: str) -> Tuple[Optional[str], Optional[int]]:
    """The indentation of the file's first indented block (libcst's ``default_indent``), from
    Python's tokenizer, which stops there, and where the line of that block's first statement ends
    (the text up to there decides it; None when no block is indented). ``(None, None)`` if the
    tokenizer fails."""
    if not _INDENTED_LINE.search(source):  # no line starts indented: no block is (and no tokenizing)
        return DEFAULT_INDENT, None
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.INDENT:
                line = token.start[0]
                end = -1
                for _ in range(line):
                    end = source.find("\n", end + 1)
                    if end < 0:
                        return token.string, None
                return token.string, end + 1
    except Exception:  # the check's own gates report what is wrong with the source
        return None, None
    return DEFAULT_INDENT, None


class Reparser:
    """Parses the versions of one buffer; keeps the chunks of the last version."""

    def __init__(self) -> None:
        self._chunks: Dict[Tuple[str, bool, bool], Chunk] = {}
        self._indent: Optional[str] = None  # the file's first indentation, which the chunks assume
        # the text that decided the first indentation of the last version, and that indentation: a
        # version that starts with the same text has the same (tokenizing a long file whose blocks
        # come late, or a flat script, costs ~30 ms for 2,000 lines)
        self._indent_decided: Optional[Tuple[str, str]] = None
        # id(module) -> (module, [(chunk, its first line)]) for the module last assembled
        self._layout: Dict[int, Tuple[cst.Module, List[Tuple[Chunk, int]]]] = {}
        self.reused = 0  # chunks taken from the version before, in the last parse (for tests)

    def parse(self, source, tree: ast.Module, whole) -> cst.Module:
        """libcst's tree of ``source`` (CPython's ``tree`` of it); ``whole``: the engine's parse of
        a whole source, for what is not cut into chunks."""
        self._layout, self.reused = {}, 0
        if not isinstance(source, str) or "\r" in source or source.startswith("\ufeff") or not tree.body:
            self._chunks, self._indent = {}, None
            return whole(source)
        indent = self._first_indent(source)
        if indent is None or indent != self._indent:
            self._chunks = {}
        lines = line_texts(source)
        cuts = cut_lines(tree, lines)
        texts = ["".join(lines[start:end]) for start, end in zip(cuts, cuts[1:] + [len(lines)])]
        keys = [(text, i == 0, i == len(texts) - 1) for i, text in enumerate(texts)]
        self.reused = sum(key in self._chunks for key in keys)
        if len(texts) == 1 or self.reused == 0:
            module = whole(source)
            chunks = self._split(module, source, tree, cuts, texts)
            if chunks is None or indent != module.default_indent:
                self._chunks, self._indent = {}, None  # tokenizer and libcst disagree: no reuse
                return module
            self._indent = indent
        else:
            chunks = [self._chunks.get(key) or self._parse_chunk(key, indent) for key in keys]
            if any(chunk is None for chunk in chunks):
                self._chunks, self._indent = {}, None
                return whole(source)
            module = cst.Module(body=[s for chunk in chunks for s in chunk.statements],
                                header=chunks[0].header, footer=chunks[-1].footer, encoding="utf-8",
                                default_indent=indent, default_newline="\n",
                                has_trailing_newline=chunks[-1].trailing_newline)
        self._chunks = dict(zip(keys, chunks))
        self._layout[id(module)] = (module, [(chunk, cut + 1) for chunk, cut in zip(chunks, cuts)])
        return module

    def _first_indent(self, source: str) -> Optional[str]:
        decided = self._indent_decided
        if decided is not None and source.startswith(decided[0]):
            return decided[1]
        indent, end = first_indent(source)
        self._indent_decided = (source[:end], indent) if indent is not None and end is not None else None
        return indent

    def _split(self, module: cst.Module, source: str, tree: ast.Module, cuts, texts) -> Optional[List[Chunk]]:
        """The chunks of a whole parse, its statements shared out as the cuts fall."""
        counts = statements_per_chunk(tree, cuts)
        if sum(counts) != len(module.body) or not all(counts):
            return None
        chunks, at = [], 0
        for i, (text, count) in enumerate(zip(texts, counts)):
            last = i == len(texts) - 1
            chunks.append(Chunk(text, tuple(module.body[at:at + count]), i == 0,
                                header=tuple(module.header) if i == 0 else (),
                                footer=tuple(module.footer) if last else (),
                                trailing_newline=module.has_trailing_newline if last else True))
            at += count
        return chunks

    def _parse_chunk(self, key: Tuple[str, bool, bool], indent: str) -> Optional[Chunk]:
        from .engine import parse

        text, first, last = key
        prefix = "" if first else f"if 1:\n{indent}pass\n"
        try:
            module = parse(prefix + text)
        except Exception:
            return None
        statements = tuple(module.body if first else module.body[1:])
        if not statements or (not first and module.default_indent != indent) or (module.footer and not last):
            return None
        return Chunk(text, statements, first, header=tuple(module.header) if first else (),
                     footer=tuple(module.footer), trailing_newline=module.has_trailing_newline)

    def node_ranges(self, module: cst.Module, nodes) -> Optional[Dict[cst.CSTNode, Range]]:
        """Positions of ``nodes`` as ``analysis.positions.node_ranges`` gives them, from the chunks'
        kept positions; None for a module this did not assemble (the caller computes them)."""
        layout = self._layout.get(id(module))
        if layout is None or layout[0] is not module:
            return None
        found: Dict[cst.CSTNode, Range] = {}
        wanted = set(nodes)
        for chunk, start in layout[1]:
            if not wanted:
                break
            ranges = chunk.ranges
            if ranges is None:
                ranges = chunk.ranges = _chunk_ranges(module, chunk)
            shift = start - 1
            for node in [node for node in wanted if node in ranges]:
                (line, column), (end_line, end_column) = ranges[node]
                found[node] = ((line + shift, column), (end_line + shift, end_column))
                wanted.discard(node)
        return found if not wanted else None


def _chunk_ranges(module: cst.Module, chunk: Chunk) -> Dict[cst.CSTNode, Range]:
    """Every node's range in ``chunk``, generated as ``Module._codegen`` generates it (the header
    first in the first chunk), lines counted from the chunk's first line."""
    state = _PositionState(module, ())
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, CODEGEN_RECURSION_LIMIT))
    try:
        for line in chunk.header:
            line._codegen(state)
        for statement in chunk.statements:
            statement._codegen(state)
    finally:
        sys.setrecursionlimit(limit)
    return state.computed
