"""Parameters the forward pass uses with a unit offset (``x * (1 + self.weight)``), and the constant
each one is initialised to.

Gemma-style norms store their scale as an offset from one: the forward multiplies by ``1 + w`` and
``w`` starts at zero. A parameter is keyed by the class that holds it and its attribute
(``(cls, "weight")``), or, for a Flax ``@compact`` method, by the function and the local name
(``scale = self.param('scale', ...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import libcst as cst

from .queries import constant_value
from .traversal import walk

# methods that keep a tensor's values: (1.0 + self.weight.float()), self.weight.view(1, -1) + 1
_KEEPS_VALUES = frozenset({"float", "to", "type_as", "astype", "view", "reshape", "unsqueeze", "expand_as", "type",
                           "half", "bfloat16", "contiguous", "squeeze", "value", "numpy", "detach"})
_WRAPPERS = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter", "tf.Variable", "tensorflow.Variable"})

Key = Tuple[cst.CSTNode, str]  # (class or function, attribute or local name)


@dataclass(eq=False)
class Declared:
    """A constant a parameter is initialised to, and where the code says so."""

    key: Key
    value: float
    node: cst.CSTNode  # the initialiser (reported there)
    framework: str


def _stripped(node: cst.BaseExpression) -> cst.BaseExpression:
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                and node.func.attr.value in _KEEPS_VALUES:
            node = node.func.value
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Attribute) and node.attr.value == "data":
            node = node.value
        else:
            return node


def _is_one(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer):
        return node.value == "1"
    if isinstance(node, cst.Float):
        try:
            return float(node.value) == 1.0
        except ValueError:
            return False
    return False


def offset_operands(root: cst.CSTNode) -> List[Tuple[cst.BinaryOperation, cst.BaseExpression]]:
    """``(1 + p, p)`` for every ``1 + p`` / ``p + 1`` below ``root`` (``p`` stripped of casts)."""
    out = []
    for node in walk(root):
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            if _is_one(node.left):
                out.append((node, _stripped(node.right)))
            elif _is_one(node.right):
                out.append((node, _stripped(node.left)))
    return out


def _self_attr(node) -> Optional[str]:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def _class_of(facts, scope) -> Optional[cst.ClassDef]:
    return scope.method_class if scope is not None else None


def _local_classes(facts, test: cst.BaseExpression, subject: str) -> List[cst.ClassDef]:
    """This file's classes an ``isinstance(subject, C)`` test admits."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _local_classes(facts, test.left, subject) or _local_classes(facts, test.right, subject)
    if not (isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "isinstance"
            and len(test.args) == 2 and isinstance(test.args[0].value, cst.Name)
            and test.args[0].value.value == subject):
        return []
    types = test.args[1].value
    elements = [e.value for e in types.elements] if isinstance(types, (cst.Tuple, cst.List)) else [types]
    out = []
    for element in elements:
        if isinstance(element, cst.Name):
            for binding in facts.collected.resolver.lookup(element):
                if binding.kind == "class" and binding.value in facts.graph.classes:
                    out.append(binding.value)
    return out


def _inplace_tensor(call: cst.Call) -> Optional[cst.BaseExpression]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "tensor":
            return arg.value
    if call.args and call.args[0].keyword is None:
        return call.args[0].value
    return None


