"""Which project classes certainly hold no layer, told from CPython's ``ast`` of their module.

``layers.py`` learns the layers of a class another module inherits from or instantiates by
parsing the class's module with libcst and building the analysis' ``Graph`` for it: 0.4 s for
transformers' ``modeling_utils.py``, only to learn that ``PreTrainedModel`` holds none. Most such
classes are bases and mixins of this kind. This module proves it for a class from its module's
CPython tree (an order of magnitude cheaper), by following everything ``Graph.layers_of_class``
can follow, and more:

* a class's layers are those of what its methods assign to ``self.x`` (``collector.self_attrs``)
  and those of its bases: a class of the same module, or one another module of the project
  defines (``ProjectView.class_layers``, which answers from this module again, or from the parse);
* an assigned value is searched whole (``Graph.layers_in`` looks at less of it): it holds a layer
  only through a call in it, or a name in it assigned a value that does (every assignment of the
  name in the scopes it may come from: a superset of those that reach the use);
* a call makes a layer only when its callee's qualified names (imports and aliases resolved as
  ``Resolver.qualified_names`` resolves them, through the same ``ProjectView`` hooks) include a
  catalogue layer, a container or a TF product (``raw_ops``), or a class of another module that
  holds a layer; or when the callee is a class of the module (searched the same way) or one of
  its functions (its returns searched the same way, as ``ValueFlow.returned`` follows them).

What it cannot follow (a class nested in a function, a name too deep, a module too odd, a cycle
between modules) answers "may hold one", and the module is parsed as before: a class is skipped
only when the parse would find no layer in it. The answer depends on the files it read (the
module, those its names went through), which it returns for the asking view to record.
"""

from __future__ import annotations

import ast
from collections import OrderedDict
from typing import Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

MAX_DEPTH = 12  # aliases followed from a name (``Resolver.MAX_DEPTH``)
MAX_VALUES = 2000  # expressions searched for one class, beyond which it may hold a layer
KEEP_TREES = 8  # module trees kept for the next question about another class of theirs

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class _MayHold(Exception):
    """The search met something it does not follow: the class may hold a layer."""


def holds_no_layer(view, path: str, name: str) -> Optional[FrozenSet[str]]:
    """The files consulted, when the class ``name`` defined at the top of the module at ``path``
    certainly holds no layer (``graph.layers_of_class`` would find none, at any depth); None when
    it may hold one. Memoised per project."""
    from .view import MAX_NESTING, ProjectView

    project = view.project
    state = project.layerless
    key = (path, name)
    if key in state["answers"]:
        return state["answers"][key]
    if key in state["asking"] or view.depth + 1 >= MAX_NESTING:
        return None  # a cycle between modules, or beyond the depth the parse follows: parse
    state["asking"].add(key)
    try:
        answer = None
        module = _module(state, path)
        classes = module.classes(name) if module is not None else []
        if classes:
            inner = ProjectView(project, path, view.depth + 1)  # as ``layers._module_layers`` makes it
            search = _Search(module, inner)
            try:
                if not any(search.class_may_hold(cls) for cls in classes):
                    answer = frozenset(inner.touched | {path})
            except Exception:  # _MayHold, RecursionError, or a tree we did not foresee: parse it
                pass
    finally:
        state["asking"].discard(key)
    state["answers"][key] = answer
    return answer


def _module(state: dict, path: str) -> Optional["_Module"]:
    trees: "OrderedDict[str, Optional[_Module]]" = state["trees"]
    if path in trees:
        trees.move_to_end(path)
        return trees[path]
    from ..engine import SourceError, package_of, syntax_check
    from .index import _read_regular

    module = None
    data = _read_regular(path)
    if data is not None:
        try:
            module = _Module(syntax_check(data, path), package_of(path))
        except (SourceError, RecursionError, MemoryError):
            module = None
    trees[path] = module
    while len(trees) > KEEP_TREES:
        trees.popitem(last=False)
    return module


