from __future__ import annotations

import math

import libcst as cst

from ..analysis.describe import layer_label
from ..analysis.fans import fan_in
from ..analysis.traversal import walk
from ..analysis.values import is_number
from ..catalogue import Style, activation_gain
from ..rule import Report, Rule

DEFAULT_THRESHOLD = 10.0


def literal_scale(facts, use):
    """RMS of the values an initialiser draws, when every argument behind it is written in the code
    (a default std of 1 is INI401/INI402's business, not this rule's)."""
    entry = use.entry
    if entry is None or entry.fan_based or not use.args:
        return None
    values = use.values(facts.evaluator)
    std, mean = entry.std(values), entry.mean(values)
    if not (is_number(std) and is_number(mean)):
        return None
    return math.sqrt(std * std + mean * mean)


class LiteralScaleOffTarget(Rule):
    """A literal initialisation scale far from the He/Glorot/LeCun target for the layer's fan-in.

    ## What it does
    Flags an initialiser whose scale is written as a number (`normal_(w, std=0.01)`,
    `RandomNormal(stddev=0.01)`, `uniform_(w, -10, 10)`, `init.Constant(42)`) on a layer whose fan-in
    the code establishes, when that scale (the root mean square of the drawn values) is more than 10x
    above or below `gain / sqrt(fan_in)`, the target for the activation that follows (ReLU sqrt(2),
    tanh 5/3, none or sigmoid 1, LeakyReLU sqrt(2/(1+slope^2))). When the activation is unknown, the
    scale must be off for both a linear and a ReLU gain. A scale *below* the target is flagged only
    on a hidden layer (one the code shows feeding further layers): a small last layer, e.g. a
    policy or classifier head initialised with `std=0.01` to start near zero, is deliberate.

    ## Why is this bad?
    A fixed std ignores the fan-in. With `std=0.01` on a 64-wide ReLU layer each layer shrinks the
    signal about 18x: ten layers in, activations and gradients are 1e-12 of what they should be. A scale
    10x too large saturates tanh/sigmoid units or overflows. The literal was usually copied from a
    model of a different width.

    ## Example
    ```python
    from torch import nn

    mlp = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    nn.init.normal_(mlp[0].weight, std=0.01)
    ```

    ## Use instead
    ```python
    from torch import nn

    mlp = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    nn.init.kaiming_normal_(mlp[0].weight, nonlinearity="relu")
    ```

    ## Options
    - `scale-ratio-threshold` (default 10): how many times above or below the target a scale must be
      to be flagged, in `[tool.initlint]`.

    ## Frameworks
    PyTorch, TensorFlow/Keras, JAX/Flax, MXNet Gluon (where the fan-in is in the code: `in_features`,
    `in_channels` and kernel size, `in_units`, or the previous layer of a `Sequential`).
    """

    code = "INI403"
    name = "literal-scale-off-target"
    message = ("{init} draws with scale {scale:.3g} on {layer} (fan-in {fan:g}): {ratio:.0f}x {direction} the "
               "target {target:.3g} = {gain_text}/sqrt({fan:g}) for {activation}; use a fan-based initialiser")
    frameworks = ("torch", "keras", "jax", "mxnet")

    def check(self, facts):
        threshold = float(self.options.get("scale-ratio-threshold", DEFAULT_THRESHOLD))
        for use, scale in self._scaled_uses(facts):
            for target in use.targets:
                if not target.is_weight():
                    continue
                report = self._judge(facts, use, scale, target.layer, threshold)
                if report is not None:
                    yield report
                    break

    @staticmethod
    def _scaled_uses(facts):
        for use in facts.init_uses:
            if not use.targets:
                continue
            if use.entry is not None and use.entry.style is not Style.SAMPLER:
                scale = literal_scale(facts, use)
                if scale is not None:
                    yield use, scale
            elif use.custom is not None:
                # a hand-written initialiser: the literal scale of the sampler it draws from
                for node in walk(use.custom):
                    sampled = facts.inits.by_node.get(node) if isinstance(node, cst.Call) else None
                    if sampled is not None and sampled.via == "sampler" and not _rescaled(use.custom, node):
                        scale = literal_scale(facts, sampled)
                        if scale is not None:
                            sampled.targets = use.targets
                            yield sampled, scale
                            break

    def _judge(self, facts, use, scale, layer, threshold):
        fan = fan_in(facts, layer)
        if fan is None or scale <= 0:
            return None
        activation = layer.effective_activation()
        gains = [(activation_gain(activation.activation, activation.slope), activation.activation.value)] \
            if activation is not None else [(1.0, "a linear output (its activation is not in the code)"),
                                            (math.sqrt(2), "a ReLU (its activation is not in the code)")]
        best = None
        for gain, label in gains:
            target = gain / math.sqrt(fan)
            ratio = max(scale / target, target / scale)
            if best is None or ratio < best[0]:
                best = (ratio, target, gain, label)
        ratio, target, gain, label = best
        # "more than 10x" as the message prints it: DCGAN's N(0, 0.02) on a 3-channel 4x4 conv is
        # 10.02x below a LeakyReLU target, which the message would call "10x below"
        if round(ratio) <= threshold or (scale < target and not layer.feeds_layer):
            return None  # a small last layer (a head starting near zero) is deliberate practice
        gain_text = {1.0: "1", math.sqrt(2): "sqrt(2)"}.get(gain, f"{gain:.3g}")
        name = use.entry.name.rsplit(".", 1)[-1] if use.entry is not None else "initialiser"
        return Report(use.node, {"init": name, "scale": scale, "layer": layer_label(layer), "fan": fan,
                                 "ratio": ratio, "direction": "above" if scale > target else "below",
                                 "target": target, "gain_text": gain_text, "activation": label},
                      use.framework.value)


def _rescaled(function, sample) -> bool:
    """The custom initialiser multiplies or divides what it samples (``normal(key, shape) *
    sqrt(2 / fan_in)``, directly or through a variable): the sampler's own scale is not the result's."""
    names = set()
    for node in walk(function):
        if isinstance(node, cst.Assign) and node.value is sample:
            names |= {t.target.value for t in node.targets if isinstance(t.target, cst.Name)}
    for node in walk(function):
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Multiply, cst.Divide)):
            for operand in (node.left, node.right):
                if operand is sample or (isinstance(operand, cst.Name) and operand.value in names):
                    return True
    return False
