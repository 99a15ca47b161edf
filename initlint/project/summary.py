"""What one module exports that another module's analysis can need, read with CPython's ``ast``.

A summary is cheap (CPython's parser is ~12x faster than libcst's, and nothing here resolves
more than the module's own top-level imports) and plain data (JSON), so it is cached by content:

* ``imports``: each top-level import's local name -> the qualified name it stands for, relative
  imports resolved against the module's own package (``from .backend import keras`` in
  ``pkg/models.py`` -> ``pkg.backend.keras``);
* ``aliases``: ``ACT = nn.ReLU`` or ``Dense = keras.layers.Dense`` at top level -> the qualified
  name; with ``imports`` these make re-exports (``from .backend import keras``) transparent;
* ``constants``: top-level names bound once to a literal (``INIT_STD = 0.02``, ``ACT = "relu"``);
* ``instances``: top-level names bound once to a call (``INIT = GlorotUniform(seed=0)``, ``KEY =
  jax.random.PRNGKey(0)``) -> the qualified callee and the call's source text;
* ``stars``: the modules of its ``from m import *`` (a name it neither defines nor imports by
  name is looked up there, as research code imports its models);
* ``functions``/``classes``: the top-level definitions (a class with its bases and the qualified
  names its body calls, which say what the class is made of; the methods it defines and those of
  them that call the same method of the classes after it, ``super().init_weights()``, which say
  whose method an instance runs: ``analysis.inheritance``);
* ``applications``: ``x.apply(f)`` calls, as ``(f, the class of x)`` qualified names, where the
  code shows ``f``: ``self.apply(f)`` in a method of class C, ``Net().apply(f)``, ``net = Net()``
  then ``net.apply(f)`` in the same scope; and ``f(m)`` in a loop ``for m in x.modules()``, which
  does the same. ``f`` defined in another module is how an init helper there learns which layers
  it reaches. The class is ``""`` where the code does not show it (``model.apply(f)`` with
  ``model`` built elsewhere): then ``f`` reaches layers the project does not name.
* ``passes``: ``f(x, ...)`` calls of a function the module imports or defines, with the class of
  ``x`` as above (``init_weights(self)`` in a method of ``Net``): an init helper that loops over
  its argument's ``modules()`` learns what it initialises; and ``self.m()`` in a method of a class
  ``C`` with a base outside the frameworks that does not define ``m`` itself (or defines one that
  calls ``super().m()``), as ``[C.m, C]``: the project tells which classes' ``m`` that runs
  (``Project.method_runs``).
"""

from __future__ import annotations

import ast
import bisect
import re
import sys
from typing import Dict, List, Optional, Set, Tuple

FORMAT = 6  # bump when the layout of a summary changes
# the frameworks the catalogue describes: checking their own source as a project, their names are
# theirs (the catalogue's), never followed through their modules; a call of one is no init helper
FRAMEWORKS = frozenset({"torch", "tensorflow", "tf", "keras", "tf_keras", "jax", "flax", "mxnet", "numpy"})


def _dotted(node: ast.AST) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _literal(node: ast.AST):
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT
    return value if _plain(value) else _NOT


def _plain(value) -> bool:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return not isinstance(value, str) or len(value) <= 200
    if isinstance(value, (tuple, list)) and len(value) <= 16:
        return all(_plain(v) for v in value)
    return False


_NOT = object()


def _top_statements(body) -> List[ast.stmt]:
    """Top-level statements, including those inside a top-level ``if``/``try`` (optional imports)."""
    out = []
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, ast.If):
            stack.extend(reversed(node.body + node.orelse))
        elif isinstance(node, ast.Try):
            stack.extend(reversed(node.body + node.orelse + node.finalbody
                                  + [s for h in node.handlers for s in h.body]))
    return out


