from __future__ import annotations

from ..analysis.describe import layer_label
from ..analysis.values import is_number
from ..catalogue import Activation, activation_gain, calculate_gain
from ..catalogue.model import KaimingLaw
from ..rule import Report, Rule


class KaimingSlopeMismatch(Rule):
    """Kaiming's `a`/`nonlinearity` disagree with the ReLU-family activation that follows.

    ## What it does
    Flags `kaiming_uniform_`/`kaiming_normal_` whose `nonlinearity` and negative slope `a` do not
    describe the activation the code shows next, when the resulting gain is more than 1% off:
    `a=0` (or `nonlinearity='relu'`) before `LeakyReLU(0.2)` or `PReLU`, `a=0.2` before a plain
    `ReLU`, `a=0.1` before `LeakyReLU(0.2)`, or a non-ReLU nonlinearity (`'tanh'`, `'linear'`)
    before a ReLU. (`a=0` before torch's default `LeakyReLU(0.01)` is 0.005% off: not flagged.)

    ## Why is this bad?
    Kaiming's gain is `sqrt(2 / (1 + a^2))`: it has to know the slope the activation really uses.
    A mismatch mis-scales every such layer by the same factor, which compounds with depth, and it
    usually means the init and the model were edited separately and drifted apart.

    ## Example
    ```python
    from torch import nn

    disc = nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 1, 4))
    nn.init.kaiming_normal_(disc[0].weight, nonlinearity="relu")
    ```

    ## Use instead
    ```python
    from torch import nn

    disc = nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 1, 4))
    nn.init.kaiming_normal_(disc[0].weight, a=0.2, nonlinearity="leaky_relu")
    ```

    ## Frameworks
    PyTorch (`torch.nn.init.kaiming_*` are the initialisers that take the slope).
    """

    code = "INI203"
    name = "kaiming-slope-mismatch"
    message = "{init}({given}) on {layer}, but {activation} follows: {fix}"
    frameworks = ("torch",)

    def check(self, facts):
        for use in facts.init_uses:
            if use.entry is None or not isinstance(use.entry.law, KaimingLaw) or not use.targets:
                continue
            values = use.values(facts.evaluator)
            nonlinearity, a = values.get("nonlinearity"), values.get("a")
            if not isinstance(nonlinearity, str) or not is_number(a):
                continue
            for target in use.targets:
                layer = target.layer
                activation = layer.effective_activation() if layer is not None and target.is_weight() else None
                if activation is None:
                    continue
                fix = _mismatch(nonlinearity, a, activation)
                if fix is not None:
                    given = f"nonlinearity={nonlinearity!r}, a={a:g}"
                    shown = activation.activation.value + (
                        f"(slope {activation.slope:g})" if activation.slope is not None else "")
                    yield Report(use.node, {"init": use.entry.name.rsplit(".", 1)[-1], "given": given,
                                            "layer": layer_label(layer), "activation": shown, "fix": fix}, "torch")
                    break


def _mismatch(nonlinearity: str, a: float, activation):
    """A fix when the init's gain is more than 1% off the activation's (LeakyReLU(0.01) with a=0 is
    0.005% off and not worth a word; LeakyReLU(0.2) with a=0 is 2% off at every layer)."""
    kind = activation.activation
    if kind not in (Activation.RELU, Activation.LEAKY_RELU) or (kind is Activation.LEAKY_RELU and activation.slope is None):
        return None
    init_gain = calculate_gain(nonlinearity, a if nonlinearity == "leaky_relu" else None)
    wanted = activation_gain(kind, activation.slope)
    if init_gain is None or abs(init_gain / wanted - 1) <= 0.01:
        return None
    if kind is Activation.RELU:
        return "a plain ReLU has slope 0: use nonlinearity='relu'"
    return f"use nonlinearity='leaky_relu', a={activation.slope:g}"
