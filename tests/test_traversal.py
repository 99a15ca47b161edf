"""The analysis walks libcst trees without libcst's copying traversal and computes positions with
its own codegen state: both must give exactly what libcst gives, on real code and on odd layouts."""

from __future__ import annotations

import ast
import importlib.util
import random
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from conftest import ROOT, fixture_files
from initlint.analysis.collector import Collector
from initlint.analysis.positions import node_ranges
from initlint.analysis.traversal import _LAYOUT, children, dispatch, walk


def _real_sources():
    """Fixtures, examples, and every 8th file of the installed timm (its source only; never imported)."""
    paths = [*fixture_files(), *sorted((ROOT / "examples").glob("*.py"))]
    spec = importlib.util.find_spec("timm")
    if spec is not None and spec.submodule_search_locations:
        paths += sorted(Path(next(iter(spec.submodule_search_locations))).rglob("*.py"))[::8]
    return paths


SOURCES = _real_sources()
LAYOUTS = {
    "crlf": "import torch\r\nif x:\r\n    y = f(a,\r\n          b)  # c\r\n",
    "cr": "import torch\rif x:\r    y = f(a,\r          b)\r",
    "tabs": "class A:\n\tdef f(self):\n\t\treturn g( 1 ,2 )\n",
    "continuation": "x = 1 + \\\n    2\nw = (\n  3 *\n  4)\n",
    "semicolons": "a = 1; b = f(a); c = [i for i in range(3) if i]\n",
    "decorated": "@d\n# c\n@e(1)\nasync def f(x: int = 1, *a, k=2, **kw) -> None:\n    await g()\n",
    "strings": 'x = f"{a!r:>{w}}" "y"\nz = b"z" rb"\\d"\ns = """\nmulti\n"""\n',
    "match": "match p:\n    case [1, *r] if r:\n        pass\n    case {'k': v}:\n        pass\n",
    "leading": "# top\n\n\n@d\n\n# c\n@e\nclass A:\n    pass\n\n# after\nx = f(1); y = g(2)\nif x:  # c\n    z = h(3)",
}


def _libcst_order(module: cst.Module):
    seen = []

    class Recorder(cst.CSTVisitor):
        def on_visit(self, node):
            if not isinstance(node, _LAYOUT):
                seen.append(node)
            return True

    module.visit(Recorder())
    return seen


def _modules():
    for path in SOURCES:
        yield str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name), \
            cst.parse_module(path.read_bytes())
    for name, text in LAYOUTS.items():
        yield name, cst.parse_module(text)


def test_there_is_real_code_to_compare_on():
    assert len(SOURCES) > 60


def test_walk_visits_every_node_libcst_visits_in_the_same_order():
    for name, module in _modules():
        got, want = list(walk(module)), _libcst_order(module)
        assert len(got) == len(want), name
        assert all(a is b for a, b in zip(got, want)), name


def test_children_are_libcsts_without_layout():
    module = cst.parse_module("y = f(a, *b, k=(1 + 2))  # note\n")
    call = module.body[0].body[0].value
    assert children(call) == [c for c in call.children if not isinstance(c, _LAYOUT)]
    assert [type(c).__name__ for c in children(call)] == ["Name", "Arg", "Arg", "Arg"]


class _Events(cst.CSTVisitor):
    """Records every visit/leave, node and attribute, of the methods the collector has."""

    def __init__(self) -> None:
        super().__init__()
        self.events = []


def _recording_method(name):
    def method(self, node):
        self.events.append((name, node))
    return method


for _name in vars(Collector):
    if _name.startswith(("visit_", "leave_")):
        setattr(_Events, _name, _recording_method(_name))


def test_dispatch_calls_the_visitors_methods_as_libcst_does():
    for name, module in _modules():
        by_libcst, by_dispatch = _Events(), _Events()
        module.visit(by_libcst)
        dispatch(by_dispatch, module)
        assert len(by_dispatch.events) == len(by_libcst.events), name
        assert all(a[0] == b[0] and a[1] is b[1] for a, b in zip(by_dispatch.events, by_libcst.events)), name


def test_visit_returning_false_skips_the_children_but_not_the_leave():
    module = cst.parse_module("def f():\n    g(1)\nh(2)\n")

    class SkipFunctions(cst.CSTVisitor):
        def __init__(self):
            super().__init__()
            self.calls, self.left = [], []

        def visit_FunctionDef(self, node):
            return False

        def leave_FunctionDef(self, node):
            self.left.append(node.name.value)

        def visit_Call(self, node):
            self.calls.append(node.func.value)

    visitor = SkipFunctions()
    dispatch(visitor, module)
    assert (visitor.calls, visitor.left) == (["h"], ["f"])


def test_no_recursion_limit():
    deep = cst.Name("x")
    for _ in range(20_000):
        deep = cst.UnaryOperation(cst.Minus(), deep)
    assert sum(isinstance(n, cst.Name) for n in walk(deep)) == 1
    names = []

    class Names(cst.CSTVisitor):
        def visit_Name(self, node):
            names.append(node)

    dispatch(Names(), deep)
    assert len(names) == 1


def _libcst_ranges(module):
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: ((r.start.line, r.start.column), (r.end.line, r.end.column)) for node, r in positions.items()}


