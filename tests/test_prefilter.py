"""The prefilter skips files that cannot hold a finding, and never one that can.

Soundness is checked the only way it can be: run every rule on every file with the prefilter off,
and require that each finding of a rule lies in a file that meets *that rule's* requirement (so any
selection of rules is covered, not just the default one). On the rules' fixtures, examples and
documented examples always; on real code (the installed timm, transformers, keras, flax and
torch.nn sources) on a bounded subset in the regular suite and on the whole corpus with
``INITLINT_SLOW=1`` or in CI (``-m slow`` selects it alone).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import textwrap
from pathlib import Path
from typing import Dict, List, Sequence

import pytest

from conftest import IN_CI, write
from initlint import catalogue, prefilter
from initlint.catalogue.names import canonical
from initlint.engine import check_source, might_hold_findings, package_of
from initlint.ftypes import Settings
from initlint.rule import all_rules, rule_by_code
from initlint.runner import check_paths

ROOT = Path(__file__).resolve().parent.parent
RULES = all_rules()
EVERYTHING = Settings(select=frozenset({"INI"}), extend_select=frozenset(r.code for r in RULES))
RUN_SLOW = IN_CI or os.environ.get("INITLINT_SLOW", "") not in ("", "0")


def own_prefilter(code: str) -> prefilter.Prefilter:
    return prefilter.prefilter_for((rule_by_code(code),))


def unsound(paths: Sequence[str], jobs=0) -> List[str]:
    """Every finding (rules run on every file, prefilter off) whose file does not meet its rule's
    requirement, as ``path:line: CODE``. Empty means the prefilter loses nothing on ``paths``."""
    misses = []
    for report in check_paths(paths, EVERYTHING, jobs=jobs, prefilter=False):
        if not report.findings:
            continue
        data = Path(report.path).read_bytes()
        tree = compile(data, report.path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        for finding in report.findings:
            keep = own_prefilter(finding.code)
            # both stages: the text, and the names and strings of the code alone
            if not (keep(data, package_of(report.path)) and keep(data, package_of(report.path), tree)):
                misses.append(f"{finding.path}:{finding.line}: {finding.code}")
    return misses


# -- every rule declares what it needs ----------------------------------------------------------------

@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_declares_what_a_file_must_mention(rule):
    """A rule without a requirement would run on every file: declare ``requires`` on the class
    (``prefilter.initializers(...) & prefilter.layers(...)``, see initlint/prefilter.py)."""
    requirement = prefilter.requirement_of(rule)
    assert requirement is not None, f"{rule.code} declares no `requires` (initlint/prefilter.py)"
    assert requirement is not prefilter.ANYTHING, f"{rule.code}: a requirement every file meets skips nothing"
    words, folded = requirement.vocabulary()
    assert words or folded


def test_no_requirement_for_a_rule_that_does_not_exist():
    assert set(prefilter.rule_requirements()) <= {rule.code for rule in RULES}


def test_a_rule_without_requirement_keeps_every_file():
    class Undeclared:
        code = "INI999"

    keep = prefilter.Prefilter([prefilter.requirement_of(Undeclared)])
    assert keep.keeps_everything and keep(b"x = 1\n")


def test_no_rule_selected_keeps_nothing():
    assert not prefilter.Prefilter([])(b"import torch\ntorch.nn.init.zeros_(w)\n")


def test_every_catalogue_spelling_can_start_with_its_own_root():
    """The roots a canonical name can be imported from include the root of every spelling the
    catalogue knows for it (the rewrites of catalogue/names.py, undone)."""
    for entry in (*catalogue.INITIALIZERS, *catalogue.LAYERS, *catalogue.ACTIVATIONS):
        for name in entry.names:
            roots = prefilter.roots_of(canonical(name))
            assert roots is not None and name.split(".")[0] in roots, name


def test_every_string_name_is_shaped_like_an_identifier():
    """``code_words`` keeps only string constants shaped like identifiers (so that docstrings do not
    count): a string name of another shape needs code_words to change with it."""
    keys = [key for (_fw, key) in (*catalogue._STRING_INITS, *catalogue._STRING_ACTS)]
    assert keys and all(key.isidentifier() for key in keys)


def test_rewrites_that_are_not_literal_prefixes_disable_roots(monkeypatch):
    from initlint.catalogue import names

    monkeypatch.setattr(names, "_REWRITES", names._REWRITES + [(r"^(?:a|b)\.", "torch.")])
    prefilter._rewrites.cache_clear()
    try:
        assert prefilter.roots_of("torch.nn.init.normal_") is None
    finally:
        prefilter._rewrites.cache_clear()


# -- what the text must show ------------------------------------------------------------------------

def keeps(code: str, source: str, path: str = "<string>") -> bool:
    return own_prefilter(code)(textwrap.dedent(source), package_of(path))


def test_an_aliased_import_still_spells_the_symbol():
    assert keeps("INI501", "from torch.nn.init import xavier_uniform_ as xu\nxu(layer.bias)\n")
    assert keeps("INI501", "import torch.nn.init as I\nI.kaiming_normal_(b)\n")
    assert not keeps("INI501", "import torch\nw = torch.zeros(3)\n")


def test_a_symbol_without_its_framework_is_not_enough():
    assert not keeps("INI102", "def trunc_normal_(x, std):\n    return x\ntrunc_normal_(w, std=0.02)\n")
    assert keeps("INI102", "from timm.layers import trunc_normal_\ntrunc_normal_(w, std=0.02)\n")


def test_a_symbol_needs_its_module_path_too():
    assert keeps("INI501", "from torch import nn\nnn.init.xavier_uniform_(layer.bias)\n")
    assert keeps("INI501", "import torch.nn.init as I\nI.orthogonal_(layer.bias)\n")
    assert keeps("INI501", "from transformers import initialization as init\ninit.xavier_uniform_(layer.bias)\n")
    # a function of its own beside an import of the framework
    assert not keeps("INI501", "import torch\ndef orthogonal_(w):\n    return w\northogonal_(layer.bias)\n")
    assert not keeps("INI501", "import keras\ndef identity(x):\n    return x\nidentity(layer.bias)\n")


def test_relative_imports_inside_a_package_take_its_root(tmp_path):
    layers = tmp_path / "timm" / "layers"
    for folder in (tmp_path / "timm", layers):
        write(folder / "__init__.py", "")
    source = "from .weight_init import trunc_normal_\ntrunc_normal_(self.pos_embed, std=.02)\n"
    path = write(layers / "pos_embed.py", source)
    assert keeps("INI102", source, str(path))
    assert not keeps("INI102", source, str(tmp_path / "loose.py"))
    # the module path (timm.layers) too: its components come from the package
    elsewhere = write(tmp_path / "timm" / "models" / "vit.py", source)
    write(tmp_path / "timm" / "models" / "__init__.py", "")
    assert not keeps("INI102", source, str(elsewhere))
    assert [f.code for f in check_source(source, str(path), Settings(select=frozenset({"INI102"})))] == ["INI102"]


def test_string_names_are_matched_in_any_case_but_only_as_whole_strings():
    dense = "import keras\nkeras.layers.Dense(8, activation='relu', kernel_initializer={init})\n"
    assert keeps("INI201", dense.format(init="'glorot_uniform'"))
    assert keeps("INI201", dense.format(init='"Glorot_Uniform"'))
    quoted = prefilter.Prefilter([prefilter.Quoted(frozenset({b"glorot_uniform"}))])
    assert quoted("init = 'glorot_uniform'\n") and quoted('init = "GLOROT_UNIFORM"\n')
    assert not quoted("# glorot_uniform is the default\n") and not quoted("init = 'glorot_uniform_v2'\n")


def test_activation_names_are_matched_in_any_case():
    source = "import torch\nfrom torch import nn\nnet = nn.Sequential(nn.Linear(2, 2), {act})\n" \
             "nn.init.xavier_uniform_(net[0].weight)\n"
    assert keeps("INI201", source.format(act="nn.ReLU()"))
    assert keeps("INI201", source.format(act="nn.LeakyReLU(0.1)"))
    assert not keeps("INI201", source.format(act="nn.Tanh()"))


def test_a_keras_rnn_brings_its_default_tanh():
    assert keeps("INI202", "import keras\nkeras.layers.LSTM(8, kernel_initializer='he_normal')\n")


def test_jax_keys_need_jax():
    assert keeps("INI304", "import jax\nk = jax.random.PRNGKey(0)\n")
    assert keeps("INI304", "from jax import random\nk = random.PRNGKey(0)\n")
    assert not keeps("INI304", "import random\nrandom.seed(0)\n")


def test_a_pattern_reads_the_whole_text_in_both_stages():
    """A Pattern sees punctuation the code's words drop, so it reads the source itself once the file
    is parsed too (comments included: a superset of the code, never less)."""
    keep = prefilter.Prefilter([prefilter.words("w") & prefilter.pattern(rb"\(1" + prefilter.GAP + rb"\+", "1 +")])
    source = "y = x * (1  # offset\n     + w)\n"
    assert keep(source) and keep(source, None, ast.parse(source))
    assert not keep("y = x * (2 + w)\n", None, ast.parse("y = x * (2 + w)\n"))


def test_extra_words_count_in_both_stages():
    keep = own_prefilter("INI501")
    source = "from .backend import init\ninit(layer.bias)\n"
    assert not keep(source, None, ast.parse(source))
    assert keep(source, None, ast.parse(source), b"torch nn init xavier_uniform_")


def test_a_unit_offset_needs_a_one_beside_a_plus():
    norm = "import torch\nfrom torch import nn\nclass N(nn.Module):\n    def __init__(self, d):\n" \
           "        self.weight = nn.Parameter(torch.ones(d))\n    def forward(self, x):\n        return {}\n"
    for offset in ("x * (1 + self.weight)", "x * (self.weight.float() + 1.0)", "x * (1.\n  + self.weight)",
                   "x * ((1) + self.weight)", "x * (self.weight +  # gemma\n 1e0)"):
        assert keeps("INI307", norm.format(offset)), offset
    for plain in ("x * self.weight", "x * (2 + self.weight)", "x * (self.weight + 1.5)", "x + self.n + 10"):
        assert not keeps("INI307", norm.format(plain)), plain


def test_a_self_load_needs_one_receiver_on_both_sides():
    for load in ("target.load_state_dict(target.state_dict())",
                 "self.target.load_state_dict(\n    copy.deepcopy(self.target.state_dict()))  # sync",
                 "(net).load_state_dict(state_dict=net.state_dict())",
                 "self.nets[i].load_state_dict(self.nets[i].state_dict())", "m.set_weights(m.get_weights())"):
        assert keeps("INI308", load), load
    for other in ("target.load_state_dict(online.state_dict())",
                  "super().load_state_dict(sd)\nsave(model.state_dict())",
                  "model.load_state_dict(sd)\ntorch.save(model.state_dict(), path)"):
        assert not keeps("INI308", other), other


def parsed_keeps(code: str, source: str) -> bool:
    source = textwrap.dedent(source)
    return own_prefilter(code)(source, None, ast.parse(source))


def test_a_literal_scale_needs_an_initialiser_with_arguments_or_a_hand_written_one():
    """INI403 judges an initialiser's written arguments, or the sampler inside a hand-written
    initialiser that a layer's initialiser argument (or initialize, self.param, add_weight) names:
    torch's samplers and padding_mode='zeros' alone cannot make one."""
    torch_head = "import torch\nfrom torch import nn\n"
    for plain in ("conv = nn.Conv2d(3, 8, 3, padding_mode='zeros')\nx = torch.rand(2, 3) + torch.zeros(2)",
                  "fc = nn.Linear(4, 4)\nact = 'identity'\nmask = torch.full((4,), 1.0) * torch.ones(4)"):
        assert not parsed_keeps("INI403", torch_head + plain), plain
    for judged in (torch_head + "fc = nn.Linear(4, 4)\nnn.init.normal_(fc.weight, std=0.5)",
                   "import keras\nimport jax\ndef small(shape, dtype=None):\n    return jax.random.normal(KEY, shape)\n"
                   "d = keras.layers.Dense(4, kernel_initializer=small)",
                   "import keras\nd = keras.layers.Dense(4, kernel_initializer={'class_name': 'RandomNormal', "
                   "'config': {'stddev': 3.0}})",
                   "import flax.linen as nn\nimport jax\nclass M(nn.Module):\n    def __call__(self, x):\n"
                   "        w = self.param('w', lambda k, s: jax.random.normal(k, s), (4, 4))\n"
                   "        return nn.Dense(4)(x @ w)"):
        assert parsed_keeps("INI403", judged), judged


