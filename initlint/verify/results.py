"""Plain types of a verification: what each tensor is, what was measured, what was found."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .recording import Declaration, Frame


@dataclass
class TensorInfo:
    """One parameter tensor as an adapter sees it, before any statistics.

    ``fan_in``/``fan_out``/``receptive`` follow the framework's own layout (torch [out, in, k...],
    Keras/Flax [k..., in, out]); ``unit_axis`` is the axis whose slices are the layer's output units.
    ``layer`` is the catalogue's name for the owning layer type (or its class name);
    ``activation`` the activation that follows the layer, as the forward pass showed it."""

    name: str
    shape: Tuple[int, ...]
    dtype: str
    handle: Any  # a stats.TensorHandle
    layer: str = ""
    layer_kind: Optional[str] = None
    role: str = "weight"  # "weight" (>= 2-D), "bias", "scale", "vector"
    fan_in: Optional[float] = None
    fan_out: Optional[float] = None
    receptive: int = 1
    unit_axis: int = 0
    semantic_fan_in: Optional[float] = None  # inputs summed per output (None: not a dense/conv weight)
    declared: Optional[Declaration] = None
    history: Tuple[Declaration, ...] = ()
    is_default: bool = False  # the declared initialiser is the layer type's default
    activation: Optional[str] = None  # catalogue Activation value
    slope: Optional[float] = None
    layer_path: str = ""  # the owning layer's name in the model (links tensors to forward-pass layers)
    last_layer: bool = False  # the model's last weight layer in forward order: nothing after it compounds
    in_block: bool = False  # inside one of the model's repeated blocks (a residual branch): its scale does not compound
    gate: bool = False  # its (hard) sigmoid output multiplies another signal (squeeze-excitation, GLU): a gate
    shard: Any = None  # a DTensor parameter under torchrun: how it is cut (shard_fans.ShardLayout)
    lost: Tuple[Any, ...] = ()  # initialisers that filled a copy of part of it, never it (torch_pieces.LostInit)

    @property
    def numel(self) -> int:
        return int(math.prod(self.shape)) if self.shape else 1

    def stacks(self) -> List[Tuple[Frame, ...]]:
        return [d.stack for d in self.history if d.stack]

    def source(self) -> Optional[Frame]:
        """Where the user's code declared this tensor's initialiser (innermost user frame)."""
        for decl in reversed(self.history):
            if decl.stack and not decl.unknown:
                return decl.stack[0]
        for decl in reversed(self.history):
            if decl.stack:
                return decl.stack[0]
        return None


@dataclass
class Expectation:
    """What the declared initialiser promises: family (normal, truncated_normal, uniform, constant,
    orthogonal, ...), mean and realised std, truncation points in units of the realised std, and,
    where the arguments show an evident intent the realised std misses (a truncated normal whose
    pre-truncation std is a He target), that intended std."""

    family: Optional[str]
    mean: Optional[float]
    std: Optional[float]
    bounds: Optional[Tuple[float, float]] = None  # truncation points, realised-std units about the mean
    constant: Optional[float] = None
    intended_std: Optional[float] = None
    intended_label: str = ""
    kurtosis: Optional[float] = None


@dataclass
class Moments:
    """``n`` values in the tensor; mean and std from ``count`` of them (all, or a random sample of a huge
    tensor); min, max and the non-finite count always from every value."""

    n: int
    mean: float
    std: float
    min: float
    max: float
    finite: bool = True
    nonfinite: int = 0
    count: int = -1

    def __post_init__(self):
        if self.count < 0:
            self.count = self.n


@dataclass
class TensorResult:
    """One tensor's measurements, expectation, verdict and codes."""
    info: TensorInfo
    expect: Optional[Expectation]
    moments: Optional[Moments]
    sample_size: int = 0
    kurtosis: Optional[float] = None
    codes: List[str] = field(default_factory=list)
    verdict: str = "ok"
    notes: List[str] = field(default_factory=list)
    sample: Any = None  # the float64 sample (kept only when a plot is wanted)
    scale_ratio: Optional[float] = None  # std * sqrt(fan_in) / gain, INI605's measure
    target_std: Optional[float] = None
    default_like: bool = False  # no known declaration, and the values hold the layer type's default law
    ranks: Optional[List[Dict[str, Any]]] = None  # under torchrun: each rank's local piece (sharded.AcrossRanks)
    _label: Optional[str] = field(default=None, repr=False)  # the declaration's label, computed once

    @property
    def range_in_std(self) -> Optional[Tuple[float, float]]:
        """Where the values stop, in std units about the mean: about (-2.27, 2.27) for Keras' he_normal."""
        m = self.moments
        if m is None or not m.finite or not m.std or m.n < 2:
            return None
        return (m.min - m.mean) / m.std, (m.max - m.mean) / m.std

    @property
    def ratio(self) -> Optional[float]:
        if self.moments is None or self.expect is None or not self.expect.std:
            return None
        return self.moments.std / self.expect.std


