"""Walking a libcst tree without rebuilding it.

libcst's own traversal (``module.visit(visitor)``, ``node.children``) goes through each node's
``_visit_and_replace_children``, which constructs and validates a new copy of every node it passes,
whitespace and commas included: on real model code that cost as much as parsing the file. Nothing
here replaces nodes, so this module reads the children straight from the node's fields:

* in libcst's own order (source order), learnt once per node class by letting
  ``_visit_and_replace_children`` report the attributes it visits to a recorder that descends no
  further, so the order is libcst's by construction, not a copy of it;
* leaving out the fields that can hold only whitespace and punctuation (``lpar``, ``comma``,
  ``whitespace_after_func``...), read from the fields' type annotations: no rule looks at them.

``Dispatcher`` runs a ``CSTVisitor``'s ``visit_X`` / ``leave_X`` / ``visit_X_attr`` /
``leave_X_attr`` methods with libcst's semantics (``visit_X`` returning False skips the children;
``leave_X`` still runs), iteratively, so deep code needs no recursion limit.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import libcst as cst

# Node classes no analysis reads: layout and punctuation. Their subtrees hold only more of the same.
_LAYOUT = (cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline,
           cst.Comment, cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
           cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Comma, cst.Dot, cst.Semicolon, cst.Colon,
           cst.AssignEqual, cst.ImportStar)


class _AttributeRecorder(cst.CSTVisitor):
    """Notes the attributes of one node that libcst visits, in the order it visits them."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: List[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False  # the node's children are not entered: only its own attributes are reported

    def on_leave(self, original_node: cst.CSTNode) -> None:
        pass

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if attribute not in self.attributes:
            self.attributes.append(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


def _node_classes(annotation) -> List[type]:
    """The CSTNode classes an annotation admits (``Sequence[Arg]``, ``Union[Comma, MaybeSentinel]``)."""
    if isinstance(annotation, type):
        return [annotation] if issubclass(annotation, cst.CSTNode) else []
    out: List[type] = []
    for argument in getattr(annotation, "__args__", ()) or ():
        out.extend(_node_classes(argument))
    return out


def _layout_only(annotation) -> bool:
    classes = _node_classes(annotation)
    return bool(classes) and all(issubclass(c, _LAYOUT) for c in classes)


def _recorded_attributes(node: cst.CSTNode) -> List[str]:
    recorder = _AttributeRecorder()
    try:
        node._visit_and_replace_children(recorder)  # rebuilds this one node
    except Exception:  # cannot happen for libcst's own classes; dataclass order as a fallback
        return [f.name for f in dataclasses.fields(node)]
    return recorder.attributes


# class -> (its code fields in source order, the code fields libcst skipped on the instance learnt from)
_FIELDS: Dict[type, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {}
# (class, the skipped fields that hold something) -> fields: the rare instances that need their own order
_FIELDS_WITH: Dict[Tuple[type, Tuple[str, ...]], Tuple[str, ...]] = {}


def _code_fields(node: cst.CSTNode, attributes: List[str], hints) -> Tuple[str, ...]:
    return tuple(name for name in attributes if not (name in hints and _layout_only(hints[name])))


def _learn_fields(node: cst.CSTNode) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    cls = type(node)
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation that does not resolve: keep every field
        hints = {}
    fields = _code_fields(node, _recorded_attributes(node), hints)
    # libcst visits a few optional fields only when they are set (an f-string's format_spec): such a
    # field is missing from what this instance showed, and an instance that sets it is asked again
    skipped = tuple(f.name for f in dataclasses.fields(cls)
                    if f.name not in fields and f.name in hints and _node_classes(hints[f.name])
                    and not _layout_only(hints[f.name]))
    _FIELDS[cls] = (fields, skipped)
    return fields, skipped


def field_names(node: cst.CSTNode) -> Tuple[str, ...]:
    """The fields of ``node`` that can hold code, in source order."""
    learnt = _FIELDS.get(type(node)) or _learn_fields(node)
    fields, skipped = learnt
    if skipped:
        present = tuple(name for name in skipped if getattr(node, name, None) not in (None, ()))
        if present:
            key = (type(node), present)
            fields = _FIELDS_WITH.get(key)
            if fields is None:
                hints = typing.get_type_hints(type(node))
                fields = _FIELDS_WITH[key] = _code_fields(node, _recorded_attributes(node), hints)
    return fields


# type -> is it a node worth entering? isinstance against libcst's ABCs is slow (every check walks
# the ABC machinery), and the same few dozen types come back millions of times
_ENTERED: Dict[type, bool] = {}


def _entered(cls: type) -> bool:
    entered = _ENTERED.get(cls)
    if entered is None:
        entered = _ENTERED[cls] = issubclass(cls, cst.CSTNode) and not issubclass(cls, _LAYOUT)
    return entered


def _field_children(value) -> List[cst.CSTNode]:
    cls = type(value)
    entered = _ENTERED
    if cls is tuple or cls is list:
        out = []
        for item in value:
            wanted = entered.get(type(item))
            if wanted or (wanted is None and _entered(type(item))):
                out.append(item)
        return out
    wanted = entered.get(cls)
    return [value] if wanted or (wanted is None and _entered(cls)) else []  # str, None, MaybeSentinel: []


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """``node.children`` in the same order, without whitespace and punctuation and without rebuilding."""
    out: List[cst.CSTNode] = []
    for name in field_names(node):
        out.extend(_field_children(getattr(node, name)))
    return out


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below ``node``, itself first (depth-first, pre-order, source order), iteratively."""
    stack = [node]
    pop, extend = stack.pop, stack.extend
    while stack:
        current = pop()
        yield current
        extend(reversed(children(current)))


# (visit_X, leave_X, ((field, visit_X_field, leave_X_field), ...) in reverse source order, or None
# where the fields depend on the instance)
_Plan = Tuple[Optional[Callable], Optional[Callable],
              Optional[Tuple[Tuple[str, Optional[Callable], Optional[Callable]], ...]]]


class Dispatcher:
    """Runs a ``cst.CSTVisitor``'s methods over a tree, in libcst's order, without rebuilding it."""

    def __init__(self, visitor: cst.CSTVisitor) -> None:
        self.visitor = visitor
        self._plans: Dict[type, _Plan] = {}
        self._want: Dict[type, bool] = {}

    def _method(self, name: str) -> Optional[Callable]:
        """The visitor's own method ``name``; libcst's typed base classes define every name as a no-op."""
        function = getattr(type(self.visitor), name, None)
        if function is None or getattr(function, "__module__", "").startswith("libcst."):
            return None
        return getattr(self.visitor, name)

    def _fields_plan(self, node: cst.CSTNode) -> tuple:
        name, method = type(node).__name__, self._method
        return tuple(reversed([(field, method(f"visit_{name}_{field}"), method(f"leave_{name}_{field}"))
                               for field in field_names(node)]))

    def _plan(self, node: cst.CSTNode) -> _Plan:
        cls = type(node)
        name, method = cls.__name__, self._method
        field_names(node)  # learns the class
        # a class whose fields depend on the instance (an f-string's format_spec) is planned per node
        fields = None if _FIELDS[cls][1] else self._fields_plan(node)
        plan = (method(f"visit_{name}"), method(f"leave_{name}"), fields)
        self._plans[cls] = plan
        return plan

    def _wanted(self, node) -> bool:
        """Is ``node`` worth a place on the stack: a node, not layout, and either with a method of
        the visitor's or with code below it (literals and operators have neither)."""
        cls = type(node)
        if not _entered(cls):
            wanted = False
        else:
            visit, leave, fields = self._plans.get(cls) or self._plan(node)
            wanted = visit is not None or leave is not None or fields is None or bool(fields)
        self._want[cls] = wanted
        return wanted

    def run(self, root: cst.CSTNode) -> None:
        # the stack holds nodes to enter and (method, node) pairs to call: most entries are nodes,
        # so they go on bare, and a pair is told apart by its type
        plans, want, wanted_new = self._plans, self._want, self._wanted
        stack: list = [root]
        pop, push = stack.pop, stack.append
        while stack:
            node = pop()
            if type(node) is tuple:
                function, node = node
                function(node)
                continue
            visit, leave, fields = plans.get(type(node)) or self._plan(node)
            if visit is not None and visit(node) is False:
                if leave is not None:
                    leave(node)
                continue
            if leave is not None:
                push((leave, node))
            if fields is None:
                fields = self._fields_plan(node)
            for field, visit_field, leave_field in fields:  # reversed: the stack pops them in order
                if leave_field is not None:
                    push((leave_field, node))
                value = getattr(node, field)
                kind = type(value)
                if kind is tuple or kind is list:
                    for child in reversed(value):
                        wanted = want.get(type(child))
                        if wanted or (wanted is None and wanted_new(child)):
                            push(child)
                else:
                    wanted = want.get(kind)
                    if wanted or (wanted is None and wanted_new(value)):
                        push(value)
                if visit_field is not None:
                    push((visit_field, node))


def dispatch(visitor: cst.CSTVisitor, root: cst.CSTNode) -> None:
    """``root.visit(visitor)`` for a visitor that only reads, without libcst's copying."""
    Dispatcher(visitor).run(root)


def final_name(node) -> Optional[str]:
    """The name a ``Name`` or a dotted ``Attribute`` ends with (``w`` for ``w`` and ``self.w``,
    ``normal_`` for ``init.normal_``), or None for any other expression."""
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Name):
        return node.value
    return None
