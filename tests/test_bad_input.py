"""Whatever it is given, ``initlint check`` reports and goes on: never a traceback, never a hang,
never importing or running what it reads. A file that cannot be checked is an entry in ``errors``
(and exit 1); the other files are still checked."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, expected_findings, run_cli, write
from initlint import runner
from initlint.ftypes import FileReport, Settings

BAD_SOURCE = (DATA / "cli" / "bad.py").read_text(encoding="utf-8")


def check_json(*paths, cwd=None, extra=()):
    result = run_cli("check", "--format", "json", *extra, *map(str, paths), cwd=cwd, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def errors_by_path(document):
    return {Path(e["path"]).name: e["message"] for e in document["errors"]}


def assert_bad_file_still_checked(document, bad: Path):
    got = sorted((f["line"], f["code"]) for f in document["findings"] if f["path"] == str(bad))
    assert got == expected_findings(bad)


@pytest.mark.parametrize("name, content, complaint", [
    ("syntax.py", b"import torch\ndef f(:\n", "syntax error"),
    ("syntax_no_framework.py", b"x = 1\ndef f(:\n", "syntax error"),
    ("latin1_no_cookie.py", b"import torch\ns = '\xe9t\xe9'\n", "decode"),
    ("latin1_no_cookie_no_framework.py", b"s = '\xe9t\xe9'\n", "utf-8"),
    ("nul.py", b"import torch\nx = 1\x00\n", ""),
    ("bad_cookie.py", b"# -*- coding: no-such-codec -*-\nimport torch\n", "no-such-codec"),
    ("deep.py", b"import torch\nx = " + b"(" * 5000 + b")" * 5000 + b"\n", ""),
])
def test_unparseable_file_is_an_error_entry(tmp_path, name, content, complaint):
    broken = tmp_path / name
    broken.write_bytes(content)
    bad = write(tmp_path / "z_bad.py", BAD_SOURCE)
    code, document = check_json(broken, bad)
    assert code == 1
    assert list(errors_by_path(document)) == [name]
    assert complaint in errors_by_path(document)[name]
    assert document["files_checked"] == 1
    assert_bad_file_still_checked(document, bad)


def test_text_format_prints_errors_on_stderr(tmp_path):
    broken = write(tmp_path / "broken.py", "import torch\ndef f(:\n")
    clean = write(tmp_path / "clean.py", "x = 1\n")
    result = run_cli("check", str(broken), str(clean))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{broken}:2:7: error: syntax error")
    assert "1 file could not be checked" in lines[-1] and "1 file checked" in lines[-1]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name, content", [
    ("latin1_with_cookie.py", b"# -*- coding: latin-1 -*-\nimport torch.nn as nn\ns = '\xe9t\xe9'\n"),
    ("empty.py", b""),
    ("only_comment.py", b"# nothing here\n"),
    ("bom.py", b"\xef\xbb\xbfimport torch.nn as nn\nlayer = nn.Linear(4, 4)\n"),
    ("crlf.py", b"import torch.nn as nn\r\nlayer = nn.Linear(4, 4)\r\n"),
    ("no_final_newline.py", b"import torch.nn as nn\nlayer = nn.Linear(4, 4)"),
    ("tabs.py", b"import torch.nn as nn\nif True:\n\tlayer = nn.Linear(4, 4)\n"),
])
def test_unusual_but_valid_files_are_checked(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    code, document = check_json(tmp_path / name)
    assert (code, document["errors"], document["files_checked"]) == (0, [], 1)


@pytest.mark.parametrize("transform", ["bom", "crlf", "cr", "latin1-cookie"])
def test_encodings_and_line_endings_keep_positions(tmp_path, transform):
    """The same findings, at the same lines and columns, whatever the encoding or line endings."""
    plain = write(tmp_path / "plain" / "bad.py", BAD_SOURCE)
    text = BAD_SOURCE
    if transform == "bom":
        data = b"\xef\xbb\xbf" + text.encode()
    elif transform == "crlf":
        data = text.replace("\n", "\r\n").encode()
    elif transform == "cr":
        data = text.replace("\n", "\r").encode()
    else:
        data = ("# -*- coding: latin-1 -*-\n" + text).encode("latin-1")
    other = tmp_path / "other" / "bad.py"
    other.parent.mkdir()
    other.write_bytes(data)
    _, want = check_json(plain)
    _, got = check_json(other)
    shift = 1 if transform == "latin1-cookie" else 0
    assert got["errors"] == []
    assert [(f["line"] - shift, f["column"], f["code"]) for f in got["findings"]] == \
           [(f["line"], f["column"], f["code"]) for f in want["findings"]]


def test_unreadable_paths(tmp_path):
    """Root reads any file whatever its mode, so unreadable files are made otherwise: a dangling
    symbolic link, a FIFO (opening one would block for ever), a path that does not exist."""
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "package.py").mkdir()  # a directory named like a module: walked, not read
    write(tmp_path / "package.py" / "inner.py", "x = 1\n")
    bad = write(tmp_path / "z_bad.py", BAD_SOURCE)
    code, document = check_json(tmp_path, tmp_path / "missing.py")
    assert code == 1
    errors = errors_by_path(document)
    assert set(errors) == {"dangling.py", "fifo.py", "missing.py"}
    assert "No such file" in errors["dangling.py"] and "regular file" in errors["fifo.py"]
    assert document["files_checked"] == 2  # inner.py, z_bad.py
    assert_bad_file_still_checked(document, bad)
    # named explicitly, the FIFO must not block either
    code, document = check_json(tmp_path / "fifo.py")
    assert code == 1 and list(errors_by_path(document)) == ["fifo.py"]


def test_symlink_loop_does_not_hang(tmp_path):
    write(tmp_path / "pkg" / "a.py", BAD_SOURCE)
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path / "pkg", target_is_directory=True)
    (tmp_path / "pkg" / "self.py").symlink_to(tmp_path / "pkg" / "self.py")
    started = time.monotonic()
    code, document = check_json(tmp_path)
    assert time.monotonic() - started < 60
    assert code == 1
    assert [Path(f["path"]).name for f in document["findings"]] == ["a.py"] * len(expected_findings(tmp_path / "pkg" / "a.py"))
    assert list(errors_by_path(document)) == ["self.py"]


def test_many_small_files_in_bounded_time(tmp_path):
    for index in range(3000):
        if index % 3 == 0:
            content = f"import torch.nn as nn\nlayer{index} = nn.Linear({index % 7 + 1}, 4)\n"
        elif index % 3 == 1:
            content = f"VALUE = {index}\n"
        else:
            content = f"def f{index}(x):\n    return x + {index}\n"
        write(tmp_path / f"d{index % 30:02d}" / f"m{index:04d}.py", content)
    write(tmp_path / "d00" / "zz_bad.py", BAD_SOURCE)
    write(tmp_path / "d00" / "zz_broken.py", "import torch\ndef f(:\n")
    started = time.monotonic()
    code, document = check_json(tmp_path, extra=("--jobs", "2"))
    elapsed = time.monotonic() - started
    assert code == 1
    assert document["files_checked"] == 3001
    assert list(errors_by_path(document)) == ["zz_broken.py"]
    assert_bad_file_still_checked(document, tmp_path / "d00" / "zz_bad.py")
    assert elapsed < 120, f"3,000 small files took {elapsed:.0f} s"


def test_check_never_imports_or_runs_what_it_reads(tmp_path):
    marker = tmp_path / "marker"
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    write(tmp_path / "evil.py",
          "import torch\nimport sidecar\n" + payload + BAD_SOURCE + "if __name__ == '__main__':\n    " + payload)
    write(tmp_path / "sidecar.py", payload)
    write(tmp_path / "conftest.py", payload)
    write(tmp_path / "__init__.py", payload)
    write(tmp_path / "setup.py", payload)
    write(tmp_path / "pyproject.toml", "[tool.initlint]\n")
    code, document = check_json(".", cwd=tmp_path)
    assert code == 1 and document["findings"]
    assert not marker.exists()


def test_check_source_api_rejects_garbage_cleanly():
    import initlint

    assert initlint.check_source("") == []
    with pytest.raises(initlint.SourceError):
        initlint.check_source("import torch\ndef f(:\n")
    with pytest.raises(initlint.SourceError):
        initlint.check_source(b"import torch\n\xff\xfe\n")


# --- the runner's own guarantees, in process ---------------------------------------------------

def _crash_on_some_files(path, settings=None):
    if os.path.basename(path).startswith("crash"):
        os._exit(3)  # a worker dying outright (segfault, OOM kill), not an exception
    return FileReport(path)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="the crash is injected by patching the module the workers fork from")
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # another test may have started JAX's threads
def test_a_dying_worker_loses_only_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "START_METHOD", "fork")
    for index in range(40):
        write(tmp_path / f"ok{index:02d}.py", "x = 1\n")
    write(tmp_path / "crash1.py", "x = 1\n")
    write(tmp_path / "crash2.py", "x = 1\n")
    monkeypatch.setattr(runner, "check_file", _crash_on_some_files)
    reports = runner.check_paths([str(tmp_path)], Settings(), jobs=2)
    assert [Path(r.path).name for r in reports] == sorted(p.name for p in tmp_path.iterdir())
    failed = {Path(r.path).name: r.error.message for r in reports if r.error}
    assert set(failed) == {"crash1.py", "crash2.py"}
    assert all("died" in message for message in failed.values())


def test_discover_skips_tool_directories_and_excludes(tmp_path):
    for directory in (".git", ".venv", "venv", "__pycache__", ".tox", "node_modules", "build", "dist",
                      ".initlint_cache", "src/x.egg-info", "src/generated"):
        write(tmp_path / directory / "m.py", "x = 1\n")
    write(tmp_path / "src" / "model.py", "x = 1\n")
    write(tmp_path / "src" / "model_pb2.py", "x = 1\n")
    write(tmp_path / "src" / "notes.txt", "x = 1\n")
    write(tmp_path / "script", "x = 1\n")
    files, errors = runner.discover([str(tmp_path), str(tmp_path / "script"), str(tmp_path / "nope")],
                                    exclude=["*_pb2.py", "src/generated"])
    assert [os.path.relpath(f, tmp_path) for f in files] == ["script", "src/model.py"]
    assert [Path(e.path).name for e in errors] == ["nope"]
    # a directory named explicitly is walked even if it is one usually skipped
    assert runner.discover([str(tmp_path / "build")])[0] == [str(tmp_path / "build" / "m.py")]


# --- hostile inputs, continued (issue 6) -----------------------------------------------------------

MEASURE = """
import resource, subprocess, sys
result = subprocess.run(sys.argv[2:], capture_output=True, text=True)
sys.stdout.write(result.stdout)
sys.stderr.write(result.stderr)
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(result.returncode)
"""


def test_a_20_mb_file_is_reported_without_being_read(tmp_path):
    """20 MB of model code would take libcst ~18 GB and half an hour: it is an error entry with
    its size, checked in seconds and in bounded memory (peak RSS of every process measured)."""
    from initlint.engine import MAX_FILE_BYTES

    huge = tmp_path / "huge.py"
    block = BAD_SOURCE.split('"""', 2)[2]  # the model code without its docstring
    with open(huge, "w", encoding="utf-8") as handle:
        handle.write("import torch\n")
        while handle.tell() < 20 * 10**6:
            handle.write(block)
    assert huge.stat().st_size > MAX_FILE_BYTES
    bad = write(tmp_path / "z_bad.py", BAD_SOURCE)
    measure = write(tmp_path / "measure.py", MEASURE)
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(measure), str(tmp_path / "rss"), sys.executable, "-m", "initlint",
                             "check", "--format", "json", str(tmp_path)], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert "Traceback" not in result.stderr and result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    errors = errors_by_path(document)
    assert list(errors) == ["huge.py"]
    assert errors["huge.py"].startswith("too large to check: 19.1 MiB (the limit is 4 MiB)")
    assert document["files_checked"] == 2  # z_bad.py and measure.py
    assert_bad_file_still_checked(document, bad)
    peak_mb = int((tmp_path / "rss").read_text()) / 1024
    assert peak_mb < 512, f"peak RSS {peak_mb:.0f} MB"
    assert elapsed < 120, f"{elapsed:.0f} s"


