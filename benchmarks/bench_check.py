#!/usr/bin/env python3
"""Time ``initlint check`` against TorchFix and a libcst parse-only baseline, side by side, on one corpus.

One run times, on the same files (``corpus.py``, profile ``bench`` unless ``--profile full``):

(a) ``initlint check --format json --isolated --jobs <cores>``, cold (any ``.initlint_cache`` is
    deleted first), and again with ``--jobs 1``;
(b) TorchFix through flake8: ``<torchfix-venv>/bin/flake8 --isolated --select TOR --jobs <cores>``
    (TorchFix 0.7 pins libcst<1.6, so it lives in its own venv, default ``/work/torchfix-venv``);
(c) parse only: ``libcst.parse_module`` of every file with the project venv's libcst, the files split
    over ``<cores>`` processes (``multiprocessing``), in a fresh interpreter like the other two.

Every tool runs as a subprocess and is timed by wall clock from start to exit (interpreter start-up
and imports included, as a user sees it); the children's CPU time is recorded too. The files are
passed as paths relative to their common directory (the subprocess runs there) and, if the command
line would still be longer than ``--max-cmdline`` characters, in several invocations one after the
other, as ``xargs`` would (their times are summed; the number of invocations is recorded).

Prints a table of wall times and ratios (initlint/TorchFix, initlint/parse-only, --jobs 1/--jobs N),
the file and line counts, and writes everything to ``benchmarks/results/check-<date>.json``
(``check-<date>-limit<N>.json`` with ``--limit``). A tool that is missing or fails becomes a row
"not available" (with the reason), never a crash.

    .venv/bin/python benchmarks/bench_check.py [--jobs N] [--limit N] [--repeat R] [--skip torchfix,...]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import multiprocessing
import os
import platform
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import corpus as corpus_mod  # noqa: E402  (benchmarks/ is not a package)

RESULTS_DIR = os.path.join(HERE, "results")
PROJECT_PYTHON = os.path.join(REPO, ".venv", "bin", "python")
DEFAULT_TORCHFIX_FLAKE8 = os.environ.get("TORCHFIX_FLAKE8", "/work/torchfix-venv/bin/flake8")
TOOLS = ("parse-only", "initlint", "initlint-j1", "torchfix")


# --- the parse-only worker (runs in its own interpreter: ``bench_check.py --_parse-worker LIST``) ---

def _parse_chunk(paths: Sequence[str]) -> Tuple[int, List[str]]:
    import libcst

    ok, failed = 0, []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                libcst.parse_module(handle.read())  # bytes: libcst reads the encoding cookie itself
            ok += 1
        except Exception as exc:  # a file that does not parse is counted, not fatal
            failed.append(f"{path}: {type(exc).__name__}")
    return ok, failed


def parse_worker(list_file: str, jobs: int) -> int:
    with open(list_file, encoding="utf-8") as handle:
        paths = [line.rstrip("\n") for line in handle if line.strip()]
    size = max(1, min(64, -(-len(paths) // (jobs * 4))))  # the same chunking rule as initlint's runner
    chunks = [paths[i:i + size] for i in range(0, len(paths), size)]
    ok, failed = 0, []
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for n, bad in pool.imap_unordered(_parse_chunk, chunks):
                ok += n
                failed += bad
    else:
        for chunk in chunks:
            n, bad = _parse_chunk(chunk)
            ok += n
            failed += bad
    json.dump({"parsed": ok, "failed": len(failed), "failures": failed[:20]}, sys.stdout)
    return 0


# --- running a tool ---------------------------------------------------------------------------

def _cmdline_chunks(base: Sequence[str], paths: Sequence[str], max_chars: int) -> List[List[str]]:
    """Split ``paths`` so that no command line is longer than ``max_chars`` (as xargs does)."""
    fixed = sum(len(a) + 1 for a in base)
    chunks: List[List[str]] = []
    current: List[str] = []
    length = fixed
    for path in paths:
        if current and length + len(path) + 1 > max_chars:
            chunks.append(current)
            current, length = [], fixed
        current.append(path)
        length += len(path) + 1
    if current:
        chunks.append(current)
    return chunks


class ToolError(Exception):
    pass


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_timed(commands: Sequence[Tuple[List[str], str]], ok_codes: Sequence[int], timeout: float):
    """Run the commands one after another; returns (wall seconds, CPU seconds, [stdout, ...])."""
    outputs = []
    cpu0 = _children_cpu()
    start = time.perf_counter()
    for argv, cwd in commands:
        try:
            proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError as exc:
            raise ToolError(f"cannot run {argv[0]}: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            raise ToolError(f"timed out after {timeout:.0f} s") from exc
        if proc.returncode not in ok_codes:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise ToolError(f"exit status {proc.returncode}: {' | '.join(tail)}")
        outputs.append(proc.stdout)
    wall = time.perf_counter() - start
    return wall, _children_cpu() - cpu0, outputs


def _initlint_command(explicit: Optional[str]) -> List[str]:
    if explicit:
        return shlex.split(explicit)
    for candidate in (os.path.join(os.path.dirname(sys.executable), "initlint"),
                      os.path.join(REPO, ".venv", "bin", "initlint")):
        if os.path.exists(candidate):
            return [candidate]
    return [PROJECT_PYTHON if os.path.exists(PROJECT_PYTHON) else sys.executable, "-m", "initlint"]


def _version_of(argv: List[str]) -> Optional[str]:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if proc.returncode == 0 else None


def git_state() -> dict:
    """The commit the initlint tree was at, and whether it had local changes (rules move fast)."""
    def git(*a):
        proc = subprocess.run(["git", "-C", REPO, *a], capture_output=True, text=True, timeout=60)
        return proc.stdout.strip() if proc.returncode == 0 else None
    try:
        status = git("status", "--porcelain", "--", "initlint")
        return {"commit": git("rev-parse", "HEAD"), "initlint_dirty": bool(status) if status is not None else None}
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "initlint_dirty": None}


def _delete_caches(dirs: Sequence[str]) -> List[str]:
    deleted = []
    for d in dict.fromkeys(os.path.abspath(x) for x in dirs):
        cache = os.path.join(d, ".initlint_cache")
        if os.path.isdir(cache) and not os.path.islink(cache):
            shutil.rmtree(cache)
            deleted.append(cache)
    return deleted


def run_initlint(cmd: List[str], rel_paths: List[str], cwd: str, jobs: int, max_chars: int,
                 timeout: float, cache_dirs: Sequence[str]) -> dict:
    base = [*cmd, "check", "--format", "json", "--isolated", "--jobs", str(jobs)]
    deleted = _delete_caches(cache_dirs)
    chunks = _cmdline_chunks(base, rel_paths, max_chars)
    wall, cpu, outputs = _run_timed([([*base, *chunk], cwd) for chunk in chunks], (0, 1), timeout)
    files = findings = errors = 0
    codes: Dict[str, int] = {}
    for out in outputs:
        try:
            doc = json.loads(out)
        except json.JSONDecodeError as exc:
            raise ToolError(f"output is not JSON: {exc}") from exc
        files += doc["files_checked"]
        findings += len(doc["findings"])
        errors += len(doc["errors"])
        for f in doc["findings"]:
            codes[f["code"]] = codes.get(f["code"], 0) + 1
    return {"wall_s": wall, "cpu_s": cpu, "invocations": len(chunks), "files": files, "findings": findings,
            "errors": errors, "codes": dict(sorted(codes.items())), "caches_deleted": deleted,
            "command": " ".join(base) + " FILES..."}


_TOR_LINE = re.compile(r":\d+:\d+: (TOR\d+) ")
_FILES_LINE = re.compile(r"^(\d+)\s+total files processed", re.M)


def run_torchfix(flake8: str, rel_paths: List[str], cwd: str, jobs: int, max_chars: int, timeout: float) -> dict:
    base = [flake8, "--isolated", "--select", "TOR", "--jobs", str(jobs), "--benchmark"]
    chunks = _cmdline_chunks(base, rel_paths, max_chars)
    wall, cpu, outputs = _run_timed([([*base, *chunk], cwd) for chunk in chunks], (0, 1), timeout)
    files = findings = 0
    codes: Dict[str, int] = {}
    for out in outputs:
        m = _FILES_LINE.search(out)
        files += int(m.group(1)) if m else 0
        for code in _TOR_LINE.findall(out):
            findings += 1
            codes[code] = codes.get(code, 0) + 1
    return {"wall_s": wall, "cpu_s": cpu, "invocations": len(chunks), "files": files, "findings": findings,
            "codes": dict(sorted(codes.items())), "command": " ".join(base) + " FILES..."}


def run_parse_only(python: str, list_file: str, jobs: int, timeout: float) -> dict:
    argv = [python, os.path.abspath(__file__), "--_parse-worker", list_file, "--jobs", str(jobs)]
    wall, cpu, (out,) = _run_timed([(argv, HERE)], (0,), timeout)
    doc = json.loads(out)
    return {"wall_s": wall, "cpu_s": cpu, "invocations": 1, "files": doc["parsed"] + doc["failed"],
            "parse_failures": doc["failed"], "failures_sample": doc["failures"],
            "command": f"{python} bench_check.py --_parse-worker LIST --jobs {jobs}"}


# --- the report -------------------------------------------------------------------------------

def _fmt_s(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:,.1f}"


def _ratio(a: dict, b: dict, key: str = "wall_s") -> Optional[float]:
    if a.get(key) and b.get(key):
        return a[key] / b[key]
    return None


def render(results: dict) -> str:
    c = results["corpus"]
    lines = [f"corpus: {c['files']:,} files, {c['lines']:,} lines ({c['profile']} profile)"]
    for p, info in c["packages"].items():
        lines.append(f"  {p:<13} {info['files']:>6,} files {info['lines']:>10,} lines   {info.get('version') or ''}")
    lines.append(f"machine: {results['machine']['cpus']} CPUs, {results['machine']['cpu_model']}; "
                 f"jobs = {results['jobs']}; repeat = {results['repeat']} (best wall time shown)")
    lines.append("")
    header = ("tool", "jobs", "wall s", "CPU s", "files", "k lines/s", "findings", "note")
    rows = [header]
    for name in TOOLS:
        t = results["tools"].get(name)
        if t is None:
            continue
        label = {"parse-only": "libcst parse only", "initlint": "initlint check", "initlint-j1": "initlint check",
                 "torchfix": "TorchFix (flake8)"}[name]
        if t.get("status") != "ok":
            status = "skipped" if t.get("status") == "skipped" else "not available"
            rows.append((label, str(t.get("jobs", "")), status, "", "", "", "", t.get("reason", "")[:70]))
            continue
        kls = c["lines"] / t["wall_s"] / 1000 if t["wall_s"] else 0
        note = f"{t['invocations']} invocations" if t.get("invocations", 1) > 1 else ""
        if name == "parse-only" and t.get("parse_failures"):
            note = f"{t['parse_failures']} files did not parse"
        if name.startswith("initlint") and t.get("errors"):
            note = f"{t['errors']} file errors"
        if t["files"] != c["files"]:
            note = (note + "; " if note else "") + f"saw {t['files']} of {c['files']} files"
        rows.append((label, str(t["jobs"]), _fmt_s(t["wall_s"]), _fmt_s(t.get("cpu_s")), f"{t['files']:,}",
                     f"{kls:,.1f}", "-" if t.get("findings") is None else f"{t['findings']:,}", note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, r in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[j]) if j in (0, 7) else cell.rjust(widths[j])
                               for j, cell in enumerate(r)).rstrip())
        if i == 0:
            lines.append("-" * len(lines[-1]))
    lines.append("")
    for key, text in (("initlint/torchfix", "initlint / TorchFix, wall  (same jobs)"),
                      ("initlint/torchfix (CPU s)", "initlint / TorchFix, CPU s"),
                      ("initlint/parse-only", "initlint / parse-only, wall (same jobs)"),
                      ("initlint/parse-only (CPU s)", "initlint / parse-only, CPU s"),
                      ("initlint-j1/initlint", "initlint wall, --jobs 1 / --jobs N")):
        r = results["ratios"].get(key)
        lines.append(f"{text:<40} " + ("not available" if r is None else f"{r:.2f}"
                                       + (f"  ({1 / r:.1f}x faster)" if key.startswith("initlint/torchfix") and r < 1
                                          else "")))
    m = results["machine"]
    if "loadavg_before" in m:
        lines.append(f"load average before/after: {m['loadavg_before'][0]:.2f} / {m['loadavg_after'][0]:.2f} "
                     f"on {m['cpus']} CPUs")
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: CPU count)")
    parser.add_argument("--limit", type=int, help="time only N files, spread evenly over the corpus (quick runs)")
    parser.add_argument("--profile", choices=("bench", "full"), default="bench", help="corpus profile (corpus.py)")
    parser.add_argument("--repeat", type=int, default=1, help="run each tool R times, keep the best wall time")
    parser.add_argument("--skip", default="", help=f"comma-separated tools to leave out: {', '.join(TOOLS)}")
    parser.add_argument("--initlint", help="initlint command (default: the project venv's initlint)")
    parser.add_argument("--torchfix-flake8", default=DEFAULT_TORCHFIX_FLAKE8,
                        help="flake8 of the venv holding TorchFix (default: %(default)s, or $TORCHFIX_FLAKE8)")
    parser.add_argument("--python", default=PROJECT_PYTHON if os.path.exists(PROJECT_PYTHON) else sys.executable,
                        help="the project venv's Python, for the parse-only baseline and finding packages")
    parser.add_argument("--max-cmdline", type=int, default=128_000,
                        help="longest command line, in characters; more files are split over invocations")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per tool invocation")
    parser.add_argument("--output", help="JSON results file (default: benchmarks/results/check-<date>.json)")
    parser.add_argument("--_parse-worker", dest="parse_worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.parse_worker:
        return parse_worker(args.parse_worker, max(1, args.jobs))

    jobs = max(1, args.jobs)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(TOOLS)
    if unknown:
        parser.error(f"unknown tool(s) in --skip: {', '.join(sorted(unknown))}")

    corpus = corpus_mod.build_corpus(args.profile, limit=args.limit, python=args.python)
    if not corpus.files:
        print("no corpus files found (are timm/transformers/keras/flax installed in the project venv?)",
              file=sys.stderr)
        for note in corpus.notes:
            print("note:", note, file=sys.stderr)
        return 2
    paths = corpus.paths
    root = os.path.commonpath(paths) if len(paths) > 1 else os.path.dirname(paths[0])
    rel_paths = [os.path.relpath(p, root) for p in paths]

    tmp = tempfile.mkdtemp(prefix="initlint-bench-")
    list_file = os.path.join(tmp, "files.txt")
    with open(list_file, "w", encoding="utf-8") as handle:
        handle.writelines(p + "\n" for p in paths)

    initlint_cmd = _initlint_command(args.initlint)
    versions = {
        "initlint": _version_of([*initlint_cmd, "--version"]),
        "torchfix_flake8": _version_of([args.torchfix_flake8, "--version"]),
        "libcst (project venv)": _version_of([args.python, "-c", "import libcst, importlib.metadata as m; "
                                              "print(m.version('libcst'))"]),
        **{p: v for p, v in corpus.versions.items()},
    }
    cache_dirs = [root, REPO, os.getcwd()]

    def attempt(name: str):
        if name == "parse-only":
            if versions["libcst (project venv)"] is None:
                raise ToolError(f"libcst not importable by {args.python}")
            return run_parse_only(args.python, list_file, jobs, args.timeout)
        if name in ("initlint", "initlint-j1"):
            if versions["initlint"] is None:
                raise ToolError(f"{' '.join(initlint_cmd)} --version failed (CLI missing?)")
            return run_initlint(initlint_cmd, rel_paths, root, 1 if name == "initlint-j1" else jobs,
                                args.max_cmdline, args.timeout, cache_dirs)
        if name == "torchfix":
            if versions["torchfix_flake8"] is None or "TorchFix" not in versions["torchfix_flake8"]:
                raise ToolError(f"{args.torchfix_flake8}: missing or without the TorchFix plugin")
            return run_torchfix(args.torchfix_flake8, rel_paths, root, jobs, args.max_cmdline, args.timeout)
        raise AssertionError(name)

    print(f"corpus: {len(paths):,} files, {corpus.lines:,} lines; jobs {jobs}; running from {root}", flush=True)
    load_before = os.getloadavg()
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        print(f"warning: load average {load_before[0]:.2f} before starting: other processes share the CPUs, "
              "wall times will be inflated (CPU seconds and ratios suffer less)", flush=True)
    tools: Dict[str, dict] = {}
    # with --repeat, the tools take turns (A B C D, A B C D ...) so that a burst of load from other
    # processes is shared out between them rather than landing on one
    runs: Dict[str, List[dict]] = {name: [] for name in TOOLS}
    for name in TOOLS:
        if name in skip:
            tools[name] = {"status": "skipped", "reason": "--skip", "jobs": 1 if name == "initlint-j1" else jobs}
    for i in range(max(1, args.repeat)):
        for name in TOOLS:
            if name in tools:  # skipped, or failed in an earlier round
                continue
            print(f"  {name} (run {i + 1}/{args.repeat}) ...", end=" ", flush=True)
            try:
                r = attempt(name)
            except (ToolError, OSError, ValueError, KeyError) as exc:
                print(f"not available: {exc}", flush=True)
                tools[name] = {"status": "not available", "reason": str(exc),
                               "jobs": 1 if name == "initlint-j1" else jobs}
                continue
            r["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
            print(f"{r['wall_s']:.1f} s, CPU {r['cpu_s']:.1f} s (load average now {r['loadavg_1m_after']:.2f})",
                  flush=True)
            runs[name].append(r)
    for name in TOOLS:
        if name not in tools and runs[name]:
            best = min(runs[name], key=lambda r: r["wall_s"])
            tools[name] = {"status": "ok", "jobs": 1 if name == "initlint-j1" else jobs, **best,
                           "all_wall_s": [round(r["wall_s"], 3) for r in runs[name]],
                           "all_cpu_s": [round(r["cpu_s"], 3) for r in runs[name]]}
    tools = {name: tools[name] for name in TOOLS if name in tools}
    shutil.rmtree(tmp, ignore_errors=True)

    ok = {k: v for k, v in tools.items() if v.get("status") == "ok"}
    ratios = {
        "initlint/torchfix": _ratio(ok["initlint"], ok["torchfix"]) if {"initlint", "torchfix"} <= ok.keys() else None,
        "initlint/torchfix (CPU s)": (_ratio(ok["initlint"], ok["torchfix"], "cpu_s")
                                      if {"initlint", "torchfix"} <= ok.keys() else None),
        "initlint/parse-only (CPU s)": (_ratio(ok["initlint"], ok["parse-only"], "cpu_s")
                                        if {"initlint", "parse-only"} <= ok.keys() else None),
        "initlint/parse-only": (_ratio(ok["initlint"], ok["parse-only"])
                                if {"initlint", "parse-only"} <= ok.keys() else None),
        "initlint-j1/initlint": (_ratio(ok["initlint-j1"], ok["initlint"])
                                 if {"initlint", "initlint-j1"} <= ok.keys() else None),
    }
    today = _dt.date.today().isoformat()
    results = {
        "date": today,
        "timestamp": _dt.datetime.now().isoformat(timespec="seconds"),
        "jobs": jobs,
        "repeat": args.repeat,
        "limit": args.limit,
        "machine": {"cpus": os.cpu_count(), "cpu_model": _cpu_model(), "platform": platform.platform(),
                    "python": platform.python_version(), "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "versions": versions,
        "git": git_state(),
        "corpus": {**corpus.summary(), "common_root": root},
        "tools": tools,
        "ratios": ratios,
    }
    print()
    print(render(results))
    out = args.output or os.path.join(
        RESULTS_DIR, f"check-{today}" + (f"-limit{args.limit}" if args.limit else "") + ".json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
        handle.write("\n")
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
