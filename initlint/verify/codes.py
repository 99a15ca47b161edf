'''The runtime codes INI601-INI607 that ``initlint verify`` reports, documented like the static rules.

A runtime code is not a ``Rule`` (it reads no source), but it has the same face: a code, a kebab-case
name for the bad pattern, and a docstring in ruff's sections, from which ``rules.md`` and
``initlint rules INI601`` are generated. Each *Example* defines a ``build_model()`` that verify flags
with the code, each *Use instead* one it does not (``tests/test_verify_docs.py`` runs them).
'''

from __future__ import annotations

import inspect
import re
from typing import ClassVar, Optional, Tuple


class RuntimeCode:
    """A runtime code: the face of a static rule (code, name, docs) without its ``check``."""
    code: ClassVar[str]
    name: ClassVar[str]
    frameworks: ClassVar[Tuple[str, ...]] = ("torch", "keras", "jax")
    default_enabled: ClassVar[bool] = True
    runtime: ClassVar[bool] = True

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def doc_section(cls, title: str) -> str:
        match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", cls.doc(), re.M | re.S)
        return match.group(1).strip() if match else ""

    @classmethod
    def doc_code(cls, title: str) -> str:
        match = re.search(r"```python\n(.*?)```", cls.doc_section(title), re.S)
        return match.group(1) if match else ""


class StdDiffersFromDeclared(RuntimeCode):
    """
    ## What it does
    Flags a parameter tensor whose measured std (or mean) differs from what its declared initialiser
    promises, or from the variance-scaling target its arguments evidently meant.

    The promise is computed from the shared catalogue for the tensor's fans in the framework's own
    layout (torch `[out, in, k...]`, Keras `[k..., in, out]`, Flax `[in, out]`): `kaiming_normal_`
    gives `sqrt(2/fan_in)`, Keras `HeNormal` the same after its truncation correction, `nn.Linear`'s
    default `1/sqrt(3*fan_in)`. A truncated normal whose std argument is a variance-scaling target
    (`truncated_normal(stddev=sqrt(2/fan_in))`) takes that std before the cut at ±2σ, so its weights
    come out 0.8796× the He std the code evidently meant: that is reported too.

    The scale is tested through the variance (a chi-square test, or a z-test on the log-variance
    whose standard error includes the family's kurtosis), which sees a 0.88× std with a few hundred
    values where a Kolmogorov-Smirnov test would need thousands; all tests of a model are corrected
    together (Holm, or Benjamini-Hochberg with `--correction bh`). A std within 5% of the promise is
    never reported, and a tensor with fewer than 30 values is "too few values to tell".

    Two cases are facts of the recording rather than tests. An initialiser that filled a copy of part
    of the parameter, not a view (`nn.init.normal_(w[rows])` with a list of rows; under torchrun a
    DTensor sliced along a sharded dimension, which gathers the slice into a new tensor, as in
    llm-foundry #1820) never reached it: the finding names each such call and what the parameter
    holds instead. And under torchrun, a DTensor parameter initialised on each rank's local shard
    from the shard's own fans (`kaiming_normal_(w.to_local())`, or a std computed from
    `to_local().shape`) has a full-tensor std that depends on the world size: the finding names the
    fan the shard used, the full tensor's, and the number of ranks.

    ## Why is this bad?
    The numbers the model starts from are not the ones its code says. Either the initialiser does
    something other than what its arguments suggest (the std of a truncated normal, fans read from
    other axes), or something changed the weights after initialisation (a scaling, a copy, a mask).
    A 0.88× std under ReLU compounds: after 24 layers the signal is 0.88^24 ≈ 0.05 of its size.

    ## Example
    ```python
    import math
    import torch
    from torch import nn


    def build_model():
        conv = nn.Conv2d(64, 64, 3)
        fan_in = 64 * 3 * 3
        std = math.sqrt(2.0 / fan_in)
        # timm's TF-style cut at ±2 std: std is taken before truncation
        nn.init.trunc_normal_(conv.weight, std=std, a=-2 * std, b=2 * std)
        return nn.Sequential(conv, nn.ReLU())
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn


    def build_model():
        conv = nn.Conv2d(64, 64, 3)
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        return nn.Sequential(conv, nn.ReLU())
    ```

    ## Known problems
    A tensor changed after initialisation by an operation verify records (`w.mul_(0.5)`, `w *= 0.5`
    with a number) keeps a known expectation; one changed by a tensor operation (a mask, `copy_`)
    has none and is not tested against its initialiser.

    ## Frameworks
    PyTorch, Keras (tf.keras / Keras 3, TensorFlow's initialiser classes), Flax (linen).
    """

    code = "INI601"
    name = "std-differs-from-declared"


