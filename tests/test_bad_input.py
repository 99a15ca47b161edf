"""Whatever it is given, ``initlint check`` reports and goes on: never a traceback, never a hang,
never importing or running what it reads. A file that cannot be checked is an entry in ``errors``
(and exit 1); the other files are still checked."""

from __future__ import annotations

import json
import multiprocessing
import os
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
    assert lines[0].startswith(f"{broken}: error: syntax error")
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
