"""``reparse.Reparser``: a version of a buffer parsed from the chunks that changed and the kept ones
is the tree a whole parse gives (``deep_equals``, the same text, the same positions), and its
findings are ``check``'s, on real model files edited the ways a user edits them, including the
edits that must not be cut (comments indented into a block, tabs, statements sharing a line)."""

from __future__ import annotations

import random
from pathlib import Path

import libcst as cst
import pytest

from conftest import ROOT, fixture_files
from initlint.analysis.positions import node_ranges
from initlint.engine import check_source, parse, syntax_check
from initlint.ftypes import Settings
from initlint.reparse import Reparser, cut_lines, line_texts


def _nodes(module: cst.Module):
    found = []

    class Every(cst.CSTVisitor):
        def on_visit(self, node) -> bool:
            found.append(node)
            return True

    module.visit(Every())
    return found


def assert_same_as_whole(reparser: Reparser, source: str, path: str = "model.py") -> cst.Module:
    tree = syntax_check(source, path)
    module = reparser.parse(source, tree, parse)
    whole = parse(source)
    assert module.deep_equals(whole)
    assert module.code == source
    assert (module.default_indent, module.default_newline, module.has_trailing_newline) == \
        (whole.default_indent, whole.default_newline, whole.has_trailing_newline)
    nodes = _nodes(module)[::7]
    kept = reparser.node_ranges(module, nodes)
    if kept is not None:
        assert kept == node_ranges(module, nodes)
    return module


def user_edits(source: str, rng: random.Random, count: int):
    """Versions of ``source`` as a user makes them: a digit changed, a comment or blank line added
    (at column 0 and indented into a block), a trailing comment, a line deleted, a statement
    appended with a semicolon."""
    lines = source.split("\n")
    for _ in range(count):
        edited = list(lines)
        i = rng.randrange(len(lines))
        kind = rng.randrange(7)
        if kind == 0:
            digits = [j for j, c in enumerate(edited[i]) if c.isdigit()]
            if digits:
                j = rng.choice(digits)
                edited[i] = edited[i][:j] + str((int(edited[i][j]) + 1) % 10) + edited[i][j + 1:]
        elif kind == 1:
            edited.insert(i, "# a comment at column 0")
        elif kind == 2:
            edited.insert(i, "")
        elif kind == 3:
            edited[i] += "  # trailing"
        elif kind == 4:
            edited.insert(i, "    # indented into the block above")
        elif kind == 5 and edited[i].strip() and not edited[i].rstrip().endswith((":", ",", "(", "[", "{", "\\")):
            edited[i] += "; x_ = 1"
        elif kind == 6:
            del edited[i]
        yield "\n".join(edited)


def _versions_checked(path: Path, count: int, seed: int) -> int:
    source = path.read_text(encoding="utf-8")
    reparser = Reparser()
    assert_same_as_whole(reparser, source, str(path))
    checked = 0
    for version in user_edits(source, random.Random(seed), count):
        try:
            syntax_check(version, str(path))
        except Exception:  # an edit that breaks the syntax is the gates' business
            continue
        assert_same_as_whole(reparser, version, str(path))
        checked += 1
    return checked


