"""Short, user-facing names for things rules mention in messages."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..catalogue import Framework, Initializer, Layer
from .graph import LayerUse


def short(name: str) -> str:
    """``torch.nn.init.xavier_uniform_`` -> ``xavier_uniform_``; ``keras.initializers.HeNormal`` -> ``HeNormal``."""
    return name.rsplit(".", 1)[-1]


def initializer_label(entry: Optional[Initializer], node: cst.CSTNode) -> str:
    if entry is None:
        return "custom initialiser"
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return repr(node.evaluated_value)
    return short(entry.name)


def layer_label(layer: Optional[LayerUse], entry: Optional[Layer] = None, param: Optional[str] = None) -> str:
    if layer is not None:
        name = short(layer.entry.name)
        label = f"{layer.names[0]} ({name})" if layer.names else name
        return f"{label} in {layer.origin}" if layer.origin else label
    if entry is not None:
        return short(entry.name)
    return f"parameter {param}" if param else "a layer"


FAN_INIT_FIX = {
    Framework.TORCH: "nn.init.kaiming_{dist}_(w, nonlinearity='relu')",
    Framework.KERAS: "'he_{dist}' / keras.initializers.He{Dist}()",
    Framework.JAX: "nn.initializers.he_{dist}()",
    Framework.MXNET: "init.MSRAPrelu() or init.Xavier(rnd_type='gaussian', factor_type='in', magnitude=2)",
}
