"""verify's bounds on the user's code: ``--timeout``, stdout kept for the report, exits and interrupts raised
by the model, the memory limit checked before allocating, NaN/Inf parameters, and never a pickle load.

Each case is a small real model file run through the real command (a subprocess where the process itself
is at stake: a hang, a hard exit, stdout at descriptor level, a signal, the peak memory)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, run_cli, write

pytest.importorskip("numpy")
pytest.importorskip("scipy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

from initlint.cli import main  # noqa: E402
from initlint.verify.memory import format_size, parse_size  # noqa: E402

GIB = 1 << 30


@pytest.fixture
def torch_required():
    pytest.importorskip("torch")


def verify(capsys, *args):
    code = main(["verify", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def last_error(stderr: str) -> str:
    return stderr.rstrip().splitlines()[-1]


# --- --timeout -----------------------------------------------------------------------------------

SLEEPS_IN_BUILD = '''
import time
from torch import nn


def build_model():
    time.sleep(60)
    return nn.Linear(4, 4)
'''

SLEEPS_AT_IMPORT = '''
import time
from torch import nn

time.sleep(60)
model = nn.Linear(4, 4)
'''

# the soft stop cannot reach these: the signal is blocked, or the code swallows the exception and goes on
BLOCKS_THE_SIGNAL = '''
import signal
import time
from torch import nn


def build_model():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(60)
    return nn.Linear(4, 4)
'''

SWALLOWS_EVERYTHING = '''
import time
from torch import nn


def build_model():
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            time.sleep(60)
        except BaseException:
            pass
    return nn.Linear(4, 4)
'''


def timed_cli(*args):
    started = time.monotonic()
    result = run_cli(*args, timeout=120)
    return result, time.monotonic() - started


@pytest.mark.parametrize("source,line,phase", [(SLEEPS_IN_BUILD, 7, "building the model (build_model())"),
                                               (SLEEPS_AT_IMPORT, 5, "importing ")], ids=["build", "import"])
def test_a_hung_build_stops_at_the_timeout_with_its_traceback(tmp_path, torch_required, source, line, phase):
    path = write(tmp_path / "model.py", source)
    result, seconds = timed_cli("verify", str(path), "--timeout", "3", "--format", "json", "-q")
    assert result.returncode == 2, result.stderr
    assert seconds < 45  # the model sleeps for 60 s
    assert result.stdout == ""
    error = last_error(result.stderr)
    assert error.startswith("initlint verify: error: ")
    assert "the model build did not finish within 3 s (--timeout 3)" in error and f"stopped while {phase}" in error
    assert f'File "{path}", line {line}' in result.stderr and "time.sleep(60)" in result.stderr
    assert "(stopped here at the deadline)" in result.stderr
    assert "initlint/verify" not in result.stderr and "BuildTimeout" not in result.stderr


@pytest.mark.parametrize("source", [BLOCKS_THE_SIGNAL, SWALLOWS_EVERYTHING], ids=["signal-blocked", "swallowed"])
def test_a_build_that_ignores_the_interruption_still_ends_with_exit_2(tmp_path, torch_required, source):
    path = write(tmp_path / "model.py", source)
    result, seconds = timed_cli("verify", str(path), "--timeout", "3", "-q")
    assert result.returncode == 2, result.stderr
    assert seconds < 45
    assert result.stdout == ""
    assert "the model build did not finish within 3 s (--timeout 3)" in result.stderr
    assert "did not respond to the interruption" in result.stderr and "exits without a report" in result.stderr
    assert f'File "{path}", line' in result.stderr  # the stack where it hung, from faulthandler


def test_a_build_within_the_timeout_is_verified_and_leaves_no_handler_behind(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", "from torch import nn\n\n\ndef build_model():\n"
                                        "    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))\n")
    before = (signal.getsignal(signal.SIGALRM), signal.getsignal(signal.SIGINT), os._exit, sys.stdout)
    code, out, err = verify(capsys, path, "--timeout", "60", "-q")
    assert code in (0, 1), err
    assert out.startswith("initlint verify: ")
    assert (signal.getsignal(signal.SIGALRM), signal.getsignal(signal.SIGINT), os._exit, sys.stdout) == before


@pytest.mark.parametrize("value", ["0", "-3", "soon", "nan"])
def test_timeout_must_be_a_positive_number(tmp_path, value):
    result = run_cli("verify", str(tmp_path / "model.py"), "--timeout", value)
    assert result.returncode == 2
    assert "--timeout" in result.stderr and "positive number of seconds" in result.stderr


def test_ctrl_c_still_stops_initlint_with_130(tmp_path, torch_required):
    """A real SIGINT (not the model raising KeyboardInterrupt): initlint stops as any command does."""
    started = tmp_path / "started"
    path = write(tmp_path / "model.py", f'''
import pathlib
import time
from torch import nn


def build_model():
    pathlib.Path({str(started)!r}).write_text("yes")
    time.sleep(60)
    return nn.Linear(4, 4)
''')
    process = subprocess.Popen([sys.executable, "-m", "initlint", "verify", str(path), "-q"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):  # the build has begun (at most 2 minutes of a loaded machine's imports)
            if started.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert started.exists(), process.communicate(timeout=60)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=45)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert out == ""


# --- the model's output and exits never corrupt the report ---------------------------------------

NOISY = r'''
import ctypes
import os
import sys

from torch import nn

print("{garbage printed at import")
os.write(1, b"[garbage written to descriptor 1\n")
ctypes.CDLL(None).printf(b"garbage from C printf\n")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)

    def forward(self, x):
        print("garbage printed in forward")
        sys.__stdout__.write("garbage through sys.__stdout__\n")
        os.write(1, b"garbage written to descriptor 1 in forward\n")
        return self.fc(x)


def build_model():
    sys.stdout.write("garbage printed in build_model\n")
    return Net()
'''
GARBAGE = ["{garbage printed at import", "[garbage written to descriptor 1", "garbage from C printf",
           "garbage printed in forward", "garbage through sys.__stdout__", "garbage written to descriptor 1 in forward",
           "garbage printed in build_model"]


def test_the_models_output_goes_to_stderr_and_json_stays_one_document(tmp_path, torch_required):
    path = write(tmp_path / "model.py", NOISY)
    result = run_cli("verify", str(path), "--format", "json", "-q")
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    assert data["framework"] == "torch" and [p["name"] for p in data["parameters"]] == ["fc.weight", "fc.bias"]
    for line in GARBAGE:
        assert line in result.stderr and line not in result.stdout


def test_text_report_has_none_of_the_models_output(tmp_path, torch_required):
    path = write(tmp_path / "model.py", NOISY)
    result = run_cli("verify", str(path), "-q")
    assert result.returncode in (0, 1), result.stderr
    assert result.stdout.startswith("initlint verify: ")
    assert not any(line in result.stdout for line in GARBAGE)


def test_a_failing_noisy_model_prints_nothing_on_stdout(tmp_path, torch_required):
    path = write(tmp_path / "model.py", NOISY + "\n\ndef make_broken():\n    print('{half a document')\n"
                                                "    raise ValueError('no such layer')\n")
    result = run_cli("verify", str(path), "--entry", "make_broken", "--format", "json", "-q")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "make_broken() raised ValueError: no such layer" in result.stderr and "{half a document" in result.stderr


def test_output_at_exit_of_the_models_code_does_not_follow_the_json(tmp_path, torch_required):
    path = write(tmp_path / "model.py", NOISY + "\n\nimport atexit\n"
                 "atexit.register(lambda: print('garbage printed by atexit'))\n"
                 "atexit.register(lambda: os.write(1, b'garbage written by atexit\\n'))\n")
    result = run_cli("verify", str(path), "--format", "json", "-q")
    assert result.returncode in (0, 1), result.stderr
    json.loads(result.stdout)
    assert "garbage printed by atexit" in result.stderr and "garbage written by atexit" in result.stderr


EXITS = {
    "sys.exit at import": ("import sys\nfrom torch import nn\n\nsys.exit(0)\n",
                           "importing it called sys.exit(0)", 4),
    "sys.exit in the build": ("import sys\nfrom torch import nn\n\n\ndef build_model():\n    sys.exit(3)\n",
                              "build_model() called sys.exit(3)", 6),
    "KeyboardInterrupt raised by the build": (
        "from torch import nn\n\n\ndef build_model():\n    raise KeyboardInterrupt\n",
        "build_model() raised KeyboardInterrupt", 5),
    "sys.exit in forward": ("import sys\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
                            "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n"
                            "    def forward(self, x):\n        sys.exit('bye')\n\n\n"
                            "def build_model():\n    return Net()\n",
                            "the model's code called sys.exit('bye') while running the model forward", 11),
}


@pytest.mark.parametrize("case", list(EXITS))
def test_exits_in_the_models_code_are_its_errors(tmp_path, capsys, torch_required, case):
    source, message, line = EXITS[case]
    path = write(tmp_path / "model.py", source)
    code, out, err = verify(capsys, path, "--format", "json")
    assert code == 2 and out == ""
    assert message in last_error(err)
    assert f'File "{path}", line {line}' in err


def test_os_exit_in_the_build_is_its_error_not_a_clean_exit(tmp_path, torch_required):
    path = write(tmp_path / "model.py", "import os\nfrom torch import nn\n\n\ndef build_model():\n    os._exit(0)\n")
    result = run_cli("verify", str(path), "--format", "json", "-q")
    assert result.returncode == 2 and result.stdout == ""
    assert "build_model() called os._exit(0)" in last_error(result.stderr)
    assert f'File "{path}", line 6, in build_model' in result.stderr and "initlint/verify" not in result.stderr


def test_a_forked_child_keeps_the_real_os_exit(tmp_path, torch_required):
    """Only this process's os._exit is intercepted: a child the build forks ends as it asks, and never goes
    on to print a second report."""
    path = write(tmp_path / "model.py", '''
import os
from torch import nn


def build_model():
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 7, status
    return nn.Linear(8, 8)
''')
    result = run_cli("verify", str(path), "--format", "json", "-q")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["parameters"][0]["name"] == "weight"


# --- memory --------------------------------------------------------------------------------------

PEAK = ("import resource, sys\nfrom initlint.cli import main\ncode = main(sys.argv[1:])\n"
        "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, file=sys.stderr)\nsys.exit(code)\n")


def cli_with_peak(*args):
    """The command in a subprocess, and its peak resident memory in bytes (Linux reports KiB)."""
    result = subprocess.run([sys.executable, "-c", PEAK, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    peak = re.search(r"^PEAK (\d+)$", result.stderr, re.M)
    assert peak, result.stderr
    result.stderr = result.stderr[:peak.start()] + result.stderr[peak.end() + 1:]
    return result, int(peak.group(1))


TORCH_3GIB = '''
from torch import nn


def build_model():
    return nn.Sequential(nn.Linear(32768, 24576), nn.ReLU(), nn.Linear(24576, 10))
'''


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory from getrusage in KiB: Linux")
def test_a_model_over_max_memory_stops_before_allocating(tmp_path, torch_required):
    path = write(tmp_path / "model.py", TORCH_3GIB)  # 3 GiB of float32 in its first weight
    result, peak = cli_with_peak("verify", str(path), "--max-memory", "1GiB", "-q")
    assert result.returncode == 2, result.stderr
    assert peak < 1.5 * GIB  # torch itself takes a few hundred MiB; the weight was never allocated
    error = last_error(result.stderr)
    assert "the model needs more memory than --max-memory 1.0 GiB allows" in error
    assert "torch.empty() of shape 24576x32768 of 3.0 GiB" in error and "--max-memory" in error
    assert f'File "{path}", line 6, in build_model' in result.stderr and "(the allocation refused)" in result.stderr


def test_a_model_larger_than_the_machine_stops_by_default(tmp_path, torch_required):
    """No option: the limit is what the machine has available (4 TiB of parameters fit nowhere here)."""
    path = write(tmp_path / "model.py", "from torch import nn\n\nmodel = nn.Linear(1 << 20, 1 << 20)\n")
    result = run_cli("verify", str(path), "--format", "json", "-q")
    assert result.returncode == 2 and result.stdout == ""
    error = last_error(result.stderr)
    assert "the model needs more memory than this machine has available" in error
    assert "4.0 TiB" in error and "MemAvailable" in error and "rather than by the out-of-memory killer" in error


def test_temporaries_freed_during_the_build_do_not_count(tmp_path, torch_required):
    """The limit is on what the build holds (resident memory), not on the sum of everything it allocated:
    80 temporaries of 8 MiB each (640 MiB in all) pass a 256 MiB limit."""
    path = write(tmp_path / "model.py", '''
import torch
from torch import nn


def build_model():
    net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    for _ in range(80):
        scratch = torch.randn(2048, 1024)
        del scratch
    return net
''')
    result = run_cli("verify", str(path), "--max-memory", "256MiB", "-q")
    assert result.returncode in (0, 1), result.stderr


def test_keras_weight_over_max_memory_stops_before_allocating(tmp_path):
    pytest.importorskip("keras")
    path = write(tmp_path / "model.py", '''
import keras


def build_model():
    return keras.Sequential([keras.Input((32768,)), keras.layers.Dense(24576), keras.layers.Dense(10)])
''')
    result = run_cli("verify", str(path), "--max-memory", "1GiB", "--format", "json", "-q")
    assert result.returncode == 2 and result.stdout == ""
    error = last_error(result.stderr)
    assert "the model needs more memory than --max-memory 1.0 GiB allows" in error
    assert "the weight 'kernel' of layer 'dense'" in error and "3.0 GiB" in error


def test_flax_init_over_max_memory_is_measured_without_memory(tmp_path):
    pytest.importorskip("flax")
    path = write(tmp_path / "model.py", '''
import flax.linen as nn


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Dense(10)(nn.relu(nn.Dense(24576)(x)))


def build_model():
    return MLP()
''')
    result = run_cli("verify", str(path), "--input-shape", "1,32768", "--max-memory", "1GiB", "-q")
    assert result.returncode == 2, result.stderr
    error = last_error(result.stderr)
    assert "the model needs more memory than --max-memory 1.0 GiB allows" in error
    assert "initialising its MLP (the variables of jax.eval_shape of module.init) of 3.0 GiB" in error


def test_a_model_within_max_memory_is_verified(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", "from torch import nn\n\n\ndef build_model():\n    return nn.Sequential("
                                        "nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 2))\n")
    code, out, err = verify(capsys, path, "--max-memory", "512MiB", "--format", "json", "-q")
    assert code in (0, 1), err
    assert json.loads(out)["parameters"][0]["shape"] == [1024, 1024]


@pytest.mark.parametrize("text,size", [("2GiB", 2 * GIB), ("1.5G", 3 * GIB // 2), ("512MiB", 512 << 20),
                                       ("800MB", 800 * 10**6), ("100000", 100000), ("3 gib", 3 * GIB),
                                       ("none", None), ("off", None)])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "2XB", "-1G", "0", "G"])
def test_a_bad_size_is_a_usage_error(tmp_path, text):
    with pytest.raises(ValueError):
        parse_size(text)
    result = run_cli("verify", str(tmp_path / "model.py"), f"--max-memory={text}")
    assert result.returncode == 2 and "--max-memory" in result.stderr
    assert "expected a size" in result.stderr or "must be positive" in result.stderr


def test_format_size():
    assert [format_size(n) for n in (512, 3 * GIB, 1536 << 10, 4 << 40)] == ["512 B", "3.0 GiB", "1.5 MiB",
                                                                              "4.0 TiB"]


# --- NaN and Inf ---------------------------------------------------------------------------------

TORCH_NONFINITE = '''
import math

import torch
from torch import nn


def build_model():
    net = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(512, 512))
    with torch.no_grad():
        net[0].weight.fill_(math.nan)
        net[2].weight.fill_(math.inf)
        net[4].weight[3, 7] = -math.inf  # one value in a tensor too large to copy whole (262,144 values)
    return net
'''


def test_torch_nan_and_inf_weights_are_reported_not_crashed_on(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", TORCH_NONFINITE)
    code, out, err = verify(capsys, path, "--format", "json", "-q")
    assert code == 1, err
    data = json.loads(out)
    flagged = {f["parameter"]: f["message"] for f in data["findings"] if f["code"] == "INI607"}
    assert set(flagged) == {"0.weight", "2.weight", "4.weight"}
    assert "1024 of its 1024 values are NaN or infinite" in flagged["0.weight"]
    assert "1 of its 262144 values are NaN or infinite" in flagged["4.weight"]
    by_name = {p["name"]: p for p in data["parameters"]}
    assert "INI607" in by_name["2.weight"]["codes"] and "INI607" not in by_name["0.bias"]["codes"]
    code, out, err = verify(capsys, path, "-q")
    assert code == 1, err
    assert re.search(r"INI607 \[0\.weight\] .*NaN or infinite", out)
    assert re.search(r"INI607 \[4\.weight\] 1 of its 262144 values", out)


def test_keras_nan_weight_is_reported(tmp_path, capsys):
    pytest.importorskip("keras")
    path = write(tmp_path / "model.py", '''
import keras
import numpy as np


def build_model():
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    kernel, bias = model.layers[0].get_weights()
    kernel[:, 0] = np.nan
    model.layers[0].set_weights([kernel, bias])
    return model
''')
    code, out, err = verify(capsys, path, "--format", "json", "-q")
    assert code == 1, err
    data = json.loads(out)
    (finding,) = [f for f in data["findings"] if f["code"] == "INI607"]
    assert finding["parameter"].endswith("kernel") and "8 of its 64 values are NaN or infinite" in finding["message"]
    code, out, _ = verify(capsys, path, "-q")
    assert code == 1 and "INI607" in out


# --- security ------------------------------------------------------------------------------------

UNSAFE_LOAD = re.compile(r"\b(pickle|cPickle|dill|joblib|cloudpickle)\.loads?\("
                         r"|\btorch\.load\((?![^)]*weights_only=True)"
                         r"|allow_pickle\s*=\s*True|\b(np|numpy)\.load\((?![^)]*allow_pickle=False)")


def test_verify_never_loads_a_checkpoint_with_pickle():
    sources = sorted((ROOT / "initlint" / "verify").rglob("*.py"))
    assert len(sources) > 10
    unsafe = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for path in sources
              for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
              if UNSAFE_LOAD.search(line)]
    assert unsafe == []
    assert UNSAFE_LOAD.search("state = torch.load(path)") and not UNSAFE_LOAD.search("torch.load(p, weights_only=True)")
    assert UNSAFE_LOAD.search("np.load(f, allow_pickle=True)") and UNSAFE_LOAD.search("pickle.load(handle)")


def test_help_and_readme_say_verify_runs_the_code_like_pytest():
    help_text = " ".join(run_cli("verify", "--help").stdout.split())
    assert "runs its code, as pytest runs a test file: run it only on code you trust" in help_text
    assert "--timeout SECONDS" in help_text and "--max-memory SIZE" in help_text
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    section = readme[readme.index("## Runtime checks: `initlint verify`"):readme.index("## flake8")]
    assert "as pytest does" in section and "only on code you trust" in section
    assert "`--timeout SECONDS`" in section and "`--max-memory SIZE`" in section and "weights_only=True" in section