def summarise(tree: ast.Module, module: str, is_package: bool, source: bytes = b"", light: bool = False,
              uses: bool = True) -> dict:
    """The summary (see the module docstring) of ``tree``, the module named ``module``. ``light``:
    only what a file asks about itself (its imports, functions, stars), for the prefilter.
    ``uses=False``: without ``applications`` and ``passes`` (the answers about names only)."""
    package = module if is_package else module.rpartition(".")[0]
    imports: Dict[str, str] = {}
    bound: Dict[str, int] = {}
    assigned: Dict[str, ast.AST] = {}
    functions: List[str] = []
    classes: Dict[str, ast.ClassDef] = {}
    stars: List[str] = []  # modules imported with ``from m import *``
    for node in _top_statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    imports[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(node, package)
            if base is None:
                continue
            for alias in node.names:
                if alias.name == "*" and base and base not in stars:
                    stars.append(base)
                elif alias.name != "*":
                    imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node.name)
            bound[node.name] = bound.get(node.name, 0) + 1
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = node
            bound[node.name] = bound.get(node.name, 0) + 1
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    bound[target.id] = bound.get(target.id, 0) + 1
                    assigned[target.id] = node.value

    def qualify(name: Optional[str]) -> Optional[str]:
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in imports:
            return imports[head] + ("." + rest if rest else "")
        if head in classes or head in functions or head in assigned or stars:
            return f"{module}.{name}"  # with a star import: the index looks through it (``stars``)
        return None

    if light:
        return {"format": FORMAT, "module": module, "imports": imports, "functions": functions, "stars": stars}
    supers = _super_calls(source) if classes else {}
    aliases: Dict[str, str] = {}
    constants: Dict[str, object] = {}
    instances: Dict[str, list] = {}
    segment = _Segments(source)
    for name, value in assigned.items():
        if bound.get(name) != 1 or name in imports:
            continue
        if isinstance(value, (ast.Name, ast.Attribute)):
            target = qualify(_dotted(value))
            if target is not None and target != f"{module}.{name}":
                aliases[name] = target
            continue
        literal = _literal(value)
        if literal is not _NOT:
            constants[name] = literal
        elif isinstance(value, ast.Call):
            callee = qualify(_dotted(value.func))
            text = segment(value) if callee is not None else None
            if text is not None and len(text) <= 500:
                instances[name] = [callee, text]
    return {
        "format": FORMAT,
        "module": module,
        "imports": imports,
        "aliases": aliases,
        "constants": constants,
        "instances": instances,
        "functions": functions,
        "defined": sorted(set(functions) | set(classes) | set(assigned)),
        "stars": stars,
        "classes": {name: _class_summary(node, qualify, supers) for name, node in classes.items()},
        # a call can pass a module to the module's own functions and to what it imports from
        # outside the frameworks (an init helper of the project)
        **(_uses(tree, module, qualify, source, set(functions) | {
            name for name, target in imports.items() if target.split(".", 1)[0] not in NOT_HELPERS}, supers)
           if uses else {}),
    }


