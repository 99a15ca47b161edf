"""The seeds' models verify as the documents predict (issue 4, first "Done when").

The article: ``truncated_normal(stddev=sqrt(2/fan_in))`` realises 0.8796x the He std, ``he_normal``
does not. The textbook: constant initialisers give identical units; Xavier under ReLU gives a scale
below the ReLU target. Each in the frameworks the seeds use that verify supports (the article's
TF/Keras; the textbook's PyTorch, Keras and Flax; MXNet and TF1 graphs are static-only), plus the
article's experiment ported to PyTorch and Flax.
"""

from __future__ import annotations

import importlib.util
import math
import os

import pytest

from conftest import ROOT, write

pytest.importorskip("numpy")
pytest.importorskip("scipy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

from initlint.verify import verify, verify_file  # noqa: E402

EXAMPLES = ROOT / "examples"
TRUNCATION = 0.87962566103423978


def _example(name):
    spec = importlib.util.spec_from_file_location(f"_seed_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _codes(report, parameter):
    return sorted(f.code for f in report.findings if f.parameter == parameter)


def _static(report, code, line=None):
    return [f for f in report.static if f.code == code and (line is None or f.source.split(":")[1] == str(line))]


# --- the article ---------------------------------------------------------------------------------


def test_article_keras_truncated_normal_is_088_of_the_he_target():
    pytest.importorskip("keras")
    report = verify_file(str(EXAMPLES / "keras_article.py"), seed=1)
    kernels = [r for r in report.tensors if r.info.name.endswith("kernel") and "conv" in r.info.name]
    assert len(kernels) == 4
    for result in kernels:
        he = math.sqrt(2.0 / result.info.fan_in)
        assert result.expect.intended_std == pytest.approx(he)
        assert result.moments.std / he == pytest.approx(TRUNCATION, abs=0.05)
        assert "INI601" in result.codes
    findings = [f for f in report.findings if f.code == "INI601"]
    assert len(findings) == 4
    assert all("He target" in f.message and "before the cut" in f.message for f in findings)
    assert all(f.path.endswith("keras_article.py") and f.line == 26 and f.column == 19 for f in findings)
    # the static INI101 on that line is confirmed; the two in compare(), which build_model never calls, not reached
    (line26,) = _static(report, "INI101", 26)
    assert line26.confirms == "confirmed"
    assert all(f.confirms == "confirmed" and (f.linked.code, f.linked.line) == ("INI101", 26) for f in findings)
    assert sorted(f.confirms for f in _static(report, "INI101") if f is not line26) == ["not reached", "not reached"]
    assert report.exit_code == 1


def test_article_keras_he_normal_passes():
    pytest.importorskip("keras")
    article = _example("keras_article")
    report = verify(lambda: article.build_model(use_he_normal=True), seed=1, framework="keras")
    assert report.findings == []
    for result in report.tensors:
        if "conv" in result.info.name and result.info.name.endswith("kernel"):
            assert result.expect.std == pytest.approx(math.sqrt(2.0 / result.info.fan_in))
            assert result.moments.std / result.expect.std == pytest.approx(1.0, abs=0.06)


ARTICLE_TORCH = '''
import math
from torch import nn


def conv(ch_in, ch_out, tf_style):
    layer = nn.Conv2d(ch_in, ch_out, 3, padding=1)
    std = math.sqrt(2.0 / (ch_in * 3 * 3))
    if tf_style:  # tf.random.truncated_normal's cut at +-2 std, std taken before it
        nn.init.trunc_normal_(layer.weight, std=std, a=-2 * std, b=2 * std)
    else:
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)
    return layer


def build(tf_style):
    return nn.Sequential(conv(3, 32, tf_style), nn.ReLU(), conv(32, 32, tf_style), nn.ReLU(),
                         conv(32, 32, tf_style), nn.ReLU())


def build_model():
    return build(True)


def he_model():
    return build(False)
'''

ARTICLE_FLAX = '''
import math
import flax.linen as nn


class CNN(nn.Module):
    tf_style: bool = True

    @nn.compact
    def __call__(self, x):
        for _ in range(3):
            fan_in = 3 * 3 * x.shape[-1]
            init = (nn.initializers.truncated_normal(stddev=math.sqrt(2.0 / fan_in)) if self.tf_style
                    else nn.initializers.he_normal())
            x = nn.relu(nn.Conv(32, (3, 3), kernel_init=init)(x))
        return x


def build_model():
    return CNN()


def he_model():
    return CNN(tf_style=False)
'''


@pytest.mark.parametrize("framework,source,shape", [("torch", ARTICLE_TORCH, None),
                                                    ("flax", ARTICLE_FLAX, "2,16,16,3")])
def test_article_ported(tmp_path, framework, source, shape):
    pytest.importorskip("torch" if framework == "torch" else "flax")
    path = write(tmp_path / "article.py", source)
    report = verify_file(str(path), input_shape=shape, seed=3)
    kernels = [r for r in report.tensors if r.info.role == "weight"]
    assert len(kernels) == 3
    for result in kernels:
        he = math.sqrt(2.0 / result.info.fan_in)
        assert result.moments.std / he == pytest.approx(TRUNCATION, abs=0.05)
        assert "INI601" in result.codes
    assert {f.code for f in report.findings} == {"INI601"}
    healthy = verify_file(str(path), entry="he_model", input_shape=shape, seed=3)
    assert healthy.findings == []


# --- the textbook ----------------------------------------------------------------------------------

TEXTBOOK = {"torch": ("torch_textbook", None), "keras": ("keras_textbook", None), "flax": ("flax_textbook", "2,4")}


def _textbook(framework, entry):
    """The report, and the first layer's weight (Linear(4, 8) / Dense(4 or 8) with its ReLU)."""
    pytest.importorskip({"torch": "torch", "keras": "keras", "flax": "flax"}[framework])
    name, shape = TEXTBOOK[framework]
    report = verify_file(str(EXAMPLES / f"{name}.py"), entry=entry, input_shape=shape, seed=0)
    return report, [r for r in report.tensors if r.info.role == "weight"][0]


@pytest.mark.parametrize("framework", sorted(TEXTBOOK))
def test_textbook_constant_init_reports_identical_units(framework):
    report, first = _textbook(framework, "constant_net")
    assert "INI603" in first.codes
    (finding,) = [f for f in report.findings if f.code == "INI603"]
    assert finding.parameter == first.info.name
    assert "units are identical" in finding.message and "every value is 1" in finding.message
    # the 1-unit output layer holds the constant too, but one unit cannot be a duplicate of another
    assert len([f for f in report.findings if f.code == "INI603"]) == 1
    (static,) = _static(report, "INI301")
    assert static.confirms == "confirmed"
    assert finding.confirms == "confirmed" and finding.linked.code == "INI301"


@pytest.mark.parametrize("framework", sorted(TEXTBOOK))
def test_textbook_xavier_under_relu_reports_scale_below_the_relu_target(framework):
    report, first = _textbook(framework, "xavier_42_net")
    (finding,) = [f for f in report.findings if f.parameter == first.info.name]
    assert finding.code == "INI605"
    assert "below the relu target" in finding.message
    assert first.scale_ratio < 0.8  # std * sqrt(fan_in) / sqrt(2)
    assert first.target_std == pytest.approx(math.sqrt(2.0 / first.info.fan_in))
    (static,) = _static(report, "INI201")
    assert static.confirms == "confirmed"
    assert finding.confirms == "confirmed" and finding.linked.code == "INI201"
    # the constant 42 on the 1-unit head: the static INI403 is confirmed by its numbers
    assert [f.confirms for f in _static(report, "INI403") if f.confirms != "not reached"] == ["confirmed"]


@pytest.mark.parametrize("framework", sorted(TEXTBOOK))
def test_textbook_normal_001_is_far_below_the_target(framework):
    report, first = _textbook(framework, "normal_net")
    assert "INI605" in first.codes
    assert first.expect.std == pytest.approx(0.01)
    assert first.scale_ratio < 0.05


def test_textbook_custom_init_is_measured_not_assumed():
    """U(-10, 10) masked and shifted in place: no law to test against, but its scale still is judged."""
    report, first = _textbook("torch", "custom_net")
    assert first.info.declared.modified and first.expect is None
    assert "INI601" not in first.codes and "INI605" in first.codes
    assert "then modified" in first.info.declared.label()
    confirmed = [f for f in _static(report, "INI403") if f.confirms == "confirmed"]
    assert len(confirmed) == 1 and confirmed[0].source.endswith("torch_textbook.py:42:9")


def test_tf1_graph_has_no_model_to_build():
    """The article's TF1 graph code builds a tf.Graph, not a model: a clear error, listing candidates."""
    pytest.importorskip("tensorflow")
    from initlint.verify import VerifyError

    with pytest.raises(VerifyError) as info:
        verify_file(str(EXAMPLES / "tf1_article.py"))
    assert "build_graph()" in info.value.message and "--entry" in info.value.message
