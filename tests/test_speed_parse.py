"""What each file costs, as behaviour: a file the prefilter rejects is never parsed; a kept file is
parsed once and analysed in one pass; positions are computed only for a file with something
to report; every file is syntax-checked by CPython first, whatever its words."""

from __future__ import annotations

import pytest

import initlint.engine as engine
from initlint import SourceError, check_source
from initlint.ftypes import Settings

WITH_FINDING = """\
import torch
from torch import nn
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
nn.init.xavier_uniform_(net[0].weight)
"""
KEPT_BUT_CLEAN = """\
import torch
from torch import nn
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")
"""
NOTHING_TO_FIND = "import numpy as np\nw = np.random.randn(4, 4) * 0.1\n"


@pytest.fixture
def calls(monkeypatch):
    counts = {"parse": 0, "analyse": 0, "positions": 0}

    def counting(name, function):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(engine, "parse", counting("parse", engine.parse))
    monkeypatch.setattr(engine, "analyse", counting("analyse", engine.analyse))
    monkeypatch.setattr(engine, "node_ranges", counting("positions", engine.node_ranges))
    return counts


def test_a_file_with_a_finding_is_parsed_and_analysed_once(calls):
    assert [f.code for f in check_source(WITH_FINDING)] == ["INI201"]
    assert calls == {"parse": 1, "analyse": 1, "positions": 1}


def test_positions_only_when_something_is_reported(calls):
    assert check_source(KEPT_BUT_CLEAN) == []
    assert calls == {"parse": 1, "analyse": 1, "positions": 0}


def test_a_rejected_file_is_not_parsed(calls):
    assert check_source(NOTHING_TO_FIND) == []
    assert calls == {"parse": 0, "analyse": 0, "positions": 0}


def test_one_analysis_serves_every_rule(calls):
    everything = Settings(select=frozenset({"INI"}), extend_select=frozenset({"INI204"}))
    check_source(WITH_FINDING, settings=everything)
    assert calls["parse"] == 1 and calls["analyse"] == 1


def test_a_rejected_file_is_still_syntax_checked(calls):
    with pytest.raises(SourceError):
        check_source("import numpy as np\ndef f(:\n")
    assert calls["parse"] == 0


@pytest.fixture
def trees(monkeypatch):
    made = []

    def counting(source, path):
        made.append(path)
        return real(source, path)

    real = engine.syntax_check
    monkeypatch.setattr(engine, "syntax_check", counting)
    return made


def test_a_file_whose_text_leaves_no_rule_is_validated_without_building_pythons_tree(trees):
    assert check_source(NOTHING_TO_FIND) == [] and trees == []
    assert [f.code for f in check_source(WITH_FINDING)] == ["INI201"] and len(trees) == 1  # kept: one tree


@pytest.mark.parametrize("source", [
    "import numpy as np\ndef f(:\n",
    "x = (1,\n",
    "print 'hello'\n",
    "if True:\n  x = 1\n    y = 2\n",
    "x = 1\x00\n",
    "s = '\\N{NOT A NAME}'\n",
    b"# -*- coding: no-such-codec -*-\nx = 1\n",
    b"x = \"\xff\"\n",
    "x = " + "(" * 300 + ")" * 300 + "\n",
])
def test_a_rejected_files_error_is_the_one_the_parser_gives(source):
    """The validation of a file nothing asks the tree of says what syntax_check says, in its words."""
    with pytest.raises(SourceError) as expected:
        engine.syntax_check(source, "<string>")
    with pytest.raises(SourceError) as found:
        check_source(source)
    assert str(found.value) == str(expected.value)


def test_what_only_the_symbol_table_refuses_is_the_parsers_verdict_whatever_the_prefilter_keeps():
    """``global x`` on a parameter is refused by CPython's symbol table, not its parser: a kept file
    and a rejected one alike are checked (as libcst reads them), not reported as syntax errors."""
    late = "def f(x):\n    global x\n"
    assert check_source("import numpy as np\n" + late) == []
    assert [f.code for f in check_source(WITH_FINDING + late)] == ["INI201"]


