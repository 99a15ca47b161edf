from __future__ import annotations

from typing import List, Optional

import libcst as cst

from ..analysis.collector import CallSite
from ..analysis.describe import layer_label
from ..rule import Report, Rule


def _base_name(node: cst.CSTNode) -> Optional[str]:
    """``net`` of ``net[0].weight`` / ``net.fc.weight`` / ``net``."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


class LazyParamBeforeInput(Rule):
    """An initialiser applied to a lazy module's parameter before the module has seen an input.

    ## What it does
    Flags a torch init reaching the weight or bias of a `LazyLinear`/`LazyConv*` before the code
    has called the module (or its container) on an input: in the `__init__` that creates it, or on
    a model whose first forward call comes later in the same scope (or never).

    ## Why is this bad?
    A lazy module's parameters are `UninitializedParameter`s until the first forward pass fixes
    their shape; every `torch.nn.init` function raises on them ("Can't call ... on uninitialized
    parameter"), so the model fails to build.

    ## Example
    ```python
    import torch
    from torch import nn

    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    nn.init.kaiming_normal_(net[0].weight, nonlinearity="relu")
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn

    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    net(torch.rand(2, 4))  # the dry run materialises the parameters
    nn.init.kaiming_normal_(net[0].weight, nonlinearity="relu")
    ```

    ## Frameworks
    PyTorch.
    """

    code = "INI502"
    name = "lazy-param-before-input"
    message = ("{init} reaches {layer} before it has seen an input: its parameters are still uninitialised and "
               "the call raises; run a forward pass (net(x)) first")
    frameworks = ("torch",)

    def check(self, facts):
        for use in facts.init_uses:
            if use.entry is None or use.via != "inplace":
                continue
            lazy = [t.layer for t in use.targets if t.layer is not None and t.layer.entry.lazy]
            if not lazy:
                continue
            sites = self._application_sites(facts, use)
            if any(self._before_first_input(facts, site, use) for site in sites):
                yield Report(use.node, {"init": use.entry.name.rsplit(".", 1)[-1], "layer": layer_label(lazy[0])},
                             use.framework.value)

    @staticmethod
    def _application_sites(facts, use) -> List[CallSite]:
        """Where the init takes effect: the ``x.apply(fn)`` calls of an init function, the calls
        ``fn(net)`` of a helper that receives the module, else the init call itself."""
        function = use.function
        if function is not None and function in facts.inits.apply_sites:
            return facts.inits.apply_sites[function]
        site = facts.inits.site_of(use)
        if site is None:
            return []
        tensor = site.node.args[0].value if site.node.args else None
        base = _base_name(tensor) if tensor is not None else None
        params = {p.name.value for p in function.params.params} if function is not None else set()
        if base is not None and base in params and base != "self":
            return [s for s in facts.collected.calls
                    if isinstance(s.node.func, cst.Name) and s.node.func.value == function.name.value]
        if base == "self" and function is not None and function.name.value != "__init__":
            # a method such as reset_parameters takes effect where the class calls it
            callers = [s for s in facts.collected.calls if isinstance(s.node.func, cst.Attribute)
                       and isinstance(s.node.func.value, cst.Name) and s.node.func.value.value == "self"
                       and s.node.func.attr.value == function.name.value]
            if callers:
                return callers
        return [site]

    @staticmethod
    def _before_first_input(facts, site: CallSite, use) -> bool:
        call = site.node
        if isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name) \
                and call.func.value.value == "self" and call.func.attr.value != "apply":
            receiver = call.func.value  # self.reset_parameters(): the module itself
        elif isinstance(call.func, cst.Attribute) and call.func.attr.value == "apply":
            receiver = call.func.value
        else:
            receiver = call.args[0].value if call.args else None
        name = _base_name(receiver) if receiver is not None else None
        if name is None:
            return False
        for other in facts.collected.calls:
            if other.scope is not site.scope or other.seq >= site.seq:
                continue
            func = other.node.func
            if isinstance(func, cst.Name) and func.value == name:
                return False  # net(x) ran first
            if name == "self" and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) \
                    and func.value.value == "self" and func.attr.value == "forward":
                return False
        return True