class _Scope:
    """The names a module or function body binds, each with how (as ``collector.Collector`` binds
    them): ``("import", qualified name)``, ``("assign", value)``, ``("def", node)``, ``("class",
    node)``, ``("other", None)`` (a parameter, a loop or ``with`` variable: no value followed)."""

    def __init__(self, node: ast.AST, parent: Optional["_Scope"], package: Optional[str]) -> None:
        self.node = node
        self.parent = parent
        self.bindings: Dict[str, List[Tuple[str, object]]] = {}
        self._package = package
        if isinstance(node, _FUNCTIONS):
            arguments = node.args
            for arg in (*arguments.posonlyargs, *arguments.args, arguments.vararg, *arguments.kwonlyargs,
                        arguments.kwarg):
                if arg is not None:
                    self._add(arg.arg, "other", None)
        self._bind(list(node.body))

    def chain(self) -> List["_Scope"]:
        scopes, scope = [], self
        while scope is not None:
            scopes.append(scope)
            scope = scope.parent
        return scopes

    def _add(self, name: str, kind: str, value) -> None:
        self.bindings.setdefault(name, []).append((kind, value))

    def _bind(self, stack: list) -> None:
        """Every binding of this scope's own code: nested functions and classes bind their name
        here (their decorators, defaults and bases are evaluated here), their bodies elsewhere."""
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind in _FUNCTIONS:
                self._add(node.name, "def", node)
                stack.extend(node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d])
                continue
            if kind is ast.ClassDef:
                self._add(node.name, "class", node)
                stack.extend(node.decorator_list + node.bases + [k.value for k in node.keywords])
                continue
            if kind is ast.Import:
                for alias in node.names:
                    if alias.asname:
                        self._add(alias.asname, "import", alias.name)
                    else:
                        top = alias.name.split(".")[0]
                        self._add(top, "import", top)
                continue
            if kind is ast.ImportFrom:
                self._bind_from(node)
                continue
            if kind is ast.Assign:
                for target in node.targets:
                    for name in _stored_names(target):
                        self._add(name, "assign", node.value)
            elif kind is ast.AnnAssign:
                if node.value is not None and isinstance(node.target, ast.Name):
                    self._add(node.target.id, "assign", node.value)
            elif kind is ast.NamedExpr:
                self._add(node.target.id, "assign", node.value)
            elif kind is ast.Name:
                if not isinstance(node.ctx, ast.Load):
                    self._add(node.id, "other", None)
                continue
            elif kind is ast.ExceptHandler or kind is getattr(ast, "MatchAs", None) \
                    or kind is getattr(ast, "MatchStar", None):
                if node.name:
                    self._add(node.name, "other", None)
            elif kind is getattr(ast, "MatchMapping", None):
                if node.rest:
                    self._add(node.rest, "other", None)
            if kind is ast.Lambda:  # its parameters are its own; its body is searched as this scope's
                stack.append(node.body)
                stack.extend(node.args.defaults + [d for d in node.args.kw_defaults if d])
                continue
            stack.extend(ast.iter_child_nodes(node))

    def _bind_from(self, node: ast.ImportFrom) -> None:
        """As ``Collector.visit_ImportFrom`` resolves it (relative to the file's package)."""
        base = node.module or ""
        if node.level:
            if not self._package:
                return
            parts = self._package.split(".")
            if node.level - 1 > len(parts) - 1:
                return
            anchor = ".".join(parts[: len(parts) - (node.level - 1)])
            base = f"{anchor}.{base}" if base else anchor
        for alias in node.names:
            if alias.name != "*":
                self._add(alias.asname or alias.name, "import", f"{base}.{alias.name}" if base else alias.name)


def _stored_names(target: ast.AST) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id


class _Module:
    def __init__(self, tree: ast.Module, package: Optional[str]) -> None:
        self.package = package
        self.top = _Scope(tree, None, package)
        self._scopes: Dict[ast.AST, _Scope] = {}

    def classes(self, name: str) -> List[ast.ClassDef]:
        """The classes the module binds ``name`` to at its top level (the parse keeps the last)."""
        return [value for kind, value in self.top.bindings.get(name, ()) if kind == "class"]

    def scope(self, function: ast.AST, parent: _Scope) -> _Scope:
        scope = self._scopes.get(function)
        if scope is None:
            scope = self._scopes[function] = _Scope(function, parent, self.package)
        return scope


def _own_nodes(body) -> Iterator[ast.AST]:
    """The nodes of a body, not entering nested functions, classes or lambdas."""
    stack = list(body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _NESTED):
            stack.extend(ast.iter_child_nodes(node))


def _methods(cls: ast.ClassDef) -> Iterator[ast.AST]:
    """The functions whose ``self.x = ...`` the collector gives the class: those of its body,
    under any ``if``/``try`` of it too."""
    for node in _own_nodes(cls.body):
        if isinstance(node, _FUNCTIONS):
            yield node


def _is_self_target(target: ast.AST) -> bool:
    return any(isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
               for node in ast.walk(target))


def _self_values(method: ast.AST) -> Iterator[ast.AST]:
    """What a method assigns to ``self.x`` (``collector.self_attrs``: assignments, annotated ones
    with a value, and loop targets, whose value is the iterable)."""
    for node in _own_nodes(method.body):
        kind = type(node)
        if kind is ast.Assign:
            if any(_is_self_target(t) for t in node.targets):
                yield node.value
        elif kind is ast.AnnAssign:
            if node.value is not None and _is_self_target(node.target):
                yield node.value
        elif kind in (ast.For, ast.AsyncFor, ast.comprehension):
            if _is_self_target(node.target):
                yield node.iter


