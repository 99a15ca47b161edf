"""Under torchrun: which backend a process group initlint opens gets, and which GPU each rank uses
(launch.py). The torchrun runs themselves are in test_verify_distributed.py; NCCL needs GPUs (skipped
where there are none)."""

from __future__ import annotations

import types

import pytest

from initlint.verify.launch import SharedGpuError, bind_device, choose_backend, ensure_group, torchrun_ranks


@pytest.mark.parametrize("device, cuda, nccl, backend", [
    ("cpu", False, False, "gloo"),
    ("cpu", True, True, "gloo"),  # a CPU model moves CPU tensors: NCCL cannot
    ("cuda", True, True, "nccl"),
    ("cuda:1", True, True, "nccl"),
    ("cuda", True, False, "gloo"),  # a torch built without NCCL
    ("cuda", False, True, "gloo"),
])
def test_the_backend_follows_the_models_device(device, cuda, nccl, backend):
    assert choose_backend(device, cuda, nccl) == backend


def test_torchrun_is_read_from_its_environment(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert torchrun_ranks() is None
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert torchrun_ranks() == (3, 1, 4)
    monkeypatch.setenv("WORLD_SIZE", "1")  # one process: nothing distributed
    assert torchrun_ranks() is None
    monkeypatch.setenv("WORLD_SIZE", "x")
    assert torchrun_ranks() is None


class FakeCuda:
    def __init__(self, available, count=2):
        self.available, self.count, self.current = available, count, None

    def is_available(self):
        return self.available

    def device_count(self):
        return self.count

    def set_device(self, index):
        self.current = index


class FakeDist:
    def __init__(self, initialized=False, nccl=True):
        self.initialized, self.nccl, self.opened = initialized, nccl, None

    def is_available(self):
        return True

    def is_initialized(self):
        return self.initialized

    def is_nccl_available(self):
        return self.nccl

    def init_process_group(self, backend):
        self.opened = backend


def fake_torch(cuda=True, initialized=False):
    return types.SimpleNamespace(cuda=FakeCuda(cuda), distributed=FakeDist(initialized))


def test_each_rank_binds_its_own_gpu_and_a_missing_group_is_opened(monkeypatch):
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")  # the second rank of the second node
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("WORLD_SIZE", "4")
    torch = fake_torch()
    assert bind_device(torch, "cuda") == 1 and torch.cuda.current == 1
    assert bind_device(torch, "cuda:0") is None  # a device given explicitly is the user's
    assert bind_device(fake_torch(cuda=False), "cuda") is None
    assert bind_device(torch, "cpu") is None
    assert ensure_group(torch, "cuda") == "nccl" and torch.distributed.opened == "nccl"
    cpu = fake_torch()
    assert ensure_group(cpu, "cpu") == "gloo"
    opened = fake_torch(initialized=True)
    assert ensure_group(opened, "cuda") is None and opened.distributed.opened is None  # the build's own group


@pytest.mark.parametrize("local_rank, local_world", [("2", "4"), ("0", "3"), ("2", None)])
def test_more_ranks_on_a_node_than_gpus_is_a_clear_error_before_the_build(monkeypatch, local_rank, local_world):
    """NCCL refuses two ranks on one GPU ("invalid usage"), and gloo's collectives on CUDA tensors crashed
    (SIGSEGV) two ranks sharing one H200: said before the build, with what to do."""
    monkeypatch.setenv("RANK", local_rank)
    monkeypatch.setenv("LOCAL_RANK", local_rank)
    monkeypatch.setenv("WORLD_SIZE", "4")
    if local_world is None:
        monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)  # another launcher: this rank's index tells
    else:
        monkeypatch.setenv("LOCAL_WORLD_SIZE", local_world)
    torch = fake_torch()
    with pytest.raises(SharedGpuError, match=r"needs a GPU for each rank: this node runs [34] ranks and sees 2 "
                                             r"GPUs.*--nproc-per-node 2.*drop --device cuda"):
        bind_device(torch, "cuda")
    assert torch.cuda.current is None
    assert bind_device(torch, "cuda:0") is None  # an explicit GPU is the user's choice


def test_nothing_happens_outside_torchrun(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    torch = fake_torch()
    assert bind_device(torch, "cuda") is None and torch.cuda.current is None
    assert ensure_group(torch, "cuda") is None and torch.distributed.opened is None


def test_the_reports_name_the_ranks_and_backend_only_under_torchrun():
    from initlint.verify.results import Report

    report = Report("m.py:build_model", "torch", "cpu", [], [])
    assert "distributed" not in report.to_json() and report.text().startswith("initlint verify: m.py:build_model "
                                                                              "(torch, cpu)\n")
    report.distributed = {"world_size": 4, "backend": "gloo"}
    assert report.to_json()["distributed"] == {"world_size": 4, "backend": "gloo"}
    assert report.text().startswith("initlint verify: m.py:build_model (torch, cpu, 4 ranks over gloo)\n")
