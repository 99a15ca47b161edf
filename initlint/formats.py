"""Output formats for ``initlint check``: one function each, registered in ``FORMATTERS``.

A formatter takes the whole run's ``CheckResult`` and returns what goes to stdout. Adding a format
is one more function and one more entry.

- ``text``: ``path:line:col: CODE message`` (``path:cell N:line:col: CODE message`` in a notebook).
- ``json``: the documented object (``version``, ``files_checked``, ``findings``, ``errors``); a
  notebook's findings (and an error about one of its cells) add ``"cell"``.
- ``sarif``: SARIF 2.1.0 for GitHub code scanning (``github/codeql-action/upload-sarif``) and other
  SARIF viewers: every rule in ``tool.driver.rules``, one result per finding, files that could not be
  checked as tool execution notifications.
- ``github``: GitHub Actions workflow commands, one ``::warning`` per finding and one ``::error`` per
  file that could not be checked, which the Actions runner shows as annotations on the diff.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote

from .ftypes import FileError, FileReport, Finding
from .notebook_text import cell_line_text, file_region

JSON_VERSION = 1

# Where the project and its rule documentation live: the one place to change when it moves. SARIF
# needs absolute URIs here (``informationUri`` and each rule's ``helpUri`` are ``format: uri``);
# each rule's ``helpUri`` is ``RULES_URL#ini101``, the anchor ``docs.anchor`` gives its section.
PROJECT_URL = "https://github.com/initlint/initlint"
RULES_URL = PROJECT_URL + "/blob/main/rules.md"

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = "warning"  # every finding; files that could not be checked are "error" notifications
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "initlintLineHash/v1"
NOT_CHECKED_ID = "INI000"  # the flake8 plugin's code for a file that could not be checked


@dataclass(frozen=True)
class CheckResult:
    """Every file's report, in path order."""

    reports: Sequence[FileReport]
    unsafe_fixes: bool = False  # does this run's --fix include unsafe fixes (what ``[*]`` and "fix" mean)

    @property
    def findings(self) -> List[Finding]:
        return sorted(f for r in self.reports for f in r.findings)

    @property
    def errors(self) -> List[FileError]:
        return [r.error for r in self.reports if r.error is not None]

    @property
    def files_checked(self) -> int:
        """Files that were read and analysed (files that could not be checked are ``errors``; a
        notebook with a cell that does not parse is both: its other cells were checked)."""
        return sum(1 for r in self.reports if r.error is None or r.error.cell is not None)

    @property
    def files_with_findings(self) -> int:
        return sum(1 for r in self.reports if r.findings)


def format_text(result: CheckResult) -> str:
    """``path:line:col: CODE [*] message``, one finding a line (line and column 1-based); ``[*]``:
    the run's ``--fix`` would fix it."""
    return "".join(finding.text(result.unsafe_fixes) + "\n" for finding in result.findings)


def format_json(result: CheckResult) -> str:
    document = {
        "version": JSON_VERSION,
        "files_checked": result.files_checked,
        "findings": [finding.to_json() for finding in result.findings],
        "errors": [error.to_json() for error in result.errors],
    }
    return json.dumps(document, indent=2) + "\n"  # ASCII: valid JSON whatever the terminal's encoding


# --- SARIF ---------------------------------------------------------------------------------------

def pascal_case(kebab: str) -> str:
    """``truncated-normal-variance-target`` -> ``TruncatedNormalVarianceTarget`` (GitHub shows a
    rule's ``name`` as an identifier)."""
    return "".join(part[:1].upper() + part[1:] for part in kebab.split("-") if part)


def _relative(path: str) -> Optional[str]:
    """``path`` relative to the working directory with forward slashes, or None when it lies outside
    it (or on another drive)."""
    try:
        rel = os.path.relpath(os.path.abspath(path))
    except ValueError:
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def _artifact_location(path: str) -> dict:
    """A relative, percent-encoded URI against ``%SRCROOT%`` (the working directory) when the file is
    under it; else an absolute ``file:`` URI."""
    rel = _relative(path)
    if rel is not None:  # the name's own bytes, percent-encoded: a non-UTF-8 name has surrogate escapes
        return {"uri": quote(os.fsencode(rel), safe="/"), "uriBaseId": SRCROOT}
    return {"uri": Path(os.path.abspath(path)).as_uri()}


