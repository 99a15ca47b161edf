"""flake8 front end: ``flake8 --select INI`` runs the same engine as ``initlint check``.

Thin on purpose. flake8 reads and decodes the file (so ``flake8 -`` works), selects and ignores codes
(``--select/--extend-select/--ignore``, per-file-ignores) and applies ``# noqa`` itself, so the
engine is asked to leave noqa alone (``noqa=False``): it is applied once, by flake8, and
``--disable-noqa`` works. The engine reads noqa exactly as flake8 does, so the CLI agrees. The
engine's columns are 1-based and flake8 adds one to what a plugin yields, so we yield
``column - 1``: both front ends print the same position.

Only one decision is ours: which rules to run, and it is the CLI's. ``[tool.initlint]`` in the
nearest ``pyproject.toml`` is read as the CLI reads it (``select``, ``extend-select``, ``ignore``
and the rule options; flake8 does not pass its ``--isolated`` on to plugins, so it is read
then too), so the plugin yields what ``initlint check`` reports, and flake8's own selection then filters that as
it filters every plugin. So that flake8 can name a rule the configuration leaves out (``flake8
--select INI204``, an off-by-default rule), INI codes flake8's ``--select``/``--extend-select``
name more precisely than ``INI`` run too; a ``--select`` naming no INI code runs none of ours
(flake8 would drop them anyway). A configuration that does not load (a typo in a key, invalid
TOML) is reported once on stderr and the defaults are used: it must not take flake8 down, nor
silence every other plugin with it.

Each file is checked as part of its project, as ``initlint check`` checks it (``project/``):
flake8 hands over one file at a time, so the plugin finds the file's project root itself and
reads the other modules' summaries (cached in the same ``.initlint_cache`` as the CLI's), once
per process.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import Iterator, List, Tuple

from . import __version__
from .config import Config, ConfigError, load_config, parse_selectors
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
    config = Config()
    projects = None  # project.Projects of this process, made on first use

    def __init__(self, tree, filename: str, lines: List[str]) -> None:
        self.filename = filename
        self.lines = lines

    @classmethod
    def parse_options(cls, options) -> None:
        try:
            config = load_config()
        except ConfigError as exc:  # reported once; flake8 and every other plugin go on
            print(f"initlint: warning: {exc}; initlint runs with its default settings", file=sys.stderr)
            config = Config()
        settings = config.settings
        try:
            select = getattr(options, "select", None)
            named = _selectors(select) | _selectors(getattr(options, "extend_select", None))
        except ConfigError as exc:  # a malformed INI code on flake8's own command line
            raise SystemExit(f"initlint: {exc}") from None
        if select and not _selectors(select):
            settings = replace(settings, select=_NO_CODE)
        precise = frozenset(code for code in named if code != "INI")
        if precise:
            settings = replace(settings, extend_select=settings.extend_select | precise)
        cls.settings, cls.config, cls.projects = settings, config, None

    @classmethod
    def _project_of(cls, filename: str):
        """The file's ``ProjectView`` (None for stdin or a file not on disk)."""
        if not filename or not os.path.isfile(filename):
            return None
        try:
            if cls.projects is None:
                from .cache import default_directory
                from .project import Projects

                cls.projects = Projects(default_directory(cls.config.source), cls.config.exclude)
            return cls.projects.view(filename)
        except Exception as exc:  # the project cannot be read: the file is still checked alone
            print(f"initlint: warning: {filename}: project not read: {type(exc).__name__}: {exc}", file=sys.stderr)
            return None

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        source = "".join(self.lines)
        # the CLI's size limit too: libcst would take gigabytes and many minutes on a generated file
        large = too_large(len(source.encode("utf-8", "surrogatepass")))
        if large:
            yield 1, 0, f"{ERROR_CODE} initlint could not check this file: {large}", type(self)
            return
        try:
            findings = check_source(source, self.filename, self.settings, noqa=False,
                                    project=self._project_of(self.filename))
        except SourceError as exc:
            yield 1, 0, f"{ERROR_CODE} initlint could not check this file: {exc}", type(self)
            return
        except Exception as exc:  # an internal error must not take flake8's whole run down
            print(f"initlint: internal error on {self.filename}: {type(exc).__name__}: {exc}", file=sys.stderr)
            yield 1, 0, f"{ERROR_CODE} initlint internal error: {type(exc).__name__}: {exc}", type(self)
            return
        for finding in findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
