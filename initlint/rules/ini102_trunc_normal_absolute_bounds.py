from __future__ import annotations

from ..catalogue import Style
from ..analysis.edits import keyword, number, with_arguments
from ..rule import Fix, Report, Rule
from ..analysis.values import is_number


class TruncNormalAbsoluteBounds(Rule):
    """`trunc_normal_` with a std other than 1 and the default bounds, which are absolute.

    ## What it does
    Flags `torch.nn.init.trunc_normal_(w, std=s)` (and look-alikes such as timm's `trunc_normal_`)
    when `s` is a number other than 1 and the bounds are the defaults, `a=-2, b=2` (left out, or
    written out as if they were in standard deviations).

    ## Why is this bad?
    `a` and `b` default to -2.0 and 2.0 *in absolute units*, not in standard deviations. With the
    common `std=.02` the bounds sit at ±100σ: nothing is truncated and the call is a plain
    `normal_`. With `std=5` they sit at ±0.4σ and the result is nearly uniform. Code written this
    way almost always meant "truncate at two standard deviations".

    ## Example
    ```python
    import torch.nn as nn

    pos_embed = nn.Parameter(torch.zeros(1, 197, 768))
    nn.init.trunc_normal_(pos_embed, std=0.02)
    ```

    ## Use instead
    ```python
    import torch.nn as nn

    pos_embed = nn.Parameter(torch.zeros(1, 197, 768))
    nn.init.trunc_normal_(pos_embed, std=0.02, a=-0.04, b=0.04)
    ```

    ## Fix safety
    Unsafe: the fix passes `a=-2*std, b=2*std`, so the tails are really cut and the realised std
    becomes 0.88x the std argument. That is what the call says it does, but the model starts from
    different numbers. Applied with `--fix --unsafe-fixes`.

    ## Frameworks
    PyTorch (`torch.nn.init.trunc_normal_`, `timm.layers.trunc_normal_`). timm's `trunc_normal_tf_`
    takes its bounds in std units and is not flagged.

    ## References
    - `torch/nn/init.py`: `def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, ...)`
    """

    code = "INI102"
    name = "trunc-normal-absolute-bounds"
    message = ("{init}(std={std:g}) keeps the default bounds a=-2, b=2, which are absolute: they sit at "
               "±{sigmas:.3g} std, so {effect}; pass a=-2*std, b=2*std")
    frameworks = ("torch",)
    fix_safety = "unsafe"

    def check(self, facts):
        for use in facts.init_uses:
            entry = use.entry
            if entry is None or entry.style is not Style.INPLACE or entry.truncation is None:
                continue
            if entry.truncation.units != "absolute" or not use.given("std"):
                continue
            values = use.values(facts.evaluator)
            if (values.get("a"), values.get("b")) != (-2.0, 2.0):
                continue  # bounds chosen for this std (or not established)
            std = facts.value(use.args["std"])
            if not is_number(std) or std <= 0 or abs(std - 1.0) < 1e-9:
                continue
            sigmas = 2.0 / std
            if sigmas >= 3:
                effect = "nothing is truncated"
            elif sigmas <= 1:
                effect = "the result is nearly uniform"
            else:
                effect = "the cut is not at two standard deviations"
            bounds = [keyword("a", number(-2 * std)), keyword("b", number(2 * std))]
            fix = Fix(use.node, with_arguments(use.node, drop=("a", "b"), add=bounds, keep_positional=3))
            yield Report(use.node, {"init": entry.name.rsplit(".", 1)[-1], "std": std, "sigmas": sigmas,
                                    "effect": effect}, entry.framework.value, fix)
