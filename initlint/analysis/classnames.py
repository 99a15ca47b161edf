"""Class-name tests as type guards: ``if classname.find('Conv') != -1:`` in an init function.

PyTorch's DCGAN tutorial, and the many projects that copied it, pick layers by the *name* of their
class rather than with ``isinstance``::

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)

Each branch reaches only the layers whose class name passes its test, exactly as an
``isinstance`` guard would. ``class_name_test(evaluator, test, subject)`` reads such a test on the
variable ``subject`` (the init function's module parameter, a loop variable) and returns a
predicate on a class name (``"Conv2d"``), or None when ``test`` is not a class-name test on
``subject``. The class name is read as ``m.__class__.__name__``, ``type(m).__name__`` (or
``__qualname__``), inline or through a local variable the code assigns it to, optionally lowered
(``.lower()``). Tests understood: ``find(s) != -1`` / ``>= 0`` / ``> -1`` / ``== -1`` / ``== 0``,
``s in name`` / ``not in``, ``name == s`` / ``!=``, ``name in ('A', 'B')``, ``startswith`` /
``endswith`` (a string or a tuple of strings), and ``not``/``and``/``or`` of these.
"""

from __future__ import annotations

from typing import Callable, Optional

import libcst as cst

from .values import Evaluator

Predicate = Callable[[str], bool]
_NAME_ATTRS = ("__name__", "__qualname__")


def class_name(entry) -> str:
    """The class name of a catalogue layer: ``torch.nn.Conv2d`` -> ``Conv2d``."""
    return entry.name.rsplit(".", 1)[-1]


def class_name_test(ev: Evaluator, test: cst.BaseExpression, subject: str, depth: int = 0) -> Optional[Predicate]:
    if depth > 8:
        return None
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = class_name_test(ev, test.expression, subject, depth + 1)
        return None if inner is None else (lambda name: not inner(name))
    if isinstance(test, cst.BooleanOperation):
        left = class_name_test(ev, test.left, subject, depth + 1)
        right = class_name_test(ev, test.right, subject, depth + 1)
        if isinstance(test.operator, cst.And):
            if left is None or right is None:  # one side tests something else: the other still narrows
                return left or right
            return lambda name: left(name) and right(name)
        if left is None or right is None:  # `or` with an unknown side admits anything
            return None
        return lambda name: left(name) or right(name)
    if isinstance(test, cst.Call):
        return _method_test(ev, test, subject)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        return _comparison_test(ev, test.left, test.comparisons[0].operator, test.comparisons[0].comparator, subject)
    return None


def _name_reader(ev: Evaluator, node: cst.BaseExpression, subject: str,
                 depth: int = 0) -> Optional[Callable[[str], str]]:
    """How ``node`` reads ``subject``'s class name: identity, or lower/upper-cased; None if it does not."""
    if depth > 4:
        return None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not node.args \
            and node.func.attr.value in ("lower", "upper", "casefold"):
        inner = _name_reader(ev, node.func.value, subject, depth + 1)
        if inner is None:
            return None
        case = node.func.attr.value
        return (lambda n: inner(n).upper()) if case == "upper" else (lambda n: inner(n).lower())
    if isinstance(node, cst.Name):
        values = ev.resolver.assigned_values(node)
        if len(values) == 1:
            return _name_reader(ev, values[0][0], subject, depth + 1)
        return None
    if isinstance(node, cst.Attribute) and node.attr.value in _NAME_ATTRS:
        owner = node.value
        # m.__class__.__name__
        if isinstance(owner, cst.Attribute) and owner.attr.value == "__class__" \
                and isinstance(owner.value, cst.Name) and owner.value.value == subject:
            return lambda n: n
        # type(m).__name__
        if isinstance(owner, cst.Call) and isinstance(owner.func, cst.Name) and owner.func.value == "type" \
                and len(owner.args) == 1 and isinstance(owner.args[0].value, cst.Name) \
                and owner.args[0].value.value == subject and not ev.names(owner.func):
            return lambda n: n
    return None


def _strings(ev: Evaluator, node: cst.BaseExpression) -> Optional[tuple]:
    """A string, or a tuple/list/set of strings, that the code establishes."""
    if isinstance(node, cst.Set):
        value = tuple(ev.evaluate(e.value) for e in node.elements)
    else:
        value = ev.evaluate(node)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def _method_test(ev: Evaluator, call: cst.Call, subject: str) -> Optional[Predicate]:
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in ("startswith", "endswith") \
            or len(call.args) != 1 or call.args[0].keyword is not None:
        return None
    read = _name_reader(ev, func.value, subject)
    wanted = _strings(ev, call.args[0].value)
    if read is None or wanted is None:
        return None
    if func.attr.value == "startswith":
        return lambda name: read(name).startswith(wanted)
    return lambda name: read(name).endswith(wanted)


def _find_position(ev: Evaluator, node: cst.BaseExpression, subject: str):
    """``(read, needle)`` for ``<class name>.find(needle)``."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "find" \
            and len(node.args) == 1 and node.args[0].keyword is None:
        read = _name_reader(ev, node.func.value, subject)
        needle = ev.evaluate(node.args[0].value)
        if read is not None and isinstance(needle, str):
            return read, needle
    return None


_FLIPPED = {cst.GreaterThan: cst.LessThan, cst.LessThan: cst.GreaterThan,
            cst.GreaterThanEqual: cst.LessThanEqual, cst.LessThanEqual: cst.GreaterThanEqual}


def _comparison_test(ev: Evaluator, left, operator, right, subject: str) -> Optional[Predicate]:
    # <name>.find(s) <op> k, or k <op> <name>.find(s)
    flipped = _FLIPPED.get(type(operator), type(operator))
    for found, other, op in ((left, right, type(operator)), (right, left, flipped)):
        position = _find_position(ev, found, subject)
        if position is None:
            continue
        read, needle = position
        k = ev.evaluate(other)
        if not isinstance(k, int) or isinstance(k, bool):
            return None
        compare = {cst.Equal: lambda p: p == k, cst.NotEqual: lambda p: p != k,
                   cst.GreaterThan: lambda p: p > k, cst.GreaterThanEqual: lambda p: p >= k,
                   cst.LessThan: lambda p: p < k, cst.LessThanEqual: lambda p: p <= k}.get(op)
        if compare is None:
            return None
        return lambda name: compare(read(name).find(needle))
    if isinstance(operator, (cst.In, cst.NotIn)):
        negate = isinstance(operator, cst.NotIn)
        read = _name_reader(ev, right, subject)
        needle = ev.evaluate(left)
        if read is not None and isinstance(needle, str):  # 'Conv' in classname
            return lambda name: (needle in read(name)) != negate
        read = _name_reader(ev, left, subject)
        options = _strings(ev, right) if read is not None else None
        if read is not None and options is not None and not isinstance(right, cst.SimpleString):
            return lambda name: (read(name) in options) != negate  # classname in ('Conv2d', 'Linear')
        return None
    if isinstance(operator, (cst.Equal, cst.NotEqual)):
        negate = isinstance(operator, cst.NotEqual)
        for name_side, other in ((left, right), (right, left)):
            read = _name_reader(ev, name_side, subject)
            value = ev.evaluate(other) if read is not None else None
            if isinstance(value, str):
                return lambda name: (read(name) == value) != negate
    return None
