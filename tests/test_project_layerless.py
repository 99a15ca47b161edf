"""``project.layerless``: a project class is taken to hold no layer (and its module is not parsed
with libcst) only where the parse would find none.

Every top-level class of the fixture projects is asked, and each answer "holds none" is checked
against the parse (``layers._module_layers``); classes shaped like real code, whose layers come
through a base in a third module, a helper function, an alias, a container, a star import or a
re-export, must be parsed; bases and mixins shaped like transformers' ``PreTrainedModel`` and hub
mixins must not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT, make_project
from initlint.project import Projects
from initlint.project.layerless import holds_no_layer
from initlint.project.layers import _module_layers

PROJECTS = ROOT / "tests" / "projects"
MIXINS = PROJECTS / "mixin_repo" / "src" / "mixpkg"


def _classes(path: Path):
    tree = ast.parse(path.read_text())
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


def _answer(path: Path, name: str):
    """What ``layerless`` says of the class, asked as a checked file of its project would ask."""
    projects = Projects()
    return holds_no_layer(projects.view(str(path)), str(path), name)


def _parsed(path: Path, name: str):
    projects = Projects()
    return _module_layers(projects.view(str(path)), str(path))["classes"].get(name)


FIXTURE_CLASSES = [(path, name) for path in sorted(PROJECTS.rglob("*.py")) for name in _classes(path)]


@pytest.mark.parametrize("path, name", FIXTURE_CLASSES,
                         ids=[f"{p.relative_to(PROJECTS).as_posix()}:{n}" for p, n in FIXTURE_CLASSES])
def test_a_class_said_to_hold_no_layer_holds_none_when_parsed(path, name):
    if _answer(path, name) is not None:
        assert _parsed(path, name) == []


def test_mixins_and_bases_are_told_without_the_parse():
    free = _answer(MIXINS / "modeling_utils.py", "PreTrained")
    # its mixin base's module is read too: a change there re-checks the files that asked
    assert free == {str(MIXINS / "modeling_utils.py"), str(MIXINS / "utils" / "hub.py")}
    assert _answer(MIXINS / "utils" / "hub.py", "PushMixin") == {str(MIXINS / "utils" / "hub.py")}


@pytest.mark.parametrize("path, name", [
    ("layers.py", "ConvAct"),
    ("layers.py", "Stacked"),  # a local variable, a container, an alias of the activation
    ("blocks.py", "Middle"),  # no layer of its own: its base's, in layers.py
    ("blocks.py", "Holder"),
])
def test_classes_with_layers_are_parsed(path, name):
    assert _answer(MIXINS / path, name) is None
    assert _parsed(MIXINS / path, name)


SHAPES = {
    "pkg/__init__.py": "",
    "pkg/backend.py": "from torch import nn\n",
    "pkg/blocks.py": """
        from torch import nn


        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
    """,
    "pkg/base.py": """
        from .blocks import Block


        class Mid(Block):
            pass
    """,
    "pkg/shapes.py": """
        from torch import nn

        from .backend import nn as reexported
        from .base import Mid
        from .blocks import Block

        Dense = nn.Linear
        SHARED = nn.Linear(4, 4)


        def make(n):
            return nn.Linear(n, n)


        class ThirdModuleBase(Mid):
            pass


        class Instance(nn.Module):
            def __init__(self):
                super().__init__()
                self.block = Block()


        class Helper(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = make(4)


        class Alias(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = Dense(4, 4)


        class ModuleConstant(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = SHARED


        class LocalImport:
            def __init__(self):
                from torch.nn import Conv2d
                self.conv = Conv2d(3, 8, 3)


        class ReExported(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = reexported.Linear(4, 4)


        class LoopTarget(nn.Module):
            def __init__(self):
                super().__init__()
                for self.fc in [nn.Linear(4, 4)]:
                    pass


        class LocalBase(Alias):
            pass


        class Container(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList()
                self.blocks.append(Block())  # grows the container: no self.x = of its own


        class Config:
            def __init__(self, config, layer_class):
                self.config = config
                self.size = int(config.size)
                self.names = [str(n) for n in config.names]
                self.made = layer_class(4)  # a parameter, and a method's return: the parse follows
                self.helper = self.make_layer(4)  # neither (the file's own check does)
                self.cache = make  # the helper, not called

            def make_layer(self, n):
                return nn.Linear(n, n)

            def resize(self, n):
                new = nn.Linear(n, n)  # made and returned, never held
                return new
    """,
    "scripts/models.py": """
        from torch import nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
    """,
    "scripts/run.py": """
        from models import *


        class Starred:
            def __init__(self):
                self.net = Net()
    """,
}


@pytest.mark.parametrize("name", ["ThirdModuleBase", "Instance", "Helper", "Alias", "ModuleConstant", "LocalImport",
                                  "ReExported", "LoopTarget", "LocalBase", "Container"])
def test_each_way_a_layer_reaches_a_class_is_followed(tmp_path, name):
    shapes = make_project(tmp_path, SHAPES, "shapes") / "pkg" / "shapes.py"
    assert _answer(shapes, name) is None
    if name != "Helper":  # the parse follows no helper's return (the file's own check does)
        assert _parsed(shapes, name)


def test_a_star_import_is_followed(tmp_path):
    run = make_project(tmp_path, SHAPES, "shapes") / "scripts" / "run.py"
    assert _answer(run, "Starred") is None
    assert _parsed(run, "Starred")


def test_a_class_of_settings_and_calls_the_parse_does_not_follow_holds_none(tmp_path):
    shapes = make_project(tmp_path, SHAPES, "shapes") / "pkg" / "shapes.py"
    assert _answer(shapes, "Config") == {str(shapes)}
    assert _parsed(shapes, "Config") == []
