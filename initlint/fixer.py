"""``--fix``: apply the rules' fixes, re-parse, repeat to a fixed point, write atomically.

A fix replaces one node (found by identity, so formatting and comments elsewhere are untouched)
and may schedule imports through libcst's ``AddImportsVisitor``. After each round the result must
parse (libcst and CPython) or nothing is written. Rounds repeat until no fixable finding is left,
so a second ``--fix`` changes nothing. Writing goes to a temporary file in the same directory,
fsynced, given the original's mode (and owner, where we may), then ``os.replace``d over it: a
failure or a crash at any point leaves either the original or the fixed file, never half of one.
A failed write removes its temporary file; only a process killed while writing can leave one, a
``.initlint-*.tmp`` beside the file (never walked, never read: it does not end in ``.py``). A
symbolic link is written through (its target is replaced, the link kept), and a file that changed
on disk after it was read is left alone.
"""

from __future__ import annotations

import ast
import difflib
import os
import stat
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from .engine import SourceError, located_reports, one_collection, parse, worth_parsing
from .ftypes import Finding, Settings
from .notebook import too_large

MAX_ROUNDS = 4


@dataclass
class FixResult:
    path: str
    original: str
    fixed: str
    applied: List[Finding] = field(default_factory=list)
    error: Optional[str] = None
    unparsable: bool = False  # the error is the source's own (a check reports it too), not the fix's
    crashed: bool = False  # the process fixing it died
    error_at: Tuple[Optional[int], Optional[int]] = (None, None)  # where the source stopped parsing, 1-based

    @property
    def error_is_the_checks(self) -> bool:
        """A check of the same file reports this error itself: the file could not be read or
        parsed (a fix that failed, or a process that died fixing it, is the fix's to report)."""
        return self.error is not None and not self.crashed and (self.unparsable or not self.original)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.original.splitlines(True), self.fixed.splitlines(True),
                                            self.path, self.path))


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: Dict[cst.CSTNode, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):
        replacement = self.replacements.get(original_node)
        return replacement if replacement is not None else updated_node


def _allowed(rule, unsafe: bool, fix=None) -> bool:
    safety = getattr(fix, "safety", None) or rule.fix_safety  # a fix may be less safe than its rule's others
    return safety == "safe" or (unsafe and safety == "unsafe")


def _one_round(code: str, path: str, settings: Settings, unsafe: bool, project=None) -> Tuple[str, List[Finding]]:
    module = parse(code)
    chosen: Dict[cst.CSTNode, cst.CSTNode] = {}
    imports: List[Tuple[str, Optional[str]]] = []
    applied: List[Finding] = []
    taken: List[Tuple[int, int, int, int]] = []
    reports = located_reports(module, path, settings, code=code, project=project)
    for rule, report, finding in sorted(reports, key=lambda item: item[2]):
        fix = report.fix
        if fix is None or not _allowed(rule, unsafe, fix) or fix.node in chosen:
            continue
        span = (finding.line, finding.column, finding.end_line, finding.end_column)
        if any(_overlaps(span, other) for other in taken):
            continue  # one fix per region a round; the next round sees the rest
        taken.append(span)
        chosen[fix.node] = fix.replacement
        imports.extend(fix.imports)
        applied.append(finding)
    if not chosen:
        return code, []
    return _apply(module, chosen, imports), applied


def _apply(module: cst.Module, chosen: Dict[cst.CSTNode, cst.CSTNode], imports) -> str:
    new_module = module.visit(_Replace(chosen))
    if imports:
        context = CodemodContext()
        for module_name, name in imports:
            AddImportsVisitor.add_needed_import(context, module_name, name)
        new_module = AddImportsVisitor(context).transform_module(new_module)
    return new_module.code


def fix_one(code: str, path: str, settings: Optional[Settings], line: int, column: int, rule_code: str,
            project=None) -> Optional[str]:
    """``code`` with the fix of one finding applied (the ``rule_code`` finding at ``line``:``column``,
    1-based), whatever its safety: the user picked it, as an editor's quick fix. None when that
    finding is not there or has no fix. The result is re-parsed, as every fix is. ``project``: the
    file's ``ProjectView``, as for a check (a finding another module completes has its fix too)."""
    settings = settings or Settings()
    with one_collection():
        if not worth_parsing(code, path, settings, project=project):
            return None
        module = parse(code)
        for rule, report, finding in located_reports(module, path, settings, code=code, project=project):
            if (finding.line, finding.column, finding.code) == (line, column, rule_code) and report.fix is not None:
                fixed = _apply(module, {report.fix.node: report.fix.replacement}, report.fix.imports)
                _verify(fixed)
                return fixed
    return None


