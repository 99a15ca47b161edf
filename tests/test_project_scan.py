"""The whole-project scan (``Project.pending_scan``/``complete_scan``): the same tables whether its
files are read here or spread over forked processes (``runner._map_forked``), and the text test
that decides which files it summarises (``_applies_a_function``)."""

from __future__ import annotations

import pytest

from conftest import ROOT
from initlint.project import Projects
from initlint.project import index
from initlint.runner import _map_forked

PROJECTS = ROOT / "tests" / "projects"
NAMES = sorted(p.name for p in PROJECTS.iterdir() if p.is_dir())


def _tables(projects: Projects):
    return {root: (project._applications, project._passes, project._layout)
            for root, project in sorted(projects._by_root.items())}


def _files(name: str):
    return sorted(str(p) for p in (PROJECTS / name).rglob("*.py"))


@pytest.mark.parametrize("name", NAMES)
def test_a_scan_spread_over_processes_gives_the_tables_of_one_read_here(name, monkeypatch):
    files = _files(name)
    here = Projects().share().prepare(files)
    monkeypatch.setattr(index, "MIN_SPREAD_SCAN", 0)
    monkeypatch.setattr(index, "MIN_SPREAD_SECOND", 0)
    spread_calls = []

    def read_all(task, items):
        spread_calls.append(len(items))
        return _map_forked(task, items, jobs=2)

    spread = Projects().share().prepare(files, read_all)
    assert spread_calls and spread_calls[0] >= len(files)
    assert _tables(spread) == _tables(here)
    if name in ("helper_repo", "hier_repo", "mixin_repo"):
        # a second reading (files that call an init helper or run an init method) was spread too,
        # and each summary it made is kept here, with what the file applies and passes
        assert len(spread_calls) == 2 and spread_calls[1] > 0
        for project in spread._by_root.values():
            for pairs in project._passes.values():
                for _cls, where in pairs:
                    assert "passes" in project._summaries[where]
    if name in ("gan_repo", "helper_repo", "hier_repo"):  # the comparison is not of empty tables
        assert any(applications or passes for applications, passes, _ in _tables(here).values())
    # a summary read in a worker is kept here as if read here: asking again reads nothing
    for project in spread._by_root.values():
        for function, pairs in project._applications.items():
            for _cls, where in pairs:
                assert where in project._summaries


def test_a_scan_that_cannot_spread_reads_the_files_here(monkeypatch):
    files = _files("gan_repo")
    monkeypatch.setattr(index, "MIN_SPREAD_SCAN", 0)
    monkeypatch.setattr(index, "MIN_SPREAD_SECOND", 0)
    refused = Projects().share().prepare(files, lambda task, items: None)
    assert _tables(refused) == _tables(Projects().share().prepare(files))


@pytest.mark.parametrize("spread", [False, True])
def test_a_scan_kept_in_the_cache_is_read_back_while_no_file_changes(tmp_path, monkeypatch, spread):
    """A cold scan keeps its tables with a stamp of every file's size and modification time (from
    the stats its reading took, here or in other processes); the next run reads them back and
    scans nothing, until a file changes."""
    files = _files("gan_repo")
    monkeypatch.setattr(index, "MIN_SPREAD_SCAN", 0)
    monkeypatch.setattr(index, "MIN_SPREAD_SECOND", 0)
    read_all = (lambda task, items: _map_forked(task, items, jobs=2)) if spread else None
    cold = Projects(str(tmp_path)).share().prepare(files, read_all)
    again = Projects(str(tmp_path))
    assert {again.project_of(path).pending_scan() for path in files} == {None}
    assert _tables(again) == _tables(cold)
    touched = PROJECTS / "gan_repo"
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(touched, copy)
    copied = sorted(str(p) for p in copy.rglob("*.py"))
    Projects(str(tmp_path)).share().prepare(copied, read_all)
    with open(copied[0], "a", encoding="utf-8") as handle:
        handle.write("\n# changed\n")
    assert Projects(str(tmp_path)).project_of(copied[0]).pending_scan() is not None


