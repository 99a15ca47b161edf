"""Questions several rules ask of the facts, answered once."""

from __future__ import annotations

import functools
from typing import Optional, Tuple

import libcst as cst

from ..catalogue import Family, LayerKind
from ..catalogue.model import ConstantLaw
from .graph import LayerUse
from .traversal import final_name, walk
from .values import UNKNOWN, is_number

# names people give parameters that are zero- or constant-initialised on purpose (SPEC: LoRA's B
# matrix, adapters and gates, zero-init residual branches, classifier heads)
INTENTIONAL_ZERO_WORDS = ("lora_b", "lora_up", "adapter", "gate", "zero", "head", "classifier", "fc_out",
                          "out_proj", "proj_out", "final", "residual", "skip", "ls", "gamma", "scale")


def constant_value(facts, use) -> Optional[Tuple[Optional[float], str]]:
    """``(value, text)`` for a constant initialiser the code establishes: the value when it is
    known, else None with ``text`` the expression when the code only shows it is non-zero
    (``1.0 / n``). None when ``use`` is not a constant or its value is not established."""
    if use.entry is None or use.entry.family is not Family.CONSTANT or not isinstance(use.entry.law, ConstantLaw):
        return None
    value = use.entry.law.constant(use.values(facts.evaluator))
    if is_number(value):
        return float(value), f"{value:g}"
    term = use.entry.law.value
    node = use.args.get(term.name) if hasattr(term, "name") else None
    if node is not None and facts.evaluator.is_nonzero(node):
        return None, facts.module.code_for_node(node)
    return None


def units(facts, layer: LayerUse):
    """Output units/channels of a layer, or UNKNOWN."""
    node = layer.arg(layer.entry.units_param)
    return facts.value(node) if node is not None else UNKNOWN


def looks_intentional(layer: Optional[LayerUse]) -> bool:
    if layer is None:
        return False
    return any(word in name.lower() for name in layer.names for word in INTENTIONAL_ZERO_WORDS)


def is_frozen(facts, layer: LayerUse) -> bool:
    """The layer is never trained: Keras ``trainable=False``, torch ``requires_grad = False`` /
    ``requires_grad_(False)``, MXNet ``grad_req = 'null'`` on it or its weight."""
    if facts.value(layer.args.get("trainable")) is False:  # Keras: Layer(trainable=False)
        return True
    if not layer.names:
        return False
    wanted = set(layer.names)
    for site in facts.collected.calls:
        func = site.node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "requires_grad_" and site.node.args \
                and facts.value(site.node.args[0].value) is False and _mentions(func.value, wanted):
            return True
    return any(_mentions(node, wanted) for node in facts.collected.frozen)


def _mentions(node, names) -> bool:
    while isinstance(node, cst.Attribute):
        if node.attr.value in names:
            return True
        node = node.value
    return False


WEIGHTED_KINDS = frozenset({LayerKind.DENSE, LayerKind.CONV, LayerKind.CONV_TRANSPOSE, LayerKind.EMBEDDING,
                            LayerKind.RNN, LayerKind.ATTENTION})


# functions whose tensor arguments are weights: the code uses what it passes here as a weight
WEIGHT_CONSUMERS = frozenset({
    "torch.matmul", "torch.mm", "torch.bmm", "torch.einsum", "torch.nn.functional.linear",
    "torch.nn.functional.bilinear", "torch.nn.functional.conv1d", "torch.nn.functional.conv2d",
    "torch.nn.functional.conv3d", "torch.nn.functional.conv_transpose2d", "tf.matmul", "tf.linalg.matmul",
    "tf.einsum", "tf.nn.conv1d", "tf.nn.conv2d", "tf.nn.conv3d", "tf.tensordot", "keras.ops.matmul",
    "jax.numpy.dot", "jax.numpy.matmul", "jax.numpy.einsum", "jax.lax.dot_general", "jax.lax.conv",
    "numpy.dot", "numpy.matmul", "einops.einsum",
})
_WEIGHT_METHODS = ("matmul", "mm", "bmm", "dot")