class DistributionDiffersFromDeclared(RuntimeCode):
    """
    ## What it does
    Flags a tensor whose values do not have the shape of the family its initialiser declares (normal,
    truncated normal with its cut points, or uniform).

    Three tests: a Kolmogorov-Smirnov test of the standardised values (so it judges the shape, never the scale),
    the excess kurtosis (normal 0, normal cut at ±2σ −0.634, uniform −1.2), and the extreme values
    against the declared cut, which no sample from the declared law can pass.

    ## Why is this bad?
    A different family is a different initialiser than the one the code names: the tails decide how
    many units start saturated or dead. Values beyond the declared cut mean the weights were
    overwritten or rescaled after initialisation.

    ## Example
    ```python
    import torch
    from torch import nn


    def build_model():
        layer = nn.Linear(256, 256)
        nn.init.normal_(layer.weight, std=0.05)
        with torch.no_grad():
            layer.weight.clamp_(-0.05, 0.05)  # silently truncates at ±1σ
        return layer
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn


    def build_model():
        layer = nn.Linear(256, 256)
        nn.init.trunc_normal_(layer.weight, std=0.05, a=-0.1, b=0.1)
        return layer
    ```

    ## Frameworks
    PyTorch, Keras, Flax.
    """

    code = "INI602"
    name = "distribution-differs-from-declared"


class IdenticalUnits(RuntimeCode):
    """
    ## What it does
    Flags a weight tensor (2 or more dimensions) whose output units are identical: a non-zero
    constant or duplicated rows or filters.

    A constant comes from `constant_(w, 1)`, Keras `Constant(42)` or Flax `constant(1)`; duplicates
    from a custom initialiser or an edit after it. Units are read along the framework's output axis
    (rows of a torch `Linear`, the last
    axis of a Keras or Flax kernel, the embedding dimensions of an embedding table).

    Zero weights are never reported here (a zero classifier head, LoRA's B matrix or a gate are
    deliberate); a zero hidden layer shows up in the forward pass instead (INI606). Biases, norm
    scales of ones and zero-initialised residual gammas are vectors and are never reported.

    ## Why is this bad?
    Units with identical incoming weights compute the same function and receive the same gradient:
    they stay identical for the whole training run, and the layer has the capacity of one unit.

    ## Example
    ```python
    from torch import nn


    def build_model():
        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        nn.init.constant_(net[0].weight, 1.0)
        return net
    ```

    ## Use instead
    ```python
    from torch import nn


    def build_model():
        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        nn.init.kaiming_normal_(net[0].weight, nonlinearity="relu")
        return net
    ```

    ## Frameworks
    PyTorch, Keras, Flax.
    """

    code = "INI603"
    name = "identical-units"


class IdenticalTensors(RuntimeCode):
    """
    ## What it does
    Flags a weight tensor whose values are exactly those of another weight tensor of the model.

    It is the trace of one seeded Keras initialiser instance passed to several layers, or of a JAX
    PRNG key used twice. Constant tensors and structured ones (an identity, a few distinct values) are identical by
    design and are not reported; a parameter shared on purpose (tied weights) is one tensor, not two.

    ## Why is this bad?
    Two layers that start as copies waste capacity and can keep a symmetry the optimiser must break
    first; with shared keys in JAX, supposedly independent noise is the same noise.

    ## Example
    ```python
    import jax
    import flax.linen as nn


    class Model(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Dense(32, name="a")(x))
            return nn.Dense(32, name="b")(x)


    def build_model():
        model = Model()
        variables = model.init(jax.random.PRNGKey(0), jax.numpy.ones((1, 32)))
        params = dict(variables["params"])
        params["b"] = params["a"]  # the same key used twice has this effect
        return model, {"params": params}
    ```

    ## Use instead
    ```python
    import jax
    import flax.linen as nn


    class Model(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Dense(32, name="a")(x))
            return nn.Dense(32, name="b")(x)


    def build_model():
        model = Model()
        return model, model.init(jax.random.PRNGKey(0), jax.numpy.ones((1, 32)))
    ```

    ## Frameworks
    PyTorch, Keras, Flax.
    """

    code = "INI604"
    name = "identical-tensors"


