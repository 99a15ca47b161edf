"""No input crashes the engine: generated programs and mutated real model files.

The counts here are bounded for CI (60 examples per strategy, 3 mutants per model file);
`INITLINT_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py` runs a long campaign (5,000 examples per
strategy, EXAMPLES // 20 mutants per file); `--hypothesis-show-statistics` prints the counts.
"""

from __future__ import annotations

import os
import random
import warnings
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import initlint
from initlint import fixer
from initlint.engine import SourceError
from initlint.ftypes import Settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("INITLINT_FUZZ_EXAMPLES", "60"))
EVERYTHING = Settings(extend_select=frozenset({"INI204"}))
MODEL_FILES = sorted((ROOT / "tests" / "fixtures").rglob("*.py")) + sorted((ROOT / "examples").glob("*.py"))
# framework words so that generated code is not skipped by the prefilter
PRELUDE = "import torch\nfrom torch import nn\nimport tensorflow as tf\nimport jax\nfrom flax import linen\n"


def check_never_crashes(source: str) -> None:
    try:
        initlint.check_source(source, "fuzz.py", EVERYTHING)
    except SourceError:
        return
    result = fixer.fix_source(source, "fuzz.py", EVERYTHING, unsafe=True)
    if result.error is None and result.changed:
        cst.parse_module(result.fixed)  # a fix never produces code that does not parse
        with warnings.catch_warnings():  # generated code's SyntaxWarnings are noise here
            warnings.simplefilter("ignore")
            try:
                compile(source, "original.py", "exec")
            except SyntaxError:
                return  # e.g. 'return' outside a function: the fix need not compile what never did
            compile(result.fixed, "fixed.py", "exec")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_generated_programs(source):
    check_never_crashes(PRELUDE + source)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_generated_syntax_trees(source):
    check_never_crashes(PRELUDE + source)


COOKIES = [b"", b"# -*- coding: latin-1 -*-\n", b"# coding: utf-8\n", b"# coding=cp1252\n", b"# coding: utf-16\n",
           b"# coding: utf-8-sig\n", b"# coding: no-such-codec\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf# coding: latin-1\n"]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(COOKIES), st.binary(max_size=400), st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_random_bytes(cookie, data, newline):
    """Bytes, not text: coding cookies (valid, unknown, contradicting a BOM), undecodable bytes,
    NULs, stray line endings: findings or ``SourceError``, nothing else."""
    source = cookie + PRELUDE.encode().replace(b"\n", newline) + data
    try:
        initlint.check_source(source, "fuzz.py", EVERYTHING)
    except SourceError:
        pass


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(MODEL_FILES), st.integers(min_value=0), st.binary(min_size=1, max_size=8),
       st.sampled_from(COOKIES))
def test_bytes_spliced_into_model_files(path, where, data, cookie):
    """A few arbitrary bytes inside a real model file (a comment, a string, a name, a number),
    under a coding cookie or a BOM: findings or ``SourceError``; and --fix of what still parses
    keeps it parsing."""
    original = path.read_bytes()
    where %= len(original) + 1
    source = cookie + original[:where] + data + original[where:]
    try:
        initlint.check_source(source, "fuzz.py", EVERYTHING)
    except SourceError:
        return
    try:
        text = source.decode("utf-8-sig")
    except UnicodeDecodeError:
        return  # --fix reads UTF-8 only
    check_never_crashes(text)


def _mutations(text: str, rng: random.Random, count: int):
    lines = text.splitlines(keepends=True)
    tokens = ["(", ")", "[", "]", ":", ",", "=", "nn.", "self.", "0", "-1", "None", "'relu'", "*", "**", "lambda: ",
              "for x in y: ", "if x: ", "\\", "#", "\"", "'''", "\t", " ", "\n", "@"]
    for _ in range(count):
        mutated = list(lines)
        for _ in range(rng.randint(1, 4)):
            if not mutated:
                break
            i = rng.randrange(len(mutated))
            line = mutated[i]
            choice = rng.random()
            if choice < 0.3:
                del mutated[i]
            elif choice < 0.5:
                mutated.insert(rng.randrange(len(mutated) + 1), mutated[rng.randrange(len(mutated))])
            else:
                j = rng.randrange(len(line) + 1)
                if choice < 0.75:
                    line = line[:j] + rng.choice(tokens) + line[j:]
                else:
                    line = line[:j] + line[j + rng.randint(1, 8):]
                mutated[i] = line
        yield "".join(mutated)


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_mutated_model_files(path):
    rng = random.Random(str(path.name))
    text = path.read_text(encoding="utf-8")
    for source in _mutations(text, rng, max(3, EXAMPLES // 20)):
        check_never_crashes(source)
