"""The results cache: same output with and without it, with one job and all; keyed so that it is
never stale; safe when several processes write at once; never a reason for a run to fail."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

from conftest import DATA, ROOT, run_cli, write
import initlint.cache as cache_module
import initlint.engine as engine
from initlint.cache import CACHE_DIR_NAME, KEEP_RUNS, MAX_LOGS, Cache, run_key
from initlint.ftypes import FileReport, Finding, Settings
from initlint.rule import all_rules
from initlint.runner import check_paths

EVERYTHING = Settings(select=frozenset({"INI"}), extend_select=frozenset(r.code for r in all_rules()))
BROKEN = "import torch\ndef f(:\n"


def sample_tree(tmp_path: Path) -> Path:
    """Fixtures and examples (hundreds of findings, every code), a file that does not parse, and
    a package whose relative imports resolve only through its path."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "tests" / "fixtures", tree / "fixtures")
    shutil.copytree(ROOT / "examples", tree / "examples")
    write(tree / "broken.py", BROKEN)
    for folder in (tree / "timm", tree / "timm" / "layers"):
        write(folder / "__init__.py", "")
    write(tree / "timm" / "layers" / "pos.py",
          "from .weight_init import trunc_normal_\ntrunc_normal_(self.pos_embed, std=.02)\n")
    return tree


def outcome(reports):
    return [(r.path, r.findings, r.error) for r in reports]


@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # another test may have started JAX's threads
def test_same_reports_with_and_without_cache_with_one_job_and_all(tmp_path):
    tree = sample_tree(tmp_path)
    reference = outcome(check_paths([str(tree)], EVERYTHING, jobs=1))
    assert sum(len(findings) for _, findings, _ in reference) > 100
    assert any(error is not None for _, _, error in reference)
    for jobs in (1, 0):
        directory = tmp_path / f"cache-{jobs}"
        cold = outcome(check_paths([str(tree)], EVERYTHING, jobs=jobs, cache=Cache.open(str(directory), EVERYTHING)))
        warm = outcome(check_paths([str(tree)], EVERYTHING, jobs=jobs, cache=Cache.open(str(directory), EVERYTHING)))
        assert cold == reference and warm == reference
    other_jobs = outcome(check_paths([str(tree)], EVERYTHING, jobs=0, cache=Cache.open(str(tmp_path / "cache-1"), EVERYTHING)))
    assert other_jobs == reference


def test_a_warm_run_checks_nothing(tmp_path, monkeypatch):
    tree = sample_tree(tmp_path)
    directory = str(tmp_path / "cache")
    first = outcome(check_paths([str(tree)], EVERYTHING, jobs=1, isolate=False, cache=Cache.open(directory, EVERYTHING)))

    def no_checking(*args, **kwargs):
        raise AssertionError("a cached file was checked again")

    monkeypatch.setattr(engine, "check_source", no_checking)
    again = outcome(check_paths([str(tree)], EVERYTHING, jobs=1, isolate=False, cache=Cache.open(directory, EVERYTHING)))
    assert again == first


def test_an_edited_file_is_checked_again(tmp_path):
    path = write(tmp_path / "net.py", (DATA / "cli" / "bad.py").read_text(encoding="utf-8"))
    directory = str(tmp_path / "cache")

    def run():
        return check_paths([str(path)], EVERYTHING, jobs=1, isolate=False, cache=Cache.open(directory, EVERYTHING))

    before = run()[0].findings
    assert before
    path.write_text((DATA / "cli" / "clean.py").read_text(encoding="utf-8"), encoding="utf-8")
    assert run()[0].findings == ()
    path.write_text(BROKEN, encoding="utf-8")
    assert run()[0].error is not None


def test_a_moved_file_reports_its_new_path(tmp_path):
    source = (DATA / "cli" / "bad.py").read_text(encoding="utf-8")
    first, second = write(tmp_path / "a.py", source), write(tmp_path / "sub" / "b.py", source)
    directory = str(tmp_path / "cache")
    # a file checked alone: in a project, moving a file changes the project (test_project.py)
    check_paths([str(first)], EVERYTHING, jobs=1, isolate=False, cache=Cache.open(directory, EVERYTHING),
                project=False)
    cache = Cache.open(directory, EVERYTHING)
    hit = cache.lookup(str(second))
    assert hit is not None and hit.findings and all(f.path == str(second) for f in hit.findings)
    assert hit.findings == check_paths([str(second)], EVERYTHING, jobs=1, isolate=False)[0].findings


