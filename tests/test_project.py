"""Project scope: a bug completed by another module of the project is found at its init call.

The projects under ``tests/projects/`` are shaped like research repositories: an init helper in
``utils/init.py`` applied in ``train.py`` to a ReLU network of ``models/net.py``; a block class of
one module initialised by a model of another; an activation alias and string constants in a
settings module; a ``src/`` layout whose package re-exports Keras (``from .backend import
keras``); models and helpers reached through ``from models import *``; ``helper_repo``: init
helpers called directly on a model (``init_weights(self)``, pix2pix's ``init_net(net)`` applying a
nested function, ``for m in self.modules(): per_module(m)``) and layer classes subclassed in another
module; ``hier_repo``: base classes' init methods run by subclasses through classes between them
in other modules, an import under another name and ``super()``, beside an override in the class
between, a look-alike class of the same name and an installed library's base first. Each positive line carries ``# expect: CODE``; ``gan_repo_ok`` and ``helper_repo_ok`` hold
the correct look-alikes (a Tanh network under Xavier, He under ReLU, the DCGAN tutorial's
class-name branches applied to a generator of another module, a shared initialiser seeded by a
SeedGenerator, a subclass whose own forward routes its base's conv through tanh, a loop whose
guard keeps a Glorot helper on the tanh layers) and must stay silent.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, cli_json, expected_findings, run_cli
from initlint.cache import Cache
from initlint.ftypes import Settings
from initlint.project import Projects
from initlint.project.layout import module_names, project_root
from initlint.project.summary import summarise
from initlint.runner import check_paths

PROJECTS = ROOT / "tests" / "projects"
NAMES = sorted(p.name for p in PROJECTS.iterdir() if p.is_dir())
DEFAULT = Settings()


def expectations(project: Path):
    out = set()
    for path in sorted(project.rglob("*.py")):
        for line, code in expected_findings(path):
            out.add((path.relative_to(project).as_posix(), line, code))
    return out


def cli_findings(project: Path, *args: str):
    document = cli_json("--isolated", "--no-cache", *args, cwd=project)
    assert document["errors"] == []
    return {(Path(f["path"]).as_posix(), f["line"], f["code"]) for f in document["findings"]}, document


def test_the_projects_are_there():
    assert {"gan_repo", "gan_repo_ok", "keras_src", "star_repo", "helper_repo", "helper_repo_ok", "hier_repo"} <= set(NAMES)
    assert expectations(PROJECTS / "gan_repo") and expectations(PROJECTS / "keras_src")
    assert expectations(PROJECTS / "helper_repo") and expectations(PROJECTS / "hier_repo")
    assert not expectations(PROJECTS / "gan_repo_ok") and not expectations(PROJECTS / "helper_repo_ok")


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("name", NAMES)
def test_the_cli_finds_what_other_modules_complete(name, jobs):
    project = PROJECTS / name
    found, _ = cli_findings(project, "--jobs", jobs, ".")
    assert found == expectations(project)


@pytest.mark.parametrize("name", ["gan_repo", "keras_src", "star_repo", "helper_repo", "hier_repo"])
def test_each_file_alone_misses_them(name):
    """The same bugs, checked file by file (``--no-project``): what project scope adds."""
    project = PROJECTS / name
    found, _ = cli_findings(project, "--no-project", ".")
    assert not found & expectations(project)


def test_the_finding_names_the_file_that_completes_it():
    _, document = cli_findings(PROJECTS / "gan_repo", ".")
    messages = {Path(f["path"]).as_posix(): f["message"] for f in document["findings"]}
    assert "xavier_uniform_ on conv (Conv2d) in models/net.py:8, which is followed by relu" in messages["utils/init.py"]
    assert "on conv (Conv2d) in models/blocks.py:9, which is followed by relu" in messages["models/generator.py"]


def test_a_changed_file_alone_is_checked_with_its_project():
    """What pre-commit does: only the changed helper is named; train.py and models/net.py, which
    complete its bug, are read from the project all the same."""
    project = PROJECTS / "gan_repo"
    found, _ = cli_findings(project, "utils/init.py")
    assert found == {f for f in expectations(project) if f[0] == "utils/init.py"}
    found, _ = cli_findings(project, "train.py", "models/net.py")
    assert found == set()


def test_from_another_working_directory_the_project_is_found_by_its_marker():
    found, _ = cli_findings(ROOT, "tests/projects/gan_repo/utils/init.py")
    assert found == {("tests/projects/gan_repo/utils/init.py", 6, "INI201")}


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(PROJECTS / name, target, ignore=shutil.ignore_patterns(".initlint_cache", "__pycache__"))
    return target


def _codes(reports):
    return {(Path(r.path).name, f.line, f.code) for r in reports for f in r.findings}


def _helper_check(tmp_path: Path, name: str):
    """``(project, run)``: a copy of the project, and a cached check of its ``utils/init.py`` alone."""
    project = _copy(tmp_path, name)
    helper = str(project / "utils" / "init.py")
    directory = str(tmp_path / "cache")

    def run():
        return _codes(check_paths([helper], DEFAULT, jobs=1, isolate=False, cache=Cache.open(directory, DEFAULT)))

    return project, run


def test_changing_a_module_rechecks_the_files_it_completes(tmp_path):
    project, run = _helper_check(tmp_path, "gan_repo")

    assert run() == {("init.py", 6, "INI201")}
    assert run() == {("init.py", 6, "INI201")}  # warm: from the cache
    net = project / "models" / "net.py"
    net.write_text(net.read_text().replace("F.relu(", "F.tanh("))
    assert run() == set()  # the network the helper reaches is no longer a ReLU network
    net.write_text(net.read_text().replace("F.tanh(", "F.relu("))
    assert run() == {("init.py", 6, "INI201")}
    train = project / "train.py"
    train.write_text(train.read_text().replace("net.apply(weights_init)\n", ""))
    assert run() == set()  # nothing applies the helper any more


def test_an_override_added_between_rechecks_the_base(tmp_path):
    """The class between the base and the subclass running its init method is edited (it gains an
    override of its own, then loses it): the cached result of the base's module follows."""
    project = _copy(tmp_path, "hier_repo")
    base = str(project / "pkg" / "base.py")
    directory = str(tmp_path / "cache")

    def run():
        reports = check_paths([base], DEFAULT, jobs=1, isolate=False, cache=Cache.open(directory, DEFAULT))
        return {line for _, line, _ in _codes(reports)}

    assert run() == {10, 17, 24, 31, 66}
    assert run() == {10, 17, 24, 31, 66}  # warm: from the cache
    mid = project / "pkg" / "mid.py"
    original = mid.read_text()
    mid.write_text(original.replace("class Middle(Base):\n    pass\n", "class Middle(Base):\n    def init_weights(self):\n"
                                    "        pass\n"))
    assert run() == {17, 24, 31, 66}  # Net(Middle) runs Middle's own init_weights now
    mid.write_text(original)
    assert run() == {10, 17, 24, 31, 66}


