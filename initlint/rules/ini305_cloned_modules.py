from __future__ import annotations

import ast
import re
from typing import Optional

import libcst as cst

from .. import prefilter
from ..analysis.clones import (COMPREHENSIONS, clone_helpers, fresh_constructor, has_parameters, iteration_count,
                               random_parameters, repeated_list, same_every_iteration, torch_containers)
from ..analysis.graph import SequentialUse
from ..analysis.reinit import reinitialises_modules
from ..analysis.scopes import dotted
from ..analysis.traversal import walk
from ..catalogue.names import canonical
from ..rule import Fix, Report, Rule

_STACKS = ("TransformerEncoder", "TransformerDecoder")
_CALLEES = frozenset(("deepcopy", "append") + _STACKS)

# -- what the prefilter asks for (on CPython's tree: each a superset of what check() reports) --------

_LOOP = prefilter.pattern(rb"\b(?:for|while)\b", "a loop")
_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _self_chain(node: ast.AST) -> bool:
    """``self.a.b``: attributes of ``self``."""
    while type(node) is ast.Attribute:
        node = node.value
    return type(node) is ast.Name and node.id == "self"


def _one_element(node: ast.AST, found) -> bool:
    """``[layer for _ in range(n)]``: a comprehension's element is a name it does not bind, or an
    attribute of ``self`` (what same_every_iteration accepts)."""
    element = node.elt
    if type(element) is ast.Name:
        return not any(type(n) is ast.Name and n.id == element.id for g in node.generators for n in ast.walk(g.target))
    return type(element) is ast.Attribute and _self_chain(element)


def _repeated(node: ast.AST, found) -> bool:
    """``[a, ...] * n`` / ``n * (a, ...)`` with a name, attribute or call among the elements (what
    repeated_list finds, with an element a module can be)."""
    if type(node.op) is not ast.Mult:
        return False
    return any(type(side) in (ast.List, ast.Tuple) and side.elts and not any(type(e) is ast.Starred for e in side.elts)
               and any(type(e) in (ast.Name, ast.Attribute, ast.Call) for e in side.elts)
               for side in (node.left, node.right))


def _append_calls(found) -> list:
    """``x.append(layer)`` calls with one argument, a name or an attribute of ``self``: ``(call,
    name or None)``."""
    out = []
    for call in found.nodes(ast.Call):
        func = call.func
        if type(func) is ast.Attribute and func.attr == "append" and len(call.args) + len(call.keywords) == 1:
            value = call.args[0] if call.args else call.keywords[0].value
            value = value.value if type(value) is ast.Starred else value  # append(*x): libcst's x
            if type(value) is ast.Name:
                out.append((call, value.id))
            elif type(value) is ast.Attribute and _self_chain(value):
                out.append((call, None))
    return out


def _within(node: ast.AST, outer: ast.AST) -> bool:
    return (outer.lineno, outer.col_offset) <= (node.lineno, node.col_offset) \
        and (node.end_lineno, node.end_col_offset) <= (outer.end_lineno, outer.end_col_offset)


def _appended_in_loop(loop: ast.AST, found) -> bool:
    """One of those calls in ``loop``, of a name the loop does not assign (or of an attribute of
    ``self``): what _appended can report."""
    inside = [name for call, name in found.memo("ini305-appends", _append_calls) if _within(call, loop)]
    if not inside:
        return False
    if None in inside:
        return True
    stored = {n.id for n in ast.walk(loop) if type(n) is ast.Name and type(n.ctx) is not ast.Load}
    return any(name not in stored for name in inside)


_REPEATED = prefilter.shape(rb"[\])]" + prefilter.GAP + rb"\*(?![*=])|\*" + prefilter.GAP + rb"[\[(]",
                            (ast.BinOp,), _repeated, "a list repeating one element")
_ONE_ELEMENT = prefilter.shape(rb"\bfor\b", (ast.ListComp, ast.GeneratorExp), _one_element,
                               "a comprehension of one element")
_APPENDED = prefilter.shape(rb"\." + prefilter.GAP + rb"append" + prefilter.GAP + rb"\(", _LOOPS, _appended_in_loop,
                            "one element appended in a loop", reads=(ast.Call,))



