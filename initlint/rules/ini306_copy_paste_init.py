from __future__ import annotations

import re
from typing import List, Optional

import libcst as cst

from .. import prefilter
from ..analysis.init_runs import filled_tensors, function_bodies, runs
from ..analysis.scopes import dotted
from ..analysis.traversal import walk
from ..rule import Report, Rule

# names that come in sets: a copy-paste slip initialises one member twice and another never
_SETS = (
    ("weight", "bias"), ("kernel", "bias"), ("gamma", "beta"), ("policy", "value"), ("actor", "critic"),
    ("pi", "vf"), ("mu", "sigma", "log_std", "logstd"), ("mean", "std", "log_std", "logvar"),
    ("query", "key", "value"), ("q", "k", "v"), ("encoder", "decoder"), ("src", "tgt"), ("up", "down"),
    ("ih", "hh"), ("left", "right"), ("start", "end"), ("in", "out"),
)
_DIGITS = re.compile(r"\d+")
_BIAS_OFF = ("bias", "use_bias")


class CopyPasteInit(Rule):
    """One tensor initialised twice in a row while its evident sibling gets no init at all.

    ## What it does
    Flags the second of two in-place initialisations of the same tensor in one run of init
    statements (nothing else in between), when a sibling that was evidently meant gets no explicit
    initialisation anywhere in the file: the bias beside a weight (`m.weight` twice, `m.bias`
    never, or `if m.bias is not None:` guarding an init of `m.weight`), `w2` beside `w1`, `fc2`
    beside `fc1`, the policy head beside the value head, `k_proj` beside `q_proj`. Reported at the
    second call.

    ## Why is this bad?
    The first call is dead: the second overwrites every value it drew. The tensor the second call
    was written for keeps whatever it had: the framework default (a BatchNorm bias of zeros is
    harmless, a policy head at PyTorch's default instead of a small orthogonal gain is not), or, for
    a parameter made with `torch.empty`, uninitialised memory. Nothing fails, and the model trains
    from a different starting point than the code reads.

    ## Example
    ```python
    from torch import nn

    def init_weights(m):
        if isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.weight, 0)
    ```

    ## Use instead
    ```python
    from torch import nn

    def init_weights(m):
        if isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
    ```

    ## Frameworks
    PyTorch.
    """

    code = "INI306"
    name = "copy-paste-init"
    message = ("`{tensor}` is initialised again here, so `{first}` above is dead, while `{sibling}` gets no init "
               "at all: `{sibling}` was evidently meant")
    frameworks = ("torch",)
    # two in-place fills, on a layer's parameter or on a parameter made by hand
    requires = prefilter.initializers(lambda e: e.style.value == "inplace", "an in-place initialiser") & (
        prefilter.layers() | prefilter.words("Parameter", why="nn.Parameter"))

    def check(self, facts):
        fills = filled_tensors(facts)
        if len(fills) < 2:
            return
        initialised = None
        code = facts.module.code_for_node
        for function, body in function_bodies(facts, fills):
            for run in runs(facts, body, fills):
                seen = {}
                for fill in run:
                    earlier = seen.get(fill.text)
                    seen.setdefault(fill.text, fill)
                    if earlier is None or earlier.guard is not None and fill.guard is None:
                        continue
                    if initialised is None:
                        initialised = _initialised(facts, fills)
                    sibling = _sibling(facts, fill, function, initialised)
                    if sibling is None:
                        continue
                    first = code(earlier.call)
                    yield Report(fill.call, {"tensor": fill.text, "first": first if len(first) <= 60 else
                                             code(earlier.call.func) + "(...)", "sibling": sibling}, "torch")


def _initialised(facts, fills) -> dict:
    """Texts of tensors the file initialises, each with the calls that do it: filled in place, or
    built by a sampler and wrapped in nn.Parameter (``self.w2 = nn.Parameter(torch.randn(...))``,
    recorded with None: it holds wherever the attribute is read)."""
    out: dict = {}
    for call, tensor in fills.items():
        out.setdefault(facts.module.code_for_node(tensor), []).append(call)
    for use in facts.init_uses:
        if use.via == "sampler" and use.wrapped_as_parameter:
            for (_cls, attr), values in facts.collected.self_attrs.items():
                if any(use.node in _calls_in(v) for v, _ in values):
                    out.setdefault(f"self.{attr}", []).append(None)
    return out


def _initialised_with(facts, fill, calls) -> bool:
    """One of ``calls`` can run together with ``fill``: not in the opposite branch of an ``if``
    (``m.bias`` filled under ``isinstance(m, nn.Linear)`` is not a BatchNorm's bias)."""
    sites = {site.node: site for site in facts.collected.calls}
    mine = sites.get(fill.call)
    return any(call is None or mine is None or call not in sites or not mine.exclusive_with(sites[call])
               for call in calls)