def test_a_new_module_that_applies_the_helper_is_seen(tmp_path):
    project, run = _helper_check(tmp_path, "gan_repo_ok")

    assert run() == set()
    (project / "finetune.py").write_text("from models.relu_net import ReluNet\nfrom utils.init import weights_init\n\n"
                                         "ReluNet().apply(weights_init)\n")
    assert run() == {("init.py", 7, "INI201")}


def test_layout_roots_and_module_names(tmp_path):
    for relative in ("repo/pyproject.toml", "repo/src/pkg/__init__.py", "repo/src/pkg/sub/__init__.py",
                     "repo/src/pkg/sub/mod.py", "repo/scripts/run.py", "repo/models/net.py"):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    root = str(tmp_path / "repo")
    assert project_root(str(tmp_path / "repo" / "src" / "pkg" / "sub" / "mod.py")) == root
    assert module_names(str(tmp_path / "repo" / "src" / "pkg" / "sub" / "mod.py"), root)[0] == "pkg.sub.mod"
    assert module_names(str(tmp_path / "repo" / "src" / "pkg" / "__init__.py"), root)[0] == "pkg"
    assert "models.net" in module_names(str(tmp_path / "repo" / "models" / "net.py"), root)
    # an installed package is its own project: the walk up stops at site-packages
    installed = tmp_path / "venv" / "lib" / "site-packages" / "lib1"
    (installed / "sub").mkdir(parents=True)
    (installed / "__init__.py").write_text("")
    (installed / "sub" / "__init__.py").write_text("")
    (installed / "sub" / "m.py").write_text("")
    (tmp_path / "venv" / "pyproject.toml").write_text("")
    assert project_root(str(installed / "sub" / "m.py")) == str(installed)