class ClonedModules(Rule):
    """Modules cloned from one instance, so that every copy starts with the same weights.

    ## What it does
    Flags PyTorch modules cloned from one instance with nothing re-initialising the copies:
    `copy.deepcopy(layer)` in a loop or comprehension over the same `layer` (the Annotated
    Transformer's `clones(module, N)` helper), `nn.TransformerEncoder(layer, N)` and
    `nn.TransformerDecoder(layer, N)` (they deep-copy `layer` N times: pytorch/pytorch#86274,
    #72253), and one instance placed N times in a container (`nn.ModuleList([layer] * N)`,
    `[layer for _ in range(N)]`, `append(layer)` in a loop).

    Deep copies count when they are modules with random weights (they go into a
    `ModuleList`/`Sequential`, or `layer` is a weight layer or a module class of this file; copies
    of norms and constants are identical by design) and nothing in the file re-initialises them.
    A clone helper (`clones(module, N)`, deep copies of its parameter) is judged where it is called
    on a module built in view (`clones(nn.Linear(d, d), 4)`), not in its own body, where the
    module and what is done to it later are out of sight; a helper imported from another file is
    not followed (the make_model that re-initialises the copies is usually there too).
    Re-initialisation means an init in a loop over
    `parameters()`/`modules()`, `.apply(fn)` or `named_apply`, `post_init()` or
    `reset_parameters()`, or a call of an init method defined elsewhere. A repeated instance is
    flagged whatever follows (it is one module, and re-initialising it cannot make it several),
    unless the code names the sharing: the module or list is called `shared_*`/`tied_*`, or it is
    built under a test that mentions sharing or tying (`if config.share_bbox_head:`).
    Reported at the `deepcopy` call, the helper's call, the `TransformerEncoder` call, or the
    repeated list.

    ## Why is this bad?
    Deep copies of one module carry its weights: all N layers start identical. Their gradients
    differ only through their inputs, so the stack starts with far less diversity than N
    independently initialised layers (for an ensemble, none at all). `nn.TransformerEncoder` does
    not re-initialise its copies (`nn.Transformer` does: it calls `_reset_parameters()` after
    building its stacks). A list that repeats one instance is worse: `ModuleList` registers one
    module N times, `parameters()` yields its weights once, and the "deep" network is one layer
    applied N times.

    Deliberate weight sharing, written as one layer called N times in `forward`, is not flagged.

    ## Example
    ```python
    import copy

    from torch import nn

    def clones(module, n):
        return nn.ModuleList([copy.deepcopy(module) for _ in range(n)])

    class Attention(nn.Module):
        def __init__(self, d_model=512):
            super().__init__()
            self.linears = clones(nn.Linear(d_model, d_model), 4)  # q, k, v, out start identical

    class Decoder(nn.Module):
        def __init__(self, d_model=512, n=6):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(d_model, d_model)] * n)  # one layer, n times
    ```

    ## Use instead
    ```python
    from torch import nn

    class Attention(nn.Module):
        def __init__(self, d_model=512):
            super().__init__()
            # fresh instances: each starts from its own random weights
            self.linears = nn.ModuleList([nn.Linear(d_model, d_model) for _ in range(4)])

    class Decoder(nn.Module):
        def __init__(self, d_model=512, n=6):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(d_model, d_model) for _ in range(n)])
    ```
    Or keep the clones and re-initialise every copy afterwards, as the Annotated Transformer's
    `make_model` does: `for p in model.parameters(): if p.dim() > 1: nn.init.xavier_uniform_(p)`.

    ## Fix safety
    Unsafe, and offered only where it is correct: `[Layer(...)] * N` becomes `[Layer(...) for _ in
    range(N)]`, and a copy (or repetition) of a local `layer = Layer(...)` built from literals and
    names that mean the same where the copy is made, and not touched in between, becomes a fresh
    `Layer(...)`. Each layer then starts from its own random weights, which changes the numbers the
    model starts from. Deep copies of a module the code does not build in view (a function's
    parameter) and `nn.TransformerEncoder` get no fix: add a re-initialisation loop yourself.
    Applied with `--fix --unsafe-fixes`.

    ## Known problems
    A re-initialisation in another file (a training script that calls `model.apply(init_fn)`) is
    not seen: such a finding is a false alarm (silence it with `# noqa: INI305`).

    ## Frameworks
    PyTorch.
    """

    code = "INI305"
    name = "cloned-modules"
    message = "{what}: {why}; {advice}"
    frameworks = ("torch",)
    fix_safety = "unsafe"
    # deep copies in a loop (a clone helper's too); a stack; or a container built from one element
    # repeated (`[layer] * n`, `[layer for _ in range(n)]`) or appended in a loop
    requires = prefilter.module("torch") & (
        prefilter.words("deepcopy", why="deepcopy") & _LOOP
        | prefilter.words(*_STACKS, why="TransformerEncoder/Decoder")
        | prefilter.words("ModuleList", "Sequential", why="a ModuleList/Sequential")
        & (_REPEATED | _ONE_ELEMENT | _APPENDED))

    def check(self, facts):
        reported = set()
        helpers = clone_helpers(facts)
        for site in facts.collected.calls:
            call = site.node
            func = call.func
            # most calls are methods of something else (x.view, self.fc): test the spelling before
            # resolving names; a bare name may be an alias (c = copy.deepcopy) and is resolved
            if isinstance(func, cst.Attribute) and func.attr.value not in _CALLEES:
                continue
            names = facts.names(func)
            if "copy.deepcopy" in names:
                report = self._deep_copy(facts, site)
            elif any(n.rsplit(".", 1)[-1] in _STACKS and canonical(n).startswith("torch.nn.") for n in names):
                report = self._stack(facts, call)
            elif isinstance(call.func, cst.Attribute) and call.func.attr.value == "append" and site.loops:
                report = self._appended(facts, site)
            elif len(call.args) == 2 and _may_clone(facts, call, helpers):
                report = self._helper_call(facts, call)
            else:
                report = None
            if report is not None:
                reported.add(report.node)
                yield report
        for seq, expression in torch_containers(facts):
            report = self._repeated(facts, expression)
            if report is not None and _shared_on_purpose(facts, seq.node, expression):
                continue
            if report is not None and report.node not in reported:
                reported.add(report.node)
                yield report

    # -- copies that start identical --------------------------------------------------------------

    def _deep_copy(self, facts, site) -> Optional[Report]:
        call = site.node
        if not site.loops or len(call.args) != 1 or call.args[0].keyword is not None:
            return None
        loop = site.loops[-1]
        original = call.args[0].value
        if not same_every_iteration(facts, original, loop) or iteration_count(facts, loop) in (0, 1):
            return None
        if _is_parameter(facts, original):
            return None  # a clones(module, n) helper: judged where it is called, with the module in view
        params = random_parameters(facts, original)
        if params is False or (params is None and not _into_container(facts, site, loop)):
            return None
        if reinitialises_modules(facts):
            return None
        text = facts.module.code_for_node(original)
        fresh = fresh_constructor(facts, original, site.seq)
        fix = Fix(call, fresh) if fresh is not None else None
        return Report(call, {
            "what": f"`copy.deepcopy({text})` in a loop makes copies of one module",
            "why": "every copy starts with the same weights and nothing in this file re-initialises them",
            "advice": "build a fresh instance per copy, or re-initialise the parameters after cloning"}, "torch", fix)

    def _helper_call(self, facts, call: cst.Call) -> Optional[Report]:
        """``clones(nn.Linear(d, d), 4)``: a clone helper called on a module built in view."""
        module, count = call.args[0].value, call.args[1].value
        if isinstance(module, cst.Name):
            values = facts.collected.resolver.assigned_values(module)
            built = values[0][0] if len(values) == 1 else None
        else:
            built = module
        if not isinstance(built, cst.Call) or random_parameters(facts, built) is not True:
            return None
        n = facts.value(count)
        if isinstance(n, int) and not isinstance(n, bool) and n <= 1 or reinitialises_modules(facts):
            return None
        code = facts.module.code_for_node
        return Report(call, {
            "what": f"`{code(call.func)}` makes {code(count)} deep copies of `{code(module)}`",
            "why": "every copy starts with the same weights and nothing in this file re-initialises them",
            "advice": "build a fresh instance per copy, or re-initialise the parameters after cloning"}, "torch")

    def _stack(self, facts, call: cst.Call) -> Optional[Report]:
        layer = _argument(call, "encoder_layer", "decoder_layer", position=0)
        count = _argument(call, "num_layers", position=1)
        if layer is None or count is None:
            return None
        n = facts.value(count)
        if isinstance(n, int) and not isinstance(n, bool) and n <= 1:
            return None
        if reinitialises_modules(facts):
            return None
        kind = dotted(call.func) or "TransformerEncoder"
        return Report(call, {
            "what": f"`{kind}` deep-copies its layer {facts.module.code_for_node(count)} times",
            "why": "every layer starts with the same weights and nothing in this file re-initialises them "
                   "(nn.Transformer does, TransformerEncoder/Decoder do not)",
            "advice": "re-initialise its parameters after building it"}, "torch")

    # -- one instance placed several times -------------------------------------------------------

    def _appended(self, facts, site) -> Optional[Report]:
        call = site.node
        receiver = facts.graph.classify(call.func.value)
        if not isinstance(receiver, SequentialUse) or receiver.framework.value != "torch" or len(call.args) != 1:
            return None
        element = call.args[0].value
        loop = site.loops[-1]
        if isinstance(element, cst.Call) or not same_every_iteration(facts, element, loop):
            return None
        if iteration_count(facts, loop) in (0, 1) or not _may_hold_weights(facts, element):
            return None
        if _shared_on_purpose(facts, call, element):
            return None
        return self._shared(facts, call, facts.module.code_for_node(element), None)

    def _repeated(self, facts, expression) -> Optional[Report]:
        repeated = repeated_list(expression)
        if repeated is not None:
            elements, count = repeated
            n = facts.value(count)
            if isinstance(n, int) and not isinstance(n, bool) and n <= 1:
                return None
            modules = [e for e in elements if _may_hold_weights(facts, e)]
            if not modules:
                return None
            fix = None
            if len(elements) == 1 and isinstance(expression, cst.BinaryOperation):
                fix = _comprehension_fix(facts, expression, elements[0], count)
            return self._shared(facts, expression, facts.module.code_for_node(modules[0]), fix)
        if isinstance(expression, COMPREHENSIONS):
            element = expression.elt
            if isinstance(element, cst.Call) or iteration_count(facts, expression) in (0, 1):
                return None
            if not same_every_iteration(facts, element, expression) or not _may_hold_weights(facts, element):
                return None
            fresh = fresh_constructor(facts, element, facts.collected.resolver.seq_of.get(_first_name(element), 0))
            return self._shared(facts, expression, facts.module.code_for_node(element),
                                Fix(element, fresh) if fresh is not None else None)
        return None

    @staticmethod
    def _shared(facts, node, text, fix) -> Report:
        return Report(node, {
            "what": f"one instance `{text}` placed several times in a container",
            "why": "every position is the same module, so the layers share one set of weights",
            "advice": "build a new instance for each position"}, "torch", fix)


