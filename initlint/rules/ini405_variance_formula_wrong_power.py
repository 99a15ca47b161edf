from __future__ import annotations

from typing import Iterator, Optional, Tuple

import libcst as cst

from .. import prefilter
from ..analysis.describe import short
from ..analysis.fans import fan_in
from ..analysis.powers import fan_not_rooted, gain_not_squared, rewritable, square_root, squared
from ..analysis.queries import units
from ..analysis.traversal import walk
from ..analysis.values import is_number
from ..catalogue import Family, P, Style
from ..catalogue.model import MagnitudeLaw, NormalLaw, VarianceScalingLaw
from ..rule import Fix, Report, Rule

# what a fan is called; a std divided by one of these is a fan-based std
_FAN_WORDS = ("fan", "in_features", "in_channels", "in_dim", "input_dim", "dim_in", "d_in", "n_in", "hidden",
              "d_model", "embed", "n_embd", "width", "units", "in_size", "input_size", "features", "channels",
              "dim", "size", "shape")
# ... and what it is not: a depth (GPT-2's 0.02/sqrt(2*n_layer) is a depth scaling, not a fan)
_DEPTH_WORDS = ("layer", "depth", "block", "num_hidden_layers", "n_layer", "stage", "step", "iter", "epoch",
                "vocab", "class", "token", "batch", "sample", "head")
# deliberate width scalings (muP's 1/fan readout) are named as such in the code
_WIDTH_SCALING_WORDS = ("mup", "readout", "output_mult", "width_mult", "base_width", "mult")
_SQRT_NAMES = ("sqrt", "rsqrt")


def _identifiers(node) -> Iterator[str]:
    for child in walk(node):
        if isinstance(child, cst.Name):
            yield child.value
        elif isinstance(child, cst.Attribute):
            yield child.attr.value


def _has_sqrt(facts, node, depth: int = 0) -> bool:
    """The expression takes a square root somewhere: ``sqrt(...)``, ``x ** 0.5``, ``x ** -0.5``,
    or a gain (``calculate_gain``, itself a square root of a variance multiplier). A root that is
    squared again (``calculate_gain('relu') ** 2``) is a variance."""
    expr = facts.evaluator.substitute(node)
    under_square = {id(inner) for child in walk(expr) if _is_square(facts, child) for inner in walk(child.left)}
    for child in walk(expr):
        if id(child) in under_square:
            continue
        if isinstance(child, cst.Call):
            names = facts.names(child.func)
            final = child.func.attr.value if isinstance(child.func, cst.Attribute) else \
                child.func.value if isinstance(child.func, cst.Name) else ""
            if final in _SQRT_NAMES and names or any(n.endswith(".calculate_gain") for n in names):
                return True
        if isinstance(child, cst.BinaryOperation) and isinstance(child.operator, cst.Power):
            exponent = facts.value(child.right)
            if is_number(exponent) and abs(abs(exponent) - 0.5) < 1e-12:
                return True
        if isinstance(child, cst.Name) and child is not node and depth < 4:
            inner = facts.evaluator.substitute(child)
            if inner is not child and _has_sqrt(facts, inner, depth + 1):
                return True
    return False


def _is_square(facts, node) -> bool:
    if not (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Power)):
        return False
    exponent = facts.value(node.right)
    return is_number(exponent) and exponent == 2


