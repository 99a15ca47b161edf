from __future__ import annotations

from ..analysis.describe import layer_label
from ..analysis.queries import constant_value, looks_intentional
from ..catalogue import LayerKind
from ..rule import Report, Rule

_HIDDEN_KINDS = frozenset({LayerKind.DENSE, LayerKind.CONV, LayerKind.CONV_TRANSPOSE})


class ZeroHiddenWeight(Rule):
    """Zero weights on a hidden layer, whose output the code feeds into further layers.

    ## What it does
    Flags a zero initialiser (`zeros_`, `constant_(w, 0)`, `zero_()`, Keras `'zeros'`, Flax
    `zeros`, MXNet `init.Zero()`) on the weight of a dense or convolutional layer when the code shows
    that the layer's output feeds another weight layer (in a `Sequential`, or in `forward`).

    ## Why is this bad?
    With zero weights a hidden layer outputs a constant, the layers after it see no signal, and the
    gradient reaching the layers before it is multiplied by those zeros: nothing upstream learns, and
    the layer's units stay identical.

    Zero-initialising on purpose is fine and never flagged: the last layer or norm scale of a
    residual branch (`zero_init_residual`, whose output is *added*), a classifier head or last layer,
    LoRA's B matrix, adapters and gates.

    ## Example
    ```python
    from torch import nn

    mlp = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 10))
    nn.init.zeros_(mlp[0].weight)
    ```

    ## Use instead
    ```python
    from torch import nn

    mlp = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 10))
    nn.init.kaiming_normal_(mlp[0].weight, nonlinearity="relu")
    nn.init.zeros_(mlp[2].weight)  # a zero head is fine
    ```

    ## Known problems
    Not checked in test files (`test_*.py`, `*_test.py`), where fixed weights are a deliberate way
    to make expected outputs deterministic.

    ## Frameworks
    PyTorch, TensorFlow/Keras, JAX/Flax, MXNet Gluon.
    """

    code = "INI302"
    name = "zero-hidden-weight"
    message = ("zero weights on {layer}, whose output feeds further layers: no gradient reaches the layers before "
               "it and its units stay identical; initialise it randomly")
    frameworks = ("torch", "keras", "jax", "mxnet")
    skip_test_files = True

    def check(self, facts):
        for use in facts.init_uses:
            constant = constant_value(facts, use)
            if constant is None or constant[0] != 0:
                continue
            for target in use.targets:
                layer = target.layer
                if layer is None or not target.is_weight() or layer.kind not in _HIDDEN_KINDS:
                    continue
                if not layer.feeds_layer or looks_intentional(layer):
                    continue
                yield Report(use.node, {"layer": layer_label(layer)}, use.framework.value)
                break
