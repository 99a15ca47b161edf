"""``[tool.initlint]`` in ``pyproject.toml`` → ``Settings``; command-line flags are laid on top.

Only the standard library (``tomllib``) and the rule registry are used: reading the configuration
must stay cheap, because every front end (CLI, flake8 plugin, pre-commit) does it at start-up.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, Mapping, Optional, Sequence, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .ftypes import Settings

SELECTOR_RE = re.compile(r"^INI\d{0,3}$")
CORE_KEYS = ("select", "extend-select", "ignore", "exclude", "extend-exclude", "jobs")
# a rule option is a kebab-case name in backticks in the rule's "## Options" section, e.g.
# "- `scale-ratio-threshold` (default 10): ..."
_OPTION_NAME_RE = re.compile(r"`([a-z][a-z0-9]*(?:-[a-z0-9]+)*)`")


class ConfigError(Exception):
    """The configuration (file or flags) is invalid; the CLI exits 2 with this message."""


@dataclass(frozen=True)
class Config:
    """Everything a run needs besides the paths: which rules, their options, what to skip, how wide."""

    settings: Settings = field(default_factory=Settings)
    exclude: Tuple[str, ...] = ()
    jobs: Optional[int] = None  # None or 0: one per CPU
    source: Optional[str] = None  # the pyproject.toml it came from, if any


def find_pyproject(start: Optional[str] = None) -> Optional[Path]:
    """The nearest ``pyproject.toml`` at or above ``start`` (default: the working directory) that has
    a ``[tool.initlint]`` table, as ruff does for ``[tool.ruff]``; ``None`` when there is none."""
    here = Path(start or os.getcwd()).resolve()
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            if "initlint" in _read_toml(candidate).get("tool", {}):
                return candidate
    return None


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8: {exc}") from None


def known_option_names() -> FrozenSet[str]:
    """Rule options, as documented in the rules' ``## Options`` sections."""
    from .rule import all_rules

    return frozenset(name for rule in all_rules() for name in _OPTION_NAME_RE.findall(rule.doc_section("Options")))


def parse_selectors(values: Iterable[str], what: str) -> FrozenSet[str]:
    """Codes or code prefixes (``INI``, ``INI2``, ``INI201``), comma-separated or as a list."""
    selectors = set()
    for value in values:
        if not isinstance(value, str):
            raise ConfigError(f"{what}: expected rule codes as strings, got {value!r}")
        for part in value.split(","):
            part = part.strip().upper()
            if not part:
                continue
            if not SELECTOR_RE.match(part):
                raise ConfigError(f"{what}: {part!r} is not an initlint code or code prefix (e.g. INI, INI2, INI201)")
            selectors.add(part)
    return frozenset(selectors)


def _string_list(table: Mapping, key: str, where: str) -> Tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings, got {value!r}")
    return tuple(value)


def parse_jobs(value, where: str = "--jobs") -> Optional[int]:
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise ConfigError(f"{where}: expected a whole number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: expected a whole number >= 0 (0: one per CPU), got {value!r}")
    return value


def config_from_table(table: Mapping, where: str = "[tool.initlint]") -> Config:
    """Validate a ``[tool.initlint]`` table (already parsed from TOML)."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    options: Dict[str, object] = {}
    unknown = []
    option_names = None
    for key, value in table.items():
        if key in CORE_KEYS:
            continue
        if option_names is None:
            option_names = known_option_names()
        if key in option_names:
            options[key] = value
        else:
            unknown.append(key)
    if unknown:
        known = ", ".join(sorted(set(CORE_KEYS) | (option_names or set())))
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, sorted(unknown)))}; known keys: {known}")
    settings = Settings(
        select=parse_selectors(_string_list(table, "select", where), f"{where} select"),
        extend_select=parse_selectors(_string_list(table, "extend-select", where), f"{where} extend-select"),
        ignore=parse_selectors(_string_list(table, "ignore", where), f"{where} ignore"),
        options=tuple(sorted(options.items())),
    )
    exclude = _string_list(table, "exclude", where) + _string_list(table, "extend-exclude", where)
    jobs = parse_jobs(table["jobs"], f"{where} jobs") if "jobs" in table else None
    return Config(settings=settings, exclude=exclude, jobs=jobs)


def load_config(config_file: Optional[str] = None, start: Optional[str] = None, isolated: bool = False) -> Config:
    """The configuration from ``config_file`` or else the nearest ``pyproject.toml`` with a
    ``[tool.initlint]`` table; defaults when there is none (or when ``isolated``)."""
    if isolated:
        return Config()
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"{config_file}: no such configuration file")
        data = _read_toml(path)
        # a dedicated initlint.toml may hold the table at top level; a pyproject.toml holds it under tool
        table = data["tool"]["initlint"] if "initlint" in data.get("tool", {}) else data
        if path.name == "pyproject.toml" and "initlint" not in data.get("tool", {}):
            table = {}
    else:
        path = find_pyproject(start)
        if path is None:
            return Config()
        table = _read_toml(path)["tool"]["initlint"]
    return replace(config_from_table(table, f"{path}: [tool.initlint]"), source=str(path))


def apply_overrides(
    config: Config,
    select: Optional[Sequence[str]] = None,
    extend_select: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    exclude: Optional[Sequence[str]] = None,
    jobs: Optional[int] = None,
) -> Config:
    """Command-line flags over the file: ``--select`` replaces the configured selection;
    ``--extend-select``, ``--ignore`` and ``--exclude`` add to it; ``--jobs`` replaces."""
    settings = config.settings
    if select is not None:
        settings = replace(settings, select=parse_selectors(select, "--select"))
    if extend_select is not None:
        settings = replace(settings, extend_select=settings.extend_select | parse_selectors(extend_select, "--extend-select"))
    if ignore is not None:
        settings = replace(settings, ignore=settings.ignore | parse_selectors(ignore, "--ignore"))
    return replace(
        config,
        settings=settings,
        exclude=config.exclude + tuple(exclude or ()),
        jobs=config.jobs if jobs is None else jobs,
    )