@pytest.mark.parametrize("path", fixture_files()[::4], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_edited_fixture_files_parse_to_the_whole_parses_tree(path: Path):
    _versions_checked(path, 3, seed=len(path.name))


def _real_files():
    torch = pytest.importorskip("torch")
    nn = Path(torch.__file__).parent / "nn" / "modules"
    return [nn / "conv.py", nn / "transformer.py", nn / "rnn.py"]


def test_edited_real_model_files_parse_to_the_whole_parses_tree():
    for path in _real_files():
        assert _versions_checked(path, 6, seed=1) >= 3


SOURCE = '''"""A model."""
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.fc = nn.Linear(width, width)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.fc(x).relu()

# a comment at column 0, between statements

@decorated
class Other(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        nn.init.zeros_(self.fc.weight)
'''


def test_a_change_reparses_only_its_chunk_and_the_findings_are_checks():
    reparser = Reparser()
    settings = Settings()
    first = check_source(SOURCE, "model.py", settings, reparser=reparser)
    assert first == check_source(SOURCE, "model.py", settings) and first
    assert len(cut_lines(syntax_check(SOURCE, "m"), line_texts(SOURCE))) == 4
    edited = SOURCE.replace("nn.Linear(4, 4)", "nn.Linear(4, 8)")
    findings = check_source(edited, "model.py", settings, reparser=reparser)
    assert reparser.reused == 3  # the two imports' chunk and Block's are kept, Other's is parsed
    assert findings == check_source(edited, "model.py", settings)
    # a finding moved down by a line inserted above it: positions follow
    moved = SOURCE.replace("class Block", "\nclass Block")
    findings = check_source(moved, "model.py", settings, reparser=reparser)
    assert findings == check_source(moved, "model.py", settings)
    assert [f.line for f in findings] == [f.line + 1 for f in first]


@pytest.mark.parametrize("source", [
    # an indented comment after a block belongs to the block: no cut there
    "class A:\n    x = 1\n    # owned by A's block\n\nclass B:\n    y = 2\n",
    # whitespace-only lines between statements
    "class A:\n    x = 1\n    \n  \nclass B:\n    y = 2\n",
    # tabs as the file's first indentation
    "class A:\n\tx = 1\n\n\nclass B:\n\ty = 2\n",
    # two-space indentation, then four
    "if a:\n  x = 1\n\n\nclass B:\n    y = 2\n",
    # statements sharing a line, then a cut
    "a = 1; b = 2\n\n\nc = 3\n",
    # no trailing newline, a footer of comments
    "x = 1\n\n\ny = 2\n# the end\n\n",
    "x = 1\n\n\ny = 2",
    # a decorator continued on the next line
    "@\\\n  deco\ndef f():\n    pass\n\n\ndef g():\n    pass\n",
    # a form feed between statements
    "x = 1\n\x0c\n\ny = 2\n",
    # a header of comments and a docstring
    "#!/usr/bin/env python\n# header\n\n'''doc'''\n\n\nimport os\n",
])
def test_shapes_that_must_not_be_cut_wrongly(source: str):
    reparser = Reparser()
    assert_same_as_whole(reparser, source)
    for version in (source.replace("1", "3"), source.replace("2", "5"), "# new first line\n" + source,
                    source + "\nz = 9\n"):
        assert_same_as_whole(reparser, version)


def test_sources_it_does_not_cut_are_parsed_whole():
    reparser = Reparser()
    for source in ("x = 1\r\n\r\n\r\ny = 2\r\n", ""):
        assert_same_as_whole(reparser, source)
        assert reparser.reused == 0


def test_the_server_worker_keeps_the_buffers_it_was_last_given_within_a_budget():
    from initlint import server

    server._reparsers.clear()
    first = server._reparser("a.py", server.KEPT_SOURCE_BYTES // 2)
    assert server._reparser("a.py", server.KEPT_SOURCE_BYTES // 2) is first  # the same buffer again
    server._reparser("b.py", server.KEPT_SOURCE_BYTES // 4)
    server._reparser("c.py", server.KEPT_SOURCE_BYTES // 2)  # over the budget: the least recent goes
    assert list(server._reparsers) == ["b.py", "c.py"]
    huge = server._reparser("huge.py", 2 * server.KEPT_SOURCE_BYTES)  # alone over it: still kept
    assert list(server._reparsers) == ["huge.py"] and server._reparser("huge.py", 1) is huge
    server._reparsers.clear()


def test_a_change_of_the_files_first_indentation_is_seen():
    """The chunks are parsed assuming the file's first indentation, kept from the version before
    while the text that decides it is unchanged: a version that changes it, or puts an indented
    block before it, or gives a flat script its first block, parses to the whole parse's tree."""
    reparser = Reparser()
    versions = [
        "import a\n\n\nclass A:\n  x = 1\n\n\nclass B:\n  y = 2\n",
        "import a\n\n\nclass A:\n    x = 1\n\n\nclass B:\n  y = 2\n",  # the first block re-indented
        "import a\n\n\nclass A:\n    x = 1\n\n\nclass B:\n  y = 3\n",
        "if a:\n\tb = 1\n\n\nclass A:\n    x = 1\n\n\nclass B:\n  y = 3\n",  # a tab-indented block first
        "import a\n\n\nx = 1\n\n\ny = 2\n",  # flat
        "import a\n\n\nx = 1\n\n\nif y:\n   z = 2\n",  # its first block, at the end
        "import a\n\n\nx = 1\n\n\nif y:\n     z = 2\n",  # changed again: nothing kept
        "import a\n\n\nx = 2\n\n\nif y:\n     z = 2\n",  # the same first indentation: kept
    ]
    reused = []
    for version in versions:
        assert_same_as_whole(reparser, version)
        reused.append(reparser.reused)
    assert reused[1] == reused[3] == reused[-2] == 0 and reused[2] > 0 and reused[-1] == 2
