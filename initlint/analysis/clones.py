"""One module object turned into several layers: deep copies in a loop, or one instance repeated.

``copy.deepcopy(layer)`` run once per iteration of a loop or comprehension over the same ``layer``
gives N modules with the same weights; ``[layer] * N`` or ``[layer for _ in range(N)]`` puts the
*same* module N times into a container (one set of weights, shared). The helpers here say which
expressions denote the same object on every iteration, whether an expression evidently is a module
with parameters, and when a fresh instance can be written instead (the constructor the object was
built with, whose arguments mean the same where the copy is made).
"""

from __future__ import annotations

from typing import Iterator, List, Optional, Tuple

import libcst as cst

from ..catalogue.names import canonical
from .graph import WEIGHT_KINDS as WEIGHTED_KINDS, ActivationRef, LayerUse, SequentialUse
from .traversal import walk

COMPREHENSIONS = (cst.ListComp, cst.GeneratorExp)


def same_every_iteration(facts, node: cst.BaseExpression, loop) -> bool:
    """``node`` (a name or ``self.attr``) denotes one object on every iteration of ``loop``: it is
    not the loop's variable and is not assigned inside it."""
    resolver = facts.collected.resolver
    base = node
    while isinstance(base, cst.Attribute):
        base = base.value
    if not isinstance(base, cst.Name):
        return False
    if base is not node and base.value != "self":
        return False  # blocks.layer: another object's attribute may change; stay silent
    bindings = resolver.lookup(base)
    if not bindings:
        return False
    start, end = facts.collected.loop_span.get(loop, (0, 0))
    for binding in bindings:
        if binding.kind == "loop" or start <= binding.seq <= end:
            return False
    return True


def iteration_count(facts, loop) -> Optional[int]:
    """N for a loop over ``range(N)`` whose N the code establishes, else None."""
    iterable = loop.for_in.iter if isinstance(loop, COMPREHENSIONS) else getattr(loop, "iter", None)
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.func.value == "range" \
            and len(iterable.args) == 1:
        value = facts.value(iterable.args[0].value)
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return None


def has_parameters(facts, node: cst.BaseExpression) -> Optional[bool]:
    """True: the code shows ``node`` is a module with parameters; False: a module without any (an
    activation, dropout, a pooling or reshaping layer); None: not established."""
    graph = facts.graph
    item = graph.classify(node)
    if isinstance(item, ActivationRef):
        return False
    if isinstance(item, LayerUse):
        entry = item.entry
        return bool(entry.weight or entry.bias or entry.extra_weights)
    if isinstance(item, SequentialUse):
        return True if graph.layers_in(node) else None
    if graph.is_transparent(node):
        return False
    cls = graph.instance_class(node)
    if cls is not None and cls in graph.classes:
        if graph.layers_of_class(cls):
            return True
        attrs = graph.classes[cls].attrs
        wrapped = any(isinstance(v, cst.Call) and {canonical(n) for n in facts.names(v.func)}
                      & {"torch.nn.Parameter", "torch.nn.parameter.Parameter"}
                      for values in attrs.values() for v in values)
        return True if wrapped else None
    return None


def random_parameters(facts, node: cst.BaseExpression) -> Optional[bool]:
    """True: the code shows ``node`` is a module with randomly initialised parameters (a weight
    layer, or a module class of this file holding one or a parameter not built from a constant);
    False: none (no parameters, or only norms and constants, which are identical by design);
    None: not established."""
    params = has_parameters(facts, node)
    if params is False:
        return False
    graph = facts.graph
    item = graph.classify(node)
    if isinstance(item, LayerUse):
        return item.kind in WEIGHTED_KINDS
    layers = graph.layers_in(node) if isinstance(item, SequentialUse) else []
    cls = graph.instance_class(node) if item is None else None
    if cls is not None and cls in graph.classes:
        layers = graph.layers_of_class(cls)
        raw = [v for values in graph.classes[cls].attrs.values() for v in values
               if isinstance(v, cst.Call) and {canonical(n) for n in facts.names(v.func)}
               & {"torch.nn.Parameter", "torch.nn.parameter.Parameter"}]
        if any(not _constant_inside(facts, v) for v in raw):
            return True
        if not layers:
            return False if raw else None
    if not layers:
        return None
    return any(layer.kind in WEIGHTED_KINDS for layer in layers)


