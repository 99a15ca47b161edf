"""The input a torch model's forward pass gets: fitted to the model, as training at init would feed it.

A transformers ``PreTrainedModel`` names its input (``main_input_name``): token ids get random ids below the
vocabulary size, images and audio get standard-normal values of the shape the config gives (and an
encoder-decoder its decoder's ids, a text-image model its images too). A plain module whose first weight
layer is an embedding gets token ids; anything else a standard-normal tensor. ``--input-shape`` is the
main input's shape exactly as given.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

TOKENS = (2, 16)  # batch, sequence: 32 tokens, plenty for a std, cheap for any depth
AUDIO_SAMPLES = 16000  # one second at 16 kHz: wav2vec2's feature encoder downsamples it 320×
FEATURE_BATCH = 32


@dataclass
class FittedInput:
    """What the forward pass feeds: the main input's name (None: positional), the tensors, a description."""

    shape: Tuple[int, ...]
    kind: str  # "token ids" or "standard normal"
    main: Optional[str] = None
    kwargs: Dict[str, Any] = field(default_factory=dict)
    high: Optional[int] = None  # token ids are below this
    positional: int = 1  # how many required positional inputs the forward takes (each gets the main input)

    def describe(self) -> str:
        shape = "x".join(str(d) for d in self.shape)
        if self.kind == "token ids":
            return f"random token ids below {self.high} of shape {shape}"
        return f"a standard-normal input of shape {shape}"


def accepts(model, name: str) -> bool:
    try:
        return name in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def first_layer(torch, model):
    """The first leaf module (in registration order) that owns a parameter: the layer the input meets first."""
    for module in model.modules():
        if next(module.children(), None) is None and any(True for _ in module.parameters(recurse=False)):
            return module
    return None


def embedding_size(torch, model) -> Optional[int]:
    """The vocabulary size when the model begins with an embedding (so its input is token ids)."""
    first = first_layer(torch, model)
    if isinstance(first, (torch.nn.Embedding, torch.nn.EmbeddingBag)):
        return int(first.num_embeddings)
    return None


def _vocab(config, torch, model) -> int:
    size = getattr(config, "vocab_size", None)
    if not isinstance(size, int) or size <= 0:
        text = getattr(config, "text_config", None)
        size = getattr(text, "vocab_size", None)
    if not isinstance(size, int) or size <= 0:
        size = embedding_size(torch, model) or 2
    return int(size)


def _image_shape(config, batch: int, adapter, model) -> Optional[Tuple[int, ...]]:
    vision = getattr(config, "vision_config", None) or config
    size = getattr(vision, "image_size", None)
    channels = getattr(vision, "num_channels", None)
    if not channels:
        return None
    size = size if isinstance(size, int) else (size[0] if size else 64)
    patch = getattr(vision, "patch_size", None)
    if isinstance(patch, int) and accepts(model, "interpolate_pos_encoding") and size > 4 * patch:
        # a vision transformer: 4x4 patches (position embeddings interpolated) keep the pass cheap
        adapter.forward_kwargs["interpolate_pos_encoding"] = True
        size = 4 * patch
    return (batch, int(channels), int(size), int(size))


def library_dummy(torch, model, main: str, given) -> Optional[FittedInput]:
    """The model's own ``dummy_inputs`` for an input this module does not know, when they hold it: its
    shape (or ``given``), its dtype (integers: token ids below the largest id it holds, plus one)."""
    try:
        dummy = model.dummy_inputs
    except Exception:  # a property that cannot build them for this config
        return None
    value = dummy.get(main) if isinstance(dummy, dict) else None
    if not isinstance(value, torch.Tensor):
        return None
    shape = given or tuple(int(d) for d in value.shape)
    if value.is_floating_point():
        return FittedInput(tuple(shape), "standard normal", main)
    return FittedInput(tuple(shape), "token ids", main, high=int(value.max()) + 1 if value.numel() else 2)


