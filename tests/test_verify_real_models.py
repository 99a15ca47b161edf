"""``initlint verify`` on the models people build: transformers, torch.nn, keras.applications and Flax models
built from config (``tests/data/real_models/``, no download), each with the defaults.

Each healthy model gets no finding; ``nn.TransformerEncoder(layer, N)`` (its layers deep copies of one)
gets INI604 on every copy, saying so. The command, ``initlint.verify`` and ``verify_file`` give the same
report, and two runs with the same seed the same JSON. The recording tests build models whose
initialisers a name patch would miss (transformers' table of torch's initialisers, a function bound
before the recording) or whose declared values were overwritten afterwards.

The whole suite is slow (minutes: TensorFlow and JAX compile, every model is built several times); a fast
subset of small torch models runs everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

import initlint
from initlint.verify import verify_file

from conftest import IN_CI, ROOT

RUN_SLOW = IN_CI or os.environ.get("INITLINT_SLOW", "") not in ("", "0")


def slow(test):
    """Minutes of work (TensorFlow and JAX compile, every model built several times): INITLINT_SLOW=1, or CI."""
    skip = pytest.mark.skipif(not RUN_SLOW, reason="minutes of real models: INITLINT_SLOW=1 (always in CI)")
    return pytest.mark.slow(skip(test))


MODELS = ROOT / "tests" / "data" / "real_models"
CLONED = {f"layers.{i}.{name}" for i in (1, 2) for name in
          ("self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight", "linear2.weight")}

# model -> the findings expected of it ({code: set of parameters}); every other model: none
EXPECTED = {
    "torch_encoder_clones": {"INI604": CLONED},
    # a real bug in keras_hub 0.32: LlamaAttention passes one initialiser instance to its query, key, value and
    # output EinsumDense layers; a Keras 3 instance draws the same numbers at every call, so the key and value
    # kernels (the same shape under grouped-query attention) start identical in every layer (INI303's bug)
    "kerashub_llama": {"INI604": {f"transformer_layer_{i}/self_attention/key/kernel" for i in (0, 1)}},
}
# model -> codes not judged here, and why (none: DETR's dead ReLUs behind its zero queries and EfficientNet's
# squeeze-excitation gates are told apart from the bugs they resemble, tests/test_verify_lookalikes.py)
EXCLUDED: dict = {}
# model -> what --strict adds (a library's own choices, judged only then)
STRICT = {
    # transformers' _init_weights gives DETR's ReLU MLPs std 0.02 (0.16 / sqrt(fan) where ReLU needs 1.41):
    # real, low impact (the encoder and decoder ones are residual branches; the box head is two layers deep)
    "hf_detr": {"INI605": {"model.encoder.layers.0.mlp.fc1.weight", "model.encoder.layers.1.mlp.fc1.weight",
                           "model.decoder.layers.0.mlp.fc1.weight", "model.decoder.layers.1.mlp.fc1.weight",
                           "bbox_predictor.layers.0.weight", "bbox_predictor.layers.1.weight"}},
    "keras_efficientnetb0": {},  # its squeeze-excitation convs are gates, not judged even then
}
FAST = ("torch_encoder_clones", "torch_attention", "torch_lstm", "torch_gru", "torch_transformer", "hf_bert",
        "hf_llama", "hf_resnet")
ALL = sorted(p.stem for p in MODELS.glob("*.py"))
NEEDS = {"hf": "transformers", "torch": "torch", "keras": "keras", "flax": "flax", "kerashub": "keras_hub"}


def _needs(name: str) -> None:
    pytest.importorskip(NEEDS[name.split("_")[0]])
    if name.startswith("hf_"):
        pytest.importorskip("torch")


def _input_shape(name: str):
    spec = importlib.util.spec_from_file_location(f"_shape_{name}", MODELS / f"{name}.py")
    source = (MODELS / f"{name}.py").read_text()
    if "INPUT_SHAPE" not in source:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.INPUT_SHAPE


def _judged(report, name: str):
    skip = EXCLUDED.get(name, set())
    found = {}
    for finding in report.findings:
        if finding.code not in skip:
            found.setdefault(finding.code, set()).add(finding.parameter)
    return found


def _runtime_json(report) -> dict:
    data = report.to_json()
    codes = {f.code for f in report.findings}
    # runtime findings only, without the static finding each confirms (its verdict and the link to it): the
    # API has no file to read
    data["findings"] = [{k: v for k, v in f.items() if k not in ("confirms", "linked")} for f in data["findings"]
                        if f["code"] in codes]
    data.pop("model")
    return data


def _check(name: str) -> None:
    _needs(name)
    report = verify_file(str(MODELS / f"{name}.py"), input_shape=_input_shape(name), seed=0)
    assert _judged(report, name) == EXPECTED.get(name, {}), [f.text() for f in report.findings]
    if name == "torch_encoder_clones":  # a clear finding: it says where the copies come from
        assert all("deep-copied" in f.message and "TransformerEncoder" in f.message for f in report.findings)


@slow
@pytest.mark.parametrize("name", sorted(STRICT))
def test_real_model_strict(name):
    _needs(name)
    report = verify_file(str(MODELS / f"{name}.py"), input_shape=_input_shape(name), seed=0, strict=True)
    assert _judged(report, name) == STRICT[name], [f.text() for f in report.findings]


@pytest.mark.parametrize("name", FAST)
def test_real_model_fast(name):
    _check(name)


@slow
@pytest.mark.parametrize("name", [n for n in ALL if n not in FAST])
def test_real_model(name):
    _check(name)


def _cli_json(name: str, *extra: str) -> dict:
    shape = _input_shape(name)
    args = [sys.executable, "-m", "initlint", "verify", str(MODELS / f"{name}.py"), "--format", "json", *extra]
    if shape:
        args += ["--input-shape", ",".join(str(d) for d in shape)]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(args, capture_output=True, text=True, cwd=str(ROOT), env=env, timeout=900)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return done.stdout


def _same_everywhere(name: str) -> None:
    """CLI = verify_file = initlint.verify(build_model) on one model, the command's JSON byte for byte."""
    _needs(name)
    path = MODELS / f"{name}.py"
    shape = _input_shape(name)
    first = _cli_json(name)
    cwd = os.getcwd()
    os.chdir(ROOT)  # where the command ran: sources are shown relative to it
    try:
        file_report = verify_file(str(path), input_shape=shape, seed=0)
        spec = importlib.util.spec_from_file_location(f"_api_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        api_report = initlint.verify(module.build_model, input_shape=shape, seed=0)
    finally:
        os.chdir(cwd)
    # two runs, in two processes, one with the frameworks already imported: the same bytes (every generator seeded)
    assert json.dumps(file_report.to_json(), indent=2) + "\n" == first
    assert _runtime_json(api_report) == _runtime_json(file_report)


def test_cli_api_and_verify_file_agree():
    _same_everywhere("torch_encoder_clones")


def test_a_model_file_importing_transformers_alone_is_seeded_and_recorded():
    # `import transformers` imports no torch: the model class, used first inside build_model(), does. The command
    # must still seed torch and record its initialisers (it gave unseeded numbers and no declarations)
    _same_everywhere("hf_resnet")


@slow
@pytest.mark.parametrize("name", [n for n in ALL if n != "torch_encoder_clones"])
def test_cli_api_and_verify_file_agree_on_the_suite(name):
    _same_everywhere(name)


# --- recording that sees what the libraries do -----------------------------------------------------------


def _declared(report):
    return {r.info.name: r.info.declared for r in report.tensors}


def test_transformers_init_is_recorded_through_its_table_of_torch_inits():
    """transformers calls torch's initialisers through a table made at its import (and swaps its guarded
    versions into torch.nn.init while it initialises): every re-initialised tensor is declared as it was
    re-initialised, whoever imported transformers first, however often."""
    pytest.importorskip("transformers")
    from transformers import BertConfig, BertModel

    def build_model():
        return BertModel(BertConfig(num_hidden_layers=1, hidden_size=64, intermediate_size=128,
                                    num_attention_heads=2, vocab_size=500))

    for _ in range(2):  # a second recording in the same process sees the same (nothing left patched)
        report = initlint.verify(build_model)
        declared = _declared(report)
        assert declared["encoder.layer.0.attention.self.query.weight"].label() == "normal_(std=0.02)"
        assert declared["encoder.layer.0.attention.self.query.bias"].label() == "zeros_()"
        assert declared["embeddings.word_embeddings.weight"].label() == "normal_(std=0.02)"
        assert report.findings == []
    import torch.nn.init as torch_init
    import transformers.initialization as hf_init

    assert hf_init.TORCH_INIT_FUNCTIONS["normal_"] is torch_init.normal_
    assert torch_init.normal_.__code__.co_filename.endswith("init.py")  # its own code back


def test_an_initialiser_bound_before_the_recording_is_still_recorded():
    torch = pytest.importorskip("torch")
    from torch.nn.init import trunc_normal_  # bound long before any recording

    table = {"init": trunc_normal_}

    def build_model():
        net = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.GELU(), torch.nn.Linear(256, 8))
        table["init"](net[0].weight, std=0.03)
        return net

    report = initlint.verify(build_model)
    assert _declared(report)["0.weight"].label() == "trunc_normal_(std=0.03)"
    assert report.findings == []


