#!/usr/bin/env python3
"""What ``initlint check`` reports on real code: counts per package and code, and a sample to judge.

Checks the *whole* installed timm, transformers, keras and flax packages (``corpus.py --profile full``,
about 4,200 files and 1.7 M lines) with ``initlint check --format json --isolated --exit-zero`` (the
files named explicitly, relative to their common directory, split over invocations if the command
line gets long). If the CLI is not available, it calls ``initlint.check_file`` in a process pool.

Prints, and writes to ``benchmarks/results/findings-<date>.txt``:

* the number of findings per code (rows) and package (columns), files with findings, file errors;
* for every code, a random sample (fixed seed; ``--per-code``, default 10) of findings with the
  source around the flagged line, so that a human can judge which are false alarms.

The rules are still being developed: the numbers are a snapshot of the working tree they ran with.

    .venv/bin/python benchmarks/findings_report.py [--jobs N] [--per-code 10] [--seed 0]
        [--packages timm,keras] [--limit N] [--extend-select INI204]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from typing import Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import corpus as corpus_mod  # noqa: E402  (benchmarks/ is not a package)
from bench_check import PROJECT_PYTHON, _cmdline_chunks, _initlint_command, _version_of, git_state  # noqa: E402

RESULTS_DIR = os.path.join(HERE, "results")


# --- running initlint ---------------------------------------------------------------------------

def via_cli(cmd: List[str], rel_paths: List[str], cwd: str, jobs: int, extra: List[str],
            max_chars: int) -> dict:
    base = [*cmd, "check", "--format", "json", "--isolated", "--exit-zero", "--jobs", str(jobs), *extra]
    findings, errors, files = [], [], 0
    for chunk in _cmdline_chunks(base, rel_paths, max_chars):
        proc = subprocess.run([*base, *chunk], cwd=cwd, capture_output=True, text=True)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"initlint exit status {proc.returncode}: {proc.stderr.strip()[-500:]}")
        doc = json.loads(proc.stdout)
        files += doc["files_checked"]
        findings += doc["findings"]
        errors += doc["errors"]
    for item in findings + errors:
        item["path"] = os.path.normpath(os.path.join(cwd, item["path"]))
    return {"files_checked": files, "findings": findings, "errors": errors, "how": " ".join(base) + " FILES..."}


def _check_one(args):
    path, extend = args
    from initlint import check_file
    from initlint.ftypes import Settings

    report = check_file(path, Settings(extend_select=frozenset(extend)))
    return ([f.to_json() for f in report.findings],
            [report.error.to_json()] if report.error is not None else [])


def via_api(paths: List[str], jobs: int, extend: List[str], why: str) -> dict:
    import multiprocessing

    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    findings, errors = [], []
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for fs, es in pool.imap(_check_one, [(p, tuple(extend)) for p in paths], chunksize=16):
            findings += fs
            errors += es
    return {"files_checked": len(paths), "findings": findings, "errors": errors,
            "how": f"initlint.check_file in a multiprocessing pool ({why})"}


# --- the report ---------------------------------------------------------------------------------

class _Sources:
    def __init__(self):
        self._cache: Dict[str, List[str]] = {}

    def lines(self, path: str) -> List[str]:
        if path not in self._cache:
            try:
                with open(path, "rb") as handle:
                    self._cache[path] = handle.read().decode("utf-8", "replace").splitlines()
            except OSError:
                self._cache[path] = []
        return self._cache[path]


def _clip(text: str, width: int = 150) -> str:
    text = text.rstrip()
    return text if len(text) <= width else text[: width - 1] + "…"


def excerpt(sources: _Sources, f: dict, before: int = 1, after: int = 1, most: int = 4) -> List[str]:
    lines = sources.lines(f["path"])
    first = f["line"]
    last = min(max(f.get("end_line") or first, first), first + most - 1)
    out = []
    for n in range(max(1, first - before), min(len(lines), last + after) + 1):
        mark = ">" if first <= n <= last else " "
        out.append(f"      {mark}{n:>6} | {_clip(lines[n - 1])}")
    return out


def table(rows: List[List[str]]) -> List[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for i, r in enumerate(rows):
        out.append("  ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j]) for j, c in enumerate(r)))
        if i == 0:
            out.append("-" * len(out[-1]))
    return out


def build_report(corpus: corpus_mod.Corpus, result: dict, version: Optional[str], seconds: float,
                 per_code: int, seed: int, extend: List[str]) -> str:
    package_of = {f.path: f.package for f in corpus.files}
    roots = corpus.roots
    site = os.path.commonpath(list(roots.values())) if len(roots) > 1 else os.path.dirname(next(iter(roots.values())))
    packages = list(corpus.per_package())
    findings = sorted(result["findings"], key=lambda f: (f["code"], f["path"], f["line"], f["column"]))
    for f in findings:
        f["package"] = package_of.get(f["path"], "?")
    counts: Dict[str, Counter] = defaultdict(Counter)
    names: Dict[str, str] = {}
    files_with: Dict[str, set] = defaultdict(set)
    for f in findings:
        counts[f["code"]][f["package"]] += 1
        names[f["code"]] = f.get("name", "")
        files_with[f["package"]].add(f["path"])

    git = git_state()
    out = [f"initlint findings report, {_dt.datetime.now().isoformat(timespec='seconds')}",
           f"{version or 'initlint (version unknown)'}; {result['how']}",
           "tree: commit {}{}".format((git.get("commit") or "?")[:12],
                                      " + local changes under initlint/" if git.get("initlint_dirty") else ""),
           "selection: default rules" + (f" + {','.join(extend)}" if extend else ""),
           "The rules are still being developed: these numbers are a snapshot of the working tree.",
           f"checked {result['files_checked']:,} files ({corpus.lines:,} lines) in {seconds:.0f} s; "
           f"{len(findings):,} findings, {len(result['errors'])} file errors",
           ""]
    rows = [["package", "version", "files", "lines", "files w/ findings", "findings"]]
    for p, (n, l) in corpus.per_package().items():
        rows.append([p, corpus.versions.get(p) or "", f"{n:,}", f"{l:,}", f"{len(files_with[p]):,}",
                     f"{sum(c[p] for c in counts.values()):,}"])
    out += table(rows) + [""]

    rows = [["code", "name", *packages, "total"]]
    for code in sorted(counts):
        rows.append([code, names[code], *[str(counts[code][p]) for p in packages], str(sum(counts[code].values()))])
    rows.append(["total", "", *[str(sum(c[p] for c in counts.values())) for p in packages], str(len(findings))])
    out += ["Findings per code and package:"] + table(rows) + [""]

    if result["errors"]:
        out.append(f"File errors ({len(result['errors'])}, first 20):")
        for e in result["errors"][:20]:
            out.append(f"  {os.path.relpath(e['path'], site)}: {e['message']}")
        out.append("")

    sources = _Sources()
    out.append(f"Samples: up to {per_code} findings per code, drawn at random (seed {seed}); paths relative to {site}")
    for code in sorted(counts):
        group = [f for f in findings if f["code"] == code]
        rng = random.Random(f"{seed}:{code}")
        sample = sorted(rng.sample(group, min(per_code, len(group))),
                        key=lambda f: (f["package"], f["path"], f["line"]))
        out += ["", f"== {code} {names[code]}: {len(sample)} of {len(group)} =="]
        for i, f in enumerate(sample, 1):
            rel = os.path.relpath(f["path"], site)
            out.append(f"  [{i}] {rel}:{f['line']}:{f['column']}  ({f.get('framework') or '-'})")
            out.append(f"      {f['message']}")
            out += excerpt(sources, f)
    return "\n".join(out) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--packages", default=",".join(corpus_mod.PACKAGES), help="comma-separated")
    parser.add_argument("--profile", choices=("bench", "full"), default="full")
    parser.add_argument("--limit", type=int, help="check only N files, spread evenly (quick runs)")
    parser.add_argument("--per-code", type=int, default=10, help="sampled findings per code (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extend-select", default="", help="also these codes, e.g. INI204 (off by default)")
    parser.add_argument("--initlint", help="initlint command (default: the project venv's initlint)")
    parser.add_argument("--api", action="store_true", help="use initlint.check_file in a pool, not the CLI")
    parser.add_argument("--python", default=PROJECT_PYTHON if os.path.exists(PROJECT_PYTHON) else sys.executable)
    parser.add_argument("--max-cmdline", type=int, default=128_000)
    parser.add_argument("--output", help="default: benchmarks/results/findings-<date>.txt")
    args = parser.parse_args(argv)

    extend = [c for c in args.extend_select.split(",") if c]
    corpus = corpus_mod.build_corpus(args.profile, [p for p in args.packages.split(",") if p], args.limit,
                                     args.python)
    if not corpus.files:
        print("no corpus files found", file=sys.stderr)
        return 2
    paths = corpus.paths
    root = os.path.commonpath(paths) if len(paths) > 1 else os.path.dirname(paths[0])
    cmd = _initlint_command(args.initlint)
    version = _version_of([*cmd, "--version"])
    print(f"checking {len(paths):,} files, {corpus.lines:,} lines ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    if version is not None and not args.api:
        extra = ["--extend-select", ",".join(extend)] if extend else []
        result = via_cli(cmd, [os.path.relpath(p, root) for p in paths], root, args.jobs, extra, args.max_cmdline)
    else:
        if not args.api:
            print("initlint CLI not available; using initlint.check_file", file=sys.stderr)
        result = via_api(paths, args.jobs, extend, "--api" if args.api else "CLI not available")
    seconds = time.perf_counter() - start

    text = build_report(corpus, result, version, seconds, args.per_code, args.seed, extend)
    sys.stdout.write(text)
    suffix = (f"-limit{args.limit}" if args.limit else "") + ("-" + "-".join(extend) if extend else "")
    out = args.output or os.path.join(RESULTS_DIR, f"findings-{_dt.date.today().isoformat()}{suffix}.txt")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"\nwritten: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
