"""Where a layer's output is used as a multiplicative scale of the stream (FiLM, adaLN).

``x * gamma + beta`` with ``gamma`` from a layer: when that layer starts at zero, the product is
zero and the stream is replaced by ``beta``; ``x * (1 + gamma) + beta`` (DiT's adaLN-zero) and a
gate added residually (``x + gate * f(x)``) are the deliberate forms. Data flow is read per
function, statement by statement, as far as plain assignments carry it.
"""

from __future__ import annotations

from ..catalogue import LayerKind

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Set

import libcst as cst

from .graph import LayerUse, SequentialUse
from .traversal import walk

# methods that keep a tensor's values (a slice of a layer's output is still its output)
_KEEPING = ("chunk", "split", "unbind", "tensor_split", "unsqueeze", "view", "reshape", "expand", "expand_as",
            "squeeze", "permute", "transpose", "contiguous", "to", "float", "type_as", "repeat")


@dataclass(frozen=True)
class ScaledStream:
    """``product``: a ``stream * scale`` expression whose scale comes from ``layer``, in the statement
    ``statement``, replacing the stream (not added back to it)."""

    layer: LayerUse
    product: cst.BinaryOperation
    statement: cst.CSTNode


def _outputs_of(facts, call: cst.Call) -> Optional[LayerUse]:
    """The layer whose output ``call`` is: ``self.film(c)``, ``film(c)``, ``nn.Dense(d, ...)(c)``,
    ``self.adaLN_modulation(c)`` (a Sequential ending in the layer, or in the layer and what only
    reshapes, pools or drops its output: ``nn.Sequential(proj, Rearrange(...))``)."""
    item = facts.graph.classify(call.func)
    if isinstance(item, SequentialUse) and item.elements:
        last = len(item.elements) - 1
        while last > 0 and facts.graph.is_transparent(item.elements[last]):
            last -= 1
        item = facts.graph.classify(item.elements[last])
    return item if isinstance(item, LayerUse) else None


def _source(facts, node, derived: Dict[str, LayerUse], depth: int = 0) -> Optional[LayerUse]:
    """The layer ``node``'s values come from, unchanged (through slices, reshapes, chunks)."""
    if depth > 8:
        return None
    if isinstance(node, cst.Name):
        return derived.get(node.value)
    if isinstance(node, cst.Subscript):
        return _source(facts, node.value, derived, depth + 1)
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _KEEPING:
            return _source(facts, func.value, derived, depth + 1)
        return _outputs_of(facts, node)
    return None


def _stream_name(node, depth: int = 0) -> Optional[str]:
    """``x`` for ``x``, ``x.unsqueeze(1)``, and a function of it: ``self.norm(x)``, ``F.layer_norm(x, s)``."""
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _KEEPING:
        node = node.func.value
    if isinstance(node, cst.Call) and node.args and node.args[0].keyword is None and depth < 3:
        return _stream_name(node.args[0].value, depth + 1)
    return node.value if isinstance(node, cst.Name) else None


def _through_weight_layer(facts, node, depth: int = 0) -> bool:
    """Whether ``node`` reaches the stream only through a weight layer (``sigmoid(self.gate(x))`` is a
    gate computed from the stream, not the stream; ``self.norm(x)`` is the stream normalised)."""
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _KEEPING:
        node = node.func.value
    if isinstance(node, cst.Call) and depth < 3:
        layer = _outputs_of(facts, node)
        if layer is not None and layer.entry.kind is not LayerKind.NORM:
            return True
        if node.args and node.args[0].keyword is None:
            return _through_weight_layer(facts, node.args[0].value, depth + 1)
    return False


def _addends(node) -> List[cst.BaseExpression]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.BinaryOperation) and isinstance(current.operator, cst.Add):
            stack.extend((current.left, current.right))
        else:
            out.append(current)
    return out


def scaled_streams(facts, layers: Set[int]) -> Iterator[ScaledStream]:
    """Products ``stream * scale`` in which ``scale`` is the output of one of ``layers`` (by id) and
    that replace the stream: assigned back to it (``x = x * g + b``) or returned from a function
    that received it (``return x * g + b``), with no ``1 +`` and no residual ``x + ...`` around."""
    for function, scope in facts.collected.functions:
        params = {name for name, bindings in scope.bindings.items() if any(b.kind == "param" for b in bindings)}
        derived: Dict[str, LayerUse] = {}
        for statement in walk(function.body):
            if isinstance(statement, cst.FunctionDef) and statement is not function:
                continue
            if isinstance(statement, cst.Assign):
                targets = [t.target for t in statement.targets]
                value = statement.value
                layer = _source(facts, value, derived)
                if layer is not None and id(layer) in layers:
                    for target in targets:
                        for element in (target.elements if isinstance(target, (cst.Tuple, cst.List)) else [target]):
                            inner = element.value if isinstance(element, cst.Element) else element
                            if isinstance(inner, cst.Name):
                                derived[inner.value] = layer
                names = {t.value for t in targets if isinstance(t, cst.Name)}
                yield from _replacing(facts, statement, value, names, derived, layers)
            elif isinstance(statement, cst.Return) and statement.value is not None:
                yield from _replacing(facts, statement, statement.value, params, derived, layers)
            elif isinstance(statement, cst.AugAssign) and isinstance(statement.operator, cst.MultiplyAssign) \
                    and isinstance(statement.target, cst.Name):
                layer = _source(facts, statement.value, derived)
                if layer is not None and id(layer) in layers:
                    product = cst.BinaryOperation(statement.target, cst.Multiply(), statement.value)
                    yield ScaledStream(layer, product, statement)


def _replacing(facts, statement, value, streams: Set[str], derived, layers: Set[int]) -> Iterator[ScaledStream]:
    addends = _addends(value)
    kept = {a.value for a in addends if isinstance(a, cst.Name)}
    for addend in addends:
        if not (isinstance(addend, cst.BinaryOperation) and isinstance(addend.operator, cst.Multiply)):
            continue
        for stream, scale in ((addend.left, addend.right), (addend.right, addend.left)):
            name = _stream_name(stream)
            if name is None or name not in streams or name in kept or _through_weight_layer(facts, stream):
                continue  # not the stream, or the stream is added back (a residual gate)
            layer = _source(facts, scale, derived)
            if layer is not None and id(layer) in layers:  # only the layers asked about
                yield ScaledStream(layer, addend, statement)
                break