def test_an_invalid_argument_needs_an_initialiser_that_takes_one():
    """INI504 judges a std, a mean, bounds, a scale or a mode: torch.randn/torch.rand take none."""
    head = "import torch\nfrom torch import nn\nfc = nn.Linear(4, 4)\n"
    assert not parsed_keeps("INI504", head + "x = torch.randn(4, 4) + torch.rand(4)")
    for judged in ("nn.init.normal_(fc.weight, 0.02)", "x = torch.normal(0.0, -1.0, (4,))",
                   "nn.init.kaiming_normal_(fc.weight, mode='FAN_OUT')", "fc.weight.data.uniform_(1.0, -1.0)"):
        assert parsed_keeps("INI504", head + judged), judged


def test_a_reused_key_needs_jax_random_or_a_models_init():
    """INI304's consumers are jax.random.* (in every spelling the rule resolves), a model's .init with
    a key, and a JAX initialiser factory; numpy's random beside a jax import (Keras' tests) is none."""
    draws = "k = key(0)\na = normal(k, (2,))\nb = normal(k, (2,))\n"
    for spelling in ("import jax\nkey, normal = jax.random.PRNGKey, jax.random.normal\n",
                     "from jax import numpy as jnp, random\nkey, normal = random.PRNGKey, random.normal\n",
                     "from jax import (\n    numpy as jnp,\n    random,\n)\nkey, normal = random.key, random.normal\n",
                     "import jax.random as jr\nkey, normal = jr.key, jr.normal\n",
                     "from jax.random import key, normal\n",
                     "import jax as J\nkey, normal = J.random.key, J.random.normal\n"):
        assert parsed_keeps("INI304", spelling + draws), spelling
    stored = ("import jax\nimport numpy as np\nx = np.random.rand(2)\nclass T:\n    def __init__(self, rng):\n"
              "        self.rng = rng\n    def build(self, model):\n        return model.init(self.rng, x), "
              "model.init(self.rng, x)\n")
    assert parsed_keeps("INI304", stored)
    assert not parsed_keeps("INI304", "import jax\nimport numpy as np\nx = np.random.rand(4)\ny = jax.numpy.sum(x)\n")
    assert not parsed_keeps("INI304", "import jax\nimport random\nrandom.seed(0)\ny = jax.jit(f)\n")