def _mixed_line_endings(text: str) -> bytes:
    """CRLF, LF and CR in turn (a CR never directly before an empty line's LF, which would make
    the two one line ending)."""
    lines = text.split("\n")
    out = []
    for index, line in enumerate(lines[:-1]):
        ending = ("\r\n", "\n", "\r")[index % 3]
        if ending == "\r" and lines[index + 1] == "":
            ending = "\r\n"
        out.append(line + ending)
    return "".join(out).encode("utf-8")


def test_mixed_line_endings_in_one_file_keep_positions_and_fixes_keep_them(tmp_path):
    import re

    from initlint import fixer

    data = _mixed_line_endings(BAD_SOURCE)
    assert data.count(b"\r\n") and data.replace(b"\r\n", b"").count(b"\r") and data.replace(b"\r\n", b"").count(b"\n")
    plain = write(tmp_path / "plain" / "bad.py", BAD_SOURCE)
    mixed = tmp_path / "mixed" / "bad.py"
    mixed.parent.mkdir()
    mixed.write_bytes(data)
    _, want = check_json(plain)
    _, got = check_json(mixed)
    assert got["errors"] == [] and got["files_checked"] == 1
    assert [(f["line"], f["column"], f["end_line"], f["end_column"], f["code"]) for f in got["findings"]] == \
           [(f["line"], f["column"], f["end_line"], f["end_column"], f["code"]) for f in want["findings"]]
    # --fix changes the fixed calls only: every line keeps its own ending
    result = fixer.fix_file(str(mixed), unsafe=True)
    assert result.error is None and result.changed
    endings = re.compile(rb"\r\n|\r|\n")
    assert endings.findall(mixed.read_bytes()) == endings.findall(data)


