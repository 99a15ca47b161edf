"""INI305-INI308 (init bugs real projects fixed): their fixes, where they are offered and where
not, and the facts they rest on."""

from __future__ import annotations

import textwrap

import pytest

import initlint
from initlint import fixer
from initlint.analysis.twins import twin_names
from initlint.ftypes import Settings


def only(code):
    return Settings(select=frozenset({code}))


def fix(code, source, unsafe=True):
    result = fixer.fix_source(textwrap.dedent(source), "model.py", only(code), unsafe=unsafe)
    assert result.error is None, result.error
    return result


def codes(code, source):
    return [f.code for f in initlint.check_source(textwrap.dedent(source), settings=only(code))]


DQN = """
    from torch import nn

    class QNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

    class Agent:
        def __init__(self):
            self.policy_net = QNet()
            self.target_net = QNet()
            self.target_net.load_state_dict(self.target_net.state_dict())
    """


def test_ini308_fix_reads_from_the_one_twin_built_the_same_way():
    result = fix("INI308", DQN)
    assert "self.target_net.load_state_dict(self.policy_net.state_dict())" in result.fixed
    assert fix("INI308", DQN, unsafe=False).fixed == textwrap.dedent(DQN)  # unsafe: needs the flag
    assert codes("INI308", result.fixed) == []


def test_ini308_no_fix_with_two_candidates_or_another_constructor():
    two = DQN.replace("self.policy_net = QNet()", "self.policy_net = QNet()\n            self.online_net = QNet()")
    other = DQN.replace("self.policy_net = QNet()", "self.policy_net = nn.Linear(4, 2)")
    for source in (two, other):
        result = fix("INI308", source)
        assert result.fixed == textwrap.dedent(source)
        assert codes("INI308", source) == ["INI308"]


def test_ini308_twin_names():
    assert twin_names("critic_target")[-1] == "critic"
    assert "qnetwork_local" in twin_names("qnetwork_target")
    assert "policy_net" in twin_names("target_net")
    assert twin_names("net") == []


@pytest.mark.parametrize("before, after", [
    ("self.layers = nn.ModuleList([nn.Linear(8, 8)] * n)",
     "self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(n)])"),
    ("layer = nn.Linear(8, 8)\n            self.layers = nn.ModuleList([copy.deepcopy(layer) for _ in range(n)])",
     "layer = nn.Linear(8, 8)\n            self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(n)])"),
])
def test_ini305_fix_builds_fresh_instances(before, after):
    template = """
    import copy
    from torch import nn

    class Stack(nn.Module):
        def __init__(self, n=4):
            super().__init__()
            {}
    """
    result = fix("INI305", template.format(before))
    assert result.fixed == textwrap.dedent(template.format(after))
    assert codes("INI305", result.fixed) == []


@pytest.mark.parametrize("body", [
    # the template is changed after it is built: a fresh instance would lose that
    "layer = nn.Linear(8, 8)\n            nn.init.zeros_(layer.bias)\n"
    "            self.layers = nn.ModuleList([copy.deepcopy(layer) for _ in range(n)])",
    # a constructor whose argument is not a literal or a name
    "self.layers = nn.ModuleList([copy.deepcopy(self.block) for _ in range(n)])\n"
    "            self.block = nn.Linear(len(template), 8)",
])
def test_ini305_no_fix_where_a_fresh_instance_would_differ(body):
    source = f"""
    import copy
    from torch import nn

    class Stack(nn.Module):
        def __init__(self, template, n=4):
            super().__init__()
            {body}
    """
    assert codes("INI305", source) == ["INI305"]
    assert fix("INI305", source).fixed == textwrap.dedent(source)


