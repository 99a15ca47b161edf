from __future__ import annotations

from typing import Optional

import libcst as cst

from .. import prefilter
from ..analysis.traversal import walk
from ..analysis.twins import evident_twin
from ..rule import Fix, Report, Rule

# (loading method, reading method, framework): torch state dicts, Keras weight lists
_PAIRS = {"load_state_dict": ("state_dict", "torch"), "set_weights": ("get_weights", "keras")}
# wrappers that hand the same weights on: load_state_dict(copy.deepcopy(net.state_dict()))
_PASS_THROUGH = frozenset({"copy.deepcopy", "copy.copy", "dict", "collections.OrderedDict", "builtins.dict"})

_G = prefilter.GAP
_LOADER = _G + rb"\." + _G + rb"(?:load_state_dict|set_weights)" + _G + rb"\("
_READER = _G + rb"\." + _G + rb"(?:state_dict|get_weights)" + _G + rb"\(" + _G + rb"\)"
# the same receiver text on both sides (what _same compares). A receiver spelled as a name or a
# dotted chain (`net`, `self.target`): its final name before the loader and again before a reader
# inside the call's first argument, where only a keyword, the pass-through wrappers, parentheses and
# the rest of the chain stand before it. Any other receiver ends in a subscript, a parenthesis (not
# a call's `()`: a call is never the same object twice) or a string, maybe followed by names: then
# any reader after the loader.
_ARGUMENT_HEAD = rb"(?:[\w.(=\s\\]|#[^\n]*(?:\n|\Z))*?"
_OTHER_END = rb"(?:[\])'\"](?:" + _G + rb"\." + _G + rb"\w+)+|[\]'\"]|(?<!\()\))"
_SELF_LOAD = (rb"\b(\w+)(?:" + _G + rb"\))*" + _LOADER + _ARGUMENT_HEAD + rb"\b\1(?:" + _G + rb"\))*" + _READER
              + rb"|" + _OTHER_END + rb"(?:" + _G + rb"\))*" + _LOADER + rb"(?s:.)*?" + _READER)