def test_summaries_resolve_relative_imports_aliases_constants_and_applications():
    import ast

    source = (b"from . import backend\nfrom ..config import STD as std\nimport torch.nn as nn\n"
              b"ACT = nn.ReLU\nSTD = 0.02\nNAME = 'relu'\nINIT = nn.init.normal_\n"
              b"def init(m):\n    pass\n"
              b"class Net(nn.Module):\n    def __init__(self):\n        self.fc = nn.Linear(2, 2)\n"
              b"        self.apply(init)\n"
              b"net = Net()\nnet.apply(init)\n")
    summary = summarise(ast.parse(source), "pkg.models.net", False, source)
    assert summary["imports"] == {"backend": "pkg.models.backend", "std": "pkg.config.STD", "nn": "torch.nn"}
    assert summary["aliases"] == {"ACT": "torch.nn.ReLU", "INIT": "torch.nn.init.normal_"}
    assert summary["constants"] == {"STD": 0.02, "NAME": "relu"}
    assert summary["classes"]["Net"]["calls"] == ["torch.nn.Linear"]
    assert summary["applications"] == [["pkg.models.net.init", "pkg.models.net.Net"]]


def test_names_follow_reexports_through_the_project():
    projects = Projects()
    view = projects.view(str(PROJECTS / "keras_src" / "src" / "kpkg" / "model.py"))
    assert view.module == "kpkg.model"
    assert view.names("kpkg.backend.keras.layers.Dense") == ("tensorflow.keras.layers.Dense",)
    assert view.constant("kpkg.config.KERNEL_INIT") == "glorot_uniform"
    assert view.names("torch.nn.Linear") == ()  # not a project name: nothing is read
    deps = view.dependencies()
    assert "src/kpkg/backend.py" in deps and "src/kpkg/config.py" in deps and "" in deps


def test_the_language_server_checks_a_buffer_with_its_project():
    """The editor's buffer (unsaved text) of the helper: the network and train script that complete
    its bug are read from disk."""
    from initlint.server import check_buffer

    path = PROJECTS / "gan_repo" / "utils" / "init.py"
    outcome = check_buffer(path.read_text(), str(path), DEFAULT)
    assert [(f.line, f.code) for f in outcome.findings] == [(6, "INI201")]
    assert "in models/net.py:8" in outcome.findings[0].message
    edited = path.read_text().replace("xavier_uniform_", "kaiming_uniform_")
    assert check_buffer(edited, str(path), DEFAULT).findings == ()


def test_summaries_record_direct_calls_and_module_loops():
    import ast

    source = (b"from utils.init import init_weights, per_module\nimport torch.nn as nn\n"
              b"from models.net import Net\n"
              b"class Gen(nn.Module):\n    def __init__(self):\n        self.fc = nn.Linear(2, 2)\n"
              b"        init_weights(self)\n"
              b"        for m in self.modules():\n            per_module(m)\n"
              b"        for m in self.modules():\n            if isinstance(m, nn.Linear):\n"
              b"                per_module(m)\n"
              b"net = Net()\ninit_weights(net, 'normal')\ninit_weights(build())\nnn.init.zeros_(net)\n")
    summary = summarise(ast.parse(source), "models.gen", False, source)
    assert summary["passes"] == [["utils.init.init_weights", ""], ["utils.init.init_weights", "models.gen.Gen"],
                                 ["utils.init.init_weights", "models.net.Net"]]
    # a loop over modules() applies the function to each; under an `if`, to some, which the summary does not say
    assert summary["applications"] == [["utils.init.per_module", ""], ["utils.init.per_module", "models.gen.Gen"]]
    dotted = b"import utils\nfrom models.net import Net\nNet().apply(utils.he_init)\nutils.init_weights(Net())\n"
    summary = summarise(ast.parse(dotted), "train", False, dotted)
    assert summary["applications"] == [["utils.he_init", "models.net.Net"]]
    assert summary["passes"] == [["utils.init_weights", "models.net.Net"]]


def test_summaries_record_a_base_class_method_run_by_a_subclass():
    """``self.init_weights()`` in a subclass that does not define it runs the project base's method
    on the subclass's modules; a framework base's methods (nn.Module's) and the class's own are no
    project's init method."""
    import ast

    from initlint.project.index import _init_functions

    source = (b"import torch.nn as nn\nfrom models.base import BaseModel\n"
              b"class Net(BaseModel):\n    def __init__(self):\n        self.fc = nn.Linear(2, 2)\n"
              b"        self.init_weights()\n        self.own()\n        self.train()\n"
              b"    def own(self):\n        pass\n"
              b"class Plain(nn.Module):\n    def __init__(self):\n        self.reset_parameters()\n"
              b"class Chained(BaseModel):\n    def __init__(self):\n        self.init_weights()\n"
              b"    def init_weights(self):\n        super().init_weights()\n")
    summary = summarise(ast.parse(source), "models.net", False, source)
    # every inherited method called is listed (self.train() too), as the class's own, and one the
    # class defines that runs the next class's with super(): which classes' method that is, the
    # project tells; the scan keeps the init methods it found
    assert summary["passes"] == [["models.net.Chained.init_weights", "models.net.Chained"],
                                 ["models.net.Net.init_weights", "models.net.Net"],
                                 ["models.net.Net.train", "models.net.Net"]]
    assert summary["classes"]["Net"] == {"bases": ["models.base.BaseModel"], "calls": ["torch.nn.Linear"],
                                         "methods": ["__init__", "own"], "supers": []}
    base = (b"from torch import nn\nclass BaseModel(nn.Module):\n    def init_weights(self):\n"
            b"        for m in self.modules():\n            nn.init.xavier_uniform_(m.weight)\n"
            b"    def describe(self):\n        for m in self.modules():\n            print(m.weight)\n")
    assert _init_functions(base) == (["BaseModel.init_weights"], [])


