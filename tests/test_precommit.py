"""The pre-commit hook, for real: ``pre-commit try-repo`` installs this repository the way a user's
pre-commit would (``language: python``: a fresh virtualenv, then ``pip install .``) and runs it; it
must block a commit of a file with a finding and let a clean file through.

Offline, by construction. pip in that fresh virtualenv needs setuptools (the build backend) and
initlint's dependencies (libcst, pyyaml). This machine's package index mirror has no libcst, and a
test must not depend on the network anyway, so the test rebuilds wheels of exactly those packages
from the ones installed in the interpreter running it (``repack_wheel``: a wheel is a zip of the
installed files plus their ``.dist-info``) and points pip only there: ``PIP_NO_INDEX=1`` and
``PIP_FIND_LINKS=<that folder>``. virtualenv seeds pip from the wheels it bundles, so nothing is
downloaded at any step.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata as metadata
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List

import pytest

from conftest import DATA, ROOT, expected_findings, require_module, write

GIT_ENV = {
    "GIT_AUTHOR_NAME": "initlint tests", "GIT_AUTHOR_EMAIL": "tests@invalid",
    "GIT_COMMITTER_NAME": "initlint tests", "GIT_COMMITTER_EMAIL": "tests@invalid",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}
_SKIP_IN_WHEEL = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def repack_wheel(dist: metadata.Distribution, dest: Path) -> Path:
    """A wheel rebuilt from an installed distribution (files outside site-packages, such as console
    scripts, are left out: pip makes those again from ``entry_points.txt``)."""
    files = [f for f in dist.files or () if f.parts[0] != ".." and "__pycache__" not in f.parts and f.suffix != ".pyc"]
    info_dir = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info") and f.name == "METADATA")
    tag = next(line.split(":", 1)[1].strip() for line in dist.read_text("WHEEL").splitlines() if line.startswith("Tag:"))
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    wheel = dest / f"{name}-{dist.version}-{tag}.whl"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            if file.parts[0] == info_dir and file.name in _SKIP_IN_WHEEL:
                continue
            source = Path(dist.locate_file(file))
            if not source.is_file():
                continue
            data = source.read_bytes()
            archive.writestr(file.as_posix(), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            writer.writerow([file.as_posix(), f"sha256={digest}", len(data)])
        writer.writerow([f"{info_dir}/RECORD", "", ""])
        archive.writestr(f"{info_dir}/RECORD", record.getvalue())
    return wheel


def dependency_closure(names: Iterable[str]) -> List[metadata.Distribution]:
    """The installed distributions ``names`` need (base requirements whose markers hold here)."""
    from packaging.requirements import Requirement

    seen: Dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        requirement = Requirement(todo.pop())
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        key = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if key in seen:
            continue
        seen[key] = metadata.distribution(requirement.name)
        todo.extend(seen[key].requires or ())
    return list(seen.values())


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV})


def working_tree_files() -> List[str]:
    """The files a commit of this working tree would hold (tracked, plus untracked not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True)
    if listed.returncode != 0:  # not a git checkout (an sdist): take the package and its metadata
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                if p.is_file() and not {".venv", ".git", "__pycache__"} & set(p.parts)]
    return [name for name in listed.stdout.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory):
    """A committed copy of this working tree (try-repo uses the repository's HEAD), an offline
    wheelhouse, and the environment that makes pre-commit use both."""
    require_module("pre_commit", "the hook is tested with real pre-commit")
    require_module("virtualenv", "pre-commit builds hook environments with it")
    base = tmp_path_factory.mktemp("precommit")
    repo = base / "initlint-hook"
    for name in working_tree_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    assert (repo / ".pre-commit-hooks.yaml").is_file()
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "hook under test", cwd=repo)

    wheelhouse = base / "wheelhouse"
    wheelhouse.mkdir()
    requirements = [*(metadata.requires("initlint") or ()), "setuptools"]
    for dist in dependency_closure(requirements):
        repack_wheel(dist, wheelhouse)

    env = {
        **os.environ, **GIT_ENV,
        "PRE_COMMIT_HOME": str(base / "cache"),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    project = base / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    return repo, project, env


def try_repo(hook_env, filename: str, content: str) -> subprocess.CompletedProcess:
    repo, project, env = hook_env
    write(project / filename, content)
    git("add", filename, cwd=project)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), "initlint", "--files", filename],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )


