"""The layers a project class holds, and the activation each one's output goes through, for the
analysis of another module that initialises them.

This needs what a summary cannot give (pairing a layer with its activation follows ``Sequential``
lists and ``forward`` bodies: ``analysis.graph``), so the class's module is read with libcst and
the same ``Graph`` the checks use, once per process and only when an init elsewhere reaches one of
its classes and ``layerless`` cannot tell from CPython's tree that the class holds none (a base
or a mixin, most often). The layers come back *detached*: fresh ``LayerUse`` objects whose
arguments are the literal values the defining module establishes (so no other module's tree is
kept alive) and whose ``origin`` (``models/net.py:9``) names where they are, for the finding's
message.
"""

from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from .layerless import holds_no_layer

UNKNOWN_NAME = "__initlint_unknown__"  # an argument whose value the defining module does not establish


def class_layers(view, path: str, name: str) -> Optional[List[object]]:
    project = view.project
    memo = project.layers_memo.get(path)
    if memo is None:
        free = holds_no_layer(view, path, name)  # most bases and mixins: told without the parse
        if free is not None:
            view.touched.add(path)
            view.touched.update(free)
            return []
        memo = project.layers_memo.get(path)  # asking it may have parsed the module (a cycle)
    if memo is None:
        project.layers_memo[path] = {"classes": {}, "touched": frozenset()}  # a cycle sees nothing
        memo = project.layers_memo[path] = _module_layers(view, path)
    view.touched.add(path)
    view.touched.update(memo["touched"])
    return memo["classes"].get(name)


def _module_layers(view, path: str) -> dict:
    from ..analysis.collector import collect
    from ..analysis.graph import Graph
    from ..analysis.positions import node_ranges
    from ..analysis.values import Evaluator
    from ..engine import SourceError, package_of, parse, syntax_check
    from .view import ProjectView

    empty = {"classes": {}, "touched": frozenset()}
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        syntax_check(data, path)
        module = parse(data)
    except (OSError, SourceError, RecursionError):
        return empty
    inner = ProjectView(view.project, path, view.depth + 1)
    collected = collect(module, package_of(path))
    collected.resolver.project = inner
    evaluator = Evaluator(collected.resolver)
    graph = Graph(collected, evaluator)
    found: Dict[str, list] = {}
    for node, scope in collected.classes:
        if scope.kind == "module":
            found[node.name.value] = graph.layers_of_class(node)
    local = [layer.node for layers in found.values() for layer in layers if getattr(layer, "origin", None) is None]
    positions = node_ranges(module, local) if local else {}
    where = view.project.relative(path)
    classes = {}
    for name, layers in found.items():
        detached = []
        for layer in layers:
            origin = getattr(layer, "origin", None)
            if origin is None:
                position = positions.get(layer.node)
                origin = f"{where}:{position[0][0]}" if position else where
            detached.append(_detach(layer, evaluator, origin))
        classes[name] = detached
    return {"classes": classes, "touched": frozenset(inner.touched | {path})}


def _detach(layer, evaluator, origin: str):
    from ..analysis.graph import LayerUse

    args = {name: _literal(evaluator.evaluate(node)) for name, node in layer.args.items()}
    call = cst.Call(func=cst.Name(layer.entry.name.rsplit(".", 1)[-1]))
    return LayerUse(call, layer.entry, args, activation=layer.activation, followed_by=layer.followed_by,
                    feeds_layer=layer.feeds_layer, names=layer.names, origin=origin)


def _literal(value) -> cst.BaseExpression:
    if isinstance(value, (bool, int, float, str, tuple)) or value is None:
        try:
            text = repr(value)
            if len(text) <= 200:
                return cst.parse_expression(text)
        except Exception:  # inf, nan, an odd tuple: not a literal
            pass
    return cst.Name(UNKNOWN_NAME)