def _constant_inside(facts, wrapped: cst.Call) -> bool:
    """``nn.Parameter(torch.ones(d))``: a parameter built from a constant sampler."""
    inner = wrapped.args[0].value if wrapped.args else None
    use = facts.inits.by_node.get(inner) if inner is not None else None
    return use is not None and use.entry is not None and use.entry.family.value == "constant"


def torch_containers(facts) -> Iterator[Tuple[SequentialUse, cst.BaseExpression]]:
    """``(container, expression)`` for every list-like expression a torch ``ModuleList``/
    ``Sequential`` is built from: ``ModuleList(e)``, ``Sequential(*e)``, with ``e`` a name
    assigned once followed to its value."""
    from ..catalogue import Framework

    for seq in facts.graph.sequentials.values():
        if seq.framework is not Framework.TORCH:
            continue
        for arg in seq.node.args:
            if arg.keyword is not None:
                continue
            value = arg.value
            if isinstance(value, cst.Name):
                values = facts.collected.resolver.assigned_values(value)
                value = values[0][0] if len(values) == 1 else value
            if arg.star == "*" or isinstance(value, (cst.BinaryOperation,) + COMPREHENSIONS):
                yield seq, value


def repeated_list(node: cst.BaseExpression) -> Optional[Tuple[List[cst.BaseExpression], cst.BaseExpression]]:
    """``([elements], count)`` for ``[a, ...] * count`` or ``count * [a, ...]``."""
    if not isinstance(node, cst.BinaryOperation) or not isinstance(node.operator, cst.Multiply):
        return None
    for seq, count in ((node.left, node.right), (node.right, node.left)):
        if isinstance(seq, (cst.List, cst.Tuple)) and seq.elements \
                and not any(isinstance(e, cst.StarredElement) for e in seq.elements):
            return [e.value for e in seq.elements], count
    return None


def fresh_constructor(facts, node: cst.BaseExpression, at_seq: int) -> Optional[cst.Call]:
    """A new copy of the call that built ``node`` (a local name assigned once from a constructor),
    when evaluating it again at ``at_seq`` means the same: its arguments are literals and names
    that are bound the same way there, and nothing touches ``node`` between its construction and
    ``at_seq`` (an init or a load in between would be lost by building it afresh)."""
    if not isinstance(node, cst.Name):
        return None
    resolver = facts.collected.resolver
    bindings = resolver.lookup(node)
    if len(bindings) != 1 or bindings[0].kind != "assign" or bindings[0].index is not None:
        return None
    binding = bindings[0]
    call = binding.value
    if not isinstance(call, cst.Call) or facts.graph.classify(call) is None and facts.graph.instance_class(call) is None:
        return None
    scope = binding.scope
    for sub in walk(call):
        if isinstance(sub, cst.Name) and sub in resolver.scope_of:
            here = resolver.bindings(sub.value, scope, at_seq)
            there = resolver.lookup(sub)
            if {id(b) for b in here} != {id(b) for b in there}:
                return None
        elif isinstance(sub, (cst.Lambda, cst.Await, cst.Yield, cst.NamedExpr)) or sub is not call and \
                isinstance(sub, cst.Call) and facts.graph.classify(sub) is None:
            return None  # a nested call that is not a layer may have side effects or differ
    for name, seq in _uses(facts, node.value, scope):
        if binding.seq < seq < at_seq and name is not node:
            return None
    return call.deep_clone()


def _uses(facts, name: str, scope) -> Iterator[Tuple[cst.Name, int]]:
    resolver = facts.collected.resolver
    for node, where in resolver.scope_of.items():
        if isinstance(node, cst.Name) and node.value == name and where is scope:
            yield node, resolver.seq_of.get(node, 0)


def clone_helpers(facts) -> set:
    """This file's functions that return deep copies of their first parameter made in a loop
    (the Annotated Transformer's ``clones(module, N)``)."""
    out = set()
    for site in facts.collected.calls:
        call = site.node
        if not site.loops or len(call.args) != 1 or "copy.deepcopy" not in facts.names(call.func):
            continue
        argument = call.args[0].value
        if not isinstance(argument, cst.Name):
            continue
        for binding in facts.collected.resolver.lookup(argument):
            function = binding.scope.function if binding.scope is not None else None
            if binding.kind == "param" and function is not None and function.params.params \
                    and function.params.params[0].name.value == argument.value:
                out.add(function)
    return out