def _overlaps(a, b) -> bool:
    return not ((a[2], a[3]) <= (b[0], b[1]) or (b[2], b[3]) <= (a[0], a[1]))


def fix_source(code: str, path: str = "<string>", settings: Optional[Settings] = None,
               unsafe: bool = False, project=None) -> FixResult:
    """The fixed text of ``code`` (unchanged when nothing is fixable). Never raises on bad input:
    a source that does not parse, or a fix whose result would not parse, leaves the text as it was.
    ``project``: the file's ``ProjectView``: the findings fixed are those a check of the file with
    its project reports (INI201 on a helper whose ReLU network is in another module)."""
    with one_collection():
        return _fix_source(code, path, settings or Settings(), unsafe, project)


def _fix_source(code: str, path: str, settings: Settings, unsafe: bool, project=None) -> FixResult:
    result = FixResult(path, code, code)
    current = code
    produced = False  # has a fix been made yet: a SourceError before that is the source's own
    try:
        # the check's gates: CPython's parser, libcst's limits (a chain its parser would crash
        # on), and the prefilter (a file that cannot hold a finding has nothing to fix)
        if not worth_parsing(code, path, settings, project=project):
            return result
        for _ in range(MAX_ROUNDS):
            fixed, applied = _one_round(current, path, settings, unsafe, project)
            if not applied:
                break
            produced = True
            _verify(fixed)
            current = fixed
            result.applied.extend(applied)
    except SourceError as exc:
        result.error = str(exc)
        result.error_at = (exc.line, exc.column)
        result.unparsable = not produced
        return result
    except Exception as exc:  # a fix must never take the user's file down with it
        result.error = f"fix not applied: {type(exc).__name__}: {exc}"
        return result
    result.fixed = current
    return result


def _verify(code: str) -> None:
    """The fixed text must parse for the Python that will run it and for libcst."""
    try:
        with warnings.catch_warnings():  # the user's invalid escapes are not ours to print
            warnings.simplefilter("ignore")
            ast.parse(code)
        cst.parse_module(code)
    except (SyntaxError, cst.ParserSyntaxError) as exc:
        raise SourceError(f"a fix produced invalid code: {exc}") from None


def write_atomically(path: str, text: str, expected: Optional[os.stat_result] = None) -> None:
    """Replace ``path``'s content with ``text`` so that no reader ever sees half of it. A symbolic
    link is followed: its target is replaced and the link stays a link. ``expected``: the status of
    the file when it was read; if it has changed since (an editor saved it meanwhile), nothing is
    written and ``OSError`` says so."""
    path = os.path.realpath(path)
    status = os.stat(path)
    if expected is not None and _identity(status) != _identity(expected):
        raise OSError(f"{path} changed on disk while it was being fixed; run --fix again")
    descriptor, temporary = tempfile.mkstemp(prefix=".initlint-", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if hasattr(os, "chown"):
            try:  # keep owner and group where we may (root fixing another user's file)
                os.chown(temporary, status.st_uid, status.st_gid)
            except OSError:
                pass
        os.chmod(temporary, status.st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _identity(status: os.stat_result) -> Tuple[int, int, int, int]:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def _unfixable(status: os.stat_result, path: str) -> Optional[str]:
    return too_large(path, status.st_size) if stat.S_ISREG(status.st_mode) else "not a regular file"


def fix_file(path: str, settings: Optional[Settings] = None, unsafe: bool = False, write: bool = True,
             projects=None) -> FixResult:
    """Fix one file in place (``write=False``: only compute the result, e.g. for ``--diff``); a
    ``.ipynb`` notebook through ``notebook_fix``. ``projects``: a ``project.Projects``: the file is
    fixed as it is checked, with its project (None: alone)."""
    try:
        # stat before opening: opening a FIFO would block for ever (the check reports these files)
        reason = _unfixable(os.stat(path), path)
        if reason:
            return FixResult(path, "", "", error=f"cannot read: {reason}")
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            data = handle.read()
        code = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FixResult(path, "", "", error=f"cannot read: {exc}")
    if path.endswith(".ipynb"):  # the code cells are fixed, the rest of the file kept byte for byte
        from .notebook_fix import fix_notebook

        result = fix_notebook(code, path, settings, unsafe)
    else:
        result = fix_source(code, path, settings, unsafe, projects.view(path) if projects is not None else None)
    if write and result.changed and result.error is None:
        try:
            write_atomically(path, result.fixed, expected=status)
        except OSError as exc:
            result.error = f"cannot write: {exc}"
            result.fixed = result.original
    return result
