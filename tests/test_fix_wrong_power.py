"""INI405's fixes: each wrong power rewritten to the one the formula meant, only with
--unsafe-fixes (the weights change), through the CLI's --diff and --fix, and the fixed formula
gives the std it was meant to."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import initlint
from initlint import fixer
from initlint.ftypes import Settings
from initlint.rule import rule_by_code

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "INI405"
SETTINGS = Settings(select=frozenset({"INI405"}))


# a std written in an init function (the parametrised lines are its body)
INIT_FUNCTION = """
    import math
    import torch
    from torch import nn

    def init(m, d_in, k=3):
        {}
    """


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "initlint", "check", "--select", "INI405", *args],
                          capture_output=True, text=True)


def fixed(source: str) -> str:
    result = fixer.fix_source(textwrap.dedent(source), "model.py", SETTINGS, unsafe=True)
    assert result.error is None, result.error
    return result.fixed


@pytest.mark.parametrize("before, after", [
    ("nn.init.normal_(m.weight, 0, 2 / math.sqrt(d_in))", "nn.init.normal_(m.weight, 0, math.sqrt(2 / d_in))"),
    ("nn.init.normal_(m.weight, 0, (2 / math.sqrt(d_in)))", "nn.init.normal_(m.weight, 0, math.sqrt(2 / d_in))"),
    ("nn.init.normal_(m.weight, 0, 2 / math.sqrt(k * k * d_in))",
     "nn.init.normal_(m.weight, 0, math.sqrt(2 / (k * k * d_in)))"),
    ("nn.init.normal_(m.weight, 0, 2 / d_in ** 0.5)", "nn.init.normal_(m.weight, 0, (2 / d_in) ** 0.5)"),
    ("nn.init.normal_(m.weight, std=1.0 / d_in)", "nn.init.normal_(m.weight, std=math.sqrt(1.0 / d_in))"),
    ("nn.init.normal_(m.weight, std=math.sqrt(2) / d_in)",
     "nn.init.normal_(m.weight, std=math.sqrt(2) / math.sqrt(d_in))"),
    ("nn.init.normal_(m.weight, std=d_in ** -1)", "nn.init.normal_(m.weight, std=d_in ** -0.5)"),
    ("m.weight = nn.Parameter(torch.randn(8, d_in) / d_in)",
     "m.weight = nn.Parameter(torch.randn(8, d_in) / math.sqrt(d_in))"),
    ("std = 2 / math.sqrt(d_in)\n        nn.init.normal_(m.weight, 0, std)",
     "std = math.sqrt(2 / d_in)\n        nn.init.normal_(m.weight, 0, std)"),
])
def test_a_std_is_rewritten_to_the_power_meant(before, after):
    assert fixed(INIT_FUNCTION.format(before)) == textwrap.dedent(INIT_FUNCTION.format(after))
    assert initlint.check_source(textwrap.dedent(INIT_FUNCTION.format(after)), settings=SETTINGS) == []


@pytest.mark.parametrize("before, after", [
    ("VarianceScaling(scale=1 / math.sqrt(num_layers))", "VarianceScaling(scale=1 / num_layers)"),
    ("VarianceScaling(scale=2 / math.sqrt(num_layers))", "VarianceScaling(scale=4 / num_layers)"),
    ("VarianceScaling(math.sqrt(2.0))", "VarianceScaling(2.0)"),
    ("VarianceScaling(scale=math.sqrt(2) / math.sqrt(num_layers))", "VarianceScaling(scale=2 / num_layers)"),
    ("VarianceScaling(scale=nn.init.calculate_gain('relu'))",
     "VarianceScaling(scale=nn.init.calculate_gain('relu') ** 2)"),
])
def test_a_std_like_scale_is_squared(before, after):
    template = """
    import math
    from tensorflow import keras
    from torch import nn

    def kernel(num_layers):
        return keras.initializers.{}
    """
    assert fixed(template.format(before)) == textwrap.dedent(template.format(after))


@pytest.mark.parametrize("body", [
    # the name is read again: rewriting its value would change the print too
    "std = 2 / math.sqrt(d_in)\n    nn.init.normal_(m.weight, 0, std)\n    print(std)",
    # the square root is behind a name: the text does not show what to move
    "s = math.sqrt(d_in)\n    nn.init.normal_(m.weight, 0, 2 / s)",
])
def test_no_fix_where_a_rewrite_would_reach_other_code(body):
    source = "import math\nfrom torch import nn\n\ndef init(m, d_in):\n    " + body + "\n"
    assert [f.code for f in initlint.check_source(source, settings=SETTINGS)] == ["INI405"]
    assert fixer.fix_source(source, "model.py", SETTINGS, unsafe=True).fixed == source


def test_no_fix_for_a_std_from_the_callers_argument():
    source = textwrap.dedent("""
    import math
    from torch import nn

    def init(m, std):
        nn.init.normal_(m.weight, 0, std)

    init(nn.Linear(64, 64), 2 / math.sqrt(64))
    """)
    assert fixer.fix_source(source, "model.py", SETTINGS, unsafe=True).fixed == source


def test_fixing_the_documented_example_gives_the_use_instead_block():
    rule = rule_by_code("INI405")
    assert fixed(rule.doc_code("Example")) == rule.doc_code("Use instead")


def test_cli_diff_and_fix_need_unsafe_fixes_and_leave_every_fixture_clean(tmp_path):
    for path in FIXTURES.glob("positive_*.py"):
        shutil.copy(path, tmp_path / path.name)
    plain = run_cli(str(tmp_path), "--diff")
    assert plain.returncode == 0 and plain.stdout == "", plain.stdout
    assert "more with `--unsafe-fixes`" in plain.stderr + plain.stdout
    diff = run_cli(str(tmp_path), "--diff", "--unsafe-fixes")
    assert diff.returncode == 1, diff.stderr
    assert "-        self.conv.weight.data.normal_(0, 2 / math.sqrt(n))  # expect: INI405" in diff.stdout
    assert "+        self.conv.weight.data.normal_(0, math.sqrt(2 / n))  # expect: INI405" in diff.stdout
    assert "+    return jax.random.normal(key, (fan_in, fan_out)) * jnp.sqrt(2.0 / fan_in)" in diff.stdout
    assert "VarianceScaling(scale=4 / num_layers)" in diff.stdout
    assert "magnitude=2))" in diff.stdout
    assert (tmp_path / "positive_torch.py").read_text() == (FIXTURES / "positive_torch.py").read_text()
    fix = run_cli(str(tmp_path), "--fix", "--unsafe-fixes")
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert run_cli(str(tmp_path)).returncode == 0
    again = run_cli(str(tmp_path), "--fix", "--unsafe-fixes", "--diff")
    assert again.returncode == 0 and again.stdout == ""


def test_the_fixed_formula_gives_the_he_std(tmp_path):
    torch = pytest.importorskip("torch")
    target = tmp_path / "positive_torch.py"
    shutil.copy(FIXTURES / "positive_torch.py", target)
    assert run_cli(str(target), "--fix", "--unsafe-fixes").returncode == 0
    namespace: dict = {}
    exec(compile(target.read_text(), str(target), "exec"), namespace)
    torch.manual_seed(0)
    weight = namespace["he_weight"](512, 512)
    assert abs(float(weight.detach().std()) / math.sqrt(2 / 512) - 1) < 0.02
    block = namespace["ConvBlock"](64, 64)
    assert abs(float(block.conv.weight.detach().std()) / math.sqrt(2 / (3 * 3 * 64)) - 1) < 0.03
