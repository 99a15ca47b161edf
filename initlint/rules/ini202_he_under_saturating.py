from __future__ import annotations

from ..analysis.describe import layer_label
from ..analysis.schemes import effective_scheme, is_normal_family
from ..catalogue import Activation, Framework, Scheme
from ..rule import Report, Rule

_FIX = {
    Framework.TORCH: ("nn.init.xavier_{dist}_(w, gain=nn.init.calculate_gain('{act}'))",
                      "nn.init.kaiming_normal_(w, nonlinearity='linear')"),
    Framework.KERAS: ("'glorot_{dist}'", "'lecun_normal'"),
    Framework.JAX: ("nn.initializers.glorot_{dist}()", "nn.initializers.lecun_normal()"),
    Framework.MXNET: ("init.Xavier()", "init.Xavier(rnd_type='gaussian', factor_type='in', magnitude=1)"),
}


class HeUnderSaturating(Rule):
    """He/Kaiming initialisation before tanh or sigmoid, or anything but LeCun normal before SELU.

    ## What it does
    Flags a He/Kaiming initialiser (`kaiming_normal_` with a ReLU nonlinearity, `HeNormal`,
    `he_uniform`, `VarianceScaling(2.0)`, ...) on a layer the code shows is followed by `tanh` or
    `sigmoid`, and any fan-based initialiser other than LeCun normal on a layer followed by SELU.
    He over `mode='fan_out'` is left alone before tanh/sigmoid: on a layer that widens (a
    squeeze-excitation gate) its scale is below the fan-in target, not above.

    ## Why is this bad?
    He initialisation doubles the variance to make up for ReLU discarding half of it. Before a
    tanh or sigmoid nothing is discarded, so the pre-activations start twice as wide as intended and
    push the units into saturation, where gradients vanish. SELU's self-normalising property is
    derived for LeCun normal weights (variance 1/fan_in) and does not hold with other scales.

    ## Example
    ```python
    from torch import nn

    rnn_head = nn.Sequential(nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 1))
    nn.init.kaiming_normal_(rnn_head[0].weight, nonlinearity="relu")
    ```

    ## Use instead
    ```python
    from torch import nn

    rnn_head = nn.Sequential(nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 1))
    nn.init.xavier_normal_(rnn_head[0].weight, gain=nn.init.calculate_gain("tanh"))
    ```

    `kaiming_normal_(w, nonlinearity='tanh')` uses tanh's own gain and is not flagged.

    ## Frameworks
    PyTorch, TensorFlow/Keras, JAX/Flax, MXNet Gluon.
    """

    code = "INI202"
    name = "he-under-saturating"
    message = "{init} on {layer}, which is followed by {activation}: {why}; use {fix}"
    frameworks = ("torch", "keras", "jax", "mxnet")

    def check(self, facts):
        for use in facts.init_uses:
            if use.entry is None or not use.targets:
                continue
            scheme = effective_scheme(facts, use)
            if scheme is None:
                continue
            for target in use.targets:
                layer = target.layer
                if layer is None or not target.is_weight():
                    continue
                activation = layer.effective_activation()
                if activation is None:
                    continue
                found = self._problem(facts, use, scheme, activation.activation)
                if found is not None:
                    why, fix = found
                    yield Report(use.node, {"init": use.entry.name.rsplit(".", 1)[-1], "layer": layer_label(layer),
                                            "activation": activation.activation.value, "why": why, "fix": fix},
                                 use.framework.value)
                    break

    @staticmethod
    def _problem(facts, use, scheme, activation):
        glorot, lecun = _FIX[use.framework]
        if scheme is Scheme.HE and activation in (Activation.TANH, Activation.SIGMOID) \
                and not _over_fan_out(facts, use):
            dist = "normal" if is_normal_family(facts, use) else "uniform"
            return ("He doubles the variance for ReLU, which pushes tanh/sigmoid units into saturation",
                    glorot.format(dist=dist, act=activation.value))
        if activation is Activation.SELU and use.entry.fan_based \
                and not (scheme is Scheme.LECUN and is_normal_family(facts, use)):
            return "SELU self-normalises only from LeCun normal weights (variance 1/fan_in)", lecun
        return None


def _over_fan_out(facts, use) -> bool:
    """He over ``mode='fan_out'`` scales by the layer's outputs: on a layer that widens (EfficientNet's
    squeeze-excitation expand conv, before its sigmoid) its std is below the fan-in target, not
    above, so the variance is not doubled where the rule says it is."""
    mode = use.values(facts.evaluator).get("mode")
    return isinstance(mode, str) and mode.lower() == "fan_out"
