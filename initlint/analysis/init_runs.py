"""Runs of consecutive in-place init statements, and the tensor each one fills.

Copy-paste slips in init code live in blocks like

    nn.init.constant_(m.weight, 1)
    nn.init.constant_(m.weight, 0)      # m.bias was meant

A *run* is a maximal sequence of statements in one block that are each a single in-place fill
(a catalogue initialiser such as ``nn.init.xavier_uniform_(t)``, or ``t.normal_()``/``t.fill_()``/
``t.zero_()``/``t.uniform_()``), optionally inside an ``if`` that holds nothing else (``if m.bias
is not None: ...``). Any other statement ends the run: it may read or change the tensor, so an
earlier fill is no longer known to be dead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

import libcst as cst

from .inits import TENSOR_METHODS, filled_tensor


@dataclass(eq=False)
class Fill:
    call: cst.Call
    tensor: cst.BaseExpression  # what is filled, without ``.data``
    text: str  # its code
    guard: Optional[cst.BaseExpression] = None  # the ``if`` test around it, if any


def _strip(node: cst.BaseExpression) -> cst.BaseExpression:
    while True:
        if isinstance(node, cst.Attribute) and node.attr.value == "data":
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                and node.func.attr.value == "detach" and not node.args:
            node = node.func.value
        else:
            return node


def filled_tensors(facts) -> Dict[cst.Call, cst.BaseExpression]:
    """Every in-place fill in the file: call -> the tensor it fills (``.data`` stripped)."""
    out: Dict[cst.Call, cst.BaseExpression] = {}
    for use in facts.init_uses:
        if use.via != "inplace" or not isinstance(use.node, cst.Call):
            continue
        call = use.node
        if use.entry is not None and use.entry.name.startswith("torch.Tensor.") and isinstance(call.func, cst.Attribute):
            out[call] = _strip(call.func.value)
            continue
        tensor = filled_tensor(call)
        if tensor is not None:
            out[call] = _strip(tensor)
    for site in facts.collected.calls:
        call = site.node
        if call not in out and isinstance(call.func, cst.Attribute) and call.func.attr.value in TENSOR_METHODS:
            out[call] = _strip(call.func.value)
    return out


def _only_call(statement) -> Optional[cst.Call]:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
            and isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.Call):
        return statement.body[0].value
    return None


def _blocks(statements) -> Iterator[List[cst.CSTNode]]:
    """``statements`` and every statement list nested in it, not entering nested defs and classes."""
    stack = [list(statements)]
    while stack:
        block = stack.pop()
        yield block
        for statement in block:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) or not isinstance(statement, cst.BaseCompoundStatement):
                continue
            for part in _parts(statement):
                body = getattr(part, "body", None)
                if isinstance(body, cst.IndentedBlock):
                    stack.append(list(body.body))


def _parts(statement):
    yield statement
    orelse = getattr(statement, "orelse", None)
    while orelse is not None:
        yield orelse
        orelse = getattr(orelse, "orelse", None) if isinstance(orelse, cst.If) else None
    for handler in getattr(statement, "handlers", ()) or ():
        yield handler
    final = getattr(statement, "finalbody", None)
    if final is not None:
        yield final


def runs(facts, body, fills: Dict[cst.Call, cst.BaseExpression]) -> Iterator[List[Fill]]:
    """The runs of fills in ``body`` (a list of statements) and its nested blocks."""
    code = facts.module.code_for_node
    for block in _blocks(body):
        run: List[Fill] = []
        for statement in block:
            entries = _entries(statement, fills, code)
            if entries is None:
                if len(run) > 1:
                    yield run
                run = []
            else:
                run.extend(entries)
        if len(run) > 1:
            yield run


def _entries(statement, fills, code) -> Optional[List[Fill]]:
    if isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(s, cst.Expr) and isinstance(s.value, (cst.SimpleString, cst.ConcatenatedString))
            or isinstance(s, cst.Pass) for s in statement.body):
        return []  # a docstring or pass in between changes nothing
    call = _only_call(statement)
    if call is not None:
        tensor = fills.get(call)
        return [Fill(call, tensor, code(tensor))] if tensor is not None else None
    if isinstance(statement, cst.If) and statement.orelse is None and isinstance(statement.body, cst.IndentedBlock):
        out = []
        for inner in statement.body.body:
            call = _only_call(inner)
            tensor = fills.get(call) if call is not None else None
            if tensor is None:
                return None
            out.append(Fill(call, tensor, code(tensor), statement.test))
        return out
    return None


def function_bodies(facts, calls) -> Iterator[Tuple[Optional[cst.FunctionDef], list]]:
    """``(function, its statements)`` for each function (and the module) holding two or more of
    ``calls``."""
    count: Dict[object, int] = {}
    for site in facts.collected.calls:
        if site.node in calls:
            scope = site.scope
            while scope is not None and scope.kind != "function" and scope.kind != "module":
                scope = scope.parent
            owner = scope.node if scope is not None else None
            count[owner] = count.get(owner, 0) + 1
    for owner, n in count.items():
        if n < 2:
            continue
        if isinstance(owner, cst.FunctionDef) and isinstance(owner.body, cst.IndentedBlock):
            yield owner, list(owner.body.body)
        elif isinstance(owner, cst.Module):
            yield None, list(owner.body)
