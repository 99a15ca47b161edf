from __future__ import annotations

import libcst as cst

from ..analysis.describe import FAN_INIT_FIX, layer_label
from ..analysis.inits import ALL_PARAMS
from ..analysis.schemes import scheme_of
from ..catalogue import RELU_FAMILY, Scheme
from .. import catalogue
from ..rule import Report, Rule

_DEFAULT_LABEL = {
    "torch": "kaiming_uniform_(a=sqrt(5)), i.e. U(+-1/sqrt(fan_in))",
    "keras": "glorot_uniform",
    "jax": "lecun_normal",
    "mxnet": "the initialize() default",
}


class DefaultInitUnderRelu(Rule):
    """A layer left at a framework default that is not He, followed by a ReLU (off by default).

    ## What it does
    Flags a dense or convolutional layer that the code never initialises explicitly, whose framework
    default is not He initialisation, and whose output goes through a ReLU-family activation: Keras'
    `glorot_uniform`, Flax's `lecun_normal`, PyTorch's `kaiming_uniform_(a=sqrt(5))` (which gives
    std `1/sqrt(3*fan_in)`, a third of He's variance). Reported at the layer's constructor.

    ## Why is this bad?
    None of these defaults was derived for ReLU: the signal's variance shrinks at every such layer
    (by 2x for Glorot/LeCun, 6x for PyTorch's default). Shallow networks train anyway, which is why
    the defaults survive; deep plain (non-residual, un-normalised) networks start with vanishing
    activations. This rule is off by default because most models are residual or normalised and
    train fine with the defaults; enable it with `--extend-select INI204`.

    ## Example
    ```python
    import keras

    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(512, activation="relu"),
        keras.layers.Dense(10),
    ])
    ```

    ## Use instead
    ```python
    import keras

    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(512, activation="relu", kernel_initializer="he_normal"),
        keras.layers.Dense(10),
    ])
    ```

    ## Frameworks
    PyTorch, TensorFlow/Keras, JAX/Flax.
    """

    code = "INI204"
    name = "default-init-under-relu"
    message = ("{layer} keeps its default {default} but is followed by {activation}: the signal shrinks at every "
               "such layer; use He initialisation, {fix}")
    frameworks = ("torch", "keras", "jax")
    default_enabled = False

    def check(self, facts):
        # a layer's weight, or all of its parameters (``for p in self.fc.parameters()``)
        reached = {id(t.layer) for use in facts.init_uses for t in use.targets
                   if t.layer is not None and (t.is_weight() or t.param == ALL_PARAMS)}
        # layer types some init reaches without the code showing which instances: assume all of them
        reached_types = {t.entry for use in facts.init_uses for t in use.targets if t.layer is None and t.entry}
        # a weight, or every parameter (``for p in self.parameters()``), of layers the code does not name
        loose_weights = any(t.layer is None and t.entry is None and t.param in ("weight", "kernel", ALL_PARAMS)
                            for use in facts.init_uses for t in use.targets) or _delegates_init(facts)
        for layer in facts.graph.layers.values():
            entry = layer.entry
            if entry.framework.value not in self.frameworks or entry.default_weight_init is None:
                continue
            if id(layer) in reached or entry in reached_types or (loose_weights and entry.framework.value == "torch"):
                continue
            if entry.weight_init_kwarg and entry.weight_init_kwarg in layer.args:
                continue
            activation = layer.effective_activation()
            if activation is None or activation.activation not in RELU_FAMILY:
                continue
            default = catalogue.initializer(entry.default_weight_init)
            if default is None or scheme_of(default, default.bind((), dict(entry.default_weight_args))) is Scheme.HE:
                continue
            fix = FAN_INIT_FIX[entry.framework].format(dist="normal", Dist="Normal")
            yield Report(layer.node, {"layer": layer_label(layer), "default": _DEFAULT_LABEL[entry.framework.value],
                                      "activation": activation.activation.value, "fix": fix},
                         entry.framework.value)


# calls through which torch code re-initialises weights somewhere this file may not show
# (transformers' post_init -> _init_weights, an inherited init_weights, module.apply(fn))
_DELEGATES = frozenset({"post_init", "init_weights", "_init_weights", "apply", "reset_parameters",
                        "_reset_parameters", "initialize_weights"})


def _delegates_init(facts) -> bool:
    return any(isinstance(site.node.func, cst.Attribute) and site.node.func.attr.value in _DELEGATES
               for site in facts.collected.calls)
