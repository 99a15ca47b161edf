"""Scopes, bindings and qualified names: a light, single-pass stand-in for libcst's metadata.

libcst's ``QualifiedNameProvider`` costs ~9x a parse on real model code (SPEC), so we compute what
the rules need ourselves during the one traversal: for every scope, what each name is bound to
(an import, an assigned expression, a parameter, a loop variable, a def), in source order.
Resolution follows Python's rules: function scopes see enclosing functions and the module, never
class bodies; a use sees the bindings that reach it (the last unconditional one before it in the
same scope, plus any conditional ones in between). ``qualified_names`` returns *every* candidate.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Tuple

import libcst as cst


def dotted(node: cst.CSTNode) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


@dataclass(eq=False)
class Binding:
    """One way a name gets a value in a scope."""

    name: str
    kind: str  # "import", "assign", "param", "loop", "def", "class", "other"
    seq: int  # traversal order, for flow
    conditional: bool  # inside if/try/loop/with at its scope's level
    qualname: Optional[str] = None  # for imports
    value: Optional[cst.CSTNode] = None  # assigned expression / loop iterable / def node
    index: Optional[int] = None  # position within a tuple-unpacking target (a, b = ...)
    node: Optional[cst.CSTNode] = None  # the binding site (param node, def node...)
    # the scope holds its bindings; a binding points back through a weak reference, so that no
    # cycle keeps a file's analysis (and its tree) alive once the check lets go of it
    _scope: Optional["weakref.ReferenceType[Scope]"] = field(default=None, repr=False)

    @property
    def scope(self) -> Optional["Scope"]:
        return self._scope() if self._scope is not None else None


@dataclass(eq=False)
class Scope:
    kind: str  # "module", "class", "function"
    node: cst.CSTNode
    parent: Optional["Scope"]
    bindings: Dict[str, List[Binding]] = field(default_factory=dict)

    def add(self, binding: Binding) -> None:
        binding._scope = weakref.ref(self)
        self.bindings.setdefault(binding.name, []).append(binding)

    @property
    def function(self) -> Optional[cst.FunctionDef]:
        return self.node if isinstance(self.node, cst.FunctionDef) else None

    @property
    def enclosing_class(self) -> Optional[cst.ClassDef]:
        """The class a method belongs to (for ``self.x`` lookups)."""
        if self.kind == "function" and self.parent is not None and self.parent.kind == "class":
            return self.parent.node
        return None

    @property
    def method_class(self) -> Optional[cst.ClassDef]:
        """The class of the method this scope is, or is nested in (what ``self`` is an instance of)."""
        scope: Optional[Scope] = self
        while scope is not None:
            if scope.enclosing_class is not None:
                return scope.enclosing_class
            scope = scope.parent
        return None


def unpacked(binding: Binding) -> Optional[cst.BaseExpression]:
    """The element a tuple-unpacking assignment binds (``nz, ngf = 100, 64``: ``ngf`` is ``64``),
    when the value is a literal tuple or list without starred elements."""
    value = binding.value
    if binding.index is None or binding.index < 0 or not isinstance(value, (cst.Tuple, cst.List)):
        return None
    elements = value.elements
    if any(isinstance(e, cst.StarredElement) for e in elements) or binding.index >= len(elements):
        return None
    return elements[binding.index].value


class Resolver:
    """Answers name questions after the collecting pass is complete."""

    MAX_DEPTH = 12

    def __init__(self) -> None:
        self.scope_of: Dict[cst.CSTNode, Scope] = {}  # every Name/Call/Attribute we care about -> its scope
        self.seq_of: Dict[cst.CSTNode, int] = {}
        # node -> its qualified names; asked only once the collecting pass is over, when every
        # binding is known, so an answer never changes; the rules ask about the same callee often
        self._qualified: Dict[cst.CSTNode, FrozenSet[str]] = {}
        # the file's project (``project.view.ProjectView``), when it is checked as part of one:
        # imported names then also stand for what the project's re-exports and aliases make them
        self.project = None

    # -- lookup -------------------------------------------------------------------------------

    def bindings(self, name: str, scope: Scope, seq: int) -> List[Binding]:
        start = scope
        while scope is not None:
            if scope.kind == "class" and scope is not start:
                scope = scope.parent
                continue
            found = scope.bindings.get(name)
            if found:
                if scope is start:
                    return self._reaching(found, seq)
                return list(found)
            scope = scope.parent
        return []

    @staticmethod
    def _reaching(found: List[Binding], seq: int) -> List[Binding]:
        before = [b for b in found if b.seq < seq]
        if not before:
            return list(found)  # e.g. used in a loop before its assignment: any may reach
        reaching = []
        for binding in reversed(before):
            reaching.append(binding)
            if not binding.conditional:
                break
        return reaching

    def lookup(self, node: cst.Name) -> List[Binding]:
        scope = self.scope_of.get(node)
        if scope is None:
            return []
        return self.bindings(node.value, scope, self.seq_of.get(node, 1 << 60))

    # -- qualified names ------------------------------------------------------------------------

    def qualified_names(self, node: cst.CSTNode, depth: int = 0) -> FrozenSet[str]:
        """Every fully qualified name ``node`` may refer to (empty when unknown)."""
        if depth == 0:
            known = self._qualified.get(node)
            if known is None:
                known = self._qualified[node] = self._qualified_names(node, 0)
            return known
        return self._qualified_names(node, depth)

    def _qualified_names(self, node: cst.CSTNode, depth: int) -> FrozenSet[str]:
        if depth > self.MAX_DEPTH:
            return frozenset()
        if isinstance(node, cst.Name):
            names = set()
            bindings = self.lookup(node)
            if not bindings and self.project is not None and node in self.scope_of:
                names.update(self.project.unbound(node.value))  # from models import *
            for binding in bindings:
                if binding.kind == "import" and binding.qualname:
                    names.add(binding.qualname)
                    if self.project is not None:
                        names.update(self.project.names(binding.qualname))
                elif binding.kind == "assign" and binding.value is not None and binding.index is None:
                    self._inherit_scope(binding.value, binding)
                    names |= self.qualified_names(binding.value, depth + 1)
            return frozenset(names)
        if isinstance(node, cst.Attribute):
            names = frozenset(f"{q}.{node.attr.value}" for q in self.qualified_names(node.value, depth + 1))
            if self.project is not None and names:
                names = names.union(*(self.project.names(q) for q in names))
            return names
        return frozenset()

    def _inherit_scope(self, value: cst.CSTNode, binding: Binding) -> None:
        # values are registered by the collector; nothing to do when already known
        pass

    def instance_class(self, node: cst.BaseExpression, depth: int = 0) -> Optional[cst.ClassDef]:
        """The class of this file ``node`` is an instance of: ``self`` in a method, ``Net()``, or
        ``net`` in ``net = Net()``."""
        if depth > 4:
            return None
        if isinstance(node, cst.Name) and node.value == "self":
            scope = self.scope_of.get(node)
            return scope.method_class if scope is not None else None
        if isinstance(node, cst.Name):
            values = self.assigned_values(node)
            return self.instance_class(values[0][0], depth + 1) if len(values) == 1 else None
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            for binding in self.lookup(node.func):
                if binding.kind == "class" and isinstance(binding.value, cst.ClassDef):
                    return binding.value
        return None

    def assigned_values(self, node: cst.Name) -> List[Tuple[cst.CSTNode, Binding]]:
        """The expressions a name was assigned from (only plain, non-unpacking assignments)."""
        out = []
        for binding in self.lookup(node):
            if binding.kind == "assign" and binding.value is not None and binding.index is None:
                out.append((binding.value, binding))
            elif binding.kind == "assign" and unpacked(binding) is not None:
                out.append((unpacked(binding), binding))  # a, b = 64, 3
            else:
                return []  # a parameter, loop variable or import among the candidates: not a value
        return out
