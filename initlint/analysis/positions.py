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

from .traversal import children, walk

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
    """``node_ranges`` generating only the statements that hold a wanted node: the top-level ones,
    and inside a class or function that holds one only in its body, the statements of the body
    that do (a finding in one method of a 2,000-line class generates that method), each from the
    line CPython's tree says its code starts on, less the blank and comment lines libcst keeps in
    front of it, at its block's indentation (as ``Module._codegen`` and ``IndentedBlock._codegen``
    leave it). Each generated statement's own start is checked against CPython's; where one
    disagrees, its enclosing statement is generated whole (None, at the top: the whole module);
    None too where a node is not found."""
    remaining = set(wanted)
    found: Dict[cst.CSTNode, Range] = {}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, CODEGEN_RECURSION_LIMIT))
    try:
        done = _generate(module, module.body, tree.body, (), remaining, found)
    finally:
        sys.setrecursionlimit(limit)
    return found if done and not remaining else None


def _generate(module: cst.Module, statements, py_statements, indents: Tuple[str, ...], remaining: set,
              found: Dict[cst.CSTNode, Range]) -> bool:
    """The ranges of the ``remaining`` nodes in ``statements`` (CPython's ``py_statements``, the
    same block), indented by ``indents``, into ``found``; False where the two trees disagree."""
    starts = _statement_starts(statements, py_statements)
    if starts is None:
        return False
    for statement, py_statement, begin, check, line, column in starts:
        if not remaining:
            break
        if not _holds(remaining, (statement,)):
            continue
        body = getattr(statement, "body", None)
        if type(statement) in _BLOCK_STATEMENTS and type(body) is cst.IndentedBlock and statement not in remaining \
                and not _holds(remaining, (child for child in children(statement) if child is not body)) \
                and body not in remaining and not _holds(remaining, (body.header, *body.footer)):
            indent = body.indent if body.indent is not None else module.default_indent
            if _generate(module, body.body, py_statement.body, indents + (indent,), remaining, found):
                continue  # every wanted node of it lay in its body's statements
            # a body the trees disagree on: the whole statement
        state = _PositionState(module, ())
        state.indent_tokens = list(indents)
        state.line = begin
        statement._codegen(state)
        computed = state.computed
        if check not in computed or computed[check][0] != (line, column):
            return False  # the two trees disagree on where it starts: generate what encloses it
        for node in [node for node in remaining if node in computed]:
            found[node] = computed[node]
            remaining.discard(node)
    return True


def _holds(remaining: set, nodes) -> bool:
    """Is one of ``remaining`` among ``nodes`` or below them?"""
    return any(node in remaining for top in nodes for node in walk(top))


# statements whose body is descended into (an ``if``/``for``/``try`` pairs with CPython's tree
# less simply: its ``else``/``except`` blocks; they are generated whole)
_BLOCK_STATEMENTS = (cst.ClassDef, cst.FunctionDef)


def _statement_starts(statements, py_statements):
    """``(statement, CPython's statement, line its code generation starts on, node whose start is
    known, that line, that column)`` for each statement of a block, from CPython's statements (one
    per small statement of a line); None where the two trees do not pair up."""
    index = 0
    out = []
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            count = len(statement.body)
            if not count or index + count > len(py_statements):
                return None
            first = py_statements[index]
            index += count
            out.append((statement, first, first.lineno - len(statement.leading_lines), statement.body[0],
                        first.lineno, first.col_offset))
            continue
        if index >= len(py_statements):
            return None
        first = py_statements[index]
        index += 1
        decorators = getattr(statement, "decorators", ())
        if decorators:
            listed = getattr(first, "decorator_list", None)
            if not listed:
                return None
            begin = listed[0].lineno - len(decorators[0].leading_lines) - len(statement.leading_lines)
        else:
            begin = first.lineno - len(statement.leading_lines)
        out.append((statement, first, begin, statement, first.lineno, first.col_offset))
    return out if index == len(py_statements) else None
