"""``initlint verify``: build a model and confirm its initialisation with statistics (INI601-INI608).

    import initlint
    report = initlint.verify(build_model)          # a builder: its initialisers are recorded
    report = initlint.verify(model, input_shape=(2, 4))
    print(report.text()); report.to_json(); report.findings

This package is callable (``initlint.verify(...)`` is ``initlint.verify.verify(...)``). Frameworks,
numpy and scipy are imported only when a verification runs; one adapter per framework
(``adapters/``) sits behind one interface. Codes are documented in ``codes.py``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .errors import VerifyError  # noqa: F401  (no framework, no numpy)


def verify(model: Any, **options):
    """Verify a model (or a zero-argument builder of one); see ``runner.verify`` for the options."""
    from .runner import verify as run

    return run(model, **options)


def verify_file(path: str, **options):
    """``initlint verify path``: see ``runner.verify_file``."""
    from .runner import verify_file as run

    return run(path, **options)


def __getattr__(name: str):
    if name in ("Report", "TensorResult", "RuntimeFinding", "LayerSignal"):
        from . import results

        return getattr(results, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """``initlint.verify`` is both this package and the function: calling the package verifies."""

    def __call__(self, model: Any, **options):
        return verify(model, **options)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["verify", "verify_file", "VerifyError"]
