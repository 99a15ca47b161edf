"""The torch forward pass at init, as the first training step would run it.

- **Modes**: normalisation layers with batch statistics (BatchNorm, tracked InstanceNorm) run in training
  mode, as they do on every training batch: in eval mode their running statistics (zeros and ones at init)
  do not normalise, and a healthy network looks as if its signal vanished. Everything else runs in eval
  mode (dropout off). Every module's mode and every buffer the pass may update (running mean and variance,
  the batch counter) are restored afterwards: the user's model is left as it was.
- **What is followed**: every module that owns a weight (a parameter of two or more dimensions), known layer
  type or not. Its signal is the output of the operation that uses the weight (``F.linear``, ``conv*``,
  ``matmul``, ``addmm``, ``embedding``...), seen through a ``TorchFunctionMode``, so a custom module whose
  ``forward`` is ``torch.tanh(F.linear(x, self.w, self.b))`` is followed like ``nn.Linear`` and its
  functional activation found; a module whose weight no such operation uses is followed by its output.
- **Blocks**: the repeated blocks of a model (the children of a ``ModuleList``/``Sequential`` that are all
  of one type with layers inside, e.g. a transformer's layers) are followed by their outputs too: in a
  residual network that is the signal that crosses depth.
"""

from __future__ import annotations

import weakref
from typing import Any, Dict, List, Optional, Tuple

from ...catalogue import Activation, LayerKind
from ..results import LayerSignal, TensorInfo
from .torch_inputs import fitted_input, materialise

SIGNAL_VALUES = 1 << 16
# operations whose output is a weight's layer output: op name -> the layer kind it stands for
WEIGHT_OPS = {
    "linear": "dense", "bilinear": "dense", "matmul": "dense", "__matmul__": "dense", "__rmatmul__": "dense",
    "mm": "dense", "bmm": "dense", "addmm": "dense", "baddbmm": "dense", "einsum": "dense",
    "conv1d": "conv", "conv2d": "conv", "conv3d": "conv", "conv_transpose1d": "conv_transpose",
    "conv_transpose2d": "conv_transpose", "conv_transpose3d": "conv_transpose", "embedding": "embedding",
    "embedding_bag": "embedding",
}
ACTIVATIONS = {
    "relu": Activation.RELU, "relu6": Activation.RELU, "hardtanh": None,
    "leaky_relu": Activation.LEAKY_RELU, "prelu": Activation.LEAKY_RELU, "rrelu": Activation.LEAKY_RELU,
    "tanh": Activation.TANH, "sigmoid": Activation.SIGMOID, "selu": Activation.SELU, "gelu": Activation.GELU,
    "silu": Activation.SILU, "mish": Activation.SILU, "hardswish": Activation.SILU, "elu": Activation.ELU,
    "celu": Activation.ELU, "softmax": Activation.SOFTMAX, "log_softmax": Activation.SOFTMAX,
    "softplus": Activation.SOFTPLUS, "softsign": Activation.SOFTSIGN,
}
# a (hard) sigmoid whose output multiplies another signal is a gate (squeeze-excitation, a GLU), not a layer
# of the signal's path: the scale of the layer before it does not compound with depth
GATES = {"sigmoid", "hardsigmoid", "hard_sigmoid"}
PRODUCTS = {"mul", "__mul__", "__rmul__", "mul_", "__imul__", "multiply"}
TRANSPARENT = {
    "view", "reshape", "flatten", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
    "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "permute", "transpose", "contiguous", "squeeze", "unsqueeze",
    "clone", "pad", "flatten_", "view_as", "reshape_as",
}


def uses_batch_statistics(torch, module, norm_base=None) -> bool:
    """A normalisation layer that normalises by the batch in training and by running statistics in eval.
    ``norm_base``: torch's ``_NormBase``, when the caller looked it up already (once per model, not per module)."""
    norm_base = norm_base or getattr(torch.nn.modules.batchnorm, "_NormBase", None)
    if norm_base is not None and isinstance(module, norm_base):
        return True
    # a library's own batch norm (not a torch subclass) that keeps running statistics the same way
    return "BatchNorm" in type(module).__name__ and isinstance(getattr(module, "running_mean", None), torch.Tensor)


