"""flake8 front end: ``flake8 --select INI`` runs the same engine as ``initlint check``.

Thin on purpose. flake8 reads and decodes the file (so ``flake8 -`` works), selects and ignores codes
(``--select/--extend-select/--ignore``, per-file-ignores) and applies ``# noqa`` itself, so the
engine is asked to leave noqa alone (``noqa=False``): it is applied once, by flake8, and
``--disable-noqa`` works. The engine reads noqa exactly as flake8 does, so the CLI agrees. The
engine's columns are 1-based and flake8 adds one to what a plugin yields, so we yield
``column - 1``: both front ends print the same position.

Only one decision is ours: which rules to run. Default-on rules run unless flake8's selection
excludes every INI code; off-by-default rules (INI204) run only when ``--select``/``--extend-select``
names them more precisely than ``INI``. Rule options come from ``[tool.initlint]`` in the nearest
``pyproject.toml``, as for the CLI; its select/ignore keys are flake8's business here.
"""

from __future__ import annotations

import sys
from typing import Iterator, List, Tuple

from . import __version__
from .config import ConfigError, load_config, parse_selectors
from .engine import SourceError, check_source, too_large
from .ftypes import Settings

# reported when the engine cannot check a file that flake8 itself could parse (flake8 reports E999
# and runs no plugin when the stdlib parser fails, so this is rare)
ERROR_CODE = "INI000"
# flake8's --select names codes of other plugins only: a selector no code starts with runs none of ours
_NO_CODE = frozenset({"INI-"})


def _selectors(values) -> frozenset:
    # flake8 hands over every code of every plugin: keep ours, drop the rest
    codes = [v for v in (values or ()) if isinstance(v, str) and v.strip().upper().startswith("INI")]
    return parse_selectors(codes, "flake8 selection")


class Plugin:
    name = "initlint"
    version = __version__

    settings = Settings()

    def __init__(self, tree, filename: str, lines: List[str]) -> None:
        self.filename = filename
        self.lines = lines

    @classmethod
    def parse_options(cls, options) -> None:
        select = getattr(options, "select", None)
        try:
            cls.settings = Settings(
                select=_selectors(select) or (_NO_CODE if select else frozenset()),
                extend_select=_selectors(getattr(options, "extend_select", None)),
                options=load_config().settings.options,
            )
        except ConfigError as exc:  # a clear message, not a traceback through flake8
            raise SystemExit(f"initlint: {exc}") from None

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        source = "".join(self.lines)
        # the CLI's size limit too: libcst would take gigabytes and many minutes on a generated file
        large = too_large(len(source.encode("utf-8", "surrogatepass")))
        if large:
            yield 1, 0, f"{ERROR_CODE} initlint could not check this file: {large}", type(self)
            return
        try:
            findings = check_source(source, self.filename, self.settings, noqa=False)
        except SourceError as exc:
            yield 1, 0, f"{ERROR_CODE} initlint could not check this file: {exc}", type(self)
            return
        except Exception as exc:  # an internal error must not take flake8's whole run down
            print(f"initlint: internal error on {self.filename}: {type(exc).__name__}: {exc}", file=sys.stderr)
            yield 1, 0, f"{ERROR_CODE} initlint internal error: {type(exc).__name__}: {exc}", type(self)
            return
        for finding in findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
