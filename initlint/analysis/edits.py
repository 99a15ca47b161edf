"""Building blocks for fixes: small, formatting-preserving node edits."""

from __future__ import annotations

from typing import Iterable, List, Optional, Tuple

import libcst as cst

Imports = Tuple[Tuple[str, Optional[str]], ...]


def renamed_callee(facts, func: cst.BaseExpression, new_name: str) -> Tuple[cst.BaseExpression, Imports]:
    """``nn.init.xavier_uniform_`` -> ``nn.init.kaiming_uniform_``; a bare imported name gets the new
    name imported from the same module (``from torch.nn.init import kaiming_uniform_``)."""
    if isinstance(func, cst.Attribute):
        return func.with_changes(attr=cst.Name(new_name)), ()
    if isinstance(func, cst.Name):
        modules = sorted({q.rsplit(".", 1)[0] for q in facts.names(func) if "." in q})
        if modules:
            return cst.Name(new_name), ((modules[0], new_name),)
    raise ValueError("cannot rename this callee")


def keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value=value, keyword=cst.Name(name),
                   equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                         whitespace_after=cst.SimpleWhitespace("")))


def with_arguments(call: cst.Call, drop: Iterable[str] = (), add: Iterable[cst.Arg] = (),
                   keep_positional: Optional[int] = None) -> cst.Call:
    """``call`` without the keyword arguments in ``drop`` (and positional ones past
    ``keep_positional``), with ``add`` appended."""
    drop = set(drop)
    args: List[cst.Arg] = []
    positional = 0
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in drop:
            continue
        if arg.keyword is None and not arg.star:
            positional += 1
            if keep_positional is not None and positional > keep_positional:
                continue
        args.append(arg)
    args.extend(add)
    fixed = []
    for i, arg in enumerate(args):  # commas: between arguments only, keep the user's spacing style
        last = i == len(args) - 1
        if last:
            fixed.append(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT))
        elif arg.comma is cst.MaybeSentinel.DEFAULT:
            fixed.append(arg.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
        else:
            fixed.append(arg)
    return call.with_changes(args=fixed)


def number(value: float) -> cst.BaseExpression:
    """A literal for ``value`` (negative numbers as unary minus)."""
    text = repr(float(value)) if not float(value).is_integer() else repr(float(value))
    literal = cst.Float(text.lstrip("-"))
    return cst.UnaryOperation(cst.Minus(), literal) if value < 0 else literal


def string(value: str) -> cst.SimpleString:
    return cst.SimpleString(repr(value))