def test_the_key_holds_what_the_path_decides(tmp_path):
    """Same bytes, other package (relative imports) or a pytest file (some rules skip those)."""
    cache = Cache.open(str(tmp_path / "cache"), EVERYTHING)
    for folder in (tmp_path / "pkg",):
        write(folder / "__init__.py", "")
    data = b"x = 1\n"
    keys = {cache.key(data, str(tmp_path / "model.py")), cache.key(data, str(tmp_path / "pkg" / "model.py")),
            cache.key(data, str(tmp_path / "test_model.py"))}
    assert len(keys) == 3
    assert cache.key(data, str(tmp_path / "other.py")) == cache.key(data, str(tmp_path / "model.py"))


def test_the_run_key_holds_rules_options_and_code(monkeypatch):
    default = run_key(Settings())
    assert run_key(Settings(select=frozenset({"INI"}))) == default  # the same rules run
    assert run_key(Settings(select=frozenset({"INI201"}))) != default
    assert run_key(Settings(extend_select=frozenset({"INI204"}))) != default
    assert run_key(Settings(options=(("scale-ratio-threshold", 5),))) != default
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "edited")
    assert run_key(Settings()) != default


def test_the_code_fingerprint_covers_rules_and_catalogue_not_the_front_ends():
    package = Path(cache_module.__file__).parent
    fingerprinted = []
    for directory, subdirs, names in os.walk(package):
        relative = os.path.relpath(directory, package)
        subdirs[:] = [d for d in subdirs if d != "__pycache__" and not (relative == "." and d in cache_module._NOT_CHECKING)]
        fingerprinted += [os.path.join(relative, n) for n in names if n.endswith(".py")
                          and not (relative == "." and n in cache_module._NOT_CHECKING)]
    assert {"./engine.py", "./prefilter.py", "./noqa.py", "./rule.py"} <= set(fingerprinted)
    assert any(p.startswith("rules") for p in fingerprinted) and any(p.startswith("catalogue") for p in fingerprinted)
    assert any(p.startswith("analysis") for p in fingerprinted)
    assert not any(p.startswith("verify") or p == "./cli.py" for p in fingerprinted)


def _log_lines(cache):
    return [line for path in sorted(Path(cache.folder).glob("*.jsonl")) for line in path.read_bytes().split(b"\n")]


def test_a_damaged_entry_is_a_miss_and_is_replaced(tmp_path):
    """A line cut short (a writer stopped mid-line) or an entry not shaped as initlint writes one
    is a miss, never an error; the file is checked again and its entry appended, which wins."""
    path = write(tmp_path / "net.py", (DATA / "cli" / "bad.py").read_text(encoding="utf-8"))
    cache = Cache.open(str(tmp_path / "cache"), EVERYTHING)
    key = cache.key(path.read_bytes(), str(path))
    log = Path(cache.folder) / "log-1-damaged.jsonl"
    for damaged in (f'["{key}", {{"findings": [[1, 2', f'["{key}", {{"findings": [["not", "a", "finding"]]}}]\n',
                    "not json at all\n", f'["{key}", ["a list"]]\n'):
        write(log, damaged)
        cache.lookup_all([str(path)])  # reads the folder again, as a run does
        assert cache.get(key, str(path)) is None
    report = engine.check_file(str(path), EVERYTHING, cache)
    assert report.findings and cache.get(key, str(path)) == report
    known, missing = cache.lookup_all([str(path)])
    assert not missing and known[str(path)] == report


def test_an_entry_is_one_line_of_the_writers_own_log(tmp_path):
    """Each process appends to a log of its own (a forked child does not write into its
    parent's); a cold run of many files creates one file per worker, not one per file."""
    files = [write(tmp_path / "src" / f"m{i}.py", f"import torch\nnet = torch.nn.Linear({i}, 2)\n") for i in range(40)]
    cache = Cache.open(str(tmp_path / "cache"), EVERYTHING)
    check_paths([str(tmp_path / "src")], EVERYTHING, jobs=2, cache=cache, project=False)
    logs = sorted(Path(cache.folder).glob("log-*.jsonl"))
    assert 1 <= len(logs) <= 2 and len({p.name.split("-")[1] for p in logs}) == len(logs)
    assert len([line for line in _log_lines(cache) if line]) == len(files)
    known, missing = cache.lookup_all([str(f) for f in files])
    assert not missing and len(known) == len(files)


def test_many_logs_are_merged_into_one_pack(tmp_path):
    cache = Cache.open(str(tmp_path / "cache"), EVERYTHING)
    folder = Path(cache.folder)
    for index in range(MAX_LOGS + 2):
        write(folder / f"log-{index}-x.jsonl",
              json.dumps([f"{index:040d}", {"findings": [[1, 1, 1, 2, "INI201", "xavier-under-relu", "m", None, None]]}])
              + "\n")
    reopened = Cache.open(str(tmp_path / "cache"), EVERYTHING)
    assert not list(folder.glob("log-*")) and len(list(folder.glob("pack-*.jsonl"))) == 1
    assert not list(folder.glob(".tmp-*"))
    for index in range(MAX_LOGS + 2):
        got = reopened.get(f"{index:040d}", "y.py")
        assert got is not None and got.findings[0].path == "y.py" and got.findings[0].code == "INI201"


