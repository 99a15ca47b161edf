#!/usr/bin/env python3
"""How fast ``initlint check`` is, in one run, side by side with what bounds it and what it replaces.

On one corpus (``corpus.py``: the installed timm, transformers, keras and flax, plus ``torch/nn``;
profile ``bench`` unless ``--profile full``), each tool a subprocess timed by wall clock from start
to exit (start-up included, as a user sees it), with the CPU seconds of the tool and its workers:

=====================  ==========================================================================
parse-only (all)       ``libcst.parse_module`` of every file over ``--jobs`` processes
parse-only (kept)      the same, of the files initlint's prefilter keeps (the default rules)
parse-only (kept, gc)  the same with Python's cycle collector paused per file as initlint's engine
                       pauses it (``engine.one_collection``): the floor under initlint's own rules
initlint cold, jobs N  ``initlint check --format json --isolated --jobs N --cache-dir EMPTY``
initlint warm, jobs N  the same command again: every file answered by the cache
initlint cold, jobs 1  with ``--jobs 1`` and its own empty cache
initlint warm, jobs 1  again
TorchFix (flake8)      ``flake8 --isolated --select TOR --jobs N`` from the TorchFix venv
=====================  ==========================================================================

The two rows the 1.5x target divides (initlint cold, jobs N, and parse-only of the kept files) run
``--repeat`` times (default 3), taking turns after the other rows, and report the median of their
runs: one run of each moves by 5-10% on a shared machine, as much as the distance to the target.

Prints the table, the ratios the issue's "Done when" asks for (cold jobs N against TorchFix and
against the parse-only time of the kept files; the warm time; jobs 1 / jobs N), and whether the four
initlint runs reported exactly the same findings and errors. Writes everything to
``benchmarks/results/speed-<date>.json``.

Built on ``bench_check.py`` (its TorchFix runner, timing and command-line chunking) and
``corpus.py``; the parse-only workers split the files with initlint's own chunking
(``initlint.runner._chunks``), so the baseline is not handicapped by a worse schedule.

    .venv/bin/python benchmarks/bench_speed.py [--profile bench|full] [--jobs N] [--limit N]
        [--skip torchfix,initlint-j1,...] [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
from typing import Callable, Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import bench_check  # noqa: E402  (benchmarks/ is not a package)
import corpus as corpus_mod  # noqa: E402

ROWS = ("parse-only", "parse-only-kept", "parse-only-kept-paused", "initlint", "initlint-warm", "initlint-j1", "initlint-j1-warm", "torchfix")
LABELS = {
    "parse-only": "libcst parse only, all files",
    "parse-only-kept": "libcst parse only, prefiltered files",
    "parse-only-kept-paused": "the same, collector paused per file",
    "initlint": "initlint check, cold cache",
    "initlint-warm": "initlint check, warm cache",
    "initlint-j1": "initlint check, cold cache",
    "initlint-j1-warm": "initlint check, warm cache",
    "torchfix": "TorchFix through flake8",
}
TARGETS = {"vs TorchFix": 1 / 10, "vs parse-only of kept files": 1.5, "warm seconds": 2.0}


# --- the corpus ----------------------------------------------------------------------------------

def add_torch_nn(corpus: corpus_mod.Corpus) -> None:
    """``torch/nn`` from the installed torch (located without importing it), as the issue's corpus has."""
    import importlib.util

    spec = importlib.util.find_spec("torch")
    locations = list(spec.submodule_search_locations or []) if spec else []
    root = os.path.join(locations[0], "nn") if locations else ""
    if not os.path.isdir(root):
        corpus.notes.append("torch.nn: torch is not installed in the project venv, skipped")
        return
    corpus.files.extend(corpus_mod.CorpusFile("torch.nn", path, corpus_mod.count_lines(path))
                        for path in corpus_mod._py_files(root))
    corpus.roots["torch.nn"] = root
    try:
        import importlib.metadata

        corpus.versions["torch.nn"] = importlib.metadata.version("torch")
    except Exception:
        corpus.versions["torch.nn"] = None