def test_summaries_record_the_methods_that_run_the_next_classes_one():
    """``super().m()`` (``super(C, self).m()``) and ``Base.m(self)`` in a method ``m``: an instance
    runs the next class's ``m`` too; ``__init__`` and a call of another method are not listed."""
    import ast

    source = (b"from .base import Base as Mid, Other\n"
              b"class A(Mid, Other):\n"
              b"    def __init__(self):\n        super().__init__()\n"
              b"    def init_weights(self):\n        super(A, self).init_weights()\n"
              b"    def reset(self):\n        Mid.reset(self)\n"
              b"    def other(self):\n        super().reset()\n        helpers.other(self)\n")
    summary = summarise(ast.parse(source), "pkg.mod", False, source)
    assert summary["classes"]["A"] == {"bases": ["pkg.base.Base", "pkg.base.Other"], "calls": [],
                                       "methods": ["__init__", "init_weights", "other", "reset"],
                                       "supers": ["init_weights", "reset"]}


def _hier(tmp_path: Path, files: dict) -> "Projects":
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    return Projects().project_of(str(tmp_path / "pkg" / "__init__.py"))


def test_the_project_resolves_which_class_method_an_instance_runs(tmp_path):
    """Python's method resolution order over the project's classes (C3, through imports and
    aliases), ``super()`` followed; a library's class first, a cycle, an order Python refuses:
    not known."""
    project = _hier(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/base.py": "import torch.nn as nn\nclass Base(nn.Module):\n    def init_weights(self): pass\n"
                       "class Other(nn.Module):\n    def init_weights(self): pass\n",
        "pkg/mid.py": "from .base import Base, Other as Renamed\nimport timm\n"
                      "class Middle(Base): pass\n"
                      "class Over(Base):\n    def init_weights(self): pass\n"
                      "class Chained(Base):\n    def init_weights(self):\n        super().init_weights()\n"
                      "class Both(Middle, Renamed): pass\n"
                      "class Diamond(Middle, Over): pass\n"
                      "class Library(timm.Model, Base): pass\n"
                      "class LibraryAfter(Base, timm.Model): pass\n"
                      "class Loop(Loop2): pass\nclass Loop2(Loop): pass\n"
                      "class Refused(Base, Middle): pass\n"})
    runs = project.method_runs
    assert runs("pkg.mid.Middle", "init_weights") == ["pkg.base.Base"]
    assert runs("pkg.mid.Over", "init_weights") == ["pkg.mid.Over"]
    assert runs("pkg.mid.Chained", "init_weights") == ["pkg.mid.Chained", "pkg.base.Base"]
    assert runs("pkg.mid.Both", "init_weights") == ["pkg.base.Base"]
    assert runs("pkg.mid.Diamond", "init_weights") == ["pkg.mid.Over"]  # C3: Over before Base
    assert runs("pkg.mid.Middle", "forward") == []
    assert runs("pkg.mid.Library", "init_weights") is None  # timm's class may define it
    assert runs("pkg.mid.LibraryAfter", "init_weights") == ["pkg.base.Base"]
    assert runs("pkg.mid.Loop", "init_weights") is None
    assert runs("pkg.mid.Refused", "init_weights") is None
    assert runs("timm.Model", "init_weights") is None


def test_a_caller_edited_in_place_rechecks_the_helper(tmp_path):
    """No file is added or removed: the caller of the helper changes which network it passes."""
    project, run = _helper_check(tmp_path, "helper_repo_ok")

    assert run() == set()
    (project / "models" / "extra.py").write_text("")
    assert run() == set()
    mixed = project / "models" / "mixed.py"
    mixed.write_text(mixed.read_text().replace("            if isinstance(m, nn.Linear):\n                glorot(m)",
                                               "            glorot(m)"))
    assert run() == {("init.py", 40, "INI201")}  # glorot now reaches the ReLU conv
