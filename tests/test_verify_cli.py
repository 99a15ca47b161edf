"""``initlint verify MODEL.py``: discovery, options, output formats, exit codes and every error path.

Most tests call ``initlint.cli.main`` in this process (the frameworks are imported once); one runs the
real command in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from conftest import ROOT, run_cli, write

pytest.importorskip("numpy")
pytest.importorskip("scipy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

from initlint.cli import main  # noqa: E402

TOP_KEYS = ["version", "model", "framework", "device", "parameters", "findings", "forward"]
PARAMETER_KEYS = ["name", "shape", "fan_in", "fan_out", "initializer", "expected_std", "mean", "std", "min", "max",
                  "codes"]
FINDING_KEYS = ["code", "parameter", "message", "source", "confirms", "path", "line", "column", "linked", "name",
                "p_value"]
CONFIRMS = {"confirmed", "refuted", "not reached", "not measurable", None}
SIGNAL_KEYS = ["name", "kind", "parameter", "std", "activation", "dead_fraction", "saturated_fraction", "group",
               "input_std"]

XAVIER_RELU = '''
from torch import nn


def build_model():
    net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    nn.init.xavier_uniform_(net[0].weight)
    nn.init.kaiming_normal_(net[2].weight, nonlinearity="relu")
    return net
'''

HEALTHY = '''
from torch import nn


def make_model():
    net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    nn.init.kaiming_normal_(net[0].weight, nonlinearity="relu")
    return net
'''


def verify(capsys, *args):
    code = main(["verify", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def torch_required():
    pytest.importorskip("torch")


def test_json_schema_exactly_as_specified(tmp_path):
    """The real command, in a subprocess: exit 1 on findings and the SPEC's JSON object."""
    pytest.importorskip("torch")
    path = write(tmp_path / "model.py", XAVIER_RELU)
    result = run_cli("verify", str(path), "--format", "json", "-q")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == TOP_KEYS
    assert data["version"] == 1 and data["framework"] == "torch" and data["device"] == "cpu"
    assert data["model"].endswith("model.py:build_model")
    assert data["parameters"] and all(list(p) == PARAMETER_KEYS for p in data["parameters"])
    first = data["parameters"][0]
    assert first["name"] == "0.weight" and first["shape"] == [64, 64] and first["fan_in"] == 64
    assert first["initializer"].startswith("xavier_uniform_") and first["codes"] == ["INI605"]
    assert first["expected_std"] == pytest.approx((2 / 128) ** 0.5)
    assert all(list(f) == FINDING_KEYS for f in data["findings"])
    runtime = [f for f in data["findings"] if f["code"].startswith("INI6")]
    static = [f for f in data["findings"] if not f["code"].startswith("INI6")]
    assert all(f["confirms"] in CONFIRMS for f in data["findings"])
    (finding,) = runtime
    assert finding["code"] == "INI605" and finding["path"].endswith("model.py")
    assert (finding["line"], finding["column"]) == (7, 5)  # nn.init.xavier_uniform_(...), as check counts
    assert finding["source"] == f"{finding['path']}:7:5" and finding["name"] == "scale-off-activation-target"
    assert [(f["code"], f["confirms"], f["line"], f["linked"]) for f in static] == [("INI201", "confirmed", 7, None)]
    assert finding["confirms"] == "confirmed"
    assert finding["linked"] == {"code": "INI201", "path": static[0]["path"], "line": 7, "column": static[0]["column"]}
    forward = data["forward"]
    assert forward["input_shape"] == [32, 64] and "standard-normal" in forward["input"]
    assert [layer["name"] for layer in forward["layers"]] == ["0", "2", "4"]
    assert all(list(layer) == SIGNAL_KEYS for layer in forward["layers"])
    assert forward["layers"][0]["activation"] == "relu" and forward["layers"][0]["parameter"] == "0.weight"
    assert "Traceback" not in result.stderr