PYTHON2 = [
    ("print_statement", 'print "hello"', 3, "Missing parentheses in call to 'print'"),
    ("exec_statement", 'exec "x = 1"', 3, "Missing parentheses in call to 'exec'"),
    ("except_comma", "try:\n    pass\nexcept ValueError, e:\n    pass", 5, "multiple exception types"),
    ("raise_comma", "raise ValueError, 'bad'", 3, "invalid syntax"),
    ("backticks", "x = `1`", 3, "invalid syntax"),
    ("octal", "mode = 0777", 3, "leading zeros"),
    ("long_suffix", "n = 10L", 3, "invalid decimal literal"),
    ("ur_prefix", "s = ur'abc'", 3, "invalid syntax"),
    ("diamond", "if 1 <> 2:\n    pass", 3, "invalid syntax"),
    ("tuple_parameters", "def f(a, (b, c)):\n    pass", 3, "parenthesized"),
]


def test_python2_syntax_is_an_error_entry_at_its_line(tmp_path):
    for name, line, _, _ in PYTHON2:
        write(tmp_path / f"{name}.py", f"import torch.nn as nn\n\n{line}\nlayer = nn.Linear(4, 4)\n")
    # valid Python 3 for all its Python 2 look: a tuple (print >> f, x) and a comparison
    write(tmp_path / "print_chevron.py", 'import sys\nprint >>sys.stderr, "hello"\n')
    bad = write(tmp_path / "z_bad.py", BAD_SOURCE)
    code, document = check_json(tmp_path)
    assert code == 1
    errors = errors_by_path(document)
    assert sorted(errors) == sorted(f"{name}.py" for name, *_ in PYTHON2)
    for name, _, line, complaint in PYTHON2:
        assert errors[f"{name}.py"].startswith(f"syntax error at line {line}, column "), errors[f"{name}.py"]
        assert complaint in errors[f"{name}.py"], errors[f"{name}.py"]
    assert document["files_checked"] == 2
    assert_bad_file_still_checked(document, bad)


