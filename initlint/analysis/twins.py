"""The network a target network evidently mirrors: ``policy_net`` for ``target_net``.

RL code keeps a target copy of an online network and loads the online one's weights into it. When
the code loads the target's own weights instead, the network that was meant is the target's twin:
the same name without ``target`` (``critic_target`` -> ``critic``) or with one of the words RL code
uses for the online side (``qnetwork_target`` -> ``qnetwork_local``, ``target_net`` ->
``policy_net``), that exists in the same place (an attribute of the same class, or a name in
scope) and is built the same way (the same constructor, or the target is a deep copy of it).
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

import libcst as cst

from .scopes import dotted

_TARGET = re.compile(r"target|tgt", re.IGNORECASE)
# what RL code calls the network a target mirrors
ONLINE_WORDS = ("policy", "online", "local", "eval", "main", "behavior", "behaviour", "current", "q", "model",
                "net", "network", "")
# methods that return the same module (moved or cast): ``DQN(...).to(device)``
_SAME_MODULE_METHODS = frozenset({"to", "cuda", "cpu", "double", "float", "half", "train", "eval", "requires_grad_",
                                  "to_empty", "share_memory"})


def twin_names(name: str) -> List[str]:
    """Names ``name`` could be the target twin of, most specific first; [] when it says no target."""
    out: List[str] = []
    for match in _TARGET.finditer(name):
        before, after = name[:match.start()], name[match.end():]
        for word in ONLINE_WORDS:
            if word == "":  # drop the word and one joining underscore: critic_target -> critic
                if after.startswith("_"):
                    candidate = before + after[1:]
                elif before.endswith("_"):
                    candidate = before[:-1] + after
                else:
                    candidate = before + after
            else:
                spelled = word.capitalize() if match.group(0)[0].isupper() else word
                candidate = before + spelled + after
            if candidate and candidate != name and candidate.isidentifier() and candidate not in out:
                out.append(candidate)
    return out


def built_by(facts, value: cst.BaseExpression) -> Optional[str]:
    """The constructor an expression is built with (``DQN`` for ``DQN(4, 2).to(device)``), as text."""
    while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) \
            and value.func.attr.value in _SAME_MODULE_METHODS:
        value = value.func.value
    if isinstance(value, cst.Call):
        return dotted(value.func)
    return None


def deep_copy_of(facts, value: cst.BaseExpression) -> Optional[str]:
    """``x`` (as text) when ``value`` is ``copy.deepcopy(x)`` (moved or cast), else None."""
    while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) \
            and value.func.attr.value in _SAME_MODULE_METHODS:
        value = value.func.value
    if isinstance(value, cst.Call) and "copy.deepcopy" in facts.names(value.func) and value.args:
        return dotted(value.args[0].value)
    return None


def _values_of(facts, expression: cst.BaseExpression, name: str, scope, seq) -> Optional[List[cst.BaseExpression]]:
    """What ``expression``'s form (``self.<name>`` or ``<name>``) is assigned from, where the code
    shows it; None when no such attribute or name exists there."""
    if isinstance(expression, cst.Attribute) and isinstance(expression.value, cst.Name):
        cls = facts.graph.instance_class(expression.value)
        if cls is None:
            return None
        values = facts.graph.classes[cls].attrs.get(name)
        return list(values) if values else None
    if isinstance(expression, cst.Name) and scope is not None:
        bindings = facts.collected.resolver.bindings(name, scope, seq)
        if not bindings:
            return None
        return [b.value for b in bindings if b.kind == "assign" and b.index is None and b.value is not None]
    return None


def evident_twin(facts, target: cst.BaseExpression) -> Optional[Tuple[str, cst.BaseExpression]]:
    """``(text, expression)`` of the one network ``target`` evidently mirrors, or None when there is
    not exactly one candidate built the same way."""
    if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
        leaf = target.attr.value
    elif isinstance(target, cst.Name):
        leaf = target.value
    else:
        return None
    resolver = facts.collected.resolver
    anchor = target.value if isinstance(target, cst.Attribute) else target
    scope, seq = resolver.scope_of.get(anchor), resolver.seq_of.get(anchor, 1 << 60)
    own = _values_of(facts, target, leaf, scope, seq) or []
    own_builders = {built_by(facts, v) for v in own} - {None}
    own_copies = {deep_copy_of(facts, v) for v in own} - {None}
    found = []
    for name in twin_names(leaf):
        values = _values_of(facts, target, name, scope, seq)
        if not values:
            continue
        text = f"{dotted(target.value)}.{name}" if isinstance(target, cst.Attribute) else name
        builders = {built_by(facts, v) for v in values} - {None}
        copies = {deep_copy_of(facts, v) for v in values} - {None}
        same_build = bool(own_builders) and own_builders == builders
        copied = text in own_copies or dotted(target) in copies
        if same_build or copied:
            found.append(text)
    if len(found) != 1:
        return None
    return found[0], cst.parse_expression(found[0])