def used_as_weight(facts) -> frozenset:
    """What the code multiplies with as a weight: ``("attr", "w")`` for ``self.w``/``m.w``,
    ``("name", "w")`` for a variable ``w``. A product the code scales by a square root where it is
    computed (``(self.queries @ x.T) * self.scale`` with ``self.scale = dim ** -0.5``,
    ``torch.matmul(q, w) / math.sqrt(d)``) has its fan-based scale applied in the forward pass, as
    equalised learning rate applies it to the weight (``F.linear(x, self.w * self.scale)``, whose
    operand is no stored weight): its operands do not count."""
    scaled = _scaled_products(facts)
    operands = [side for product in facts.collected.matmuls if product not in scaled
                for side in (product.left, product.right)]
    for site in facts.collected.calls:
        call = site.node
        if call in scaled:
            continue
        names = facts.names(call.func)
        if names & WEIGHT_CONSUMERS:
            operands.extend(a.value for a in call.args if a.keyword is None)
        elif isinstance(call.func, cst.Attribute) and call.func.attr.value in _WEIGHT_METHODS:
            operands.append(call.func.value)
            operands.extend(a.value for a in call.args if a.keyword is None)
    out = set()
    for operand in operands:
        # .value / [...]: a Flax NNX Param's array (self.w.value, self.w[...])
        while isinstance(operand, cst.Attribute) and operand.attr.value in ("T", "mT", "data", "value"):
            operand = operand.value
        if isinstance(operand, cst.Call) and isinstance(operand.func, cst.Attribute) \
                and operand.func.attr.value in ("t", "transpose", "to", "float", "type_as"):
            operand = operand.func.value
        if isinstance(operand, cst.Subscript):  # weights['h1'], self.W_hh[0]
            index = operand.slice[0].slice if len(operand.slice) == 1 else None
            key = facts.value(index.value) if isinstance(index, cst.Index) else None
            if isinstance(key, str):
                out.add(("key", key))
            operand = operand.value
        out.update(storage_keys(operand))
    return frozenset(out)


def _scaled_products(facts) -> set:
    """The products (``a @ b`` or a call) that a ``*`` or ``/`` scales down by a square root at
    once: ``product * d ** -0.5``, ``product * torch.rsqrt(d)``, ``product / math.sqrt(d)``."""
    out = set()
    for scaling in facts.collected.scalings:
        multiply = type(scaling.operator) is cst.Multiply
        sides = ((scaling.left, scaling.right), (scaling.right, scaling.left)) if multiply \
            else ((scaling.left, scaling.right),)
        for product, factor in sides:
            if (type(product) is cst.Call or (type(product) is cst.BinaryOperation
                                              and type(product.operator) is cst.MatrixMultiply)) \
                    and _root_scale(facts, factor, inverse=multiply):
                out.add(product)
    return out


def _root_scale(facts, factor, inverse: bool) -> bool:
    """Is ``factor`` the square root of a quantity not written as a number (``inverse``: one over
    it), written there or assigned to the name or ``self.`` attribute written there (every
    assignment of it, in the method's class: an attribute of an inherited class is not seen, and
    counts as none)? A root of a number (``math.sqrt(2)``) is a gain, not a fan's scale."""
    if isinstance(factor, cst.Name):
        values = [value for value, _ in facts.collected.resolver.assigned_values(factor)]
    elif isinstance(factor, cst.Attribute) and isinstance(factor.value, cst.Name) and factor.value.value == "self":
        owner = facts.collected.resolver.instance_class(factor.value)
        values = [value for value, _ in facts.collected.self_attrs.get((owner, factor.attr.value), ())]
    else:
        values = [factor]
    return bool(values) and all(_is_root(facts, value, inverse) for value in values)


