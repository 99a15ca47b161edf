"""Parameters the code multiplies its signal by (``x @ w``, ``jnp.dot(x, w)``, ``x * scale``): a
zero there stops the signal and the gradient to the layers before, where a zero that is *added*
(a bias, a position embedding) is harmless."""

from __future__ import annotations

from typing import Set

import libcst as cst

from .traversal import final_name, walk

# products of the signal with a parameter, by the callee's last name (jnp/torch/tf/lax spellings)
_PRODUCT_CALLS = frozenset({"dot", "matmul", "einsum", "tensordot", "dot_general", "matvec", "mm", "bmm", "linear",
                            "conv", "conv1d", "conv2d", "conv3d", "conv_general_dilated", "conv_transpose",
                            "multiply", "mul"})
# what leads from a stored parameter to the array it holds: nnx's ``.value``, a view, an index
_THROUGH = ("value", "data", "T", "mT")


def _stored_name(node: cst.BaseExpression) -> str:
    """``self.w`` / ``w`` / ``self.w.value`` / ``self.w["Array"]`` / ``w.T`` -> ``w`` ('' else)."""
    while True:
        if isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Attribute) and node.attr.value in _THROUGH:
            node = node.value
        else:
            break
    return final_name(node) or ""


def multiplied_names(facts) -> Set[str]:
    """Names (attribute or variable) of what the file multiplies as an operand of ``@``, ``*``, or
    a product call (``jnp.dot``, ``jnp.einsum``, ``lax.conv_general_dilated``, ``tf.matmul``)."""
    out: Set[str] = set()
    for node in walk(facts.module):
        operands = ()
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.MatrixMultiply, cst.Multiply)):
            operands = (node.left, node.right)
        elif isinstance(node, cst.Call) and final_name(node.func) in _PRODUCT_CALLS:
            operands = tuple(arg.value for arg in node.args)
        out.update(name for name in map(_stored_name, operands) if name)
    return out