class TrainingModes:
    """Batch-statistics layers in training mode, everything else in eval mode; on exit every module's mode
    and the buffers those layers update are restored (bit for bit)."""

    def __init__(self, torch, model):
        self.torch, self.model = torch, model
        self.modes: List[Tuple[Any, bool]] = []
        self.buffers: List[Tuple[Any, Any]] = []
        self.normalising = 0

    def __enter__(self):
        torch = self.torch
        modules = list(self.model.modules())
        self.modes = [(module, module.training) for module in modules]
        self.model.eval()
        norm_base = getattr(torch.nn.modules.batchnorm, "_NormBase", None)
        for module in modules:
            if uses_batch_statistics(torch, module, norm_base):
                module.training = True
                self.normalising += 1
                for buffer in module.buffers(recurse=False):
                    self.buffers.append((buffer, buffer.detach().clone()))
        return self

    def eval_only(self) -> None:
        """Fall back to eval mode for the normalising layers too (a batch too small for batch statistics)."""
        self.restore_buffers()
        for module in self.model.modules():
            if uses_batch_statistics(self.torch, module):
                module.training = False
        self.normalising = 0

    def restore_buffers(self) -> None:
        with self.torch.no_grad():
            for buffer, saved in self.buffers:
                buffer.copy_(saved)

    def __exit__(self, *exc):
        self.restore_buffers()
        for module, training in self.modes:
            module.training = training
        return False


def weight_owners(torch, model, named=None) -> Dict[int, Tuple[str, Any]]:
    """id(parameter) -> (module name, module) for every weight (a float parameter of 2+ dimensions).
    ``named``: ``list(model.named_modules())``, when the caller has it."""
    owners: Dict[int, Tuple[str, Any]] = {}
    modules = dict(model.named_modules() if named is None else named)
    for name, module in modules.items():
        if type(module).__name__ == "ParametrizationList" and ".parametrizations." in f".{name}":
            # weight_norm and other parametrizations: the weight is computed from these parameters for the
            # module that owns the parametrization (its output is the layer's output)
            owner = name.rsplit(".parametrizations.", 1)[0] if ".parametrizations." in name else ""
            if owner in modules:
                for param in module.parameters():
                    if param.dim() >= 2 and torch.is_floating_point(param):
                        owners.setdefault(id(param), (owner, modules[owner]))
            continue
        if name.endswith(".parametrizations") or ".parametrizations." in name:
            continue
        for param in module.parameters(recurse=False):
            if param.dim() >= 2 and torch.is_floating_point(param) and id(param) not in owners:
                owners[id(param)] = (name, module)
    return owners


def repeated_blocks(model, named=None) -> List[Tuple[str, List[Tuple[str, Any]]]]:
    """(container name, [(block name, block)]) for each ModuleList/Sequential holding two or more blocks of
    one type with layers inside (a transformer's layers, a ResNet stage). ``named``: as for ``weight_owners``."""
    import torch

    chains = []
    for name, module in model.named_modules() if named is None else named:
        if not isinstance(module, (torch.nn.ModuleList, torch.nn.Sequential)):
            continue
        children = list(module.named_children())
        counts: Dict[type, int] = {}
        for _, child in children:
            counts[type(child)] = counts.get(type(child), 0) + 1
        # the children of a type that repeats (a stem or a head beside them is no block)
        blocks = [(child_name, child) for child_name, child in children if counts[type(child)] >= 2
                  and next(child.children(), None) is not None and next(child.parameters(), None) is not None]
        if blocks:
            chains.append((name, [(f"{name}.{child_name}" if name else child_name, child)
                                  for child_name, child in blocks]))
    return chains


