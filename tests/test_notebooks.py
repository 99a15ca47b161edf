"""Jupyter notebooks: read as one program (code cells in order), positions per cell, IPython lines
masked, a cell that does not parse reported while the others are checked, a ``.ipynb`` that is not
a notebook reported as an error, and ``--fix``/``--diff`` that change only the cells' source lines.

The fixtures under ``tests/data/notebooks`` are notebooks as Jupyter stores them (nbformat 4.5:
sorted keys, one-space indent, cell ids, outputs with text, streams and a PNG), shaped like the
textbook chapter in the seeds: imports and a ``%matplotlib inline`` in the first cell, the model in
a later one, its init functions later still. A line that must be reported ends with
``# expect: CODE``, as in the ``.py`` fixtures.
"""

from __future__ import annotations

import difflib
import io
import json
import os
import pickle
import re
import shutil
import tokenize
from pathlib import Path
from typing import List, Tuple

import hypothesmith
import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import DATA, EXPECT_RE, run_cli, write
import initlint.engine as engine
from initlint import runner
from initlint.cache import Cache
from initlint.engine import SourceError, check_file
from initlint.formats import CheckResult, format_github, format_json, sarif_document
from initlint.ftypes import Settings
from initlint.noqa import physical_lines
from initlint.ipython_masking import mask_cell
from initlint.notebook import build_program, load_notebook
from initlint.notebook_fix import fix_notebook
from initlint.runner import check_paths

NOTEBOOKS = DATA / "notebooks"
NOT_NOTEBOOKS = NOTEBOOKS / "not_notebooks"
POSITIVE = ["d2l_init_pytorch.ipynb", "d2l_init_mxnet.ipynb", "flax_reused_key.ipynb",
            "keras_shared_initializer.ipynb", "magics_positions.ipynb", "broken_cell.ipynb", "mlp_by_hand.ipynb"]
NEGATIVE = ["d2l_init_pytorch_clean.ipynb", "r_kernel.ipynb", "mlp_by_hand_scaled.ipynb"]
TEXT_RE = re.compile(r"^(?P<path>[^:]+):cell (?P<cell>\d+):(?P<line>\d+):(?P<col>\d+): (?P<code>INI\d{3}) ")


def cells(path: Path) -> list:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def cell_lines(path: Path, cell: int) -> List[str]:
    source = cells(path)[cell - 1]["source"]
    return ("".join(source) if isinstance(source, list) else source).split("\n")


def expected(path: Path) -> List[Tuple[int, int, str]]:
    """``(cell, line, code)`` for every ``# expect:`` comment of the notebook's code cells: real
    comments only (tokenized, IPython lines masked first)."""
    found = []
    for number, cell in enumerate(cells(path), 1):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        masked, _ = mask_cell(source.splitlines(True))
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO("".join(masked)).readline))
        except (tokenize.TokenError, SyntaxError, IndentationError):
            continue  # the broken cell
        for token in tokens:
            match = EXPECT_RE.search(token.string) if token.type == tokenize.COMMENT else None
            if match:
                found.extend((number, token.start[0], code.strip()) for code in match.group(1).split(","))
    return sorted(found)


def report(path) -> object:
    return check_paths([str(path)], Settings(), jobs=1, isolate=False)[0]


# --- what is found ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", POSITIVE + NEGATIVE)
def test_fixture_findings_are_the_expected_ones(name):
    path = NOTEBOOKS / name
    found = report(path)
    assert sorted((f.cell, f.line, f.code) for f in found.findings) == expected(path)
    if name in POSITIVE:
        assert found.findings
    for finding in found.findings:  # each column is where the reported call or name starts
        text = cell_lines(path, finding.cell)[finding.line - 1]
        assert re.match(r"[A-Za-z_]", text[finding.column - 1:]), (finding, text)


def test_names_from_earlier_cells_complete_a_later_cells_bug():
    """The layer is built in one cell, its init function in another: neither cell alone is a bug."""
    nb = NOTEBOOKS / "d2l_init_pytorch.ipynb"
    found = {(f.cell, f.code) for f in report(nb).findings}
    assert (10, "INI201") in found  # Xavier in cell 10 on a Linear of cell 4, followed by the ReLU of cell 4
    alone = "".join(cells(nb)[9]["source"])
    assert engine.check_source("import torch\nfrom torch import nn\n" + alone, "cell.py") == []


