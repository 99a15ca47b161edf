"""Rewrites of a hand-written std or variance to the power the formula meant (INI405's fixes).

Each takes the expression as the code writes it and returns its replacement, or None where the
intended formula is not evident from the text: ``2 / sqrt(n)`` -> ``sqrt(2 / n)``, ``k / fan`` ->
``sqrt(k / fan)``, ``fan ** -1`` -> ``fan ** -0.5``, a std-like ``scale`` -> its square. The
square root reuses a spelling the code already has or imports (``math.sqrt``, ``np.sqrt``,
``jnp.sqrt``, which all take a Python number) and otherwise writes ``** 0.5``, which needs no import and works
on numbers and tensors alike.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from .traversal import walk

# square roots that accept a plain Python number (torch.sqrt and tf.sqrt want tensors)
_NUMBER_SQRT = frozenset({"math.sqrt", "numpy.sqrt", "jax.numpy.sqrt"})
_SQRT_MODULES = ("math", "numpy", "jax.numpy")  # in order of preference
_LOOSE = (cst.BinaryOperation, cst.BooleanOperation, cst.IfExp, cst.Lambda, cst.Comparison, cst.UnaryOperation)


def _spaced(operator: cst.BaseBinaryOp) -> cst.BaseBinaryOp:
    space = cst.SimpleWhitespace(" ")
    return type(operator)(whitespace_before=space, whitespace_after=space)


def _grouped(node: cst.BaseExpression) -> cst.BaseExpression:
    """``node`` in parentheses where it is an operand of ``/`` or ``**`` and would bind loosely."""
    if isinstance(node, _LOOSE) and not node.lpar:
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return node


def _bare(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.with_changes(lpar=[], rpar=[]) if getattr(node, "lpar", None) else node


def _keep_parentheses(old: cst.BaseExpression, new: cst.BaseExpression) -> cst.BaseExpression:
    """``new`` in ``old``'s parentheses, where it needs them (a call does not)."""
    return new.with_changes(lpar=old.lpar, rpar=old.rpar) if getattr(old, "lpar", None) \
        and isinstance(new, _LOOSE) else new