class ScaleOffActivationTarget(RuntimeCode):
    """
    ## What it does
    Flags a dense or convolutional weight whose `std * sqrt(fan_in)` is far from the gain of the
    scale-sensitive activation (ReLU family, tanh, sigmoid, SELU) the forward pass shows directly after it.

    The gains are PyTorch's `calculate_gain` values: ReLU √2, LeakyReLU √(2/(1+slope²)),
    tanh 5/3 (any gain from 1, LeCun and Glorot's choice, up to 5/3 is accepted), sigmoid 1, SELU 1
    (LeCun normal). A std within ±25% of the target passes. When the declared initialiser chose
    `mode='fan_out'`, fan_out is used instead (He et al.'s backward-pass variant).

    The declared std is used wherever the tensor holds it (it is exact, so a small layer gets a
    verdict too), the measured one otherwise, with a one-sided test. A framework's default
    initialiser (`nn.Linear`'s `kaiming_uniform_(a=√5)`, Keras' `glorot_uniform`, Flax's
    `lecun_normal`) is judged only with `--strict`, as the static INI204 is off by default; so is
    an installed library's own choice (transformers' `_init_weights`, a `keras.applications`
    model's initialisers), which is the model's default for whoever builds it: an initialiser the
    user's code calls or passes (a library's helper such as `transformers.initialization.normal_`
    included) is judged. The model's last weight layer in forward order (a classifier head, BERT's
    pooler) is not judged: its scale does not compound through later layers, and a small head is
    often chosen on purpose. Nor is a gate: a layer whose sigmoid (or hard sigmoid) output
    multiplies another signal (squeeze-excitation, a GLU) scales the signal rather than carrying it;
    `x * sigmoid(x)` on the layer's own output is an activation, still judged (gates are recognised
    in PyTorch and Keras models; a library's choice in PyTorch and Keras).

    ## Why is this bad?
    Each such layer multiplies the variance of the signal by `(std·sqrt(fan_in)/gain)²`: Xavier under
    ReLU halves it at every layer, so a deep network starts with a vanishing signal and gradient.

    ## Example
    ```python
    from torch import nn


    def build_model():
        net = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
        nn.init.xavier_uniform_(net[0].weight)
        return net
    ```

    ## Use instead
    ```python
    from torch import nn


    def build_model():
        net = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
        nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")
        return net
    ```

    ## Options
    `--strict` (API: `strict=True`) also judges framework and library defaults (a layer type's
    default, an initialiser the framework's or a library's own code applies) and the layers inside a
    model's repeated blocks (a
    transformer's feed-forward is a residual branch: its scale does not compound with depth; INI606
    judges the blocks' outputs).

    ## Frameworks
    PyTorch, Keras, Flax.
    """

    code = "INI605"
    name = "scale-off-activation-target"


class SignalExplodesOrVanishes(RuntimeCode):
    """
    ## What it does
    Flags a forward pass whose signal grows or shrinks geometrically with depth, stops at a constant
    layer, or leaves most ReLU units dead.

    The model runs once as the first training step would run it: normalisation layers with batch
    statistics (BatchNorm in torch, Keras and Flax) normalise by the batch, dropout is off, and every
    module's mode and running statistics are restored afterwards. Every module that owns a weight is
    observed, known layer type or not: its signal is the output of the operation that uses the weight
    (`F.linear`, a convolution, a matmul, an embedding), so a custom module whose `forward` is
    `torch.tanh(F.linear(x, self.w, self.b))` is followed too, with its functional activation. The
    repeated blocks of a model (a `ModuleList`/`Sequential` of blocks of one type: a transformer's
    layers, a ResNet stage) are followed by their outputs. Reported: the activation std growing or
    shrinking geometrically with depth (more than 1.15× per step and 10× overall, fitted in forward
    order) along one container's blocks, or, in a model without repeated blocks, along its layers
    (inside a block a layer is a residual branch, and outside them are a stem and heads, no chain);
    a layer whose output is constant although its input is not (a zero hidden layer); a layer after
    which more than half of the ReLU units are dead (zero for every input of the batch). A layer
    without a bias (or with a zero one) fed nearly one vector (DETR's decoder, whose queries start at
    zero by design) leaves about as many units positive for every input as dead: that is its input,
    not its initialisation, so there its dead units count only when they outnumber the
    always-positive ones beyond chance (a sign test, p < 0.001), as weights with a negative mean make
    them; a layer with a bias is judged by the dead fraction alone (the bias can be what fixes the
    signs).

    The input fits the model: `--input-shape` exactly as given, else the model's own (`keras.Input`,
    the first layer's `in_features`/`in_channels`, a transformers model's `main_input_name` and
    config: token ids, images, audio, an encoder-decoder's decoder ids). A model that starts with an
    embedding gets random token ids below its vocabulary size. An inferred (batch, features) input
    is run with 32 samples; images and sequences with their own batch (a unit is a channel seen at
    every position); a vision transformer on 4×4 patches with its position embeddings interpolated.
    Without an input shape this check is skipped with a note. The per-layer and per-block stds are in
    the text report and in the JSON (`forward`).

    ## Why is this bad?
    A signal that shrinks or grows geometrically leaves the last layers with noise-free zeros or
    overflowing activations, and the gradient does the same on the way back. Dead ReLU units never
    recover.

    ## Example
    ```python
    from torch import nn


    def build_model():
        layers = []
        for _ in range(12):
            layer = nn.Linear(128, 128)
            nn.init.normal_(layer.weight, std=0.02)
            layers += [layer, nn.ReLU()]
        return nn.Sequential(*layers)
    ```

    ## Use instead
    ```python
    from torch import nn


    def build_model():
        layers = []
        for _ in range(12):
            layer = nn.Linear(128, 128)
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            layers += [layer, nn.ReLU()]
        return nn.Sequential(*layers)
    ```

    ## Known problems
    Normalisation layers reset the scale, so in a normalised network the trend is flat whatever the
    initialisation: that is the point of them, and nothing is reported.

    ## Frameworks
    PyTorch, Keras, Flax.
    """

    code = "INI606"
    name = "signal-explodes-or-vanishes"