def test_the_issue_a_notebook_is_not_passed_unread(tmp_path):
    """Before: "All checks passed" and exit 0 for a notebook with findings (its JSON parses as Python)."""
    shutil.copy(NOTEBOOKS / "d2l_init_pytorch.ipynb", tmp_path / "nb.ipynb")
    result = run_cli("check", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(TEXT_RE.match(line) for line in lines), result.stdout
    assert "nb.ipynb:cell 10:3:9: INI201 " in result.stdout
    assert "Found 4 findings in 1 file (1 file checked)." in result.stderr


def test_directory_walks_check_notebooks_and_skip_jupyters_checkpoints(tmp_path):
    shutil.copy(NOTEBOOKS / "flax_reused_key.ipynb", tmp_path / "nb.ipynb")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    shutil.copy(NOTEBOOKS / "flax_reused_key.ipynb", tmp_path / ".ipynb_checkpoints" / "nb-checkpoint.ipynb")
    write(tmp_path / "notes.json", "{}")
    reports = check_paths([str(tmp_path)], Settings(), jobs=1, isolate=False)
    assert [Path(r.path).name for r in reports] == ["nb.ipynb"]
    assert [f.code for f in reports[0].findings] == ["INI304"]
    assert check_paths([str(tmp_path)], Settings(), jobs=1, isolate=False, exclude=["*.ipynb"]) == []


@pytest.mark.parametrize("name", sorted(p.name for p in NOT_NOTEBOOKS.iterdir()))
def test_a_file_that_is_not_a_notebook_is_an_error_never_passed(name):
    found = check_file(str(NOT_NOTEBOOKS / name))
    assert found.error is not None and found.error.message.startswith("not a notebook: "), found
    assert found.error.cell is None and found.findings == ()


def test_not_notebooks_through_the_cli():
    result = run_cli("check", "--no-cache", "--format", "json", str(NOT_NOTEBOOKS))
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["files_checked"] == 0 and document["findings"] == []
    assert len(document["errors"]) == len(list(NOT_NOTEBOOKS.iterdir()))
    messages = {Path(e["path"]).name: e["message"] for e in document["errors"]}
    assert "nbformat 3" in messages["nbformat3.ipynb"] and "upgrades it" in messages["nbformat3.ipynb"]
    assert messages["empty.ipynb"] == "not a notebook: the file is empty"
    assert messages["python_script.ipynb"].startswith("not a notebook: invalid JSON at line 1, column 1")
    assert messages["no_cells.ipynb"] == 'not a notebook: no "cells" list'


def test_a_cell_that_does_not_parse_is_reported_and_the_others_are_checked():
    path = NOTEBOOKS / "broken_cell.ipynb"
    found = report(path)
    assert [(f.cell, f.line, f.code) for f in found.findings] == [(3, 2, "INI201")]
    assert found.error is not None and found.error.cell == 2
    assert "cell 2, line 1, column 1: syntax error: Missing parentheses in call to 'print'" in found.error.message
    assert "the other cells were checked" in found.error.message
    result = run_cli("check", "--no-cache", "--format", "json", str(path))
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["files_checked"] == 1
    assert [e["cell"] for e in document["errors"]] == [2]
    assert [f["cell"] for f in document["findings"]] == [3]
    text = run_cli("check", "--no-cache", str(path))
    assert "1 notebook with cells that do not parse" in text.stderr
    assert "broken_cell.ipynb:cell 2:1:1: error: a cell does not parse" in text.stderr


def test_two_broken_cells_are_both_named(tmp_path):
    nb = json.loads((NOTEBOOKS / "broken_cell.ipynb").read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "x", "metadata": {}, "outputs": [],
                        "source": ["for i in range(3)\n", "    pass"]})
    found = check_file(str(write(tmp_path / "nb.ipynb", json.dumps(nb, indent=1))))
    assert found.error.cell == 2 and "2 cells do not parse" in found.error.message
    assert "cell 4, line 1" in found.error.message and [f.cell for f in found.findings] == [3]