def test_positions_are_libcsts_for_every_node_and_for_a_few():
    """With CPython's tree (the engine's path: only the top-level statements holding a node are
    generated, from the lines CPython gives) and without it (the whole module)."""
    rng = random.Random(0)
    compared = 0
    for name, module in _modules():
        want = _libcst_ranges(module)
        nodes = list(walk(module))
        tree = ast.parse(module.code)
        for wanted in (nodes, rng.sample(nodes, min(3, len(nodes))), nodes[: len(nodes) // 2],
                       nodes[-len(nodes) // 3:]):
            expected = {node: want[node] for node in wanted}
            assert node_ranges(module, wanted) == expected, name
            assert node_ranges(module, wanted, tree) == expected, name
            compared += len(wanted)
        for node in rng.sample(nodes, min(20, len(nodes))):  # one node alone: the deepest statements generated
            assert node_ranges(module, [node], tree) == {node: want[node]}, name
    assert compared > 10_000


def _generated(kind, run):
    """The nodes of type ``kind`` whose code ``run()`` generates."""
    generated = []
    original = kind._codegen_impl

    def spy(self, state, *args, **kwargs):
        generated.append(self)
        return original(self, state, *args, **kwargs)

    kind._codegen_impl = spy
    try:
        return run(), generated
    finally:
        kind._codegen_impl = original


def test_positions_by_statement_generate_only_what_holds_a_node():
    """The last statement's node is found without generating the others (nor the function around
    it: only its body's statement), and a tree that does not pair with the module's statements is
    refused (the whole module is generated instead)."""
    import initlint.analysis.positions as positions

    module = cst.parse_module("import torch\n\n# c\nx = f(1)\n\n\n@d\ndef g():\n    return h(2)\n")
    target = next(node for node in walk(module) if isinstance(node, cst.Call) and node.func.value == "h")
    tree = ast.parse(module.code)
    found, generated = _generated(cst.SimpleStatementLine, lambda: positions._by_statement(module, {target}, tree))
    assert found == {target: ((9, 11), (9, 15))} and generated == [module.body[-1].body.body[0]]
    _, defs = _generated(cst.FunctionDef, lambda: positions._by_statement(module, {target}, tree))
    assert defs == []
    assert positions._by_statement(module, {target}, ast.parse("x = 1\n")) is None


def test_positions_in_one_method_of_a_class_generate_that_statement_alone():
    """A node in one method: its statement is generated at the method's indentation, neither the
    class nor the method around it; a node in a decorator (the method's header) has the whole
    method generated; the ranges are libcst's (tabs, blank and comment lines, a docstring and
    ``a; b`` lines in the class)."""
    import initlint.analysis.positions as positions

    code = ("class Net:\n\t'''doc'''\n\n\tdef __init__(self):\n\t\tself.a = 1\n\n"
            "\t# the init\n\t@torch.no_grad()\n\tdef init(self):\n\t\tnormal_(self.w, std=2)  # tabs\n"
            "\t\t\n\tx = 1; y = g(3)\n")
    module = cst.parse_module(code)
    tree = ast.parse(code)
    want = _libcst_ranges(module)
    calls = {node.func.value: node for node in walk(module) if isinstance(node, cst.Call)
             and isinstance(node.func, cst.Name)}
    for name in ("normal_", "g"):
        found, defs = _generated(cst.FunctionDef, lambda: positions._by_statement(module, {calls[name]}, tree))
        assert found == {calls[name]: want[calls[name]]} and defs == []  # normal_'s line alone, in the method
    call = next(node for node in walk(module) if isinstance(node, cst.Decorator)).decorator
    found, defs = _generated(cst.FunctionDef, lambda: positions._by_statement(module, {call, calls["normal_"]}, tree))
    assert found == {call: want[call], calls["normal_"]: want[calls["normal_"]]} and len(defs) == 1


def test_positions_of_nothing_and_of_foreign_nodes():
    module = cst.parse_module("x = 1\n")
    assert node_ranges(module, []) == {}
    assert node_ranges(module, [cst.Name("elsewhere")]) == {}


@pytest.mark.parametrize("chain", [" + ".join(["nn"] * 1_500), " and ".join(["nn"] * 4_000)])
def test_a_finding_after_deep_code_is_positioned(chain):
    """libcst generates code recursively, several frames a level: a finding after a 1,500-term sum
    or a 4,000-term `and` (the engine's bound) is still found and positioned."""
    from initlint import check_source

    source = ("import torch.nn as nn\nx = (" + chain + ")\nlayer = nn.Linear(4, 4)\n"
              "nn.init.xavier_uniform_(layer.weight)\nnet = nn.Sequential(layer, nn.ReLU())\n")
    assert [(f.code, f.line) for f in check_source(source)] == [("INI201", 4)]


def test_fields_set_only_on_some_instances_are_walked_on_those():
    """libcst visits an f-string's format_spec only when it is set: a module whose first f-string
    has none must still have the names inside a later one's format spec visited."""
    module = cst.parse_module('a = f"{x}"\nb = f"{y:>{width}}"\n')
    by_libcst, by_dispatch = _Events(), _Events()
    module.visit(by_libcst)
    dispatch(by_dispatch, module)
    names = [node.value for name, node in by_dispatch.events if name == "visit_Name"]
    assert "width" in names
    assert [(n, id(x)) for n, x in by_dispatch.events] == [(n, id(x)) for n, x in by_libcst.events]
    assert "width" in [n.value for n in walk(module) if isinstance(n, cst.Name)]
