#!/usr/bin/env python3
"""What project scope adds to a cold ``initlint check``, measured in pairs that run at the same time.

Issue 12 asks for project scope's share of a cold run (target: at most 15%). It is a ratio of two
runs -- ``initlint check`` against the same with ``--no-project`` -- and on a shared machine one
run moves by 10-20% from the next (the same command took 26 to 36 CPU s within ten minutes on the
machine of 2026-12-04), more than the share itself. Taking turns and reporting medians needs many
pairs to say anything. Here both runs of a pair start together and run side by side, so whatever
slows the machine slows both: each round's ratio is of runs that shared their conditions, and
the rounds agree within a few percent. The order the two are started in alternates.

Each run: ``initlint check --format json --isolated --jobs N --cache-dir EMPTY`` over the corpus of
``bench_speed.py`` (``corpus.py``'s profile plus ``torch/nn``), CPU seconds (user + system, the
run and its workers) from ``os.wait4``, wall seconds from start to exit. With ``--jobs 1`` each run
has a core of its own on a 2-core machine; with more, the four processes share the cores (still
the same for both). ``--mode turns`` runs them one after the other instead, for comparison with
figures measured that way before.

Prints each round and the medians, and writes ``benchmarks/results/share-<date>.json``.

    .venv/bin/python benchmarks/bench_project_share.py [--rounds 5] [--jobs 1] [--mode concurrent|turns]
        [--profile bench|full] [--limit N]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_check  # noqa: E402  (benchmarks/ is not a package)
import bench_speed  # noqa: E402

VARIANTS = (("alone", ["--no-project"]), ("project", []))


def _start(cmd: List[str], extra: List[str], rel_paths: List[str], cwd: str, jobs: int, cache_dir: str):
    argv = [*cmd, "check", "--format", "json", "--isolated", "--jobs", str(jobs), "--cache-dir", cache_dir,
            *extra, *rel_paths]
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # files, not pipes: nothing blocks a run
    return subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err), (out, err), time.perf_counter()


def _wait_all(started: Dict[str, tuple]) -> Dict[str, dict]:
    """Each run's result, its wall time taken when it exits (whichever exits first)."""
    by_pid = {run[0].pid: name for name, run in started.items()}
    done: Dict[str, dict] = {}
    while by_pid:
        # wait4: the child's CPU, with that of the workers it waited for
        pid, status, usage = os.wait4(-1, 0)
        name = by_pid.pop(pid, None)
        if name is not None:
            done[name] = _finish(started[name], status, usage, time.perf_counter())
    return done


def _finish(started, status: int, usage, end: float) -> dict:
    proc, (out, err), start = started
    wall = end - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    stderr = err.read().decode("utf-8", "replace")
    out.seek(0)
    text = out.read().decode("utf-8", "replace")
    out.close()
    err.close()
    if proc.returncode not in (0, 1):
        raise bench_check.ToolError(f"exit status {proc.returncode}: {stderr.strip()[-500:]}")
    report = json.loads(text)
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "user_s": usage.ru_utime,
            "sys_s": usage.ru_stime, "findings": len(report["findings"]), "errors": len(report["errors"]),
            "files": report["files_checked"]}


def run_round(index: int, mode: str, cmd: List[str], rel_paths: List[str], cwd: str, jobs: int) -> Dict[str, dict]:
    order = VARIANTS if index % 2 == 0 else VARIANTS[::-1]
    caches = {name: tempfile.mkdtemp(prefix=f"initlint-share-{name}-") for name, _ in VARIANTS}
    done: Dict[str, dict] = {}
    try:
        if mode == "concurrent":
            done = _wait_all({name: _start(cmd, extra, rel_paths, cwd, jobs, caches[name]) for name, extra in order})
        else:
            for name, extra in order:
                done.update(_wait_all({name: _start(cmd, extra, rel_paths, cwd, jobs, caches[name])}))
    finally:
        for folder in caches.values():
            shutil.rmtree(folder, ignore_errors=True)
    return done


def summarise(rounds: List[Dict[str, dict]]) -> dict:
    cpu = [r["project"]["cpu_s"] / r["alone"]["cpu_s"] for r in rounds]
    wall = [r["project"]["wall_s"] / r["alone"]["wall_s"] for r in rounds]
    return {
        "cpu_ratio_median": statistics.median(cpu), "cpu_ratios": cpu,
        "wall_ratio_median": statistics.median(wall), "wall_ratios": wall,
        **{f"{name}_cpu_s_median": statistics.median(r[name]["cpu_s"] for r in rounds) for name, _ in VARIANTS},
        **{f"{name}_wall_s_median": statistics.median(r[name]["wall_s"] for r in rounds) for name, _ in VARIANTS},
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="pairs to run (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="--jobs of each run (default: %(default)s)")
    parser.add_argument("--mode", choices=("concurrent", "turns"), default="concurrent",
                        help="the two runs of a pair side by side (default) or one after the other")
    parser.add_argument("--profile", choices=("bench", "full"), default="bench", help="corpus profile (corpus.py)")
    parser.add_argument("--limit", type=int, help="N files spread evenly over the corpus (quick runs)")
    parser.add_argument("--initlint", help="initlint command (default: the project venv's initlint)")
    parser.add_argument("--python", default=bench_check.PROJECT_PYTHON if os.path.exists(bench_check.PROJECT_PYTHON)
                        else sys.executable, help="the project venv's Python (to find the corpus)")
    parser.add_argument("--output", help="JSON results (default: benchmarks/results/share-<date>.json)")
    args = parser.parse_args(argv)

    corpus = bench_speed.speed_corpus(args.profile, args.python, args.limit)
    if corpus is None:
        return 2
    paths = corpus.paths
    root = os.path.commonpath(paths)
    rel_paths = [os.path.relpath(p, root) for p in paths]
    cmd = bench_check._initlint_command(args.initlint)
    print(f"{len(paths)} files under {root}; {args.rounds} pairs, --jobs {args.jobs}, {args.mode}", flush=True)

    rounds = []
    for index in range(args.rounds):
        done = run_round(index, args.mode, cmd, rel_paths, root, args.jobs)
        rounds.append(done)
        print(f"pair {index + 1}: " + ", ".join(
            f"{name} {done[name]['cpu_s']:.2f} CPU s / {done[name]['wall_s']:.2f} s ({done[name]['findings']} findings)"
            for name, _ in VARIANTS)
            + f"; project/alone CPU {done['project']['cpu_s'] / done['alone']['cpu_s']:.3f}", flush=True)
    result = summarise(rounds)
    print(f"project scope adds {100 * (result['cpu_ratio_median'] - 1):+.1f}% CPU, "
          f"{100 * (result['wall_ratio_median'] - 1):+.1f}% wall (medians of {len(rounds)} pairs; "
          f"CPU ratios {', '.join(f'{r:.3f}' for r in result['cpu_ratios'])})")
    output = args.output or os.path.join(HERE, "results", f"share-{_dt.date.today().isoformat()}.json")
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        json.dump({"date": _dt.datetime.now().isoformat(timespec="seconds"), "git": bench_check.git_state(),
                   "mode": args.mode, "jobs": args.jobs, "profile": args.profile, "files": len(paths),
                   "rounds": rounds, **result}, handle, indent=2)
    print(f"results: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
