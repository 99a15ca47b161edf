"""The one small interface every framework adapter implements.

An adapter is constructed with the run's settings and never imports its framework before it is
asked to (``ensure()``): ``owns(obj)`` recognises a model by the module its type comes from, so
probing an object costs no import.
"""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager, Dict, List, Optional, Sequence, Tuple

from ..errors import VerifyError  # noqa: F401  (re-exported: adapters raise it)
from ..recording import Recording
from ..results import LayerSignal, TensorInfo


def type_modules(obj: Any) -> Tuple[str, ...]:
    """The top-level packages of the classes ``obj``'s type derives from."""
    try:
        mro = type(obj).__mro__
    except AttributeError:  # pragma: no cover
        return ()
    return tuple((getattr(cls, "__module__", "") or "").split(".")[0] for cls in mro)


class Adapter:
    """One framework. Subclasses fill in every method; the runner calls them in this order:
    ``ensure`` → ``check_device`` → ``seed_everything`` → ``recorder`` (around import and build) →
    ``prepare`` → ``tensors`` → ``forward``."""

    framework: str = ""  # "torch", "keras", "flax"
    layout: str = ""  # fans() layout
    packages: Tuple[str, ...] = ()  # top-level packages whose objects this adapter owns

    def __init__(self, seed: int = 0, device: str = "cpu", recording: Optional[Recording] = None):
        self.seed = seed
        self.device = device
        self.recording = recording or Recording()
        self.built_under_recording = False  # the model was built while this adapter recorded

    @classmethod
    def owns(cls, obj: Any) -> bool:
        """Whether ``obj``'s type comes from this framework's packages (imports nothing)."""
        return bool(set(type_modules(obj)) & set(cls.packages))

    def ensure(self) -> None:
        """Import the framework (raise VerifyError if it is not installed)."""
        raise NotImplementedError

    def measures_during_forward(self) -> bool:
        """Whether the statistics may run on another thread beside the forward pass: the pass writes no
        measured tensor, and measuring needs no communication the pass could interleave with."""
        return False

    def check_device(self) -> None:
        """Raise VerifyError when ``self.device`` is not available here."""

    def device_context(self) -> ContextManager:
        """Active while the model is built, so that it is built on ``self.device``."""
        return contextlib.nullcontext()

    def seed_everything(self) -> None:
        """Seed the framework's (and Python's, numpy's) generators with ``self.seed``."""
        raise NotImplementedError

    def recorder(self) -> ContextManager:
        """Patches that record declared initialisers while active; everything restored on exit."""
        return contextlib.nullcontext()

    def before_build(self) -> None:
        """Right before the entry is called, under the recording: hook what the model file's imports
        brought (a library's own initialisers)."""

    def is_model(self, obj: Any) -> bool:
        """Whether ``obj`` is a model this adapter can verify."""
        raise NotImplementedError

    def declares_in_prepare(self, obj: Any) -> bool:
        """Whether ``prepare`` runs initialisers (lazy layers, a Flax init), so must run under recording."""
        return True

    def prepare(self, obj: Any, input_shape: Optional[Sequence[int]]) -> Any:
        """The model ready to read (lazy layers materialised, Flax initialised, on the device)."""
        return obj

    def describe(self, model: Any) -> str:
        """A short name of the model for reports."""
        return type(model).__name__

    def tensors(self, model: Any) -> List[TensorInfo]:
        """Every floating-point parameter tensor, with its layer, fans, units axis and declaration."""
        raise NotImplementedError

    def forward(self, model: Any, input_shape: Optional[Sequence[int]],
                tensors: List[TensorInfo]) -> Tuple[List[LayerSignal], List[str], Optional[Tuple[int, ...]]]:
        """Run a standard-normal input through the model with every layer observed. Sets
        ``activation``/``slope`` on the tensors of layers an activation directly follows; returns the
        weight layers' signals in forward order, notes (why it could not run), and the input shape used."""
        return [], [], None

    def device_name(self, model: Any) -> str:
        """Where the model's parameters live (``cpu``, ``cuda:0``)."""
        return self.device


FEATURE_BATCH = 32


def forward_batch(shape: Sequence[int], integer: bool = False) -> Tuple[int, ...]:
    """The input shape with the batch of a (batch, features) input grown to 32 samples: 2 samples cannot
    tell a dead ReLU unit (zero for every input) from an unlucky one. Images, sequences and token ids
    keep theirs: each unit (a channel) is seen at every position already."""
    shape = tuple(int(d) for d in shape)
    if len(shape) != 2 or integer:
        return shape
    return (max(shape[0], FEATURE_BATCH), shape[1])


class BlockCandidates:
    """The repeated blocks of a Keras or Flax model, followed by their outputs in the forward pass (torch has
    its own, ``torch_forward.repeated_blocks``, from its module containers): a layer without weights of its
    own but with layers inside is a block when its parent holds another of its class (``EncoderBlock_0``,
    ``EncoderBlock_1``; a subclassed model's list of blocks), which is known only after the pass."""

    def __init__(self, tensors: Sequence[TensorInfo]):
        self.tensors = tensors
        self.found: Dict[str, Tuple[str, str]] = {}  # block path -> (parent path, class name)

    def signal(self, layer: Any, path: str, output: Any) -> Optional[LayerSignal]:
        """The signal of a candidate block's output (None: no weight inside it, or no array out)."""
        import numpy as np

        inside = path + "/"
        first = next((t for t in self.tensors if t.role == "weight" and t.layer_path.startswith(inside)), None)
        array = output[0] if isinstance(output, (tuple, list)) and output else output
        if first is None or not hasattr(array, "shape"):
            return None
        values = np.asarray(array, dtype=np.float32)
        if values.size < 2:
            return None
        group = path.rsplit("/", 1)[0] if "/" in path else ""
        self.found[path] = (group, type(layer).__name__)
        return LayerSignal(path, float(values.std()), kind="block", param=first.name, group=group)

    def repeated(self, order: List[str]) -> List[str]:
        """``order`` without the candidates that no sibling of their class repeats."""
        siblings: Dict[Tuple[str, str], int] = {}
        for key in self.found.values():
            siblings[key] = siblings.get(key, 0) + 1
        return [p for p in order if p not in self.found or siblings[self.found[p]] >= 2]