class StateDictSelfCopy(Rule):
    """A network's weights loaded into itself: `target.load_state_dict(target.state_dict())`.

    ## What it does
    Flags `net.load_state_dict(net.state_dict())` (also through `copy.deepcopy(...)`/`dict(...)`),
    and Keras' `net.set_weights(net.get_weights())`: the weights are read from the very module they
    are loaded into. Reported at the loading call. A soft update written into `target.state_dict()[k]`
    and then "loaded" this way is the same no-op: `state_dict()` builds a new dict on every call.

    ## Why is this bad?
    It is a no-op. In reinforcement learning the target network is meant to start as (and be
    periodically synced to) a copy of the online network; written this way it keeps its own random
    initialisation, so the bootstrapped targets come from an unrelated random network, and every
    "sync" changes nothing. Nothing fails: the agent just learns badly.

    ## Example
    ```python
    from torch import nn

    policy_net = nn.Sequential(nn.Linear(4, 128), nn.ReLU(), nn.Linear(128, 2))
    target_net = nn.Sequential(nn.Linear(4, 128), nn.ReLU(), nn.Linear(128, 2))
    target_net.load_state_dict(target_net.state_dict())
    ```

    ## Use instead
    ```python
    from torch import nn

    policy_net = nn.Sequential(nn.Linear(4, 128), nn.ReLU(), nn.Linear(128, 2))
    target_net = nn.Sequential(nn.Linear(4, 128), nn.ReLU(), nn.Linear(128, 2))
    target_net.load_state_dict(policy_net.state_dict())
    ```

    ## Fix safety
    Unsafe: the fix reads the weights from the network the target evidently mirrors, which changes
    the numbers the target starts from. It is offered only when there is exactly one such network:
    the target's name with `target` dropped or replaced by a word RL code uses for the online side
    (`critic_target` -> `critic`, `qnetwork_target` -> `qnetwork_local`, `target_net` ->
    `policy_net`), an attribute of the same class or a name in scope, built by the same constructor
    (or of which the target is a `copy.deepcopy`). Otherwise there is no fix, and none for a soft
    update written into `state_dict()` (loading the online network would make it a hard copy). Applied with `--fix
    --unsafe-fixes`.

    ## Known problems
    Not checked in test files (`test_*.py`, `*_test.py`), where a round trip through the state dict
    is a deliberate test.

    ## Frameworks
    PyTorch, TensorFlow/Keras.
    """

    code = "INI308"
    name = "state-dict-self-copy"
    message = "`{target}` is loaded with its own weights ({how}): a no-op, so it keeps its random init; {advice}"
    frameworks = ("torch", "keras")
    fix_safety = "unsafe"
    skip_test_files = True
    requires = ((prefilter.words("load_state_dict", why="load_state_dict") & prefilter.words("state_dict"))
                | (prefilter.words("set_weights", why="set_weights") & prefilter.words("get_weights"))) \
        & prefilter.pattern(_SELF_LOAD, "a receiver loaded with its own weights")

    def check(self, facts):
        for site in facts.collected.calls:
            call = site.node
            func = call.func
            if not isinstance(func, cst.Attribute) or func.attr.value not in _PAIRS or not call.args:
                continue
            reader, framework = _PAIRS[func.attr.value]
            source = _read_from(facts, call.args[0].value, reader)
            if source is None or not _same(facts, source, func.value):
                continue
            target = facts.module.code_for_node(func.value)
            how = f"{func.attr.value}({target}.{reader}())"
            if _writes_into_fresh_copy(facts, site, target, reader):
                # for k in ...: target.state_dict()[k] = tau * ... (a soft update written into a
                # dict that state_dict() builds anew on every call, then "loaded")
                yield Report(call, {"target": target, "how": how, "advice": (
                    f"the items assigned into `{target}.{reader}()` above went into a new dict that was thrown away: "
                    f"keep one `sd = {target}.{reader}()`, update it, and load `sd`")}, framework)
                continue
            twin = evident_twin(facts, func.value)
            if twin is None:
                yield Report(call, {"target": target, "how": how,
                                    "advice": "load the weights of the network it should copy"}, framework)
                continue
            text, replacement = twin
            yield Report(call, {"target": target, "how": how, "advice": f"load `{text}`'s weights"}, framework,
                         Fix(source, replacement))


def _read_from(facts, node: cst.BaseExpression, reader: str) -> Optional[cst.BaseExpression]:
    """``net`` for ``net.state_dict()`` (through copy.deepcopy/dict wrappers), else None."""
    for _ in range(3):
        if not isinstance(node, cst.Call):
            return None
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == reader and not node.args:
            return func.value
        if facts.names(func) & _PASS_THROUGH and len(node.args) == 1 and node.args[0].keyword is None:
            node = node.args[0].value
            continue
        return None
    return None


def _same(facts, a: cst.BaseExpression, b: cst.BaseExpression) -> bool:
    """The same module expression: the same text, and for a plain name the same binding."""
    if facts.module.code_for_node(a.with_changes(lpar=(), rpar=())) != \
            facts.module.code_for_node(b.with_changes(lpar=(), rpar=())):
        return False
    return not isinstance(a, cst.Call)  # f().state_dict(): two calls, two objects


def _writes_into_fresh_copy(facts, site, target: str, reader: str) -> bool:
    """The function holding ``site`` assigns items into ``target.state_dict()[...]``."""
    scope = site.scope
    while scope is not None and not isinstance(scope.node, cst.FunctionDef):
        scope = scope.parent
    if scope is None:
        return False
    code = facts.module.code_for_node
    for node in walk(scope.node):
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else \
            [node.target] if isinstance(node, (cst.AugAssign, cst.AnnAssign)) else []
        for assigned in targets:
            if isinstance(assigned, cst.Subscript) and isinstance(assigned.value, cst.Call) \
                    and isinstance(assigned.value.func, cst.Attribute) and assigned.value.func.attr.value == reader \
                    and code(assigned.value.func.value) == target:
                return True
    return False