def _vanish_before_reading(real_check_file, victims):
    def check_file(path, *args, **kwargs):
        if os.path.basename(path) in victims:
            os.unlink(path)
        return real_check_file(path, *args, **kwargs)
    return check_file


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # another test may have started JAX's threads
def test_a_file_deleted_between_discovery_and_reading(tmp_path, monkeypatch, jobs):
    """Deleted after the walk found it and after the runner's stat, just before it is opened (in
    this process, or in forked workers): an error entry; the others are checked."""
    if jobs > 1:
        if "fork" not in multiprocessing.get_all_start_methods():
            pytest.skip("the deletion is injected into the module the workers fork from")
        monkeypatch.setattr(runner, "START_METHOD", "fork")
    for index in range(20):
        write(tmp_path / f"ok{index:02d}.py", "x = 1\n")
    write(tmp_path / "gone.py", BAD_SOURCE)
    bad = write(tmp_path / "z_bad.py", BAD_SOURCE)
    monkeypatch.setattr(runner, "check_file", _vanish_before_reading(runner.check_file, {"gone.py"}))
    reports = runner.check_paths([str(tmp_path)], Settings(), jobs=jobs, isolate=jobs > 1)
    by_name = {Path(r.path).name: r for r in reports}
    assert len(by_name) == 22
    assert not (tmp_path / "gone.py").exists()
    assert by_name["gone.py"].error is not None
    assert by_name["gone.py"].error.message == "cannot read: No such file or directory"
    assert [n for n, r in by_name.items() if r.error] == ["gone.py"]
    assert sorted((f.line, f.code) for f in by_name["z_bad.py"].findings) == expected_findings(bad)