def test_values_overwritten_after_initialisation_are_unknown_not_compared():
    torch = pytest.importorskip("torch")

    def build_model():
        net = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.GELU(), torch.nn.Linear(256, 256),
                                  torch.nn.GELU(), torch.nn.Embedding(300, 256))
        with torch.no_grad():
            net[0].weight[:, :128] = 0.05 * torch.randn(256, 128)  # half of it: no longer kaiming_uniform
            net[2].weight.masked_fill_(net[2].weight.abs() > 0.03, 0.01)
            net[4].weight[7].zero_()  # one padding row of 300: the statistics are still the declared ones
        return net

    report = initlint.verify(build_model)
    declared = _declared(report)
    assert declared["0.weight"].unknown and declared["2.weight"].unknown
    assert declared["4.weight"].name == "torch.nn.init.normal_" and not declared["4.weight"].unknown
    assert report.findings == []


def test_a_deep_copy_inherits_the_declaration_and_its_identity_is_reported():
    torch = pytest.importorskip("torch")
    import copy

    def build_model():
        block = torch.nn.Linear(128, 128)
        torch.nn.init.normal_(block.weight, std=0.05)
        return torch.nn.Sequential(*[copy.deepcopy(block) for _ in range(3)])

    report = initlint.verify(build_model)
    declared = _declared(report)
    assert declared["1.weight"].label() == "normal_(std=0.05)" and declared["1.weight"].copied
    ini604 = [f for f in report.findings if f.code == "INI604"]
    assert {f.parameter for f in ini604} == {"1.weight", "2.weight"}
    assert "deep-copied" in ini604[0].message