class _Segments:
    """The source text of a node, from the byte offsets CPython records (``ast.get_source_segment``
    splits the whole source again on every call: a tenth of a second per call on a large module)."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.starts = None

    def __call__(self, node: ast.AST):
        if not self.source or getattr(node, "end_lineno", None) is None:
            return None
        if self.starts is None:
            self.starts = [0]
            for line in self.source.splitlines(keepends=True):
                self.starts.append(self.starts[-1] + len(line))
        try:
            start = self.starts[node.lineno - 1] + node.col_offset
            end = self.starts[node.end_lineno - 1] + node.end_col_offset
            return self.source[start:end].decode("utf-8")
        except (IndexError, UnicodeDecodeError):
            return None


def _resolve_from(node: ast.ImportFrom, package: str) -> Optional[str]:
    if not node.level:
        return node.module or ""
    parts = package.split(".") if package else []
    if node.level - 1 > len(parts) or not parts:
        return None
    anchor = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{anchor}.{node.module}" if node.module else anchor


# the methods that build a class's layers and say what follows them (and the class body: Flax's fields)
_BUILDING_METHODS = frozenset({"__init__", "setup", "build", "forward", "__call__", "call", "hybrid_forward"})


def _class_summary(node: ast.ClassDef, qualify, supers: Dict[int, Set[str]]) -> dict:
    calls = set()
    parts = [item for item in node.body
             if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) or item.name in _BUILDING_METHODS]
    for func in _callees(parts):
        name = qualify(_dotted(func))
        if name is not None:
            calls.add(name)
    methods = [item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
    bases = [_dotted(b) for b in node.bases]
    # bases in their order (the method resolution order follows it); a base the module does not
    # bind (``object``, ``Generic[T]``) is left out
    return {"bases": list(filter(None, (qualify(b) for b in bases))), "calls": sorted(calls),
            "methods": sorted({item.name for item in methods}),
            "supers": sorted({item.name for item in methods if supers and _calls_on(supers, item, bases)})}


# ``super().m(`` (``super(Net, self).m(``), and ``.m(self`` for ``Base.m(self, ...)``: a method
# that runs the same method of the classes after its own
_SUPER_CALL = re.compile(rb"super\([^()\n]*\)[ \t]*\.[ \t]*([A-Za-z_]\w*)[ \t]*\(")
_EXPLICIT_CALL = re.compile(rb"\.([A-Za-z_]\w*)[ \t]*\([ \t]*self[ \t]*[,)]")
_OWNER = re.compile(rb"([A-Za-z_][\w.]*)[ \t]*$")


def _super_calls(source: bytes) -> Dict[int, Set[str]]:
    """Line -> the methods called there on the classes after the caller's: ``m`` for
    ``super().m(``, ``Base.m`` for ``Base.m(self``; ``__init__`` is left out (every class calls it)."""
    found = []
    if b"super(" in source:
        found.extend((match.start(), match.group(1), None) for match in _SUPER_CALL.finditer(source))
    if b"(self" in source:
        for match in _EXPLICIT_CALL.finditer(source):
            owner = _OWNER.search(source, source.rfind(b"\n", 0, match.start()) + 1, match.start())
            if owner is not None and owner.group(1) != b"self":
                found.append((match.start(), match.group(1), owner.group(1)))
    out: Dict[int, Set[str]] = {}
    line, position = 1, 0
    for start, name, owner in sorted(found):
        if name == b"__init__":
            continue
        line += source.count(b"\n", position, start)
        position = start
        text = name.decode("ascii")
        out.setdefault(line, set()).add(f"{owner.decode('ascii')}.{text}" if owner else text)
    return out


def _calls_on(supers: Dict[int, Set[str]], method, bases: List[Optional[str]]) -> bool:
    """Does ``method`` call its own name through ``super()``, or on one of ``bases`` (``Base.m(self``)?"""
    wanted = {method.name} | {f"{base}.{method.name}" for base in bases if base}
    end = method.end_lineno or method.lineno
    return any(method.lineno <= line <= end and not wanted.isdisjoint(names) for line, names in supers.items())


_FIELDS: Dict[type, tuple] = {}


def _callees(nodes) -> List[ast.AST]:
    """The ``func`` of every call under ``nodes`` (every class of every summarised module is walked)."""
    return [node.func for node in _walk(nodes) if type(node) is ast.Call]


def _walk(nodes, skip: tuple = ()):
    """Every node under ``nodes``, not entering those of a type in ``skip``: a plain stack over the
    node fields (``ast.walk``'s and ``ast.iter_child_nodes``' generators cost several times more)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        kind = type(node)
        fields = _FIELDS.get(kind)
        if fields is None:
            fields = _FIELDS[kind] = tuple(f for f in kind._fields if f not in ("ctx", "type_comment"))
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend(item for item in value if isinstance(item, ast.AST) and not isinstance(item, skip))
            elif isinstance(value, ast.AST) and not isinstance(value, skip):
                stack.append(value)


# lines that may apply or pass a function to a module: ``x.apply(f``, a loop over ``x.modules()``,
# and a statement that calls a plain or dotted name on ``self``, a name or a call (an init helper
# is called as a statement: ``init_weights(self)``, ``net = init_net(net, ...)``, ``return init_net(net)``)
_APPLY_LINE = re.compile(rb"\.apply\(|\bfor\s+[^\n]*\.(?:named_)?(?:modules|children)\(")
_CALL_LINE = re.compile(rb"(?m)^[ \t]*(?:return[ \t]+|[A-Za-z_][\w.]*[ \t]*=[ \t]*)?([A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)?"
                        rb"[ \t]*\([ \t]*(?:self[ \t]*[,)]|[A-Za-z_][\w.]*[ \t]*[(),])")
_MODULE_ITERATORS = frozenset({"modules", "named_modules", "children", "named_children"})
# a statement calling a method on the instance, ``self.init_weights()``: one a base class defines runs
# on this class's modules
_SELF_CALL_LINE = re.compile(rb"(?m)^[ \t]*self\.[A-Za-z_]\w*[ \t]*\(")
_NEWLINE = re.compile(rb"\n")
# where no init helper of a project comes from: the frameworks and Python's own library (partial, copy)
NOT_HELPERS = FRAMEWORKS | frozenset(getattr(sys, "stdlib_module_names", ()))


def _uses(tree: ast.Module, module: str, qualify, source: bytes, known,
          supers: Optional[Dict[int, Set[str]]] = None) -> Dict[str, List[List[str]]]:
    """``applications`` and ``passes`` (see the module docstring), each ``[function, class]``.
    Only the scopes that hold a line which may make one are walked (most hold none)."""
    newlines = [match.start() for match in _NEWLINE.finditer(source)]
    lines = {bisect.bisect_left(newlines, match.start()) + 1 for match in _APPLY_LINE.finditer(source)}
    for match in _CALL_LINE.finditer(source):
        name = match.group(1).decode("ascii")
        if name in known and not name[0].isupper():  # a class (``LayerScale(dim, ...)``) is no init helper
            lines.add(bisect.bisect_left(newlines, match.start()) + 1)
    lines.update(bisect.bisect_left(newlines, match.start()) + 1 for match in _SELF_CALL_LINE.finditer(source))
    applications, passes = set(), set()
    if not lines:
        return {"applications": [], "passes": []}

    def holds(node) -> bool:
        end = getattr(node, "end_lineno", None) or node.lineno
        return any(node.lineno <= line <= end for line in lines)

    # (scope body, the class a method belongs to): the module, then every method and function
    scopes = [(tree, None)]
    # class -> (its bases, qualified; the methods it defines that run no other class's)
    inherited: Dict[str, Tuple[List[str], Set[str]]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and holds(node):
            methods = [item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
            scopes.extend((item, node.name) for item in methods if holds(item))
            # a framework's base (nn.Module) defines no init method of the project's
            # its own methods: those that do not run the next class's too (super().init_weights())
            bases = [_dotted(base) for base in node.bases]
            inherited[node.name] = ([b for b in map(qualify, bases) if b and b.split(".", 1)[0] not in NOT_HELPERS],
                                    {item.name for item in methods if not (supers and _calls_on(supers, item, bases))})
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and holds(node):
            scopes.append((node, None))
    for scope, owner in scopes:
        nodes = list(_own_nodes(scope))
        instances: Dict[str, set] = {}
        # a call in the body of ``for m in x.modules():`` whose first argument is ``m`` -> (x, whether
        # it is made on every module: under no ``if``)
        looped: Dict[int, Tuple[Optional[ast.AST], bool]] = {}
        for node in nodes:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                cls = qualify(_dotted(node.value.func))
                for target in node.targets:
                    if isinstance(target, ast.Name) and cls is not None:
                        instances.setdefault(target.id, set()).add(cls)
            elif isinstance(node, ast.For) and isinstance(node.iter, ast.Call) \
                    and isinstance(node.iter.func, ast.Attribute) and node.iter.func.attr in _MODULE_ITERATORS:
                target = node.target
                if isinstance(target, ast.Tuple) and len(target.elts) == 2 and node.iter.func.attr.startswith("named"):
                    target = target.elts[1]
                if not isinstance(target, ast.Name):
                    continue
                every = {id(statement.value) for statement in node.body
                         if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)}
                for inner in _own_nodes(node):
                    if isinstance(inner, ast.Call) and inner.args and isinstance(inner.args[0], ast.Name) \
                            and inner.args[0].id == target.id:
                        # a loop inside another over the same name: which module it is, is not said
                        looped[id(inner)] = (None, False) if id(inner) in looped else \
                            (node.iter.func.value, id(inner) in every)

        def class_of(receiver) -> str:
            """The qualified class of a module expression, ``""`` when the code does not show it."""
            if isinstance(receiver, ast.Name) and receiver.id == "self" and owner is not None:
                return f"{module}.{owner}"
            if isinstance(receiver, ast.Name):
                found = instances.get(receiver.id, ())
                return next(iter(found)) if len(found) == 1 else ""
            if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) \
                    and receiver.func.id in ("list", "tuple") and len(receiver.args) == 1:
                receiver = receiver.args[0]  # list(self.modules())
            if isinstance(receiver, ast.Call) and not receiver.args and isinstance(receiver.func, ast.Attribute) \
                    and receiver.func.attr in ("modules", "children"):
                return class_of(receiver.func.value)  # init_weights(self.modules()): the modules of self's class
            if isinstance(receiver, ast.Call):
                return qualify(_dotted(receiver.func)) or ""
            return ""

        for node in nodes:
            if owner is not None and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "self" \
                    and node.func.attr not in inherited[owner][1]:
                # self.init_weights() where a base class defines it: which base's method runs on this
                # class, the project tells from the classes' summaries (Project.method_runs)
                if inherited[owner][0]:
                    passes.add((f"{module}.{owner}.{node.func.attr}", f"{module}.{owner}"))
                continue
            if not isinstance(node, ast.Call) or not node.args or isinstance(node.args[0], ast.Starred):
                continue
            if isinstance(node.func, ast.Attribute) and node.func.attr == "apply" and len(node.args) == 1 \
                    and not node.keywords:
                function = node.args[0]
                if isinstance(function, ast.Call) and _dotted(function.func) in ("partial", "functools.partial") \
                        and function.args:
                    function = function.args[0]
                # ``f`` or ``module.f`` (``self.apply(utils.he_init)``); ``self._init`` is the class's own
                name = _dotted(function) if isinstance(function, (ast.Name, ast.Attribute)) else None
                fn = qualify(name) if name is not None and not name.startswith("self.") else None
                if fn is not None:
                    applications.add((fn, class_of(node.func.value)))
                continue
            callee = _dotted(node.func)
            if callee is None or callee.split(".", 1)[0] not in known or callee.count(".") > 1:
                continue
            fn = qualify(callee)
            if fn is None or fn.split(".", 1)[0] in FRAMEWORKS:
                continue
            if id(node) in looped:
                # under an ``if``, the call reaches some of the modules only: which, the summary
                # does not say (the class is not shown)
                receiver, every = looped[id(node)]
                applications.add((fn, class_of(receiver) if every else ""))
            else:
                passes.add((fn, class_of(node.args[0])))
    return {"applications": sorted([list(pair) for pair in applications]),
            "passes": sorted([list(pair) for pair in passes])}


_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _own_nodes(scope):
    """The nodes of a module or function body, not entering nested functions or classes."""
    return _walk(scope.body, _NESTED)