def test_hook_blocks_a_file_with_findings(hook_env):
    source = (DATA / "cli" / "bad.py").read_text(encoding="utf-8")
    codes = {code for _, code in expected_findings(DATA / "cli" / "bad.py")}
    result = try_repo(hook_env, "bad.py", source)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert re.search(r"initlint\.+Failed", output), output
    for code in codes:
        assert re.search(rf"bad\.py:\d+:\d+: {code} ", output), output


def test_hook_passes_a_clean_file(hook_env):
    result = try_repo(hook_env, "clean.py", (DATA / "cli" / "clean.py").read_text(encoding="utf-8"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"initlint\.+Passed", output), output


def test_hook_checks_notebooks(hook_env):
    """``types_or: [python, jupyter]``: a staged notebook is checked, its findings named by cell."""
    notebooks = DATA / "notebooks"
    bad = try_repo(hook_env, "init.ipynb", (notebooks / "d2l_init_pytorch.ipynb").read_text(encoding="utf-8"))
    output = bad.stdout + bad.stderr
    assert bad.returncode == 1, output
    assert re.search(r"initlint\.+Failed", output) and "init.ipynb:cell 10:3:9: INI201 " in output, output
    clean = try_repo(hook_env, "clean.ipynb",
                     (notebooks / "d2l_init_pytorch_clean.ipynb").read_text(encoding="utf-8"))
    output = clean.stdout + clean.stderr
    assert clean.returncode == 0 and re.search(r"initlint\.+Passed", output), output


def test_one_summary_for_many_files(hook_env):
    """pre-commit splits a long file list into batches, one hook process each, unless the hook
    asks to run serially; each process printed its own "Found N findings", which read like totals."""
    repo, project, env = hook_env
    names = [f"model_{i:02d}.py" for i in range(40)]
    for name in names:
        write(project / name, (DATA / "cli" / "bad.py").read_text(encoding="utf-8"))
    git("add", *names, cwd=project)
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), "initlint", "--files", *names],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    per_file = len(expected_findings(DATA / "cli" / "bad.py"))
    assert re.findall(r"Found \d+ findings in \d+ files", output) == [f"Found {40 * per_file} findings in 40 files"]


def readme_hook_config() -> str:
    """The YAML block under README's "## pre-commit" heading, as a user would paste it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## pre-commit\n", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def test_the_readme_snippet_works_as_written(tmp_path):
    """The README's .pre-commit-config.yaml, pasted unchanged into a project with this initlint
    installed, blocks a bad file and passes a clean one."""
    require_module("pre_commit", "the hook is tested with real pre-commit")
    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    write(project / ".pre-commit-config.yaml", readme_hook_config())
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "cache"),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}

    def run_hooks(name: str, content: str) -> subprocess.CompletedProcess:
        write(project / name, content)
        git("add", name, cwd=project)
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--files", name], cwd=project,
                              env=env, capture_output=True, text=True, timeout=600)

    bad = run_hooks("bad.py", (DATA / "cli" / "bad.py").read_text(encoding="utf-8"))
    assert bad.returncode == 1 and re.search(r"initlint\.+Failed", bad.stdout), bad.stdout + bad.stderr
    clean = run_hooks("clean.py", (DATA / "cli" / "clean.py").read_text(encoding="utf-8"))
    assert clean.returncode == 0 and re.search(r"initlint\.+Passed", clean.stdout), clean.stdout + clean.stderr
