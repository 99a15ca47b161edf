"""``--fix`` under fault injection: whatever fails (a write, an fsync, a rename, the disk filling
up) or however the process ends (SIGKILL before, during or after a write), every file is
byte-for-byte either its original or its fully fixed version, never truncated, its mode kept.

The real CLI runs in a subprocess. Faults are injected by a small driver (``DRIVER``) that patches
the file operations of ``fixer.write_atomically`` in that process only, then calls
``initlint.cli.main``. "Fully fixed" is what a clean ``--fix --unsafe-fixes`` run makes of the same
file. The only thing a fault may leave behind is what ``fixer``'s docstring names: a
``.initlint-*.tmp`` beside the file, and only after a SIGKILL while writing.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from initlint import fixer

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "examples").glob("*.py")) + [ROOT / "tests" / "data" / "cli" / "bad.py"]
MODES = (0o640, 0o755, 0o600, 0o644, 0o604, 0o750)
FIX = ("check", "--fix", "--unsafe-fixes", "--isolated", "--no-cache", "--format", "json", "--jobs", "1")
TEMP_RE = re.compile(r"^\.initlint-.*\.tmp$")

# Runs the CLI with one fault injected into fixer.write_atomically's file operations (argv[1]: the
# fault as JSON; the rest: the CLI's arguments). Outside write_atomically nothing is patched.
DRIVER = r'''
import errno, io, json, os, signal, sys, tempfile, time
from initlint import cli, fixer

fault = json.loads(sys.argv[1])
state = {"target": None, "writes": 0, "budget": fault.get("budget")}
real = {"fdopen": os.fdopen, "fsync": os.fsync, "chmod": os.chmod, "replace": os.replace,
        "mkstemp": tempfile.mkstemp, "write_atomically": fixer.write_atomically}


def hit(at):
    """Is this the operation the fault is for (right place, right file)?"""
    if state["target"] is None or fault.get("at") != at:
        return False
    wanted = fault.get("file")
    return wanted is None or os.path.basename(state["target"]).endswith(wanted)


def fail(code):
    raise OSError(code, os.strerror(code))


def pause(where):
    # tell the test where we are, then wait to be killed
    open(os.path.join(fault["control"], where), "w").close()
    time.sleep(600)


class Raw(io.RawIOBase):
    """The temporary file's bytes go through here: a byte budget (a disk filling up), a failing
    write, or a pause half-way through (for a kill inside a write)."""

    def __init__(self, fd):
        self.fd = fd

    def writable(self):
        return True

    def fileno(self):
        return self.fd

    def write(self, data):
        data = bytes(data)
        if hit("write"):
            fail(fault.get("errno", errno.EIO))
        if state["budget"] is not None:
            if state["budget"] <= 0:
                fail(errno.ENOSPC)
            data = data[:state["budget"]]
            state["budget"] -= len(data)
        if fault.get("at") == "mid-write" and state["writes"] == fault["nth"] and len(data) > 1 \
                and not state.get("paused"):
            state["paused"] = True  # once: after a Ctrl-C, closing the file flushes again
            os.write(self.fd, data[:len(data) // 2])
            os.fsync(self.fd)
            pause("mid-write")
        return os.write(self.fd, data)

    def close(self):
        if not self.closed:
            os.close(self.fd)
        super().close()


def fdopen(fd, mode="r", buffering=-1, encoding=None, errors=None, newline=None, closefd=True):
    if state["target"] is None:
        return real["fdopen"](fd, mode, buffering, encoding, errors, newline, closefd)
    return io.TextIOWrapper(io.BufferedWriter(Raw(fd)), encoding=encoding, errors=errors, newline=newline)


def fsync(fd):
    if hit("fsync"):
        fail(fault.get("errno", errno.EIO))
    return real["fsync"](fd)


def chmod(path, mode, **kwargs):
    if hit("chmod"):
        fail(fault.get("errno", errno.EPERM))
    return real["chmod"](path, mode, **kwargs)


def replace(src, dst, **kwargs):
    if hit("replace"):
        fail(fault.get("errno", errno.EIO))
    if fault.get("at") == "before-replace" and state["writes"] == fault["nth"]:
        pause("before-replace")
    real["replace"](src, dst, **kwargs)
    if fault.get("at") == "after-replace" and state["writes"] == fault["nth"]:
        pause("after-replace")


def mkstemp(*args, **kwargs):
    if hit("mkstemp"):
        fail(fault.get("errno", errno.ENOSPC))
    return real["mkstemp"](*args, **kwargs)


def write_atomically(path, text, *args, **kwargs):
    state["target"], state["writes"] = path, state["writes"] + 1
    try:
        return real["write_atomically"](path, text, *args, **kwargs)
    finally:
        state["target"] = None


os.fdopen, os.fsync, os.chmod, os.replace, tempfile.mkstemp = fdopen, fsync, chmod, replace, mkstemp
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started where SIGINT is ignored
fixer.write_atomically = write_atomically
sys.exit(cli.main(sys.argv[2:]))
'''


def run_fix(directory: Path, fault: Optional[dict] = None, driver: Optional[Path] = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    if fault is None:
        command = [sys.executable, "-m", "initlint", *FIX, str(directory)]
    else:
        command = [sys.executable, str(driver), json.dumps(fault), *FIX, str(directory)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=directory.parent)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Dict[str, Tuple[bytes, bytes]]:
    """``{source name: (original bytes, fully fixed bytes)}``, from a clean run on copies."""
    work = tmp_path_factory.mktemp("reference") / "files"
    work.mkdir()
    for source in SOURCES:
        shutil.copyfile(source, work / f"ref_{source.name}")
    result = run_fix(work)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    found = {s.name: (s.read_bytes(), (work / f"ref_{s.name}").read_bytes()) for s in SOURCES}
    changed = [name for name, (before, after) in found.items() if before != after]
    assert len(changed) >= 5 and len(changed) < len(found), "the set needs fixable and unfixable files"
    return found


@pytest.fixture
def driver(tmp_path) -> Path:
    path = tmp_path / "driver.py"
    path.write_text(DRIVER, encoding="utf-8")
    return path


Layout = Dict[str, Tuple[str, int]]  # file name -> (source name, mode)


def populate(directory: Path, copies: int) -> Layout:
    """``copies`` files cycling through the sources, with unusual modes; sorted names are the
    order in which ``--fix`` visits them."""
    directory.mkdir(parents=True)
    layout = {}
    for index in range(copies):
        source = SOURCES[index % len(SOURCES)]
        name = f"m{index:03d}_{source.name}"
        shutil.copyfile(source, directory / name)
        mode = MODES[index % len(MODES)]
        os.chmod(directory / name, mode)
        layout[name] = (source.name, mode)
    return layout


def states(directory: Path, layout: Layout, reference, temp_files_allowed: int = 0) -> Dict[str, str]:
    """``{name: "original" | "fixed" | "unchanged"}`` (unchanged: a file no fix touches); fails on
    any damaged file, a changed mode, or an unexpected file in the directory."""
    found = {}
    damaged = []
    for name, (source, mode) in layout.items():
        path = directory / name
        data = path.read_bytes()
        before, after = reference[source]
        if before == after:
            state = "unchanged" if data == before else "damaged"
        else:
            state = "original" if data == before else "fixed" if data == after else "damaged"
        if state == "damaged":
            damaged.append(f"{name}: {len(data)} bytes, neither the original ({len(before)}) nor fixed ({len(after)})")
        if stat.S_IMODE(path.stat().st_mode) != mode:
            damaged.append(f"{name}: mode {stat.S_IMODE(path.stat().st_mode):o}, was {mode:o}")
        found[name] = state
    others = sorted(p.name for p in directory.iterdir() if p.name not in layout)
    temporary = [name for name in others if TEMP_RE.match(name)]
    assert damaged == []
    assert [name for name in others if not TEMP_RE.match(name)] == []
    assert len(temporary) <= temp_files_allowed, temporary
    return found


def fixable(layout: Layout, reference) -> List[str]:
    """The files ``--fix`` writes, in the order it writes them."""
    return sorted(name for name, (source, _) in layout.items() if reference[source][0] != reference[source][1])


def error_lines(result) -> Dict[str, str]:
    found = {}
    for line in result.stderr.splitlines():
        match = re.match(r"^(.*?):\d+:\d+: error: (.*)$", line)
        if match:
            found[os.path.basename(match.group(1))] = match.group(2)
    return found


def fixed_summary(result) -> int:
    match = re.search(r"Fixed \d+ findings? in (\d+) files?\.", result.stderr)
    assert match, result.stderr
    return int(match.group(1))


# --- (a) one operation of the write fails --------------------------------------------------------

FAILURES = [("mkstemp", errno.ENOSPC), ("write", errno.EIO), ("fsync", errno.EIO), ("chmod", errno.EPERM),
            ("replace", errno.EXDEV), ("replace", errno.EACCES)]


@pytest.mark.parametrize("at, code", FAILURES, ids=[f"{at}-{errno.errorcode[code]}" for at, code in FAILURES])
def test_a_failing_write_leaves_that_file_original_and_fixes_the_others(tmp_path, driver, reference, at, code):
    layout = populate(tmp_path / "work", len(SOURCES))
    writes = fixable(layout, reference)
    victim = writes[len(writes) // 2]
    result = run_fix(tmp_path / "work", {"at": at, "file": victim, "errno": code}, driver)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1  # the victim's findings are still there
    found = states(tmp_path / "work", layout, reference)
    assert found[victim] == "original"
    assert all(found[name] == "fixed" for name in writes if name != victim)
    errors = error_lines(result)
    assert list(errors) == [victim]
    assert errors[victim].startswith("cannot write: ") and os.strerror(code) in errors[victim]
    assert fixed_summary(result) == len(writes) - 1
    document = json.loads(result.stdout)  # the check that follows reports what is left
    assert {Path(f["path"]).name for f in document["findings"]} >= {victim}


def test_every_write_failing_leaves_every_file_original(tmp_path, driver, reference):
    layout = populate(tmp_path / "work", len(SOURCES))
    result = run_fix(tmp_path / "work", {"at": "replace", "errno": errno.EROFS}, driver)
    assert "Traceback" not in result.stderr and result.returncode == 1, result.stderr
    found = states(tmp_path / "work", layout, reference)
    assert set(found.values()) <= {"original", "unchanged"}
    assert sorted(error_lines(result)) == fixable(layout, reference)
    assert fixed_summary(result) == 0


# --- (b) the disk fills up ----------------------------------------------------------------------

def _budgets():
    """Byte budgets: none at all, one byte, half-way through the 1st, 3rd and a middle file,
    exactly enough for all but the last, exactly enough for all."""
    return ["0", "1", "half:0", "half:2", "half:mid", "all-but-last", "all"]


@pytest.mark.parametrize("budget", _budgets())
def test_a_full_disk_leaves_each_file_original_or_fixed(tmp_path, driver, reference, budget):
    layout = populate(tmp_path / "work", len(SOURCES))
    writes = fixable(layout, reference)
    sizes = [len(reference[layout[name][0]][1]) for name in writes]
    cumulative = [sum(sizes[:i + 1]) for i in range(len(sizes))]
    if budget.startswith("half:"):
        index = len(writes) // 2 if budget == "half:mid" else int(budget[5:])
        byte_budget = (cumulative[index - 1] if index else 0) + sizes[index] // 2
    elif budget == "all-but-last":
        byte_budget = cumulative[-1] - 1
    elif budget == "all":
        byte_budget = cumulative[-1]
    else:
        byte_budget = int(budget)
    # writes go in order and a full disk stays full: the files that fit are fixed, no other
    expected_fixed = [name for name, total in zip(writes, cumulative) if total <= byte_budget]
    result = run_fix(tmp_path / "work", {"budget": byte_budget}, driver)
    assert "Traceback" not in result.stderr, result.stderr
    found = states(tmp_path / "work", layout, reference)
    assert [name for name in writes if found[name] == "fixed"] == expected_fixed
    failed = [name for name in writes if name not in expected_fixed]
    errors = error_lines(result)
    assert sorted(errors) == failed
    assert all("No space left on device" in message for message in errors.values())
    assert result.returncode == 1
    assert fixed_summary(result) == len(expected_fixed)


# --- (c) the process is killed ------------------------------------------------------------------

def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the CLI and any worker it forked
    except ProcessLookupError:  # a fast machine finished first
        pass
    process.wait(timeout=60)


def _start(directory: Path, fault: Optional[dict] = None, driver: Optional[Path] = None) -> subprocess.Popen:
    if fault is None:
        command = [sys.executable, "-m", "initlint", *FIX, str(directory)]
    else:
        command = [sys.executable, str(driver), json.dumps(fault), *FIX, str(directory)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=directory.parent,
                            start_new_session=True)


@pytest.mark.parametrize("delay", [0.3, 1.5, 4.0, 8.0])
def test_sigkill_at_any_time_damages_nothing(tmp_path, reference, delay):
    """The real CLI over 200 files, killed after ``delay`` seconds (before, among or after the
    writes, depending on the machine's speed): every file is whole."""
    layout = populate(tmp_path / "work", 200)
    process = _start(tmp_path / "work")
    time.sleep(delay)
    _kill(process)
    found = states(tmp_path / "work", layout, reference, temp_files_allowed=1)
    writes = fixable(layout, reference)
    done = [name for name in writes if found[name] == "fixed"]
    assert done == writes[:len(done)], "files are fixed in order, each completely"
    print(f"SIGKILL after {delay} s: {len(done)} of {len(writes)} fixable files fixed")  # where it landed (-s)


@pytest.mark.parametrize("at, nth", [("mid-write", 1), ("mid-write", 6), ("mid-write", 23), ("before-replace", 4),
                                     ("after-replace", 9)])
def test_sigkill_inside_a_write_damages_nothing(tmp_path, driver, reference, at, nth):
    """Killed while the ``nth`` file's temporary file is half written, after it is complete but
    before the rename, or just after the rename: the files before are fixed, the ``nth`` original
    (fixed after the rename), the rest original."""
    layout = populate(tmp_path / "work", 60)
    control = tmp_path / "control"
    control.mkdir()
    process = _start(tmp_path / "work", {"at": at, "nth": nth, "control": str(control)}, driver)
    deadline = time.monotonic() + 300
    while not (control / at).exists():
        assert process.poll() is None, "the CLI ended before the kill point"
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.02)
    temporary = [p for p in (tmp_path / "work").iterdir() if TEMP_RE.match(p.name)]
    writes = fixable(layout, reference)
    victim = writes[nth - 1]
    if at != "after-replace":  # the kill lands with the temporary file on disk
        assert len(temporary) == 1
        fixed_size = len(reference[layout[victim][0]][1])
        size = temporary[0].stat().st_size
        assert (0 < size < fixed_size) if at == "mid-write" else size == fixed_size
    _kill(process)
    found = states(tmp_path / "work", layout, reference, temp_files_allowed=1)
    assert [name for name in writes if found[name] == "fixed"] == writes[:nth if at == "after-replace" else nth - 1]
    if at == "mid-write" and nth == 6:  # a later run finishes the job (and leaves the stray file alone)
        result = run_fix(tmp_path / "work")
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
        found = states(tmp_path / "work", layout, reference, temp_files_allowed=1)
        assert set(found.values()) <= {"fixed", "unchanged"}


