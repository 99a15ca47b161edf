from __future__ import annotations

from typing import Iterator, Optional, Set, Tuple

import libcst as cst

from .. import prefilter
from ..analysis.inits import PARAMETER_WRAPPERS
from ..analysis.multiplied import multiplied_names
from ..analysis.queries import filled_in_place, stored_parameters, storage_keys
from ..analysis.traversal import walk
from ..analysis.values import is_number
from ..rule import Report, Rule

# calls that hand back memory nobody has written: the values are whatever was there before
_EMPTY_TORCH = frozenset({"torch.empty", "torch.empty_like", "torch.empty_strided"})
# the legacy constructors allocate without filling when given sizes (``torch.Tensor(out, in)``);
# given a list or a tensor they copy it, so only evident sizes count
_LEGACY_TORCH = frozenset({f"torch.{prefix}{kind}Tensor" for prefix in ("", "cuda.")
                           for kind in ("", "Float", "Double", "Half", "BFloat16")}) - {"torch.cuda.Tensor"}
_EMPTY_NUMPY = frozenset({"numpy.empty", "numpy.empty_like"})
# XLA cannot allocate uninitialised buffers: JAX's and TF's NumPy ``empty`` return zeros
# (jax/_src/numpy/array_creation.py: "jax.numpy.empty is currently equivalent to jax.numpy.zeros";
# tensorflow/python/ops/numpy_ops/np_array_ops.py: ``empty`` returns ``zeros``); lax.empty does not
_EMPTY_ZEROS = {"jax.numpy.empty": "jnp.empty", "jax.numpy.empty_like": "jnp.empty_like",
                "tensorflow.experimental.numpy.empty": "tf.experimental.numpy.empty",
                "tensorflow.experimental.numpy.empty_like": "tf.experimental.numpy.empty_like"}
_EMPTY_LAX = frozenset({"jax.lax.empty"})
_ZERO_FILLED = frozenset(_EMPTY_ZEROS.values())
_EMPTY_METHODS = ("new_empty",)
# what a numpy buffer goes through on its way into a parameter
_CONVERTERS = frozenset({"torch.from_numpy", "torch.tensor", "torch.as_tensor", "torch.Tensor", "torch.FloatTensor",
                         "tf.convert_to_tensor", "tensorflow.convert_to_tensor"})
# names of sizes: torch.Tensor(out_features) allocates, torch.Tensor(values) copies
_SIZE_WORDS = ("dim", "size", "features", "channels", "units", "num_", "n_", "hidden", "heads", "len", "width",
               "classes", "embed", "depth", "out", "in_", "vocab", "tokens", "_d", "d_")
# a class calling one of its own methods whose name says it initialises, that this file does not
# define (an inherited ``self.init_weights()``): what it reaches is not in the code
_INIT_METHOD_WORDS = ("init", "reset")
_PARAM_ITERATORS = ("parameters", "named_parameters", "state_dict")
# views: an in-place initialiser on one writes the parameter's memory
_VIEWS = ("t", "transpose", "view", "permute", "unsqueeze", "squeeze", "narrow", "select", "detach", "view_as",
          "flatten", "unflatten", "chunk", "split", "unbind")
# tensor arithmetic methods: a parameter passed to one is used, not initialised
_TENSOR_OPS = frozenset({"mm", "matmul", "bmm", "mul", "add", "sub", "div", "pow", "dot", "mv", "addmm", "baddbmm",
                         "expand_as", "type_as", "view_as", "reshape_as", "masked_fill", "where", "einsum", "cat",
                         "stack", "gather", "index_select", "scatter", "repeat", "expand", "linear", "conv2d",
                         "conv1d", "embedding", "softmax", "sum", "mean", "append", "extend"})
_MODULE_BASES = frozenset({"torch.nn.Module", "torch.nn.modules.module.Module"})
_LOADERS = ("load_state_dict", "load_weights", "set_weights", "load_checkpoint",
            # JAX/Flax: parameters replaced from a checkpoint or a converted state
            "restore", "restore_checkpoint", "from_bytes", "from_state_dict", "load_params")