def test_a_shape_reads_the_text_then_the_tree():
    times = prefilter.shape(rb"\*", (ast.BinOp,), lambda node, found: type(node.op) is ast.Mult, "a *")
    keep = prefilter.Prefilter([times])
    assert keep("y = x * 2\n", None, ast.parse("y = x * 2\n"))
    assert keep("y = f(*x)\n") and not keep("y = f(*x)\n", None, ast.parse("y = f(*x)\n"))
    assert not keep("y = x + 2\n")


def test_cloned_modules_need_one_element_repeated():
    head = "import torch\nfrom torch import nn\n"
    for clones in ("layers = nn.ModuleList([layer] * 4)", "layers = nn.ModuleList([layer for _ in range(4)])",
                   "layers = nn.ModuleList((self.block,) * 4)", "layers = nn.Sequential(*(layer for i in range(4)))",
                   "layers = nn.ModuleList()\nfor _ in range(4):\n    layers.append(layer)",
                   "layers = nn.ModuleList()\nwhile len(layers) < 4:\n    layers.append(module=self.block)",
                   "layers = [copy.deepcopy(layer) for _ in range(4)]", "enc = nn.TransformerEncoder(layer, 6)"):
        assert parsed_keeps("INI305", head + clones), clones
    for fresh in ("layers = nn.ModuleList([Block(d) for _ in range(4)])", "layers = nn.ModuleList([nn.Linear(d, d)])",
                  "layers = nn.Sequential(*[Block(d) for d in dims])\nout = [x for x in xs]",
                  "layers = nn.ModuleList([Block(d)])\nsizes = [3] * 2\nfor b in blocks:\n    x = b(x)\n"
                  "    out.append(x)"):
        assert not parsed_keeps("INI305", head + fresh), fresh