def test_a_notebook_whose_only_code_cell_does_not_parse(tmp_path):
    text = (NOTEBOOKS / "r_kernel.ipynb").read_text(encoding="utf-8").replace('"R"', '"python"')
    found = check_file(str(write(tmp_path / "nb.ipynb", text)))
    assert found.error.cell == 1 and found.error.message.startswith("its code cell does not parse: cell 1, line 3")


def test_noqa_in_a_cell(tmp_path):
    path = NOTEBOOKS / "magics_positions.ipynb"
    assert (2, 12) not in {(f.cell, f.line) for f in report(path).findings}
    text = path.read_text(encoding="utf-8").replace("  # noqa: INI201", "")
    found = report(write(tmp_path / "nb.ipynb", text)).findings
    assert (2, 12, "INI201") in {(f.cell, f.line, f.code) for f in found}


def test_a_notebook_is_checked_as_the_program_of_its_cells():
    """Each fixture's findings are those of its masked program checked as a .py file, mapped back:
    masking moved nothing."""
    for name in POSITIVE:
        path = NOTEBOOKS / name
        program = build_program(load_notebook(path.read_text(encoding="utf-8")))
        as_python = engine.check_source(program.text, "program.py")
        mapped = [(*program.where[f.line - 1], f.column, f.code, f.message) for f in as_python]
        assert mapped == [(f.cell, f.line, f.column, f.code, f.message) for f in report(path).findings], name


# --- masking ---------------------------------------------------------------------------------------------

MAGIC_LINES = [
    "%matplotlib inline", "%load_ext autoreload", "  %time x = f()", "!pip install torch", "!!ls",
    "files = !ls *.ipynb", "a, b = %sx echo 1", "nn.init?", "nn.init.kaiming_uniform_??", "?nn.init", "??nn.init",
    "%pinfo nn", "/print 1 2", ",print a b", ";print a b", "pip install torch==2.13.0", "conda install -y numpy",
    "matplotlib inline", "load_ext autoreload", "autoreload 2", "cd ..", "pip install -U d2l",
]
PYTHON_LINES = [
    "x = a % b", "ratio = 10 % 3  # why?", 'print("what?")', "pip = 3", "cd = 'x'", "time.sleep(1)",
    "pip.main(['install', 'x'])", "d = {'k': 1}  # ok?", "matplotlib.use('Agg')", "run(x)", "env['A'] = '1'",
    "x = 3 if time else 4", "timeit(lambda: 1)", "get_ipython().system('ls')", "x != y", "cd -1", "cd -x",
    "run -x", "env .keys()",
    "cd /tmp",  # IPython's automagic if no variable cd exists, but Python too (cd / tmp): left as Python, harmless
]


@pytest.mark.parametrize("line", MAGIC_LINES)
def test_ipython_lines_are_masked_in_place(line):
    indent = line[:len(line) - len(line.lstrip())]
    masked, flags = mask_cell([line + "\n", indent + "x = 1\n"])
    assert flags == [True, False]
    assert masked[0] == indent + "pass\n"
    assert masked[1] == indent + "x = 1\n"
    compile(("if x:\n" if line[0] == " " else "") + "".join(masked), "cell", "exec")


@pytest.mark.parametrize("line", PYTHON_LINES)
def test_python_lines_are_left_alone(line):
    masked, flags = mask_cell([line + "\n"])
    assert flags == [False] and masked == [line + "\n"]


def test_crlf_cells_are_masked_alike():
    masked, flags = mask_cell(["net?\r\n", "%time f()\r\n", "x = 1\r\n"])
    assert masked == ["pass\r\n", "pass\r\n", "x = 1\r\n"] and flags == [True, True, False]


def test_magic_look_alikes_inside_strings_and_brackets_are_python():
    cell = ['notes = """\n', "%matplotlib inline\n", "!pip install x\n", "why?\n", '"""\n',
            "xs = [\n", "    1,\n", "]\n", "x = (1 +\n", "     2)  # really?\n", "y = 1 + \\\n", "    2\n"]
    masked, flags = mask_cell(cell)
    assert masked == cell and not any(flags)


