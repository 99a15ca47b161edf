"""How a declared initialiser reads in a report, a table cell and a plot: the call a person would write, never
initlint's internals (the catalogue's private names for a layer's built-in law, placeholder arguments)."""

from __future__ import annotations

from typing import Optional

from .recording import Declaration

# the catalogue's private names for the laws a layer's reset_parameters draws from, as the law reads
BUILT_IN = {
    "_default_bias": "U(±1/√fan_in)",
    "_bilinear_default": "U(±1/√in1_features)",
}


def readable(decl: Optional[Declaration], empty: str = "-") -> str:
    """``kaiming_normal_(mode='fan_out')``, ``default U(±1/√fan_in)``, ``unknown``; ``empty`` for None."""
    if decl is None:
        return empty
    short = decl.name.rsplit(".", 1)[-1]
    if short in BUILT_IN:
        text = BUILT_IN[short]
        if decl.scale != 1.0:
            text += f"×{decl.scale:.4g}"
        if decl.shift:
            text += f"{decl.shift:+.4g}"
        if decl.modified:
            text += " then modified"
        return ("default " if decl.assumed else "") + text
    text = decl.label()
    # a placeholder argument (the tensor an assumed default was bound with) is no argument anyone wrote
    for placeholder in ("tensor='<tensor>', ", ", tensor='<tensor>'", "tensor='<tensor>'"):
        text = text.replace(placeholder, "")
    return text