def speed_corpus(profile: str, python: str, limit: Optional[int] = None) -> Optional[corpus_mod.Corpus]:
    """The benchmark's corpus: ``corpus.py``'s ``profile`` plus ``torch/nn``, ``limit`` files spread
    evenly over it if given; None (said on stderr) when it holds no file."""
    corpus = corpus_mod.build_corpus(profile, python=python)
    add_torch_nn(corpus)
    if limit is not None:
        corpus.files = corpus_mod.evenly(corpus.files, limit)
    if not corpus.files:
        print("no corpus files found", file=sys.stderr)
        return None
    return corpus


def kept_by_prefilter(paths: Sequence[str]) -> List[str]:
    """The files initlint would parse under its default settings (reading them, importing initlint
    here: not timed)."""
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from initlint.engine import SourceError, might_hold_findings, syntax_check

    kept = []
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            tree = syntax_check(data, path)  # both stages, as the engine runs them
        except SourceError:
            continue  # initlint reports it and parses nothing
        if might_hold_findings(data, path=path, tree=tree):
            kept.append(path)
    return kept


# --- parse-only, scheduled as initlint schedules ------------------------------------------------------

def _parse_chunk_paused(paths: Sequence[str]):
    """``bench_check._parse_chunk`` with the cycle collector paused around each file, as initlint's
    engine does it (the same context manager), so that the two rows differ by that alone."""
    from initlint.engine import one_collection

    ok, failed = 0, []
    for path in paths:
        with one_collection():
            n, bad = bench_check._parse_chunk([path])
        ok += n
        failed += bad
    return ok, failed


def parse_worker(list_file: str, jobs: int, paused: bool = False) -> int:
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from initlint.runner import _chunks

    parse_chunk = _parse_chunk_paused if paused else bench_check._parse_chunk

    with open(list_file, encoding="utf-8") as handle:
        paths = [line.rstrip("\n") for line in handle if line.strip()]
    ok, failed = 0, []
    chunks = _chunks(paths, jobs)
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = list(pool.imap_unordered(parse_chunk, chunks))
    else:
        results = [parse_chunk(chunk) for chunk in chunks]
    for n, bad in results:
        ok += n
        failed += bad
    json.dump({"parsed": ok, "failed": len(failed), "failures": failed[:20]}, sys.stdout)
    return 0


def run_parse_only(python: str, list_file: str, jobs: int, timeout: float, paused: bool = False) -> dict:
    argv = [python, os.path.abspath(__file__), "--_parse-worker", list_file, "--jobs", str(jobs)]
    if paused:
        argv.append("--_collector-paused")
    wall, cpu, (out,) = bench_check._run_timed([(argv, HERE)], (0,), timeout)
    doc = json.loads(out)
    return {"wall_s": wall, "cpu_s": cpu, "files": doc["parsed"] + doc["failed"], "parse_failures": doc["failed"]}


# --- initlint, cold and warm ----------------------------------------------------------------------------

def run_initlint(cmd: List[str], rel_paths: List[str], cwd: str, jobs: int, cache_dir: str, max_chars: int,
                 timeout: float) -> dict:
    base = [*cmd, "check", "--format", "json", "--isolated", "--jobs", str(jobs), "--cache-dir", cache_dir]
    chunks = bench_check._cmdline_chunks(base, rel_paths, max_chars)
    wall, cpu, outputs = bench_check._run_timed([([*base, *chunk], cwd) for chunk in chunks], (0, 1), timeout)
    files, findings, errors = 0, [], []
    for out in outputs:
        try:
            doc = json.loads(out)
        except json.JSONDecodeError as exc:
            raise bench_check.ToolError(f"output is not JSON: {exc}") from exc
        files += doc["files_checked"]
        findings += [[f["path"], f["line"], f["column"], f["end_line"], f["end_column"], f["code"], f["message"]]
                     for f in doc["findings"]]
        errors += [[e["path"], e["message"]] for e in doc["errors"]]
    return {"wall_s": wall, "cpu_s": cpu, "invocations": len(chunks), "files": files, "findings": len(findings),
            "errors": len(errors), "output": {"findings": sorted(findings), "errors": sorted(errors)},
            "command": " ".join(base) + " FILES..."}