class VarianceFormulaWrongPower(Rule):
    """A hand-written variance-scaling formula with the wrong power.

    ## What it does
    Flags a hand-written variance-scaling formula with the wrong power of the fan: a std written
    `2 / sqrt(fan)` (the gain squared) or `k / fan` (no square root), and a std-like quantity passed
    as `VarianceScaling`'s *scale*, which multiplies the variance.

    In detail, the std of a normal initialiser (`normal_(w, 0, std)`, `RandomNormal(stddev=...)`,
    `nn.initializers.normal(...)`, `torch.randn(...) * std`) is flagged when it is written as

    - `2 / sqrt(fan)`: the gain squared where the gain was meant (He is `sqrt(2 / fan)`, i.e.
      `sqrt(2) / sqrt(fan)`): the weights start √2 too large, and the error compounds per layer;
    - `k / fan` (`1 / fan_in`, `sqrt(2) / fan_in`, `2.0 / n`): the fan to the first power where
      its square root belongs (a variance written where the std goes): for a 512-wide layer the
      weights start 22x too small;

    and a `VarianceScaling`/`variance_scaling` *scale* (a variance multiplier) written as a std-like
    quantity: a square root or a gain (`scale=1 / math.sqrt(num_layers)`, `scale=math.sqrt(2)`,
    `scale=calculate_gain('relu')`).

    ## Why is this bad?
    The variance-scaling target is `Var(w) = k / fan`, so `std = sqrt(k / fan)`. Square roots are
    easy to drop or double when the formula is typed by hand; the result still looks like a
    fan-based initialisation, so nobody checks it, but every layer multiplies the signal by the
    wrong factor and a deep network vanishes or explodes.

    Deliberate width scalings are not flagged: muP's `1/fan` readout and the like, named as such in
    the code (`mup`, `readout`, `output_mult`, `width_mult`), and depth scalings such as GPT-2's
    `0.02 / sqrt(2 * n_layer)`.

    ## Example
    ```python
    import math
    from torch import nn

    class MLP(nn.Module):
        def __init__(self, d_in, d_hidden):
            super().__init__()
            self.fc = nn.Linear(d_in, d_hidden)
            nn.init.normal_(self.fc.weight, 0.0, 2 / math.sqrt(d_in))
    ```

    ## Use instead
    ```python
    import math
    from torch import nn

    class MLP(nn.Module):
        def __init__(self, d_in, d_hidden):
            super().__init__()
            self.fc = nn.Linear(d_in, d_hidden)
            nn.init.normal_(self.fc.weight, 0.0, math.sqrt(2 / d_in))
    ```

    ## Fix safety
    Unsafe, every one: a fix here always changes the weights the model starts from (to what the
    formula evidently meant), and a safe fix in initlint is one that cannot change them (INI504's
    case fix is safe only because the call raised before). Applied with `--fix --unsafe-fixes`:

    - `2 / sqrt(n)` -> `sqrt(2 / n)` (`2 / n ** 0.5` -> `(2 / n) ** 0.5`);
    - `k / fan` -> `sqrt(k / fan)`; where `k` is already a gain, `sqrt(2) / fan` ->
      `sqrt(2) / sqrt(fan)`; `fan ** -1` -> `fan ** -0.5`; `randn(...) / fan` ->
      `randn(...) / sqrt(fan)`;
    - a std-like `scale`/`magnitude` -> its square: `sqrt(x)` -> `x`, `k / sqrt(L)` -> `k² / L`,
      anything else `(...) ** 2`.

    The square root is spelled as the file already spells one that takes a number (`math.sqrt`,
    `np.sqrt`, `jnp.sqrt`), else `** 0.5` (no import; numbers and tensors alike). No fix is offered
    where the formula sits in a name that is read elsewhere too, or comes from a caller's argument
    (rewriting it there would change other code), nor where the square root hides behind a name
    (`2 / s` with `s = sqrt(n)`).

    ## Frameworks
    PyTorch, TensorFlow/Keras, JAX/Flax (normal-family initialisers and samplers; Keras, JAX, timm
    variance scaling; MXNet Xavier's `magnitude`).
    """

    code = "INI405"
    name = "variance-formula-wrong-power"
    message = "{detail}"
    frameworks = ("torch", "keras", "jax", "mxnet")
    fix_safety = "unsafe"
    requires = prefilter.initializers(
        lambda e: e.family in (Family.NORMAL, Family.TRUNCATED_NORMAL) or isinstance(e.law, (VarianceScalingLaw,
                                                                                                  MagnitudeLaw)),
        why="a normal-family or variance-scaling initialiser", strings=False)

    def check(self, facts):
        width_scaled = None  # computed once, only when a 1/fan std is found
        products = {}  # function (or module) -> its `call * x` / `call / x` expressions, when a sampler needs them
        for use in facts.init_uses:
            entry = use.entry
            if entry is None:
                continue
            law = entry.law
            if isinstance(law, (VarianceScalingLaw, MagnitudeLaw)):
                term = law.scale if isinstance(law, VarianceScalingLaw) else law.magnitude
                node = use.args.get(term.name) if isinstance(term, P) else None
                if node is not None and _has_sqrt(facts, node):
                    text = facts.module.code_for_node(node).strip()
                    target = rewritable(facts, node)
                    yield Report(use.node, {"detail": (
                        f"{short(entry.name)}: {term.name}={text} is std-like (a square root or a gain), but "
                        f"{term.name} multiplies the variance: the std becomes sqrt({text}/fan); square it "
                        f"(e.g. scale=2.0 for He, scale=1/num_layers for a 1/sqrt(num_layers) std)")},
                                 use.framework.value, Fix(target, squared(facts, target)) if target else None)
                continue
            if not isinstance(law, NormalLaw):
                continue
            std = use.args.get(law.std_term.name) if isinstance(law.std_term, P) else None
            divided = False
            if std is not None:
                found = self._judge(facts, std, divided=False) or self._judge_literal(facts, use, std)
            elif use.via == "sampler" and entry.style is Style.SAMPLER:
                scope = use.function if use.function is not None else facts.module
                if scope not in products:
                    products[scope] = _scaled_expressions(scope)
                std, divided = _scaling_parent(products[scope], use.node) or (None, False)
                found = self._judge(facts, std, divided) if std is not None else None
            else:
                found = None
            if found is None:
                continue
            kind, text = found
            if kind == "first-power":
                if width_scaled is None:
                    width_scaled = self._width_scaled(facts)
                if width_scaled:
                    continue
                detail = (f"{short(entry.name)}: std {text} divides by the fan itself, where the variance-scaling std "
                          f"divides by its square root (std = sqrt(k/fan)): the weights start sqrt(fan) times too "
                          f"small; use sqrt(k / fan) (muP's 1/fan readout is named as such)")
            else:
                detail = (f"{short(entry.name)}: std {text} is gain 2 (variance 4/fan), twice He's variance: He is "
                          f"sqrt(2 / fan) = sqrt(2)/sqrt(fan); the weights start 1.41x too large per layer")
            yield Report(use.node, {"detail": detail}, use.framework.value, _fix(facts, std, kind, divided))

    # -- the std's form -------------------------------------------------------------------------

    def _judge(self, facts, node, divided: bool) -> Optional[Tuple[str, str]]:
        """("gain-squared" | "first-power", text) when the std ``node`` (or 1/``node`` when
        ``divided``) has the wrong power of its fan."""
        code = facts.module.code_for_node
        expr = facts.evaluator.substitute(node)
        text = code(node).strip() if expr is node else f"{code(node).strip()} = {code(expr).strip()}"
        if is_number(facts.value(expr)) and not _mentions_fan(facts, expr):
            return None  # a plain number: INI403's business
        if divided:
            # randn(...) / fan: std 1/fan
            if _is_fan(facts, expr) and not _has_sqrt(facts, expr):
                return "first-power", f"1/({text})"
            return None
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
            numerator = facts.value(expr.left)
            denominator = facts.evaluator.substitute(expr.right)
            if is_number(numerator) and 0 < numerator <= 2.0 + 1e-9:
                sqrt_of = facts.evaluator._is_sqrt_call(denominator) or facts.evaluator._half_power(denominator)
                if sqrt_of is not None and abs(numerator - 2.0) < 1e-12 and _is_fan(facts, sqrt_of) \
                        and not _has_sqrt(facts, expr.left):
                    return "gain-squared", text
                if sqrt_of is None and _is_fan(facts, expr.right) and not _has_sqrt(facts, denominator):
                    return "first-power", text
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Power):
            exponent = facts.value(expr.right)
            if is_number(exponent) and abs(exponent + 1) < 1e-12 and _is_fan(facts, expr.left):
                return "first-power", text
        return None

    @staticmethod
    def _judge_literal(facts, use, node) -> Optional[Tuple[str, str]]:
        """``2 / math.sqrt(580)`` or ``1 / 580`` on a layer whose fan-in or output units the code
        shows are 580: the fan written as a number."""
        expr = facts.evaluator.substitute(node)
        if not (isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide)):
            return None
        numerator = facts.value(expr.left)
        if not is_number(numerator) or not 0 < numerator <= 2.0 + 1e-9:
            return None
        denominator = facts.evaluator.substitute(expr.right)
        sqrt_of = facts.evaluator._is_sqrt_call(denominator) or facts.evaluator._half_power(denominator)
        fan = facts.value(sqrt_of if sqrt_of is not None else denominator)
        if not is_number(fan) or fan <= 4:
            return None
        layers = [t.layer for t in use.targets if t.layer is not None and t.is_weight()]
        sizes = {fan_in(facts, layer) for layer in layers} | {units(facts, layer) for layer in layers}
        if not any(is_number(size) and abs(size - fan) < 1e-9 for size in sizes):
            return None
        text = facts.module.code_for_node(node).strip()
        if sqrt_of is not None:
            return ("gain-squared", text) if abs(numerator - 2.0) < 1e-12 and not _has_sqrt(facts, expr.left) \
                else None
        return "first-power", text

    @staticmethod
    def _width_scaled(facts) -> bool:
        """The file names a deliberate width scaling (muP and its readout multipliers)."""
        for node in walk(facts.module):
            if isinstance(node, cst.Name) and any(w in node.value.lower() for w in _WIDTH_SCALING_WORDS):
                return True
            if isinstance(node, cst.Attribute) and any(w in node.attr.value.lower() for w in _WIDTH_SCALING_WORDS):
                return True
        return False