@dataclass
class LayerSignal:
    """One weight layer (or one of a model's repeated blocks) in the forward pass at init."""

    name: str
    std: float
    kind: Optional[str] = None  # the layer kind (dense, conv, embedding, ...; "block": a repeated block's output)
    param: str = ""  # the layer's weight tensor, which findings about the layer name
    activation: Optional[str] = None
    dead_fraction: Optional[float] = None  # ReLU family: units that are zero for every input
    live_fraction: Optional[float] = None  # ReLU family: units that are positive for every input
    units: Optional[int] = None  # ReLU family: how many units the two fractions count
    saturated_fraction: Optional[float] = None  # tanh/sigmoid: outputs within 1% of the asymptote
    group: Optional[str] = None  # a block's container (its ModuleList): each container is one chain in depth
    input_std: Optional[float] = None  # the std of what the layer's weight was applied to (None: not seen)

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "parameter": self.param or None, "std": _finite(self.std),
                "activation": self.activation, "dead_fraction": self.dead_fraction,
                "saturated_fraction": self.saturated_fraction, "group": self.group,
                "input_std": _finite(self.input_std) if self.input_std is not None else None}


def _finite(value: Optional[float]) -> Optional[float]:
    return float(value) if value is not None and math.isfinite(value) else None


CONFIRMS = ("confirmed", "refuted", "not reached", "not measurable")  # and None


@dataclass
class StaticLink:
    """The static finding (``initlint check``'s) that a runtime finding confirms."""

    code: str
    path: str
    line: int
    column: int

    def to_json(self) -> Dict[str, Any]:
        return {"code": self.code, "path": self.path, "line": self.line, "column": self.column}

    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass
class RuntimeFinding:
    """A runtime finding (INI601-INI608), or a static finding with what the numbers say about it.

    ``path``/``line``/``column`` locate it as ``initlint check`` does (a runtime finding: where the user's code
    declared the tensor's initialiser; column 1-based; None when no user code did). ``confirms`` is one of
    ``CONFIRMS`` or None: a static finding's verdict against the numbers, or "confirmed" on a runtime finding
    that confirms a static one, which ``linked`` then names."""

    code: str
    name: str
    parameter: Optional[str]
    message: str
    source: Optional[str] = None  # "path:line:column" (or "path:line"): the three fields below in one string
    confirms: Optional[str] = None
    p_value: Optional[float] = None
    path: Optional[str] = None
    line: Optional[int] = None
    column: Optional[int] = None
    linked: Optional[StaticLink] = None
    ranks: Optional[List[int]] = None  # under torchrun: the ranks the finding concerns

    def to_json(self) -> Dict[str, Any]:
        """The JSON object: the SPEC's keys (code, parameter, message, source, confirms), then the location
        in check's fields, the linked static finding, the rule's name and the p-value; under torchrun the
        ranks it concerns."""
        out = {"code": self.code, "parameter": self.parameter, "message": self.message, "source": self.source,
               "confirms": self.confirms, "path": self.path, "line": self.line, "column": self.column,
               "linked": self.linked.to_json() if self.linked is not None else None, "name": self.name,
               "p_value": _finite(self.p_value)}
        if self.ranks is not None:
            out["ranks"] = list(self.ranks)
        return out

    def text(self) -> str:
        """The text report."""
        where = f"{self.source}: " if self.source else ""
        what = f" [{self.parameter}]" if self.parameter else ""
        tail = f" (confirms {self.linked.code} at {self.linked.where()})" if self.linked is not None else ""
        return f"{where}{self.code}{what} {self.message}{tail}"


@dataclass
class Report:
    """The result of ``initlint.verify``: one entry per parameter tensor, the findings, the forward pass."""

    model: str
    framework: str
    device: str
    tensors: List[TensorResult]
    findings: List[RuntimeFinding]
    static: List[RuntimeFinding] = field(default_factory=list)
    signal: List[LayerSignal] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    input_shape: Optional[Tuple[int, ...]] = None
    seconds: Dict[str, float] = field(default_factory=dict)
    input: Optional[str] = None  # what the forward pass fed, in words ("random token ids below 1000 of shape 2x16")
    distributed: Optional[Dict[str, Any]] = None  # under torchrun: {"world_size", "backend"}

    @property
    def codes(self) -> List[str]:
        """The runtime codes found, sorted and unique."""
        return sorted({f.code for f in self.findings})

    @property
    def exit_code(self) -> int:
        """0 nothing found, 1 findings (as the command exits)."""
        return 1 if self.findings else 0

    def to_json(self) -> Dict[str, Any]:
        from .render import report_json

        return report_json(self)

    def text(self) -> str:
        from .render import report_text

        return report_text(self)
