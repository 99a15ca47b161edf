"""The rule base class and the registry that discovers rules by walking ``initlint.rules``.

A rule is one class in one file: its code, a kebab-case name for the bad pattern, a message
template, a docstring in ruff's sections (What it does / Why is this bad? / Example / Use instead /
Frameworks), and ``check(facts)``, which reads the facts the analysis layer extracted from one file
and yields ``Report``s. The docstring's *Example* block must trigger the rule and its *Use instead*
block must not: a test runs both, so the documentation cannot drift from the behaviour.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Dict, Iterable, Mapping, Optional, Tuple

import libcst as cst

if TYPE_CHECKING:  # pragma: no cover
    from .analysis.facts import FileFacts
    from .prefilter import Requirement

CODE_RE = re.compile(r"^INI\d{3}$")
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Fix:
    """Replace ``node`` by ``replacement``; ``imports`` are ``(module, name)`` pairs (name None for
    ``import module``) scheduled with libcst's AddImportsVisitor, never spliced by hand."""

    node: cst.CSTNode
    replacement: cst.CSTNode
    imports: Tuple[Tuple[str, Optional[str]], ...] = ()
    # None: the rule's ``fix_safety``; "unsafe" for a fix that changes the numbers where the rule's
    # other fixes do not
    safety: Optional[str] = None


@dataclass(frozen=True)
class Report:
    """What a rule says about one node; the engine turns it into a positioned ``Finding``."""

    node: cst.CSTNode
    fields: Mapping[str, object] = field(default_factory=dict)
    framework: str = ""
    fix: Optional[Fix] = None


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    message: ClassVar[str]  # a str.format template over the Report's fields
    frameworks: ClassVar[Tuple[str, ...]] = ()
    default_enabled: ClassVar[bool] = True
    # rules about weights a test may fix on purpose (to make expected outputs deterministic) do not
    # run on pytest-style test files (test_*.py, *_test.py)
    skip_test_files: ClassVar[bool] = False
    # "safe" (applied by --fix), "unsafe" (only with --unsafe-fixes: it changes the numbers the
    # model starts from), or None (no fix). Explained in the docstring's "## Fix safety".
    fix_safety: ClassVar[Optional[str]] = None
    # What a file must mention for this rule to be able to fire, built from the catalogue with
    # ``prefilter.initializers/layers/activations/words``: files that do not are never parsed.
    # Rules that predate the field have theirs in ``prefilter.rule_requirements()``; a rule with
    # neither runs on every file, and tests/test_prefilter.py fails.
    requires: ClassVar[Optional["Requirement"]] = None

    def __init__(self, options: Mapping[str, object] | None = None) -> None:
        self.options = dict(options or {})

    def check(self, facts: "FileFacts") -> Iterable[Report]:  # pragma: no cover - abstract
        raise NotImplementedError

    def format(self, report: Report) -> str:
        return self.message.format(**report.fields)

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def doc_section(cls, title: str) -> str:
        """The body of one ``## title`` section of the docstring ('' when absent)."""
        match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", cls.doc(), re.M | re.S)
        return match.group(1).strip() if match else ""

    @classmethod
    def doc_code(cls, title: str) -> str:
        """The first ```python block of a docstring section."""
        match = re.search(r"```python\n(.*?)```", cls.doc_section(title), re.S)
        return match.group(1) if match else ""


@lru_cache(maxsize=None)
def all_rules() -> Tuple[type, ...]:
    """Every Rule subclass in ``initlint.rules``, sorted by code (no hand-kept list)."""
    from . import rules as package

    found: Dict[str, type] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__:
                if obj.code in found:
                    raise RuntimeError(f"two rules claim {obj.code}: {found[obj.code]} and {obj}")
                found[obj.code] = obj
    return tuple(found[c] for c in sorted(found))


def rule_by_code(code: str):
    for rule in all_rules():
        if rule.code == code.upper():
            return rule
    return None