def test_a_file_deleted_after_discovery_and_before_the_stat(tmp_path, monkeypatch):
    """Gone before the runner looks at it at all (its stat fails)."""
    write(tmp_path / "gone.py", BAD_SOURCE)
    write(tmp_path / "kept.py", "x = 1\n")
    real_discover = runner.discover

    def discover_then_delete(*args, **kwargs):
        found = real_discover(*args, **kwargs)
        os.unlink(tmp_path / "gone.py")
        return found

    monkeypatch.setattr(runner, "discover", discover_then_delete)
    reports = runner.check_paths([str(tmp_path)], Settings(), jobs=1, isolate=False)
    assert [(Path(r.path).name, r.error.message if r.error else None) for r in reports] == \
           [("gone.py", "cannot read: No such file or directory"), ("kept.py", None)]


# nesting past the recursion limit (1,000) other than by parentheses; each after BAD_SOURCE, so
# that the prefilter keeps the file and the deep part reaches libcst and the analysis
DEEP = 1500


def _shapes(depth: int) -> dict:
    return {
        "nested_lists": "x = " + "[" * depth + "]" * depth + "\n",
        "nested_dicts": "x = " + "{1: " * depth + "1" + "}" * depth + "\n",
        "nested_calls": "x = " + "nn.Sequential(" * depth + ")" * depth + "\n",
        "attribute_chain": "x = nn" + ".a" * depth + "\n",
        "method_chain": "x = nn.Sequential()" + ".to(0)" * depth + "\n",
        "subscript_chain": "x = nn" + "[0]" * depth + "\n",
        "binary_operators": "x = nn.Linear(4, 4)" + " + 1" * depth + "\n",
        "string_concatenation": "x = " + " + ".join(["'a'"] * depth) + "\n",
        "elif_chain": "if x:\n    pass\n" + "".join(
            f"elif x == {i}:\n    nn.init.xavier_uniform_(w)\n" for i in range(depth)),
        "lambdas": "f = " + "lambda: " * depth + "nn.Linear(4, 4)\n",
        "nots": "x = " + "not " * depth + "nn\n",
        "unary_minus": "x = " + "-" * depth + "1\n",
        "implicit_string_concatenation": "x = (" + " ".join(["'a'"] * depth) + ")\n",
        "far_past_cpythons_limit": "x = nn" + ".a" * 100_000 + "\n",
        "nested_defs_100": "".join("    " * i + f"def f{i}():\n" for i in range(100)) + "    " * 100 + "pass\n",
        "nested_classes_100": "".join("    " * i + f"class C{i}:\n" for i in range(100)) + "    " * 100 + "pass\n",
    }


