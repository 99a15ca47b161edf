"""Does the file re-initialise its modules after building them?

Cloned modules (``copy.deepcopy`` in a loop, ``nn.TransformerEncoder(layer, N)``) start identical
unless something draws fresh weights for every copy afterwards. The code shows that in a few ways,
and any one of them is taken as enough (a finding about clones is then withheld):

* an initialiser applied in a loop over ``parameters()``/``named_parameters()`` or over
  ``modules()``/``named_modules()``/``children()`` (the Annotated Transformer's
  ``for p in model.parameters(): if p.dim() > 1: nn.init.xavier_uniform_(p)``);
* ``x.apply(fn)`` or timm's ``named_apply(fn, x)``: a function run on every submodule;
* a call of ``post_init()`` (transformers), ``reset_parameters()``/``_reset_parameters()`` (torch's
  own ``nn.Transformer``);
* a call of an init-named method (``init_weights``, ``_initialize_weights``...) that this file
  does not define: it lives in a base class or another file and cannot be read, so it is assumed
  to reach everything. One the file defines is judged by its body, through the first two points.
"""

from __future__ import annotations

import re

import libcst as cst

from .traversal import final_name

_ITERATORS = frozenset({"parameters", "named_parameters", "modules", "named_modules", "children",
                        "named_children"})
_REINIT_CALLS = frozenset({"post_init", "reset_parameters", "_reset_parameters", "named_apply"})
_INIT_NAMED = re.compile(r"(init|initiali[sz]e|reset)_?(weights?|params?|parameters|modules?)|weights?_?init|^_?reinit",
                         re.IGNORECASE)


def _iterates_everything(loop) -> bool:
    iterable = getattr(loop, "iter", None)
    if iterable is None and isinstance(loop, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
        iterable = loop.for_in.iter
    return isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute) \
        and iterable.func.attr.value in _ITERATORS


def reinitialises_modules(facts) -> bool:
    """Whether the code shows some re-initialisation that reaches every module (see the module
    docstring); computed once per file."""
    known = getattr(facts, "_reinitialises_modules", None)
    if known is None:
        known = _reinitialises(facts)
        facts._reinitialises_modules = known
    return known


def _reinitialises(facts) -> bool:
    defined = {node.name.value for node, _ in facts.collected.functions}
    for site in facts.collected.calls:
        call = site.node
        name = final_name(call.func)
        if name is None:
            continue
        if name == "apply" and len(call.args) == 1 and isinstance(call.func, cst.Attribute):
            return True
        if name in _REINIT_CALLS:
            return True
        if _INIT_NAMED.search(name) and name not in defined:
            return True
    for use in facts.init_uses:
        if use.via != "inplace":
            continue
        site = facts.inits.site_of(use)
        if site is not None and any(_iterates_everything(loop) for loop in site.loops):
            return True
    return False