def test_cell_magics_python_bodies_stay_other_bodies_go():
    body = ["net = f()\n", "nn.init.xavier_uniform_(net.weight)\n"]
    for magic in ("%%time", "%%timeit -n 3", "%%capture out"):
        masked, flags = mask_cell([magic + "\n", *body])
        assert masked == ["\n", *body] and flags == [True, False, False]
    for magic in ("%%bash", "%%writefile model.py", "%%html", "%%javascript", "%%python3", "%%capture_unknown_ext"):
        masked, flags = mask_cell([magic + "\n", *body])
        assert all(flags) and "".join(masked).strip() == "", magic


def test_a_magic_in_a_block_keeps_the_block_valid_and_a_continued_magic_is_masked_whole():
    masked, flags = mask_cell(["for p in ps:\n", "    !echo {p} \\\n", "       more\n", "x = 1\n"])
    assert masked == ["for p in ps:\n", "    pass\n", "\n", "x = 1\n"] and flags == [False, True, True, False]
    compile("".join(masked), "cell", "exec")


EXAMPLES = int(os.environ.get("INITLINT_FUZZ_EXAMPLES", "60"))


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles what it generates
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_python_is_never_masked(source):
    """Whatever CPython parses is Python in a cell too: masking touches only what it cannot parse."""
    lines = physical_lines(source)
    masked, flags = mask_cell(lines)
    assert masked == lines and not any(flags)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(alphabet="%!?;,/ \t\\'\"#()[]{}=xyzpi0123:.\r", max_size=30), max_size=8))
def test_masking_never_moves_a_line(lines):
    lines = [line + "\n" for line in lines]
    masked, flags = mask_cell(lines)
    assert len(masked) == len(lines) == len(flags)
    for before, after, flag in zip(lines, masked, flags):
        assert after == before if not flag else after.strip() in ("", "pass")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(alphabet="%!?;,/ \t\\'\"#()=xpi0:.\r", max_size=20).map(lambda line: line + "\n")
                | st.sampled_from(MAGIC_LINES + PYTHON_LINES).map(lambda line: line + "\r\n"), max_size=6))
def test_the_shortcut_for_cells_without_ipython_changes_nothing(lines):
    """``_CANDIDATE`` lets most cells skip the line-by-line masking: it must match every cell that
    the masking would change."""
    import initlint.ipython_masking as masking

    quick = mask_cell(lines)
    saved = masking._CANDIDATE
    masking._CANDIDATE = re.compile("")  # matches every cell: always the full masking
    try:
        assert mask_cell(lines) == quick
    finally:
        masking._CANDIDATE = saved


# --- output formats -----------------------------------------------------------------------------------

def _result(*names: str) -> CheckResult:
    return CheckResult(check_paths([str(NOTEBOOKS / n) for n in names], Settings(), jobs=1, isolate=False))


def test_json_adds_the_cell_and_python_files_keep_their_fields(tmp_path):
    py = write(tmp_path / "m.py", "from torch import nn\nnet = nn.Sequential(nn.Linear(4, 8), nn.ReLU())\n"
                                  "nn.init.xavier_uniform_(net[0].weight)\n")
    document = json.loads(format_json(CheckResult(check_paths([str(py), str(NOTEBOOKS / "flax_reused_key.ipynb")],
                                                              Settings(), jobs=1, isolate=False))))
    by_kind = {Path(f["path"]).suffix: f for f in document["findings"]}
    assert "cell" not in by_kind[".py"] and by_kind[".ipynb"]["cell"] == 5
    assert set(by_kind[".ipynb"]) == set(by_kind[".py"]) | {"cell"}


def _file_text_at(path: Path, line: int, column: int) -> str:
    return path.read_text(encoding="utf-8").split("\n")[line - 1][column - 1:]