DEEP_SHAPES = _shapes(DEEP)
# as deep as CPython allows indentation (100 levels is an error): checked, with every finding
DEEP_BUT_VALID = {
    "nested_defs_99": "".join("    " * i + f"def f{i}():\n" for i in range(99))
                      + "    " * 99 + "return nn.Linear(4, 4)\n",
    "nested_classes_99": "".join("    " * i + f"class C{i}(nn.Module):\n" for i in range(99)) + "    " * 99 + "w = 1\n",
    "nested_withs_99": "".join("    " * i + f"with a{i}:\n" for i in range(99)) + "    " * 99 + "w = nn.Linear(4, 4)\n",
    "nested_lists_200": "x = " + "[" * 200 + "]" * 200 + "\n",
    "long_comparison": "x = " + " < ".join(["nn"] * 10_000) + "\n",
}


def test_deep_nesting_of_every_kind_is_checked_or_reported(tmp_path):
    """Every file either is an error entry that says it is too deeply nested (or CPython's own
    syntax error for it), or is checked with exactly the findings of its ordinary part; a file
    within CPython's limits is checked."""
    for name, tail in {**DEEP_SHAPES, **DEEP_BUT_VALID}.items():
        write(tmp_path / f"{name}.py", BAD_SOURCE + tail)
    started = time.monotonic()
    code, document = check_json(tmp_path)
    assert time.monotonic() - started < 120
    assert code == 1
    errors = errors_by_path(document)
    findings = {}
    for finding in document["findings"]:
        findings.setdefault(Path(finding["path"]).name, []).append((finding["line"], finding["code"]))
    wanted = expected_findings(tmp_path / "nested_lists.py")
    for name in DEEP_BUT_VALID:
        assert f"{name}.py" not in errors, (name, errors.get(f"{name}.py"))
        assert sorted(findings.get(f"{name}.py", [])) == wanted, name
    cpython_refuses = {"nested_lists": "too many nested parentheses", "nested_dicts": "too many nested parentheses",
                       "nested_calls": "too many nested parentheses",
                       "nested_defs_100": "too many levels of indentation",
                       "nested_classes_100": "too many levels of indentation"}
    for name in DEEP_SHAPES:
        message = errors.get(f"{name}.py")
        if name in cpython_refuses:
            assert message and message.startswith("syntax error at line ") and cpython_refuses[name] in message, message
        elif message is not None:
            assert "too deeply nested" in message, (name, message)
            assert f"{name}.py" not in findings
        else:
            assert sorted(findings.get(f"{name}.py", [])) == wanted, name
    assert document["files_checked"] + len(errors) == len(DEEP_SHAPES) + len(DEEP_BUT_VALID)


def test_deep_nesting_does_not_escape_check_file():
    """The API's per-file entry point never raises either, whatever the depth."""
    from initlint.engine import check_file

    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        for name, tail in DEEP_SHAPES.items():
            path = os.path.join(directory, f"{name}.py")
            write(Path(path), BAD_SOURCE + tail)
            report = check_file(path)
            assert report.error is None or "internal error" not in report.error.message, (name, report.error)


def _findings_or_source_error(source):
    import initlint

    try:
        return len(initlint.check_source(source))
    except initlint.SourceError:
        return "SourceError"


@pytest.mark.parametrize("name", [n for n in DEEP_SHAPES if "nested_" not in n and n != "far_past_cpythons_limit"])
def test_check_source_below_the_recursion_limit_returns_findings_or_raises_source_error(name):
    """600 levels, which CPython compiles: the API answers (libcst's code generation used to
    raise RecursionError here, from 490 levels on)."""
    source = BAD_SOURCE + _shapes(600)[name]
    compile(source, "deep.py", "exec", dont_inherit=True)
    assert _findings_or_source_error(source) in (3, "SourceError")


@pytest.mark.parametrize("name", ["binary_operators", "string_concatenation"])
def test_check_source_past_the_recursion_limit_returns_findings_or_raises_source_error(name):
    source = BAD_SOURCE + DEEP_SHAPES[name]
    compile(source, "deep.py", "exec", dont_inherit=True)
    assert _findings_or_source_error(source) in (3, "SourceError")


