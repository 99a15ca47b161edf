"""Initialiser applications and the parameters they reach.

An ``InitUse`` is one initialiser as the code applies it: a torch in-place call, a factory passed to
``kernel_initializer=``/``kernel_init=``/``initialize(init=...)``, a string name, a sampler wrapped
in ``nn.Parameter``. Its ``targets`` say which parameters of which layers it reaches, following init
functions to where they are applied (``net.apply(fn)``, ``net[i].apply(fn)``,
``self.apply(self._init_weights)``, loops over ``modules()``) and narrowing by ``isinstance``/
``type`` guards. ``targets_known`` is False when some targets could not be established.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from .. import catalogue
from ..catalogue import Framework, Initializer, Layer, LayerKind, Style
from .classnames import class_name, class_name_test
from ..catalogue.names import canonical
from .collector import CallSite, Collected, Guard
from .graph import Graph, LayerUse, SequentialUse
from .inheritance import outside, runs
from .scopes import Binding
from .shapes import shape_of
from .traversal import final_name, walk
from .values import Evaluator

ALL_PARAMS = "*"
TENSOR_METHODS = ("normal_", "uniform_", "fill_", "zero_")
PARAMETER_WRAPPERS = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter", "tf.Variable",
                                "tensorflow.Variable", "tf.compat.v1.Variable", "tensorflow.compat.v1.Variable",
                                "flax.nnx.Param", "flax.nnx.variablelib.Param", "flax.nnx.variables.Param"})
_KERAS_GETTERS = frozenset({"keras.initializers.get", "keras.initializers.deserialize"})
_MODULE_ITERATORS = ("modules", "named_modules", "children", "named_children")
_PARAM_ITERATORS = ("parameters", "named_parameters")


def _self_call(call: cst.Call, name: str) -> bool:
    """``self.name(...)``."""
    func = call.func
    return isinstance(func, cst.Attribute) and func.attr.value == name and isinstance(func.value, cst.Name) \
        and func.value.value == "self"


class _NextRunners:
    """The methods of a class that run the same method of the classes after it (``in``: asked only
    of the method that runs, so only its body is walked)."""

    def __init__(self, cls: cst.ClassDef, methods: Dict[str, cst.FunctionDef]) -> None:
        self.cls = cls
        self.methods = methods

    def __contains__(self, name: object) -> bool:
        method = self.methods.get(name) if isinstance(name, str) else None
        return method is not None and _runs_next(method, self.cls)


def _runs_next(method: cst.FunctionDef, cls: cst.ClassDef) -> bool:
    """Does ``method`` run the same method of the classes after its own: ``super().m()``
    (``super(Net, self).m()``), or ``Base.m(self)`` on a base of ``cls``?"""
    name = method.name.value
    bases = {final_name(base.value) for base in cls.bases}
    for node in walk(method.body):
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute) or node.func.attr.value != name:
            continue
        receiver = node.func.value
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name) and receiver.func.value == "super":
            return True
        if final_name(receiver) in bases and node.args and isinstance(node.args[0].value, cst.Name) \
                and node.args[0].value.value == "self":
            return True
    return False


def _iterated_modules(argument: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """``x`` of an argument ``x.modules()`` / ``x.children()`` (``list(...)`` of one too): what a helper
    that loops over its parameter (``for m in modules``) then visits the modules of."""
    if isinstance(argument, cst.Call) and isinstance(argument.func, cst.Name) \
            and argument.func.value in ("list", "tuple") and len(argument.args) == 1:
        argument = argument.args[0].value
    if isinstance(argument, cst.Call) and not argument.args and isinstance(argument.func, cst.Attribute) \
            and argument.func.attr.value in ("modules", "children"):
        return argument.func.value
    return None


def _written(container) -> Tuple[List[cst.BaseExpression], bool]:
    """The elements written in a list, tuple or set display, and whether they are all (no ``*rest``)."""
    values = [e.value for e in container.elements if not isinstance(e, cst.StarredElement)]
    return values, len(values) == len(container.elements)


def _parameters_of(node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """``x`` of ``x.parameters()``."""
    if isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute) \
            and node.func.attr.value == "parameters":
        return node.func.value
    return None


@dataclass(eq=False)
class ParamTarget:
    """A parameter an initialiser reaches: ``param`` of ``layer`` (or of a layer of type ``entry``)."""

    param: Optional[str]  # "weight", "bias", "kernel", ALL_PARAMS, or None for "every parameter"
    layer: Optional[LayerUse] = None
    entry: Optional[Layer] = None
    ndim: Optional[int] = None  # for raw parameters whose shape the code gives

    @property
    def kind(self) -> Optional[LayerKind]:
        entry = self.layer.entry if self.layer is not None else self.entry
        return entry.kind if entry is not None else None

    @property
    def layer_entry(self) -> Optional[Layer]:
        return self.layer.entry if self.layer is not None else self.entry

    def is_weight(self) -> bool:
        entry = self.layer_entry
        if entry is None or self.param is None:
            return False
        return self.param == entry.weight or self.param in entry.extra_weights

    def is_raw_weight(self) -> bool:
        """A parameter created by hand (nn.Parameter, self.param, add_weight) that has 2+ dims."""
        return self.layer is None and self.entry is None and self.ndim is not None and self.ndim >= 2

    def is_bias(self) -> bool:
        entry = self.layer_entry
        return entry is not None and self.param is not None and self.param == entry.bias


@dataclass(eq=False)
class InitUse:
    node: cst.CSTNode  # where a finding about it is reported
    entry: Optional[Initializer]  # None: a custom initialiser
    framework: Framework
    via: str  # "inplace", "kwarg", "string", "function", "factory", "sampler", "initialize"
    args: Dict[str, cst.BaseExpression] = field(default_factory=dict)  # explicit arguments by name
    targets: List[ParamTarget] = field(default_factory=list)
    targets_known: bool = True  # False: some reach of this initialiser is not established
    custom: Optional[cst.CSTNode] = None  # the user's init function/class, for custom initialisers
    function: Optional[cst.FunctionDef] = None  # the function the call sits in
    wrapped_as_parameter: bool = False  # a sampler whose result is wrapped in nn.Parameter/tf.Variable
    preset: Dict[str, object] = field(default_factory=dict)  # arguments implied by a string name
    tensor_name: Optional[str] = None  # in-place inits: the attribute/variable filled (``pos_embed``)
    # created anew by every call of a helper (``def make(): return HeNormal()``): the layers that
    # each call's instance reaches are not one instance's
    per_call: bool = False
    # a restatement of ``variant_of`` for one call site of its function (``callsites.py``): ``node``
    # is that call, where the instance is not created
    variant_of: Optional["InitUse"] = None

    def given(self, name: str) -> bool:
        return name in self.args

    def values(self, ev: Evaluator) -> dict:
        """Argument values: explicit ones evaluated (UNKNOWN if unresolved), defaults otherwise."""
        values = self.entry.defaults() if self.entry is not None else {}
        values.update(self.preset)
        for name, node in self.args.items():
            values[name] = ev.evaluate(node)
        return values


class InitIndex:
    def __init__(self, collected: Collected, graph: Graph, evaluator: Evaluator) -> None:
        self.c = collected
        self.g = graph
        self.ev = evaluator
        self.uses: List[InitUse] = []
        self.by_node: Dict[cst.CSTNode, InitUse] = {}
        self.init_functions: Set[cst.FunctionDef] = set()
        self._sites: Optional[Dict[cst.CSTNode, CallSite]] = None
        self._applied: Dict[cst.FunctionDef, List[LayerUse]] = {}
        self._applied_unknown: Set[cst.FunctionDef] = set()
        self._calls_unknown: Set[cst.FunctionDef] = set()  # called on modules the project does not show
        self._subclassed: Dict[Tuple[cst.ClassDef, str], List[LayerUse]] = {}  # _subclass_layers' answers
        self._facts: Dict[object, object] = {}  # _class_facts' answers
        # functions other modules apply: the layers this file's own applications reach
        self._local_applied: Dict[cst.FunctionDef, List[LayerUse]] = {}
        self.apply_sites: Dict[cst.FunctionDef, List[CallSite]] = {}  # fn -> the x.apply(fn) calls
        # an initialiser object -> (call, shape) where it is called by hand (``init(shape)``), and
        # (argument, shape) where it is given to a raw variable (``tf.get_variable(..., initializer=
        # init)``, ``add_weight``); a shape is None when the call gives none
        self.direct_calls: Dict[InitUse, List[Tuple[cst.Call, Optional[cst.BaseExpression]]]] = {}
        self.raw_sites: Dict[InitUse, List[Tuple[cst.BaseExpression, Optional[cst.BaseExpression]]]] = {}
        self._functions = {node: scope for node, scope in collected.functions}
        self._project_uses: Optional[Dict[str, InitUse]] = None  # imported initialiser instances
        self._imports_torch = any(
            b.kind == "import" and (b.qualname or "").startswith("torch")
            for bindings in collected.module_scope.bindings.values() for b in bindings)
        self._build()

    # -- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        self._collect_applications()
        for site in self.c.calls:
            self._from_call(site)
        for layer in list(self.g.layers.values()):
            self._from_layer_kwargs(layer)
        for site in self.c.calls:
            self._from_consumers(site)

    def _add(self, use: InitUse) -> InitUse:
        existing = self.by_node.get(use.node)
        if existing is not None:
            return existing
        self.uses.append(use)
        self.by_node[use.node] = use
        if use.function is not None and use.via == "inplace":
            self.init_functions.add(use.function)
        return use

    @staticmethod
    def _bind_args(entry: Initializer, call: cst.Call, skip_first: bool) -> Dict[str, cst.BaseExpression]:
        names = [k for k, _ in entry.params if k not in entry.keyword_only]
        if skip_first:
            names = names[1:]
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if skip_first:
            positional = positional[1:]
        args = dict(zip(names, positional))
        for arg in call.args:
            if arg.keyword is not None:
                args[arg.keyword.value] = arg.value
        return args

    def _initializer_of_call(self, call: cst.Call) -> Optional[Initializer]:
        for name in self.ev.names(call.func):
            entry = catalogue.initializer(name)
            if entry is not None:
                return entry
        return None

    def site_of(self, use: InitUse) -> Optional[CallSite]:
        """The call site of an initialiser use that is a call."""
        if self._sites is None:
            self._sites = {site.node: site for site in self.c.calls}
        return self._sites.get(use.node)

    def _function_of(self, site: CallSite) -> Optional[cst.FunctionDef]:
        scope = site.scope
        while scope is not None:
            if isinstance(scope.node, cst.FunctionDef):
                return scope.node
            scope = scope.parent
        return None

    def _from_call(self, site: CallSite) -> None:
        call = site.node
        entry = self._initializer_of_call(call)
        function = self._function_of(site)
        if entry is None:
            func = call.func
            if (self._imports_torch and isinstance(func, cst.Attribute) and func.attr.value in TENSOR_METHODS
                    and not self.ev.names(func)):
                targets, known = self.targets_of(func.value, site)
                if targets:
                    method = catalogue.initializer(f"torch.Tensor.{func.attr.value}")
                    use = InitUse(call, method, Framework.TORCH, "inplace", self._bind_args(method, call, False),
                                  targets, known, function=function)
                    self._add(use)
            return
        if entry.style is Style.INPLACE:
            tensor = filled_tensor(call)
            if tensor is None:
                return
            targets, known = self.targets_of(tensor, site)
            self._add(InitUse(call, entry, entry.framework, "inplace", self._bind_args(entry, call, True),
                              targets, known, function=function, tensor_name=_tensor_name(tensor)))
        elif entry.style is Style.FACTORY:
            self._add(InitUse(call, entry, entry.framework, "factory", self._bind_args(entry, call, False),
                              [], False, function=function))
        elif entry.style is Style.SAMPLER:
            self._add(InitUse(call, entry, entry.framework, "sampler", self._bind_args(entry, call, False),
                              [], False, function=function))

    def initializer_value(self, node: cst.BaseExpression, framework: Framework, depth: int = 0) -> List[InitUse]:
        """The initialiser(s) an expression passed as ``kernel_initializer=``/``init=`` denotes."""
        if depth > 6 or node is None:
            return []
        if isinstance(node, cst.Dict):  # Keras' serialised form: {'class_name': 'HeNormal', 'config': {...}}
            return self._config_spec(node, framework)
        if isinstance(node, cst.Call):
            use = self.by_node.get(node)
            if use is not None and use.via == "factory":
                return [use]
            if node.args and {canonical(n) for n in self.ev.names(node.func)} & _KERAS_GETTERS:
                return self.initializer_value(node.args[0].value, framework, depth + 1)  # get('he_normal')
            returned = self.ev.flow.returned(node) if self.ev.flow is not None else None
            if returned is not None:  # def make_init(): return HeNormal()
                uses = self.initializer_value(returned, framework, depth + 1)
                fresh = isinstance(returned, cst.Call)
                for use in uses:
                    use.per_call = use.per_call or fresh
                return uses
            custom = self._custom(node.func)
            if custom is not None:
                return [self._add(InitUse(node, None, framework, "factory", {}, [], False, custom=custom))]
            return []
        value = self.ev.evaluate(node)
        if isinstance(value, str):
            found = catalogue.initializer_from_string(framework, value)
            if found is None or found[0] is None:
                return []
            entry, args = found
            return [self._add(InitUse(node, entry, framework, "string", {}, [], True, preset=args))]
        if isinstance(node, (cst.Name, cst.Attribute)):
            for name in self.ev.names(node):
                entry = catalogue.initializer(name)
                if entry is not None and entry.style in (Style.FUNCTION, Style.FACTORY):
                    return [self._add(InitUse(node, entry, entry.framework, "function", {}, [], True))]
            custom = self._custom(node)
            if custom is not None:
                return [self._add(InitUse(node, None, framework, "function", {}, [], True, custom=custom))]
            if isinstance(node, cst.Name):
                out = []
                for value_node, _ in self.c.resolver.assigned_values(node):
                    out.extend(self.initializer_value(value_node, framework, depth + 1))
                for value_node in self._flowed_values(node):
                    out.extend(self.initializer_value(value_node, framework, depth + 1))
                if not out and self.c.resolver.project is not None:
                    out = self._project_instance(node)
                return out
            values = self.ev.flow.attribute_values(node) if self.ev.flow is not None else None
            if values is not None and len(values) == 1:  # self.init = HeNormal() in __init__
                return self.initializer_value(values[0], framework, depth + 1)
        return []

    def _flowed_values(self, node: cst.Name) -> List[cst.BaseExpression]:
        """What a parameter holds: the arguments of the file's call sites (and the default where a
        call omits it). A function the file never calls gets its default: evaluated once when the
        ``def`` runs, one instance for every call that omits the argument."""
        flow = self.ev.flow
        bindings = self.c.resolver.lookup(node)
        if flow is None or len(bindings) != 1 or bindings[0].kind != "param":
            return []
        arguments = flow.parameter_arguments(bindings[0])
        if arguments is not None:
            return [a.value for a in arguments]
        default = flow.parameter_default(bindings[0])
        fn = bindings[0].scope.function if bindings[0].scope is not None else None
        if default is not None and fn is not None and flow.call_sites(fn) == []:
            return [default]
        return []

    def _config_spec(self, node: cst.Dict, framework: Framework) -> List[InitUse]:
        """``{'class_name': 'TruncatedNormal', 'config': {'stddev': 0.02}}``: what Keras layers and
        ``initializers.get``/``deserialize`` build from it (a fresh instance each time)."""
        fields = {self.ev.evaluate(e.key): e.value for e in node.elements if isinstance(e, cst.DictElement)}
        name = self.ev.evaluate(fields.get("class_name"))
        config = fields.get("config", cst.Dict([]))
        if framework is not Framework.KERAS or not isinstance(name, str) or not isinstance(config, cst.Dict):
            return []
        found = catalogue.initializer_from_string(framework, name)
        if found is None or found[0] is None:
            return []
        args = {}
        for element in config.elements:
            key = self.ev.evaluate(element.key) if isinstance(element, cst.DictElement) else None
            if not isinstance(key, str):
                return []  # **spread or a computed key: the arguments are not established
            args[key] = element.value
        return [self._add(InitUse(node, found[0], framework, "string", args, [], True, preset=found[1]))]

    def _project_instance(self, node: cst.Name) -> List[InitUse]:
        """An initialiser instance another module of the project creates (``from .common import
        INIT``): one use for every mention of it in this file, reported at the first, so that an
        instance shared by several layers is seen as one. Its arguments are the call's own."""
        if self._project_uses is None:
            self._project_uses = {}
        for name in self.ev.names(node):
            if name in self._project_uses:
                return [self._project_uses[name]]
            found = self.c.resolver.project.instance(name)
            if found is None:
                continue
            callees, text = found
            entry = next(filter(None, map(catalogue.initializer, callees)), None)
            if entry is None or entry.style is not Style.FACTORY:
                continue
            try:
                call = cst.parse_expression(text)
            except Exception:  # the summary's text is the module's own source: it parses
                continue
            if not isinstance(call, cst.Call) or not all(_is_literal(a.value) for a in call.args):
                continue  # an argument that names something of that module (seed=SeedGenerator): unknown here
            use = self._add(InitUse(node, entry, entry.framework, "factory", self._bind_args(entry, call, False),
                                    [], False))
            self._project_uses[name] = use
            return [use]
        return []

    def _custom(self, node: cst.BaseExpression) -> Optional[cst.CSTNode]:
        if isinstance(node, cst.Name):
            for binding in self.c.resolver.lookup(node):
                if binding.kind in ("def", "class"):
                    return binding.value
        return None

    def _target_all(self, use: InitUse, targets: List[ParamTarget], known: bool) -> None:
        use.targets.extend(targets)
        if use.via == "factory" and len(use.targets) == len(targets):
            use.targets_known = known
        else:
            use.targets_known = use.targets_known and known

    def _from_layer_kwargs(self, layer: LayerUse) -> None:
        entry = layer.entry
        for kwarg, param in ((entry.weight_init_kwarg, entry.weight), (entry.bias_init_kwarg, entry.bias)):
            if kwarg and kwarg in layer.args:
                for use in self.initializer_value(layer.args[kwarg], entry.framework):
                    self._target_all(use, [ParamTarget(param, layer)], True)

    def _from_consumers(self, site: CallSite) -> None:
        call = site.node
        func = call.func
        names = self.ev.names(func)
        # nn.Parameter(torch.randn(...)), tf.Variable(tf.random.normal(...))
        if names & PARAMETER_WRAPPERS and call.args:
            inner = call.args[0].value
            use = self.by_node.get(inner)
            if use is not None and use.via == "sampler":
                use.wrapped_as_parameter = True
            if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.args:
                self._direct_call(inner)  # tf.Variable(init(shape=(3, 4)))
            return
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if method == "initialize":  # MXNet: block.initialize(init=...), param.initialize(init=...)
            init = keywords.get("init", positional[0] if positional else None)
            if init is None:
                return
            targets, known = self._initialize_targets(func.value)
            for use in self.initializer_value(init, Framework.MXNET):
                self._target_all(use, targets, known)
        elif method == "param" and len(positional) >= 2:
            # Flax: self.param(name, init_fn, *init_args); init_args is usually the shape
            shape = positional[2] if len(positional) == 3 else None
            self._raw_parameter(positional[0], positional[1], shape, Framework.JAX)
        elif method in ("add_weight", "get_variable") or "get_variable" in {n.rsplit(".", 1)[-1] for n in names}:
            # Keras: self.add_weight(name=None, shape=None, ..., initializer=...); TF1 get_variable(name,
            # shape, dtype, initializer, ...), the initializer often positional
            init = keywords.get("initializer", positional[3] if method == "get_variable" and len(positional) > 3
                                else None)
            if init is not None:
                shape = keywords.get("shape", positional[1] if len(positional) > 1 and method != "add_weight"
                                     else positional[0] if positional and method == "add_weight" else None)
                name = keywords.get("name", positional[0] if positional and method != "add_weight" else None)
                self._raw_parameter(name, init, shape, Framework.KERAS, self.g.raw_weights.get(call))

    def _raw_parameter(self, name_node, init, shape, framework: Framework, layers=None) -> None:
        """A parameter created with an explicit initialiser and (maybe) a literal shape; ``layers``:
        the pseudo layers (``tf.matmul(x, W)``) it is the weight of, when the code multiplies it in."""
        name = self.ev.evaluate(name_node) if name_node is not None else None
        ndim = len(shape.elements) if isinstance(shape, (cst.Tuple, cst.List)) else None
        if layers:
            targets = [ParamTarget(layer.entry.weight, layer, ndim=ndim) for layer in layers]
        else:
            targets = [ParamTarget(name if isinstance(name, str) else None, ndim=ndim)]
        uses = self.initializer_value(init, framework)
        for use in uses:
            self._target_all(use, targets, ndim is not None)
            if len(uses) == 1:  # a name bound to several initialisers: which one this call gets is not known
                self.raw_sites.setdefault(use, []).append((init, shape))

    def _direct_call(self, call: cst.Call) -> None:
        """``init(shape=(3, 4))`` with ``init`` an initialiser object, called by hand for the initial
        value of a variable (``tf.Variable(init(...))``, TF2's raw style)."""
        uses = [self.by_node.get(value) for value, _ in self.c.resolver.assigned_values(call.func)]
        uses = [u for u in uses if u is not None and u.via == "factory" and u.entry is not None]
        if len(uses) != 1:
            return
        shape = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "shape"),
                     call.args[0].value if call.args[0].keyword is None else None)
        ndim = len(shape.elements) if isinstance(shape, (cst.Tuple, cst.List)) else None
        layers = self.g.raw_weights.get(call)
        targets = [ParamTarget(layer.entry.weight, layer, ndim=ndim) for layer in layers] if layers \
            else [ParamTarget(None, ndim=ndim)]
        self._target_all(uses[0], targets, ndim is not None)
        self.direct_calls.setdefault(uses[0], []).append((call, shape))

    def _initialize_targets(self, receiver: cst.BaseExpression) -> Tuple[List[ParamTarget], bool]:
        node = receiver
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                and node.func.attr.value == "collect_params":
            node = node.func.value
        param = None
        if isinstance(node, cst.Attribute) and node.attr.value in ("weight", "bias"):
            param = node.attr.value
            node = node.value
        layers = self.g.layers_in(node)
        if not layers:
            return [], False
        if param is None:
            # Block.initialize(init) passes init as the *default*: it fills the weights of layers
            # that name no weight_initializer of their own; biases, gammas and betas keep theirs
            targets = [ParamTarget(layer.entry.weight, layer) for layer in layers
                       if layer.kind is not LayerKind.NORM and layer.entry.weight_init_kwarg not in layer.args]
            return targets, True
        return [ParamTarget(param, layer) for layer in layers], True

    # -- init functions and where they apply --------------------------------------------------------

    @property
    def applied_functions(self):
        """Functions passed to ``.apply()``."""
        return self._applied.keys()

    def _collect_applications(self) -> None:
        for site in self.c.calls:
            call = site.node
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value == "apply" and len(call.args) == 1:
                fn = self._function_named(call.args[0].value, site)
                if fn is None:
                    continue
                receiver = func.value
                if isinstance(receiver, cst.Name) and receiver.value == "self":
                    cls = self._class_of_site(site)
                    layers = self.g.layers_of_class(cls) if cls is not None else []
                else:
                    layers = self.g.layers_in(receiver)
                    helper = self._helper_taking(receiver) if not layers else None
                    if helper is not None:  # def init_weights(net): net.apply(init_func), called init_weights(self)
                        layers = self._direct_calls(helper) or []
                        if helper in self._calls_unknown:
                            self._applied_unknown.add(fn)
                self._applied.setdefault(fn, []).extend(layers)
                self.apply_sites.setdefault(fn, []).append(site)
                if not layers:
                    self._applied_unknown.add(fn)
        if self.c.resolver.project is not None:
            self._collect_project_applications(self.c.resolver.project)

    def _collect_project_applications(self, project) -> None:
        """``x.apply(f)`` elsewhere in the project, with ``f`` a top-level function of this file: ``f``
        reaches the layers of the class of ``x`` (``net.apply(weights_init)`` in ``train.py``). Other
        applications the project does not show may exist, so the targets are never called complete."""
        for fn, scope in self.c.functions:
            if scope.parent is not self.c.module_scope or not isinstance(fn, cst.FunctionDef):
                continue
            for cls in project.applied_classes(fn.name.value):
                layers = self._project_class_layers(project, cls)
                if layers:
                    self._local_applied.setdefault(fn, list(self._applied.get(fn, ())))
                    self._applied.setdefault(fn, []).extend(layers)
            if not project.uses_known(fn.name.value):
                self._applied_unknown.add(fn)

    def _project_class_layers(self, project, cls: str) -> Optional[List[LayerUse]]:
        """The layers of a class the project names (``models.net.Net``): read here when it is a
        class of this file, else from its own module (``project.layers``)."""
        local = project.local_class(cls)
        if local is not None:
            node = next((c for c in self.g.classes if c.name.value == local), None)
            return self.g.layers_of_class(node) if node is not None else None
        return project.class_layers(cls)

    def _function_named(self, node: cst.BaseExpression, site: CallSite) -> Optional[cst.FunctionDef]:
        if isinstance(node, cst.Call) and node.args and "functools.partial" in self.ev.names(node.func):
            node = node.args[0].value
        if isinstance(node, cst.Name):
            for binding in self.c.resolver.lookup(node):
                if binding.kind == "def":
                    return binding.value
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
            cls = self._class_of_site(site)
            if cls is not None:
                for stmt in cls.body.body:
                    if isinstance(stmt, cst.FunctionDef) and stmt.name.value == node.attr.value:
                        return stmt
        return None

    def _class_of_site(self, site: CallSite) -> Optional[cst.ClassDef]:
        return site.scope.method_class if site.scope is not None else None

    def _class_of_function(self, function: Optional[cst.FunctionDef]) -> Optional[cst.ClassDef]:
        return self.g.class_of_function.get(function) if function is not None else None

    # -- targets -------------------------------------------------------------------------------------

    def targets_of(self, tensor: cst.BaseExpression, site: CallSite, depth: int = 0) -> Tuple[List[ParamTarget], bool]:
        """The parameters a torch tensor expression denotes, and whether that set is complete."""
        node = tensor
        while isinstance(node, cst.Attribute) and node.attr.value == "data":
            node = node.value
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                and node.func.attr.value in ("detach", "data"):
            node = node.func.value
        if isinstance(node, cst.Attribute):
            param = node.attr.value
            base = node.value
            if isinstance(base, cst.Name) and base.value == "self":
                # a raw parameter of this module: self.pos_embed = nn.Parameter(torch.empty(1, n, d))
                return [ParamTarget(param, ndim=self._raw_param_dims(site, param))], True
            item = self.g.classify(base)
            if isinstance(item, LayerUse):
                return [ParamTarget(param, item)], True
            if isinstance(item, SequentialUse):
                return [], False
            layers, known = self._modules_bound_to(base, site)
            if layers is not None:
                return [ParamTarget(param, layer) for layer in layers], known
            types = self._guard_types(base, site.guards)
            if types:
                return [ParamTarget(param, None, entry) for entry in types], False
            if param in ("weight", "bias", "kernel"):
                return [ParamTarget(param)], False
            return [], False
        owner = _parameters_of(node)
        if owner is not None:  # init_all(self.fc.parameters())
            return self._all_parameters(owner, site)
        if isinstance(node, cst.Name):
            for binding in self.c.resolver.lookup(node):
                if binding.kind == "loop" and self._iterates(binding, _PARAM_ITERATORS):
                    if binding.value.func.attr.value == "parameters":
                        return self._all_parameters(binding.value.func.value, site)
                    return [ParamTarget(ALL_PARAMS)], not site.guards
                if binding.kind == "loop" and binding.index is None and depth < 3:
                    listed = self._listed_targets(binding, site, depth)
                    if listed is not None:
                        return listed
        return [], False

    def _all_parameters(self, owner: cst.BaseExpression, site: CallSite) -> Tuple[List[ParamTarget], bool]:
        """Every parameter of ``owner`` (``owner.parameters()``): of each of its layers where the code
        shows them (``self.fc.parameters()``), else of the whole module (``self.parameters()``)."""
        layers = [] if isinstance(owner, cst.Name) and owner.value == "self" else self.g.layers_in(owner)
        if layers:
            return [ParamTarget(ALL_PARAMS, layer) for layer in layers], not site.guards
        return [ParamTarget(ALL_PARAMS)], not site.guards

    def _listed_targets(self, binding: Binding, site: CallSite, depth: int) -> Optional[Tuple[List[ParamTarget], bool]]:
        """The parameters a loop visits when they are written out: ``for w in [self.fc.weight,
        self.out.weight]``, or a helper's ``for p in params`` called ``init_params([self.fc.weight])``
        (each element read where it is written, so ``self`` is the caller's). A guard inside the loop
        (``if p.dim() > 1``) may skip some, and ``*rest`` adds unseen ones: then the set is not complete."""
        elements, complete = self._written_elements(binding.value, site)
        targets: List[ParamTarget] = []
        known = complete and not site.guards
        for element, where in elements:
            found, whole = self.targets_of(element, where, depth + 1)
            targets.extend(found)
            known = known and whole and bool(found)
        return (targets, known) if targets else None

    def _written_elements(self, iterable: cst.BaseExpression, site: CallSite) \
            -> Tuple[List[Tuple[cst.BaseExpression, CallSite]], bool]:
        """The elements of a list, tuple or set the loop runs over, written in the loop (``for w in
        [a, b]``), in the one assignment of a local it runs over (``ws = [a, b]``), or in every call of
        the function whose parameter it runs over (``init_params([a, b])``), each with the call it is
        written in; and whether those are all (no ``*rest``, every caller seen and writing them out)."""
        if isinstance(iterable, (cst.List, cst.Tuple, cst.Set)):
            values, complete = _written(iterable)
            return [(value, site) for value in values], complete
        if _parameters_of(iterable) is not None:  # init_all(self.fc.parameters()): targets_of reads it
            return [(iterable, site)], True
        if not isinstance(iterable, cst.Name):
            return [], False
        bindings = self.c.resolver.lookup(iterable)
        if len(bindings) == 1 and bindings[0].kind == "assign" and bindings[0].index is None \
                and isinstance(bindings[0].value, (cst.List, cst.Tuple)):
            return self._written_elements(bindings[0].value, site)  # ws = [self.fc.weight, ...]
        for binding in bindings:
            if binding.kind != "param" or self.ev.flow is None:
                continue
            arguments = self.ev.flow.parameter_arguments(binding) or []
            elements: List[Tuple[cst.BaseExpression, CallSite]] = []
            complete = bool(arguments)
            for argument in arguments:
                if argument.site is None:  # a public function's default: callers we do not see
                    complete = False
                    continue
                if isinstance(argument.value, (cst.List, cst.Tuple, cst.Set)) \
                        or _parameters_of(argument.value) is not None:
                    written, whole = self._written_elements(argument.value, argument.site)
                    elements.extend(written)
                    complete = complete and whole
                else:
                    complete = False
            return elements, complete
        return [], False

    def _raw_param_dims(self, site: CallSite, attr: str) -> Optional[int]:
        """Dimensions of ``self.attr = nn.Parameter(torch.empty(a, b))`` when every assignment agrees."""
        cls = self._class_of_site(site)
        if cls is None:
            return None
        attrs = self.g.classes[cls].attrs
        tensors = []
        for value in attrs.get(attr, []):
            if not (isinstance(value, cst.Call) and self.ev.names(value.func) & PARAMETER_WRAPPERS and value.args):
                return None
            tensors.append(value.args[0].value)
        # the names known to be ints matter only for a size passed alone (torch.empty(n), see
        # shape_of): only then are the class's layers read (its bases' in other modules cost a parse)
        sizes = self._int_names(cls) if any(map(_lone_size, tensors)) else frozenset()
        dims = {self._tensor_dims(tensor, sizes) for tensor in tensors}
        return dims.pop() if len(dims) == 1 else None

    def _int_names(self, cls: cst.ClassDef) -> Set[str]:
        attrs = self.g.classes[cls].attrs
        # a name the class also passes as one of several sizes (torch.empty(o, i)) is an int
        sizes = {a.value.value for values in attrs.values() for v in values
                 if isinstance(v, cst.Call) and v.args and isinstance(v.args[0].value, cst.Call)
                 for a in v.args[0].value.args
                 if len(v.args[0].value.args) > 1 and isinstance(a.value, cst.Name)}
        # ... and so is one it passes as a layer's units or channels: nn.Conv2d(c_in, c_out, 3)
        sizes |= {arg.value for layer in self.g.layers_of_class(cls) for arg in layer.args.values()
                  if isinstance(arg, cst.Name)}
        return sizes

    def _tensor_dims(self, node: cst.BaseExpression, int_names=frozenset()) -> Optional[int]:
        """Dimensions of ``torch.empty(a, b)`` / ``torch.zeros((a, b))`` / ``torch.ones(n)``."""
        if not isinstance(node, cst.Call) or not any(n.startswith("torch.") for n in self.ev.names(node.func)):
            return None
        shape = shape_of(self.ev, node, frozenset(int_names))
        return len(shape) if shape else None

    def _iterates(self, binding: Binding, methods: Tuple[str, ...]) -> bool:
        value = binding.value
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            return value.func.attr.value in methods
        return False

    def _modules_bound_to(self, base: cst.BaseExpression, site: CallSite) -> Tuple[Optional[List[LayerUse]], bool]:
        """Layers a module variable ranges over: an init function's parameter, a modules() loop."""
        if not isinstance(base, cst.Name):
            return None, False
        for binding in self.c.resolver.lookup(base):
            if binding.kind == "param":
                fn = binding.scope.function
                if fn is None:
                    continue
                layers = self._applied.get(fn)
                if fn in self._local_applied and not self._types_only(base, site.guards):
                    layers = self._local_applied[fn]  # what other modules apply it to passes typed guards only
                if layers is None:
                    layers = self._direct_calls(fn)
                if layers is None:  # self._init_layer(self.fc1, std): the file's call sites, by parameter
                    layers, known = self._passed_layers(binding)
                    return (self._filter(layers, base, site.guards), known) if layers else (None, False)
                if not layers:
                    return None, False
                return self._filter(layers, base, site.guards), \
                    fn not in self._applied_unknown and fn not in self._calls_unknown
            if binding.kind == "loop" and (binding.index is None or (
                    binding.index == 1 and self._iterates(binding, ("named_modules",)))):
                layers, known = self._loop_layers(binding)  # for m in ...; for name, m in self.named_modules()
                if not layers:
                    return None, False
                return self._filter(layers, base, site.guards), known
        return None, False

    def _loop_layers(self, binding: Binding, _seen: Optional[Set[cst.FunctionDef]] = None) -> Tuple[List[LayerUse], bool]:
        """Layers a ``for m in ...`` loop visits (``x.modules()``, ``x.children()``, or a container),
        and whether those are all of them."""
        iterable = binding.value
        if self._iterates(binding, _MODULE_ITERATORS):
            receiver = iterable.func.value
            if isinstance(receiver, cst.Name) and receiver.value == "self":
                fn = binding.scope.function
                cls = self._class_of_function(fn)
                if cls is None:
                    return [], True
                layers = self.g.layers_of_class(cls)
                return layers + [layer for layer in self._subclass_layers(cls, fn) if layer not in layers], True
            helper = self._helper_taking(receiver)
            if helper is not None:  # def init_weights(net): for m in net.modules(), called init_weights(self)
                return self._direct_calls(helper, _seen) or [], helper not in self._calls_unknown
            return self.g.layers_in(receiver), True
        helper = self._helper_taking(iterable)
        if helper is not None:  # def init_weights(modules): for m in modules, called init_weights(self.modules())
            return self._direct_calls(helper, _seen) or [], helper not in self._calls_unknown
        method = self._method_taking(iterable)
        if method is not None:  # def _init(self, modules): for m in modules, called self._init(self.modules())
            return self._method_calls(method)
        if isinstance(self.g.classify(iterable), SequentialUse):
            return self.g.layers_in(iterable), True
        if isinstance(iterable, (cst.List, cst.Tuple)):  # for layer in (self.fc1, self.fc2)
            values, complete = _written(iterable)
            found = [self.g.layers_in(value) for value in values]
            return [layer for layers in found for layer in layers], complete and all(found)
        return [], True

    def _passed_layers(self, binding: Binding) -> Tuple[List[LayerUse], bool]:
        """The layers the file's call sites pass for a parameter, and whether every call passes one."""
        arguments = self.ev.flow.parameter_arguments(binding) if self.ev.flow is not None else None
        if not arguments:
            return [], False
        layers: List[LayerUse] = []
        known = True
        for argument in arguments:
            found = self.g.layers_in(argument.value) if argument.site is not None else []
            known = known and bool(found)
            layers.extend(layer for layer in found if layer not in layers)
        return layers, known

    def _helper_taking(self, name: cst.BaseExpression) -> Optional[cst.FunctionDef]:
        """The function whose first parameter ``name`` is (the module a helper initialises)."""
        return self._taking(name, method=False)

    def _method_taking(self, name: cst.BaseExpression) -> Optional[cst.FunctionDef]:
        """The method whose first argument after ``self`` ``name`` is."""
        return self._taking(name, method=True)

    def _taking(self, name: cst.BaseExpression, method: bool) -> Optional[cst.FunctionDef]:
        if not isinstance(name, cst.Name):
            return None
        index = 1 if method else 0
        for binding in self.c.resolver.lookup(name):
            fn = binding.scope.function if binding.kind == "param" else None
            params = fn.params.params if fn is not None else ()
            if len(params) > index and params[index].name.value == name.value and (not method or (
                    params[0].name.value == "self" and self._class_of_function(fn) is not None)):
                return fn
        return None

    def _subclass_layers(self, cls: cst.ClassDef, fn: Optional[cst.FunctionDef]) -> List[LayerUse]:
        """The layers of the subclasses of ``cls`` that run its method ``fn`` on themselves
        (``self.init_weights()`` in a subclass whose own resolution order reaches ``cls``'s method,
        through classes between that do not define their own or call it with ``super()``): a base
        class's init method reaches the modules of the instance it runs on. This file's subclasses
        are read here; the project's, from its scan."""
        if fn is None:
            return []
        name = fn.name.value
        known = self._subclassed.get((cls, name))
        if known is None:  # asked for every loop over self.modules() in the method
            known = self._subclassed[(cls, name)] = self._new_subclass_layers(cls, name)
        return known

    def _new_subclass_layers(self, cls: cst.ClassDef, name: str) -> List[LayerUse]:
        out: List[LayerUse] = []
        callers = {self._class_of_site(site) for site in self.c.calls if _self_call(site.node, name)}
        for sub in self.g.classes:
            if sub is cls or sub not in callers:
                continue
            if any(runner is cls for runner in runs(sub, name, self._class_facts) or ()):
                out.extend(layer for layer in self.g.layers_of_class(sub) if layer not in out)
        project = self.c.resolver.project
        if project is not None:  # class Net(BaseModel) in models/net.py calling self.init_weights()
            for qualname in project.passed_classes(f"{cls.name.value}.{name}"):
                if project.local_class(qualname) is not None:
                    continue  # this file's own subclasses: read above
                out.extend(layer for layer in project.class_layers(qualname) or [] if layer not in out)
        return out

    def _class_facts(self, cls):
        """``analysis.inheritance``'s facts of a class of this file (its bases: this file's classes,
        else their qualified names) or of a qualified name (the project's summaries tell; else a
        framework's class defines nothing, any other is not known)."""
        if cls in self._facts:
            return self._facts[cls]
        if isinstance(cls, str):
            project = self.c.resolver.project
            found = project.class_facts(cls) if project is not None else outside(cls)
        else:
            bases: List[object] = []
            for base in cls.bases:
                local = self.g.local_class(base.value)
                names = sorted(self.ev.names(base.value)) if local is None else ()
                if local is not None or names:  # a base the file does not bind (object) is left out
                    bases.append(local if local is not None else names[0])
            methods = {item.name.value: item for item in cls.body.body if isinstance(item, cst.FunctionDef)}
            found = bases, methods, _NextRunners(cls, methods)
        self._facts[cls] = found
        return found

    def _method_calls(self, fn: cst.FunctionDef) -> Tuple[List[LayerUse], bool]:
        """The layers the class's own calls ``self.fn(x.modules())`` (or ``self.fn(x)`` with ``x`` a
        container of layers) hand to the method, and whether every such call shows its layers."""
        cls = self._class_of_function(fn)
        layers: List[LayerUse] = []
        known = True
        for site in self.c.calls:
            if not (_self_call(site.node, fn.name.value) and site.node.args and self._class_of_site(site) is cls):
                continue
            argument = site.node.args[0].value
            owner = _iterated_modules(argument)
            if isinstance(owner, cst.Name) and owner.value == "self":
                found = self._own_layers(site)
            else:
                found = self.g.layers_in(owner if owner is not None else argument)
            known = known and bool(found)
            layers.extend(layer for layer in found if layer not in layers)
        return layers, known and bool(layers)

    def _own_layers(self, site: CallSite) -> List[LayerUse]:
        """The layers of the class whose method makes the call at ``site`` (``self.modules()`` there)."""
        cls = self._class_of_site(site)
        return self.g.layers_of_class(cls) if cls is not None else []

    def _direct_calls(self, fn: cst.FunctionDef, _seen: Optional[Set[cst.FunctionDef]] = None) -> Optional[List[LayerUse]]:
        """The layers ``fn`` is called on, as its first argument: a module of this file
        (``init_weights(self)``, ``init(self.fc)``), each module of a loop (``for m in
        self.modules(): init(m)``, under the call's own guards), and the classes other modules of
        the project pass to it (``init_weights(self)`` in ``models/net.py``). A function some of
        whose callers the project does not show is put in ``_calls_unknown``."""
        seen = set() if _seen is None else _seen
        if fn in seen:  # a helper that calls itself on each child
            return None
        seen.add(fn)
        layers: List[LayerUse] = []
        for site in self.c.calls:
            call = site.node
            if isinstance(call.func, cst.Name) and call.func.value == fn.name.value and call.args:
                argument = call.args[0].value
                owner = _iterated_modules(argument)
                if isinstance(owner, cst.Name) and owner.value == "self":  # init_weights(self.modules())
                    layers.extend(layer for layer in self._own_layers(site) if layer not in layers)
                    continue
                if owner is not None:  # init_weights(net.modules()): the modules of what it is called on
                    argument = owner
                found = self.g.layers_in(argument)
                outer = self._helper_taking(argument) if not found else None
                if outer is not None and outer is not fn:  # init_net(net) calls init_weights(net)
                    found = self._direct_calls(outer, seen) or []
                    if outer in self._calls_unknown:
                        self._calls_unknown.add(fn)
                elif not found and isinstance(argument, cst.Name):
                    for binding in self.c.resolver.lookup(argument):
                        if binding.kind == "loop" and binding.index is None:
                            looped, known = self._loop_layers(binding, seen)
                            found = self._filter(looped, argument, site.guards)
                            if not known:
                                self._calls_unknown.add(fn)
                layers.extend(layer for layer in found if layer not in layers)
        project = self.c.resolver.project
        scope = self._functions.get(fn)
        if project is not None and scope is not None and scope.parent is self.c.module_scope:
            for cls in project.passed_classes(fn.name.value):
                found = self._project_class_layers(project, cls) or []
                layers.extend(layer for layer in found if layer not in layers)
            if not project.uses_known(fn.name.value):
                self._calls_unknown.add(fn)
        return layers or None

    def _guard_types(self, name_node: cst.BaseExpression, guards: Tuple[Guard, ...]) -> List[Layer]:
        include: Optional[List[Layer]] = None
        for guard in guards:
            if guard.negated:
                continue
            types = self._types_tested(guard.test, name_node)
            if types is not None:
                include = types if include is None else [t for t in include if t in types]
        return include or []

    def _types_only(self, name_node, guards: Tuple[Guard, ...]) -> bool:
        return all(self._types_tested(guard.test, name_node) is not None for guard in guards)

    def _filter(self, layers: List[LayerUse], name_node, guards: Tuple[Guard, ...]) -> List[LayerUse]:
        for guard in guards:
            types = self._types_tested(guard.test, name_node)
            by_name = class_name_test(self.ev, guard.test, name_node.value) \
                if types is None and isinstance(name_node, cst.Name) else None
            owned = _has_parameter_test(guard.test, name_node) if by_name is None and types is None else None
            if by_name is not None:  # classname.find('Conv') != -1: a type guard on the class name
                admitted = [layer for layer in layers if by_name(class_name(layer.entry))]
            elif owned is not None:  # hasattr(m, 'weight'): the layers that have one
                admitted = [layer for layer in layers if owned in (layer.entry.weight, layer.entry.bias)
                            or owned in layer.entry.extra_weights]
            elif types is None:
                if self._about_configuration(guard.test, name_node):
                    # `if init_type == 'xavier':` picks no layer: every one passes it, where the
                    # branch is taken. A menu of schemes (pix2pix's init_type) whose choice the
                    # file does not show is the user's to pick: no branch of it is known taken
                    taken = self._option_taken(guard.test)
                    if taken is not None and taken == guard.negated or taken is None and _option_test(guard.test):
                        layers = []
                    continue
                # layers of other modules of the project pass only guards read as type tests: one
                # this analysis does not read (a class-name match) would let every layer through
                layers = [layer for layer in layers if layer.origin is None]
                continue
            else:
                admitted = [layer for layer in layers if any(catalogue.is_subtype(layer.entry, t) for t in types)]
            if guard.negated:
                layers = [layer for layer in layers if layer not in admitted]
            else:
                layers = admitted
        return layers

    def _option_taken(self, test: cst.BaseExpression) -> Optional[bool]:
        """``init_type == 'xavier'`` (``!=``, ``in``, ``not in``) evaluated where the code
        establishes the value compared; None otherwise."""
        if not _option_test(test):
            return None
        comparison = test.comparisons[0]
        left, right = self.ev.evaluate(test.left), self.ev.evaluate(comparison.comparator)
        if isinstance(comparison.operator, (cst.Equal, cst.NotEqual)) and isinstance(left, str) \
                and isinstance(right, str):
            return (left == right) != isinstance(comparison.operator, cst.NotEqual)
        if isinstance(comparison.operator, (cst.In, cst.NotIn)) and isinstance(left, str) \
                and isinstance(right, tuple) and all(isinstance(v, str) for v in right):
            return (left in right) != isinstance(comparison.operator, cst.NotIn)
        return None

    def _about_configuration(self, test: cst.BaseExpression, name_node) -> bool:
        """Does ``test`` read only what does not depend on the module ``name_node`` (a parameter
        such as ``init_type``, an import, a module-level name, a literal)? A local variable may
        hold something of the module (``is_conv = isinstance(m, nn.Conv2d)``): not such a test."""
        subject = name_node.value if isinstance(name_node, cst.Name) else None
        for node in walk(test):
            if not isinstance(node, cst.Name):
                continue
            if node.value == subject:
                return False
            for binding in self.c.resolver.lookup(node):
                module_level = binding.scope is self.c.module_scope
                if binding.kind not in ("param", "import", "def", "class") and not module_level:
                    return False
        return subject is not None

    def _types_tested(self, test: cst.BaseExpression, name_node) -> Optional[List[Layer]]:
        """Layer types an isinstance()/type() test on ``name_node`` admits (None: not such a test)."""
        if not isinstance(name_node, cst.Name):
            return None
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
            left = self._types_tested(test.left, name_node)
            return left if left is not None else self._types_tested(test.right, name_node)
        type_expr = None
        if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "isinstance" \
                and len(test.args) == 2:
            subject = test.args[0].value
            if isinstance(subject, cst.Name) and subject.value == name_node.value:
                type_expr = test.args[1].value
        elif isinstance(test, cst.Comparison) and len(test.comparisons) == 1 \
                and isinstance(test.comparisons[0].operator, (cst.Equal, cst.Is, cst.In)):
            left, right = test.left, test.comparisons[0].comparator
            for subject, other in ((left, right), (right, left)):  # type(m) == T, and T == type(m)
                if isinstance(subject, cst.Call) and isinstance(subject.func, cst.Name) \
                        and subject.func.value == "type" and subject.args \
                        and isinstance(subject.args[0].value, cst.Name) \
                        and subject.args[0].value.value == name_node.value:
                    type_expr = other
                    break
        if type_expr is None:
            return None
        elements = [e.value for e in type_expr.elements] if isinstance(type_expr, (cst.Tuple, cst.List)) \
            else [type_expr]
        types = []
        for element in elements:
            for name in self.ev.names(element):
                entry = catalogue.layer(name)
                if entry is not None:
                    types.append(entry)
        return types