@pytest.mark.parametrize("text, applies", [
    (b"from utils import weights_init\nnet.apply(weights_init)\n", True),
    (b"from functools import partial\nfrom .init import init\nnetG.apply(partial(init, std=0.02))\n", True),
    (b"def weights_init(m):\n    pass\nG.apply(weights_init)\n", True),  # a one-letter instance: no class name
    (b"import inits\nNet().apply(inits.normal)\n", True),
    (b"from .init import (\n    normal,\n    init,\n)\nNet().apply(init)\n", True),
    (b"init = make_init(0.02)\nnet.apply(init)\n", True),
    (b"if USE_XAVIER:\n    init = xavier\nelse:\n    init = normal\nnet.apply(init)\n", True),
    (b"from .helpers import *\nnet.apply(init)\n", True),  # a star import may bring it
    (b"PASS_ONE.apply(graph)\ngraph = build()\n", True),  # a constant, not a class: its summary decides
    (b"def f(r, points):\n    return r[..., None].apply(points)\n", False),  # a local: not resolved
    (b"def run(gm):\n    graph = gm.graph\n    PASS_ONE.apply(graph)\n", False),
    (b"class Pass:\n    graph = None\n\n    def run(self):\n        p.apply(graph)\n", False),  # a class attribute
    (b"y = SimulateError.apply(x)\nx = 1\n", False),  # an autograd Function
    (b"y = Outer._Scatter.apply(x)\n", False),
    (b"from init import init_weights\n    # model.apply(init_weights)\n", False),
    (b"x = self.apply(self._init)\n", False),  # the class's own method: the file's own business
    (b"from init import init\ny = Fn.apply(x)\nmodel.apply(init)\n", True),
])
def test_which_files_the_scan_summarises(text, applies):
    assert index._applies_a_function(text) is applies


def test_another_modules_class_lends_a_file_only_its_layers_and_activations(tmp_path):
    """The prefilter words a project class of another module gives a file that initialises it: its
    layers and activations (what a finding here can pair with an init), not what else it calls (an
    allocation, a deep copy: such a finding would be in that module's own code)."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "blocks.py").write_text(
        "import copy\nimport torch\nfrom torch import nn\n\n\nclass Block(nn.Module):\n"
        "    def __init__(self, d):\n        super().__init__()\n        self.fc = nn.Linear(d, d)\n"
        "        self.act = nn.ReLU()\n        self.scale = nn.Parameter(torch.empty(d))\n"
        "        self.copy = copy.deepcopy(self.fc)\n")
    model = tmp_path / "model.py"
    model.write_text("from torch import nn\nfrom blocks import Block\n\n\ndef init(m):\n"
                     "    nn.init.xavier_uniform_(m.fc.weight)\n\n\nnet = Block(4)\nnet.apply(init)\n")
    import ast

    from initlint.engine import package_of

    data = model.read_bytes()
    words = Projects().share().view(str(model)).prefilter_words(ast.parse(data), data, package_of(str(model))).split()
    assert b"Linear" in words and b"ReLU" in words
    assert not {b"empty", b"deepcopy", b"Parameter"} & set(words)


def _many_modules(root, count: int) -> None:
    for i in range(count):
        folder = root / f"pkg{i // 10}"
        folder.mkdir(exist_ok=True)
        (folder / f"m{i}.py").write_text(f"X{i} = {i}\n")


def test_a_working_directory_without_a_project_marker_is_scanned_only_so_far(tmp_path, monkeypatch):
    """``cd ~; initlint check scratch/a.py``: the working directory is the project root when no
    marker is above the file, and a home folder is no project to read whole for one file. The walk
    stops at ``MAX_UNMARKED_SCAN`` files there; a root with a marker keeps the monorepo bound."""
    monkeypatch.setattr(index, "MAX_UNMARKED_SCAN", 7)
    _many_modules(tmp_path, 30)
    walked = []
    from initlint import runner

    real_walk = runner._walk

    def counting_walk(root, exclude):
        for path in real_walk(root, exclude):
            walked.append(path)
            yield path

    monkeypatch.setattr(runner, "_walk", counting_walk)
    monkeypatch.chdir(tmp_path)
    project = Projects().project_of(str(tmp_path / "pkg1" / "m12.py"))
    assert project.root == str(tmp_path)
    files = project.files()
    assert len(files) == 7 and files == sorted(files) and len(walked) == 7
    # the same folder with a marker is a project of the user's: read whole
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n')
    marked = Projects().project_of(str(tmp_path / "pkg1" / "m12.py"))
    assert len(marked.files()) == 30
    # and without one, checked from elsewhere: the package's own folder, not the working directory
    (tmp_path / "pyproject.toml").unlink()
    monkeypatch.chdir(tmp_path / "pkg2")
    assert Projects().project_of(str(tmp_path / "pkg1" / "m12.py")).root != str(tmp_path)
