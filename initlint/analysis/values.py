"""Values of expressions, as far as the code establishes them.

``evaluate`` folds constants through local assignments, arithmetic and the square-root spellings
people use (``math.sqrt``, ``np.sqrt``, ``** 0.5``, ``torch.nn.init.calculate_gain``), and, through
``flow.ValueFlow`` (``Evaluator.flow``), through parameters (what the file's call sites pass, when
they agree), ``self`` attributes and the returns of small helpers (with the call's own arguments);
anything it cannot establish is ``UNKNOWN``. ``substitute`` follows a name or attribute to the one
expression it stands for, for matching shapes. ``variance_target`` recognises the *shape* of a fan-based std,
``sqrt(k / fan)`` in its common spellings, even when ``fan`` is unknown.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import libcst as cst

from ..catalogue import calculate_gain
from .scopes import Resolver

try:
    from ..project.view import MISSING as _MISSING
except ImportError:  # pragma: no cover
    _MISSING = object()


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN = _Unknown()

_SQRT = frozenset({"math.sqrt", "numpy.sqrt", "torch.sqrt", "jax.numpy.sqrt", "tf.math.sqrt", "tensorflow.math.sqrt",
                   "tensorflow.sqrt", "mxnet.numpy.sqrt"})
_POW = frozenset({"math.pow", "numpy.power", "pow"})
_GAIN = frozenset({"torch.nn.init.calculate_gain"})
_CONSTANTS = {"math.pi": math.pi, "math.e": math.e, "numpy.pi": math.pi, "numpy.e": math.e}
MAX_DEPTH = 16


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Evaluator:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._cache = {}
        # set by ``analyse``: parameters, attributes and helpers' returns (``flow.ValueFlow``)
        self.flow = None
        # while a helper's return is evaluated for one call: its parameters -> that call's arguments
        self._bound: dict = {}
        self._fans: frozenset = frozenset()  # while variance_target runs: the layer's known fan-ins

    def names(self, node) -> frozenset:
        return self.resolver.qualified_names(node)

    def evaluate(self, node: Optional[cst.CSTNode], depth: int = 0):
        if node is None or depth > MAX_DEPTH:
            return UNKNOWN
        if self._bound:  # an answer that depends on the call being followed is not cached
            return self._evaluate(node, depth)
        key = id(node)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = UNKNOWN  # cycle guard: x = x + 1
        value = self._evaluate(node, depth)
        self._cache[key] = value
        return value

    @staticmethod
    def _agreed(values):
        if values and all(v is not UNKNOWN for v in values) and all(v == values[0] for v in values[1:]):
            return values[0]
        return UNKNOWN

    def _flowed_name(self, node: cst.Name, depth: int):
        """A parameter: the argument of the helper call being followed, else what every call site
        of the function in this file passes (they must agree)."""
        bindings = self.resolver.lookup(node)
        if len(bindings) != 1 or bindings[0].kind != "param":
            return UNKNOWN
        binding = bindings[0]
        if binding in self._bound:
            value_node = self._bound.pop(binding)  # the argument is evaluated where the call is
            try:
                return self.evaluate(value_node, depth + 1)
            finally:
                self._bound[binding] = value_node
        if self.flow is None:
            return UNKNOWN
        arguments = self.flow.parameter_arguments(binding)
        if not arguments:
            return UNKNOWN
        return self._agreed([self.evaluate(a.value, depth + 1) for a in arguments])

    def _returned(self, node: cst.Call, depth: int):
        """``scale(64)`` with ``def scale(n): return 1 / math.sqrt(n)``: the return, for this call."""
        if self.flow is None:
            return UNKNOWN
        returned = self.flow.returned(node)
        bound = self.flow.bind_call(node) if returned is not None else None
        if bound is None:
            return UNKNOWN
        saved = dict(self._bound)
        self._bound.update(bound)
        try:
            return self.evaluate(returned, depth + 1)
        finally:
            self._bound = saved

    def _evaluate(self, node, depth):
        ev = lambda n: self.evaluate(n, depth + 1)  # noqa: E731
        if isinstance(node, cst.Integer):
            text = node.value.replace("_", "")
            try:
                return int(text, 0)
            except ValueError:
                return int(text, 10)
        if isinstance(node, cst.Float):
            return float(node.value.replace("_", ""))
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            return value if isinstance(value, str) else UNKNOWN
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.value]
            candidates = self.resolver.assigned_values(node)
            if not candidates:
                if self.resolver.project is not None:
                    found = self._project_constant(node)
                    if found is not UNKNOWN:
                        return found
                return self._flowed_name(node, depth)
            return self._agreed([ev(value) for value, _ in candidates])
        if isinstance(node, cst.Attribute):
            for name in self.names(node):
                if name in _CONSTANTS:
                    return _CONSTANTS[name]
            values = self.flow.attribute_values(node) if self.flow is not None else None
            if values:
                return self._agreed([ev(value) for value in values])
            if self.resolver.project is not None:
                return self._project_constant(node)
            return UNKNOWN
        if isinstance(node, cst.UnaryOperation):
            inner = ev(node.expression)
            if is_number(inner):
                if isinstance(node.operator, cst.Minus):
                    return -inner
                if isinstance(node.operator, cst.Plus):
                    return inner
            if isinstance(node.operator, cst.Not) and inner is not UNKNOWN:
                return not inner
            return UNKNOWN
        if isinstance(node, cst.BinaryOperation):
            return _binary(node.operator, ev(node.left), ev(node.right))
        if isinstance(node, (cst.Tuple, cst.List)):
            items = []
            for element in node.elements:
                if isinstance(element, cst.StarredElement):
                    return UNKNOWN
                items.append(ev(element.value))
            return tuple(items)
        if isinstance(node, cst.Subscript):
            base = ev(node.value)
            if isinstance(base, tuple) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
                index = ev(node.slice[0].slice.value)
                if isinstance(index, int) and -len(base) <= index < len(base):
                    return base[index]
            return UNKNOWN
        if isinstance(node, cst.Call):
            return self._call(node, depth)
        return UNKNOWN

    def _project_constant(self, node):
        """A literal another module of the project binds the imported name to (``INIT_STD = 0.02``)."""
        found = [v for v in map(self.resolver.project.constant, self.names(node)) if v is not _MISSING]
        return found[0] if found and len({repr(v) for v in found}) == 1 else UNKNOWN

    def _call(self, node: cst.Call, depth: int):
        names = self.names(node.func)
        if not names and isinstance(node.func, cst.Name) and node.func.value not in ("float", "int", "abs"):
            return self._returned(node, depth)
        if isinstance(node.func, cst.Name) and node.func.value in ("float", "int", "abs") and not names:
            names = frozenset({node.func.value})
        args = [self.evaluate(a.value, depth + 1) for a in node.args if a.keyword is None and not a.star]
        if names & _SQRT and len(args) == 1 and is_number(args[0]) and args[0] >= 0:
            return math.sqrt(args[0])
        if names & _POW and len(args) == 2:
            return _binary(cst.Power(), args[0], args[1])
        if names & {"float"} and len(args) == 1 and is_number(args[0]):
            return float(args[0])
        if names & {"int"} and len(args) == 1 and is_number(args[0]):
            return int(args[0])
        if names & {"abs"} and len(args) == 1 and is_number(args[0]):
            return abs(args[0])
        if names & _GAIN:
            keywords = {a.keyword.value: self.evaluate(a.value, depth + 1) for a in node.args if a.keyword}
            nonlinearity = args[0] if args else keywords.get("nonlinearity", UNKNOWN)
            param = args[1] if len(args) > 1 else keywords.get("param")
            if isinstance(nonlinearity, str) and (param is None or is_number(param)):
                gain = calculate_gain(nonlinearity, param)
                return UNKNOWN if gain is None else gain
        return UNKNOWN

    def is_nonzero(self, node: cst.CSTNode, depth: int = 0) -> bool:
        """The code shows ``node`` cannot be 0 (``1.0 / n``, ``0.5 * scale / n``), value unknown or not."""
        value = self.evaluate(node)
        if is_number(value):
            return value != 0
        node = self.substitute(node)
        if depth > 6 or not isinstance(node, cst.BinaryOperation):
            return False
        if isinstance(node.operator, cst.Divide):
            return self.is_nonzero(node.left, depth + 1)
        if isinstance(node.operator, cst.Power):
            return self.is_nonzero(node.left, depth + 1)
        if isinstance(node.operator, cst.Multiply):
            return self.is_nonzero(node.left, depth + 1) and self.is_nonzero(node.right, depth + 1)
        return False

    # -- shapes ----------------------------------------------------------------------------------

    def substitute(self, node: cst.CSTNode, depth: int = 0) -> cst.CSTNode:
        """Follow a Name to the single expression it was assigned from (for shape matching)."""
        while isinstance(node, (cst.Name, cst.Attribute)) and depth < MAX_DEPTH:
            following = self._single_source(node)
            if following is None:
                return node
            node = following
            depth += 1
        return node

    def _single_source(self, node) -> Optional[cst.CSTNode]:
        """The one expression a name (assignment, or a parameter every call site fills with one
        argument) or an attribute (one assignment in its class) stands for."""
        if isinstance(node, cst.Name):
            candidates = self.resolver.assigned_values(node)
            if len(candidates) == 1:
                return candidates[0][0]
            if candidates or self.flow is None:
                return None
            bindings = self.resolver.lookup(node)
            if len(bindings) == 1 and bindings[0].kind == "param":
                arguments = self.flow.parameter_arguments(bindings[0])
                if arguments and len({id(a.value) for a in arguments}) == 1:
                    return arguments[0].value
            return None
        if self.flow is None or self.names(node):
            return None
        values = self.flow.attribute_values(node)
        return values[0] if values and len(values) == 1 else None

    def variance_target(self, node: cst.CSTNode, fans: frozenset = frozenset()) -> Optional[Tuple[float, cst.CSTNode]]:
        """``(k, fan)`` when ``node`` is spelled as sqrt(k / fan) (or k**.5 / sqrt(fan), ...).

        ``fan`` must be an expression of the code (a name, attribute, product...), whatever value
        it holds (``fan_in = 784`` at module level), or a literal equal to one of ``fans``, the
        fan-ins the code shows for the initialised layer: ``sqrt(2 / 9)`` is just a number,
        ``sqrt(2 / 784)`` on a ``Dense(..., input_shape=(784,))`` is a He target written out."""
        self._fans = fans
        try:
            return self._target(self.substitute(node), 0)
        finally:
            self._fans = frozenset()

    def _is_sqrt_call(self, node) -> Optional[cst.CSTNode]:
        if isinstance(node, cst.Call) and len(node.args) == 1 and node.args[0].keyword is None:
            if self.names(node.func) & _SQRT:
                return node.args[0].value
        return None

    def _half_power(self, node) -> Optional[cst.CSTNode]:
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Power):
            exponent = self.evaluate(node.right)
            if is_number(exponent) and abs(exponent - 0.5) < 1e-12:
                return node.left
        return None

    def _positive_constant(self, node) -> Optional[float]:
        value = self.evaluate(node)
        return float(value) if is_number(value) and 0 < value <= 16 else None

    def _is_fan(self, node) -> bool:
        if isinstance(node, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)):
            return True  # the code names it: fan_in, self.dim, shape[0], prod(kernel)
        if self._fans and not (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide)):
            value = self.evaluate(node)  # 784, or 3 * 3 * 64, equal to the layer's fan-in
            if is_number(value) and any(abs(value - fan) < 1e-9 for fan in self._fans):
                return True
        if isinstance(node, cst.BinaryOperation):
            return self._is_fan(node.left) or self._is_fan(node.right)
        return False

    def _ratio(self, node) -> Optional[Tuple[float, cst.CSTNode]]:
        """k / fan"""
        node = self.substitute(node)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
            k = self._positive_constant(node.left)
            if k is not None and self._is_fan(node.right):
                return k, node.right
        return None

    def _target(self, node, depth) -> Optional[Tuple[float, cst.CSTNode]]:
        if depth > 4:
            return None
        node = self.substitute(node)
        inner = self._is_sqrt_call(node) or self._half_power(node)
        if inner is not None:
            return self._ratio(inner)
        if isinstance(node, cst.BinaryOperation):
            # k / sqrt(fan)  and  sqrt(k) / sqrt(fan)
            if isinstance(node.operator, cst.Divide):
                denominator = self.substitute(node.right)
                fan = self._is_sqrt_call(denominator) or self._half_power(denominator)
                numerator = self._positive_constant(node.left)
                if fan is not None and numerator is not None and self._is_fan(fan):
                    return numerator**2, fan
            # fan ** -0.5
            if isinstance(node.operator, cst.Power):
                exponent = self.evaluate(node.right)
                if is_number(exponent) and abs(exponent + 0.5) < 1e-12 and self._is_fan(node.left):
                    ratio = self._ratio(node.left)
                    if ratio is not None:  # (fan / k) ** -0.5 is read as k / fan below
                        return None
                    return 1.0, node.left
            # gain * sqrt(1 / fan), sqrt(k / fan) * c
            if isinstance(node.operator, cst.Multiply):
                for const_side, other in ((node.left, node.right), (node.right, node.left)):
                    c = self._positive_constant(const_side)
                    if c is not None:
                        found = self._target(other, depth + 1)
                        if found is not None:
                            return found[0] * c * c, found[1]
        return None


def _binary(op, left, right):
    if not (is_number(left) and is_number(right)):
        if isinstance(op, cst.Add) and isinstance(left, tuple) and isinstance(right, tuple):
            return left + right
        if isinstance(op, cst.Multiply) and isinstance(left, tuple) and isinstance(right, int) and right < 1000:
            return left * right
        return UNKNOWN
    try:
        if isinstance(op, cst.Add):
            return left + right
        if isinstance(op, cst.Subtract):
            return left - right
        if isinstance(op, cst.Multiply):
            return left * right
        if isinstance(op, cst.Divide):
            return left / right
        if isinstance(op, cst.FloorDivide):
            return left // right
        if isinstance(op, cst.Modulo):
            return left % right
        if isinstance(op, cst.Power):
            if abs(right) > 64 or abs(left) > 1e6:
                return UNKNOWN
            result = left**right
            return result if isinstance(result, (int, float)) else UNKNOWN
    except (ZeroDivisionError, OverflowError, ValueError):
        return UNKNOWN
    return UNKNOWN