# --- repeats ----------------------------------------------------------------------------------------------

# the two rows the 1.5x target divides: on a shared machine one run of each moves by 5-10% (the
# machine's speed drifts over minutes), as much as the distance to the target, so they are run again
# taking turns, and each reports the median of its runs (the other rows run once: TorchFix's takes minutes)
REPEATED = ("parse-only-kept", "initlint")


def repeat_pair(tools: Dict[str, dict], attempt: Callable[[str], dict], repeat: int) -> None:
    """Run the ``REPEATED`` rows ``repeat - 1`` more times, taking turns; each row's ``wall_s`` and
    ``cpu_s`` become the medians, its single runs kept as ``wall_runs``/``cpu_runs``."""
    rows = [name for name in REPEATED if tools.get(name, {}).get("status") == "ok"]
    for name in rows:
        tools[name]["wall_runs"], tools[name]["cpu_runs"] = [tools[name]["wall_s"]], [tools[name]["cpu_s"]]
    for round_ in range(2, repeat + 1):
        for name in rows:
            print(f"  {LABELS[name]}, run {round_} of {repeat} ...", end=" ", flush=True)
            again = attempt(name)
            if "output" in tools[name] and again.get("output") != tools[name]["output"]:
                raise bench_check.ToolError(f"{name}: run {round_} gave other findings than run 1")
            tools[name]["wall_runs"].append(again["wall_s"])
            tools[name]["cpu_runs"].append(again["cpu_s"])
            print(f"{again['wall_s']:.1f} s, CPU {again['cpu_s']:.1f} s", flush=True)
    for name in rows:
        tools[name]["wall_s"] = statistics.median(tools[name]["wall_runs"])
        tools[name]["cpu_s"] = statistics.median(tools[name]["cpu_runs"])


# --- the report -----------------------------------------------------------------------------------------

def ratios(tools: Dict[str, dict]) -> Dict[str, Optional[float]]:
    def wall(name):
        t = tools.get(name) or {}
        return t.get("wall_s") if t.get("status") == "ok" else None

    def ratio(a, b):
        return wall(a) / wall(b) if wall(a) and wall(b) else None

    return {
        "cold jobs N / TorchFix": ratio("initlint", "torchfix"),
        "cold jobs N / parse-only of kept files": ratio("initlint", "parse-only-kept"),
        "cold jobs N / parse-only of kept files, collector paused": ratio("initlint", "parse-only-kept-paused"),
        "cold jobs N / parse-only of all files": ratio("initlint", "parse-only"),
        "warm jobs N, seconds": wall("initlint-warm"),
        "warm / cold, jobs N": ratio("initlint-warm", "initlint"),
        "cold jobs 1 / cold jobs N": ratio("initlint-j1", "initlint"),
        "parse-only all / kept": ratio("parse-only", "parse-only-kept"),
    }