def test_sarif_and_github_point_into_the_notebook_file_where_the_code_is():
    from test_formats import validate

    names = ["d2l_init_pytorch.ipynb", "keras_shared_initializer.ipynb", "broken_cell.ipynb"]
    result = _result(*names)
    document = sarif_document(result)
    validate(document)
    results = document["runs"][0]["results"]
    github = [line for line in format_github(result).splitlines() if line.startswith("::warning")]
    assert len(results) == len(result.findings) == len(github) == 6
    for finding, entry, command in zip(result.findings, results, github):
        region = entry["locations"][0]["physicalLocation"]["region"]
        code = cell_lines(Path(finding.path), finding.cell)[finding.line - 1][finding.column - 1:]
        # the notebook's own text at that place is the JSON string of the code from that column on
        stored = _file_text_at(Path(finding.path), region["startLine"], region["startColumn"])
        assert stored.startswith(json.dumps(code)[1:-1].split("\\n")[0][:20]), (stored, code)
        assert entry["properties"]["cell"] == finding.cell and entry["properties"]["cellLine"] == finding.line
        assert f"line={region['startLine']},col={region['startColumn']}," in command
        assert f"(cell {finding.cell}%2C line {finding.line})" in command
    error_line = [line for line in format_github(result).splitlines() if line.startswith("::error")]
    assert len(error_line) == 1 and "title=initlint%3A cell 2 not checked::" in error_line[0]
    where = re.search(r"line=(\d+),col=(\d+)", error_line[0])  # the broken cell's line in the stored file
    stored = _file_text_at(NOTEBOOKS / "broken_cell.ipynb", int(where[1]), int(where[2]))
    assert stored.startswith('print \\"weights initialised\\"'), stored
    notification = document["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert "cell 2, line 1" in notification["message"]["text"]


def test_sarif_fingerprints_follow_the_cells_line_not_its_place(tmp_path, monkeypatch):
    nb = json.loads((NOTEBOOKS / "flax_reused_key.ipynb").read_text(encoding="utf-8"))
    write(tmp_path / "a" / "nb.ipynb", json.dumps(nb, indent=1))
    nb["cells"].insert(1, {"cell_type": "markdown", "id": "new", "metadata": {}, "source": ["More text\n", "here"]})
    write(tmp_path / "b" / "nb.ipynb", json.dumps(nb, indent=1))

    def run(folder):
        monkeypatch.chdir(tmp_path / folder)
        results = sarif_document(CheckResult(check_paths(["nb.ipynb"], Settings(), jobs=1, isolate=False)))
        return [(r["partialFingerprints"], r["properties"]["cell"]) for r in results["runs"][0]["results"]]

    (before, cell_before), = run("a")
    (after, cell_after), = run("b")
    assert before == after and cell_after == cell_before + 1


def test_github_and_sarif_through_the_cli(tmp_path):
    shutil.copy(NOTEBOOKS / "flax_reused_key.ipynb", tmp_path / "nb.ipynb")
    github = run_cli("check", "--no-cache", "--format", "github", "nb.ipynb", cwd=tmp_path)
    assert github.returncode == 1 and github.stderr == ""
    line = (tmp_path / "nb.ipynb").read_text(encoding="utf-8").split("\n").index(
        '    "W2 = jax.random.normal(key, (256, 10)) * jnp.sqrt(2 / 256)  # expect: INI304"') + 1
    assert github.stdout.startswith(f"::warning file=nb.ipynb,line={line},col=11,")


# --- the cache ------------------------------------------------------------------------------------------

def test_the_cache_keeps_cells_and_the_broken_cell(tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    shutil.copytree(NOTEBOOKS, tree)
    reference = check_paths([str(tree)], Settings(), jobs=1, isolate=False)
    directory = str(tmp_path / "cache")
    cold = check_paths([str(tree)], Settings(), jobs=1, isolate=False, cache=Cache.open(directory, Settings()))

    def no_checking(*args, **kwargs):
        raise AssertionError("a cached notebook was checked again")

    monkeypatch.setattr(engine, "check_source", no_checking)
    warm = check_paths([str(tree)], Settings(), jobs=1, isolate=False, cache=Cache.open(directory, Settings()))
    assert cold == reference and warm == reference
    broken = next(r for r in warm if r.path.endswith("broken_cell.ipynb"))
    assert broken.error.cell == 2 and [f.cell for f in broken.findings] == [3]


def test_the_same_bytes_as_python_and_as_a_notebook_are_two_entries(tmp_path):
    data = (NOTEBOOKS / "flax_reused_key.ipynb").read_bytes()
    cache = Cache.open(str(tmp_path / "cache"), Settings())
    assert cache.key(data, str(tmp_path / "nb.ipynb")) != cache.key(data, str(tmp_path / "nb.py"))


# --- --fix and --diff ---------------------------------------------------------------------------------

def _changed_lines(before: str, after: str) -> List[str]:
    return [line for line in difflib.ndiff(before.splitlines(True), after.splitlines(True)) if line[:1] in "-+"]


def test_fix_changes_only_the_fixed_source_lines(tmp_path):
    path = tmp_path / "nb.ipynb"
    shutil.copy(NOTEBOOKS / "d2l_init_pytorch.ipynb", path)
    before = path.read_text(encoding="utf-8")
    # INI503's and INI201's fixes change which layers are initialised, or how: "unsafe"
    result = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1  # the findings without a fix remain
    after = path.read_text(encoding="utf-8")
    assert _changed_lines(before, after) == [
        '-     "    if type(module) == nn.Linear:  # expect: INI503\\n",\n',
        '+     "    if isinstance(module, nn.Linear):  # expect: INI503\\n",\n',
        '-     "        nn.init.xavier_uniform_(module.weight)  # expect: INI201\\n",\n',
        "+     \"        nn.init.kaiming_uniform_(module.weight, nonlinearity='relu')  # expect: INI201\\n\",\n",
    ]
    assert "INI503" not in result.stdout and "INI201" not in result.stdout
    assert "Fixed 2 findings in 1 file." in result.stderr
    again = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "nb.ipynb", cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == after and "Fixed 0 findings" in again.stderr


def test_diff_shows_the_cells_and_writes_nothing(tmp_path):
    path = tmp_path / "nb.ipynb"
    shutil.copy(NOTEBOOKS / "d2l_init_pytorch.ipynb", path)
    before = path.read_bytes()
    result = run_cli("check", "--no-cache", "--diff", "--unsafe-fixes", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1 and path.read_bytes() == before
    assert result.stdout.startswith("--- nb.ipynb:cell 6\n+++ nb.ipynb:cell 6\n@@ ")
    assert "-    if type(module) == nn.Linear:  # expect: INI503\n" in result.stdout
    assert "+    if isinstance(module, nn.Linear):  # expect: INI503\n" in result.stdout


def _notebook_text(cells_sources, indent=1, sort_keys=True, newline="\n", ensure_ascii=False, as_string=False):
    document = {
        "nbformat_minor": 5, "nbformat": 4,
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        "cells": [
            {"source": source if as_string else [line for line in re.split(r"(?<=\n)", source) if line],
             "outputs": [{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}], "metadata": {"tags": ["t"]},
             "id": f"id{i}", "execution_count": i, "cell_type": "code"}
            for i, source in enumerate(cells_sources, 1)
        ],
    }
    text = json.dumps(document, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii)
    return text.replace("\n", newline)


FIXABLE = [
    "%matplotlib inline\nimport torch\nfrom torch import nn",
    "net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))  # σ² = 2/fan_in",
    "def init(m):\n    !echo init\n    if type(m) == nn.Linear:  # he: σ = √(2/n)\n        nn.init.zeros_(m.bias)\n"
    "\nnet.apply(init)",
]


@pytest.mark.parametrize("layout", [
    dict(),
    dict(indent=2, sort_keys=False, newline="\r\n"),
    dict(indent=None, ensure_ascii=True),
    dict(as_string=True, indent=4),
], ids=["nbformat", "crlf-indent2-unsorted", "one-line-ascii-escapes", "string-sources"])
def test_fix_keeps_every_other_byte_whatever_the_layout(tmp_path, layout):
    text = _notebook_text(FIXABLE, **layout)
    path = tmp_path / "nb.ipynb"
    path.write_bytes(text.encode("utf-8"))
    result = fix_notebook(text, str(path), Settings(), unsafe=True)
    assert result.error is None and [f.code for f in result.applied] == ["INI503"]
    assert [(f.cell, f.line) for f in result.applied] == [(3, 3)]
    expected_text = _notebook_text([FIXABLE[0], FIXABLE[1], FIXABLE[2].replace(
        "if type(m) == nn.Linear:", "if isinstance(m, nn.Linear):")], **layout)
    assert result.fixed == expected_text
    assert fix_notebook(result.fixed, str(path), Settings(), unsafe=True).fixed == result.fixed  # idempotent


def test_a_fix_that_adds_an_import_line_puts_it_in_the_import_cell(tmp_path):
    sources = ["import torch\nfrom torch import nn",
               "net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))",
               "%time _ = net(torch.rand(2, 4))\nfrom torch.nn.init import xavier_uniform_\n"
               "xavier_uniform_(net[0].weight)"]
    text = _notebook_text(sources)
    result = fix_notebook(text, str(tmp_path / "nb.ipynb"), Settings(), unsafe=True)
    assert result.error is None and [f.code for f in result.applied] == ["INI201"]
    fixed = [("".join(c["source"])) for c in json.loads(result.fixed)["cells"]]
    assert fixed == ["import torch\nfrom torch import nn\nfrom torch.nn.init import kaiming_uniform_",
                     sources[1],
                     "%time _ = net(torch.rand(2, 4))\nfrom torch.nn.init import xavier_uniform_\n"
                     "kaiming_uniform_(net[0].weight, nonlinearity='relu')"]
    assert json.loads(result.fixed)["cells"][0]["source"] == [
        "import torch\n", "from torch import nn\n", "from torch.nn.init import kaiming_uniform_"]
    assert result.diff().startswith("--- nb.ipynb:cell 1\n".replace("nb.ipynb", str(tmp_path / "nb.ipynb")))
    pickle.loads(pickle.dumps(result))  # results travel back from worker processes


def test_fix_leaves_a_broken_cell_and_a_non_notebook_alone(tmp_path):
    nb = json.loads((NOTEBOOKS / "broken_cell.ipynb").read_text(encoding="utf-8"))
    nb["cells"][2]["source"] = ["def init(m):\n", "    if type(m) == nn.Linear:\n", "        nn.init.zeros_(m.bias)"]
    text = json.dumps(nb, indent=1)
    result = fix_notebook(text, "nb.ipynb", Settings(), unsafe=True)
    assert result.error is None and result.changed
    after = json.loads(result.fixed)["cells"]
    assert after[1] == nb["cells"][1] and after[2]["source"][1] == "    if isinstance(m, nn.Linear):\n"
    not_one = (NOT_NOTEBOOKS / "python_script.ipynb").read_text(encoding="utf-8")
    refused = fix_notebook(not_one, "x.ipynb", Settings())
    assert refused.fixed == not_one and refused.error.startswith("not a notebook") and refused.error_is_the_checks


def test_fix_with_workers_writes_notebooks_as_one_job_does(tmp_path, monkeypatch):
    for i in range(4):
        shutil.copy(NOTEBOOKS / "d2l_init_pytorch.ipynb", tmp_path / f"nb{i}.ipynb")
    monkeypatch.setattr(runner, "MIN_FILES_PER_JOB", 1)
    files, _ = runner.discover([str(tmp_path)])
    results = runner.fix_paths(files, Settings(), unsafe=True, jobs=2)
    assert all(r.error is None and sorted(f.code for f in r.applied) == ["INI201", "INI503"] for r in results)
    texts = {(tmp_path / f"nb{i}.ipynb").read_text(encoding="utf-8") for i in range(4)}
    assert len(texts) == 1 and "isinstance(module, nn.Linear)" in texts.pop()


def test_check_notebook_raises_source_error_for_the_engine_to_report():
    from initlint.notebook import check_notebook

    with pytest.raises(SourceError, match="not UTF-8"):
        check_notebook(b'{"cells": [], "nbformat": 4, "x": "\xff"}', "nb.ipynb")
    empty = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    nothing = check_notebook(empty, "nb.ipynb")  # a notebook with no cells is a notebook: nothing to report
    assert nothing.findings == () and nothing.error is None


def test_a_notebook_on_stdin_with_its_file_name(tmp_path):
    """Editors pipe the buffer: ``initlint check - --stdin-filename nb.ipynb`` reads it as a notebook,
    and ``--fix`` prints the notebook with only the fixed cell lines changed."""
    text = (NOTEBOOKS / "d2l_init_pytorch.ipynb").read_text(encoding="utf-8")
    checked = run_cli("check", "--no-cache", "-", "--stdin-filename", "nb.ipynb", input=text, cwd=tmp_path)
    assert checked.returncode == 1 and "nb.ipynb:cell 10:3:9: INI201 " in checked.stdout, checked.stderr
    fixed = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "-", "--stdin-filename", "nb.ipynb",
                    input=text, cwd=tmp_path)
    assert len(_changed_lines(text, fixed.stdout)) == 4 and json.loads(fixed.stdout)["metadata"]
    as_python = run_cli("check", "--no-cache", "-", "--stdin-filename", "nb.py", input=text, cwd=tmp_path)
    assert as_python.returncode == 0  # the JSON read as Python: what the .ipynb name changes


@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_file_positions_count_escapes_and_code_points(ensure_ascii):
    """SARIF's columns are code points of the stored text: an escaped character (\\u03c3, \\", \\t)
    is several of them, a non-BMP character one."""
    from initlint.notebook_text import NotebookFile

    source = 'a = "σ\\t\\"😀"; nn.init.zeros_(w)\nb = 2'
    text = _notebook_text([source], ensure_ascii=ensure_ascii)
    stored = NotebookFile(text)
    column = source.index("nn.init") + 1
    line, col = stored.file_position(1, 1, column)
    assert text.split("\n")[line - 1][col - 1:].startswith("nn.init.zeros_(w)")
    line, col = stored.file_position(1, 2, 1)
    assert text.split("\n")[line - 1][col - 1:].startswith("b = 2")
    assert stored.cell_line(1, 2) == "b = 2" and stored.cell_line(2, 1) == ""


CELL_TEXT = st.text(alphabet="xyzabn().[]{}:=+-*/%!?#'\"\\\n \tσ01", max_size=60)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(CELL_TEXT, st.sampled_from(FIXABLE)), min_size=1, max_size=5),
       st.sampled_from([dict(), dict(indent=2, newline="\r\n"), dict(as_string=True)]))
