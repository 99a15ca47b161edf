"""flake8 front end: ``flake8 --select INI`` runs the same engine as ``initlint check``.

Thin on purpose. flake8 reads and decodes the file (so ``flake8 -`` works), selects and ignores codes
(``--select/--extend-select/--ignore``, per-file-ignores) and applies ``# noqa`` itself; the engine
applies ``# noqa`` with flake8's own syntax and matching too, so applying it twice changes nothing.
The engine's columns are 1-based and flake8 adds one to what a plugin yields, so we yield
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
from .engine import NOQA_RE, SourceError, check_source
from .ftypes import Settings

# reported when the engine cannot check a file that flake8 itself could parse (flake8 reports E999
# and runs no plugin when the stdlib parser fails, so this is rare)
ERROR_CODE = "INI000"
# flake8's --select names codes of other plugins only: a selector no code starts with runs none of ours
_NO_CODE = frozenset({"INI-"})


def _mask_noqa(source: str) -> str:
    """``--disable-noqa``: hide noqa comments from the engine without moving any column."""
    return NOQA_RE.sub(lambda m: "#_" + m.group()[2:], source)


def _selectors(values) -> frozenset:
    # flake8 hands over every code of every plugin: keep ours, drop the rest
    codes = [v for v in (values or ()) if isinstance(v, str) and v.strip().upper().startswith("INI")]
    return parse_selectors(codes, "flake8 selection")


class Plugin:
    name = "initlint"
    version = __version__

    settings = Settings()
    disable_noqa = False

    def __init__(self, tree, filename: str, lines: List[str]) -> None:
        self.filename = filename
        self.lines = lines

    @classmethod
    def parse_options(cls, options) -> None:
        try:
            config = load_config()
        except ConfigError as exc:
            raise SystemExit(f"initlint: {exc}") from None
        select = getattr(options, "select", None)
        extend_select = getattr(options, "extend_select", None)
        settings = Settings(
            select=_selectors(select) or (_NO_CODE if select else frozenset()),
            extend_select=_selectors(extend_select),
            options=config.settings.options,
        )
        cls.settings = settings
        cls.disable_noqa = bool(getattr(options, "disable_noqa", False))

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        source = "".join(self.lines)
        if self.disable_noqa:
            source = _mask_noqa(source)
        try:
            findings = check_source(source, self.filename, self.settings)
        except SourceError as exc:
            yield 1, 0, f"{ERROR_CODE} initlint could not check this file: {exc}", type(self)
            return
        except Exception as exc:  # an internal error must not take flake8's whole run down
            print(f"initlint: internal error on {self.filename}: {type(exc).__name__}: {exc}", file=sys.stderr)
            yield 1, 0, f"{ERROR_CODE} initlint internal error: {type(exc).__name__}: {exc}", type(self)
            return
        for finding in findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
