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
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .ftypes import Settings

SELECTOR_RE = re.compile(r"^INI\d{0,3}$")
CORE_KEYS = ("select", "extend-select", "ignore", "exclude", "extend-exclude", "jobs", "per-file-ignores")
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


def _known_codes() -> Dict[str, str]:
    """Every documented code (static rules and the runtime checks) by its kebab-case name."""
    from .docs import all_entries

    return {entry.name: entry.code for entry in all_entries()}


def parse_selectors(values: Iterable[str], what: str) -> FrozenSet[str]:
    """Codes, code prefixes or rule names (``INI``, ``INI2``, ``INI201``, ``xavier-under-relu``),
    comma-separated or as a list. A selector that matches no code is an error (as in ruff), not a
    selection that silently runs nothing."""
    selectors = set()
    for value in values:
        if not isinstance(value, str):
            raise ConfigError(f"{what}: expected rule codes as strings, got {value!r}")
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            by_name = _known_codes()
            if part.lower() in by_name:
                part = by_name[part.lower()]
            part = part.upper()
            if not SELECTOR_RE.match(part):
                raise ConfigError(f"{what}: {part!r} is not an initlint code, code prefix or rule name "
                                  "(e.g. INI, INI2, INI201, xavier-under-relu)")
            if not any(code.startswith(part) for code in by_name.values()):
                raise ConfigError(f"{what}: {part!r} selects no rule (`initlint rules` lists them)")
            selectors.add(part)
    return frozenset(selectors)


def runtime_only(selectors: Iterable[str]) -> List[str]:
    """The selectors that name only runtime checks (INI6xx), which ``initlint check`` never reports."""
    from .rule import all_rules

    static = [rule.code for rule in all_rules()]
    return sorted(s for s in selectors if len(s) > len("INI") and not any(code.startswith(s) for code in static))


def parse_per_file_ignores(table, what: str) -> Tuple[Tuple[str, FrozenSet[str]], ...]:
    """``{"tests/*" = ["INI3"], ...}`` (TOML) or ``["tests/*:INI3,INI401", ...]`` (flake8's flag
    syntax) -> sorted ``(glob, codes)`` pairs."""
    pairs: Dict[str, FrozenSet[str]] = {}
    if isinstance(table, Mapping):
        items = list(table.items())
    elif isinstance(table, (list, tuple)):
        items = []
        for entry in table:
            if not isinstance(entry, str) or ":" not in entry:
                raise ConfigError(f"{what}: expected GLOB:CODES (e.g. 'tests/*:INI3'), got {entry!r}")
            pattern, _, codes = entry.rpartition(":")
            items.append((pattern.strip(), codes))
    else:
        raise ConfigError(f"{what}: expected a table of glob = [codes], got {table!r}")
    for pattern, codes in items:
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(f"{what}: an empty glob")
        values = [codes] if isinstance(codes, str) else codes
        if not isinstance(values, list) and not isinstance(values, tuple):
            raise ConfigError(f"{what}: {pattern!r}: expected a list of codes, got {codes!r}")
        pairs[pattern] = pairs.get(pattern, frozenset()) | parse_selectors(values, f"{what} {pattern!r}")
    return tuple(sorted(pairs.items()))


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
        per_file_ignores=parse_per_file_ignores(table.get("per-file-ignores", {}), f"{where} per-file-ignores"),
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
    per_file_ignores: Optional[Sequence[str]] = None,
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
    if per_file_ignores:
        merged = dict(settings.per_file_ignores)
        for pattern, codes in parse_per_file_ignores(list(per_file_ignores), "--per-file-ignores"):
            merged[pattern] = merged.get(pattern, frozenset()) | codes
        settings = replace(settings, per_file_ignores=tuple(sorted(merged.items())))
    return replace(
        config,
        settings=settings,
        exclude=config.exclude + tuple(exclude or ()),
        jobs=config.jobs if jobs is None else jobs,
    )