def render(results: dict) -> str:
    c = results["corpus"]
    lines = [f"corpus: {c['files']:,} files, {c['lines']:,} lines ({c['profile']} profile); "
             f"the prefilter keeps {results['kept']['files']:,} files, {results['kept']['lines']:,} lines"]
    for p, info in c["packages"].items():
        lines.append(f"  {p:<13} {info['files']:>6,} files {info['lines']:>10,} lines   {info.get('version') or ''}")
    m = results["machine"]
    lines.append(f"machine: {m['cpus']} CPUs, {m['cpu_model']}; jobs N = {results['jobs']}; load average "
                 f"{m['loadavg_before'][0]:.2f} before, {m['loadavg_after'][0]:.2f} after")
    lines.append("")
    rows = [("", "jobs", "wall s", "CPU s", "files", "findings", "note")]
    for name in ROWS:
        t = results["tools"].get(name)
        if t is None:
            continue
        if t.get("status") != "ok":
            rows.append((LABELS[name], str(t.get("jobs", "")), t.get("status", ""), "", "", "", t.get("reason", "")[:60]))
            continue
        note = f"{t['errors']} file errors" if t.get("errors") else ""
        if t.get("parse_failures"):
            note = f"{t['parse_failures']} files did not parse"
        if len(t.get("wall_runs", ())) > 1:
            note = (note + "; " if note else "") + f"median of {len(t['wall_runs'])}: " \
                + "/".join(f"{w:.1f}" for w in t["wall_runs"]) + " s"
        rows.append((LABELS[name], str(t["jobs"]), f"{t['wall_s']:,.1f}", f"{t['cpu_s']:,.1f}", f"{t['files']:,}",
                     "-" if t.get("findings") is None else f"{t['findings']:,}", note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[j]) if j in (0, 6) else cell.rjust(widths[j])
                               for j, cell in enumerate(r)).rstrip())
        if i == 0:
            lines.append("-" * len(lines[-1]))
    lines.append("")
    for key, value in results["ratios"].items():
        shown = "not available" if value is None else (f"{value:.2f} s" if key.endswith("seconds") else f"{value:.2f}")
        if key == "cold jobs N / TorchFix" and value:
            shown += f"  ({1 / value:.1f}x faster; target >= 10x)"
        elif key == "cold jobs N / parse-only of kept files" and value:
            shown += "  (target <= 1.5)"
        elif key == "warm jobs N, seconds" and value:
            shown += "  (target < 2 s)"
        lines.append(f"{key:<58} {shown}")
    same = results["same_output"]
    lines.append(f"{'same findings and errors, cold/warm x jobs 1/N':<58} "
                 + ("yes" if same is True else "NO: " + same if same else "not available"))
    return "\n".join(lines)