def test_the_unvalidated_parse_is_libcsts_tree_and_validation_comes_back():
    """engine.parse builds libcst's nodes with cheaper constructors that do not validate
    (parsed_nodes.py); the tree must be the one libcst builds, over every shape of syntax the
    project's own code, tests and fixtures hold, and nodes made afterwards (by the fixes) must be
    built and validated by libcst again, even after a parse that failed."""
    import libcst as cst

    from conftest import ROOT

    sources = [*sorted((ROOT / "examples").glob("*.py")), *sorted((ROOT / "initlint").rglob("*.py")),
               *sorted((ROOT / "tests").rglob("*.py"))]
    assert len(sources) > 200
    shapes = 0
    for path in sources:
        source = path.read_bytes()
        try:
            expected = cst.parse_module(source)
        except Exception:  # fixtures that do not parse on purpose
            continue
        assert engine.parse(source).deep_equals(expected), path
        shapes += 1
    assert shapes > 200
    # every kind of default: a factory's (whitespace), a plain one (None, ()), and none
    built = engine.parse("async def f(*a, b: int = 1, **k) -> None:\n    return [x async for x in a if x]\n")
    assert built.deep_equals(cst.parse_module("async def f(*a, b: int = 1, **k) -> None:\n"
                                               "    return [x async for x in a if x]\n"))
    with pytest.raises(SourceError):
        engine.parse("def f(:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not an identifier")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("x", lpar=[cst.LeftParen()])  # unbalanced parentheses: validated again
    assert cst.TrailingWhitespace().newline.deep_equals(cst.Newline())  # libcst's own defaults again


def test_the_cheaper_constructors_have_libcsts_signatures():
    """Each replaced ``__init__`` takes the parameters of the one dataclasses generated, in the same
    order, with the same defaults (a default_factory's stays a factory's), so that a node the
    parser builds positionally or by keyword gets the same fields."""
    import inspect

    from initlint import parsed_nodes

    def parameters(function):
        return [(p.name, p.kind, "factory" if p.default is parsed_nodes._FROM_FACTORY
                 or repr(p.default) == "<factory>" else p.default)
                for p in inspect.signature(function).parameters.values()]

    swaps = parsed_nodes._swaps()
    assert len(swaps) > 150  # every concrete node class of libcst's
    for cls, own, cheaper in swaps:
        assert parameters(own) == parameters(cheaper), cls
        assert cls.__init__ is own  # outside a parse, libcst's own


def test_overlapping_parses_leave_libcsts_construction_in_place():
    """Blocks that overlap (two threads, or a parse within a parse) restore libcst's own
    construction and validation when they end, whichever ends first."""
    import libcst as cst

    from initlint.parsed_nodes import parsed_nodes

    with parsed_nodes():
        with parsed_nodes():
            assert cst.Name("not an identifier")  # no validation inside
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not an identifier")


def _live_modules() -> int:
    import gc

    import libcst as cst

    return sum(1 for obj in gc.get_objects() if type(obj) is cst.Module)


def test_a_checked_files_trees_are_freed_when_the_check_returns():
    """The cycle collector is paused during a check and run once at its end: the analysis holds
    the tree in cycles, so without that run each file's tree would outlive its check."""
    import gc

    from conftest import ROOT

    gc.collect()
    before = _live_modules()
    model = (ROOT / "examples" / "torch_textbook.py").read_bytes()
    for _ in range(3):
        assert check_source(model)  # kept, parsed and analysed: it has findings
        check_source(KEPT_BUT_CLEAN)
        assert _live_modules() == before
    assert gc.isenabled()


def test_the_collector_comes_back_after_a_failed_check_and_stays_off_if_the_caller_had_it_off():
    import gc

    with pytest.raises(SourceError):
        check_source("import torch\ndef f(:\n")
    assert gc.isenabled()
    gc.disable()
    try:
        check_source(WITH_FINDING)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_analysis_holds_the_tree_in_no_cycle():
    """With the collector off, a file's trees and analysis are freed by reference counting alone
    when its check returns (a binding points at its scope weakly; no nested function refers to
    itself): the collector's one run per file then finds nothing to walk."""
    import gc

    from conftest import ROOT

    files = sorted((ROOT / "examples").glob("*.py")) + sorted((ROOT / "tests" / "fixtures").glob("INI*/positive_*.py"))
    gc.collect()
    before = _live_modules()
    gc.disable()
    try:
        for path in files:
            check_source(path.read_bytes(), str(path))
            assert _live_modules() == before, path
    finally:
        gc.enable()