def test_any_cells_never_crash_the_check_or_the_fix(tmp_path_factory, sources, layout):
    text = _notebook_text(sources, **layout)
    path = tmp_path_factory.mktemp("nb") / "nb.ipynb"
    path.write_bytes(text.encode("utf-8"))
    found = check_file(str(path))
    assert found.error is None or found.error.cell is not None, found.error
    assert all(0 < f.cell <= len(sources) for f in found.findings)
    result = fix_notebook(text, str(path), Settings(), unsafe=True)
    if result.changed:
        before, after = json.loads(text), json.loads(result.fixed)
        for cell in after["cells"]:
            cell["source"] = None
        for cell in before["cells"]:
            cell["source"] = None
        assert before == after  # only sources changed


def test_show_source_and_colour_name_the_cell_and_show_its_line(tmp_path):
    shutil.copy(NOTEBOOKS / "flax_reused_key.ipynb", tmp_path / "nb.ipynb")
    shown = run_cli("check", "--no-cache", "--show-source", "--color", "always", "nb.ipynb", cwd=tmp_path)
    lines = shown.stdout.splitlines()
    assert "nb.ipynb\x1b[0m:cell 5:3:6:" in lines[0], lines
    assert lines[1] == "W2 = jax.random.normal(key, (256, 10)) * jnp.sqrt(2 / 256)  # expect: INI304"
    assert lines[2] == " " * 5 + "^"


def test_a_program_the_engine_cannot_take_is_reported_by_cell(tmp_path):
    """CPython parses it, libcst's parser could not (an `and` chain of 5,000 terms): the error names
    the cell and its line, not the line of the joined program."""
    chain = " and ".join(["x"] * 5000)
    text = _notebook_text(["from torch import nn\nnet = nn.Sequential(nn.Linear(4, 8), nn.ReLU())\n"
                           "nn.init.xavier_uniform_(net[0].weight)", f"y = ({chain})"])
    found = check_file(str(write(tmp_path / "nb.ipynb", text)))
    assert found.error is not None and found.error.cell is None and found.findings == ()
    assert found.error.message.startswith("cell 2, line 1, column "), found.error.message
    assert "line 4" not in found.error.message and "an `and` chain of 5,000 terms" in found.error.message