def first_tensor(torch, output):
    """The main tensor of a module's output: itself, a tuple's first, a ModelOutput's / dict's first value."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output:
        return first_tensor(torch, output[0])
    if isinstance(output, dict) and output:
        return first_tensor(torch, next(iter(output.values())))
    return None


def output_std(torch, tensor) -> Optional[float]:
    if tensor is None or not tensor.is_floating_point() or tensor.numel() == 0:
        return None
    flat = tensor.detach().reshape(-1)
    if flat.numel() > SIGNAL_VALUES:  # a strided view, no copy: plenty for a std
        flat = flat[:: flat.numel() // SIGNAL_VALUES]
    return float(flat.float().std(correction=0)) if flat.numel() > 1 else 0.0


# a weight seen through one of these is still the weight (``x @ self.weight.t()``)
WEIGHT_VIEWS = {"t", "transpose", "permute", "view", "reshape", "contiguous", "to", "float", "half", "bfloat16",
                "type_as", "__get__", "squeeze", "unsqueeze", "flatten", "expand", "expand_as"}


def _tensors_in(torch, args, kwargs):
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, torch.Tensor):
            yield value
        elif isinstance(value, (list, tuple)):  # einsum's operands
            for item in value:
                if isinstance(item, torch.Tensor):
                    yield item


def run_forward(adapter, model, input_shape, tensors: List[TensorInfo], layer_entry):
    """The forward pass: (signals in forward order, notes, input shape used). ``layer_entry(module)`` is the
    catalogue's entry for a module's type (or None)."""
    torch = adapter.torch
    given = tuple(int(d) for d in input_shape) if input_shape else None
    fitted = fitted_input(torch, adapter, model, given)
    adapter.input_description = None
    if fitted is None:
        return [], ["no forward pass (INI606): the input shape cannot be inferred; pass --input-shape"], None
    by_layer: Dict[str, List[TensorInfo]] = {}
    first_weights: Dict[str, str] = {}  # a module's name -> the first weight below it, in the model's order
    for info in tensors:
        by_layer.setdefault(info.layer_path, []).append(info)
        if info.role == "weight":
            parts = info.name.split(".")
            for end in range(1, len(parts)):
                first_weights.setdefault(".".join(parts[:end]), info.name)
    entries: Dict[type, Any] = {}

    def entry_of(module):
        """``layer_entry``, once per module type (the catalogue is asked by the type's classes)."""
        kind = type(module)
        if kind not in entries:
            entries[kind] = layer_entry(module)
        return entries[kind]

    named = list(model.named_modules())
    owners = weight_owners(torch, model, named)
    kinds: Dict[str, str] = {}
    for _, (name, module) in owners.items():
        entry = entry_of(module)
        if entry is not None and entry.kind is LayerKind.NORM:
            continue
        kinds[name] = entry.kind.value if entry is not None else ""
    signals: Dict[str, LayerSignal] = {}
    order: List[str] = []
    labels: Dict[int, Tuple[Any, str]] = {}  # id(tensor) -> (weakref, layer name)
    activations: Dict[str, Tuple[Activation, Optional[float]]] = {}
    gate_outputs: Dict[int, Tuple[Any, str]] = {}  # id(a sigmoid's output) -> (weakref, the layer it gates)
    gating: set = set()  # layers whose sigmoid output multiplies another signal

    def weight_name(name: str) -> str:
        own = next((t.name for t in by_layer.get(name, ()) if t.role == "weight"), None)
        if own is None:  # a parametrized module: its weight lives in its parametrizations
            own = first_weights.get(name, name)
        return own

    def label(tensor, name):
        try:
            labels[id(tensor)] = (weakref.ref(tensor), name)
        except TypeError:  # pragma: no cover
            pass

    def label_of(tensor) -> Optional[str]:
        hit = labels.get(id(tensor))
        if hit is not None and hit[0]() is tensor:
            return hit[1]
        return None

    views: Dict[int, Tuple[Any, str]] = {}  # id(a view of a weight) -> (weakref, its owner's name)

    def owner_of(tensor) -> Optional[str]:
        """The layer whose weight ``tensor`` is (or is a view of)."""
        if isinstance(tensor, torch.nn.Parameter):
            owner = owners.get(id(tensor))
            return owner[0] if owner is not None and owner[0] in kinds else None
        hit = views.get(id(tensor))
        return hit[1] if hit is not None and hit[0]() is tensor else None

    stds: Dict[int, Tuple[Any, int, Optional[float]]] = {}  # id(tensor) -> (weakref, its version, its std)

    C = torch._C

    def std_of(tensor) -> Optional[float]:
        """``output_std``, once per tensor and version: a block's output is the next layer's input (in
        ResNet-50 a third of the stds asked for), and the same values give the same std. Off the mode stack
        when the observer is on top (a hook runs inside the model's forward): initlint's own reading of an
        output is no operation of the model's, and the observer would be handed each of its calls."""
        if tensor is None:
            return None
        depth = C._len_torch_function_stack()
        if not depth or C._get_function_stack_at(depth - 1) is not observer:
            return measured_std(tensor)
        C._pop_torch_function_stack()
        try:
            return measured_std(tensor)
        finally:
            C._push_on_torch_function_stack(observer)

    def measured_std(tensor) -> Optional[float]:
        try:
            key, version = id(tensor), tensor._version
            ref = weakref.ref(tensor)
        except (RuntimeError, TypeError, AttributeError):  # an inference tensor has no version counter
            return output_std(torch, tensor)
        hit = stds.get(key)
        if hit is not None and hit[0]() is tensor and hit[1] == version:
            return hit[2]
        std = output_std(torch, tensor)
        stds[key] = (ref, version, std)
        return std

    def record(name: str, tensor, kind: str) -> None:
        if name in signals:
            return
        std = std_of(tensor)
        if std is None:
            return
        shown = name or f"({type(model).__name__})"  # the model's own parameters: no path to show
        signals[name] = LayerSignal(shown, std, kind=kinds.get(name) or kind, param=weight_name(name))
        order.append(name)

    def layer_hook(module, inputs, output):
        name = module_names.get(id(module))
        tensor = first_tensor(torch, output)
        if name is None or tensor is None:
            return
        record(name, tensor, "module")
        label(tensor, name)

    block_group: Dict[str, str] = {}

    def block_hook(module, inputs, output):
        name = module_names.get(id(module))
        if name is None or name in signals:
            return
        std = std_of(first_tensor(torch, output))
        if std is None:
            return
        first_weight = first_weights.get(name, name)
        signals[name] = LayerSignal(name, std, kind="block", param=first_weight, group=block_group[name])
        order.append(name)

    class Observer(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            result = func(*args, **kwargs)
            try:
                observe(func, args, kwargs, result)
            except Exception:  # observation never breaks the model's own forward pass
                pass
            return result

    def observe(func, args, kwargs, result):
        if not isinstance(result, torch.Tensor):
            return
        name = getattr(func, "__name__", "")
        if name in WEIGHT_OPS:
            operands = list(_tensors_in(torch, args, kwargs))
            for tensor in operands:
                owner = owner_of(tensor)
                if owner is not None:
                    fresh = owner not in signals
                    record(owner, result, WEIGHT_OPS[name])
                    label(result, owner)
                    data = next((t for t in operands if t is not tensor and owner_of(t) is None), None)
                    if fresh and owner in signals and data is not None and data.is_floating_point():
                        signals[owner].input_std = std_of(data)
                    return
        if name in WEIGHT_VIEWS and args and isinstance(args[0], torch.Tensor):
            owner = owner_of(args[0])
            if owner is not None:
                try:
                    views[id(result)] = (weakref.ref(result), owner)
                except TypeError:  # pragma: no cover
                    pass
                return
        base = name[:-1] if name.endswith("_") and not name.startswith("_") else name
        if name in PRODUCTS:
            gated(list(_tensors_in(torch, args, kwargs)))
        source = args[0] if args and isinstance(args[0], torch.Tensor) else None
        origin = label_of(source) if source is not None else None
        if origin is None:
            return
        if base in GATES:
            try:
                gate_outputs[id(result)] = (weakref.ref(result), origin)
            except TypeError:  # pragma: no cover
                pass
        if base in ACTIVATIONS:
            act = ACTIVATIONS[base]
            if act is not None and origin not in activations:
                slope = None
                if act is Activation.LEAKY_RELU:
                    if base == "leaky_relu":
                        slope = kwargs.get("negative_slope", args[1] if len(args) > 1 else 0.01)
                    elif base == "prelu" and len(args) > 1:
                        slope = float(args[1].detach().float().mean())
                    else:
                        slope = (1 / 8 + 1 / 3) / 2
                activations[origin] = (act, float(slope) if slope is not None else None)
                effect(signals.get(origin), act, result)
        elif base in TRANSPARENT:
            label(result, origin)

    def gated(operands) -> None:
        """A product of a layer's sigmoid output with a signal other than that layer's own output (which
        would make it x·sigmoid(x), an activation): the layer is a gate."""
        for operand in operands:
            hit = gate_outputs.get(id(operand))
            if hit is None or hit[0]() is not operand:
                continue
            if any(other is not operand and other.dim() > 0 and label_of(other) != hit[1] for other in operands):
                gating.add(hit[1])

    def effect(signal, act, result):
        if signal is None or result.numel() == 0:
            return
        r = result.detach().float()
        if act is Activation.RELU:
            axis = 1 if signal.kind in ("conv", "conv_transpose") and r.dim() >= 3 else r.dim() - 1
            positive = (r > 0).movedim(axis, 0).reshape(r.shape[axis], -1)
            signal.dead_fraction = float(1.0 - positive.any(dim=1).float().mean())
            signal.live_fraction = float(positive.all(dim=1).float().mean())
            signal.units = int(positive.shape[0])
        elif act in (Activation.TANH, Activation.SIGMOID):
            magnitude = r.abs() if act is Activation.TANH else (2 * r - 1).abs()
            signal.saturated_fraction = float((magnitude > 0.99).float().mean())
        signal.activation = act.value

    module_names: Dict[int, str] = {}
    handles = []
    for name, module in named:
        # a layer is followed by its output when no weight operation shows it: a known layer or a leaf; a
        # custom module with layers inside (a ViT's root holding its position embeddings) is not one layer
        if name in kinds and (entry_of(module) is not None or next(module.children(), None) is None):
            module_names[id(module)] = name
            handles.append(module.register_forward_hook(layer_hook))
    for group, blocks in repeated_blocks(model, named):
        for name, block in blocks:
            if name in kinds:  # a block that is itself one layer is followed as a layer
                continue
            module_names[id(block)] = name
            block_group[name] = group
            handles.append(block.register_forward_hook(block_hook))
    device = next((p.device for p in model.parameters()), torch.device(adapter.device))
    args, kwargs = materialise(torch, fitted, device, adapter.seed)
    kwargs.update(adapter.forward_kwargs)
    notes: List[str] = []
    observer = Observer()
    try:
        with TrainingModes(torch, model) as modes, torch.no_grad():
            try:
                with observer:
                    model(*args, **kwargs)
            except Exception as exc:
                # batch statistics need more than one value per channel (or a library's norm layer refused
                # training mode): retry with the running statistics, and say so
                if not modes.normalising:
                    raise
                signals.clear(), order.clear(), activations.clear(), labels.clear(), views.clear()
                gate_outputs.clear(), gating.clear(), stds.clear()
                modes.eval_only()
                if "more than 1 value" in str(exc):
                    notes.append("the batch is too small for batch statistics (one value per channel): the "
                                 "normalisation layers used their running statistics; pass a larger --input-shape")
                else:
                    notes.append(f"with batch statistics the model raised {type(exc).__name__}: {exc}; the "
                                 f"normalisation layers used their running statistics")
                with observer:
                    model(*args, **kwargs)
    except Exception as exc:  # the model's own forward failed: report, never crash
        notes.append(f"no forward pass (INI606): the model raised {type(exc).__name__}: {exc} on "
                     f"{fitted.describe()}; pass --input-shape")
        order = []
    finally:
        for handle in handles:
            handle.remove()
    for name, (act, slope) in activations.items():
        for info in by_layer.get(name, ()):
            info.activation, info.slope = act.value, slope
    for name in gating:
        for info in by_layer.get(name, ()):
            info.gate = True
    adapter.input_description = fitted.describe()
    return [signals[name] for name in order], notes, tuple(fitted.shape)