def test_ini305_a_clone_helper_is_judged_where_it_is_called():
    source = """
    import copy
    from torch import nn

    def clones(module, n):
        return nn.ModuleList([copy.deepcopy(module) for _ in range(n)])

    class Encoder(nn.Module):
        def __init__(self, layer, n):
            super().__init__()
            self.layers = clones(layer, n)  # built by a caller, maybe in another file: silent
            self.norms = clones(nn.LayerNorm(64), n)  # constant by design: identical anyway
            self.proj = clones(nn.Linear(64, 64), 2)  # in view: reported here
    """
    found = initlint.check_source(textwrap.dedent(source), settings=only("INI305"))
    assert [(f.line, f.code) for f in found] == [(13, "INI305")]


def test_ini305_transformer_encoder_is_silent_once_the_file_reinitialises():
    source = """
    from torch import nn

    class Model(nn.Module):
        def __init__(self, d=64, n=6):
            super().__init__()
            self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, 4), n)
    {}
    """
    assert codes("INI305", source.format("")) == ["INI305"]
    reinit = """
            for p in self.parameters():
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)
    """
    assert codes("INI305", source.format(reinit)) == []
    assert codes("INI305", source.format("        self.post_init()")) == []
    # an init method the file defines is judged by its body: this one reaches only the head
    own = """
            self.head = nn.Linear(d, 2)
            self.init_weights()

        def init_weights(self):
            nn.init.zeros_(self.head.bias)
    """
    assert codes("INI305", source.format(own)) == ["INI305"]


def test_ini307_zero_init_elsewhere_in_the_file_keeps_it_silent():
    source = """
    import torch
    from torch import nn

    class Norm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

        def forward(self, x):
            return x * (1 + self.weight)

    def init(m):
        if isinstance(m, Norm):
            nn.init.zeros_(m.weight)
    """
    assert codes("INI307", source) == []
    assert codes("INI307", source.replace("nn.init.zeros_(m.weight)", "pass")) == ["INI307"]


def test_ini306_the_names_a_sibling_is_found_by():
    source = """
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj = nn.Linear(8, 8)
            self.k_proj = nn.Linear(8, 8)
            nn.init.xavier_uniform_(self.q_proj.weight)
            nn.init.xavier_uniform_(self.q_proj.weight, gain=2 ** -0.5)
            {}
    """
    assert codes("INI306", source.format("")) == ["INI306"]
    # the sibling initialised too: a redundant call, not a slip that leaves something out
    assert codes("INI306", source.format("nn.init.xavier_uniform_(self.k_proj.weight)")) == []


CLONED_MODEL = '''
import copy

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return x + torch.tanh(self.fc(x))


class Stack(nn.Module):
    def __init__(self, dim=16, depth=3):
        super().__init__()
        block = Block(dim)
        self.blocks = nn.ModuleList([copy.deepcopy(block) for _ in range(depth)])

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return x


def build_model():
    return Stack()
'''


def test_ini305_is_confirmed_at_run_time_by_identical_tensors(tmp_path):
    """verify sees the clones as identical tensors (INI604) and links them to the static INI305."""
    from conftest import require_module, write

    require_module("torch", "verify builds the model")
    from initlint.verify.runner import verify_file

    report = verify_file(str(write(tmp_path / "model.py", CLONED_MODEL)), input_shape=(2, 16))
    identical = [f for f in report.findings if f.code == "INI604"]
    assert {f.parameter for f in identical} >= {"blocks.1.fc.weight", "blocks.2.fc.weight"}
    static = [f for f in report.static if f.code == "INI305"]
    assert [f.confirms for f in static] == ["confirmed"]
    assert all(f.confirms == "confirmed" and f.linked is not None and f.linked.code == "INI305" for f in identical)
    # fresh instances: the static finding is gone and nothing is identical
    fresh = CLONED_MODEL.replace("[copy.deepcopy(block) for _ in range(depth)]", "[Block(dim) for _ in range(depth)]")
    report = verify_file(str(write(tmp_path / "fresh.py", fresh)), input_shape=(2, 16))
    assert not [f for f in report.findings if f.code == "INI604"] and not report.static