def test_ctrl_c_inside_a_write_removes_the_temporary_file(tmp_path, driver, reference):
    """SIGINT (Ctrl-C) half-way through a write: the temporary file is removed, the file is
    original, the ones before are fixed, and the exit status is 130."""
    layout = populate(tmp_path / "work", 30)
    control = tmp_path / "control"
    control.mkdir()
    command = [sys.executable, str(driver), json.dumps({"at": "mid-write", "nth": 3, "control": str(control)}),
               *FIX, str(tmp_path / "work")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               cwd=tmp_path, start_new_session=True)
    deadline = time.monotonic() + 300
    while not (control / "mid-write").exists():
        assert process.poll() is None and time.monotonic() < deadline, "the pause was never reached"
        time.sleep(0.02)
    assert len([p for p in (tmp_path / "work").iterdir() if TEMP_RE.match(p.name)]) == 1
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr
    found = states(tmp_path / "work", layout, reference, temp_files_allowed=0)
    writes = fixable(layout, reference)
    assert [name for name in writes if found[name] == "fixed"] == writes[:2]


# --- the writer's own guarantees, in process ------------------------------------------------------

BAD = (ROOT / "tests" / "data" / "cli" / "bad.py").read_text(encoding="utf-8")


def test_a_symbolic_link_is_written_through(tmp_path):
    target = tmp_path / "real.py"
    target.write_text(BAD, encoding="utf-8")
    os.chmod(target, 0o640)
    link = tmp_path / "link.py"
    link.symlink_to(target)
    result = fixer.fix_file(str(link), unsafe=True)
    assert result.error is None and result.changed
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == result.fixed
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.py", "real.py"]


