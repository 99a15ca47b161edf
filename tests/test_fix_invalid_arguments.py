"""INI504's fixes: a case the framework rejects is lower-cased (safe: the call raised before); a
std that went into the mean's slot is moved to the std only with --unsafe-fixes (the weights change)."""

from __future__ import annotations

import textwrap

import initlint
from initlint import fixer
from initlint.ftypes import Settings

SETTINGS = Settings(select=frozenset({"INI504"}))

BEFORE = textwrap.dedent("""
    import tensorflow as tf
    from torch import nn

    layer = tf.keras.layers.Dense(8, kernel_initializer=tf.keras.initializers.VarianceScaling(2.0, mode='FAN_IN'))
    gain = nn.init.calculate_gain("ReLU")
    w = nn.Parameter(nn.init.empty(3, 4))
    nn.init.normal_(w, 0.02)
    """)


def test_the_case_fix_is_safe_and_the_mean_slot_fix_needs_the_flag():
    safe = fixer.fix_source(BEFORE, "model.py", SETTINGS, unsafe=False)
    assert safe.error is None
    assert "mode='fan_in'" in safe.fixed and 'calculate_gain("relu")' in safe.fixed
    assert "nn.init.normal_(w, 0.02)" in safe.fixed  # left alone without --unsafe-fixes
    unsafe = fixer.fix_source(BEFORE, "model.py", SETTINGS, unsafe=True)
    assert "nn.init.normal_(w, std=0.02)" in unsafe.fixed
    assert initlint.check_source(unsafe.fixed, settings=SETTINGS) == []
    assert fixer.fix_source(unsafe.fixed, "model.py", SETTINGS, unsafe=True).fixed == unsafe.fixed


def test_a_string_torch_lower_cases_itself_is_left_alone():
    source = "from torch import nn\nw = nn.Parameter(nn.init.empty(3, 4))\nnn.init.kaiming_normal_(w, mode='FAN_OUT')\n"
    assert initlint.check_source(source, settings=SETTINGS) == []


def test_each_finding_carries_its_own_fix_safety():
    fixes = {f.message.split(":")[0]: f.fix for f in initlint.check_source(BEFORE, settings=SETTINGS)}
    assert fixes == {"VarianceScaling": "safe", "calculate_gain": "safe", "normal_": "unsafe"}
