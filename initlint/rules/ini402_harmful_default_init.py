from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.arguments import mean_in_std_slot
from ..analysis.describe import layer_label
from ..analysis.edits import keyword, renamed_callee, string, with_arguments
from ..analysis.graph import ActivationRef
from ..analysis.queries import WEIGHTED_KINDS
from ..analysis.values import is_number
from ..catalogue import Activation, Family, Framework, LayerKind, P, Style
from ..catalogue.model import NormalLaw, UniformLaw
from ..rule import Fix, Report, Rule


def harm(use, values):
    """What the defaults do wrong, or None: a std of 1, or a uniform range starting at 0."""
    law = use.entry.law
    if isinstance(law, NormalLaw) and isinstance(law.std_term, P) and not use.given(law.std_term.name):
        std = values.get(law.std_term.name)
        if is_number(std) and std == 1.0:
            return f"std {std:g} whatever the fan-in", f"std= (e.g. gain/sqrt(fan_in))"
    if isinstance(law, UniformLaw) and not law.symmetric_scale:
        low_given = isinstance(law.low, P) and use.given(law.low.name)
        mean = law.mean(values)
        if not low_given and is_number(mean) and mean > 0:
            return (f"a range starting at 0 (mean {mean:g}): every weight is positive",
                    "a symmetric range (-bound, bound)")
    return None


class HarmfulDefaultInit(Rule):
    """An initialiser whose default arguments are harmful on a weight.

    ## What it does
    Flags, on the weight of a dense, convolutional or recurrent layer (or a parameter of two or more
    dimensions created by hand): torch `normal_(w)` with no
    `std` (std 1), torch `uniform_(w)` with no bounds (U(0, 1)), the tensor methods
    `w.data.normal_()` / `w.data.uniform_()` likewise, and JAX/Flax `uniform(scale)`, which samples
    U[0, scale).

    ## Why is this bad?
    A std of 1 ignores the fan-in, so activations grow by about sqrt(fan_in) per layer. A range that
    starts at 0 makes every weight positive (mean scale/2): all units are correlated, and the
    pre-activations drift by mean x fan_in. Neither is what "a normal/uniform init" is meant to be.

    ## Example
    ```python
    from torch import nn

    layer = nn.Linear(256, 256)
    nn.init.uniform_(layer.weight)
    ```

    ## Use instead
    ```python
    import math
    from torch import nn

    layer = nn.Linear(256, 256)
    bound = 1 / math.sqrt(256)
    nn.init.uniform_(layer.weight, -bound, bound)
    ```

    ## Fix safety
    Unsafe: the fix replaces the call with a fan-based initialiser of the same distribution
    (torch `kaiming_*_(w, nonlinearity='relu')` when every layer it reaches is followed by a ReLU,
    else `xavier_*_(w)`; JAX `he_*()` / `lecun_*()`), so the model starts from different numbers.
    The tensor methods (`w.data.normal_()`) are not fixed automatically. Applied with
    `--fix --unsafe-fixes`.

    ## Frameworks
    PyTorch, JAX/Flax. Embedding tables (where N(0, 1) is PyTorch's own default) and norm scales are
    not flagged.
    """

    code = "INI402"
    name = "harmful-default-init"
    message = "{init} on the weight of {layer} uses its default {harm}; pass {fix}"
    frameworks = ("torch", "jax")
    fix_safety = "unsafe"

    def check(self, facts):
        for use in facts.init_uses:
            if use.entry is None or use.entry.style is Style.SAMPLER or not use.targets:
                continue
            found = harm(use, use.values(facts.evaluator))
            if found is None or mean_in_std_slot(facts, use) is not None:
                continue  # normal_(w, 0.02): a std in the mean's slot is INI504's finding
            for target in use.targets:
                layer_weight = target.is_weight() and target.kind in WEIGHTED_KINDS \
                    and target.kind is not LayerKind.EMBEDDING
                if not (layer_weight or target.is_raw_weight()):
                    continue
                yield Report(use.node, {"init": use.entry.name.rsplit(".", 1)[-1],
                                        "layer": layer_label(target.layer, target.entry, target.param),
                                        "harm": found[0], "fix": found[1]}, use.framework.value,
                             self._fix(facts, use))
                break

    @staticmethod
    def _fix(facts, use) -> Optional[Fix]:
        """A fan-based initialiser of the same distribution: He when every layer it reaches is
        followed by a plain ReLU, else Glorot (torch) / LeCun (JAX)."""
        node = use.node
        if not isinstance(node, cst.Call) or use.entry.style not in (Style.INPLACE, Style.FACTORY) \
                or use.entry.name.startswith("torch.Tensor."):
            return None  # w.data.normal_(): a method on the tensor, no module to call through
        activations = {t.layer.effective_activation() if t.layer is not None else None for t in use.targets}
        relu = activations == {ActivationRef(Activation.RELU)}
        dist = "uniform" if use.entry.family is Family.UNIFORM else "normal"
        try:
            if use.framework is Framework.TORCH:
                name, extra = (f"kaiming_{dist}_", [keyword("nonlinearity", string("relu"))]) if relu \
                    else (f"xavier_{dist}_", [])
                func, imports = renamed_callee(facts, node.func, name)
                drop = [k for k, _ in use.entry.params]
                return Fix(node, with_arguments(node.with_changes(func=func), drop=drop, add=extra,
                                                keep_positional=1), imports)
            if use.framework is Framework.JAX:
                func, imports = renamed_callee(facts, node.func, f"he_{dist}" if relu else f"lecun_{dist}")
                return Fix(node, cst.Call(func), imports)
        except ValueError:
            return None
        return None