def test_a_file_changed_on_disk_while_being_fixed_is_left_alone(tmp_path, monkeypatch):
    target = tmp_path / "model.py"
    target.write_text(BAD, encoding="utf-8")
    edited = BAD + "# saved by an editor meanwhile\n"
    real_fix_source = fixer.fix_source

    def fix_and_edit(*args, **kwargs):
        result = real_fix_source(*args, **kwargs)
        time.sleep(0.01)  # a new mtime even on a coarse clock
        target.write_text(edited, encoding="utf-8")
        return result

    monkeypatch.setattr(fixer, "fix_source", fix_and_edit)
    result = fixer.fix_file(str(target), unsafe=True)
    assert result.error and "changed on disk" in result.error
    assert target.read_text(encoding="utf-8") == edited
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"]


def test_fix_neither_blocks_on_a_fifo_nor_reads_a_huge_file(tmp_path):
    os.mkfifo(tmp_path / "fifo.py")
    huge = tmp_path / "huge.py"
    with open(huge, "w", encoding="utf-8") as handle:
        handle.write("import torch.nn as nn\n")
        handle.write("nn.init.normal_(nn.Linear(4, 4).weight)\n" * (fixer_limit() // 30))
    before = huge.stat()
    (tmp_path / "bad.py").write_text(BAD, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "initlint", *FIX, str(tmp_path)], capture_output=True,
                            text=True, timeout=300)
    assert "Traceback" not in result.stderr and result.returncode == 1, result.stderr
    errors = {Path(e["path"]).name: e["message"] for e in json.loads(result.stdout)["errors"]}
    assert set(errors) == {"fifo.py", "huge.py"}
    assert "regular file" in errors["fifo.py"] and "too large" in errors["huge.py"]
    assert huge.stat().st_mtime_ns == before.st_mtime_ns and huge.stat().st_size == before.st_size
    assert "nn.init.kaiming" in (tmp_path / "bad.py").read_text(encoding="utf-8")


def fixer_limit() -> int:
    from initlint.engine import MAX_FILE_BYTES

    return MAX_FILE_BYTES


def test_a_file_deleted_while_being_fixed_is_not_brought_back(tmp_path, monkeypatch):
    target = tmp_path / "model.py"
    target.write_text(BAD, encoding="utf-8")
    real_fix_source = fixer.fix_source

    def fix_and_delete(*args, **kwargs):
        result = real_fix_source(*args, **kwargs)
        target.unlink()
        return result

    monkeypatch.setattr(fixer, "fix_source", fix_and_delete)
    result = fixer.fix_file(str(target), unsafe=True)
    assert result.error and result.error.startswith("cannot write: ") and "No such file" in result.error
    assert list(tmp_path.iterdir()) == []
