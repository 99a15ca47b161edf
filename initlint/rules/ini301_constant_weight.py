from __future__ import annotations

from ..analysis.describe import layer_label
from ..analysis.queries import WEIGHTED_KINDS, constant_value, is_frozen, units
from ..analysis.values import is_number
from ..rule import Report, Rule


class ConstantWeight(Rule):
    """A non-zero constant on the weight of a layer with more than one output unit.

    ## What it does
    Flags a constant initialiser with a non-zero value (`constant_(w, 1)`, `ones_`, `fill_(0.5)`,
    Keras `Constant(1)`/`'ones'`, Flax `constant(1)`, MXNet `init.Constant(1)`) on the weight of a
    dense, convolutional, embedding or recurrent layer that has more than one output unit.

    ## Why is this bad?
    Units that start with identical weights compute identical outputs and receive identical
    gradients, so they stay identical for the whole of training: the layer has effectively one unit.
    Random initialisation exists to break this symmetry.

    Biases, norm-layer scales (`LayerNorm`, `BatchNorm` weights of ones), frozen weights and layers
    with a single output unit are not flagged.

    ## Example
    ```python
    from torch import nn

    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))

    def init_constant(module):
        if isinstance(module, nn.Linear):
            nn.init.constant_(module.weight, 1)
            nn.init.zeros_(module.bias)

    net.apply(init_constant)
    ```

    ## Use instead
    ```python
    from torch import nn

    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))

    def init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)

    net.apply(init_weights)
    ```

    ## Known problems
    Not checked in test files (`test_*.py`, `*_test.py`), where fixed weights are a deliberate way
    to make expected outputs deterministic.

    ## Frameworks
    PyTorch, TensorFlow/Keras, JAX/Flax, MXNet Gluon.
    """

    code = "INI301"
    name = "constant-weight"
    message = ("constant {value} on the weight of {layer}{units}: every unit starts identical and gets the same "
               "gradient, so symmetry is never broken; use a random initialiser (He or Glorot for its activation)")
    frameworks = ("torch", "keras", "jax", "mxnet")
    skip_test_files = True

    def check(self, facts):
        for use in facts.init_uses:
            constant = constant_value(facts, use)
            if constant is None or constant[0] == 0:
                continue
            for target in use.targets:
                if not target.is_weight() or target.kind not in WEIGHTED_KINDS:
                    continue
                layer = target.layer
                count = units(facts, layer) if layer is not None else None
                if is_number(count) and count <= 1:
                    continue
                if layer is not None and is_frozen(facts, layer):
                    continue
                shown = f" ({count:g} output units)" if is_number(count) else ""
                yield Report(use.node, {"value": constant[1], "layer": layer_label(layer, target.entry), "units": shown},
                             use.framework.value)
                break