def _returns(function: ast.AST) -> Iterator[ast.AST]:
    for node in _own_nodes(function.body):
        if isinstance(node, ast.Return) and node.value is not None:
            yield node.value


class _Search:
    """One question: may a class of ``module`` hold a layer? Each class, function and value is
    searched once (a second visit adds nothing: what it may hold is already being answered)."""

    def __init__(self, module: _Module, view) -> None:
        self.module = module
        self.view = view  # the module's own ProjectView, one level deeper
        self.seen: Set[int] = set()
        self.budget = MAX_VALUES

    def _first(self, node: ast.AST) -> bool:
        if id(node) in self.seen:
            return False
        self.seen.add(id(node))
        return True

    def class_may_hold(self, cls: ast.ClassDef) -> bool:
        if not self._first(cls):
            return False
        top = self.module.top
        for base in cls.bases:  # ``Graph._inherited_layers``: a local class, else a project class
            if isinstance(base, ast.Name) and any(kind == "class" and self._local_class_may_hold(value, top)
                                                  for kind, value in top.bindings.get(base.id, ())):
                return True
            if any(self.view.class_layers(name) for name in self.qualified(base, [top], 0)):
                return True
        for method in _methods(cls):
            scope = self.module.scope(method, top)
            chain = scope.chain()
            if any(self.value_may_hold(value, chain) for value in _self_values(method)):
                return True
        return False

    def _local_class_may_hold(self, cls: ast.ClassDef, scope: _Scope) -> bool:
        if scope is not self.module.top:
            raise _MayHold  # a class defined in a function
        return self.class_may_hold(cls)

    def value_may_hold(self, value: ast.AST, chain: List[_Scope]) -> bool:
        if not self._first(value):
            return False
        self.budget -= 1
        if self.budget < 0:
            raise _MayHold
        for node in ast.walk(value):
            if isinstance(node, ast.Call):
                if self.call_may_make(node.func, chain):
                    return True
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                for kind, bound, where in _bindings(chain, node.id):
                    if kind == "assign" and self.value_may_hold(bound, where):
                        return True
        return False

    def call_may_make(self, func: ast.AST, chain: List[_Scope]) -> bool:
        if isinstance(func, ast.Name):
            for kind, bound, where in _bindings(chain, func.id):
                if kind == "class" and self._local_class_may_hold(bound, where[0]):
                    return True
                if kind == "def" and self._function_may_make(bound, where):
                    return True
        return any(self._name_makes(name) for name in self.qualified(func, chain, 0))

    def _function_may_make(self, function: ast.AST, where: List[_Scope]) -> bool:
        if not self._first(function):
            return False
        chain = self.module.scope(function, where[0]).chain()
        return any(self.value_may_hold(value, chain) for value in _returns(function))

    def _name_makes(self, name: str) -> bool:
        from .. import catalogue
        from ..analysis.raw_ops import _PRODUCTS
        from ..catalogue.containers import SEQUENTIALS
        from ..catalogue.names import canonical

        if catalogue.layer(name) is not None:
            return True
        spelled = canonical(name)
        if spelled in SEQUENTIALS or spelled in _PRODUCTS:
            return True
        return bool(self.view.class_layers(name))

    def qualified(self, node: ast.AST, chain: List[_Scope], depth: int) -> Set[str]:
        """Every qualified name ``node`` may stand for: ``Resolver.qualified_names``, over every
        binding of a name in the scopes it may come from."""
        if depth > MAX_DEPTH:
            raise _MayHold
        if isinstance(node, ast.Name):
            names: Set[str] = set()
            for kind, bound, where in _bindings(chain, node.id):
                if kind == "import":
                    names.add(bound)
                    names.update(self.view.names(bound))
                elif kind == "assign" and isinstance(bound, (ast.Name, ast.Attribute)):
                    names |= self.qualified(bound, where, depth + 1)
            names.update(self.view.unbound(node.id))  # ``from models import *``
            return names
        if isinstance(node, ast.Attribute):
            names = {f"{name}.{node.attr}" for name in self.qualified(node.value, chain, depth + 1)}
            for name in list(names):
                names.update(self.view.names(name))
            return names
        return set()


def _bindings(chain: List[_Scope], name: str) -> Iterator[Tuple[str, object, List[_Scope]]]:
    """``(kind, value, the scopes the value's names come from)`` for every binding of ``name`` in
    the scopes of ``chain`` (the resolver takes those of the first scope that has one)."""
    for i, scope in enumerate(chain):
        for kind, value in scope.bindings.get(name, ()):
            yield kind, value, chain[i:]
