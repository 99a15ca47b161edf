"""Findings that belong to one call site: a parameter the file's calls fill with different values.

``def init_layer(layer, std): nn.init.normal_(layer.weight, std=std)`` called as
``init_layer(self.fc1, 0.02)`` and ``init_layer(self.fc2, 5.0)``: ``std`` has no one value, so the
init call makes no finding of its own; the call that passes 5.0 does. ``call_site_variants(facts)``
makes, for each initialiser use whose arguments are parameters of the function it sits in (and
the file's calls do not all pass the same value), one ``InitUse`` per call site: those arguments
replaced by what that call passes, its targets narrowed to the layers that call passes (when the
initialised tensor is a parameter's attribute, ``layer.weight``), reported at the call.

``reports_of(facts, rule)`` runs a rule on the file, then on the variants, and keeps a variant's
report only where the rule said nothing about the use it comes from (nor at that call); a fix is
kept only when it rewrites what the call passes (``std`` at the call site, never the call itself).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Iterable, List, Optional, Tuple

import libcst as cst

from .flow import Argument
from .inits import InitUse, ParamTarget
from .values import UNKNOWN


# arguments that pick which numbers are drawn, or where, not their law: a call passing its own seed
# is one more instance, not a finding of its own
_NOT_THE_LAW = frozenset({"seed", "generator", "rng", "key", "dtype", "device", "name"})


def _parameter(facts, node, scope):
    """The parameter binding of ``scope`` a bare name refers to, else None."""
    if not isinstance(node, cst.Name):
        return None
    bindings = facts.collected.resolver.lookup(node)
    if len(bindings) == 1 and bindings[0].kind == "param" and bindings[0].scope is scope:
        return bindings[0]
    return None


def _by_site(arguments: Optional[List[Argument]]) -> Optional[Dict[cst.Call, Argument]]:
    if not arguments:
        return None
    return {a.site.node: a for a in arguments if a.site is not None}


def _tensor_of(use: InitUse) -> Optional[cst.BaseExpression]:
    call = use.node
    if use.via != "inplace" or not isinstance(call, cst.Call) or not call.args:
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "tensor":
            return arg.value
    func = call.func
    if isinstance(func, cst.Attribute) and _is_tensor_method(use):  # w.data.normal_(...): the receiver
        return func.value
    return call.args[0].value if call.args[0].keyword is None else None


def _is_tensor_method(use: InitUse) -> bool:
    """``w.normal_(...)`` rather than an initialiser function taking the tensor (``nn.init.normal_(w)``)."""
    return use.entry is not None and use.entry.name.startswith("torch.Tensor.")


def _narrowed_targets(facts, use: InitUse, scope, site: cst.Call, tensor) -> Optional[List[ParamTarget]]:
    """The use's targets for one call: ``layer.weight`` with ``layer`` a parameter -> the layers
    that call passes. None when that call passes nothing the code places."""
    node = tensor
    while isinstance(node, cst.Attribute) and node.attr.value == "data":
        node = node.value
    if not isinstance(node, cst.Attribute):
        return list(use.targets)
    binding = _parameter(facts, node.value, scope)
    if binding is None:
        return list(use.targets)
    argument = (_by_site(facts.flow.parameter_arguments(binding)) or {}).get(site)
    if argument is None:
        return None
    layers = facts.graph.layers_in(argument.value)
    return [ParamTarget(node.attr.value, layer) for layer in layers] or None


def call_site_variants(facts) -> List[Tuple[InitUse, InitUse]]:
    """``(use, variant)`` pairs, one variant per call site of the function ``use`` sits in."""
    out = []
    evaluate = facts.evaluator.evaluate
    for use in list(facts.inits.uses):
        if use.entry is None or use.function is None or not use.args:
            continue
        scope = facts.collected.scope_of_function.get(use.function)
        varying = {}
        for name, node in use.args.items():
            if name in _NOT_THE_LAW:
                continue
            binding = _parameter(facts, node, scope)
            if binding is not None:
                varying[name] = _by_site(facts.flow.parameter_arguments(binding))
                if varying[name] is None:
                    varying = {}
                    break
        if not varying:
            continue
        sites = set.intersection(*(set(by_site) for by_site in varying.values()))
        agreed = all(len({repr(evaluate(a.value)) for a in by_site.values()}) == 1
                     and evaluate(next(iter(by_site.values())).value) is not UNKNOWN
                     for by_site in varying.values() if by_site)
        if agreed or not sites:
            continue  # the parameter has one value: the use itself says it
        tensor = _tensor_of(use)
        for site in sorted(sites, key=lambda s: facts.collected.resolver.seq_of.get(s.func, 0)):
            targets = _narrowed_targets(facts, use, scope, site, tensor) if tensor is not None else list(use.targets)
            if targets is None:
                continue
            args = dict(use.args)
            for name, by_site in varying.items():
                args[name] = by_site[site].value
            out.append((use, dataclasses.replace(use, node=site, args=args, targets=targets, variant_of=use)))
    return out


def reports_of(facts, rule) -> Iterable:
    """The rule's reports on the file, then those it makes only at one call site (see above)."""
    reports = list(rule.check(facts))
    variants = facts.variants
    if not variants:
        return reports
    said = {report.node for report in reports}
    view = dataclasses.replace(facts, inits=_UsesView(facts.inits, [v for _, v in variants]))
    origin = {id(variant.node): (use, variant) for use, variant in variants}
    for report in rule.check(view):
        found = origin.get(id(report.node))
        if found is None or found[0].node in said or report.node in said:
            continue
        use, variant = found
        fix = report.fix
        if fix is not None and not any(fix.node is value for value in variant.args.values()):
            report = dataclasses.replace(report, fix=None)
        said.add(report.node)
        reports.append(report)
    return reports


class _UsesView:
    """The file's ``InitIndex`` with its uses replaced by the call-site variants."""

    def __init__(self, inits, uses) -> None:
        self._inits = inits
        self.uses = uses
        self.by_node = {use.node: use for use in uses}

    def __getattr__(self, name):
        return getattr(self._inits, name)
