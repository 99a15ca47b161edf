"""``--device cuda``: the model is built and measured on the GPU. Skipped where there is none (CI)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

if not torch.cuda.is_available():
    pytest.skip("no CUDA device here", allow_module_level=True)

import initlint  # noqa: E402


def build():
    net = torch.nn.Sequential(torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                              torch.nn.ReLU(), torch.nn.Linear(512, 10))
    torch.nn.init.xavier_uniform_(net[0].weight)
    torch.nn.init.kaiming_normal_(net[2].weight, nonlinearity="relu")
    return net


def test_verify_builds_and_measures_on_the_gpu():
    report = initlint.verify(build, framework="torch", device="cuda", seed=0)
    assert report.device.startswith("cuda")
    assert [(f.code, f.parameter) for f in report.findings] == [("INI605", "0.weight")]
    cpu = initlint.verify(build, framework="torch", device="cpu", seed=0)
    assert [(f.code, f.parameter) for f in cpu.findings] == [(f.code, f.parameter) for f in report.findings]
    for gpu_result, cpu_result in zip(report.tensors, cpu.tensors):
        if gpu_result.expect is not None and gpu_result.expect.std:
            assert gpu_result.moments.std / gpu_result.expect.std == pytest.approx(1.0, abs=0.1)


class _StaysPut(torch.nn.Module):
    """A model whose .to() leaves it where it is, as FSDP2 on a CPU device mesh does."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(256, 256, device="cpu")  # on the CPU whatever the default device
        torch.nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")

    def forward(self, x):
        return torch.relu(self.fc(x.to(self.fc.weight.device)))

    def to(self, *args, **kwargs):
        return self


def test_a_model_that_stays_on_the_cpu_under_device_cuda_is_said_so():
    report = initlint.verify(_StaysPut, framework="torch", device="cuda", seed=0, input_shape=(2, 256))
    assert report.device == "cpu"
    assert any("--device cuda was asked, but the model's parameters are on cpu" in note for note in report.notes)