def test_a_model_handed_over_built_is_not_judged_against_defaults_it_no_longer_has():
    """A model object (no build to record): the layer defaults are assumed only where the values agree."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.GELU(), torch.nn.Linear(256, 256))
    with torch.no_grad():
        net[0].weight.normal_(0, 0.02)
        net[0].bias.zero_()
    report = initlint.verify(net)
    declared = _declared(report)
    assert declared["0.weight"] is None and declared["0.bias"] is None  # overwritten: unknown
    assert declared["2.weight"].assumed  # still the default
    assert report.findings == []


def test_two_runs_with_one_seed_give_the_same_numbers():
    torch = pytest.importorskip("torch")

    def build_model():
        return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4))

    torch.manual_seed(123)  # whatever the generators' state before
    first = initlint.verify(build_model, seed=7).to_json()
    torch.randn(1000)
    assert initlint.verify(build_model, seed=7).to_json() == first
    assert initlint.verify(build_model, seed=8).to_json() != first


def test_keras_names_and_classes_are_the_same_after_a_verification():
    """Keras numbers unnamed layers, variables and eager operations per process: each run counts from zero,
    and the process keeps its own count (whatever it had counted before, as the next unnamed layer shows);
    an initialiser class constructs with arguments after the recording as before it."""
    keras = pytest.importorskip("keras")

    def build_model():
        inputs = keras.Input((8, 8, 3))
        x = keras.layers.ZeroPadding2D(1)(inputs)  # its eager call makes a named "pad" operation
        x = keras.layers.Conv2D(4, 3, activation="relu", kernel_initializer=keras.initializers.HeNormal(seed=1))(x)
        x = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(x))
        return keras.Model(inputs, keras.layers.Dense(4, kernel_initializer=keras.initializers.Constant(0.1))(x))

    model = build_model()  # the process has named some layers already
    model(keras.ops.zeros((1, 8, 8, 3)))  # and some eager operations
    counted = _keras_counts(keras)
    first = initlint.verify(build_model, framework="keras").to_json()
    second = initlint.verify(model, framework="keras").to_json()  # a built model: only its forward pass runs
    assert initlint.verify(build_model, framework="keras").to_json() == first
    assert [p["name"] for p in first["parameters"]][0] == "conv2d/kernel"
    assert {p["name"] for p in second["parameters"]} == {w.path for w in model.weights}  # the user's own names
    assert _keras_counts(keras) == counted  # the process's own count goes on from where it was
    assert keras.initializers.Constant(0.5)((2, 2)).shape == (2, 2)  # the class's constructor works as before


def _keras_counts(keras) -> dict:
    """Keras's per-process name counter (one per name prefix)."""
    from keras.src.backend.common import global_state

    return dict(global_state.get_global_attribute("object_name_uids") or {})
