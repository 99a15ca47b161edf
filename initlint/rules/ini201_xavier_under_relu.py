from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.describe import FAN_INIT_FIX, layer_label
from ..analysis.values import is_number
from ..analysis.edits import keyword, number, renamed_callee, string, with_arguments
from ..analysis.graph import LINEAR
from ..catalogue import RELU_FAMILY, Activation, Family, Framework, Scheme
from ..catalogue.names import canonical
from ..catalogue.model import MagnitudeLaw, VarianceScalingLaw
from ..rule import Fix, Report, Rule


def is_glorot(use, values) -> bool:
    """Xavier/Glorot in any spelling, with a gain that leaves it Glorot (not He)."""
    entry = use.entry
    if entry is None:
        return False
    if entry.scheme is Scheme.GLOROT:
        gain = values.get("gain", 1.0)
        return is_number(gain) and gain <= 1.05
    law = entry.law
    if isinstance(law, VarianceScalingLaw):  # the law reads its own spellings (contrib's 'FAN_AVG')
        scale, mode = law.variance_scale(values)
        return is_number(scale) and scale <= 1.05 and mode == "fan_avg"
    if isinstance(law, MagnitudeLaw):  # MXNet Xavier: magnitude 3 over fan_avg is Glorot
        magnitude = values.get("magnitude")
        mode = values.get("factor_type")
        return is_number(magnitude) and magnitude <= 3.05 and mode == "avg"
    return False


def _tf1_fix(entry, dist) -> Optional[str]:
    """He in the spelling of TF1 code (its Keras names may not exist in that TF)."""
    name = canonical(entry.name)
    if name.startswith("tf.contrib."):
        return "tf.contrib.layers.variance_scaling_initializer()" + (
            "" if dist == "normal" else " with uniform=True")
    if entry.framework is Framework.KERAS and name.startswith("tf."):
        return f"tf.compat.v1.initializers.he_{dist}()"
    return None


class XavierUnderRelu(Rule):
    """Xavier/Glorot initialisation on a layer whose output goes through a ReLU.

    ## What it does
    Flags Xavier/Glorot initialisers (`xavier_uniform_`, `GlorotUniform`, `glorot_normal`,
    `VarianceScaling(1, 'fan_avg')`, MXNet `Xavier()`, ...) on a layer that the code shows is
    followed by a ReLU-family activation (ReLU, ReLU6, LeakyReLU, PReLU, RReLU): in a `Sequential`,
    through `activation=`, or in `forward`/`__call__`.

    ## Why is this bad?
    Glorot's derivation assumes a linear (or tanh-like) unit. A ReLU zeroes half its inputs, so with
    Glorot weights the activations' variance halves at every layer and deep networks start with a
    vanishing signal. He et al. derived the fix: variance `2 / fan_in`.

    ## Example
    ```python
    from torch import nn

    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    nn.init.xavier_uniform_(net[0].weight)
    ```

    ## Use instead
    ```python
    from torch import nn

    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")
    ```

    Xavier with `gain=nn.init.calculate_gain('relu')` is equivalent in scale and is not flagged.

    ## Fix safety
    Unsafe: the fix switches to He initialisation of the same distribution (torch
    `kaiming_*_(w, nonlinearity='relu')` or `a=slope, nonlinearity='leaky_relu'`, Keras `HeUniform`/
    `'he_uniform'`, JAX `he_uniform()`, MXNet `Xavier(factor_type='in', magnitude=6)`), so the weights
    start sqrt(2)-ish larger. It is offered only when every layer the initialiser reaches is
    followed by that activation. Applied with `--fix --unsafe-fixes`.

    ## Frameworks
    PyTorch, TensorFlow/Keras, JAX/Flax, MXNet Gluon.

    ## References
    - He et al., *Delving Deep into Rectifiers*, 2015
    """

    code = "INI201"
    name = "xavier-under-relu"
    message = ("{init} on {layer}, which is followed by {activation}: Glorot variance halves at every ReLU layer; "
               "use He initialisation, {fix}")
    frameworks = ("torch", "keras", "jax", "mxnet")
    fix_safety = "unsafe"

    def check(self, facts):
        for use in facts.init_uses:
            if use.entry is None or not use.targets:
                continue
            values = use.values(facts.evaluator)
            if not is_glorot(use, values):
                continue
            for target in use.targets:
                layer = target.layer
                if layer is None or not target.is_weight():
                    continue
                activation = layer.effective_activation()
                if activation is None or activation.activation not in RELU_FAMILY:
                    continue
                dist = "uniform" if use.entry.family_for(values) is Family.UNIFORM else "normal"
                fix = _tf1_fix(use.entry, dist) or FAN_INIT_FIX[use.entry.framework].format(
                    dist=dist, Dist=dist.capitalize())
                yield Report(use.node, {"init": use.entry.name.rsplit(".", 1)[-1], "layer": layer_label(layer),
                                        "activation": activation.activation.value, "fix": fix},
                             use.entry.framework.value, self._fix(facts, use, dist, activation))
                break

    @staticmethod
    def _fix(facts, use, dist, activation) -> Optional[Fix]:
        """He in the same framework and distribution, when every layer the init reaches is
        followed by the same ReLU (otherwise changing it would mis-scale the others)."""
        activations = {(t.layer.effective_activation() or LINEAR) for t in use.targets
                       if t.layer is not None and t.is_weight()}
        if not use.targets_known or activations != {activation}:
            return None
        node = use.node
        try:
            if use.entry.framework is Framework.TORCH and isinstance(node, cst.Call):
                func, imports = renamed_callee(facts, node.func, f"kaiming_{dist}_")
                extra = [keyword("nonlinearity", string("relu"))] if activation.activation is Activation.RELU else [
                    keyword("a", number(activation.slope if activation.slope is not None else 0.01)),
                    keyword("nonlinearity", string("leaky_relu"))]
                call = with_arguments(node.with_changes(func=func), drop=("gain",), add=extra, keep_positional=1)
                return Fix(node, call, imports)
            if activation.activation is not Activation.RELU:
                return None
            if isinstance(node, cst.SimpleString):  # Keras: 'glorot_uniform' -> 'he_uniform'
                return Fix(node, string(f"he_{dist}"))
            if not isinstance(node, cst.Call):
                return None
            if use.entry.framework is Framework.KERAS:
                if not canonical(use.entry.name).startswith("keras.initializers."):
                    return None  # TF1 spellings (tf.glorot_uniform_initializer) have no he_* sibling
                func = node.func
                short = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
                if not short.lower().startswith("glorot"):
                    return None
                new = f"He{dist.capitalize()}" if short[0].isupper() else f"he_{dist}"
                func, imports = renamed_callee(facts, node.func, new)
                return Fix(node, node.with_changes(func=func), imports)
            if use.entry.framework is Framework.JAX:
                func, imports = renamed_callee(facts, node.func, f"he_{dist}")
                return Fix(node, node.with_changes(func=func), imports)
            if use.entry.framework is Framework.MXNET:  # Xavier(magnitude=6 uniform / 2 gaussian, factor 'in')
                rnd = "uniform" if dist == "uniform" else "gaussian"
                call = with_arguments(node, drop=("rnd_type", "factor_type", "magnitude"), keep_positional=0,
                                      add=[keyword("rnd_type", string(rnd)), keyword("factor_type", string("in")),
                                           keyword("magnitude", number(6.0 if rnd == "uniform" else 2.0))])
                return Fix(node, call)
        except ValueError:
            return None
        return None
