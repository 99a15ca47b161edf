"""Line and column of the few nodes a file's findings point at.

libcst's ``PositionProvider`` regenerates the whole module and records a ``CodeRange`` for every
node, splitting every token with a regular expression and entering a context manager per node: on
real model code that cost about twice the parse of the file. Findings need the positions of a
handful of nodes, so this is the same computation (``PositionProvider``'s semantics: syntactic
start and end, whitespace excluded where libcst excludes it) with cheaper bookkeeping, and it stops
generating code as soon as the last node asked for is done.
"""

from __future__ import annotations

import ast
import re
import sys
from typing import Collection, Dict, List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

from .traversal import walk

Position = Tuple[int, int]  # line (1-based), column (0-based), as libcst's CodePosition
Range = Tuple[Position, Position]

_NEWLINE = re.compile(r"\r\n?|\n")
# libcst generates code recursively, a few frames per level; what reaches it is at most ~3,000
# levels deep (CPython's parser refuses deeper code, the engine longer flat chains), which needs
# more than Python's default limit of 1,000 and, measured, stays well inside the C stack
CODEGEN_RECURSION_LIMIT = 20_000


class _AllFound(Exception):
    """Raised from inside the code generation once every wanted node has its range."""


class _Syntactic:
    """``record_syntactic_position`` without contextlib's generator: one small object per use."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: "_PositionState", node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:  # _AllFound on its way out: the nodes still open are not wanted
            return
        state = self.state
        computed = state.computed
        start = computed[self.start_node][0] if self.start_node is not None else self.start
        end = computed[self.end_node][1] if self.end_node is not None else (state.line, state.column)
        computed[self.node] = (start, end)


class _PositionState(CodegenState):
    """libcst's ``PositionProvidingCodegenState``, keeping plain tuples."""

    def __init__(self, module: cst.Module, wanted: Collection[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line, self.column = 1, 0
        self.computed: Dict[cst.CSTNode, Range] = {}
        self.stack: List[Position] = []
        self.missing = set(wanted)

    def _advance(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        computed = self.computed
        if node not in computed:  # a syntactic range, recorded just before, wins
            computed[node] = (start, (self.line, self.column))
        missing = self.missing
        if node in missing:
            missing.discard(node)
            if not missing:
                raise _AllFound

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


def node_ranges(module: cst.Module, nodes: Collection[cst.CSTNode],
                tree: Optional[ast.Module] = None) -> Dict[cst.CSTNode, Range]:
    """``{node: ((line, column), (end_line, end_column))}`` for each of ``nodes`` found in ``module``
    (lines 1-based, columns 0-based, as ``PositionProvider`` gives them). ``tree``: CPython's tree of
    the same source, whose statement lines let only the top-level statements that hold a node be
    generated."""
    wanted = set(nodes)
    if not wanted:
        return {}
    if tree is not None and len(module.body) > 1:
        found = _by_statement(module, wanted, tree)
        if found is not None:
            return found
    state = _PositionState(module, wanted)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, CODEGEN_RECURSION_LIMIT))
    try:
        module._codegen(state)
    except _AllFound:
        pass
    finally:
        sys.setrecursionlimit(limit)
    return {node: state.computed[node] for node in wanted if node in state.computed}


def _by_statement(module: cst.Module, wanted: set, tree: ast.Module) -> Optional[Dict[cst.CSTNode, Range]]:
    """``node_ranges`` generating only the top-level statements that hold a wanted node, each from
    the line CPython's tree says its code starts on, less the blank and comment lines libcst keeps
    in front of it (a top-level statement starts at column 0 and at no indentation, as in
    ``Module._codegen``). Each generated statement's own first line is checked against CPython's;
    None (the caller generates the whole module) where a line disagrees or a node is not found."""
    starts = _statement_starts(module, tree)
    if starts is None:
        return None
    remaining = set(wanted)
    found: Dict[cst.CSTNode, Range] = {}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, CODEGEN_RECURSION_LIMIT))
    try:
        for statement, begin, check, line in starts:
            if not remaining:
                break
            if not any(node in remaining for node in walk(statement)):
                continue
            state = _PositionState(module, ())
            state.line = begin
            statement._codegen(state)
            computed = state.computed
            if check not in computed or computed[check][0] != (line, 0):
                return None  # the two trees disagree on where it starts: generate the whole module
            for node in [node for node in remaining if node in computed]:
                found[node] = computed[node]
                remaining.discard(node)
    finally:
        sys.setrecursionlimit(limit)
    return found if not remaining else None


def _statement_starts(module: cst.Module, tree: ast.Module):
    """``(statement, line its code generation starts on, node whose first line is known, that line)``
    for each top-level statement, from CPython's statements (one per small statement of a line);
    None where the two trees do not pair up."""
    statements = tree.body
    index = 0
    out = []
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            count = len(statement.body)
            if not count or index + count > len(statements):
                return None
            first = statements[index]
            index += count
            out.append((statement, first.lineno - len(statement.leading_lines), statement.body[0], first.lineno))
            continue
        if index >= len(statements):
            return None
        first = statements[index]
        index += 1
        decorators = getattr(statement, "decorators", ())
        if decorators:
            listed = getattr(first, "decorator_list", None)
            if not listed:
                return None
            begin = listed[0].lineno - len(decorators[0].leading_lines) - len(statement.leading_lines)
        else:
            begin = first.lineno - len(statement.leading_lines)
        out.append((statement, begin, statement, first.lineno))
    return out if index == len(statements) else None