def compare_outputs(tools: Dict[str, dict]):
    outputs = {name: tools[name].pop("output") for name in ("initlint", "initlint-warm", "initlint-j1", "initlint-j1-warm")
               if tools.get(name, {}).get("status") == "ok"}
    if len(outputs) < 2:
        return None
    reference_name, reference = next(iter(outputs.items()))
    differing = [name for name, output in outputs.items() if output != reference]
    return True if not differing else f"{', '.join(differing)} differ from {reference_name}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: CPU count)")
    parser.add_argument("--profile", choices=("bench", "full"), default="bench", help="corpus profile (corpus.py)")
    parser.add_argument("--limit", type=int, help="N files spread evenly over the corpus (quick runs)")
    parser.add_argument("--skip", default="", help=f"comma-separated rows to leave out: {', '.join(ROWS)}")
    parser.add_argument("--initlint", help="initlint command (default: the project venv's initlint)")
    parser.add_argument("--torchfix-flake8", default=bench_check.DEFAULT_TORCHFIX_FLAKE8,
                        help="flake8 of the venv holding TorchFix (default: %(default)s, or $TORCHFIX_FLAKE8)")
    parser.add_argument("--python", default=bench_check.PROJECT_PYTHON if os.path.exists(bench_check.PROJECT_PYTHON)
                        else sys.executable, help="the project venv's Python (parse-only baseline)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of the two rows the ratio divides (initlint cold, jobs N, and parse-only of the "
                             "kept files), taking turns; each reports its median (default: %(default)s)")
    parser.add_argument("--max-cmdline", type=int, default=128_000, help="longest command line, in characters")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per tool invocation")
    parser.add_argument("--output", help="JSON results (default: benchmarks/results/speed-<date>.json)")
    parser.add_argument("--_parse-worker", dest="parse_worker", help=argparse.SUPPRESS)
    parser.add_argument("--_collector-paused", dest="collector_paused", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.parse_worker:
        return parse_worker(args.parse_worker, max(1, args.jobs), args.collector_paused)
    jobs = max(1, args.jobs)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if skip - set(ROWS):
        parser.error(f"unknown rows in --skip: {', '.join(sorted(skip - set(ROWS)))}")

    corpus = speed_corpus(args.profile, args.python, args.limit)
    if corpus is None:
        return 2
    paths = corpus.paths
    kept = kept_by_prefilter(paths)
    kept_set = set(kept)
    root = os.path.commonpath(paths)
    rel_paths = [os.path.relpath(p, root) for p in paths]
    tmp = tempfile.mkdtemp(prefix="initlint-speed-")
    lists = {}
    for name, files in (("all", paths), ("kept", kept)):
        lists[name] = os.path.join(tmp, f"{name}.txt")
        with open(lists[name], "w", encoding="utf-8") as handle:
            handle.writelines(p + "\n" for p in files)
    initlint_cmd = bench_check._initlint_command(args.initlint)
    versions = {
        "initlint": bench_check._version_of([*initlint_cmd, "--version"]),
        "torchfix_flake8": bench_check._version_of([args.torchfix_flake8, "--version"]),
        **corpus.versions,
    }

    def attempt(name: str) -> dict:
        if name.startswith("parse-only"):
            return run_parse_only(args.python, lists["all" if name == "parse-only" else "kept"], jobs, args.timeout,
                                  paused=name.endswith("-paused"))
        if name.startswith("initlint"):
            if versions["initlint"] is None:
                raise bench_check.ToolError(f"{' '.join(initlint_cmd)} --version failed")
            width = 1 if "-j1" in name else jobs
            cache_dir = os.path.join(tmp, f"cache-jobs{width}")
            if not name.endswith("-warm"):
                shutil.rmtree(cache_dir, ignore_errors=True)
            return run_initlint(initlint_cmd, rel_paths, root, width, cache_dir, args.max_cmdline, args.timeout)
        if versions["torchfix_flake8"] is None or "TorchFix" not in versions["torchfix_flake8"]:
            raise bench_check.ToolError(f"{args.torchfix_flake8}: missing or without the TorchFix plugin")
        return bench_check.run_torchfix(args.torchfix_flake8, rel_paths, root, jobs, args.max_cmdline, args.timeout)

    print(f"corpus: {len(paths):,} files ({len(kept):,} kept by the prefilter); jobs {jobs}; from {root}", flush=True)
    load_before = os.getloadavg()
    tools: Dict[str, dict] = {}
    for name in ROWS:
        width = 1 if "-j1" in name else jobs
        if name in skip or (name.endswith("-warm") and name[:-5] in skip):
            tools[name] = {"status": "skipped", "reason": "--skip", "jobs": width}
            continue
        print(f"  {LABELS[name]}, jobs {width} ...", end=" ", flush=True)
        try:
            tools[name] = {"status": "ok", "jobs": width, **attempt(name)}
        except (bench_check.ToolError, OSError, ValueError, KeyError) as exc:
            tools[name] = {"status": "not available", "reason": str(exc), "jobs": width}
            print(f"not available: {exc}", flush=True)
            continue
        t = tools[name]
        print(f"{t['wall_s']:.1f} s, CPU {t['cpu_s']:.1f} s (load average {os.getloadavg()[0]:.2f})", flush=True)
    repeat_pair(tools, attempt, max(1, args.repeat))
    shutil.rmtree(tmp, ignore_errors=True)

    results = {
        "date": _dt.date.today().isoformat(),
        "timestamp": _dt.datetime.now().isoformat(timespec="seconds"),
        "jobs": jobs,
        "machine": {"cpus": os.cpu_count(), "cpu_model": bench_check._cpu_model(), "platform": platform.platform(),
                    "python": platform.python_version(), "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "versions": versions,
        "git": bench_check.git_state(),
        "corpus": {**corpus.summary(), "common_root": root},
        "kept": {"files": len(kept), "lines": sum(f.lines for f in corpus.files if f.path in kept_set)},
        "same_output": compare_outputs(tools),
        "tools": tools,
    }
    results["ratios"] = ratios(tools)
    print()
    print(render(results))
    out = args.output or os.path.join(bench_check.RESULTS_DIR, f"speed-{results['date']}"
                                      + (f"-{args.profile}" if args.profile != "bench" else "")
                                      + (f"-limit{args.limit}" if args.limit else "") + ".json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
        handle.write("\n")
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
