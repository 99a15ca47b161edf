from __future__ import annotations

import libcst as cst

from .. import prefilter
from ..analysis.queries import constant_value
from ..analysis.unit_offset import declared_constants, offset_uses
from ..catalogue import Family, Framework, Style
from ..rule import Report, Rule

_ONE_INITIALISERS = ("ones", "Ones", "ones_init", "ones_initializer", "constant", "Constant", "constant_init",
                     "constant_initializer")


_ONE_TENSORS = ("ones", "ones_like", "full", "full_like")


def _one(entry, styles, finals, framework=None) -> bool:
    """A constant-family catalogue entry of one of ``styles`` (and ``framework``) spelled with one
    of ``finals``."""
    styles = styles if isinstance(styles, tuple) else (styles,)
    return entry.family is Family.CONSTANT and entry.style in styles \
        and (framework is None or entry.framework is framework) \
        and any(name.rsplit(".", 1)[-1] in finals for name in entry.names)


def _in_place_ones():
    from .. import catalogue

    return sorted({name.rsplit(".", 1)[-1] for entry in catalogue.INITIALIZERS
                   if _one(entry, Style.INPLACE, ("ones_", "constant_", "fill_"))
                   for name in entry.names if name.endswith("_")})


# what analysis.unit_offset reads as one (an Integer "1", or a Float of value 1): `1`, `1.`, `1.0`,
# `01.0`, and any mantissa made of one 1 and zeros with an exponent (`1e0`, `10e-1`, `1e-6` too);
# its first character is looked for before the lookbehind (twice as fast a search)
_ONE = (rb"(?=[0_.1])(?<![\w.])(?:[0_]*1(?:\.[0_]*)?|[0_]*\.?[0_]*1[0_]*\.?[0_]*[eE][+-]?[0-9_]+)(?![\w.])")
# `1 + w` or `w + 1`: the one beside a `+` (not `+=`), parentheses and gaps between
_UNIT_OFFSET = (_ONE + rb"(?:" + prefilter.GAP + rb"\))*" + prefilter.GAP + rb"\+(?!=)"
                + rb"|\+(?:" + prefilter.GAP + rb"\()*" + prefilter.GAP + _ONE)


def _may_declare_ones(facts) -> bool:
    """Some initialiser of the file can give ones (a constant whose value is 1 or not known), or a
    tensor is filled in place: most files have neither, and are left at once."""
    for use in facts.init_uses:
        entry = use.entry
        if entry is not None and entry.family is Family.CONSTANT:
            found = constant_value(facts, use)
            if found is None or found[0] is None or found[0] == 1.0:
                return True
    return any(isinstance(site.node.func, cst.Attribute) and site.node.func.attr.value == "fill_"
               for site in facts.collected.calls)


class UnitOffsetScaleAtOne(Rule):
    """A norm scale used as `1 + w` in the forward pass but initialised to ones: it starts at 2.

    ## What it does
    Flags a parameter that the code initialises to one (`nn.Parameter(torch.ones(d))`,
    `nn.init.ones_(w)`, `w.data.fill_(1.0)`, Flax `self.param('scale', nn.initializers.ones, ...)`,
    Keras `add_weight(initializer='ones')`, `jnp.ones`) while the same class uses it with a unit
    offset (`x * (1 + self.weight)`, `self.weight.float() + 1.0`, a Gemma-style RMSNorm, Megatron's
    layernorm1p), including an init function's `ones_(m.weight)` under `isinstance(m, ThatNorm)`.
    Reported at the initialiser.

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

    A subclass of `nn.LayerNorm` that adds 1 to its inherited weight (whose default is ones) is
    not seen: nothing in the file initialises that weight, and checking every file that uses a norm
    layer would cost a fifth more time on model code.

    ## Frameworks
    PyTorch, TensorFlow/Keras, JAX/Flax.
    """

    code = "INI307"
    name = "unit-offset-scale-at-one"
    message = ("`{param}` is used as `{offset}` but {how}: the scale starts at 2, not 1; "
               "initialise it to zeros (or drop the `1 +`)")
    frameworks = ("torch", "keras", "jax")
    # a constant where a parameter is made (nn.Parameter(torch.ones(d)), self.param(..., ones),
    # add_weight(initializer='ones')) or filled in place with a value that can be one; string names
    # ('ones', 'constant') count only beside add_weight (np.pad's mode='constant' is everywhere)
    requires = ((
        (prefilter.initializers(lambda e: _one(e, Style.SAMPLER, _ONE_TENSORS, Framework.TORCH), "torch.ones")
         & prefilter.words("Parameter", why="nn.Parameter"))
        | (prefilter.initializers(lambda e: _one(e, Style.SAMPLER, _ONE_TENSORS, Framework.KERAS), "tf.ones")
           & prefilter.words("Variable", "add_weight", why="tf.Variable or add_weight"))
        | (prefilter.initializers(lambda e: _one(e, Style.SAMPLER, _ONE_TENSORS, Framework.JAX), "jnp.ones")
           & prefilter.words("param", why="self.param"))
        # in place: torch's names end in "_" (its deprecated `constant`, without, is also what
        # np.pad's mode="constant" spells), and are distinctive enough without their root
        | prefilter.words(*_in_place_ones(), why="an in-place fill with ones")
        | (prefilter.initializers(lambda e: _one(e, (Style.FUNCTION, Style.FACTORY), _ONE_INITIALISERS),
                                  "a ones initialiser") & prefilter.words("param", "add_weight", "add_variable"))
    ) & prefilter.pattern(_UNIT_OFFSET, "a unit offset (`1 + w`)"))  # what offset_uses looks for

    def check(self, facts):
        if not _may_declare_ones(facts):
            return
        declared = declared_constants(facts)
        keys = {d.key for d in declared if d.value == 1.0}
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


def _label(key) -> str:
    owner, name = key
    return f"self.{name}" if owner.__class__.__name__ == "ClassDef" else name