def test_unreadable_files_and_internal_errors_are_not_cached(tmp_path, monkeypatch):
    cache = Cache.open(str(tmp_path / "cache"), EVERYTHING)
    assert engine.check_file(str(tmp_path / "missing.py"), EVERYTHING, cache).error is not None
    path = write(tmp_path / "net.py", "import torch\n")

    def crash(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(engine, "check_source", crash)
    assert "internal error" in engine.check_file(str(path), EVERYTHING, cache).error.message
    assert cache.lookup(str(path)) is None


def test_an_unwritable_cache_never_fails_a_run(tmp_path):
    blocker = write(tmp_path / "blocker", "a file where the cache folder would be\n")
    path = write(tmp_path / "net.py", (DATA / "cli" / "bad.py").read_text(encoding="utf-8"))
    cache = Cache.open(str(blocker / CACHE_DIR_NAME), EVERYTHING)
    reports = check_paths([str(path)], EVERYTHING, jobs=1, isolate=False, cache=cache)
    assert reports[0].findings and reports[0].error is None


def _write_entries(args):
    directory, run, worker = args
    cache = Cache(directory, run)
    finding = Finding("x.py", 1, 1, 1, 2, "INI201", "xavier-under-relu", "m" * 2000)
    for index in range(200):
        key = f"{index % 20:02d}" + "0" * 38  # every worker writes the same 20 keys
        cache.put(key, FileReport("x.py", (finding,) * (1 + index % 3)))
        got = cache.get(key, "x.py")
        assert got is not None and len(got.findings) in (1, 2, 3)  # never a torn entry
    return worker


@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")
def test_parallel_writers_never_leave_a_torn_line(tmp_path):
    cache = Cache.open(str(tmp_path / "cache"), EVERYTHING)
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with context.Pool(4) as pool:
        assert sorted(pool.map(_write_entries, [(cache.directory, cache.run, w) for w in range(4)])) == [0, 1, 2, 3]
    files = [p for p in Path(cache.folder).rglob("*") if p.is_file()]
    assert 1 <= len(files) <= 4 and all(p.name.startswith("log-") for p in files)  # a log per writer
    lines = _log_lines(cache)
    assert all(json.loads(line) for line in lines if line) and not lines[-1]
    assert len([line for line in lines if line]) == 4 * 200


def test_old_run_folders_are_pruned(tmp_path):
    directory = tmp_path / "cache"
    for index in range(KEEP_RUNS + 3):
        folder = directory / f"run{index:02d}"
        folder.mkdir(parents=True)
        os.utime(folder, (1000 + index, 1000 + index))
    cache = Cache.open(str(directory), Settings())
    runs = sorted(p.name for p in directory.iterdir() if p.is_dir())
    assert len(runs) == KEEP_RUNS and cache.run in runs
    assert "run00" not in runs and f"run{KEEP_RUNS + 2:02d}" in runs


# -- the command line -----------------------------------------------------------------------------

def test_cli_caches_beside_pyproject_and_marks_the_folder(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.initlint]\n")
    source = write(tmp_path / "src" / "net.py", (DATA / "cli" / "bad.py").read_text(encoding="utf-8"))
    first = run_cli("check", "--format", "json", str(source), cwd=tmp_path / "src")
    cache = tmp_path / CACHE_DIR_NAME
    assert first.returncode == 1 and cache.is_dir()
    assert (cache / "CACHEDIR.TAG").read_bytes().startswith(b"Signature: 8a477f597d28d172789f06886806bc55")
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    second = run_cli("check", "--format", "json", str(source), cwd=tmp_path / "src")
    assert second.stdout == first.stdout and second.returncode == 1


def test_cli_no_cache_and_cache_dir(tmp_path):
    source = write(tmp_path / "net.py", (DATA / "cli" / "bad.py").read_text(encoding="utf-8"))
    plain = run_cli("check", "--isolated", "--no-cache", "--format", "json", str(source), cwd=tmp_path)
    assert plain.returncode == 1 and not (tmp_path / CACHE_DIR_NAME).exists()
    elsewhere = tmp_path / "elsewhere"
    cached = run_cli("check", "--isolated", "--cache-dir", str(elsewhere), "--format", "json", str(source), cwd=tmp_path)
    assert cached.stdout == plain.stdout and elsewhere.is_dir() and not (tmp_path / CACHE_DIR_NAME).exists()
    assert list(elsewhere.rglob("log-*.jsonl"))