def _lone_size(tensor: cst.BaseExpression) -> bool:
    """``torch.empty(n)``: the one size a tensor call is given, a name (which ``shape_of`` reads
    as a size only when the name is known to be an int)."""
    if not isinstance(tensor, cst.Call):
        return False
    positional = [a.value for a in tensor.args if a.keyword is None and not a.star]
    return len(positional) == 1 and isinstance(positional[0], cst.Name)


def filled_tensor(call: cst.Call) -> Optional[cst.BaseExpression]:
    """The tensor an in-place initialiser call fills (``normal_(w, ...)``, ``normal_(tensor=w)``), or None."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "tensor":
            return arg.value
    if call.args and call.args[0].keyword is None:
        return call.args[0].value
    return None


def _option_test(test: cst.BaseExpression) -> bool:
    """A comparison of a value with a string or strings: ``init_type == 'xavier'``, ``mode in ('a', 'b')``."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1 \
            or not isinstance(test.comparisons[0].operator, (cst.Equal, cst.NotEqual, cst.In, cst.NotIn)):
        return False
    sides = (test.left, test.comparisons[0].comparator)
    return any(isinstance(side, (cst.SimpleString, cst.ConcatenatedString)) or (
        isinstance(side, (cst.Tuple, cst.List, cst.Set)) and side.elements
        and all(isinstance(e.value, cst.SimpleString) for e in side.elements)) for side in sides)


def _has_parameter_test(test: cst.BaseExpression, name_node) -> Optional[str]:
    """``p`` for a ``hasattr(m, 'p')`` test on the module variable ``m``."""
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "hasattr" \
            and len(test.args) == 2 and isinstance(name_node, cst.Name) \
            and isinstance(test.args[0].value, cst.Name) and test.args[0].value.value == name_node.value \
            and isinstance(test.args[1].value, cst.SimpleString):
        value = test.args[1].value.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _is_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(_is_literal(e.value) for e in node.elements)
    return isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)) or (
        isinstance(node, cst.Name) and node.value in ("None", "True", "False"))


def _tensor_name(node: cst.BaseExpression) -> Optional[str]:
    while isinstance(node, cst.Attribute) and node.attr.value == "data":
        node = node.value
    return final_name(node)