_FLAX_UPDATE = frozenset({"flax.nnx.update"})
# methods that write a variable's value: TF's ``w.assign(...)``, nnx's ``w.set_value(...)``
_WRITE_METHODS = ("assign", "assign_add", "assign_sub", "set_value")
_ASSIGN_FUNCTIONS = frozenset({"tensorflow.assign", "tensorflow.compat.v1.assign"})


def _final(node: cst.BaseExpression) -> str:
    return node.attr.value if isinstance(node, cst.Attribute) else node.value if isinstance(node, cst.Name) else ""


class UninitialisedParameter(Rule):
    """A parameter created from uninitialised memory that no initialiser reaches.

    ## What it does
    Flags a parameter wrapped around a tensor whose memory was allocated but never written —
    `nn.Parameter(torch.empty(out, in))`, `nn.Parameter(torch.Tensor(out, in))`,
    `torch.FloatTensor(n, m)`, `w.new_empty(...)`, `tf.Variable(np.empty(shape))` — when nothing in
    the file reaches it afterwards: no initialiser or in-place fill (`nn.init.xavier_uniform_(self.w)`,
    `self.w.data.normal_()`, `self.w.copy_(...)`), no helper it is passed to (`glorot(self.w)`), no
    loop over `parameters()`, no `load_state_dict` (in JAX, `nnx.update` or a checkpoint restore),
    no inherited `reset_parameters`/`init_weights` the class calls, no later assignment.

    ## Why is this bad?
    `torch.empty` and the legacy `torch.Tensor(sizes)` constructors return whatever bytes the
    allocator had: often zeros (a symmetric layer that never trains), sometimes the remains of a freed
    tensor, huge values, denormals or NaN. The model trains differently on every machine and run, and
    a NaN appears at the first step with no error. The pattern is PyTorch's own (`nn.Linear` does it)
    but always together with `reset_parameters()`; dropping or forgetting that call leaves the memory
    as it was.

    In JAX (`jnp.empty`, `nnx.Param(jnp.empty(...))`, `self.param('w', lambda key, shape:
    jnp.empty(shape), shape)`) and TF's NumPy (`tf.Variable(tf.experimental.numpy.empty(...))`)
    the memory is not uninitialised: XLA cannot allocate such a buffer, so `empty` returns zeros
    (JAX's `jax.numpy.empty` and TF's `np_array_ops.empty` both call `zeros`; `jax.lax.empty` is the
    truly uninitialised one, and is flagged like `torch.empty`). The bug is still this rule's, not
    INI302's: INI302 judges a zero the code chose with an initialiser, on a layer whose place it can
    see; `empty` is a placeholder nobody filled, whatever the framework puts in it. Since the
    parameter then starts at exactly zero, it is flagged where a zero does harm: where the file
    multiplies its signal by it (`x @ w`, `jnp.dot(x, w)`, `x * scale`): the product is zero, and
    for a weight matrix no gradient reaches the layers before it. A zero-filled placeholder that is
    only added (a bias, a position embedding) trains normally and is not flagged.

    ## Example
    ```python
    import torch
    from torch import nn

    class Bilinear(nn.Module):
        def __init__(self, d_in, d_out):
            super().__init__()
            self.weight = nn.Parameter(torch.Tensor(d_out, d_in, d_in))

        def forward(self, x, y):
            return torch.einsum("bi,oij,bj->bo", x, self.weight, y)
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn

    class Bilinear(nn.Module):
        def __init__(self, d_in, d_out):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(d_out, d_in, d_in))
            self.reset_parameters()

        def reset_parameters(self):
            nn.init.xavier_uniform_(self.weight)

        def forward(self, x, y):
            return torch.einsum("bi,oij,bj->bo", x, self.weight, y)
    ```

    ## Known problems
    What reaches a parameter is read from this file only: a parameter that another file
    initialises by name is flagged. Frozen parameters (`requires_grad=False`, usually loaded from a
    checkpoint) are not flagged, nor are test files (`test_*.py`, `*_test.py`), which build
    placeholder parameters on purpose.

    ## Frameworks
    PyTorch (`torch.empty`, `torch.Tensor`/`FloatTensor` with sizes, `new_empty`, a NumPy `np.empty`
    buffer), TensorFlow (`tf.Variable(np.empty(...))`, `tf.experimental.numpy.empty`), JAX/Flax
    (`nnx.Param` and linen's `self.param` of `jnp.empty`/`jax.lax.empty`).
    """

    code = "INI406"
    name = "uninitialised-parameter"
    message = ("parameter `{param}` is created from uninitialised memory ({source}) and nothing in this file "
               "initialises it: it starts as whatever was in memory (zeros, denormals or NaN); "
               "initialise it (e.g. in reset_parameters, called from __init__)")
    frameworks = ("torch", "keras", "jax")
    # tests build placeholder parameters on purpose (an unused `Parameter(torch.empty(1))`)
    skip_test_files = True
    requires = prefilter.words("empty", "empty_like", "empty_strided", "new_empty", "Tensor", "FloatTensor",
                               "DoubleTensor", "HalfTensor", "BFloat16Tensor", why="an uninitialised allocation") \
        & (prefilter.words("Parameter", why="nn.Parameter") & prefilter.module("torch")
           | prefilter.words("Variable", why="tf.Variable") & prefilter.module("tensorflow")
           | prefilter.words("Param", "param", why="a Flax parameter") & prefilter.module("flax"))

    def check(self, facts):
        # the wrappers around uninitialised memory, from the call index; where they are stored
        # (a walk over every assigned value) only when there are some
        sources = {}
        for site in facts.collected.calls:
            call = site.node
            if self._is_wrapper(facts, call) and not self._frozen(facts, call):
                source = self._uninitialised_source(facts, call)
                if source is not None:
                    sources[call] = source
            elif _is_linen_param(call):
                source = self._linen_source(facts, call)
                if source is not None:
                    sources[call] = source
        if not sources:
            return
        candidates = [(wrapper, keys, sources[wrapper])
                      for wrapper, keys in stored_parameters(facts, lambda call: call in sources).items() if keys]
        if not candidates or self._reached_generically(facts):
            return
        # cheapest first: what calls hand over or fill in place (one pass over the calls); the
        # assignments, loops and inherited initialisers only for what that leaves
        calls = list(_reaching_calls(facts))
        by_call = set(filled_in_place(facts)).union(*(names for _, names in calls)) if calls else \
            set(filled_in_place(facts))
        unconditional = None  # names reached by assignment, a loop or an inherited initialiser
        multiplied = None  # what the file multiplies its signal by, for zero-filled placeholders
        for wrapper, keys, source in candidates:
            names = {name for _, name in keys}
            param = sorted(names)[0]
            if source in _ZERO_FILLED:
                if multiplied is None:
                    multiplied = multiplied_names(facts)
                if not names & multiplied:
                    continue  # a zero that is only added (a bias, an embedding) does no harm
            framework = _framework(facts, wrapper)
            method = self._only_in_uncalled_method(facts, wrapper, names, calls) if names & by_call else ""
            if method is None:
                continue
            if unconditional is None:
                unconditional = self._loop_sources(facts, by_call) | self._assigned_again(facts) \
                    | self._inherited_init_classes(facts)
            if names & unconditional:
                continue
            if method == "":
                yield Report(wrapper, {"param": param, "source": source}, framework)
            else:
                yield Report(wrapper, {"param": param, "source": source, "method": method}, framework)

    def format(self, report) -> str:
        method = report.fields.get("method")
        if report.fields.get("source") in _ZERO_FILLED:
            example = "tf.keras.initializers.GlorotUniform()(shape)" if report.framework == "keras" else \
                "nnx.initializers.lecun_normal()(rngs.params(), shape)"
            return (f"parameter `{report.fields['param']}` is created with {report.fields['source']}, which fills "
                    f"it with zeros (XLA cannot leave memory uninitialised), and nothing in this file initialises "
                    f"it: the signal is multiplied by exactly zero, its units stay identical and no gradient reaches "
                    f"the layers before it; create it with an initializer (e.g. {example})")
        if method is None and report.framework == "jax":
            return (f"parameter `{report.fields['param']}` is created from uninitialised memory "
                    f"({report.fields['source']}) and nothing in this file initialises it: it starts as whatever "
                    f"was in memory (zeros, denormals or NaN); create it with an initializer")
        if method is None:
            return super().format(report)
        return (f"parameter `{report.fields['param']}` is created from uninitialised memory "
                f"({report.fields['source']}) and only `{method}` fills it, which nothing in this file calls "
                f"(not __init__ either): it starts as whatever was in memory (zeros, denormals or NaN); call "
                f"self.{method}() at the end of __init__, as torch's own layers do")

    @staticmethod
    def _only_in_uncalled_method(facts, wrapper: cst.Call, names: Set[str], calls) -> Optional[str]:
        """The initialising method of the parameter's class that alone reaches it, when nothing in
        the file calls that method and the class's only base is nn.Module (whose __init__ calls
        nothing: a base such as nn.Linear would call an overridden reset_parameters)."""
        cls = next((owner for (owner, _attr), values in facts.collected.self_attrs.items()
                    for value, _fn in values if any(node is wrapper for node in walk(value))), None)
        if cls is None or facts.graph.classes[cls].bases - _MODULE_BASES or not facts.graph.classes[cls].bases:
            return None
        methods = set()
        for site, mentioned in calls:
            if not mentioned & names:
                continue
            scope = site.scope
            function = scope.function if scope is not None else None
            owner = facts.graph.class_of_function.get(function) if function is not None else None
            if owner is not None and owner is not cls and not _foreign_mentions(site.node) & names:
                continue  # self.weight in another class's method is that class's weight
            if function is None or owner is not cls \
                    or function.name.value == "__init__" \
                    or not any(w in function.name.value.lower() for w in _INIT_METHOD_WORDS):
                return None
            methods.add(function.name.value)
        if not methods:
            return ""  # only other classes' own attributes of that name are filled
        if len(methods) != 1:
            return None
        method = methods.pop()
        for site in facts.collected.calls:
            func = site.node.func
            if _final(func) == method:
                if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
                    caller = site.scope.function if site.scope is not None else None
                    if caller is not None and facts.graph.class_of_function.get(caller) not in (cls, None):
                        continue  # another class's self.reset_parameters() is its own
                return None  # called somewhere (by __init__, a parent, a loop over modules)
            if any(isinstance(a.value, cst.Attribute) and a.value.attr.value == method for a in site.node.args):
                return None  # handed over: model.apply(self.reset_parameters)
        return method

    # -- what is created --------------------------------------------------------------------------

    @staticmethod
    def _is_wrapper(facts, call: cst.Call) -> bool:
        return bool(facts.names(call.func) & PARAMETER_WRAPPERS) and bool(call.args)

    @staticmethod
    def _frozen(facts, wrapper: cst.Call) -> bool:
        for arg in wrapper.args:
            if arg.keyword is not None and arg.keyword.value in ("requires_grad", "trainable") \
                    and facts.value(arg.value) is False:
                return True
        return False

    def _uninitialised_source(self, facts, wrapper: cst.Call) -> Optional[str]:
        """The allocation the wrapper's data comes from (``torch.empty``), if it is uninitialised."""
        inner = wrapper.args[0].value
        if wrapper.args[0].keyword is not None and wrapper.args[0].keyword.value not in ("data", "initial_value"):
            return None
        return self._allocation(facts, inner, 0)

    def _allocation(self, facts, node, depth) -> Optional[str]:
        if depth > 3 or not isinstance(node, cst.Call):
            return None
        names = facts.names(node.func)
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if any(a.star == "*" for a in node.args) and (names & (_EMPTY_TORCH | _EMPTY_NUMPY | _LEGACY_TORCH) or (
                isinstance(node.func, cst.Attribute) and node.func.attr.value in _EMPTY_METHODS)):
            return "torch.empty" if names & _EMPTY_TORCH else "np.empty" if names & _EMPTY_NUMPY else (
                sorted(names & _LEGACY_TORCH)[0] + "(sizes)" if names & _LEGACY_TORCH else node.func.attr.value)
        if names & _EMPTY_TORCH:
            return None if self._zero_sized(facts, positional) else "torch.empty"
        if names & _EMPTY_NUMPY:
            return None if self._zero_sized(facts, positional) else "np.empty"
        zero_filled = sorted(names & _EMPTY_ZEROS.keys())
        if zero_filled:
            return None if self._zero_sized(facts, positional) else _EMPTY_ZEROS[zero_filled[0]]
        if names & _EMPTY_LAX:
            return None if self._zero_sized(facts, positional[:1]) else "jax.lax.empty"
        legacy = names & _LEGACY_TORCH
        if legacy:
            if self._evident_sizes(facts, node, positional):
                return sorted(legacy)[0] + "(sizes)"
            # torch.Tensor(np.empty(...)) copies the numpy buffer: what matters is the buffer
            return self._allocation(facts, positional[0], depth + 1) if len(positional) == 1 else None
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _EMPTY_METHODS and positional:
            return None if self._zero_sized(facts, positional) else node.func.attr.value
        if names & _CONVERTERS and len(positional) == 1:
            return self._allocation(facts, positional[0], depth + 1)
        # torch.empty(n, m).to(device) / .float() / .cuda() keep the memory as it was
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("to", "float", "cuda", "double",
                                                                             "half", "contiguous"):
            return self._allocation(facts, node.func.value, depth + 1)
        return None

    def _linen_source(self, facts, call: cst.Call) -> Optional[str]:
        """``self.param('w', lambda key, shape: jnp.empty(shape), shape)``: the allocation the
        initialiser function returns."""
        init = call.args[1].value
        if isinstance(init, cst.Lambda):
            return self._allocation(facts, init.body, 0)
        return None

    @staticmethod
    def _zero_sized(facts, positional) -> bool:
        """Sizes the code shows include 0 (``torch.empty(0)``): nothing to fill. Sizes unpacked
        from a sequence (``torch.empty(*shape)``) are not."""
        sizes = positional
        if len(positional) == 1:
            value = facts.value(positional[0])
            if isinstance(value, tuple):
                return any(v == 0 for v in value if is_number(v)) or value == ()
            if isinstance(positional[0], (cst.Tuple, cst.List)):
                sizes = [e.value for e in positional[0].elements]
        return not sizes or any(facts.value(size) == 0 for size in sizes)

    @staticmethod
    def _evident_sizes(facts, call: cst.Call, positional) -> bool:
        """``torch.Tensor(out, in)`` allocates; ``torch.Tensor(values)`` copies. Sizes are evident
        when there are several, or one int (a literal, an int-valued expression, or a name that
        says it is a size)."""
        if any(a.keyword is not None and a.keyword.value == "size" for a in call.args):
            return True
        if not positional or any(isinstance(p, (cst.List, cst.Tuple, cst.ListComp)) for p in positional):
            return False
        if any(facts.value(p) == 0 for p in positional):
            return False  # torch.Tensor(0, d): nothing to fill
        if len(positional) > 1:
            return True
        value = facts.value(positional[0])
        if isinstance(value, int) and not isinstance(value, bool):
            return True
        node = positional[0]
        if isinstance(node, cst.BinaryOperation):
            return True  # 4 * dim: a size (a list would be written as a literal)
        name = _final(node).lower()
        return bool(name) and any(word in name for word in _SIZE_WORDS)

    # -- what reaches it --------------------------------------------------------------------------

    @staticmethod
    def _reached_generically(facts) -> bool:
        """Something in the file initialises parameters without naming them: a loop over
        ``parameters()``/``state_dict()``, a ``load_state_dict``, ``getattr(self, name)`` handed to
        a call."""
        for site in facts.collected.calls:
            func = site.node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _LOADERS:
                return True
            if facts.names(func) & _FLAX_UPDATE:
                return True  # nnx.update(model, state): parameters replaced by name
            if isinstance(func, cst.Name) and func.value == "getattr" and len(site.node.args) >= 2 \
                    and not isinstance(facts.value(site.node.args[1].value), str):
                return True
        scopes = [facts.collected.module_scope] + [scope for _, scope in facts.collected.functions]
        for scope in scopes:
            for bindings in scope.bindings.values():
                for binding in bindings:
                    if binding.kind == "loop" and _iterates_parameters(binding.value):
                        return True
        return False

    @staticmethod
    def _loop_sources(facts, reached: Set[str]) -> Set[str]:
        """``for w in self.weights: init(w)`` reaches what ``self.weights`` holds."""
        out = set()
        for scope in [facts.collected.module_scope] + [scope for _, scope in facts.collected.functions]:
            for name, bindings in scope.bindings.items():
                if name not in reached:
                    continue
                for binding in bindings:
                    if binding.kind == "loop" and binding.value is not None:
                        out |= {key for node in walk(binding.value) for _, key in storage_keys(node)}
        return out

    @staticmethod
    def _assigned_again(facts) -> Set[str]:
        """Names assigned more than once, written through ``.data``/a subscript, or returned."""
        out = set()
        for (_cls, attr), values in facts.collected.self_attrs.items():
            if len(values) > 1:
                out.add(attr)
        for scope in [facts.collected.module_scope] + [scope for _, scope in facts.collected.functions]:
            for name, bindings in scope.bindings.items():
                if len([b for b in bindings if b.kind in ("assign", "other")]) > 1:
                    out.add(name)
        for node in walk(facts.module):
            targets = []
            if isinstance(node, cst.Assign):
                targets = [t.target for t in node.targets]
            elif isinstance(node, (cst.AugAssign, cst.AnnAssign)):
                targets = [node.target]
            for target in targets:
                # w[...] = ..., self.w.data = ..., and nnx's self.w.value = ...
                if isinstance(target, cst.Subscript) or (isinstance(target, cst.Attribute)
                                                         and target.attr.value in ("data", "value")):
                    out |= {name for _, name in _keys_of(target)}
            if isinstance(node, cst.Return) and isinstance(node.value, (cst.Name, cst.Tuple)):
                # a function that builds a parameter and returns it: its caller initialises it
                out |= {name for kind, name in _keys_of(node.value) if kind == "name"}
        return out

    @staticmethod
    def _inherited_init_classes(facts) -> Set[str]:
        """Attributes of classes that call an initialising method this file does not define
        (``self.init_weights()`` from a base class elsewhere): what it reaches is unknown."""
        defined = {node.name.value for node, _ in facts.collected.functions}
        out = set()
        for site in facts.collected.calls:
            func = site.node.func
            if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                    and func.value.value == "self"):
                continue
            method = func.attr.value
            if method in defined or not any(word in method.lower() for word in _INIT_METHOD_WORDS):
                continue
            if "_init_weights" not in defined:
                # a model-wide initialiser from a base class elsewhere (transformers' post_init runs
                # the base's _init_weights over every submodule): any parameter may be reached
                return {attr for (_owner, attr) in facts.collected.self_attrs}
            scope = site.scope
            while scope is not None and scope.enclosing_class is None:
                scope = scope.parent
            if scope is not None:
                cls = scope.enclosing_class
                out |= {attr for (owner, attr) in facts.collected.self_attrs if owner is cls}
        return out