def _calls_in(node) -> set:
    return {n for n in walk(node) if isinstance(n, cst.Call)}


def _sibling(facts, fill, function, initialised: dict) -> Optional[str]:
    """The sibling of ``fill.tensor`` that evidently exists and gets no init, as text."""
    text = dotted(fill.tensor)
    if text is None:
        return None
    parts = text.split(".")
    guard_text = facts.module.code_for_node(fill.guard) if fill.guard is not None else ""
    for candidate in _candidates(parts):
        if candidate in initialised and _initialised_with(facts, fill, initialised[candidate]):
            continue
        if guard_text and re.search(rf"(?<![\w.]){re.escape(candidate)}(?!\w)", guard_text):
            return candidate  # if m.bias is not None: nn.init.zeros_(m.weight)
        if _exists(facts, fill, candidate, function):
            return candidate
    return None


def _candidates(parts: List[str]) -> List[str]:
    out = []
    for i in range(len(parts) - 1, -1, -1):
        part = parts[i]
        for group in _SETS:
            for word in group:
                for match in re.finditer(rf"(?<![a-z]){re.escape(word)}(?![a-z])", part, re.IGNORECASE):
                    for other in group:
                        if other == word:
                            continue
                        swapped = part[:match.start()] + other + part[match.end():]
                        out.append(".".join(parts[:i] + [swapped] + parts[i + 1:]))
        for match in _DIGITS.finditer(part):
            number = int(match.group(0))
            for other in (number + 1, number - 1, number + 2):
                if other >= 0 and other != number:
                    swapped = part[:match.start()] + str(other) + part[match.end():]
                    out.append(".".join(parts[:i] + [swapped] + parts[i + 1:]))
    seen, unique = set(), []
    for candidate in out:
        if candidate not in seen and candidate != ".".join(parts):
            seen.add(candidate)
            unique.append(candidate)
    return unique


def _exists(facts, fill, candidate: str, function) -> bool:
    """The code shows ``candidate`` exists: an attribute of this class, a name in scope, another
    mention in the same function, or the bias of a layer the filled weight belongs to."""
    parts = candidate.split(".")
    original = dotted(fill.tensor).split(".")
    if function is not None and _mentioned(facts, function, candidate):
        return True
    if parts[:-1] == original[:-1] and parts[-1] == "bias" and original[-1] in ("weight", "kernel"):
        # the layer has a bias, and the second call draws what biases get (a constant): a weight
        # drawn twice from two random schemes is a revision, not a slip meant for the bias
        return _has_bias(facts, fill) and _is_constant(facts, fill.call)
    if parts[0] == "self" and len(parts) >= 2:
        graph = facts.graph
        cls = graph.instance_class(fill.tensor.value if len(parts) == 2 else _root(fill.tensor))
        return cls is not None and parts[1] in graph.classes[cls].attrs and (
            len(parts) == 2 or _layer_has(facts, cls, parts[1], parts[-1]))
    if len(parts) == 1:
        resolver = facts.collected.resolver
        anchor = fill.tensor
        scope = resolver.scope_of.get(anchor)
        return scope is not None and bool(resolver.bindings(candidate, scope, resolver.seq_of.get(anchor, 0)))
    return False


def _root(node):
    while isinstance(node, cst.Attribute):
        node = node.value
    return node


def _layer_has(facts, cls, attr: str, param: str) -> bool:
    """``self.<attr>`` holds a layer with a ``param`` parameter (``self.fc2`` is a Linear: ``weight``)."""
    values = facts.graph.classes[cls].attrs.get(attr, [])
    for value in values:
        layer = facts.graph.classify(value)
        entry = getattr(layer, "entry", None)
        if entry is not None and param in (entry.weight, entry.bias) + tuple(entry.extra_weights):
            return True
    return False


def _mentioned(facts, function, candidate: str) -> bool:
    """``candidate`` appears in ``function`` as an expression (``if m.bias is not None``)."""
    for node in walk(function):
        if isinstance(node, (cst.Attribute, cst.Name)) and dotted(node) == candidate:
            return True
    return False


def _has_bias(facts, fill) -> bool:
    """The layer(s) the filled weight belongs to have a bias the code does not switch off."""
    use = facts.inits.by_node.get(fill.call)
    if use is None or not use.targets:
        return False
    for target in use.targets:
        entry = target.layer_entry
        if entry is None or entry.bias is None:
            return False
        layer = target.layer
        if layer is not None and any(facts.value(layer.args.get(k)) is False for k in _BIAS_OFF):
            return False
    return True


def _is_constant(facts, call: cst.Call) -> bool:
    use = facts.inits.by_node.get(call)
    if use is not None and use.entry is not None:
        return use.entry.family.value == "constant"
    return isinstance(call.func, cst.Attribute) and call.func.attr.value in ("fill_", "zero_")
