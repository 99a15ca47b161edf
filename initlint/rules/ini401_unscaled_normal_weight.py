from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis.inits import InitUse
from ..analysis.inits import PARAMETER_WRAPPERS
from ..analysis.queries import filled_in_place, stored_parameters, trained_values, used_as_weight
from ..analysis.traversal import walk
from ..analysis.shapes import shape_of
from .. import catalogue
from ..catalogue import Family, Style
from ..rule import Report, Rule

_PARAM_FACTORIES = ("param",)  # flax: self.param(name, init_fn, shape)


def _is_standard_normal(use: Optional[InitUse]) -> bool:
    return (use is not None and use.entry is not None and use.entry.style is Style.SAMPLER
            and use.entry.family is Family.NORMAL and use.entry.law.std(use.entry.defaults()) == 1.0
            and not any(name in use.args for name in ("std", "stddev", "scale")))


def _dims(call: cst.Call, facts) -> Optional[int]:
    """How many dimensions the sampled weight has; None for a broadcast-shaped (1, n, d) token."""
    shape = shape_of(facts.evaluator, call)
    if not shape or (shape[0] is not None and facts.value(shape[0]) == 1):
        return None
    return len(shape)


class UnscaledNormalWeight(Rule):
    """An unscaled standard-normal tensor used as a weight.

    ## What it does
    Flags a weight created straight from a standard-normal sampler with no fan-based scaling, when
    the code uses it as a weight (multiplies with it: `@`, `matmul`, `F.linear`, a convolution):
    `nn.Parameter(torch.randn(m, n))`, `tf.Variable(tf.random.normal([m, n]))`, a Flax
    `self.param('w', jax.random.normal, shape)`, a custom `kernel_init` that returns
    `jax.random.normal(key, shape)` unscaled, or a plain tensor that script- and notebook-style code
    trains by hand: `W1 = torch.randn(m, n)` set `requires_grad = True` (itself, or by a loop over a
    list that holds it: `for p in [C, W1, b1]: p.requires_grad = True`) or handed to a torch
    optimizer (`torch.optim.SGD([W1, b1], ...)`).

    ## Why is this bad?
    A standard normal has std 1 whatever the layer's fan-in, so each layer multiplies the
    activations' scale by about sqrt(fan_in): a 512-wide layer by 22x. Deep networks overflow or
    saturate before the first step. Fan-based schemes (He, Glorot, LeCun) exist to keep that factor 1.

    Tensors the code never multiplies with (latents, queries, positional embeddings), weights
    re-initialised later in the same file (e.g. `trunc_normal_(self.w, std=.02)`),
    broadcast-shaped tokens like `torch.randn(1, 1, dim)`, and weights whose product the forward
    pass scales by a square root where it computes it (`(self.queries @ x.T) * self.scale` with
    `self.scale = dim ** -0.5`, `(x @ self.w) / math.sqrt(d)`: the fan-based scale, applied
    later) are not flagged.

    ## Example
    ```python
    import torch
    from torch import nn

    class Projection(nn.Module):
        def __init__(self, d_in, d_out):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(d_out, d_in))

        def forward(self, x):
            return x @ self.weight.T
    ```

    ## Use instead
    ```python
    import math
    import torch
    from torch import nn

    class Projection(nn.Module):
        def __init__(self, d_in, d_out):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(d_out, d_in) / math.sqrt(d_in))

        def forward(self, x):
            return x @ self.weight.T
    ```

    ## Known problems
    Not checked in test files (`test_*.py`, `*_test.py`), where fixed weights are a deliberate way
    to make expected outputs deterministic.

    ## Frameworks
    PyTorch, TensorFlow, JAX/Flax.
    """

    code = "INI401"
    name = "unscaled-normal-weight"
    message = ("{sampler} gives a weight of std 1 whatever its fan-in: activations grow by sqrt(fan_in) per layer; "
               "scale it by gain/sqrt(fan_in) or use a fan-based initialiser")
    frameworks = ("torch", "keras", "jax")
    skip_test_files = True

    def check(self, facts):
        samplers = [use for use in facts.init_uses if _is_standard_normal(use)]
        if samplers:  # the queries below walk every stored value of the file: only when there is a sampler
            yield from self._unscaled(facts, samplers)
        yield from self._custom_inits(facts)

    def _unscaled(self, facts, samplers) -> Iterator[Report]:
        reinitialised = filled_in_place(facts)
        weights = used_as_weight(facts)
        stored = {}  # sampler -> keys its parameter is stored under
        if any(use.wrapped_as_parameter for use in samplers):
            wrappers = stored_parameters(facts, lambda call: bool(facts.names(call.func) & PARAMETER_WRAPPERS))
            for wrapper, keys in wrappers.items():
                if wrapper.args:
                    stored.setdefault(wrapper.args[0].value, set()).update(keys)
        trained = trained_values(facts) if any(not use.wrapped_as_parameter for use in samplers) else set()
        for use in samplers:
            if use.wrapped_as_parameter:
                keys = stored.get(use.node, set())
            else:
                keys = self._init_function_keys(facts, use) or self._trained_keys(facts, use, trained)
            # only what the code multiplies with as a weight, and never re-initialises
            if not keys & weights or any(name in reinitialised for _, name in keys):
                continue
            dims = _dims(use.node, facts)
            if dims is None or dims < 2:
                continue
            yield self._report(use)

    @staticmethod
    def _init_function_keys(facts, use) -> set:
        """JAX style: ``w = jax.random.normal(k, (m, n))`` in an ``init*`` function building params."""
        function = use.function
        if function is None or not function.name.value.startswith("init"):
            return set()
        names = _names_bound_to(facts.collected.scope_of_function[function], use.node)
        return {("name", name) for name in names & _collected_names(function)}

    @staticmethod
    def _trained_keys(facts, use, trained: set) -> set:
        """Script style: ``W1 = torch.randn(m, n)`` that the code trains as it is (``trained_values``):
        the names it is bound to."""
        if use.node not in trained:
            return set()
        function = use.function
        scope = facts.collected.scope_of_function[function] if function is not None else facts.collected.module_scope
        return {("name", name) for name in _names_bound_to(scope, use.node)}

    def _custom_inits(self, facts) -> Iterator[Report]:
        seen = set()
        for use in facts.init_uses:
            if use.custom is None or not isinstance(use.custom, cst.FunctionDef) or not use.targets:
                continue
            if not any(t.is_weight() for t in use.targets):
                continue
            for node in walk(use.custom.body):
                if isinstance(node, cst.Return) and isinstance(node.value, cst.Call):
                    sampled = facts.inits.by_node.get(node.value)
                    if _is_standard_normal(sampled) and sampled.node not in seen:
                        seen.add(sampled.node)
                        yield self._report(sampled)
        for site in facts.collected.calls:
            call = site.node
            if not (isinstance(call.func, cst.Attribute) and call.func.attr.value in _PARAM_FACTORIES
                    and len(call.args) >= 2):
                continue
            init = call.args[1].value
            body = init.body if isinstance(init, cst.Lambda) else None
            if isinstance(body, cst.Call) and _is_standard_normal(facts.inits.by_node.get(body)):
                yield self._report(facts.inits.by_node[body])
            elif isinstance(init, (cst.Name, cst.Attribute)):
                for name in facts.names(init):
                    entry = catalogue.initializer(name)
                    if entry is not None and entry.style is Style.SAMPLER and entry.family is Family.NORMAL:
                        yield Report(init, {"sampler": name.rsplit(".", 1)[-1]}, entry.framework.value)
                        break

    @staticmethod
    def _report(use: InitUse) -> Report:
        return Report(use.node, {"sampler": use.entry.name.rsplit(".", 1)[-1]}, use.entry.framework.value)


def _names_bound_to(scope, value) -> set:
    """The names ``scope`` assigns ``value`` to (``w = jax.random.normal(...)``)."""
    return {name for name, bindings in scope.bindings.items()
            for b in bindings if b.kind == "assign" and b.value is value}


def _collected_names(function: cst.FunctionDef) -> set:
    """Names a function puts into a structure it builds: elements of tuple/list/dict literals,
    ``.append(w)`` arguments, or its bare return value (``params.append((w, b))``, ``return w``)."""
    out = set()
    for node in walk(function.body):
        elements = []
        if isinstance(node, (cst.Tuple, cst.List)):
            elements = [e.value for e in node.elements]
        elif isinstance(node, cst.Dict):
            elements = [e.value for e in node.elements if isinstance(e, cst.DictElement)]
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "append":
            elements = [a.value for a in node.args]
        elif isinstance(node, cst.Return) and node.value is not None:
            elements = [node.value]
        out.update(e.value for e in elements if isinstance(e, cst.Name))
    return out
