"""The import heads read from a module's text (``project/import_heads.py``): a superset of what
CPython's tree shows, on the spellings Python accepts, and the prefilter's project words that use
them to skip the tree of a file that imports nothing of its project."""

from __future__ import annotations

import ast
import os

import pytest

from conftest import make_project
from initlint.project import Projects
from initlint.project.import_heads import import_heads, may_import


def _tree_heads(data: bytes):
    """What CPython's tree says: the first name of every absolute import, and whether one is relative."""
    heads, relative = set(), False
    for node in ast.walk(ast.parse(data)):
        if isinstance(node, ast.Import):
            heads.update(alias.name.split(".")[0].encode() for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                relative = True
            else:
                heads.add(node.module.split(".")[0].encode())
    return heads, relative


SPELLINGS = [
    "import a",
    "import a.b.c as d, e",
    "import a, \\\n    b",
    "import a, \\\r\n    b",
    "x = 1; import a",
    "if True: import a\nelse: import b",
    "try: import a\nexcept ImportError: import b",
    "def f():\n    import a",
    "from a.b import c",
    "from\\\n  a import b",
    "from a import (\n    b,\n    c,\n)",
    "from a import b as c, d",
    "from __future__ import annotations\nimport a",
    "import\ta\f",
    "# read from disk \\\nimport a",  # a comment's backslash does not continue the line
    "s = 'from x import y'\nimport a",
    "'''text from disk\n'''\nimport a",
    "from a import b; import c",
    "from a import b\nimport c",
    "class C:\n    from a import b\n    import c",
    "if True: from a import b",
    "x = 1; from a import b as c, d",
    "from a \\\n    import b",
    "from a.b\\\n    import c\nimport d",
]


@pytest.mark.parametrize("source", SPELLINGS)
def test_every_head_the_tree_shows_is_read_from_the_text(source):
    data = source.encode()
    want, relative = _tree_heads(data)
    heads = import_heads(data)
    assert not relative and heads is not None
    assert want <= heads, (want - heads)


@pytest.mark.parametrize("source", ["from . import a", "from .a import b", "from .. a import b", "from.a import b",
                                    "from\\\n  . import a", "import módulo"])
def test_a_relative_import_or_a_name_outside_ascii_cannot_be_told_by_name(source):
    assert import_heads(source.encode()) is None
    assert may_import(source.encode(), frozenset({"anything"}))


def test_the_names_a_from_statement_imports_are_not_heads():
    """``from keras.src import backend`` imports nothing whose first name is ``backend``: a project
    with a ``backend`` module is not imported by it (most of a framework's own files read so)."""
    data = b"from keras.src import backend\nfrom keras.src.layers import Dense, layers\nimport numpy as np\n"
    assert import_heads(data) == {b"keras", b"numpy", b"as", b"np"}
    assert not may_import(data, frozenset({"backend", "layers"}))
    assert may_import(data + b"import backend\n", frozenset({"backend", "layers"}))


def test_the_heads_are_a_superset_of_the_trees_on_the_installed_packages():
    """Every import of a sample of real modules (torch, the standard library): none missed."""
    import json as json_module

    roots = [os.path.dirname(json_module.__file__)]
    try:
        import torch

        roots.append(os.path.join(os.path.dirname(torch.__file__), "nn"))
    except ImportError:  # pragma: no cover - torch is a test dependency
        pass
    checked = 0
    for root in roots:
        for directory, _, names in os.walk(root):
            for name in sorted(names):
                if not name.endswith(".py"):
                    continue
                with open(os.path.join(directory, name), "rb") as handle:
                    data = handle.read()
                try:
                    want, relative = _tree_heads(data)
                except (SyntaxError, ValueError):
                    continue
                heads = import_heads(data)
                checked += 1
                if heads is None:
                    continue
                assert not relative, name
                assert want <= heads, (name, want - heads)
    assert checked > 100


def _words(path):
    from initlint.engine import package_of

    data = path.read_bytes()
    made = []

    def tree():
        made.append(True)
        return ast.parse(data)

    words = Projects().share().view(str(path)).prefilter_words(tree, data, package_of(str(path)))
    return words, bool(made)


def test_a_file_importing_nothing_of_its_project_gets_no_words_and_no_tree(tmp_path):
    root = make_project(tmp_path, {
        "layers.py": "from torch import nn\nclass Block(nn.Module):\n    def __init__(self):\n"
                     "        super().__init__()\n        self.fc = nn.Linear(4, 4)\n",
        "train.py": "import torch\nfrom torch import nn\nnet = nn.Linear(4, 4)\nnn.init.xavier_uniform_(net.weight)\n",
    })
    words, treed = _words(root / "train.py")
    assert words == b"" and not treed


def test_a_file_importing_its_project_still_gets_the_words(tmp_path):
    root = make_project(tmp_path, {
        "layers.py": "from torch import nn\nclass Block(nn.Module):\n    def __init__(self):\n"
                     "        super().__init__()\n        self.fc = nn.Linear(4, 4)\n        self.act = nn.ReLU()\n",
        "train.py": "from torch import nn\nfrom layers import Block\nnet = Block()\n"
                    "nn.init.xavier_uniform_(net.fc.weight)\n",
    })
    words, _ = _words(root / "train.py")
    assert b"Linear" in words.split() and b"ReLU" in words.split()


def test_a_module_whose_function_another_applies_still_gets_the_words(tmp_path):
    """No import of the project in the helper's module, but another module applies its function to
    a class (``net.apply(init)``): the second tier still answers."""
    root = make_project(tmp_path, {
        "init.py": "from torch import nn\ndef init(m):\n    if isinstance(m, nn.Linear):\n"
                   "        nn.init.xavier_uniform_(m.weight)\n",
        "net.py": "from torch import nn\nfrom init import init\nclass Net(nn.Module):\n"
                  "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n"
                  "        self.act = nn.ReLU()\n        self.apply(init)\n",
        "main.py": "from net import Net\nfrom init import init\nnet = Net()\nnet.apply(init)\n",
    })
    words, _ = _words(root / "init.py")
    assert b"ReLU" in words.split()
