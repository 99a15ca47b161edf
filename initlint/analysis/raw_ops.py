"""TF1 raw-graph weights: a variable multiplied in by hand is a layer.

TF1 research code rarely builds layers; it creates weights and multiplies them in itself::

    W = tf.get_variable("W", [784, 256], initializer=tf.contrib.layers.xavier_initializer())
    b = tf.get_variable("b", [256], initializer=tf.zeros_initializer())
    h = tf.nn.relu(tf.matmul(x, W) + b)

Here ``tf.matmul(x, W)`` plays a Dense layer whose kernel is ``W`` (stored [in, out]) and
``tf.nn.conv2d(x, W, ...)`` a Conv whose kernel is ``W`` ([h, w, in, out]), so each such product
becomes a ``LayerUse`` of a pseudo layer entry, applied to its first operand; the data flow of
``graph`` then pairs it with the activation its output goes through. Only products whose weight
operand resolves to a variable created in the file (``tf.get_variable``/``tf.compat.v1.get_variable``
/``tf.Variable``, through a plain name, a ``weights['h1']`` dict entry or a ``self.W`` attribute) are
taken: ``tf.matmul(q, k)`` of two activations is no layer.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from ..catalogue import Framework, Layer, LayerKind
from ..catalogue.names import canonical

# the weight is stored [in, out] (matmul) or [k..., in, out] (conv): the Keras layout, so the
# catalogue's Keras fans apply
_MATMUL = Layer(("tf.matmul",), Framework.KERAS, LayerKind.DENSE, "kernel", None,
                units_param=("units", -1), in_units_param=("in_features", -1), functional=True)
_CONV = {d: Layer((f"tf.nn.conv{d}d",), Framework.KERAS, LayerKind.CONV, "kernel", None,
                  units_param=("filters", -1), in_units_param=("in_channels", -1),
                  kernel_param=("kernel_size", -1), functional=True) for d in (1, 2, 3)}

# (canonical name) -> (pseudo layer, keywords the input and the weight may be passed by)
_PRODUCTS: Dict[str, Tuple[Layer, Tuple[str, ...], Tuple[str, ...]]] = {
    "tf.matmul": (_MATMUL, ("a",), ("b",)),
    "tf.linalg.matmul": (_MATMUL, ("a",), ("b",)),
    "tf.compat.v1.matmul": (_MATMUL, ("a",), ("b",)),
    "tf.nn.xw_plus_b": (_MATMUL, ("x",), ("weights",)),  # matmul(x, weights) + biases
    "tf.compat.v1.nn.xw_plus_b": (_MATMUL, ("x",), ("weights",)),
    **{f"tf.nn.conv{d}d": (_CONV[d], ("input", "value"), ("filters", "filter")) for d in (1, 2, 3)},
    **{f"tf.compat.v1.nn.conv{d}d": (_CONV[d], ("input", "value"), ("filters", "filter")) for d in (1, 2, 3)},
}
_VARIABLES = frozenset({"tf.get_variable", "tf.compat.v1.get_variable", "tf.Variable", "tf.compat.v1.Variable"})

# ops a layer's output passes through on its way to the activation without changing what it is
# (a bias, dropout, a reshape, pooling, a batch norm): they keep the pairing, like torch's Dropout
PASSTHROUGH = frozenset({
    "tf.nn.bias_add", "tf.nn.dropout", "tf.compat.v1.nn.dropout", "tf.reshape", "tf.identity",
    "tf.nn.max_pool", "tf.nn.max_pool2d", "tf.nn.avg_pool", "tf.nn.avg_pool2d", "tf.compat.v1.nn.max_pool",
    "tf.layers.flatten", "tf.compat.v1.layers.flatten", "tf.layers.dropout", "tf.compat.v1.layers.dropout",
    "tf.layers.batch_normalization", "tf.compat.v1.layers.batch_normalization", "tf.contrib.layers.flatten",
    "tf.contrib.layers.batch_norm", "tf.contrib.layers.layer_norm", "tf.contrib.layers.dropout",
})
_ADDS = frozenset({"tf.add", "tf.math.add"})


def _canonical_names(graph, node) -> frozenset:
    return frozenset(canonical(n) for n in graph.ev.names(node))


def _argument(call: cst.Call, position: int, keywords: Tuple[str, ...]) -> Optional[cst.BaseExpression]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in keywords:
            return arg.value
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    return positional[position] if position < len(positional) else None


def variable_call(graph, node: Optional[cst.BaseExpression], depth: int = 0) -> Optional[cst.Call]:
    """The ``tf.get_variable(...)``/``tf.Variable(...)`` call a name (or ``weights['h1']``) holds."""
    if node is None or depth > 4:
        return None
    if isinstance(node, cst.Call):
        return node if _canonical_names(graph, node.func) & _VARIABLES else None
    if isinstance(node, (cst.Name, cst.Attribute)):
        if isinstance(node, cst.Name):
            values = [v for v, _ in graph.resolver.assigned_values(node)]
        else:  # self.W, assigned in __init__/build of this file's class
            cls = graph.instance_class(node.value)
            values = graph.classes[cls].attrs.get(node.attr.value, []) if cls is not None else []
        calls = {id(c): c for c in (variable_call(graph, v, depth + 1) for v in values)}
        return next(iter(calls.values())) if len(calls) == 1 and None not in calls.values() else None
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        key = graph.ev.evaluate(node.slice[0].slice.value)
        if not isinstance(key, str) or not isinstance(node.value, cst.Name):
            return None
        values = graph.resolver.assigned_values(node.value)
        if len(values) != 1 or not isinstance(values[0][0], cst.Dict):
            return None
        for element in values[0][0].elements:
            if isinstance(element, cst.DictElement) and graph.ev.evaluate(element.key) == key:
                return variable_call(graph, element.value, depth + 1)
    return None


def _shape(graph, variable: cst.Call) -> Optional[List[cst.BaseExpression]]:
    """The literal dimensions a variable is created with: get_variable's ``shape``, or the shape
    argument of what ``tf.Variable`` is given (``tf.Variable(init([5, 5, 1, 32]))``)."""
    names = _canonical_names(graph, variable.func)
    if names & {"tf.get_variable", "tf.compat.v1.get_variable"}:
        shape = _argument(variable, 1, ("shape",))
    else:
        initial = _argument(variable, 0, ("initial_value",))
        shape = _argument(initial, 0, ("shape",)) if isinstance(initial, cst.Call) else None
    if isinstance(shape, cst.Name):
        values = graph.resolver.assigned_values(shape)
        shape = values[0][0] if len(values) == 1 else None
    if isinstance(shape, (cst.List, cst.Tuple)) and not any(isinstance(e, cst.StarredElement) for e in shape.elements):
        return [e.value for e in shape.elements]
    return None


def _weight_names(graph, variable: cst.Call, operand: cst.BaseExpression) -> Tuple[str, ...]:
    names = []
    if isinstance(operand, cst.Name):
        names.append(operand.value)
    elif isinstance(operand, cst.Attribute):
        names.append(operand.attr.value)
    elif isinstance(operand, cst.Subscript):
        key = graph.ev.evaluate(operand.slice[0].slice.value)
        if isinstance(key, str):
            names.append(key)
    label = graph.ev.evaluate(_argument(variable, 0, ("name",))) \
        if _canonical_names(graph, variable.func) & {"tf.get_variable", "tf.compat.v1.get_variable"} \
        else graph.ev.evaluate(next((a.value for a in variable.args if a.keyword and a.keyword.value == "name"), None))
    if isinstance(label, str) and label not in names:
        names.append(label)
    return tuple(names)


def find_raw_layers(graph) -> Dict[cst.CSTNode, List]:
    """Register a pseudo layer in ``graph.layers`` for every product with a variable of the file;
    return, for each variable's creating call (and for the initial value ``tf.Variable`` wraps), the
    layers it is the weight of."""
    from .graph import LayerUse  # the graph module imports this one

    by_variable: Dict[cst.CSTNode, List] = {}
    for site in graph.c.calls:
        call = site.node
        if call in graph.layers:
            continue
        names = _canonical_names(graph, call.func)
        product = next((_PRODUCTS[n] for n in names if n in _PRODUCTS), None)
        if product is None:
            continue
        entry, input_keywords, weight_keywords = product
        operand = _argument(call, 1, weight_keywords)
        variable = variable_call(graph, operand)
        if variable is None:
            continue
        dims = _shape(graph, variable)
        transposed = [a.value for a in call.args if a.keyword is not None
                      and a.keyword.value in ("transpose_b", "adjoint_b")]
        if transposed and entry is _MATMUL:  # tf.matmul(x, W, transpose_b=True): W is [out, in]
            flag = graph.ev.evaluate(transposed[0])
            dims = dims[::-1] if flag is True and dims is not None and len(dims) == 2 else (
                dims if flag is False else None)
        args: Dict[str, cst.BaseExpression] = {}
        if dims is not None and len(dims) >= 2:
            args[entry.units_param[0]] = dims[-1]
            args[entry.in_units_param[0]] = dims[-2]
            if entry.kernel_param is not None:
                args[entry.kernel_param[0]] = cst.Tuple([cst.Element(d) for d in dims[:-2]])
        layer = LayerUse(call, entry, args, names=_weight_names(graph, variable, operand))
        graph.layers[call] = layer
        by_variable.setdefault(variable, []).append(layer)
        initial = _argument(variable, 0, ("initial_value",))
        if initial is not None and not (_canonical_names(graph, variable.func)
                                        & {"tf.get_variable", "tf.compat.v1.get_variable"}):
            by_variable.setdefault(initial, []).append(layer)
    return by_variable


def input_of(call: cst.Call) -> Optional[cst.BaseExpression]:
    """The input a functional layer (``tf.layers.dense(x, ...)``, ``tf.matmul(x, W)``) or a
    pass-through op (``layer_norm(inputs=x)``) is applied to."""
    return _argument(call, 0, ("inputs", "input", "value", "a", "x"))


def is_passthrough(graph, func: cst.BaseExpression) -> bool:
    return bool(_canonical_names(graph, func) & PASSTHROUGH)


def is_bias_add(graph, call: cst.Call) -> bool:
    """``tf.add(h, b)`` with ``b`` a variable of the file: still ``h``'s layer."""
    if not _canonical_names(graph, call.func) & _ADDS or len(call.args) != 2:
        return False
    return variable_call(graph, call.args[1].value) is not None


def bias_operand(graph, node: cst.BinaryOperation) -> Optional[cst.BaseExpression]:
    """In ``h + b`` (either order) with ``b`` a variable of the file: ``h``; else None."""
    if not isinstance(node.operator, cst.Add):
        return None
    if variable_call(graph, node.right) is not None:
        return node.left
    if variable_call(graph, node.left) is not None:
        return node.right
    return None