def _is_linen_param(call: cst.Call) -> bool:
    """Flax linen's ``self.param(name, init_fn, *shape)``."""
    func = call.func
    return isinstance(func, cst.Attribute) and func.attr.value == "param" and isinstance(func.value, cst.Name) \
        and func.value.value == "self" and len(call.args) >= 2 and all(a.keyword is None for a in call.args[:2])


def _framework(facts, wrapper: cst.Call) -> str:
    if _is_linen_param(wrapper) or any(name.startswith("flax.") for name in facts.names(wrapper.func)):
        return "jax"
    return "keras" if "Variable" in _final(wrapper.func) else "torch"


def _reaching_calls(facts) -> Iterator[Tuple[object, Set[str]]]:
    """Calls that may initialise what they are handed, with the names handed: an in-place method's
    receiver (``self.w.data.normal_()``) and the arguments of any call that is not the framework's
    own arithmetic (``init.xavier_uniform_(self.w)``, ``glorot(self.w)``, ``self._init(self.w)``)."""
    for site in facts.collected.calls:
        call = site.node
        func = call.func
        names = set()
        if isinstance(func, cst.Attribute) and (func.attr.value.endswith("_") and not func.attr.value.endswith("__")
                                                or func.attr.value in _WRITE_METHODS):
            names |= {name for _, name in _keys_of(func.value)}
        if call.args and facts.names(func) & _ASSIGN_FUNCTIONS:  # tf.compat.v1.assign(w, value)
            names |= {name for _, name in _keys_of(call.args[0].value)}
        framework_op = any(name.startswith(("torch.", "tf.", "tensorflow.", "numpy.", "jax.")) and
                           not name.startswith("torch.nn.init.") for name in facts.names(func))
        if not framework_op and not (isinstance(func, cst.Attribute) and func.attr.value in _TENSOR_OPS):
            for arg in call.args:
                names |= {name for _, name in _keys_of(arg.value)}
        if names:
            yield site, names


