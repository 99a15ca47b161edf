"""Layers, the containers that chain them, and the activation each layer's output goes through.

Pairing comes from three places, in every framework: ``Sequential`` lists (and ``.add()`` calls),
``activation=`` arguments, and data flow in ``forward``/``__call__``/``call`` bodies or functional
code (``x = self.fc1(x); x = F.relu(x)``, ``nn.relu(nn.Dense(8)(x))``). A pairing is recorded only
when the code shows it; otherwise ``followed_by`` stays ``None`` (unknown) and rules stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Tuple, Union

import libcst as cst

from .. import catalogue
from ..catalogue import Activation, Framework, Layer, LayerKind
from ..catalogue.containers import SEQUENTIALS, TRANSPARENT, TRANSPARENT_ROOTS
from ..catalogue.names import canonical
from . import raw_ops
from .collector import Collected
from .traversal import children, walk
from .values import UNKNOWN, Evaluator, is_number

# expressions whose operands may each be a layer's output, for pairing
_OPERANDS_OF = (cst.BinaryOperation, cst.Tuple, cst.List)

WEIGHT_KINDS = frozenset({LayerKind.DENSE, LayerKind.CONV, LayerKind.CONV_TRANSPOSE, LayerKind.EMBEDDING,
                          LayerKind.RNN, LayerKind.ATTENTION})


@dataclass(frozen=True)
class ActivationRef:
    activation: Activation
    slope: Optional[float] = None

    @property
    def gain_name(self) -> str:
        return self.activation.value


LINEAR = ActivationRef(Activation.LINEAR)


@dataclass(eq=False)
class LayerUse:
    """One layer constructor call and what the code shows about it."""

    node: cst.Call
    entry: Layer
    args: Dict[str, cst.BaseExpression]
    activation: Optional[ActivationRef] = None  # from an activation= argument
    followed_by: Optional[ActivationRef] = None  # what its output goes through (None: unknown)
    feeds_layer: bool = False  # its output reaches another weight layer (it is a hidden layer)
    names: Tuple[str, ...] = ()  # attribute / variable names it is stored under (self.lora_B -> "lora_B")
    # what feeds it, in a Sequential: the previous weight layer, or an Input(shape=...) call
    fed_by: Optional[cst.CSTNode] = None
    # where it is, when it is defined in another module of the project (``models/net.py:9``)
    origin: Optional[str] = None

    @property
    def framework(self) -> Framework:
        return self.entry.framework

    @property
    def kind(self) -> LayerKind:
        return self.entry.kind

    def arg(self, spec: Optional[Tuple[str, int]]) -> Optional[cst.BaseExpression]:
        return None if spec is None else self.args.get(spec[0])

    def effective_activation(self) -> Optional[ActivationRef]:
        if self.activation is not None and self.activation.activation is not Activation.LINEAR:
            return self.activation
        return self.followed_by


@dataclass(eq=False)
class SequentialUse:
    node: cst.Call
    framework: Framework
    elements: List[cst.BaseExpression] = field(default_factory=list)


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    bases: frozenset
    attrs: Dict[str, List[cst.BaseExpression]] = field(default_factory=dict)


Item = Union[LayerUse, ActivationRef, SequentialUse, None]


class Graph:
    """Classifies expressions as layers, activations or containers, and pairs them."""

    def __init__(self, collected: Collected, evaluator: Evaluator) -> None:
        self.c = collected
        self.ev = evaluator
        self.resolver = collected.resolver
        self.layers: Dict[cst.Call, LayerUse] = {}
        self.sequentials: Dict[cst.Call, SequentialUse] = {}
        self.classes: Dict[cst.ClassDef, ClassInfo] = {}
        self.class_of_function: Dict[cst.FunctionDef, cst.ClassDef] = {}
        # layers a helper returns (``def conv(n): return nn.Conv2d(...)``): one constructor call
        # standing for every call of the helper; each place it is used may pair it differently,
        # so its activation is the one every place agrees on (None otherwise)
        self.made_by_helper: Dict[LayerUse, Dict[object, ActivationRef]] = {}  # place used -> pairing
        self._place: Dict[LayerUse, object] = {}  # where a helper's layer was last called, in data flow
        self._arg_scope: Optional[bool] = None  # the file calls slim's arg_scope
        self._unpaired_copies: Dict[LayerUse, LayerUse] = {}
        self._build()

    # -- construction ------------------------------------------------------------------------------

    def _build(self) -> None:
        for node, _scope in self.c.classes:
            bases = frozenset(q for base in node.bases for q in self.ev.names(base.value))
            self.classes[node] = ClassInfo(node, bases)
        for (cls, attr), values in self.c.self_attrs.items():
            self.classes[cls].attrs[attr] = [v for v, _ in values]
        for function, scope in self.c.functions:
            owner = scope.enclosing_class
            if owner is not None:
                self.class_of_function[function] = owner
        for site in self.c.calls:  # constructors first, so containers can see their elements
            self._construct(site.node)
        self.raw_weights = raw_ops.find_raw_layers(self)  # TF1: tf.matmul(x, W) with W a variable
        for site in self.c.calls:
            self._grow_container(site.node)
        for (cls, attr), values in self.c.self_attrs.items():
            for value in values:
                self._name_layers(value[0], attr)
        for sequential in self.sequentials.values():
            self._pair_sequence(sequential)
        for function, _scope in self.c.functions:
            self._flow(function.body.body if isinstance(function.body, cst.IndentedBlock) else [])
        self._flow(self.c.module.body)
        for layer, places in self.made_by_helper.items():
            refs = list(places.values())
            layer.followed_by = refs[0] if refs and all(r == refs[0] for r in refs[1:]) else None

    def _pair(self, layer: LayerUse, ref: ActivationRef, place: object = None) -> None:
        """Record that ``layer``'s output goes through ``ref`` (the first pairing the code shows wins;
        for a helper's layer, the first at each place it is used)."""
        if layer in self.made_by_helper:
            key = place if place is not None else self._place.get(layer)
            self.made_by_helper[layer].setdefault(key, ref)
        elif layer.followed_by is None:
            layer.followed_by = ref

    def _construct(self, call: cst.Call) -> None:
        names = self.ev.names(call.func)
        for name in names:
            entry = catalogue.layer(name)
            if entry is not None:
                self.layers[call] = self._layer_use(call, entry)
                return
            container = SEQUENTIALS.get(canonical(name))
            if container is not None:
                framework, style = container
                seq = SequentialUse(call, framework)
                if style == "args":
                    seq.elements = [a.value for a in call.args if a.keyword is None and not a.star]
                else:
                    first = call.args[0].value if call.args and call.args[0].keyword is None else None
                    for arg in call.args:
                        if arg.keyword is not None and arg.keyword.value == "layers":
                            first = arg.value
                    if isinstance(first, (cst.List, cst.Tuple)):
                        seq.elements = [e.value for e in first.elements if not isinstance(e, cst.StarredElement)]
                self.sequentials[call] = seq
                return

    def _layer_use(self, call: cst.Call, entry: Layer) -> LayerUse:
        args: Dict[str, cst.BaseExpression] = {}
        for spec in (entry.units_param, entry.in_units_param, entry.kernel_param):
            argument = _argument(call, spec)
            if argument is not None:
                args[spec[0]] = argument
        for arg in call.args:
            if arg.keyword is not None:
                args[arg.keyword.value] = arg.value
        if entry.activation_position is not None and entry.activation_kwarg not in args:
            positional = _argument(call, (entry.activation_kwarg, entry.activation_position))
            if positional is not None:
                args[entry.activation_kwarg] = positional
        use = LayerUse(call, entry, args)
        if entry.activation_kwarg and entry.activation_kwarg in args:
            use.activation = self.activation_of(args[entry.activation_kwarg], entry.framework)
        elif entry.functional and entry.default_activation and not self._has_arg_scope():
            # slim.fully_connected(x, 64) applies its ReLU default, unless an arg_scope may change it
            found = catalogue.activation_from_string(entry.framework, entry.default_activation)
            use.activation = ActivationRef(*found) if found else None
        return use

    def _has_arg_scope(self) -> bool:
        if self._arg_scope is None:
            self._arg_scope = any(n.endswith("arg_scope") for site in self.c.calls for n in self.ev.names(site.node.func))
        return self._arg_scope

    def _grow_container(self, call: cst.Call) -> None:
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in ("add", "append", "add_module", "extend"):
            return
        target = self.classify(func.value)
        if not isinstance(target, SequentialUse):
            return
        values = [a.value for a in call.args if a.keyword is None and not a.star]
        if func.attr.value == "add_module":
            values = values[1:]
        if func.attr.value == "extend" and values and isinstance(values[0], (cst.List, cst.Tuple)):
            values = [e.value for e in values[0].elements]
        target.elements.extend(values)

    def _name_layers(self, value: cst.BaseExpression, name: str) -> None:
        item = self.classify(value)
        if isinstance(item, LayerUse) and name not in item.names:
            item.names += (name,)

    # -- classification ----------------------------------------------------------------------------

    def classify(self, node: Optional[cst.CSTNode], depth: int = 0) -> Item:
        """What an expression denotes: a layer, an activation, a container, or None (unknown)."""
        if node is None or depth > 8:
            return None
        if isinstance(node, cst.Call):
            if node in self.layers:
                return self.layers[node]
            if node in self.sequentials:
                return self.sequentials[node]
            names = self.ev.names(node.func)
            if not names and self.ev.flow is not None:
                returned = self.ev.flow.returned(node)
                if returned is not None:  # conv(64) with def conv(n): return nn.Conv2d(...)
                    item = self.classify(returned, depth + 1)
                    if isinstance(item, LayerUse) and item not in self.made_by_helper:
                        self.made_by_helper[item] = {None: item.followed_by} if item.followed_by is not None else {}
                    return item
            for name in names:
                act = catalogue.activation(name)
                if act is not None and act.style == "module":
                    if act.activation_param is not None:  # Activation('relu'): the argument names it
                        argument = _argument(node, act.activation_param)
                        return None if argument is None else self.activation_of(argument, act.framework)
                    return ActivationRef(act.activation, self._slope(node, act, module=True))
            return None
        if isinstance(node, (cst.Name, cst.Attribute)):
            for name in self.ev.names(node):
                act = catalogue.activation(name)
                if act is not None and act.style == "function":
                    return ActivationRef(act.activation, act.default_slope)
            if isinstance(node, cst.Name):
                values = self.resolver.assigned_values(node)
                items = {id(i): i for i in (self.classify(v, depth + 1) for v, _ in values) if i is not None}
                return next(iter(items.values())) if len(items) == 1 else None
            return self._self_attr(node, depth)
        if isinstance(node, cst.IfExp):
            # ``tf.nn.relu if i < last else None``: where it is used as a layer or called
            # (``if activation: x = activation(x)``), it is the branch that is not None
            branches = [b for b in (node.body, node.orelse) if not (isinstance(b, cst.Name) and b.value == "None")]
            items = {id(i): i for i in (self.classify(b, depth + 1) for b in branches)}
            return next(iter(items.values())) if len(items) == 1 else None
        if isinstance(node, cst.Subscript):
            base = self.classify(node.value, depth + 1)
            if isinstance(base, SequentialUse) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
                index = self.ev.evaluate(node.slice[0].slice.value)
                if isinstance(index, int) and -len(base.elements) <= index < len(base.elements):
                    return self.classify(base.elements[index], depth + 1)
        return None

    def instance_class(self, node: cst.CSTNode) -> Optional[cst.ClassDef]:
        """The class of this file that ``node`` is an instance of: ``self``, or ``net`` in
        ``net = TwoLayer()``."""
        return self.resolver.instance_class(node)

    def _self_attr(self, node: cst.Attribute, depth: int) -> Item:
        cls = self.instance_class(node.value)
        if cls is None:
            return None
        values = self.classes[cls].attrs.get(node.attr.value, [])
        items = {id(i): i for i in (self.classify(v, depth + 1) for v in values)}
        return next(iter(items.values())) if len(items) == 1 else None

    def _with_call_slope(self, call: cst.Call, ref: ActivationRef) -> ActivationRef:
        """``F.leaky_relu(x, negative_slope=0.2)``: a function's slope is an argument of the call."""
        for name in self.ev.names(call.func):
            act = catalogue.activation(name)
            if act is not None and act.style == "function" and act.slope_param is not None:
                return ActivationRef(ref.activation, self._slope(call, act, module=False))
        return ref

    def _slope(self, call: cst.Call, act, module: bool) -> Optional[float]:
        argument = _argument(call, act.slope_param)
        if argument is None:
            return act.default_slope
        value = self.ev.evaluate(argument)
        return float(value) if is_number(value) else None

    def activation_of(self, node: cst.BaseExpression, framework: Framework) -> Optional[ActivationRef]:
        """The activation an ``activation=`` argument names: a string, a function, or None."""
        value = self.ev.evaluate(node)
        if value is None:
            return LINEAR
        if isinstance(value, str):
            found = catalogue.activation_from_string(framework, value)
            return ActivationRef(found[0], found[1]) if found else None
        item = self.classify(node)
        return item if isinstance(item, ActivationRef) else None

    def is_transparent(self, node: cst.BaseExpression) -> bool:
        func = node.func if isinstance(node, cst.Call) else node
        for name in self.ev.names(func):
            name = canonical(name)
            if name.startswith(TRANSPARENT_ROOTS) and name.rsplit(".", 1)[-1] in TRANSPARENT:
                return True
        return False

    # -- pairing ---------------------------------------------------------------------------------

    def _pair_sequence(self, seq: SequentialUse) -> None:
        items = [self.classify(e) for e in seq.elements]
        for i, item in enumerate(items):
            if not isinstance(item, LayerUse) or item.kind is LayerKind.NORM:
                continue
            if any(isinstance(later, LayerUse) and later.kind in WEIGHT_KINDS for later in items[i + 1:]):
                item.feeds_layer = True
            if item not in self.made_by_helper:  # a helper's layer is fed differently where it is used
                item.fed_by = self._feeder(items, seq.elements, i)
            if item.followed_by is not None:
                continue
            for j in range(i + 1, len(items)):
                later = items[j]
                if isinstance(later, ActivationRef):
                    self._pair(item, later, seq.elements[i])
                elif isinstance(later, LayerUse) and later.kind is LayerKind.NORM:
                    continue
                elif isinstance(later, LayerUse):
                    self._pair(item, LINEAR, seq.elements[i])
                elif later is None and self.is_transparent(seq.elements[j]):
                    continue
                break

    def _feeding_node(self, source: Optional[LayerUse], argument, layer: LayerUse) -> Optional[cst.CSTNode]:
        """In data flow: the layer (of the same kind) or the ``Input(shape=...)`` a layer is called on."""
        if source is not None:
            return source.node if source.kind is layer.kind and source.kind in (LayerKind.DENSE, LayerKind.CONV) \
                else None
        if isinstance(argument, cst.Name):
            values = self.resolver.assigned_values(argument)
            argument = values[0][0] if len(values) == 1 else None
        if isinstance(argument, cst.Call) and self._is_input(argument):
            return argument
        return None

    def _is_input(self, call: cst.Call) -> bool:
        return bool({canonical(n) for n in self.ev.names(call.func)}
                    & {"keras.Input", "keras.layers.Input", "keras.layers.InputLayer"})

    def _feeder(self, items, elements, i) -> Optional[cst.CSTNode]:
        """The element whose output size is this layer's input size: the previous weight layer, or
        an ``Input(shape=...)``, across activations, norms and dropout only."""
        for j in range(i - 1, -1, -1):
            earlier = items[j]
            if isinstance(earlier, ActivationRef) or (isinstance(earlier, LayerUse) and earlier.kind is LayerKind.NORM):
                continue
            if isinstance(earlier, LayerUse):  # a Dense feeds a Dense, a Conv's channels feed a Conv
                mine = items[i].kind
                return earlier.node if earlier.kind is mine and mine in (LayerKind.DENSE, LayerKind.CONV) else None
            if earlier is None and isinstance(elements[j], cst.Call):
                if self._is_input(elements[j]):
                    return elements[j]
                if self.is_transparent(elements[j]):  # Flatten too: a Dense or a 1-D Input is flat already
                    continue
            return None
        return None

    def _flow(self, statements) -> None:
        env: Dict[str, Optional[LayerUse]] = {}
        for statement in statements:
            self._flow_statement(statement, env)

    def _flow_statement(self, statement, env) -> None:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    producer = self._produce(small.value, env)
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            env[target.target.value] = producer
                elif isinstance(small, (cst.Expr, cst.Return)) and small.value is not None:
                    self._produce(small.value, env)
                elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
                    self._produce(small.value, env)
                    env[small.target.value] = None  # x += y: a residual sum, not a layer's output
        elif isinstance(statement, (cst.If, cst.For, cst.While, cst.With, cst.Try)):
            body = statement.body
            if isinstance(body, cst.IndentedBlock):
                for inner in body.body:
                    self._flow_statement(inner, env)

    def _produce(self, node: cst.BaseExpression, env) -> Optional[LayerUse]:
        """The layer whose output ``node`` is (through norms and reshapes), pairing along the way."""
        if isinstance(node, cst.Name):
            return env.get(node.value)
        if not isinstance(node, cst.Call):
            if isinstance(node, cst.BinaryOperation):
                kept = raw_ops.bias_operand(self, node)  # tf.matmul(x, W) + b: still the matmul's output
                if kept is not None and not isinstance(kept, cst.BinaryOperation):  # no recursion down a chain
                    return self._produce(kept, env)
            if isinstance(node, _OPERANDS_OF):
                # the operands, in source order, without recursion: `a + b + ... + z` nests one
                # level per term, and generated code chains thousands
                stack = [node]
                while stack:
                    current = stack.pop()
                    if isinstance(current, _OPERANDS_OF):
                        stack.extend(reversed([c for c in children(current) if isinstance(c, cst.BaseExpression)]))
                    else:
                        self._produce(current, env)
            return None
        applied = self.layers.get(node)
        if applied is not None and applied.entry.functional:
            return self._apply_functional(node, applied, env)
        inputs = [self._produce(a.value, env) for a in node.args if a.keyword is None]
        source = inputs[0] if inputs else None
        if raw_ops.is_passthrough(self, node.func) or raw_ops.is_bias_add(self, node):
            if source is None and not inputs:  # layer_norm(inputs=x)
                argument = raw_ops.input_of(node)
                source = self._produce(argument, env) if argument is not None else None
            return source
        callee = self.classify(node.func)
        if callee is None and isinstance(node.func, cst.Attribute):
            # a method of a tensor: x.view(...), x.flatten(1) keep the producer; x.relu() is an activation
            receiver = self._produce(node.func.value, env)
            method = node.func.attr.value
            if method in ("relu", "relu_"):
                if receiver is not None:
                    self._pair(receiver, ActivationRef(Activation.RELU))
                return receiver
            if method in ("view", "reshape", "flatten", "permute", "transpose", "contiguous", "squeeze",
                          "unsqueeze", "float", "to"):
                return receiver
            return None
        if isinstance(callee, ActivationRef):
            callee = self._with_call_slope(node, callee)
            if source is not None:
                self._pair(source, callee)
            return source  # still this layer's signal: a layer consuming it makes it a hidden layer
        if isinstance(callee, LayerUse):
            if callee.kind is LayerKind.NORM:
                return source
            if source is not None:
                source.feeds_layer = True
                self._pair(source, LINEAR)
            if callee.fed_by is None and node.args and callee not in self.made_by_helper:
                callee.fed_by = self._feeding_node(source, node.args[0].value, callee)
            if callee in self.made_by_helper:
                self._place[callee] = node
            return callee
        if callee is None and self.is_transparent(node.func):
            return source
        return None

    def _apply_functional(self, node: cst.Call, layer: LayerUse, env) -> LayerUse:
        """``tf.layers.dense(x, 64)`` / ``tf.matmul(x, W)``: the layer is built and applied to ``x``."""
        argument = raw_ops.input_of(node)
        source = self._produce(argument, env) if argument is not None else None
        for arg in node.args:  # what else the call reads still flows (nested layers pair too)
            if arg.value is not argument:
                self._produce(arg.value, env)
        if source is not None and source is not layer:
            source.feeds_layer = True
            if source.followed_by is None:
                source.followed_by = LINEAR
        return layer

    # -- queries -----------------------------------------------------------------------------------

    def layers_of_class(self, cls: cst.ClassDef, _seen: Optional[set] = None) -> List[LayerUse]:
        """Every layer a module class holds: its attributes, the contents of its containers, and the
        layers of instances of this file's classes it holds (a class holding itself counts once)."""
        seen = set() if _seen is None else _seen
        if cls in seen:
            return []
        seen.add(cls)
        own = [layer for values in self.classes[cls].attrs.values() for value in values
               for layer in self.layers_in(value, _seen=seen)]
        # a base's layer the class assigns anew (``self.conv = ...`` again) is not in its instances
        replaced = set(self.classes[cls].attrs)
        return own + [layer for layer in self._inherited_layers(cls, seen)
                      if layer not in own and not replaced.intersection(layer.names)]

    def _inherited_layers(self, cls: cst.ClassDef, seen: set) -> List[LayerUse]:
        """The layers a class gets from its base classes: those of this file, and those another
        module of the project defines (``class Net(BaseNet)`` with ``BaseNet`` in ``models/base.py``).
        A class with a ``forward`` of its own (one that does not call the base's) may route them
        otherwise: their pairing is then not known here."""
        out: List[LayerUse] = []
        for base in cls.bases:
            local = self.local_class(base.value)
            if local is not None:
                layers = self.layers_of_class(local, seen)
            elif self.resolver.project is not None:
                layers = next((found for found in map(self.resolver.project.class_layers, self.ev.names(base.value))
                               if found is not None), [])
            else:
                continue
            out.extend(layers)
        if out and _routes_anew(cls):
            out = [self._unpaired(layer) for layer in out]
        return out

    def local_class(self, node: cst.BaseExpression) -> Optional[cst.ClassDef]:
        """The class of this file ``node`` names, if it names one."""
        if isinstance(node, cst.Name):
            for binding in self.resolver.lookup(node):
                if binding.kind == "class" and binding.value in self.classes:
                    return binding.value
        return None

    def _unpaired(self, layer: LayerUse) -> LayerUse:
        """A copy of a base class's layer whose pairing is unknown (one copy per layer)."""
        copy = self._unpaired_copies.get(layer)
        if copy is None:
            copy = self._unpaired_copies[layer] = replace(layer, followed_by=None, feeds_layer=False)
        return copy

    def layers_in(self, node: cst.BaseExpression, depth: int = 0, _seen: Optional[set] = None) -> List[LayerUse]:
        """The layers an expression holds: a layer, a container's contents, a local class instance."""
        item = self.classify(node)
        if isinstance(item, LayerUse):
            return [item]
        if depth >= 6:
            return []
        if isinstance(item, SequentialUse):
            return [layer for e in item.elements for layer in self.layers_in(e, depth + 1, _seen)]
        cls = self.instance_class(node) if item is None else None
        if cls is not None:
            return self.layers_of_class(cls, _seen)
        if item is None and self.resolver.project is not None:
            external = self._project_class_layers(node)
            if external is not None:
                return external
        if isinstance(node, (cst.List, cst.Tuple)):
            return [layer for e in node.elements for layer in self.layers_in(e.value, depth + 1, _seen)]
        return []

    def _project_class_layers(self, node: cst.BaseExpression, depth: int = 0) -> Optional[List[LayerUse]]:
        """The layers of an instance of a class another module of the project defines: ``Net()``,
        or ``net`` in ``net = Net()`` (``project.layers``)."""
        if isinstance(node, cst.Name) and depth < 4:
            values = self.resolver.assigned_values(node)
            return self._project_class_layers(values[0][0], depth + 1) if len(values) == 1 else None
        if not isinstance(node, cst.Call):
            return None
        for name in self.ev.names(node.func):
            layers = self.resolver.project.class_layers(name)
            if layers is not None:
                return layers
        return None


_FORWARDS = frozenset({"forward", "__call__", "call", "hybrid_forward"})


def _routes_anew(cls: cst.ClassDef) -> bool:
    """Does the class define its own forward pass that does not call its base's (``super()``)?"""
    for statement in cls.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value in _FORWARDS:
            return not any(isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
                           and node.func.value == "super" for node in walk(statement))
    return False


def _argument(call: cst.Call, spec: Optional[Tuple[str, int]]) -> Optional[cst.BaseExpression]:
    """The argument passed for parameter ``spec = (name, position)``, or None."""
    if spec is None:
        return None
    name, position = spec
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    return positional[position] if position < len(positional) else None
