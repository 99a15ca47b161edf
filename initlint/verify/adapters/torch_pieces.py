"""Initialisers that never reach their parameter: written into a piece of it that is a copy, not a view.

``nn.init.normal_(w[0:32])`` fills rows of ``w`` because basic slicing of a tensor is a view of its
storage. Two kinds of indexing return a new tensor instead, and an in-place init on it fills only that
temporary, leaving the parameter with whatever it held before (uninitialised memory after
``to_empty``, zeros, or the layer's default) with no error:

- a DTensor indexed along a sharded dimension (``w[0:32]``, ``narrow``, ``chunk``, ``split`` of a
  ``Shard(0)`` parameter): DTensor gathers the slice into a new replicated tensor (pytorch#139735;
  llm-foundry #1820 initialised the q/k/v blocks of fused FSDP2 weights this way);
- advanced indexing of any tensor (a list, tensor or mask index: ``w[[0, 2]]``, ``w[mask]``), and
  ``reshape`` of a non-contiguous one.

``Pieces`` is told about every view-like call during the build (the recorder's WriteObserver) and
remembers the results that do not share their source's storage, weakly, by object; when a recorded
initialiser then writes one of them, the write is kept as lost for the source (by the source's key).
A later write to the source itself (``w[0:32] = piece``, ``copy_``, another init) clears it.
"""

from __future__ import annotations

import dataclasses
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

# calls that name a part of their first argument: views of it, or copies where a view cannot be had
VIEW_LIKE = frozenset({"__getitem__", "narrow", "chunk", "split", "tensor_split", "unbind", "select", "view",
                       "reshape", "flatten", "unflatten", "view_as", "reshape_as", "t", "transpose", "permute",
                       "movedim", "swapaxes", "squeeze", "unsqueeze", "diagonal", "index_select", "masked_select",
                       "take"})


@dataclasses.dataclass
class LostInit:
    """A recorded initialiser that wrote a copy of part of a tensor: ``decl`` its declaration, ``piece``
    how the copy was taken (``[0:32]``, ``.chunk(3, 0)[1]``), ``dtensor`` whether the source was a DTensor."""

    decl: Any
    piece: str
    dtensor: bool


def _storage(tensor) -> Optional[int]:
    local = getattr(tensor, "_local_tensor", None)  # a DTensor: its local shard's storage
    try:
        return (local if local is not None else tensor).untyped_storage().data_ptr()
    except Exception:  # no storage (meta, lazy): nothing written can be lost
        return None


def _index_text(index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for part in parts:
        if isinstance(part, slice):
            text = f"{'' if part.start is None else part.start}:{'' if part.stop is None else part.stop}"
            out.append(text + (f":{part.step}" if part.step is not None else ""))
        elif part is Ellipsis:
            out.append("...")
        elif part is None:
            out.append("None")
        elif isinstance(part, (int, bool)):
            out.append(repr(part))
        elif isinstance(part, (list, tuple)) and all(isinstance(v, int) for v in part):
            values = list(part)
            out.append(repr(values) if len(values) <= 8 else f"[{values[0]}, {values[1]}, …, {values[-1]}]")
        elif getattr(part, "dtype", None) is not None and str(part.dtype) == "torch.bool":
            out.append("<mask>")
        else:  # a tensor index: its values are not shown
            out.append("<index>")
    return f"[{', '.join(out)}]"


def describe(name: str, args: Sequence[Any], position: Optional[int]) -> str:
    """How a piece was taken, as code: ``[0:32]``, ``.narrow(0, 0, 32)``, ``.chunk(3, 0)[1]``."""
    if name == "__getitem__":
        return _index_text(args[1]) if len(args) > 1 else "[...]"
    shown = ", ".join(repr(a) if isinstance(a, (int, float, str, tuple, list)) else "…" for a in args[1:])
    return f".{name}({shown})" + (f"[{position}]" if position is not None else "")


class Pieces:
    """The copies taken of tensors during a build, and the initialisers that wrote them (see the module
    docstring). ``key`` is the recorder's tensor key (storage address and size)."""

    def __init__(self, torch, key: Callable[[Any], Optional[Tuple[int, int]]]):
        self.torch = torch
        self.key = key
        self._pieces: Dict[int, Tuple[Any, Tuple[int, int], str, bool]] = {}
        self.lost: Dict[Tuple[int, int], List[LostInit]] = {}

    def observed(self, name: str, args: Sequence[Any], result: Any) -> None:
        """A view-like call ``name(*args)`` returned ``result``: remember each part of it that is a copy."""
        try:
            self._observed(name, args, result)
        except Exception:  # observing never breaks the model's own build: this piece is simply not followed
            pass

    def _observed(self, name: str, args: Sequence[Any], result: Any) -> None:
        torch = self.torch
        source = args[0]
        outputs = result if isinstance(result, (tuple, list)) else (result,)
        base = None
        for position, out in enumerate(outputs):
            if not isinstance(out, torch.Tensor) or out is source or out.numel() == 0:
                continue
            if base is None:
                base = _storage(source)
                if base is None:
                    return
            if _storage(out) in (base, None):
                continue  # a view: what is written to it reaches the source
            key = self.key(source)
            if key is None:
                return
            how = describe(name, args, position if len(outputs) > 1 else None)
            dtensor = hasattr(source, "_local_tensor")
            ident = id(out)
            self._pieces[ident] = (weakref.ref(out, lambda _, i=ident: self._pieces.pop(i, None)), key, how, dtensor)

    def wrote(self, tensor, decl) -> bool:
        """A recorded initialiser wrote ``tensor``: kept as lost (True) when it is a copied piece."""
        entry = self._pieces.get(id(tensor))
        if entry is None or entry[0]() is not tensor:
            return False
        _, key, how, dtensor = entry
        self.lost.setdefault(key, []).append(LostInit(decl, how, dtensor))
        return True

    def assignment_lost(self, tensor, index) -> Optional[str]:
        """``tensor[index] = value`` on a DTensor whose index narrows a sharded dimension: DTensor writes
        the gathered copy, not the parameter (seen with torch 2.13 and gloo), so it is lost too. Returns
        the index as code, or None where it reaches (a plain tensor; the sharded dimensions untouched;
        an Ellipsis or None whose dimensions are not worth guessing)."""
        placements = getattr(tensor, "placements", None)
        if placements is None or not hasattr(tensor, "_local_tensor") or not tensor.dim():
            return None
        sharded = {p.dim % tensor.dim() for p in placements
                   if type(p).__name__ in ("Shard", "_StridedShard") and isinstance(getattr(p, "dim", None), int)}
        parts = index if isinstance(index, tuple) else (index,)
        if any(part is Ellipsis or part is None for part in parts):
            return None
        for dim, part in enumerate(parts):
            if dim in sharded and not (isinstance(part, slice) and part == slice(None)):
                return _index_text(index)
        return None

    def assigned(self, key, decl, piece: str) -> None:
        """A lost assignment (``assignment_lost``) to the tensor ``key``."""
        self.lost.setdefault(key, []).append(LostInit(decl, piece, True))

    def reached(self, key) -> None:
        """The tensor ``key`` itself was written: what was lost before may have been written back."""
        if self.lost:
            self.lost.pop(key, None)