def _is_root(facts, node, inverse: bool, depth: int = 0) -> bool:
    if depth > 4:
        return False
    if type(node) is cst.Call and node.args:
        name = final_name(node.func)
        return name == ("rsqrt" if inverse else "sqrt") and not _written_number(node.args[0].value)
    if type(node) is not cst.BinaryOperation:
        return False
    operator = type(node.operator)
    if operator is cst.Power:
        return facts.value(node.right) == (-0.5 if inverse else 0.5) and not _written_number(node.left)
    if operator is cst.Multiply:  # gain * d ** -0.5
        return _is_root(facts, node.left, inverse, depth + 1) or _is_root(facts, node.right, inverse, depth + 1)
    if operator is cst.Divide:  # 1 / math.sqrt(d): the inverse of a root
        return _is_root(facts, node.right, not inverse, depth + 1) or _is_root(facts, node.left, inverse, depth + 1)
    return False


def _written_number(node) -> bool:
    """A number written out (``2``, ``2.0``, ``-1``): what a gain is, where a fan is a name."""
    while type(node) is cst.UnaryOperation:
        node = node.expression
    return type(node) in (cst.Integer, cst.Float)


def trained_values(facts) -> set:
    """The expressions whose tensors the code trains without a parameter wrapper, script style
    (Karpathy's makemore: ``W1 = torch.randn(...)``, ``parameters = [C, W1, b1]``, ``for p in
    parameters: p.requires_grad = True``): what a ``requires_grad = True`` or ``requires_grad_()``
    reaches, directly or through the loop and the list it iterates, and what a list handed to a torch
    optimizer holds. Each found as the value its name is bound to where the code names it, so a
    name bound again later (a notebook's next cell) is told apart."""
    roots = list(facts.collected.trained)
    for site in facts.collected.calls:
        call, func = site.node, site.node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "requires_grad_":
            if not call.args or facts.value(call.args[0].value) is True:
                roots.append(func.value)
        elif call.args and (call.args[0].keyword is None or call.args[0].keyword.value == "params") \
                and any(name.startswith("torch.optim.") for name in facts.names(func)):
            roots.append(call.args[0].value)
    out: set = set()
    for root in roots:
        _bound_values(facts, root, out, 0)
    return out


def _bound_values(facts, node, out: set, depth: int) -> None:
    """The values ``node`` stands for: a name's assigned values (a loop variable's: the elements of
    what it iterates), a list or tuple's elements, each followed to its own values."""
    if depth > 4:
        return
    if isinstance(node, (cst.List, cst.Tuple)):
        for element in node.elements:
            _bound_values(facts, element.value, out, depth + 1)
    elif isinstance(node, cst.Name):
        for binding in facts.collected.resolver.lookup(node):
            if binding.kind == "loop" and binding.value is not None:
                _bound_values(facts, binding.value, out, depth + 1)
            elif binding.kind == "assign" and binding.value is not None and binding.index is None:
                if isinstance(binding.value, (cst.List, cst.Tuple, cst.Name)):
                    _bound_values(facts, binding.value, out, depth + 1)
                else:
                    out.add(binding.value)


def storage_keys(node) -> set:
    """How code refers to what is stored under ``node``: ``("attr", "w")`` for ``self.w``,
    ``("name", "w")`` for ``w``."""
    if isinstance(node, cst.Attribute):
        return {("attr", node.attr.value)}
    if isinstance(node, cst.Name):
        return {("name", node.value)}
    return set()


def _record_stored(facts, wrapped, out: dict, value, keys) -> None:
    if isinstance(value, cst.Dict):
        for element in value.elements:
            key = facts.value(element.key) if isinstance(element, cst.DictElement) else None
            named = {("key", key)} if isinstance(key, str) else set()
            _record_stored(facts, wrapped, out, element.value, keys | named)
        return
    for node in walk(value):
        if isinstance(node, cst.Call) and wrapped(node):
            out.setdefault(node, set()).update(keys)


