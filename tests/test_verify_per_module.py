"""Verification one module at a time (models bigger than memory): built on the meta device, each parameter
made on the CPU by replaying the build's own initialisation, tested and freed. On models that fit, the
per-module and whole-model modes must find the same (the forward-pass checks aside, which need the whole
model and are said not to run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import write

pytest.importorskip("numpy")
pytest.importorskip("scipy")
torch = pytest.importorskip("torch")

import initlint  # noqa: E402
from initlint.verify import VerifyError, verify_file  # noqa: E402

FORWARD = {"INI605", "INI606"}  # need the whole model at once


def _found(report):
    return sorted((f.code, f.parameter) for f in report.findings if f.code not in FORWARD)


def _both(builder, **options):
    whole = initlint.verify(builder, per_module=False, **options)
    split = initlint.verify(builder, per_module=True, **options)
    assert split.device.startswith("cpu (per module")
    assert [r.info.name for r in split.tensors] == [r.info.name for r in whole.tensors]
    return whole, split


# --- a torch.nn model with real bugs ---------------------------------------------------------------------

class Buggy(torch.nn.Module):
    """Identical layers (one seed set again before each init), a layer cloned by deepcopy, a weight clamped
    after its init (its std is no longer the declared one), and a truncated He init that cuts its own std."""

    def __init__(self):
        super().__init__()
        import copy
        import math

        self.stem = torch.nn.Linear(48, 96)
        self.blocks = torch.nn.ModuleList([torch.nn.Linear(96, 96) for _ in range(3)])
        for block in self.blocks:
            torch.manual_seed(7)
            torch.nn.init.kaiming_normal_(block.weight, nonlinearity="relu")
        self.twin = copy.deepcopy(self.stem)
        self.clamped = torch.nn.Linear(96, 96)
        torch.nn.init.normal_(self.clamped.weight, std=0.5)
        self.clamped.weight.data.clamp_(-0.5, 0.5)
        self.cut = torch.nn.Linear(96, 96)
        he = math.sqrt(2.0 / 96)
        torch.nn.init.trunc_normal_(self.cut.weight, std=he, a=-2 * he, b=2 * he)
        self.head = torch.nn.Linear(96, 4)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        for block in self.blocks:
            x = torch.relu(block(x))
        return self.head(torch.relu(self.cut(torch.relu(self.clamped(x)))))


def test_per_module_finds_what_the_whole_model_finds_on_a_buggy_torch_model():
    whole, split = _both(Buggy)
    found = _found(split)
    assert found == _found(whole)
    codes = {code for code, _ in found}
    assert {"INI601", "INI602", "INI604"} <= codes
    assert ("INI604", "blocks.1.weight") in found and ("INI604", "blocks.2.weight") in found  # one seed, set again
    assert ("INI601", "clamped.weight") in found and ("INI601", "cut.weight") in found
    copied = next(f for f in split.findings if f.parameter == "twin.weight" and f.code == "INI604")
    assert "deep-copied" in copied.message  # the copy is known as a copy on the meta device too
    assert any("did not run" in note and "INI605" in note for note in split.notes)
    assert not split.signal


def test_per_module_on_a_clean_model_finds_nothing_and_tests_every_tensor():
    def build():
        torch.manual_seed(3)
        return torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128),
                                   torch.nn.ReLU(), torch.nn.Linear(128, 10))

    whole, split = _both(build)
    assert _found(whole) == _found(split) == []
    assert all(r.moments is not None and r.verdict != "not tested" for r in split.tensors)
    for mine, theirs in zip(split.tensors, whole.tensors):  # the same laws declared, the same fans
        assert mine.info.declared.label() == theirs.info.declared.label()
        assert mine.expect.std == pytest.approx(theirs.expect.std)
        assert mine.moments.std == pytest.approx(theirs.moments.std, rel=0.15)


def test_replay_leaves_the_random_state_as_the_build_left_it():
    def build():
        return torch.nn.Linear(16, 16)

    torch.manual_seed(123)
    initlint.verify(build, per_module=True, seed=5)
    after = torch.get_rng_state()
    torch.manual_seed(5)  # verify seeds the build with --seed; on the meta device the build draws nothing
    assert torch.equal(after, torch.get_rng_state())


# --- transformers: a small Llama -------------------------------------------------------------------------

def _llama(**extra):
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(hidden_size=64, intermediate_size=176, num_hidden_layers=3,
                                      num_attention_heads=4, num_key_value_heads=2, vocab_size=500, **extra)
    return transformers.LlamaForCausalLM(config)


def test_small_llama_same_findings_and_transformers_own_init_replayed():
    whole, split = _both(_llama)
    assert _found(whole) == _found(split) == []
    by_name = {r.info.name: r for r in split.tensors}
    # transformers skips _init_weights on the meta device: run there it must still declare normal_(std=0.02)
    q = by_name["model.layers.0.self_attn.q_proj.weight"]
    assert q.info.declared.label() == "normal_(std=0.02)"
    assert q.moments.std == pytest.approx(0.02, rel=0.05)
    assert by_name["model.norm.weight"].moments.min == by_name["model.norm.weight"].moments.max == 1.0


def test_small_llama_with_a_seed_set_again_per_layer_same_findings():
    def build():
        model = _llama()
        for layer in model.model.layers:
            torch.manual_seed(0)
            torch.nn.init.normal_(layer.mlp.down_proj.weight, std=0.02)
        return model

    whole, split = _both(build)
    found = _found(split)
    assert found == _found(whole)
    assert ("INI604", "model.layers.1.mlp.down_proj.weight") in found
    assert ("INI604", "model.layers.2.mlp.down_proj.weight") in found


def test_tied_embeddings_tested_once_in_both_modes():
    whole, split = _both(lambda: _llama(tie_word_embeddings=True))
    names = [r.info.name for r in split.tensors]
    assert "lm_head.weight" not in names and "model.embed_tokens.weight" in names
    assert any("tied" in note and "lm_head.weight is model.embed_tokens.weight" in note for note in split.notes)
    assert _found(whole) == _found(split) == []


# --- what cannot be replayed is named, the rest is tested ----------------------------------------------

def test_writes_that_cannot_be_replayed_are_named_and_the_rest_tested():
    def build():
        torch.manual_seed(1)
        net = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Linear(64, 64), torch.nn.Linear(64, 64),
                                  torch.nn.Linear(64, 8))
        with torch.no_grad():
            net[1].weight.copy_(torch.ones(64, 64) + net[2].weight)  # values computed from other tensors
            torch._foreach_mul_([net[3].weight, net[3].bias], 0.5)  # one tensor op across modules
        return net

    report = initlint.verify(build, per_module=True)
    by_name = {r.info.name: r for r in report.tensors}
    for name in ("1.weight", "3.weight", "3.bias"):
        assert by_name[name].verdict == "not tested" and by_name[name].moments is None
    assert "another tensor" in by_name["1.weight"].notes[0]
    assert "_foreach_mul_" in by_name["3.weight"].notes[0]
    note = next(n for n in report.notes if "could not be tested" in n)
    assert "1.weight" in note and "3.weight" in note and "3 of 8" in note
    assert by_name["0.weight"].moments is not None and by_name["2.weight"].moments is not None
    assert not report.findings


def test_parameters_sharing_one_storage_are_replayed_together():
    class Flat(torch.nn.Module):
        def __init__(self):
            super().__init__()
            buffer = torch.empty(2 * 64 * 64)
            torch.nn.init.normal_(buffer, std=0.05)
            self.a = torch.nn.Parameter(buffer[: 64 * 64].view(64, 64))
            self.b = torch.nn.Parameter(buffer[64 * 64:].view(64, 64))

        def forward(self, x):
            return x @ self.a @ self.b

    whole, split = _both(Flat)
    assert _found(whole) == _found(split) == []
    for result in split.tensors:
        assert result.moments.std == pytest.approx(0.05, rel=0.1)


def test_automatic_when_the_parameters_would_not_fit(monkeypatch):
    from initlint.verify import memory

    calls = []

    def build():
        calls.append(1)
        return torch.nn.Linear(1024, 1024)  # a 4 MiB weight: an allocation the memory is asked about

    small = initlint.verify(build)
    assert small.device == "cpu" and small.signal  # fits: the whole model, with its forward pass
    assert len(calls) == 1  # built once: no second build merely to learn its size
    monkeypatch.setattr(memory, "available_memory", lambda: 1 << 30)  # 2 GiB of headroom cannot fit in 1
    for options in ({}, {"max_memory": None}, {"max_memory": 1 << 40}):  # --max-memory bounds the build only
        calls.clear()
        report = initlint.verify(build, **options)
        assert report.device.startswith("cpu (per module"), options
        assert len(calls) == 2  # refused part-way for real, then on the meta device
        assert any("too big to verify whole: 4.0 MiB of parameters, 1.0 GiB available" in note
                   for note in report.notes), report.notes
        assert _found(report) == _found(small)
    assert initlint.verify(build, per_module=False).device == "cpu"


def test_many_small_tensors_are_asked_about_too(monkeypatch):
    # every allocation under 1 MiB, 8 MiB in all: the automatic choice still sees them
    from initlint.verify import memory

    monkeypatch.setattr(memory, "available_memory", lambda: 1 << 30)
    report = initlint.verify(lambda: torch.nn.Sequential(*[torch.nn.Linear(256, 256) for _ in range(32)]))
    assert report.device.startswith("cpu (per module")


def test_a_too_big_build_that_cannot_run_on_meta_is_built_whole(monkeypatch):
    from initlint.verify import memory

    def build():
        net = torch.nn.Linear(1024, 1024)
        if net.weight.sum().item() > 1e9:  # no values on the meta device
            raise RuntimeError("unreachable")
        return net

    monkeypatch.setattr(memory, "available_memory", lambda: 1 << 30)  # room for the build, not the headroom
    assert initlint.verify(build).device == "cpu"


def test_automatic_choice_follows_the_build_functions_imports_not_the_processes(monkeypatch):
    # a test run or a notebook that imported TensorFlow for another model: a PyTorch build function is
    # still judged by what its own module imports (as the CLI judges a model file by its imports)
    from initlint.verify import memory

    pytest.importorskip("tensorflow")
    monkeypatch.setattr(memory, "available_memory", lambda: 1 << 30)
    report = initlint.verify(lambda: torch.nn.Linear(1024, 1024))
    assert report.device.startswith("cpu (per module")


def test_max_memory_bounds_each_module_too():
    with pytest.raises(VerifyError, match="more memory than --max-memory 1.0 MiB"):
        initlint.verify(lambda: torch.nn.Linear(1024, 1024), per_module=True, max_memory=1 << 20)
    report = initlint.verify(lambda: torch.nn.Linear(1024, 1024), per_module=True, max_memory=64 << 20)
    assert all(r.moments is not None for r in report.tensors)


def test_a_build_that_fails_on_meta_is_an_error_when_asked_and_whole_model_otherwise():
    def build():
        net = torch.nn.Linear(8, 8)
        if net.weight.sum().item() > 1e9:  # no values on the meta device
            raise RuntimeError("unreachable")
        return net

    with pytest.raises(VerifyError, match="build"):
        initlint.verify(build, per_module=True)
    assert initlint.verify(build).device == "cpu"
    with pytest.raises(VerifyError, match="already built"):
        initlint.verify(torch.nn.Linear(4, 4), per_module=True)


# --- the command ----------------------------------------------------------------------------------------

MODEL = '''
import torch
from torch import nn


def build_model():
    net = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))
    nn.init.normal_(net[2].weight, std=1.0)
    net[2].weight.data.clamp_(-1, 1)
    return net
'''


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([sys.executable, "-m", "initlint", "verify", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_per_module_json_is_one_document_and_matches_whole_model(tmp_path):
    path = str(write(tmp_path / "model.py", MODEL))
    split = _cli(path, "--per-module", "--progress", "--format", "json")
    whole = _cli(path, "--whole-model", "--format", "json")
    assert split.returncode == whole.returncode == 1, split.stderr
    mine, theirs = json.loads(split.stdout), json.loads(whole.stdout)
    assert mine["device"].startswith("cpu (per module")

    def found(document):
        return sorted((f["code"], f["parameter"]) for f in document["findings"] if f["code"] not in FORWARD)

    assert found(mine) == found(theirs) == [("INI601", "2.weight"), ("INI602", "2.weight")]
    assert "one module at a time" in split.stderr
    assert any("INI606" in note for note in mine["forward"]["notes"])
    both = _cli(path, "--per-module", "--whole-model")
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_verify_file_per_module_links_static_findings(tmp_path):
    path = write(tmp_path / "model.py", MODEL)
    report = verify_file(str(path), per_module=True)
    assert report.device.startswith("cpu (per module")
    assert {f.code for f in report.findings} == {"INI601", "INI602"}
    assert all(f.path and f.path.endswith("model.py") for f in report.findings)


# --- the replay itself -------------------------------------------------------------------------------------

def test_random_streams_follow_seeds_generators_and_what_was_drawn_before():
    def build():
        net = torch.nn.ModuleList([torch.nn.Linear(64, 64) for _ in range(6)])
        for index in (0, 1):  # a fresh generator of one seed for each: identical
            torch.nn.init.normal_(net[index].weight, std=0.1, generator=torch.Generator().manual_seed(3))
        torch.manual_seed(9)
        torch.nn.init.normal_(net[2].weight, std=0.1)
        torch.manual_seed(9)  # the same seed, but something else drawn first: not identical
        torch.nn.init.normal_(net[3].bias, std=0.1)
        torch.nn.init.normal_(net[3].weight, std=0.1)
        torch.nn.init.normal_(net[4].weight, std=0.1)  # the stream goes on: neither
        return net

    whole, split = _both(build)
    assert _found(split) == _found(whole) == [("INI604", "1.weight")]


def test_a_write_to_part_of_a_tensor_is_replayed_on_that_part():
    from initlint.verify import per_module
    from initlint.verify.runner import Run

    def build():
        return torch.nn.Embedding(50, 16, padding_idx=3)  # torch zeroes the padding row after its normal_

    run = Run(per_module=True)
    run.adapter("torch")
    with run.recording_context():
        model, log, _ = run.build_per_module("build", build)
    weight = model.weight
    assert weight.is_meta and log.why_not(weight) is None
    values = log.materialise(weight).view(50, 16)
    assert torch.count_nonzero(values[3]) == 0 and torch.count_nonzero(values[4]) == 16
    assert values.std().item() == pytest.approx(1.0, rel=0.15)
    assert per_module.parameter_bytes(model) == 50 * 16 * 4


def test_progress_ticks_say_tensors_done_and_eta_only_when_asked(tmp_path, monkeypatch):
    from initlint.verify import per_module

    monkeypatch.setattr(per_module, "TICK", 0.0)
    path = str(write(tmp_path / "model.py", MODEL))
    for ticks in (True, False):
        messages = []
        verify_file(path, per_module=True, progress=messages.append, ticks=ticks)
        counted = [m for m in messages if "tensors," in m and "ETA" in m]
        assert bool(counted) is ticks
    assert counted == [] and any("one module at a time" in m for m in messages)


def test_a_parameter_copied_into_another_replays_to_the_same_values():
    def build():
        torch.manual_seed(2)
        net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 64), torch.nn.Linear(64, 64))
        with torch.no_grad():
            net[1].weight.copy_(net[0].weight)  # a layer copied, as it was then
            net[2].weight.copy_(net[0].weight)
            net[2].weight.mul_(0.5)  # ... and changed afterwards: no longer identical
        return net

    whole, split = _both(build)
    assert _found(split) == _found(whole) == [("INI604", "1.weight")]


def _transformers_model(kind):
    T = pytest.importorskip("transformers")
    if kind == "bert":
        return T.BertModel(T.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                        intermediate_size=128, vocab_size=500))
    if kind == "gpt2":  # its residual projections get 0.02 / sqrt(2 n_layer) from its own _init_weights
        return T.GPT2LMHeadModel(T.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=500, bos_token_id=0,
                                              eos_token_id=0))
    if kind == "t5":
        return T.T5ForConditionalGeneration(T.T5Config(d_model=64, d_ff=128, num_layers=2, num_heads=4, d_kv=16,
                                                       vocab_size=500))
    return T.ResNetModel(T.ResNetConfig(embedding_size=16, hidden_sizes=[16, 32], depths=[1, 1]))


@pytest.mark.parametrize("kind", ["bert", "gpt2", "t5", "resnet"])
def test_transformers_models_same_declarations_and_findings_in_both_modes(kind):
    whole, split = _both(lambda: _transformers_model(kind))
    assert _found(split) == _found(whole)
    assert all(r.moments is not None for r in split.tensors)
    for mine, theirs in zip(split.tensors, whole.tensors):
        assert (mine.info.declared and mine.info.declared.label()) == (theirs.info.declared and
                                                                       theirs.info.declared.label()), mine.info.name


def test_a_parameter_made_from_python_numbers_keeps_them():
    def build():
        net = torch.nn.Linear(8, 8)
        net.logit_scale = torch.nn.Parameter(torch.tensor(2.6592))  # CLIP's
        net.table = torch.nn.Parameter(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        return net

    by_name = {r.info.name: r for r in initlint.verify(build, per_module=True).tensors}
    assert by_name["logit_scale"].moments.mean == pytest.approx(2.6592)
    table = by_name["table"].moments
    assert (table.min, table.max, table.mean) == (1.0, 4.0, 2.5)


def test_one_storage_at_a_time(monkeypatch):
    """Every storage made by replay is freed before the next one is made (the 8B benchmark's memory)."""
    import weakref

    from initlint.verify.replay import ReplayLog

    live, most = [], [0]
    original = ReplayLog.materialise

    def counted(self, tensor, dtype=None):
        flat = original(self, tensor, dtype)
        if flat is not None:
            live.append(weakref.ref(flat))
            most[0] = max(most[0], sum(1 for ref in live if ref() is not None))
        return flat

    monkeypatch.setattr(ReplayLog, "materialise", counted)
    report = initlint.verify(_llama, per_module=True)
    assert len(live) == len(report.tensors) and most[0] == 1
