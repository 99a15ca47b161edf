"""The one traversal: scopes and bindings, plus an index of the nodes every later step reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import libcst as cst

from .scopes import Binding, Resolver, Scope, dotted
from .traversal import dispatch


@dataclass(frozen=True)
class Guard:
    """An ``if`` whose body (``negated=False``) or else-branch (``negated=True``) holds a node."""

    test: cst.BaseExpression
    negated: bool


@dataclass(eq=False)
class CallSite:
    node: cst.Call
    scope: Scope
    guards: Tuple[Guard, ...]
    loops: Tuple[cst.CSTNode, ...] = ()  # enclosing for/while loops and comprehensions, in its scope
    seq: int = 0  # source order

    def exclusive_with(self, other: "CallSite") -> bool:
        """The two calls sit in opposite branches of one ``if``: at most one of them runs."""
        mine = {(id(g.test), g.negated) for g in self.guards}
        return any((id(g.test), not g.negated) in mine for g in other.guards)


@dataclass(eq=False)
class Collected:
    module: cst.Module
    resolver: Resolver
    module_scope: Scope
    calls: List[CallSite] = field(default_factory=list)
    comparisons: List[Tuple[cst.Comparison, Scope]] = field(default_factory=list)
    functions: List[Tuple[cst.FunctionDef, Scope]] = field(default_factory=list)  # (def, its own scope)
    classes: List[Tuple[cst.ClassDef, Scope]] = field(default_factory=list)  # (class, the scope it is in)
    # (class node, attribute) -> [(assigned value, method it was assigned in)] for ``self.attr = value``
    self_attrs: Dict[Tuple[cst.ClassDef, str], List[Tuple[cst.BaseExpression, cst.FunctionDef]]] = field(
        default_factory=dict)
    scope_of_function: Dict[cst.FunctionDef, Scope] = field(default_factory=dict)
    scope_of_class: Dict[cst.ClassDef, Scope] = field(default_factory=dict)  # a class's own body scope
    guards_of: Dict[cst.CSTNode, Tuple[Guard, ...]] = field(default_factory=dict)
    frozen: List[cst.BaseExpression] = field(default_factory=list)  # x in ``x.requires_grad = False``
    trained: List[cst.BaseExpression] = field(default_factory=list)  # x in ``x.requires_grad = True``
    loop_span: Dict[cst.CSTNode, Tuple[int, int]] = field(default_factory=dict)  # loop -> (first, last) seq
    matmuls: List[cst.BinaryOperation] = field(default_factory=list)  # every ``a @ b``
    # every ``a * b`` and ``a / b``: a product scaled in the forward pass (``(q @ k) * self.scale``)
    scalings: List[cst.BinaryOperation] = field(default_factory=list)
    matmul_right: List[cst.BaseExpression] = field(default_factory=list)  # b in ``a @ b``
    # attributes changed other than by plain assignment: ``x.a += 1``, ``del x.a`` (value flow)
    changed_attrs: List[str] = field(default_factory=list)


_CONDITIONAL = (cst.If, cst.Try, cst.For, cst.While, cst.With, cst.Match if hasattr(cst, "Match") else cst.If)


class Collector(cst.CSTVisitor):
    def __init__(self, module: cst.Module, package: Optional[str]) -> None:
        super().__init__()
        self.package = package
        self.resolver = Resolver()
        root = Scope("module", module, None)
        self.out = Collected(module, self.resolver, root)
        self.scopes: List[Scope] = [root]
        self.conditional: List[int] = [0]
        self.guards: List[List[Guard]] = [[]]
        self.loops: List[List[cst.CSTNode]] = [[]]
        self._lifted: List[Optional[cst.CSTNode]] = []  # comprehension loops set aside for their iterable
        self.seq = 0
        self._scope_of, self._seq_of = self.resolver.scope_of, self.resolver.seq_of

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]

    def _tick(self) -> int:
        self.seq += 1
        return self.seq

    def _bind(self, name: str, kind: str, **kw) -> None:
        self.scope.add(Binding(name, kind, self._tick(), self.conditional[-1] > 0, **kw))

    def _push(self, kind: str, node: cst.CSTNode) -> Scope:
        scope = Scope(kind, node, self.scope)
        self.scopes.append(scope)
        self.conditional.append(0)
        self.guards.append([])
        self.loops.append([])
        return scope

    def _pop(self) -> None:
        self.scopes.pop()
        self.conditional.pop()
        self.guards.pop()
        self.loops.pop()

    def _bind_target(self, target: cst.BaseExpression, kind: str, value, index=None) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, kind, value=value, index=index, node=target)
        elif isinstance(target, (cst.Tuple, cst.List)):
            # a position is kept only where it says which element lands here: not after a starred one
            starred = any(isinstance(e, cst.StarredElement) for e in target.elements)
            for i, element in enumerate(target.elements):
                inner = element.value
                if isinstance(element, cst.StarredElement):
                    inner = element.value
                self._bind_target(inner, kind, value, i if index is None and not starred else -1)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, kind, value, -1)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
                and target.value.value == "self":
            cls = self.scope.enclosing_class
            function = self.scope.function
            if cls is not None and function is not None:
                self.out.self_attrs.setdefault((cls, target.attr.value), []).append((value, function))

    # -- scopes ----------------------------------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.out.classes.append((node, self.scope))
        self._bind(node.name.value, "class", value=node, node=node)
        self.out.scope_of_class[node] = self._push("class", node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value, "def", value=node, node=node)
        scope = self._push("function", node)
        self.out.functions.append((node, scope))
        self.out.scope_of_function[node] = scope
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            self._bind(param.name.value, "param", node=param)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self._bind(star.name.value, "param", node=star)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._push("function", node)
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            self._bind(param.name.value, "param", node=param)

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._pop()

    # -- control flow ----------------------------------------------------------------------------

    def visit_If(self, node: cst.If) -> None:
        self.conditional[-1] += 1

    def leave_If(self, node: cst.If) -> None:
        self.conditional[-1] -= 1

    def visit_If_body(self, node: cst.If) -> None:
        self.guards[-1].append(Guard(node.test, False))

    def leave_If_body(self, node: cst.If) -> None:
        self.guards[-1].pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        self.guards[-1].append(Guard(node.test, True))

    def leave_If_orelse(self, node: cst.If) -> None:
        self.guards[-1].pop()

    def _enter_conditional(self, node) -> None:
        self.conditional[-1] += 1

    def _leave_conditional(self, node) -> None:
        self.conditional[-1] -= 1

    visit_Try = visit_With = _enter_conditional
    leave_Try = leave_With = _leave_conditional

    def _open_loop(self, node) -> None:
        self.loops[-1].append(node)
        self.out.loop_span[node] = (self._tick(), 0)

    def _close_loop(self, node) -> None:
        self.loops[-1].pop()
        self.out.loop_span[node] = (self.out.loop_span[node][0], self._tick())

    def visit_While(self, node: cst.While) -> None:
        self.conditional[-1] += 1
        self._open_loop(node)

    def leave_While(self, node: cst.While) -> None:
        self.conditional[-1] -= 1
        self._close_loop(node)

    def visit_For(self, node: cst.For) -> None:
        self.conditional[-1] += 1
        self._bind_target(node.target, "loop", node.iter)

    def visit_For_body(self, node: cst.For) -> None:
        self._open_loop(node)

    def leave_For_body(self, node: cst.For) -> None:
        self._close_loop(node)

    def leave_For(self, node: cst.For) -> None:
        self.conditional[-1] -= 1

    def _enter_comprehension(self, node) -> None:
        self._open_loop(node)

    def _leave_comprehension(self, node) -> None:
        self._close_loop(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter_comprehension
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave_comprehension

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.conditional[-1] += 1
        self._bind_target(node.target, "loop", node.iter)
        self.conditional[-1] -= 1

    def visit_CompFor_iter(self, node: cst.CompFor) -> None:
        # the outermost iterable of a comprehension is evaluated once, outside its loop
        loops = self.loops[-1]
        lifted = loops.pop() if loops and getattr(loops[-1], "for_in", None) is node else None
        self._lifted.append(lifted)

    def leave_CompFor_iter(self, node: cst.CompFor) -> None:
        lifted = self._lifted.pop()
        if lifted is not None:
            self.loops[-1].append(lifted)

    # -- bindings --------------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, "import", qualname=full)
            else:
                self._bind(full.split(".")[0], "import", qualname=full.split(".")[0])

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        base = dotted(node.module) if node.module is not None else ""
        level = len(node.relative)
        if level:
            if not self.package:
                return
            parts = self.package.split(".")
            if level - 1 > len(parts) - 1:
                return
            anchor = ".".join(parts[: len(parts) - (level - 1)])
            base = f"{anchor}.{base}" if base else anchor
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self._bind(local, "import", qualname=f"{base}.{name}" if base else name)

    def leave_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Attribute) and t.attr.value == "requires_grad" and isinstance(node.value, cst.Name):
                if node.value.value == "False":
                    self.out.frozen.append(t.value)
                elif node.value.value == "True":
                    self.out.trained.append(t.value)
            if isinstance(t, cst.Attribute) and t.attr.value == "grad_req" \
                    and isinstance(node.value, cst.SimpleString) and node.value.evaluated_value == "null":
                self.out.frozen.append(t.value)  # MXNet
            self._bind_target(target.target, "assign", node.value)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind_target(node.target, "assign", node.value)

    def leave_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._bind(node.target.value, "other", node=node)
        elif isinstance(node.target, cst.Attribute):
            self.out.changed_attrs.append(node.target.attr.value)

    def visit_Del(self, node: cst.Del) -> None:
        targets = node.target.elements if isinstance(node.target, (cst.Tuple, cst.List)) else [node.target]
        for target in targets:
            inner = getattr(target, "value", target)
            if isinstance(inner, cst.Attribute):
                self.out.changed_attrs.append(inner.attr.value)

    def leave_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, "assign", node.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            target = node.asname.name
            if isinstance(target, cst.Name):
                self._bind(target.value, "other", node=node)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._bind(node.name.name.value, "other", node=node)

    # -- index -----------------------------------------------------------------------------------

    def visit_Name(self, node: cst.Name) -> None:
        # every name of the file comes here: no property, no method call (a tenth of the collection)
        self._scope_of[node] = self.scopes[-1]
        self.seq = seq = self.seq + 1
        self._seq_of[node] = seq

    def visit_Call(self, node: cst.Call) -> None:
        self._scope_of[node] = self.scopes[-1]
        guards = tuple(self.guards[-1])
        self.out.calls.append(CallSite(node, self.scope, guards, tuple(self.loops[-1]), self._tick()))
        self.out.guards_of[node] = guards

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        operator = type(node.operator)
        if operator is cst.MatrixMultiply:
            self.out.matmuls.append(node)
            self.out.matmul_right.append(node.right)
        elif operator is cst.Multiply or operator is cst.Divide:
            self.out.scalings.append(node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self.out.comparisons.append((node, self.scope))


def collect(module: cst.Module, package: Optional[str] = None) -> Collected:
    collector = Collector(module, package)
    dispatch(collector, module)
    return collector.out