def _words_of(facts, node) -> Tuple[str, ...]:
    return tuple(name.lower() for name in _identifiers(facts.evaluator.substitute(node)))


def _mentions_fan(facts, node) -> bool:
    return any(any(w in name for w in _FAN_WORDS) for name in _words_of(facts, node))


def _is_fan(facts, node) -> bool:
    """The code names this expression as a fan (``fan_in``, ``in_features``, ``self.dim``,
    ``w.shape[0]``, ``hidden_size * 4``) and not as a depth or a count of something else."""
    named = tuple(name.lower() for name in _identifiers(node))  # n_in = 784 is still named a fan
    node = facts.evaluator.substitute(node)
    if isinstance(node, (cst.Integer, cst.Float)) and not named:
        return False
    words = _words_of(facts, node) + named
    if not words or any(any(w in name for w in _DEPTH_WORDS) for name in words):
        return False
    return any(any(w in name for w in _FAN_WORDS) for name in words)


def _scaling_parent(products, sampler: cst.Call) -> Optional[Tuple[cst.BaseExpression, bool]]:
    """``torch.randn(m, n) * std`` / ``jax.random.normal(k, s) / fan``: the factor ``x`` of the
    ``sampler * x`` / ``x * sampler`` / ``sampler / x`` expression the sampler is an operand of
    (found among the expressions the code assigns, returns or wraps), and whether it divides."""
    for node in products:
        if isinstance(node.operator, cst.Multiply):
            if node.left is sampler:
                return node.right, False
            if node.right is sampler:
                return node.left, False
        elif isinstance(node.operator, cst.Divide) and node.left is sampler:
            return node.right, True
    return None


def _fix(facts, std: cst.BaseExpression, kind: str, divided: bool) -> Optional[Fix]:
    """The formula at the intended power, where the code writes it so that a rewrite changes this
    initialisation only (see ``powers.rewritable``)."""
    if divided:  # sampler / fan: divide by the fan's square root, in place
        return Fix(std, square_root(facts, std, std))
    target = rewritable(facts, std)
    if target is None:
        return None
    replacement = gain_not_squared(facts, target) if kind == "gain-squared" else fan_not_rooted(facts, target)
    return Fix(target, replacement) if replacement is not None else None


def _scaled_expressions(scope) -> list:
    return [node for node in walk(scope) if isinstance(node, cst.BinaryOperation)
            and isinstance(node.operator, (cst.Multiply, cst.Divide))
            and (isinstance(node.left, cst.Call) or isinstance(node.right, cst.Call))]