def _directory_uri(path: str) -> str:
    uri = Path(os.path.abspath(path)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _reflow(markdown: str) -> str:
    """Join the hard-wrapped lines of plain paragraphs (lists and code blocks stay as written)."""
    paragraphs = []
    for paragraph in markdown.strip().split("\n\n"):
        lines = paragraph.split("\n")
        structured = any(line.lstrip().startswith(("- ", "* ", "```", "|", "    ")) or line[:1].isdigit()
                         for line in lines)
        paragraphs.append(paragraph if structured else " ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def _rule_descriptor(rule) -> dict:
    from . import docs

    _, found = docs.sections(rule)
    by_title = dict(found)
    full = "\n\n".join(_reflow(by_title[t]) for t in ("What it does", "Why is this bad?") if by_title.get(t))
    markdown = docs.rule_markdown(rule)
    tags = ["correctness", "weight-initialisation", *rule.frameworks]
    if not rule.default_enabled:
        tags.append("off-by-default")
    return {
        "id": rule.code,
        "name": pascal_case(rule.name),
        "shortDescription": {"text": docs.summary(rule)},
        "fullDescription": {"text": full or docs.summary(rule)},
        "help": {"text": markdown, "markdown": markdown},
        "helpUri": f"{RULES_URL}#{docs.anchor(rule)}",
        "defaultConfiguration": {"level": SARIF_LEVEL},
        "properties": {"tags": tags, "kebabName": rule.name},
    }


def _line_reader() -> Callable[[str, int], str]:
    """``line_text(path, line)``: the stripped source line, '' when it cannot be read. Each file is
    read once, decoded as Python decodes it (coding cookie, BOM; else UTF-8, else latin-1)."""
    cache: Dict[str, List[str]] = {}

    def read(path: str) -> List[str]:
        try:
            data = Path(path).read_bytes()
        except OSError:
            return []
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            text = data.decode(encoding)
        except (SyntaxError, LookupError, UnicodeDecodeError):
            text = data.decode("latin-1")
        return text.splitlines()

    def line_text(path: str, line: int) -> str:
        if path not in cache:
            cache[path] = read(path)
        lines = cache[path]
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    return line_text


def _fingerprints(findings: Sequence[Finding]) -> List[str]:
    """A hash of code, path and the finding's stripped source line (not its number, so moving code
    does not make an alert new; in a notebook, the cell's line), with a counter for repeats of the
    same triple in one file."""
    line_text = _line_reader()
    seen: Dict[Tuple[str, str, str], int] = {}
    out = []
    for finding in findings:
        path = _relative(finding.path) or os.path.abspath(finding.path).replace(os.sep, "/")
        text = (cell_line_text(finding.path, finding.cell, finding.line) if finding.cell is not None
                else line_text(finding.path, finding.line))
        key = (finding.code, path, text)
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha256("\0".join(key).encode("utf-8", "surrogatepass")).hexdigest()[:32]
        out.append(f"{digest}:{seen[key]}")
    return out


def sarif_document(result: CheckResult) -> dict:
    """The SARIF log as a dict (``format_sarif`` serialises it)."""
    from . import __version__
    from .rule import all_rules

    rules = all_rules()
    index = {rule.code: i for i, rule in enumerate(rules)}
    findings = result.findings
    results = []
    for finding, fingerprint in zip(findings, _fingerprints(findings)):
        line, column, end_line, end_column = _file_region(finding)
        entry = {"ruleId": finding.code}
        if finding.code in index:
            entry["ruleIndex"] = index[finding.code]
        entry.update({
            "level": SARIF_LEVEL,
            "message": {"text": finding.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": _artifact_location(finding.path),
                    "region": {
                        "startLine": line,
                        "startColumn": column,
                        "endLine": end_line,
                        "endColumn": end_column,
                    },
                },
            }],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        })
        properties = {"framework": finding.framework} if finding.framework else {}
        if finding.cell is not None:  # the region is in the .ipynb file's text; the cell's own numbers too
            properties.update(cell=finding.cell, cellLine=finding.line, cellColumn=finding.column)
        if properties:
            entry["properties"] = properties
        results.append(entry)

    notifications = [
        {
            "level": "error",
            "message": {"text": f"{error.path}: {error.message}"},
            "descriptor": {"id": NOT_CHECKED_ID, "index": 0},
            "locations": [{"physicalLocation": _error_location(error)}],
        }
        for error in result.errors
    ]
    invocation = {"executionSuccessful": not notifications, "workingDirectory": {"uri": _directory_uri(".")}}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications

    run = {
        "tool": {
            "driver": {
                "name": "initlint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": PROJECT_URL,
                "rules": [_rule_descriptor(rule) for rule in rules],
                "notifications": [{
                    "id": NOT_CHECKED_ID,
                    "name": "FileNotChecked",
                    "shortDescription": {"text": "A file could not be checked (it does not parse, is not "
                                                 "UTF-8, or cannot be read); the other files were."},
                    "defaultConfiguration": {"level": "error"},
                }],
            },
        },
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(".")}},
        "columnKind": "unicodeCodePoints",  # libcst's columns count characters, not UTF-16 units
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _file_region(finding: Finding) -> Tuple[int, int, int, int]:
    """Where SARIF and GitHub annotate a finding: its own position in a Python file; in a notebook,
    the position in the ``.ipynb`` file's text (inside the JSON string of the cell's line), since
    both annotate the file as stored, and GitHub's diff of a notebook shows that text."""
    if finding.cell is None:
        return finding.line, finding.column, finding.end_line, finding.end_column
    return file_region(finding)