def transformers_input(torch, adapter, model, given: Optional[Tuple[int, ...]]) -> Optional[FittedInput]:
    """The input of a transformers model, from its ``main_input_name`` and config (None: not one)."""
    config = getattr(model, "config", None)
    main = getattr(model, "main_input_name", None)
    if config is None or not isinstance(main, str) or not accepts(model, main):
        return None
    extra: Dict[str, Tuple[str, Tuple[int, ...]]] = {}
    if main in ("input_ids", "decoder_input_ids"):
        shape, kind = given or TOKENS, "token ids"
        if getattr(config, "is_encoder_decoder", False) and accepts(model, "decoder_input_ids"):
            extra["decoder_input_ids"] = ("token ids", shape)
        if getattr(config, "vision_config", None) is not None and accepts(model, "pixel_values"):
            image = _image_shape(config, shape[0], adapter, model)
            if image is not None:
                extra["pixel_values"] = ("standard normal", image)
    elif main == "pixel_values":
        shape, kind = given or _image_shape(config, 1, adapter, model), "standard normal"
    elif main == "input_features":  # Whisper-like: log-mel frames, as many as its encoder's positions take
        mels = getattr(config, "num_mel_bins", None)
        positions = getattr(config, "max_source_positions", None)
        shape = given or ((1, int(mels), 2 * int(positions)) if mels and positions else None)
        kind = "standard normal"
    elif main == "input_values":  # raw audio
        shape, kind = given or (1, AUDIO_SAMPLES), "standard normal"
    else:
        return library_dummy(torch, model, main, given)
    if shape is None:
        return None
    if getattr(config, "is_encoder_decoder", False) and main != "input_ids" and accepts(model, "decoder_input_ids"):
        extra["decoder_input_ids"] = ("token ids", (shape[0], 4))  # a speech model's decoder: a few tokens
    fitted = FittedInput(tuple(shape), kind, main)
    if kind == "token ids" or any(what == "token ids" for what, _ in extra.values()):
        fitted.high = _vocab(config, torch, model)
    fitted.kwargs.update(extra)
    return fitted


# the names of inputs that one tensor can stand for together: attention's query, key and value (self-
# attention), a transformer's source and target; a mask or lengths cannot, so a forward that requires one fails
# with a note instead of running on nonsense
SAME_SIGNAL = {"query", "key", "value", "src", "tgt", "memory", "x", "input", "inputs", "hidden_states"}


def required_inputs(model) -> int:
    """How many required positional inputs ``model.forward`` takes, when one tensor can stand for them all
    (``SAME_SIGNAL``); else 1."""
    try:
        parameters = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p.name for p in parameters if p.kind in kinds and p.default is inspect.Parameter.empty]
    return len(required) if len(required) > 1 and set(required) <= SAME_SIGNAL else 1


def fitted_input(torch, adapter, model, given: Optional[Tuple[int, ...]]) -> Optional[FittedInput]:
    """The model's input: ``given`` (``--input-shape``) exactly when there is one, else inferred."""
    fitted = transformers_input(torch, adapter, model, given)
    if fitted is not None:
        return fitted
    fitted = plain_input(torch, model, given)
    if fitted is not None:
        fitted.positional = required_inputs(model)
    return fitted


def plain_input(torch, model, given: Optional[Tuple[int, ...]]) -> Optional[FittedInput]:
    """The input of a module that is no transformers model."""
    vocab = embedding_size(torch, model)
    if given is not None:
        return FittedInput(tuple(given), "token ids" if vocab else "standard normal", high=vocab)
    if vocab:
        return FittedInput(TOKENS, "token ids", high=vocab)
    first = first_layer(torch, model)
    if isinstance(first, torch.nn.Linear):
        # 32 samples, not 2: two cannot tell a dead ReLU unit (zero for every input) from an unlucky one
        return FittedInput((FEATURE_BATCH, first.in_features), "standard normal")
    if isinstance(first, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)):
        dims = first.weight.dim() - 2
        return FittedInput((2, first.in_channels) + (32,) * dims, "standard normal")
    if isinstance(first, torch.nn.RNNBase):  # 16 steps of a batch of 2, in the module's own layout
        batch_first = bool(getattr(first, "batch_first", False))
        shape = (2, 16, first.input_size) if batch_first else (16, 2, first.input_size)
        return FittedInput(shape, "standard normal")
    return None


def materialise(torch, fitted: FittedInput, device, seed: int):
    """(positional args, keyword args) of the forward call, drawn from a generator seeded with ``seed``."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)

    def draw(kind, shape):
        if kind == "token ids":
            return torch.randint(0, max(int(fitted.high or 2), 1), shape, generator=generator, device=device)
        return torch.randn(shape, generator=generator, device=device)

    main = draw(fitted.kind, fitted.shape)
    kwargs = {name: draw(kind, shape) for name, (kind, shape) in fitted.kwargs.items()}
    if fitted.main is None:  # one tensor for every required input: attention's query, key and value,
        return (main,) * fitted.positional, kwargs  # nn.Transformer's source and target
    kwargs[fitted.main] = main
    return (), kwargs