def test_rules_to_run_keep_a_pattern_rule_once_the_code_is_parsed():
    """The code stage reads the code's words, but patterns the text and shapes the tree."""
    from initlint.engine import rules_to_run

    source = textwrap.dedent("""\
        import torch
        from torch import nn
        target.load_state_dict(target.state_dict())  # a pattern
        layers = nn.ModuleList([layer] * 4)  # a shape
        """)
    codes = {rule.code for rule in rules_to_run(source, EVERYTHING, "sync.py", ast.parse(source))}
    assert {"INI305", "INI308"} <= codes


def test_tensor_methods_need_no_import_by_name():
    assert keeps("INI402", "import torch\nm.weight.data.normal_()\n")


def test_a_coding_cookie_for_a_non_ascii_codec_is_honoured():
    hidden = "# -*- coding: utf-7 -*-\nfrom torch.nn.init import kaiming+AF8-normal+AF8-\n"
    assert prefilter.source_bytes(hidden.encode("ascii")).count(b"kaiming_normal_") == 1
    assert keeps("INI404", hidden.replace("+AF8-", "_"))
    assert own_prefilter("INI404")(hidden.encode("ascii"))


def test_comments_and_docstrings_do_not_count_once_the_code_is_parsed():
    source = 'import torch\n"""Uses torch.nn.init.kaiming_normal_."""\nx = 1  # kaiming_normal_(w)\n'
    keep = own_prefilter("INI404")
    assert keep(source) and not keep(source, None, ast.parse(source))
    assert keep("from torch.nn import init\ninit.kaiming_normal_(w)\n", None,
                ast.parse("from torch.nn import init\ninit.kaiming_normal_(w)\n"))