def _foreign_mentions(call: cst.Call) -> Set[str]:
    """Names a call is handed other than as ``self.<name>`` (``m.weight``, ``w``)."""
    parts = [a.value for a in call.args]
    if isinstance(call.func, cst.Attribute):
        parts.append(call.func.value)
    out = set()
    for part in parts:
        for base in _bases(part):
            if not (isinstance(base, cst.Attribute) and isinstance(base.value, cst.Name)
                    and base.value.value == "self"):
                out |= {name for _, name in storage_keys(base)}
    return out


def _keys_of(node) -> Set[Tuple[str, str]]:
    """``self.w``, ``self.w.data``, ``w[0]``, ``self.w.data[:]``, ``(self.w, ...)``, ``self.w if c
    else v``, ``self.w.data.t()`` -> the storage keys of ``w``."""
    out = set()
    for base in _bases(node):
        out |= storage_keys(base)
    return out


def _bases(node) -> list:
    """The stored objects an expression denotes, through ``.data``, subscripts, views, tuples and
    conditional expressions."""
    out = []
    stack = [node]
    while stack:
        current = stack.pop()
        while True:
            if isinstance(current, cst.Subscript) or (isinstance(current, cst.Attribute)
                                                      and current.attr.value in ("data", "T", "mT")):
                current = current.value
            elif isinstance(current, cst.Attribute) and current.attr.value == "value" \
                    and not (isinstance(current.value, cst.Name) and current.value.value == "self"):
                current = current.value  # nnx: self.w.value is the array self.w holds
            elif isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute) \
                    and current.func.attr.value in _VIEWS:
                current = current.func.value  # init_(self.w.data.t()) writes through the view
            else:
                break
        if isinstance(current, (cst.Tuple, cst.List)):
            stack.extend(e.value for e in current.elements)
        elif isinstance(current, cst.IfExp):  # init_(self.w if cond else self.layer.weight)
            stack.extend((current.body, current.orelse))
        else:
            out.append(current)
    return out


def _iterates_parameters(iterable) -> bool:
    """``for p in model.parameters()``, ``for n, p in m.named_parameters()``, ``zip(..., params())``,
    ``model.state_dict().items()``."""
    for node in walk(iterable) if iterable is not None else ():
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                and node.func.attr.value in _PARAM_ITERATORS:
            return True
    return False