def test_text_table_and_exit_codes(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", XAVIER_RELU)
    code, out, err = verify(capsys, path)
    assert code == 1
    header = out.splitlines()[2]
    for column in ("parameter", "shape", "fans (in/out)", "declared init", "expected", "measured", "ratio", "verdict"):
        assert column in header
    assert "INI605 [0.weight] scale below the relu target" in out
    assert "Forward pass at init on a standard-normal input of shape 32x64" in out
    lines = out.splitlines()
    table = lines[2:lines.index("", 2)]
    forward = lines[lines.index("Forward pass at init on a standard-normal input of shape 32x64 (output std of each "
                                "layer, and of each repeated block):") + 1:]
    assert len(table) == 7 and max(len(line) for line in table + forward[:4]) <= 120
    healthy = write(tmp_path / "healthy.py", HEALTHY)
    code, out, _ = verify(capsys, healthy)  # make_model is found too
    assert code == 0 and "No findings" in out and ":make_model" in out


def test_seed_makes_a_run_repeatable(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", HEALTHY)
    runs = [verify(capsys, path, "--format", "json", "--seed", seed, "-q")[1] for seed in (7, 7, 8)]
    assert runs[0] == runs[1]
    assert json.loads(runs[0])["parameters"][0]["std"] != json.loads(runs[2])["parameters"][0]["std"]


def test_import_error_exits_2_with_the_users_traceback(tmp_path, capsys, torch_required):
    path = write(tmp_path / "broken.py", "import torch\n\n\ndef helper():\n    return undefined_name\n\n\nhelper()\n")
    code, out, err = verify(capsys, path)
    assert code == 2 and out == ""
    assert "Traceback (most recent call last):" in err
    assert f'File "{path}", line 8' in err and f'File "{path}", line 5, in helper' in err
    assert "NameError: name 'undefined_name' is not defined" in err
    assert "initlint/verify" not in err and "importlib" not in err
    assert err.rstrip().splitlines()[-1].startswith("initlint verify: error:")


def test_build_error_exits_2_with_the_users_traceback(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", "from torch import nn\n\n\ndef build_model():\n    return nn.Linear(4)\n")
    code, _, err = verify(capsys, path)
    assert code == 2
    assert f'File "{path}", line 5, in build_model' in err and "TypeError" in err
    assert "build_model() raised TypeError" in err


@pytest.mark.parametrize("source,message", [
    ("import torch\n\ndef helper(x):\n    return x\n\nCONSTANT = 3\n",
     "no build_model/make_model/create_model/get_model function and no model object"),
    ("from torch import nn\n\na = nn.Linear(2, 2)\nb = nn.Linear(2, 2)\n",
     "2 model objects (a, b); choose one with --entry"),
])
def test_no_single_model_is_a_clear_error(tmp_path, capsys, torch_required, source, message):
    path = write(tmp_path / "model.py", source)
    code, _, err = verify(capsys, path)
    assert code == 2 and message in err


def test_the_only_model_object_is_found(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", "from torch import nn\n\nnet = nn.Sequential(nn.Linear(8, 8))\n")
    code, out, _ = verify(capsys, path, "-q")
    assert code == 0 and ":net (torch" in out


def test_candidates_are_listed(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", "from torch import nn\n\n\ndef small():\n    return nn.Linear(2, 2)\n\n\n"
                                        "def sized(n):\n    return nn.Linear(n, n)\n")
    code, _, err = verify(capsys, path)
    assert code == 2 and "candidates: small()" in err and "sized" not in err
    code, out, _ = verify(capsys, path, "--entry", "small", "-q")
    assert code == 0
    code, _, err = verify(capsys, path, "--entry", "missing")
    assert code == 2 and "no 'missing'" in err and "small()" in err


def test_entry_that_is_not_a_model(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", "import torch\n\n\ndef build_model():\n    return [1, 2]\n\nVALUE = 3\n")
    code, _, err = verify(capsys, path)
    assert code == 2 and "is a list, not a PyTorch, Keras or Flax model" in err
    code, _, err = verify(capsys, path, "--entry", "VALUE")
    assert code == 2 and "VALUE is a int" in err


def test_lazy_model_needs_an_input_shape(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", "from torch import nn\n\n\ndef build_model():\n"
                                        "    return nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))\n")
    code, _, err = verify(capsys, path)
    assert code == 2 and "lazy layers" in err and "--input-shape" in err
    code, out, _ = verify(capsys, path, "--input-shape", "2,4", "-q")
    assert code == 0 and "8x4" in out
    code, _, err = verify(capsys, path, "--input-shape", "2,x")
    assert code == 2 and "expected integers" in err


def test_meta_device_is_a_clear_error(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", "import torch\nfrom torch import nn\n\n\ndef build_model():\n"
                                        "    with torch.device('meta'):\n        return nn.Linear(4, 4)\n")
    code, _, err = verify(capsys, path)
    assert code == 2 and "meta device" in err


def test_flax_module_needs_an_input_shape(tmp_path, capsys):
    pytest.importorskip("flax")
    path = write(tmp_path / "model.py", "import flax.linen as nn\n\n\ndef build_model():\n    return nn.Dense(4)\n")
    code, _, err = verify(capsys, path)
    assert code == 2 and "--input-shape" in err
    code, out, _ = verify(capsys, path, "--input-shape", "2,3", "-q")
    assert code == 0 and "kernel" in out


def test_keras_model_without_weights_needs_an_input_shape(tmp_path, capsys):
    pytest.importorskip("keras")
    path = write(tmp_path / "model.py", "import keras\n\n\ndef build_model():\n"
                                        "    return keras.Sequential([keras.layers.Dense(4, activation='relu'), "
                                        "keras.layers.Dense(1)])\n")
    code, _, err = verify(capsys, path)
    assert code == 2 and "no weights yet" in err
    code, out, _ = verify(capsys, path, "--input-shape", "2,3", "-q")
    assert code == 0


def test_cuda_without_a_gpu_is_a_clear_error(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is here: tests/test_verify_gpu.py covers --device cuda")
    path = write(tmp_path / "model.py", HEALTHY)
    code, out, err = verify(capsys, path, "--device", "cuda")
    assert code == 2 and out == ""
    assert "--device cuda: no CUDA device is available" in err


def test_framework_option_and_unknown_file(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", HEALTHY)
    code, out, _ = verify(capsys, path, "--framework", "torch", "-q")
    assert code == 0
    code, _, err = verify(capsys, tmp_path / "missing.py")
    assert code == 2 and "No such file" in err


def test_plot_draws_the_flagged_tensors(tmp_path, capsys, torch_required):
    pytest.importorskip("matplotlib")
    path = write(tmp_path / "model.py", XAVIER_RELU)
    image = tmp_path / "hist.png"
    code, _, err = verify(capsys, path, "--plot", image)
    assert code == 1 and f"wrote {image} (1 tensor)" in err
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 10_000
    healthy = write(tmp_path / "healthy.py", HEALTHY)
    other = tmp_path / "none.png"
    code, _, err = verify(capsys, healthy, "--plot", other)
    assert code == 0 and not other.exists() and "nothing flagged to plot" in err


def test_progress_on_a_large_model(tmp_path, capsys, torch_required):
    path = write(tmp_path / "model.py", "from torch import nn\n\n\ndef build_model():\n"
                                        "    return nn.Sequential(*[nn.Linear(32, 32) for _ in range(60)])\n")
    code, _, err = verify(capsys, path)
    assert "initlint: measuring 120 tensors" in err and "initlint: verified in" in err
    code, _, err = verify(capsys, path, "-q")
    assert err == ""


def test_verify_help_and_no_framework_at_check_startup():
    result = run_cli("verify", "--help")
    assert result.returncode == 0
    for option in ("--entry", "--input-shape", "--framework", "--device", "--seed", "--format", "--plot"):
        assert option in result.stdout
    probe = ("import sys, initlint; initlint.check_source('x = 1');"
             "assert 'numpy' not in sys.modules and 'torch' not in sys.modules;"
             "assert callable(initlint.verify) and 'numpy' not in sys.modules; print('ok')")
    result = __import__("subprocess").run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "ok", result.stderr


def test_flax_nnx_is_a_clear_error():
    nnx = pytest.importorskip("flax.nnx")
    import initlint

    with pytest.raises(initlint.verify.VerifyError) as info:
        initlint.verify(nnx.Linear(2, 3, rngs=nnx.Rngs(0)))
    assert "Flax NNX modules are not supported yet" in info.value.message
