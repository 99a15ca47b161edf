"""Value flow inside a file: what a parameter, an attribute or a helper's call holds.

``values.Evaluator`` folds local assignments; real code passes its values on indirectly: an
initialiser stored in ``self.init`` in ``__init__`` and used in ``build``, ``std=init_std`` given by
the caller, a default argument, ``conv(64)`` returning a layer. ``ValueFlow`` answers, from the
code of this one file only (``facts.flow``, also ``evaluator.flow``):

``attribute_values(node) -> Optional[List[expr]]``
    for ``self.x`` (or ``net.x`` with ``net = Net()`` a class of this file): every expression the
    class assigns to ``x``, in any method, together with its in-file base classes (reached through
    ``super().__init__`` chains) and subclasses. None when the class is not of this file or the
    attribute is also changed in a way not recorded (``self.x += 1``, ``setattr``).

``parameter_arguments(binding) -> Optional[List[Argument]]``
    for a parameter of a function of this file: what each call site in the file passes for it (its
    default where the call omits it), plus the default itself for a public function, which callers
    in other modules may call without it. None when a call site passes ``*args``/``**kwargs``, the
    function is used otherwise than by calling it (``net.apply(fn)``, ``partial(fn)``), or the file
    never calls it.

``parameter_default(binding) -> Optional[expr]``
    the default of a parameter: evaluated once, when the ``def`` runs, so an instance there is one
    object shared by every call that omits the argument.

``call_sites(fn) -> Optional[List[CallSite]]``
    the calls of a function (a ``def`` by name, a method through ``self``/an instance of its
    class, ``Class(...)`` and ``super().__init__(...)`` for ``__init__``); None when it escapes.

``returned(call) -> Optional[expr]``
    for a call of a small helper of this file (straight-line body ending in one ``return``), the
    expression it returns. That expression belongs to the helper: a name in it that is one of the
    helper's parameters resolves through ``parameter_arguments`` (all call sites agree, or unknown).

Everything the flow cannot establish is None, and the callers stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Set

import libcst as cst

from .collector import CallSite, Collected
from .scopes import Binding
from .traversal import walk

MAX_CALL_SITES = 64


@dataclass(frozen=True)
class Argument:
    """What one call passes for a parameter: ``value`` (the argument, or the default), at ``site``
    (None: the default, for callers outside this file)."""

    value: cst.BaseExpression
    site: Optional[CallSite]


class ValueFlow:
    def __init__(self, collected: Collected) -> None:
        self.c = collected
        self.resolver = collected.resolver
        self._class_bindings: Optional[Dict[cst.ClassDef, List[cst.ClassDef]]] = None  # class -> in-file bases
        self._method_class: Dict[cst.FunctionDef, cst.ClassDef] = {}
        for function, scope in collected.functions:
            owner = scope.enclosing_class
            if owner is not None:
                self._method_class[function] = owner
        self._name_index: Optional[Dict[str, List[cst.Name]]] = None
        self._attribute_call_index: Optional[Dict[cst.Name, cst.Attribute]] = None
        self._definitions: Optional[Set[cst.Name]] = None
        self._changed_attrs: Optional[Set[str]] = None
        self._called_index: Optional[Dict[cst.CSTNode, CallSite]] = None
        self._sites: Dict[cst.FunctionDef, Optional[List[CallSite]]] = {}
        self._families: Dict[cst.ClassDef, List[cst.ClassDef]] = {}

    # -- classes ---------------------------------------------------------------------------------

    def _bases(self) -> Dict[cst.ClassDef, List[cst.ClassDef]]:
        if self._class_bindings is None:
            self._class_bindings = {}
            for node, _scope in self.c.classes:
                bases = []
                for base in node.bases:
                    if isinstance(base.value, cst.Name):
                        for binding in self.resolver.lookup(base.value):
                            if binding.kind == "class" and isinstance(binding.value, cst.ClassDef):
                                bases.append(binding.value)
                self._class_bindings[node] = bases
        return self._class_bindings

    def family(self, cls: cst.ClassDef) -> List[cst.ClassDef]:
        """The class, its in-file ancestors and its in-file descendants: what a ``self.x`` of its
        methods may be set by (a base class's ``__init__``, a subclass's override), and whose
        ``self.m(...)`` calls may reach its method ``m``. Siblings are not in it."""
        known = self._families.get(cls)
        if known is not None:
            return known
        bases = self._bases()
        out: List[cst.ClassDef] = [cls] + [c for c in self._ancestors(cls) if c is not cls]
        descendants = {cls}
        changed = True
        while changed:
            changed = False
            for node, parents in bases.items():
                if node not in descendants and any(p in descendants for p in parents):
                    descendants.add(node)
                    out.append(node)
                    changed = True
        self._families[cls] = out
        return out

    def class_of_method(self, function: Optional[cst.FunctionDef]) -> Optional[cst.ClassDef]:
        return self._method_class.get(function) if function is not None else None

    def instance_class(self, node: cst.BaseExpression) -> Optional[cst.ClassDef]:
        """The class of this file ``node`` is an instance of: ``self`` in a method, ``Net()``."""
        return self.resolver.instance_class(node)

    # -- attributes ------------------------------------------------------------------------------

    def attribute_values(self, node: cst.BaseExpression) -> Optional[List[cst.BaseExpression]]:
        if not isinstance(node, cst.Attribute):
            return None
        cls = self.instance_class(node.value)
        if cls is None:
            return None
        attr = node.attr.value
        if self._changed_otherwise(attr):
            return None  # also changed by self.x += ..., setattr(self, 'x', ...), del self.x
        values = []
        family = self.family(cls)
        for member in family:
            for value, _function in self.c.self_attrs.get((member, attr), []):
                values.append(value)
            scope = self.c.scope_of_class.get(member)
            for binding in scope.bindings.get(attr, []) if scope is not None else []:
                if binding.kind != "assign" or binding.index is not None:
                    return None  # a method, a nested class, an unpacked name: not a value we follow
                values.append(binding.value)  # a class attribute, or a dataclass field's default
                if self._is_field_class(member):
                    given = self._field_arguments(member, attr)
                    if given is None:
                        return None
                    values.extend(given)
        return values or None

    def fixed_field(self, cls: cst.ClassDef, attr: str) -> bool:
        """Is ``attr`` a field of ``cls`` (or of an in-file base or subclass) that is a dataclass or a
        Flax/Equinox module, declared in the class body (``rng: Any``, with or without a default)
        and changed by no code of the file (no ``self.rng = ...``, ``+=``, ``setattr``)? Then it
        holds one value per instance, whatever the constructions (in this file or another) give it."""
        if self._changed_otherwise(attr):
            return False
        family = self.family(cls)
        if any(self.c.self_attrs.get((member, attr)) for member in family):
            return False
        return any(self._is_field_class(member) and _declares(member, attr) for member in family)

    _FIELD_BASES = frozenset({"flax.linen.Module", "flax.linen.module.Module", "equinox.Module"})
    _FIELD_DECORATORS = frozenset({"dataclasses.dataclass", "flax.struct.dataclass", "chex.dataclass"})

    def _is_field_class(self, cls: cst.ClassDef) -> bool:
        """A dataclass (or a Flax/Equinox module): its class attributes are fields the constructor sets."""
        for member in [cls] + self._ancestors(cls):  # only cls and its ancestors make cls a dataclass
            for decorator in member.decorators:
                node = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
                if self.resolver.qualified_names(node) & self._FIELD_DECORATORS:
                    return True
            for base in member.bases:
                if self.resolver.qualified_names(base.value) & self._FIELD_BASES:
                    return True
        return False

    def _ancestors(self, cls: cst.ClassDef) -> List[cst.ClassDef]:
        bases, out, stack = self._bases(), [], [cls]
        while stack:
            current = stack.pop()
            for base in bases.get(current, []):
                if base not in out:
                    out.append(base)
                    stack.append(base)
        return out

    def _field_arguments(self, cls: cst.ClassDef, attr: str) -> Optional[List[cst.BaseExpression]]:
        """What the file's constructions of a field class (or its subclasses) pass for ``attr``; None
        when one passes arguments by position or unpacking, or the file constructs none (another
        module may, with any value)."""
        names = self._names()
        called = self._called()
        constructed = [c for c in self.family(cls) if c is cls or cls in self._ancestors(c)]
        out: List[cst.BaseExpression] = []
        count = 0
        for member in constructed:
            for ref in names.get(member.name.value, []):
                if not any(b.kind == "class" and b.value is member for b in self.resolver.lookup(ref)):
                    continue
                site = called.get(ref)
                if site is None:
                    continue
                count += 1
                for arg in site.node.args:
                    if arg.star or arg.keyword is None:
                        return None
                    if arg.keyword.value == attr:
                        out.append(arg.value)
        return out if count else None

    # -- parameters ------------------------------------------------------------------------------

    @staticmethod
    def _param_node(binding: Binding) -> Optional[cst.Param]:
        return binding.node if isinstance(binding.node, cst.Param) else None

    def parameter_default(self, binding: Binding) -> Optional[cst.BaseExpression]:
        param = self._param_node(binding)
        return param.default if param is not None and binding.kind == "param" else None

    def parameter_arguments(self, binding: Binding) -> Optional[List[Argument]]:
        param = self._param_node(binding)
        if param is None or binding.kind != "param":
            return None
        scope = binding.scope
        fn = scope.function if scope is not None else None
        if fn is None:
            return None
        params = fn.params
        if param is params.star_arg or param is params.star_kwarg:
            return None
        sites = self.call_sites(fn)
        if not sites:
            return None
        positional = list(params.posonly_params) + list(params.params)
        position = positional.index(param) if param in positional else None
        keyword = param.name.value if param not in params.posonly_params else None
        out: List[Argument] = []
        for site in sites:
            call = site.node
            if any(a.star for a in call.args):
                return None  # f(*args, **kwargs): which argument lands where is not written
            skip = self._skipped(fn, site)
            given = None
            if position is not None:
                args = [a.value for a in call.args if a.keyword is None]
                index = position - skip
                if 0 <= index < len(args):
                    given = args[index]
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == keyword:
                    given = arg.value
            if given is None:
                if param.default is None:
                    return None  # the call would fail, or binds it some way we do not read
                given = param.default
            out.append(Argument(given, site))
        if param.default is not None and self._public(fn):
            out.append(Argument(param.default, None))
        return out

    def _public(self, fn: cst.FunctionDef) -> bool:
        """Callable from other modules: a module-level function or a method of a module-level
        class whose name does not start with an underscore (dunder methods count as public)."""
        name = fn.name.value
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            return False
        scope = self.c.scope_of_function.get(fn)
        parent = scope.parent if scope is not None else None
        if parent is None:
            return False
        if parent.kind == "module":
            return True
        return parent.kind == "class" and parent.parent is not None and parent.parent.kind == "module"

    def _skipped(self, fn: cst.FunctionDef, site: CallSite) -> int:
        """Leading parameters a call does not pass positionally: ``self``/``cls`` for a bound call
        (``self.m(...)``, ``Net(...)``, ``super().__init__(...)``), none for ``Base.__init__(self, ...)``."""
        if self.class_of_method(fn) is None:
            return 0
        decorators = {d.decorator.value for d in fn.decorators if isinstance(d.decorator, cst.Name)}
        if "staticmethod" in decorators:
            return 0
        func = site.node.func
        if "classmethod" not in decorators and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) \
                and any(b.kind == "class" for b in self.resolver.lookup(func.value)):
            return 0
        return 1

    # -- call sites ------------------------------------------------------------------------------

    def _names(self) -> Dict[str, List[cst.Name]]:
        """Every name in the file, by identifier, attribute names included (the collector registered
        each with its scope)."""
        if self._name_index is None:
            self._name_index = {}
            for node in self.resolver.scope_of:
                if isinstance(node, cst.Name):
                    self._name_index.setdefault(node.value, []).append(node)
        return self._name_index

    def _attribute_calls(self) -> Dict[cst.Name, cst.Attribute]:
        """The attribute name of each ``x.name(...)`` call -> its ``x.name``."""
        if self._attribute_call_index is None:
            self._attribute_call_index = {site.node.func.attr: site.node.func for site in self.c.calls
                                          if isinstance(site.node.func, cst.Attribute)}
        return self._attribute_call_index

    def _changed_otherwise(self, attr: str) -> bool:
        changed = self._changed()
        return attr in changed or "*" in changed

    def _changed(self) -> Set[str]:
        """Attributes changed other than by assignment: ``self.x += ...``, ``del self.x``,
        ``setattr(obj, 'x', ...)`` (any attribute, for a computed name: ``"*"``)."""
        if self._changed_attrs is None:
            changed = set(self.c.changed_attrs)
            for site in self.c.calls:
                call = site.node
                if isinstance(call.func, cst.Name) and call.func.value == "setattr" and len(call.args) >= 2:
                    key = call.args[1].value
                    if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str):
                        changed.add(key.evaluated_value)
                    else:
                        changed.add("*")
            self._changed_attrs = changed
        return self._changed_attrs

    def _called(self) -> Dict[cst.CSTNode, CallSite]:
        """The func node of each call -> its call site."""
        if self._called_index is None:
            self._called_index = {site.node.func: site for site in self.c.calls}
        return self._called_index

    def call_sites(self, fn: cst.FunctionDef) -> Optional[List[CallSite]]:
        if fn not in self._sites:
            self._sites[fn] = self._find_call_sites(fn)
        return self._sites[fn]

    def _find_call_sites(self, fn: cst.FunctionDef) -> Optional[List[CallSite]]:
        names = self._names()
        name = fn.name.value
        cls = self.class_of_method(fn)
        called = self._called()
        out: List[CallSite] = []
        if cls is None:
            for ref in names.get(name, []):
                if ref is fn.name or not any(b.kind == "def" and b.value is fn for b in self.resolver.lookup(ref)):
                    continue
                site = called.get(ref)
                if site is None:
                    return None  # used as a value (net.apply(fn), partial(fn)): called where we cannot see
                out.append(site)
            return out if len(out) <= MAX_CALL_SITES else None
        family = self.family(cls)
        if self._definitions is None:
            self._definitions = {node.name for node, _ in self.c.functions} | {node.name for node, _ in self.c.classes}
        attribute_calls = self._attribute_calls()
        # every mention of the method's name, as the collector indexed it (attribute names too): a
        # mention that is not ``receiver.name(...)`` may hand the method to code we cannot see
        for mention in names.get(name, []):
            if mention in self._definitions:
                continue
            func = attribute_calls.get(mention)
            if func is None:
                return None  # self.apply(self._init_weights), partial(self.f), a namesake variable
            mine = self._calls_family_method(func, cls, family)
            if mine is False:
                continue
            site = called.get(func)
            if mine is None or site is None:
                return None  # an object we cannot place
            out.append(site)
        if name == "__init__":
            for ref in names.get(cls.name.value, []):
                if any(b.kind == "class" and b.value is cls for b in self.resolver.lookup(ref)):
                    site = called.get(ref)
                    if site is not None:
                        out.append(site)
        return out if len(out) <= MAX_CALL_SITES else None

    def _calls_family_method(self, ref: cst.Attribute, cls: cst.ClassDef, family) -> Optional[bool]:
        """Whether ``receiver.name`` is this class family's method: True, False (another object's),
        or None (a receiver the code does not place)."""
        receiver = ref.value
        if self._is_super_call(receiver):  # super().__init__(...) in a subclass of cls
            scope = self.resolver.scope_of.get(receiver)
            caller = scope.method_class if scope is not None else None
            return caller is not None and cls in self._bases().get(caller, [])
        if self.resolver.qualified_names(receiver):
            return False  # nn.Module.__init__(self), np.random.normal: an import's
        owner = self._receiver_class(receiver)
        if owner is not None:
            return owner in family
        return None

    def _receiver_class(self, node: cst.BaseExpression) -> Optional[cst.ClassDef]:
        if isinstance(node, cst.Name):
            for binding in self.resolver.lookup(node):
                if binding.kind == "class" and isinstance(binding.value, cst.ClassDef):
                    return binding.value  # Base.__init__(self, ...)
        return self.instance_class(node)

    @staticmethod
    def _is_super_call(node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super"

    # -- helpers' returns --------------------------------------------------------------------------

    def helper_of(self, call: cst.Call) -> Optional[cst.FunctionDef]:
        if not isinstance(call.func, cst.Name):
            return None
        for binding in self.resolver.lookup(call.func):
            if binding.kind == "def" and isinstance(binding.value, cst.FunctionDef):
                return binding.value
        return None

    def bind_call(self, call: cst.Call) -> Optional[Dict[Binding, cst.BaseExpression]]:
        """A helper's parameters -> what this call passes for them (or their defaults); None when
        the call passes ``*args``/``**kwargs`` or leaves a parameter without a value."""
        fn = self.helper_of(call)
        scope = self.c.scope_of_function.get(fn) if fn is not None else None
        if scope is None or any(a.star for a in call.args):
            return None
        params = fn.params
        if isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None:
            return None
        positional = list(params.posonly_params) + list(params.params)
        args = [a.value for a in call.args if a.keyword is None]
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        out: Dict[Binding, cst.BaseExpression] = {}
        for i, param in enumerate(positional + list(params.kwonly_params)):
            given = args[i] if i < len(positional) and i < len(args) else keywords.get(param.name.value, param.default)
            if given is None:
                return None
            for binding in scope.bindings.get(param.name.value, []):
                if binding.kind == "param":
                    out[binding] = given
        return out

    def returned(self, call: cst.Call) -> Optional[cst.BaseExpression]:
        fn = self.helper_of(call)
        return _single_return(fn) if fn is not None else None


def _single_return(fn: cst.FunctionDef) -> Optional[cst.BaseExpression]:
    """The expression a straight-line function returns: its body is simple statements (no branch,
    loop or nested def) ending in ``return expr``, and it is no generator."""
    body = fn.body
    if not isinstance(body, cst.IndentedBlock) or not body.body or fn.asynchronous is not None:
        return None
    statements = body.body
    for statement in statements:
        if not isinstance(statement, cst.SimpleStatementLine):
            return None
        for small in statement.body:
            if isinstance(small, (cst.Return,)) and statement is not statements[-1]:
                return None
            if isinstance(small, cst.Expr) and isinstance(small.value, (cst.Yield, cst.Await)):
                return None
    last = statements[-1].body[-1]
    if not isinstance(last, cst.Return) or last.value is None:
        return None
    if any(isinstance(node, (cst.Yield, cst.Await)) for node in walk(last.value)):
        return None
    return last.value


def _declares(cls: cst.ClassDef, attr: str) -> bool:
    """``attr: T`` or ``attr: T = default`` among the statements of the class body."""
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) \
                        and small.target.value == attr:
                    return True
    return False
