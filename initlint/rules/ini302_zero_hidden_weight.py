from __future__ import annotations

from .. import catalogue
from ..analysis.describe import layer_label
from ..analysis.modulation import scaled_streams
from ..analysis.queries import constant_value, looks_intentional
from ..catalogue import LayerKind
from ..catalogue.model import ConstantLaw
from ..rule import Report, Rule

_HIDDEN_KINDS = frozenset({LayerKind.DENSE, LayerKind.CONV, LayerKind.CONV_TRANSPOSE})


class ZeroHiddenWeight(Rule):
    """Zero weights on a hidden layer, whose output the code feeds into further layers.

    ## What it does
    Flags a zero initialiser (`zeros_`, `constant_(w, 0)`, `zero_()`, Keras `'zeros'`, Flax
    `zeros`, MXNet `init.Zero()`) on the weight of a dense or convolutional layer when the code shows
    that the layer's output feeds another weight layer (in a `Sequential`, or in `forward`).

    Two more shapes of the same fault are flagged: a normalisation layer whose scale is set to
    zeros and whose bias to ones (the two swapped: `zeros_(bn.weight); ones_(bn.bias)`), and a
    zero-initialised projection whose output is used as a multiplicative scale that *replaces* the
    stream (FiLM written `x * gamma + beta`, with `gamma` from that projection and no `1 +`).

    ## Why is this bad?
    With zero weights a hidden layer outputs a constant, the layers after it see no signal, and the
    gradient reaching the layers before it is multiplied by those zeros: nothing upstream learns, and
    the layer's units stay identical. A norm with scale 0 and bias 1 outputs the constant 1 whatever
    its input. A zero `gamma` in `x * gamma + beta` makes every such layer output exactly `beta`:
    the stream is cut at every block and no gradient reaches the layers before it. adaLN-zero
    (DiT) writes `x * (1 + gamma) + beta`, which starts as the identity, and zero gates are added to
    the residual stream (`x + gate * f(x)`); both are fine and not flagged.

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

    def format(self, report) -> str:
        detail = report.fields.get("detail")
        return detail if detail else super().format(report)

    def check(self, facts):
        yield from self._hidden(facts)
        yield from self._swapped_norms(facts)
        yield from self._zero_modulation(facts)

    def _hidden(self, facts):
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

    # -- a norm whose scale and bias are swapped ------------------------------------------------

    @staticmethod
    def _swapped_norms(facts):
        """zeros on a norm's scale where its bias gets a non-zero constant (the two swapped): keyed
        by layer, or by layer type within one init function (``if isinstance(m, nn.BatchNorm2d)``)."""
        zero_scale, nonzero_bias = {}, {}
        for use in facts.init_uses:
            constant = constant_value(facts, use)
            if constant is None:
                continue
            for target in use.targets:
                entry = target.layer_entry
                if entry is None or entry.kind is not LayerKind.NORM or target.param is None:
                    continue
                key = id(target.layer) if target.layer is not None else ("type", entry.name, id(use.function))
                if target.param == entry.weight and constant[0] == 0:
                    zero_scale.setdefault(key, (use, target))
                elif target.param == entry.bias and constant[0] != 0:
                    nonzero_bias.setdefault(key, (use, constant[1]))
        for key, (use, target) in zero_scale.items():
            if key in nonzero_bias:
                label = layer_label(target.layer, target.entry)
                yield Report(use.node, {"layer": label, "detail": (
                    f"zero scale on {label} while its bias is set to {nonzero_bias[key][1]}: the two look swapped; "
                    f"the norm outputs that constant whatever its input and no gradient passes through it; "
                    f"use scale 1, bias 0")}, use.framework.value)

    # -- a zero projection that scales the stream --------------------------------------------------

    def _zero_modulation(self, facts):
        zeroed = {}  # id(layer) -> the use that zeroes its weight, for layers whose output is exactly 0
        for use in facts.init_uses:
            constant = constant_value(facts, use)
            if constant is None or constant[0] != 0:
                continue
            for target in use.targets:
                layer = target.layer
                if layer is not None and target.is_weight() and layer.kind in (LayerKind.DENSE, LayerKind.CONV):
                    zeroed.setdefault(id(layer), (use, layer))
        zeroed = {key: value for key, value in zeroed.items() if _bias_is_zero(facts, value[1])}
        if not zeroed:
            return
        reported = set()
        for found in scaled_streams(facts, set(zeroed)):
            use, layer = zeroed[id(found.layer)]
            if id(layer) in reported:
                continue
            reported.add(id(layer))
            product = facts.module.code_for_node(found.product).strip()
            label = layer_label(layer)
            yield Report(use.node, {"layer": label, "detail": (
                f"zero weights on {label}, whose output scales the stream in `{product}` with no `1 +`: every "
                f"such block outputs exactly its shift at init and no gradient reaches the layers before it; "
                f"write x * (1 + gamma) + beta (adaLN-zero) or initialise it randomly")}, use.framework.value)


def _bias_is_zero(facts, layer) -> bool:
    """The layer's bias starts at zero or is absent: disabled (``bias=False``, ``use_bias=False``),
    zeroed by an initialiser the code applies, or zero by the framework's default (Keras, Flax)."""
    entry = layer.entry
    if entry.bias is None:
        return True
    for flag in ("bias", "use_bias"):
        if flag in layer.args and facts.value(layer.args[flag]) is False:
            return True
    for use in facts.init_uses:
        if any(t.layer is layer and t.param == entry.bias for t in use.targets):
            constant = constant_value(facts, use)
            return constant is not None and constant[0] == 0
    default = catalogue.initializer(entry.default_bias_init) if entry.default_bias_init else None
    return default is not None and isinstance(default.law, ConstantLaw) and default.law.constant({}) == 0
