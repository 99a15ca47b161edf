from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.describe import layer_label
from ..analysis.edits import renamed_callee, string, with_arguments
from ..analysis.inits import ALL_PARAMS
from ..catalogue import Framework, LayerKind
from ..rule import Fix, Report, Rule


class FanInitOnVector(Rule):
    """A fan-based initialiser applied to a tensor with fewer than two dimensions.

    ## What it does
    Flags Xavier, Kaiming, orthogonal and variance-scaling initialisers applied to a bias, a norm
    scale, or every parameter of a model with no dimension check, in the frameworks that raise on
    that: torch fan-based inits, JAX/Flax variance-scaling initialisers on a 1-D tensor with the
    default axes, Keras `Orthogonal`/`Identity`, and MXNet `Xavier` on a vector. Parameters created
    by hand count when their shape is written out (`self.param('b', init, (n,))`,
    `add_weight(shape=(n,), ...)`, `nn.Parameter(torch.ones(n))`).

    ## Why is this bad?
    Fan-in and fan-out are read from the tensor's first two dimensions; a vector has only one, so
    the call raises at run time ("Fan in and fan out can not be computed for tensor with fewer than
    2 dimensions"), usually deep inside a training script after the data has loaded.

    Keras computes fans for 1-D tensors and does not raise for its variance-scaling family; only
    its `Orthogonal` and `Identity` raise there, and only they are flagged.

    ## Example
    ```python
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(128, 10)
            for p in self.parameters():
                nn.init.xavier_uniform_(p)
    ```

    ## Use instead
    ```python
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(128, 10)
            for p in self.parameters():
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)
    ```

    ## Fix safety
    Safe: where every tensor the call reaches is a bias, the fix initialises it with zeros
    (`zeros_`, `nn.initializers.zeros`, `'zeros'`, `init.Zero()`); where every one is a norm scale,
    with ones. The original call raised, so no working model starts from different numbers. A
    hand-made vector or a loop over every parameter is not fixed automatically (add
    `if p.dim() > 1:` yourself).

    ## Frameworks
    PyTorch, JAX/Flax, Keras, MXNet Gluon.
    """

    code = "INI501"
    name = "fan-init-on-vector"
    message = ("{init} is fan-based and raises on the {what}, which has fewer than 2 dimensions; "
               "use zeros/normal for it, or guard with `if p.dim() > 1`")
    frameworks = ("torch", "jax", "keras", "mxnet")
    fix_safety = "safe"

    def check(self, facts):
        for use in facts.init_uses:
            if use.entry is None or not use.entry.raises_below_2d:
                continue
            what = self._vector_target(use, facts)
            if what is not None:
                yield Report(use.node, {"init": use.entry.name.rsplit(".", 1)[-1], "what": what},
                             use.framework.value, self._fix(facts, use))

    @staticmethod
    def _fix(facts, use) -> Optional[Fix]:
        """Zeros instead, where every target is a vector (a loop over all parameters needs a guard
        instead, which is left to the user)."""
        if use.targets and all(t.is_bias() for t in use.targets):
            fill = "zeros"
        elif use.targets and all(t.is_weight() and t.kind is LayerKind.NORM for t in use.targets):
            fill = "ones"  # a norm scale starts at one
        else:
            return None  # a hand-made vector or a loop over all parameters: the user knows its meaning
        node = use.node
        try:
            if isinstance(node, cst.SimpleString):
                return Fix(node, string(fill))
            if not isinstance(node, cst.Call):
                return None
            if use.framework is Framework.TORCH:
                func, imports = renamed_callee(facts, node.func, f"{fill}_")
                return Fix(node, with_arguments(node.with_changes(func=func), drop=[k for k, _ in use.entry.params],
                                                keep_positional=1), imports)
            if use.framework is Framework.JAX and isinstance(node.func, cst.Attribute):
                return Fix(node, node.func.with_changes(attr=cst.Name(fill)))
            if use.framework is Framework.MXNET:
                func, imports = renamed_callee(facts, node.func, "Zero" if fill == "zeros" else "One")
                return Fix(node, cst.Call(func), imports)
            if use.framework is Framework.KERAS:
                func, imports = renamed_callee(facts, node.func, fill.capitalize())
                return Fix(node, cst.Call(func), imports)
        except ValueError:
            return None
        return None

    @staticmethod
    def _vector_target(use, facts):
        for target in use.targets:
            if target.is_bias():
                return f"bias of {layer_label(target.layer, target.entry)}"
            if target.is_weight() and target.kind is LayerKind.NORM:
                return f"scale of {layer_label(target.layer, target.entry)}"
            if target.ndim is not None and target.ndim < 2:
                return f"{target.ndim}-D parameter {target.param or ''}".rstrip()
            if target.param == ALL_PARAMS and use.targets_known and _has_biases(use, facts):
                return "biases among parameters()"
        return None


def _has_biases(use, facts) -> bool:
    """The module whose parameters() are looped over holds a layer with a bias: the layers named
    (``self.fc.parameters()``), else those of the class whose method loops."""
    layers = [t.layer for t in use.targets if t.param == ALL_PARAMS and t.layer is not None]
    if not layers:
        cls = facts.graph.class_of_function.get(use.function)
        layers = facts.graph.layers_of_class(cls) if cls is not None else []
    for layer in layers:
        if layer.entry.bias is None or layer.entry.kind is LayerKind.NORM:
            continue
        flag = layer.args.get("bias", layer.args.get("use_bias"))
        if flag is None or facts.value(flag) is True:
            return True
    return False
