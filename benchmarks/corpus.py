#!/usr/bin/env python3
"""Build the benchmark corpus from the *installed* sources of timm, flax, keras and transformers.

The packages are located with ``importlib.util.find_spec(name).submodule_search_locations`` in the
project's virtual environment (never a hard-coded path). ``find_spec`` of a top-level package does
not import it, so no framework is loaded. Run this script with the project venv's Python; run with
another interpreter, it asks ``<repo>/.venv/bin/python`` (or ``--python``) where the packages are.

Two profiles:

``bench`` (default; what ``bench_check.py`` times). Must finish, all four timings together, within
about 10 minutes on 2 cores, so it is a deterministic subset:

* timm: the whole package;
* flax: the whole package;
* keras: ``keras/src/`` only (the public ``keras/api`` tree is generated re-export stubs);
* transformers: ``transformers/models/<family>/`` (recursively) for the 40 model families listed in
  ``TRANSFORMERS_FAMILIES`` -- a fixed list of widely used text, vision, audio and multimodal
  architectures (encoders, decoders, encoder-decoders, CNNs, ViTs, SSMs), so that the subset is the
  same on every run and every machine with the same transformers version. Families missing from the
  installed version are skipped and reported.

Counts seen with timm 1.0.31, flax 0.12.8, keras 3.15.1, transformers 5.23.0:
timm 304 files / 141,115 lines, flax 109 / 56,348, keras/src 770 / 301,641,
transformers (40 families) 182 files / 63,537 lines; 1,365 files and 562,641 lines in all.

``full`` (what ``findings_report.py`` reads): the four packages whole, 4,177 files and 1,711,031
lines with the versions above (transformers 2,860 files / 1,206,581 lines, keras 904 / 306,987).

Lines are counted as ``wc -l`` counts them (newline characters). Output: the file list, one absolute
path a line (default ``benchmarks/corpus/files-<profile>.txt``; ``benchmarks/corpus/`` is ignored by
git, the list holds machine-specific paths), a JSON summary beside it, and a table on stdout.

    .venv/bin/python benchmarks/corpus.py [--profile bench|full] [--limit N] [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_VENV_PYTHON = os.path.join(REPO, ".venv", "bin", "python")
CORPUS_DIR = os.path.join(HERE, "corpus")

PACKAGES = ("timm", "transformers", "keras", "flax")

# 40 transformers model families, fixed (see the module docstring). Sorted for readability only.
TRANSFORMERS_FAMILIES = (
    "albert", "bart", "beit", "bert", "blip", "bloom", "clip", "convnext", "deberta_v2", "deit",
    "detr", "dinov2", "distilbert", "efficientnet", "electra", "falcon", "gemma", "gpt2", "gpt_neox",
    "gptj", "llama", "mamba", "mistral", "mixtral", "mobilenet_v2", "mobilevit", "opt", "phi", "qwen2",
    "regnet", "resnet", "roberta", "segformer", "swin", "t5", "vit", "vit_mae", "wav2vec2", "whisper",
    "xlm_roberta",
)

SKIP_DIRS = {"__pycache__"}


@dataclass
class CorpusFile:
    package: str
    path: str
    lines: int


@dataclass
class Corpus:
    profile: str
    roots: Dict[str, str]  # package -> installed directory
    files: List[CorpusFile] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    versions: Dict[str, str] = field(default_factory=dict)

    @property
    def paths(self) -> List[str]:
        return [f.path for f in self.files]

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files)

    def per_package(self) -> Dict[str, Tuple[int, int]]:
        out: Dict[str, Tuple[int, int]] = {}
        for f in self.files:
            n, lines = out.get(f.package, (0, 0))
            out[f.package] = (n + 1, lines + f.lines)
        return out

    def summary(self) -> dict:
        return {
            "profile": self.profile,
            "files": len(self.files),
            "lines": self.lines,
            "packages": {p: {"files": n, "lines": l, "root": self.roots.get(p), "version": self.versions.get(p)}
                         for p, (n, l) in self.per_package().items()},
            "transformers_families": list(TRANSFORMERS_FAMILIES) if self.profile == "bench" else "all",
            "notes": self.notes,
        }

    def table(self) -> str:
        rows = [("package", "files", "lines")]
        for p, (n, l) in self.per_package().items():
            rows.append((p, f"{n:,}", f"{l:,}"))
        rows.append(("total", f"{len(self.files):,}", f"{self.lines:,}"))
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        w2 = max(len(r[2]) for r in rows)
        lines = [f"{a:<{w0}}  {b:>{w1}}  {c:>{w2}}" for a, b, c in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
        return "\n".join(lines)


# --- locating the packages -------------------------------------------------------------------

def _locate_here(packages: Sequence[str]) -> Dict[str, dict]:
    out = {}
    for name in packages:
        spec = importlib.util.find_spec(name)  # a top-level package: found, not imported
        locations = list(spec.submodule_search_locations or []) if spec else []
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = None
        out[name] = {"locations": locations, "version": version}
    return out


def _is_running(python: str) -> bool:
    """Is ``python`` an interpreter of the environment running this script? (A venv's python is a
    symbolic link to the base one, so compare prefixes, not executables.)"""
    venv = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    return os.path.realpath(sys.prefix) == os.path.realpath(venv)


def locate(packages: Sequence[str], python: Optional[str] = None) -> Dict[str, dict]:
    """``{package: {"locations": [...], "version": ...}}`` as the project venv sees them."""
    python = python or (DEFAULT_VENV_PYTHON if os.path.exists(DEFAULT_VENV_PYTHON) else sys.executable)
    if _is_running(python):
        return _locate_here(packages)
    proc = subprocess.run([python, os.path.abspath(__file__), "--_locate", ",".join(packages)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


# --- walking ---------------------------------------------------------------------------------

def _py_files(root: str) -> List[str]:
    found = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIP_DIRS)
        found.extend(os.path.join(directory, n) for n in sorted(names) if n.endswith(".py"))
    return found


def count_lines(path: str) -> int:
    with open(path, "rb") as handle:
        return handle.read().count(b"\n")


def _dirs_for(package: str, root: str, profile: str, notes: List[str]) -> List[str]:
    if profile == "full":
        return [root]
    if package == "keras":
        src = os.path.join(root, "src")
        if os.path.isdir(src):
            return [src]
        notes.append("keras: no src/ directory, took the whole package")
        return [root]
    if package == "transformers":
        models = os.path.join(root, "models")
        dirs = []
        for family in TRANSFORMERS_FAMILIES:
            d = os.path.join(models, family)
            if os.path.isdir(d):
                dirs.append(d)
            else:
                notes.append(f"transformers: family {family!r} not in the installed version, skipped")
        return dirs
    return [root]


def evenly(items: Sequence, n: Optional[int]) -> list:
    """``n`` items spread evenly over ``items`` (deterministic; all packages stay represented)."""
    items = list(items)
    if n is None or n >= len(items):
        return items
    if n <= 0:
        return []
    return [items[(i * len(items)) // n] for i in range(n)]


def build_corpus(profile: str = "bench", packages: Sequence[str] = PACKAGES, limit: Optional[int] = None,
                 python: Optional[str] = None) -> Corpus:
    if profile not in ("bench", "full"):
        raise ValueError(f"unknown profile {profile!r}")
    found = locate(packages, python)
    corpus = Corpus(profile=profile, roots={})
    for package in packages:
        info = found.get(package) or {}
        locations = info.get("locations") or []
        if not locations:
            corpus.notes.append(f"{package}: not installed in the project venv, skipped")
            continue
        root = locations[0]
        corpus.roots[package] = root
        corpus.versions[package] = info.get("version")
        seen = set()
        for d in _dirs_for(package, root, profile, corpus.notes):
            for path in _py_files(d):
                if path not in seen:
                    seen.add(path)
                    corpus.files.append(CorpusFile(package, path, count_lines(path)))
    if limit is not None:
        corpus.files = evenly(corpus.files, limit)
        corpus.notes.append(f"--limit {limit}: {len(corpus.files)} files spread evenly over the corpus")
    return corpus


def write_corpus(corpus: Corpus, out: Optional[str] = None) -> Tuple[str, str]:
    out = out or os.path.join(CORPUS_DIR, f"files-{corpus.profile}.txt")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        handle.writelines(p + "\n" for p in corpus.paths)
    summary_path = os.path.splitext(out)[0] + ".json"
    with open(summary_path, "w", encoding="utf-8") as handle:
        json.dump(corpus.summary(), handle, indent=2)
        handle.write("\n")
    return out, summary_path


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=("bench", "full"), default="bench")
    parser.add_argument("--packages", default=",".join(PACKAGES), help="comma-separated (default: all four)")
    parser.add_argument("--limit", type=int, help="keep N files, spread evenly (quick runs)")
    parser.add_argument("--out", help="file list to write (default: benchmarks/corpus/files-<profile>.txt)")
    parser.add_argument("--python", help="the project venv's Python (default: <repo>/.venv/bin/python)")
    parser.add_argument("--_locate", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._locate is not None:
        print(json.dumps(_locate_here([p for p in args._locate.split(",") if p])))
        return 0
    corpus = build_corpus(args.profile, [p for p in args.packages.split(",") if p], args.limit, args.python)
    out, summary_path = write_corpus(corpus, args.out)
    print(f"corpus profile {corpus.profile!r}")
    print(corpus.table())
    for note in corpus.notes:
        print("note:", note)
    print(f"file list: {out}\nsummary:   {summary_path}")
    return 0 if corpus.files else 1


if __name__ == "__main__":
    sys.exit(main())
