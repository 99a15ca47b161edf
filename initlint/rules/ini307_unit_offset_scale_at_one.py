from __future__ import annotations

from .. import catalogue, prefilter
from ..analysis.unit_offset import declared_constants, offset_uses
from ..catalogue import Family, LayerKind
from ..rule import Report, Rule


class UnitOffsetScaleAtOne(Rule):
    """A norm scale used as `1 + w` in the forward pass but initialised to ones: it starts at 2.

    ## What it does
    Flags a parameter that the code initialises to one (`nn.Parameter(torch.ones(d))`,
    `nn.init.ones_(w)`, `w.data.fill_(1.0)`, Flax `self.param('scale', nn.initializers.ones, ...)`,
    Keras `add_weight(initializer='ones')`, `jnp.ones`) while the same class uses it with a unit
    offset (`x * (1 + self.weight)`, `self.weight.float() + 1.0`, a Gemma-style RMSNorm). Also a
    subclass of a norm layer (whose weight defaults to ones) that uses `self.weight + 1`. Reported at
    the initialiser (for an inherited default, at the `1 + w` expression).

    ## Why is this bad?
    A scale stored as an offset from one is meant to start at zero, so that `1 + w` starts at one
    (Gemma's RMSNorm initialises it with zeros). Initialised to ones, every such norm multiplies its
    output by 2 at the start of training: the residual stream grows by 2x per norm and the first
    steps spend themselves undoing it; weight decay pulls the scale towards 1, not towards the
    identity.

    A ones-initialised scale used as `x * w`, and a zeros-initialised one used as `x * (1 + w)`,
    are both right and not flagged.

    ## Example
    ```python
    import torch
    from torch import nn

    class RMSNorm(nn.Module):
        def __init__(self, dim, eps=1e-6):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(dim))

        def forward(self, x):
            x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
            return x * (1.0 + self.weight.float())
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn

    class RMSNorm(nn.Module):
        def __init__(self, dim, eps=1e-6):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.zeros(dim))

        def forward(self, x):
            x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
            return x * (1.0 + self.weight.float())
    ```

    ## Known problems
    A class that is re-initialised elsewhere (transformers zeroes Gemma's norms in
    `_init_weights`, in the same file) is judged by every initialisation the file shows: when it
    also shows a zero initialisation of the same parameter, nothing is reported.

    ## Frameworks
    PyTorch, TensorFlow/Keras, JAX/Flax.
    """

    code = "INI307"
    name = "unit-offset-scale-at-one"
    message = ("`{param}` is used as `{offset}` but {how}: the scale starts at 2, not 1; "
               "initialise it to zeros (or drop the `1 +`)")
    frameworks = ("torch", "keras", "jax")
    requires = prefilter.initializers(lambda e: e.family is Family.CONSTANT, "a constant initialiser") \
        | prefilter.layers(lambda e: e.kind is LayerKind.NORM, "a norm layer")

    def check(self, facts):
        declared = declared_constants(facts)
        inherited = _inherited_ones(facts)
        keys = {d.key for d in declared if d.value == 1.0} | set(inherited)
        if not keys:
            return
        uses = offset_uses(facts, keys)
        if not uses:
            return
        zeroed = {d.key for d in declared if d.value == 0.0}
        code = facts.module.code_for_node
        reported = set()
        for item in declared:
            if item.value != 1.0 or item.key not in uses or item.key in zeroed or item.node in reported:
                continue
            reported.add(item.node)
            yield Report(item.node, {"param": _label(item.key), "offset": code(uses[item.key]),
                                     "how": f"`{code(item.node)}` initialises it to ones"}, item.framework)
        for key, base in inherited.items():
            if key not in uses or key in zeroed or any(d.key == key for d in declared):
                continue
            yield Report(uses[key], {"param": _label(key), "offset": code(uses[key]),
                                     "how": f"it keeps {base}'s default, ones"}, "torch")


def _label(key) -> str:
    owner, name = key
    return f"self.{name}" if owner.__class__.__name__ == "ClassDef" else name


def _inherited_ones(facts) -> dict:
    """``{(cls, weight): base}`` for this file's subclasses of a norm layer whose weight defaults
    to ones and that do not assign that weight themselves."""
    out = {}
    for cls, info in facts.graph.classes.items():
        for base in info.bases:
            entry = catalogue.layer(base)
            if entry is None or entry.kind is not LayerKind.NORM or entry.weight is None:
                continue
            default = catalogue.initializer(entry.default_weight_init) if entry.default_weight_init else None
            if default is None or default.family is not Family.CONSTANT or not default.name.endswith("ones_"):
                continue
            if (cls, entry.weight) in facts.collected.self_attrs:
                continue
            out[(cls, entry.weight)] = base.rsplit(".", 1)[-1]
    return out