class NonFiniteParameter(RuntimeCode):
    """
    ## What it does
    Flags a parameter tensor holding NaN or infinite values right after the model was built.

    ## Why is this bad?
    One NaN in a weight makes every output it reaches NaN, and the loss with it; the usual causes are
    an initialiser given a zero fan (a division by zero), `torch.empty` never filled, or a log of zero.

    ## Example
    ```python
    import torch
    from torch import nn


    def build_model():
        layer = nn.Linear(16, 16)
        with torch.no_grad():
            layer.weight.div_(0.0)
        return layer
    ```

    ## Use instead
    ```python
    from torch import nn


    def build_model():
        return nn.Linear(16, 16)
    ```

    ## Frameworks
    PyTorch, Keras, Flax.
    """

    code = "INI607"
    name = "non-finite-parameter"


class ReplicasDifferAcrossRanks(RuntimeCode):
    """
    ## What it does
    Flags a parameter whose copies differ between ranks that must hold the same values, under
    `torchrun --nproc-per-node N -m initlint verify model.py`: the replicas of a data-parallel model
    (a plain module on every rank, HSDP's replicate dimension, a `Replicate()` DTensor). Its
    companion in a sharded run: shards of one tensor that are bit-identical on ranks holding
    different slices are INI604, naming the ranks.

    Each rank runs the build; initlint compares one digest of every local tensor across ranks. DDP
    broadcasts rank 0's parameters when it wraps the model, so a DDP model is never flagged.

    ## Why is this bad?
    Data parallelism averages one gradient over the replicas and applies it to each: replicas that
    start different stay different, and the run trains N models with a gradient that fits none of
    them. FSDP and HSDP do not broadcast parameters (OLMo-core #319), and ranks seeded by their rank
    (for data order or dropout) build different weights (torchtitan #166).

    ## Example
    ```python
    import torch
    import torch.distributed as dist
    import torch.nn as nn


    def build_model():
        if not dist.is_initialized():
            dist.init_process_group("gloo")
        torch.manual_seed(dist.get_rank())  # every rank its own weights
        return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8))
    ```

    ## Use instead
    ```python
    import torch
    import torch.distributed as dist
    import torch.nn as nn


    def build_model():
        if not dist.is_initialized():
            dist.init_process_group("gloo")
        torch.manual_seed(0)  # the same weights on every rank; seed data order separately
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8))
        torch.manual_seed(dist.get_rank())
        return model
    ```

    ## Frameworks
    PyTorch (torch.distributed: DDP, FSDP2, HSDP, DTensor), under torchrun.
    """

    code = "INI608"
    name = "replicas-differ-across-ranks"
    frameworks = ("torch",)
    distributed = True  # its examples run under torchrun (tests/test_verify_distributed.py)


CODES: Tuple[type, ...] = (StdDiffersFromDeclared, DistributionDiffersFromDeclared, IdenticalUnits,
                           IdenticalTensors, ScaleOffActivationTarget, SignalExplodesOrVanishes, NonFiniteParameter,
                           ReplicasDifferAcrossRanks)


def all_codes() -> Tuple[type, ...]:
    """INI601-INI608, in order."""
    return CODES


def code_by_name(code: str) -> Optional[type]:
    """The runtime code ``code`` (any case), or None."""
    for entry in CODES:
        if entry.code == code.upper():
            return entry
    return None


def name_of(code: str) -> str:
    """The kebab-case name of a runtime code ('' if unknown)."""
    entry = code_by_name(code)
    return entry.name if entry is not None else ""