def declared_constants(facts) -> List[Declared]:
    """Every constant initialisation of a parameter the code shows, by parameter key."""
    out: List[Declared] = []
    by_node = facts.inits.by_node

    def constant(node) -> Optional[float]:
        use = by_node.get(node)
        found = constant_value(facts, use) if use is not None else None
        return found[0] if found is not None else None

    def record(key, node, use_node, framework):
        value = constant(use_node)
        if value is not None:
            out.append(Declared(key, value, node, framework))

    # stored parameters: nn.Parameter(torch.ones(d)), self.param('scale', ones, ...), add_weight(initializer=)
    for (cls, attr), values in facts.collected.self_attrs.items():
        for value, _function in values:
            _stored(facts, value, (cls, attr), record)
    # Flax @compact: scale = self.param('scale', nn.initializers.ones, (d,))
    for function, scope in facts.collected.functions:
        for name, bindings in scope.bindings.items():
            for binding in bindings:
                if binding.kind == "assign" and binding.index is None and isinstance(binding.value, cst.Call):
                    _stored(facts, binding.value, (function, name), record)
    # in place: nn.init.ones_(self.weight); m.weight.data.fill_(1.0) under isinstance(m, MyNorm)
    for site, call, tensor, value, framework in _filled_in_place(facts):
        tensor = _stripped(tensor) if tensor is not None else None
        if not isinstance(tensor, cst.Attribute):
            continue
        attr = tensor.attr.value
        owner = tensor.value
        if isinstance(owner, cst.Name) and owner.value == "self":
            cls = _class_of(facts, site.scope)
            if cls is not None:
                out.append(Declared((cls, attr), value, call, framework))
        elif isinstance(owner, cst.Name):
            for guard in site.guards:
                if guard.negated:
                    continue
                for cls in _local_classes(facts, guard.test, owner.value):
                    out.append(Declared((cls, attr), value, call, framework))
    return out


def _filled_in_place(facts):
    """``(site, call, tensor, value, framework)`` for every in-place constant fill: the catalogue's
    in-place initialisers, and the tensor methods ``fill_(c)``/``zero_()`` whatever their receiver
    (the init index keeps those only where it knows the layer; here a class of this file will do)."""
    seen = set()
    for use in facts.init_uses:
        if use.via != "inplace":
            continue
        value = constant_value(facts, use)
        site = facts.inits.site_of(use)
        if value is None or value[0] is None or site is None:
            continue
        call = use.node
        seen.add(call)
        if use.entry is not None and use.entry.name.startswith("torch.Tensor.") \
                and isinstance(call.func, cst.Attribute):
            yield site, call, call.func.value, value[0], use.framework.value  # m.weight.data.fill_(1.0)
        else:
            yield site, call, _inplace_tensor(call), value[0], use.framework.value  # nn.init.ones_(m.weight)
    for site in facts.collected.calls:
        call = site.node
        func = call.func
        if call in seen or not isinstance(func, cst.Attribute) or func.attr.value not in ("fill_", "zero_"):
            continue
        if func.attr.value == "zero_":
            value = 0.0 if not call.args else None
        else:
            value = facts.value(call.args[0].value) if len(call.args) == 1 else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            yield site, call, func.value, float(value), "torch"


_STORING = frozenset({"Parameter", "Variable", "param", "add_weight"})


def _stored(facts, value, key, record) -> None:
    if not isinstance(value, cst.Call):
        return
    func = value.func
    final = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
    if final not in _STORING:
        return  # most assignments: a cheap test before resolving names
    names = facts.names(value.func)
    positional = [a.value for a in value.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in value.args if a.keyword is not None}
    if names & _WRAPPERS and positional:
        record(key, positional[0], positional[0], "keras" if any("Variable" in n for n in names) else "torch")
    elif isinstance(value.func, cst.Attribute) and value.func.attr.value == "param" and len(positional) >= 2:
        record(key, positional[1], positional[1], "jax")
    elif isinstance(value.func, cst.Attribute) and value.func.attr.value == "add_weight" \
            and "initializer" in keywords:
        record(key, keywords["initializer"], keywords["initializer"], "keras")


def offset_uses(facts, keys) -> Dict[Key, cst.BinaryOperation]:
    """For each key among ``keys`` that the code uses as ``1 + p``: the first such expression."""
    out: Dict[Key, cst.BinaryOperation] = {}
    owners = {owner for owner, _ in keys}
    for owner in owners:
        for expression, operand in offset_operands(owner):
            if isinstance(owner, cst.ClassDef):
                attr = _self_attr(operand)
                if attr is None and isinstance(operand, cst.Name):
                    # w = self.weight; ... (1 + w)
                    values = facts.collected.resolver.assigned_values(operand)
                    attr = _self_attr(_stripped(values[0][0])) if len(values) == 1 else None
                key = (owner, attr)
            else:
                key = (owner, operand.value) if isinstance(operand, cst.Name) else None
            if key in keys and key not in out:
                out[key] = expression
    return out