# Flat for CPython (one BoolOp, one dotted name, one Constant), so its parser does not refuse them,
# but nested chains for libcst, whose native parser overflows its stack on them
FLAT_FOR_CPYTHON = {
    "and_chain": "x = " + " and ".join(["nn"] * 20_000) + "\n",
    "or_chain": "x = " + " or ".join(["nn"] * 20_000) + "\n",
    "dotted_import": "import " + ".".join(["a"] * 20_000) + "\n",
}


def test_long_flat_chains_that_nest_in_libcst_are_checked_or_reported(tmp_path):
    for name, tail in FLAT_FOR_CPYTHON.items():
        write(tmp_path / f"{name}.py", BAD_SOURCE + tail)
    bad = write(tmp_path / "z_bad.py", BAD_SOURCE)
    code, document = check_json(tmp_path)
    assert_bad_file_still_checked(document, bad)
    errors = errors_by_path(document)
    assert not [m for m in errors.values() if "internal error" in m], errors
    wanted = expected_findings(bad)
    for name in FLAT_FOR_CPYTHON:
        got = sorted((f["line"], f["code"]) for f in document["findings"] if Path(f["path"]).name == f"{name}.py")
        assert f"{name}.py" in errors and "too deeply nested" in errors[f"{name}.py"] or got == wanted, name


def test_many_implicitly_concatenated_strings_are_not_a_syntax_error(tmp_path):
    source = BAD_SOURCE + "x = (" + " ".join(["'a'"] * 10_000) + ")\n"
    compile(source, "strings.py", "exec")
    write(tmp_path / "strings.py", source)
    _, document = check_json(tmp_path)
    message = errors_by_path(document).get("strings.py", "")
    assert not message.startswith("syntax error"), message


HOSTILE_NAMES = [b"caf\xe9.py", b"new\nline.py", "\u00fcn\u00ef\U0001f600.py".encode(), b"sp ace.py", b"-dash.py",
                 b"tab\t.py"]


def _hostile_names(tmp_path) -> list:
    made = []
    for name in HOSTILE_NAMES:
        try:
            with open(os.path.join(os.fsencode(tmp_path), name), "wb") as handle:
                handle.write(BAD_SOURCE.encode())
        except (OSError, ValueError):  # a file system that refuses non-UTF-8 names (macOS)
            continue
        made.append(os.fsdecode(name))
    return made


@pytest.mark.parametrize("form", ["json", "text", "github"])
def test_hostile_file_names(tmp_path, form):
    """Names with a newline, a tab, a space, a leading dash, emoji, and bytes that are not UTF-8
    (decoded with surrogate escapes): every file checked, every finding under its own name."""
    names = _hostile_names(tmp_path)
    result = run_cli("check", "--isolated", "--no-cache", "--format", form, ".", cwd=tmp_path)
    assert "Traceback" not in result.stderr and result.returncode == 1, result.stderr
    if form == "json":
        document = json.loads(result.stdout)
        assert document["errors"] == [] and document["files_checked"] == len(names)
        got = sorted({f["path"] for f in document["findings"]})
        assert got == sorted(names)
        wanted = expected_findings(DATA / "cli" / "bad.py")
        for name in names:
            assert sorted((f["line"], f["code"]) for f in document["findings"] if f["path"] == name) == wanted
        fixed = run_cli("check", "--isolated", "--no-cache", "--fix", "--unsafe-fixes", "-q", ".", cwd=tmp_path)
        assert "Traceback" not in fixed.stderr and fixed.returncode == 1, fixed.stderr  # INI301 has no fix
        for name in names:
            assert b"nn.init.kaiming_uniform_(self.hidden.weight" in (tmp_path / name).read_bytes(), name
        assert sorted(os.listdir(tmp_path)) == sorted(names)


def test_hostile_file_names_in_sarif(tmp_path):
    names = _hostile_names(tmp_path)
    if not any("\udce9" in name for name in names):
        pytest.skip("this file system refuses non-UTF-8 names")
    result = run_cli("check", "--isolated", "--no-cache", "--format", "sarif", ".", cwd=tmp_path)
    assert "Traceback" not in result.stderr and result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert len(document["runs"][0]["results"]) == 3 * len(names)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]}
    assert any("%E9" in uri for uri in uris), uris  # the name's own byte 0xE9, percent-encoded
