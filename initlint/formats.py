"""Output formats for ``initlint check``: one function each, registered in ``FORMATTERS``.

A formatter takes the whole run's ``CheckResult`` and returns what goes to stdout. Adding a format
(SARIF, GitHub annotations) is one more function and one more entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence

from .ftypes import FileError, FileReport, Finding

JSON_VERSION = 1


@dataclass(frozen=True)
class CheckResult:
    """Every file's report, in path order."""

    reports: Sequence[FileReport]

    @property
    def findings(self) -> List[Finding]:
        return sorted(f for r in self.reports for f in r.findings)

    @property
    def errors(self) -> List[FileError]:
        return [r.error for r in self.reports if r.error is not None]

    @property
    def files_checked(self) -> int:
        """Files that were read and analysed (files that could not be checked are ``errors``)."""
        return sum(1 for r in self.reports if r.error is None)

    @property
    def files_with_findings(self) -> int:
        return sum(1 for r in self.reports if r.findings)


def format_text(result: CheckResult) -> str:
    """``path:line:col: CODE message``, one finding a line (line and column 1-based)."""
    return "".join(finding.text() + "\n" for finding in result.findings)


def format_json(result: CheckResult) -> str:
    document = {
        "version": JSON_VERSION,
        "files_checked": result.files_checked,
        "findings": [finding.to_json() for finding in result.findings],
        "errors": [error.to_json() for error in result.errors],
    }
    return json.dumps(document, indent=2) + "\n"  # ASCII: valid JSON whatever the terminal's encoding


FORMATTERS: Dict[str, Callable[[CheckResult], str]] = {
    "text": format_text,
    "json": format_json,
}


def summary(result: CheckResult) -> str:
    """The one-line summary the text format prints on stderr."""
    n_findings, n_errors, n_files = len(result.findings), len(result.errors), result.files_checked
    checked = f"({n_files} file{'s' * (n_files != 1)} checked)"
    if not n_findings and not n_errors:
        return f"All checks passed {checked}."
    problems = []
    if n_findings:
        n_with = result.files_with_findings
        problems.append(f"Found {n_findings} finding{'s' * (n_findings != 1)} in {n_with} file{'s' * (n_with != 1)}")
    if n_errors:
        problems.append(f"{n_errors} file{'s' * (n_errors != 1)} could not be checked")
    return "; ".join(problems) + f" {checked}."