def test_the_code_words_keep_imports_attributes_and_short_strings():
    words = prefilter.code_words(ast.parse(
        "import tensorflow.keras as K\nfrom .weight_init import trunc_normal_ as tn\n"
        "K.layers.Dense(2, kernel_initializer='he_' 'normal')\n"))
    for expected in (b"tensorflow.keras", b"K", b"weight_init", b"trunc_normal_", b"tn", b"layers", b"Dense",
                     b"'he_normal'"):
        assert expected in words


def test_the_engine_skips_what_the_prefilter_rejects(monkeypatch):
    import initlint.engine as engine

    def parse(source):
        raise AssertionError("a file the prefilter rejects was parsed")

    monkeypatch.setattr(engine, "parse", parse)
    assert check_source("import numpy as np\nw = np.zeros((3, 3))\n") == []
    assert not might_hold_findings("import numpy as np\n")


def test_test_files_are_filtered_for_the_rules_that_run_on_them():
    source = "import torch\nfrom torch import nn\nnn.init.constant_(nn.Linear(4, 4).weight, 1.0)\n"
    only_constant = Settings(select=frozenset({"INI301"}))  # skipped in test files
    assert might_hold_findings(source, only_constant, "model.py")
    assert not might_hold_findings(source, only_constant, "test_model.py")


# -- soundness on known findings ----------------------------------------------------------------------

def fixture_paths() -> List[str]:
    files = sorted((ROOT / "tests" / "fixtures").rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))
    files += sorted((ROOT / "tests" / "data").rglob("*.py"))
    return [str(p) for p in files]


def test_every_fixture_finding_is_in_a_file_its_rule_keeps():
    assert unsound(fixture_paths()) == []


def test_prefiltered_run_equals_unfiltered_run_on_fixtures():
    paths = fixture_paths()
    full = check_paths(paths, EVERYTHING, jobs=0, prefilter=False)
    assert [r.findings for r in check_paths(paths, EVERYTHING, jobs=0)] == [r.findings for r in full]
    assert sum(len(r.findings) for r in full) > 100


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_documented_example_is_kept_by_its_own_rule(rule):
    example = rule.doc_code("Example")
    assert check_source(example, settings=EVERYTHING, prefilter=False)  # the example does trigger
    assert own_prefilter(rule.code)(example, None, ast.parse(example))


# -- soundness on real code ---------------------------------------------------------------------------

CORPUS_PACKAGES = ("timm", "transformers", "keras", "flax", "torch.nn")


def package_dir(name: str):
    top = importlib.util.find_spec(name.split(".")[0])  # found, never imported
    if top is None or not top.submodule_search_locations:
        return None
    path = Path(list(top.submodule_search_locations)[0], *name.split(".")[1:])
    return path if path.is_dir() else None


def corpus(every_transformers: int = 3) -> Dict[str, List[str]]:
    """The installed sources, per package; transformers (2,900 files) every ``n``-th file in
    sorted order, a deterministic subset."""
    out = {}
    for name in CORPUS_PACKAGES:
        root = package_dir(name)
        if root is None:
            continue
        files = sorted(str(p) for p in root.rglob("*.py") if "__pycache__" not in p.parts)
        out[name] = files[::every_transformers] if name == "transformers" else files
    return out


def spread(files: Sequence[str], n: int) -> List[str]:
    return [files[i * len(files) // n] for i in range(min(n, len(files)))]


def require_corpus(found: Dict[str, List[str]]) -> None:
    missing = [name for name in CORPUS_PACKAGES if name not in found]
    if missing:
        message = f"not installed: {', '.join(missing)} (the prefilter's soundness corpus)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def test_prefilter_loses_nothing_on_a_sample_of_real_code():
    found = corpus()
    require_corpus(found)
    sample = [path for files in found.values() for path in spread(files, 16)]
    assert unsound(sample) == []


@pytest.mark.slow
@pytest.mark.skipif(not RUN_SLOW, reason="the whole corpus takes minutes: INITLINT_SLOW=1 (always in CI)")
def test_prefilter_loses_nothing_on_the_installed_sources():
    found = corpus()
    require_corpus(found)
    paths = [path for files in found.values() for path in files]
    assert unsound(paths) == []
