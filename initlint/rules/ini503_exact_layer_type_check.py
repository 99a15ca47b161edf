from __future__ import annotations

import libcst as cst

from .. import catalogue
from ..rule import Fix, Report, Rule

_OPERATORS = (cst.Equal, cst.Is, cst.NotEqual, cst.IsNot, cst.In, cst.NotIn)


class ExactLayerTypeCheck(Rule):
    """`type(m) == nn.Linear` in an init function: subclasses keep their default init.

    ## What it does
    Flags an exact type comparison (`type(m) == X`, `type(m) is X`, `type(m) in (X, Y)`,
    `m.__class__ == X`) against a framework layer class, inside a function that initialises
    parameters or is passed to `.apply()`.

    ## Why is this bad?
    Exact comparisons skip subclasses. `nn.MultiheadAttention.out_proj` is a
    `NonDynamicallyQuantizableLinear`, many libraries subclass `nn.Linear`/`nn.Conv2d`, and those
    layers silently keep their default initialisation while the rest of the model gets yours.

    ## Example
    ```python
    from torch import nn

    def init_normal(module):
        if type(module) == nn.Linear:
            nn.init.normal_(module.weight, mean=0, std=0.01)
            nn.init.zeros_(module.bias)
    ```

    ## Use instead
    ```python
    from torch import nn

    def init_normal(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0, std=0.01)
            nn.init.zeros_(module.bias)
    ```

    ## Fix safety
    Unsafe: `isinstance` also matches the subclasses the exact check skipped, so those layers now get
    your initialisation instead of their default, and the model starts from different numbers.
    Applied with `--fix --unsafe-fixes`.

    ## Frameworks
    PyTorch, TensorFlow/Keras, JAX/Flax, MXNet Gluon.
    """

    code = "INI503"
    name = "exact-layer-type-check"
    message = "exact type check against {layer} skips its subclasses, which keep their default init; use isinstance()"
    frameworks = ("torch", "keras", "jax", "mxnet")
    fix_safety = "unsafe"

    def check(self, facts):
        init_functions = facts.inits.init_functions | set(facts.inits.applied_functions)
        for node, scope in facts.collected.comparisons:
            function = scope.function
            while function is None and scope.parent is not None:
                scope = scope.parent
                function = scope.function
            if function not in init_functions or len(node.comparisons) != 1:
                continue
            comparison = node.comparisons[0]
            if not isinstance(comparison.operator, _OPERATORS):
                continue
            for subject, other in ((node.left, comparison.comparator), (comparison.comparator, node.left)):
                if not _is_type_of(subject):
                    continue
                layer = _layer_class(facts, other)
                if layer is not None:
                    yield Report(node, {"layer": layer.name.rsplit(".", 1)[-1]}, layer.framework.value,
                                 Fix(node, _isinstance(node, subject, other, comparison.operator)))
                    break


def _isinstance(node: cst.Comparison, subject, types, operator) -> cst.BaseExpression:
    """``type(m) == X`` -> ``isinstance(m, X)``; ``type(m) not in (X, Y)`` -> ``not isinstance(m, (X, Y))``."""
    instance = subject.args[0].value if isinstance(subject, cst.Call) else subject.value
    if isinstance(types, (cst.List, cst.Set)):
        types = cst.Tuple([e.with_changes(comma=e.comma) for e in types.elements])
    call = cst.Call(cst.Name("isinstance"), [cst.Arg(instance, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                                              cst.Arg(types)])
    if isinstance(operator, (cst.NotEqual, cst.IsNot, cst.NotIn)):
        call = cst.UnaryOperation(cst.Not(), call)
    return call.with_changes(lpar=node.lpar, rpar=node.rpar)


def _is_type_of(node) -> bool:
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "type" \
            and len(node.args) == 1:
        return True
    return isinstance(node, cst.Attribute) and node.attr.value == "__class__"


def _layer_class(facts, node):
    elements = [e.value for e in node.elements] if isinstance(node, (cst.Tuple, cst.List, cst.Set)) else [node]
    for element in elements:
        for name in facts.names(element):
            entry = catalogue.layer(name)
            if entry is not None:
                return entry
    return None