def stored_parameters(facts, wrapped) -> dict:
    """For each ``wrapped(node)`` call found inside a stored value (``self.w = nn.Parameter(...)``,
    ``w = tf.Variable(...)``, ``{'h1': tf.Variable(...)}``, ``register_parameter('W', ...)``,
    ``nn.ParameterList([...])``): the keys (see ``storage_keys``) it can be referred to by."""
    out: dict = {}
    # a module-level function, not a nested one: a nested function that calls itself is a reference
    # cycle (through its closure cell), which would keep ``facts`` and the whole tree alive
    record = functools.partial(_record_stored, facts, wrapped, out)
    for (_cls, attr), values in facts.collected.self_attrs.items():
        for value, _ in values:
            record(value, {("attr", attr)})
    for scope in [facts.collected.module_scope] + [scope for _, scope in facts.collected.functions]:
        for name, bindings in scope.bindings.items():
            for binding in bindings:
                if binding.kind == "assign" and binding.value is not None:
                    record(binding.value, {("name", name)})
    for site in facts.collected.calls:
        call = site.node
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "register_parameter" \
                and len(call.args) >= 2:
            name = facts.value(call.args[0].value)
            if isinstance(name, str):
                record(call.args[1].value, {("attr", name)})
    return out


# in-place by torch's naming, but they change a tensor's flags or storage, never its values
_KEEPING_VALUES = frozenset({"requires_grad_", "share_memory_", "detach_", "retain_grad_", "resize_"})


def filled_in_place(facts) -> frozenset:
    """Attributes/variables some call fills in place: a catalogue initialiser, or any function
    named in torch's in-place convention (``init.normal_(m.w)``, ``w.data.copy_(...)``)."""
    out = {use.tensor_name for use in facts.init_uses if use.via == "inplace" and use.tensor_name}
    for site in facts.collected.calls:
        call = site.node
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if not name.endswith("_") or name.endswith("__") or name in _KEEPING_VALUES:
            continue
        # init.normal_(m.w, ...) fills its first argument; m.w.data.normal_() fills its receiver:
        # both are taken, since this only ever suppresses a finding
        candidates = [call.args[0].value] if call.args else []
        if isinstance(func, cst.Attribute):
            candidates.append(func.value)
        for tensor in candidates:
            while isinstance(tensor, cst.Attribute) and tensor.attr.value == "data":
                tensor = tensor.value
            if isinstance(tensor, cst.Attribute):
                out.add(tensor.attr.value)
            elif isinstance(tensor, cst.Name):
                out.add(tensor.value)
    return frozenset(out)


_RIGHT_OPERAND_CALLS = frozenset({"torch.matmul", "torch.mm", "torch.bmm"})
_OUT_IN_CALLS = frozenset({"torch.nn.functional.linear", "torch.nn.functional.bilinear"})


def stored_in_out(facts) -> frozenset:
    """Parameters the code multiplies as ``x @ W`` (W untransposed on the right), so stored
    ``[in, out]``, and never passes to ``F.linear`` (which takes ``[out, in]``)."""
    right = list(facts.collected.matmul_right)
    out_in = []
    for site in facts.collected.calls:
        call = site.node
        names = facts.names(call.func)
        positional = [a.value for a in call.args if a.keyword is None]
        if names & _RIGHT_OPERAND_CALLS and len(positional) >= 2:
            right.append(positional[1])
        elif names & _OUT_IN_CALLS and len(positional) >= 2:
            out_in.append(positional[1])
    keys = set()
    for operand in right:
        if isinstance(operand, (cst.Attribute, cst.Name)) and not (
                isinstance(operand, cst.Attribute) and operand.attr.value in ("T", "mT")):
            keys |= storage_keys(operand)
    for operand in out_in:
        keys -= storage_keys(operand)
    return frozenset(keys)