# what a module without weights is usually called when its type is out of sight (act_layer=nn.GELU)
_WEIGHTLESS_NAME = re.compile(r"act|nonlin|drop|identity|pool|relu|gelu|silu|sigmoid|tanh", re.IGNORECASE)


def _may_hold_weights(facts, node) -> bool:
    """A repeated element that may be a module with weights: not a literal (None), not a module the
    code shows has none, and not a name of unknown type spelled like an activation or dropout."""
    if not isinstance(node, (cst.Name, cst.Attribute, cst.Call)) or \
            isinstance(node, cst.Name) and node.value in ("None", "True", "False"):
        return False
    params = has_parameters(facts, node)
    if params is not None:
        return params
    named = node.func if isinstance(node, cst.Call) else node
    leaf = named.attr.value if isinstance(named, cst.Attribute) else getattr(named, "value", "")
    return not _WEIGHTLESS_NAME.search(leaf)


def _first_name(node) -> Optional[cst.Name]:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node if isinstance(node, cst.Name) else None


def _argument(call: cst.Call, *keywords: str, position: int) -> Optional[cst.BaseExpression]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in keywords:
            return arg.value
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    return positional[position] if position < len(positional) else None


def _into_container(facts, site, loop) -> bool:
    """The copies made in ``loop`` go into a torch ModuleList/Sequential: the comprehension is what
    the container is built from, or the copy is appended to one."""
    for _seq, expression in torch_containers(facts):
        if expression is loop:
            return True
    for other in facts.collected.calls:
        call = other.node
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "append" and call.args \
                and call.args[0].value is site.node:
            receiver = facts.graph.classify(call.func.value)
            return isinstance(receiver, SequentialUse) and receiver.framework.value == "torch"
    return False


