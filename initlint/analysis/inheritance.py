"""Which classes' ``method`` runs when an instance calls ``self.method()``: Python's method
resolution order (C3) over the classes a caller describes, with ``super().method()`` followed down it.

The analysis of one file (its own classes, ``analysis.inits``) and the project (classes of every
module, from their summaries: ``project.index``) both ask it, each describing a class by
``facts(cls)``: ``(bases, methods, supers)``, its direct bases (class keys of the caller's own
kind, in order), the names of the methods its body defines, and those of them that call the
same method of the classes after it (``super().init_weights()``); or None for a class whose body is
not known (an installed library's): what such a class defines is not known, so neither is a method
resolved past it. A framework's or the standard library's class is described as defining nothing
(``outside``): ``nn.Module`` defines no project's init method.
"""

from __future__ import annotations

from typing import Callable, Dict, Hashable, List, Optional, Sequence, Tuple

from ..project.summary import NOT_HELPERS

Facts = Tuple[Sequence[Hashable], Sequence[str], Sequence[str]]
MAX_CLASSES = 64  # a linearisation longer than this (or a deeper chain of bases) is not told

_NOTHING: Facts = ((), (), ())


class _Untold(Exception):
    """A cycle among the bases, an order C3 cannot make (Python refuses such a class), or too many."""


def outside(qualname: str) -> Optional[Facts]:
    """The facts of a class outside the project: none defined for a framework's or the standard
    library's (their methods are no project's init methods), None (not known) for any other."""
    return _NOTHING if qualname.split(".", 1)[0] in NOT_HELPERS else None


def linearize(cls: Hashable, facts: Callable[[Hashable], Optional[Facts]]) -> Optional[List[Hashable]]:
    """The method resolution order of ``cls`` (C3, as CPython computes it), a class not known
    standing alone; None where it cannot be told."""
    try:
        return _linearize(cls, facts, {}, set())
    except (_Untold, RecursionError):
        return None


def _linearize(node: Hashable, facts: Callable[[Hashable], Optional[Facts]], memo: Dict[Hashable, List[Hashable]],
               visiting: set) -> List[Hashable]:
    # a module-level function, not a closure that calls itself: that would be a reference cycle
    # holding the file's tree (its classes are the keys) past the check (test_speed_parse)
    known = memo.get(node)
    if known is not None:
        return known
    if node in visiting or len(visiting) > MAX_CLASSES:
        raise _Untold
    found = facts(node)
    bases = list(found[0]) if found is not None else []
    visiting.add(node)
    sequences = [list(_linearize(base, facts, memo, visiting)) for base in bases] + [list(bases)]
    visiting.discard(node)
    order = [node]
    sequences = [s for s in sequences if s]
    while sequences:
        for sequence in sequences:  # the first head that is in no other sequence's tail
            head = sequence[0]
            if not any(head in other[1:] for other in sequences):
                break
        else:
            raise _Untold
        order.append(head)
        if len(order) > MAX_CLASSES:
            raise _Untold
        sequences = [s[1:] if s[0] == head else s for s in sequences]
        sequences = [s for s in sequences if s]
    memo[node] = order
    return order


def runs(cls: Hashable, method: str, facts: Callable[[Hashable], Optional[Facts]]) -> Optional[List[Hashable]]:
    """The classes whose ``method`` runs, in order, when an instance of ``cls`` calls
    ``self.method()``: the first class of its resolution order that defines it, then, while the one
    that runs calls ``super().method()``, the next that defines it. None where that cannot be told
    (a class not known comes before the one that runs, or the order cannot be made); [] where no
    class defines it."""
    order = linearize(cls, facts)
    if order is None:
        return None
    out: List[Hashable] = []
    for node in order:
        found = facts(node)
        if found is None:  # an installed library's class may define it: what runs from here is not known
            return out or None
        _bases, methods, supers = found
        if method in methods:
            out.append(node)
            if method not in supers:
                break
    return out