def _error_position(error: FileError) -> Tuple[Optional[int], Optional[int]]:
    """An error's line and column as SARIF and GitHub place it (in a notebook's stored text for an
    error about one of its cells, as ``_file_region``)."""
    if error.cell is not None and error.line is not None:
        line, column, _, _ = file_region(Finding(error.path, error.line, error.column or 1, error.line,
                                                 error.column or 1, "", "", "", cell=error.cell))
        return line, column
    return error.line, error.column


def _error_location(error: FileError) -> dict:
    location = {"artifactLocation": _artifact_location(error.path)}
    line, column = _error_position(error)
    if line is not None:
        location["region"] = {"startLine": line, **({"startColumn": column} if column else {})}
    return location


def format_sarif(result: CheckResult) -> str:
    """SARIF 2.1.0: columns 1-based, ``endColumn`` one past the last character, as SARIF defines."""
    return json.dumps(sarif_document(result), indent=2) + "\n"


# --- GitHub Actions workflow commands ------------------------------------------------------------

def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the Actions toolkit does (``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``escapeProperty``): ``:`` and ``,`` as well."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, properties: Sequence[Tuple[str, object]], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{kind} {props}::{escape_data(message)}\n"


def _github_path(path: str) -> str:
    """Annotations need paths relative to the repository root: relative to the working directory
    (the checkout, in a workflow) when possible."""
    return _relative(path) or path


def format_github(result: CheckResult) -> str:
    """``::warning file=…,line=…,col=…,endLine=…,endColumn=…,title=CODE name::message`` per finding,
    ``::error file=…,title=…::message`` per file that could not be checked. Columns as in ``json``;
    a notebook's finding is placed in the ``.ipynb`` file's text (``_file_region``) and its title
    names the cell and the line in the cell."""
    out = []
    for f in result.findings:
        line, column, end_line, end_column = _file_region(f)
        where = f" (cell {f.cell}, line {f.line})" if f.cell is not None else ""
        out.append(_command("warning", [
            ("file", _github_path(f.path)), ("line", line), ("col", column),
            ("endLine", end_line), ("endColumn", end_column), ("title", f"{f.code} {f.name}{where}"),
        ], f.message))
    for error in result.errors:
        title = "initlint: file not checked" if error.cell is None else f"initlint: cell {error.cell} not checked"
        where = [("file", _github_path(error.path))]
        line, column = _error_position(error)
        if line is not None:
            where += [("line", line)] + ([("col", column)] if column is not None else [])
        out.append(_command("error", where + [("title", title)], error.message))
    return "".join(out)


FORMATTERS: Dict[str, Callable[[CheckResult], str]] = {
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
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
    partial = sum(1 for error in result.errors if error.cell is not None)
    if n_errors - partial:
        n_whole = n_errors - partial
        problems.append(f"{n_whole} file{'s' * (n_whole != 1)} could not be checked")
    if partial:
        problems.append(f"{partial} notebook{'s' * (partial != 1)} with cells that do not parse")
    return "; ".join(problems) + f" {checked}."