def _comprehension_fix(facts, expression, element, count) -> Optional[Fix]:
    """``[Layer(...)] * n`` -> ``[Layer(...) for _ in range(n)]`` when the element is a layer's
    constructor that does not mention ``_``."""
    if not isinstance(element, cst.Call) or facts.graph.classify(element) is None \
            and facts.graph.instance_class(element) is None:
        return None
    if any(isinstance(n, cst.Name) and n.value == "_" for n in walk(element)):
        return None
    code = facts.module.code_for_node
    replacement = cst.parse_expression(f"[{code(element)} for _ in range({code(count)})]")
    return Fix(expression, replacement.with_changes(lpar=expression.lpar, rpar=expression.rpar))


_SHARING = re.compile(r"shar|tie|tying|same", re.IGNORECASE)


def _shared_on_purpose(facts, call: cst.Call, expression) -> bool:
    """Sharing the code names as such: the repeated module or the list is called ``shared_*``/
    ``tied_*``, or the container is built under a test that mentions sharing or tying
    (``if config.share_bbox_head:``)."""
    code = facts.module.code_for_node
    if _SHARING.search(code(expression)):
        return True
    return any(not guard.negated and _SHARING.search(code(guard.test))
               for guard in facts.collected.guards_of.get(call, ()))


def _is_parameter(facts, node) -> bool:
    return isinstance(node, cst.Name) and any(
        b.kind == "param" for b in facts.collected.resolver.lookup(node))


def _may_clone(facts, call: cst.Call, helpers) -> bool:
    """A call of a clone helper this file defines (deep copies of its first parameter made in a
    loop). One imported from another file is left alone: the Annotated Transformer's descendants
    split it, the layers and ``make_model`` (whose Xavier loop re-initialises every copy) into
    separate files, and this file cannot see that loop."""
    func = call.func
    if not isinstance(func, cst.Name):
        return False
    return any(b.kind == "def" and b.value in helpers for b in facts.collected.resolver.lookup(func))