def _sqrt_call(facts, node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """The operand of ``sqrt(x)`` (any of the catalogue's spellings)."""
    return facts.evaluator._is_sqrt_call(node)


def _half_power(facts, node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    return facts.evaluator._half_power(node)


def _number_sqrt_callee(facts, *places) -> Optional[cst.BaseExpression]:
    """A square-root callee the code already spells, that takes a plain number: first in the
    expression being fixed, then anywhere in the file."""
    for place in places:
        for node in walk(place):
            if isinstance(node, cst.Call) and len(node.args) == 1 and facts.names(node.func) & _NUMBER_SQRT:
                return node.func
    return None


def _imported_sqrt(facts) -> Optional[cst.BaseExpression]:
    """``math.sqrt`` (``np.sqrt``, ``jnp.sqrt``) where the file imports that module."""
    modules = {}
    for name, bindings in facts.collected.module_scope.bindings.items():
        for binding in bindings:
            if binding.kind == "import" and binding.qualname in _SQRT_MODULES:
                modules.setdefault(binding.qualname, name)
    for module in _SQRT_MODULES:
        if module in modules:
            return cst.Attribute(cst.Name(modules[module]), cst.Name("sqrt"))
    return None


def square_root(facts, node: cst.BaseExpression, near: cst.CSTNode) -> cst.BaseExpression:
    """``sqrt(node)`` in a spelling the file already uses or imports, else ``node ** 0.5``."""
    callee = _number_sqrt_callee(facts, near, facts.module) or _imported_sqrt(facts)
    if callee is not None:
        return cst.Call(func=callee, args=[cst.Arg(_bare(node))])
    return cst.BinaryOperation(_grouped(node), _spaced(cst.Power()), cst.Float("0.5"))


def gain_not_squared(facts, expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """``2 / sqrt(n)`` -> ``sqrt(2 / n)``; ``2 / n ** 0.5`` -> ``(2 / n) ** 0.5``."""
    if not (isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide)):
        return None
    denominator = _bare(expr.right)
    inner = _sqrt_call(facts, denominator)
    if inner is not None:
        ratio = cst.BinaryOperation(expr.left, expr.operator, _grouped(_bare(inner)))
        call = denominator.with_changes(args=[denominator.args[0].with_changes(value=ratio)])
        return _keep_parentheses(expr, call)
    inner = _half_power(facts, denominator)
    if inner is not None:
        ratio = cst.BinaryOperation(expr.left, expr.operator, _grouped(inner)).with_changes(
            lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return _keep_parentheses(expr, denominator.with_changes(left=ratio, lpar=[], rpar=[]))
    return None


def fan_not_rooted(facts, expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """A variance written where the std goes: ``k / fan`` -> ``sqrt(k / fan)``, and where ``k``
    is already a gain (``sqrt(2) / fan``) -> ``sqrt(2) / sqrt(fan)``; ``fan ** -1`` ->
    ``fan ** -0.5``."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Power):
        return expr.with_changes(right=cst.UnaryOperation(cst.Minus(), cst.Float("0.5")))
    if not (isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide)):
        return None
    if _has_root(facts, expr.left):
        return expr.with_changes(right=square_root(facts, expr.right, expr))
    return _keep_parentheses(expr, square_root(facts, _bare(expr), expr))


def squared(facts, expr: cst.BaseExpression) -> cst.BaseExpression:
    """A std-like variance multiplier made a variance: ``sqrt(x)`` -> ``x``, ``k / sqrt(x)`` ->
    ``k² / x``, ``sqrt(a) / sqrt(b)`` -> ``a / b``; anything else ``(expr) ** 2``."""
    bare = _bare(expr)
    inner = _sqrt_call(facts, bare) or _half_power(facts, bare)
    if inner is not None:  # an argument or an assigned value: no operator around it to bind to
        return _bare(inner)
    if isinstance(bare, cst.BinaryOperation) and isinstance(bare.operator, cst.Divide):
        right = _sqrt_call(facts, _bare(bare.right)) or _half_power(facts, _bare(bare.right))
        left_root = _sqrt_call(facts, _bare(bare.left)) or _half_power(facts, _bare(bare.left))
        left_value = facts.value(bare.left)
        if right is not None and (left_root is not None or _is_literal(bare.left)):
            if left_root is not None:
                left = _grouped(_bare(left_root))
            else:
                left = _literal(left_value * left_value, bare.left)
            return _keep_parentheses(expr, bare.with_changes(left=left, right=_grouped(_bare(right))))
    return cst.BinaryOperation(_grouped(bare), _spaced(cst.Power()), cst.Integer("2"))


def _is_literal(node) -> bool:
    return isinstance(node, (cst.Integer, cst.Float))


def _literal(value: float, like: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(like, cst.Integer) and float(value).is_integer():
        return cst.Integer(str(int(value)))
    return cst.Float(repr(float(value)))


def _has_root(facts, node) -> bool:
    """``node`` is itself a square root or a gain (``sqrt(2)``, ``2 ** 0.5``, ``calculate_gain``)."""
    node = _bare(node)
    if _sqrt_call(facts, node) is not None or _half_power(facts, node) is not None:
        return True
    return isinstance(node, cst.Call) and any(n.endswith(".calculate_gain") for n in facts.names(node.func))


def rewritable(facts, node: cst.BaseExpression):
    """Where a std's formula can be rewritten: ``node`` itself when the formula is written there,
    else the one value a local name was assigned from, when this is the name's only read (a
    rewrite there changes nothing else). None otherwise (a parameter's call-site argument, a name
    read elsewhere too)."""
    expr = facts.evaluator.substitute(node)
    if expr is node:
        return node
    if not isinstance(node, cst.Name):
        return None
    candidates = facts.evaluator.resolver.assigned_values(node)
    if len(candidates) != 1 or candidates[0][0] is not expr:
        return None
    binding = candidates[0][1]
    scope = binding.scope
    if scope is None or len(scope.bindings.get(node.value, ())) != 1:
        return None
    mentions = sum(1 for child in walk(scope.node) if isinstance(child, cst.Name) and child.value == node.value)
    return expr if mentions == 2 else None  # the assignment's target and this read
