from __future__ import annotations

from typing import Optional, Tuple

import libcst as cst

from ..analysis.fans import fan_in
from ..catalogue import Family, Framework, P, truncated_std_factor
from ..rule import Fix, Report, Rule

_FIX = {
    Framework.KERAS: "use VarianceScaling(scale={k:g}, mode='fan_in', distribution='truncated_normal'){alias}",
    Framework.JAX: "use nn.initializers.variance_scaling({k:g}, 'fan_in', 'truncated_normal'){alias}",
    Framework.TORCH: "divide the std by .87962566103423978 (as timm's variance_scaling_ does)",
    Framework.MXNET: "divide the std by .87962566103423978",
}
_ALIAS = {
    Framework.KERAS: {2.0: " (he_normal)", 1.0: " (lecun_normal)"},
    Framework.JAX: {2.0: " (he_normal())", 1.0: " (lecun_normal())"},
}


class TruncatedNormalVarianceTarget(Rule):
    """Truncated normal with a variance-scaling std: the realised std is 0.88x the target.

    ## What it does
    Flags a truncated-normal initialiser whose std argument is a variance-scaling target,
    `sqrt(k / fan)` written out by hand (directly or through variables), when that std is taken
    *before* truncation: TF/Keras `TruncatedNormal`/`truncated_normal`, `tf.random.truncated_normal`,
    JAX/Flax `truncated_normal`, timm's `trunc_normal_tf_`, and torch `trunc_normal_` with bounds at
    ±2·std.

    ## Why is this bad?
    Cutting a normal at ±2σ removes its tails, so the samples' std is 0.8796× the std passed in.
    `stddev=sqrt(2 / fan_in)` therefore does not give He initialisation: every layer starts 12% too
    small, and the shrinkage compounds with depth. Keras' `VarianceScaling` divides by
    .87962566103423978 to correct exactly this; a hand-written `truncated_normal` does not.

    ## Example
    ```python
    import tensorflow as tf

    def conv_kernel(filter_row, filter_col, ch_in, ch_out):
        stddev = (2 / (filter_row * filter_col * ch_in)) ** 0.5
        return tf.keras.initializers.TruncatedNormal(mean=0.0, stddev=stddev)
    ```

    ## Use instead
    ```python
    import tensorflow as tf

    def conv_kernel(filter_row, filter_col, ch_in, ch_out):
        return tf.keras.initializers.HeNormal()
    ```

    ## Fix safety
    Unsafe: the fix divides the std by .87962566103423978 (the correction Keras' VarianceScaling
    applies), so the weights start 1.137x larger, as the code evidently intended. Applied with
    `--fix --unsafe-fixes`.

    ## Frameworks
    TensorFlow/Keras (tf.keras, Keras 3, tf.compat.v1, tf.random), JAX/Flax, PyTorch (`trunc_normal_`
    with ±2·std bounds, timm's `trunc_normal_tf_`).

    ## References
    - Keras `VarianceScaling` source: `stddev = math.sqrt(scale) / .87962566103423978`
    - `tf.random.truncated_normal`: "stddev: the standard deviation of the normal distribution, before truncation"
    """

    code = "INI101"
    name = "truncated-normal-variance-target"
    message = ("{init} takes its std before truncation: stddev=sqrt({k:g}/fan) realises {factor:.2f}x that, "
               "not the variance-scaling target; {fix}")
    frameworks = ("keras", "jax", "torch")
    fix_safety = "unsafe"

    def check(self, facts):
        for use in facts.init_uses:
            entry = use.entry
            if entry is None or entry.family is not Family.TRUNCATED_NORMAL or entry.truncation is None:
                continue
            if entry.truncation.std_is != "before" or not isinstance(getattr(entry.law, "std_term", None), P):
                continue
            std_node = use.args.get(entry.law.std_term.name)
            if std_node is None:
                continue
            target = facts.evaluator.variance_target(std_node, _layer_fans(facts, use))
            if target is None:
                continue
            bounds = self._bounds(facts, use, entry, std_node)
            if bounds is None:
                continue
            factor = truncated_std_factor(*bounds)
            if factor > 0.95:
                continue
            k = target[0]
            fix = _FIX[entry.framework].format(k=k, alias=_ALIAS.get(entry.framework, {}).get(k, ""))
            yield Report(use.node, {"init": entry.name.rsplit(".", 1)[-1], "k": k, "factor": factor, "fix": fix},
                         entry.framework.value, Fix(std_node, _corrected(std_node, factor)))

    @staticmethod
    def _bounds(facts, use, entry, std_node) -> Optional[Tuple[float, float]]:
        truncation = entry.truncation
        values = use.values(facts.evaluator)
        if truncation.units == "std":
            low, high = (values.get(t.name) if isinstance(t, P) else t for t in (truncation.low, truncation.high))
            if isinstance(low, (int, float)) and isinstance(high, (int, float)):
                return float(low), float(high)
            return None
        # absolute bounds (torch trunc_normal_): only a cut at a multiple of the std shrinks it by a fixed factor
        multiples = []
        for term in (truncation.low, truncation.high):
            node = use.args.get(term.name) if isinstance(term, P) else None
            multiple = _multiple_of(facts, node, std_node)
            if multiple is None:
                return None
            multiples.append(multiple)
        return multiples[0], multiples[1]


def _layer_fans(facts, use) -> frozenset:
    """The fan-ins the code shows for the weights this initialiser reaches: a literal equal to one
    of them (``sqrt(2 / 784)`` on ``Dense(..., input_shape=(784,))``) is a fan written out."""
    out = set()
    for target in use.targets:
        if target.layer is not None and target.is_weight():
            fan = fan_in(facts, target.layer)
            if fan is not None:
                out.add(fan)
    return frozenset(out)


def _corrected(std_node: cst.BaseExpression, factor: float) -> cst.BaseExpression:
    """``std`` -> ``std / .87962566103423978`` (parenthesised where precedence needs it)."""
    if isinstance(std_node, (cst.BinaryOperation, cst.BooleanOperation, cst.IfExp, cst.Lambda, cst.UnaryOperation)) \
            and not (isinstance(std_node, cst.BinaryOperation)
                     and isinstance(std_node.operator, (cst.Power, cst.Multiply, cst.Divide))) \
            and not std_node.lpar:
        std_node = std_node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    literal = ".87962566103423978" if abs(factor - 0.87962566103423978) < 1e-12 else repr(factor)
    return cst.BinaryOperation(std_node, cst.Divide(whitespace_before=cst.SimpleWhitespace(" "),
                                                    whitespace_after=cst.SimpleWhitespace(" ")), cst.Float(literal))


def _multiple_of(facts, node, std_node) -> Optional[float]:
    """c when ``node`` is written as c * std (or std * c, -c * std, -(c * std))."""
    if node is None:
        return None
    code = facts.module.code_for_node
    std_code = code(std_node).strip()
    sign = 1.0
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        sign, node = -1.0, node.expression
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
        for const_side, other in ((node.left, node.right), (node.right, node.left)):
            value = facts.value(const_side)
            if isinstance(value, (int, float)) and code(other).strip() == std_code:
                return sign * float(value)
    return None
