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
    """One weight layer in the forward pass on a standard-normal input."""

    name: str
    std: float
    kind: Optional[str] = None  # the layer kind (dense, conv, embedding, ...)
    param: str = ""  # the layer's weight tensor, which findings about the layer name
    activation: Optional[str] = None
    dead_fraction: Optional[float] = None  # ReLU family: units that are zero for every input
    saturated_fraction: Optional[float] = None  # tanh/sigmoid: outputs within 1% of the asymptote


@dataclass
class RuntimeFinding:
    """A runtime finding (INI601-INI608), or a static finding with what the numbers say about it.

    The JSON object has exactly the SPEC's keys: code, parameter, message, source, confirms. For a
    runtime code ``confirms`` names the static finding it confirms (``"INI101 model.py:26"``) or is
    null; for a static code it is ``"confirmed"``, ``"refuted"``, ``"not reached"`` or
    ``"not measurable"``."""

    code: str
    name: str
    parameter: Optional[str]
    message: str
    source: Optional[str] = None
    confirms: Optional[str] = None
    p_value: Optional[float] = None

    def to_json(self) -> Dict[str, Any]:
        """The SPEC's JSON object."""
        return {"code": self.code, "parameter": self.parameter, "message": self.message,
                "source": self.source, "confirms": self.confirms}

    def text(self) -> str:
        """The text report."""
        where = f"{self.source}: " if self.source else ""
        what = f" [{self.parameter}]" if self.parameter else ""
        tail = f" ({self.confirms})" if self.confirms else ""
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
