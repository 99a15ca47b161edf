"""``initlint server``: a Language Server (stdio) over the same engine as ``initlint check``.

A thin front end. What it adds is only what an editor needs:

- Diagnostics for the editor's buffer (not the file on disk) on open, change and save: the engine's
  findings, with the rule's documentation linked, identical to ``check``'s. A change is debounced
  (``DEBOUNCE`` seconds), a newer version of the buffer cancels the pending run, and a result that
  arrives for an older version is dropped.
- Checks run in a worker process, off the event loop: a buffer that crashes the parser (libcst's
  native parser can die on input the engine's gates do not foresee) costs that worker, not the
  server; the next check starts a new one, and the buffer gets a diagnostic saying it could not be
  checked.
- Code actions: each finding's fix as a quick fix (safe ones preferred; unsafe ones labelled, since
  they change the numbers the model starts from), ``source.fixAll.initlint`` for every safe fix, and
  "suppress with noqa".
- Hover on a finding: the rule's documentation, the text of its ``rules.md`` entry.
- ``[tool.initlint]`` of the nearest ``pyproject.toml`` (as ``check`` finds it from the file), read
  again whenever it changes on disk.
- Notebook documents (``notebookDocument/*``, where the client sends them): the cells checked as one
  program, as ``check nb.ipynb`` checks the file, each cell's findings published on its own URI
  (``server_notebooks.py``).
- A buffer's successive versions are parsed again only where they changed (``reparse.py``).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import multiprocessing
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote, urlparse

from . import __version__
from .ftypes import Finding, Settings

# Seconds after a change before its check starts. A debounce is there to coalesce the changes an
# editor sends in one burst (a key held down repeats every ~30-50 ms; auto-closed brackets, a
# paste followed by auto-indent, a format-on-type arrive as several didChange at once), not the
# keys of a person typing (~100-300 ms apart), each of which should get its diagnostics. 50 ms
# spans a burst; a longer wait is not needed to spare the worker, since a newer version cancels a
# run that has not started and a result for an older version is dropped. (pyright waits 250 ms
# after the user's last edit, but it can abandon an analysis half-way; a check here cannot be
# interrupted, so starting sooner and dropping stale results costs less latency.)
DEBOUNCE = 0.05
FIX_ALL_KIND = "source.fixAll.initlint"
SOURCE = "initlint"


# --- what runs in the worker process ----------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """One check of one buffer: the findings, or why it could not be checked (and where)."""

    findings: Tuple[Finding, ...] = ()
    error: Optional[str] = None
    error_at: Tuple[Optional[int], Optional[int]] = (None, None)
    error_cell: Optional[int] = None  # a notebook's: the cell ``error_at`` is in


# the buffers whose last version the worker keeps (its trees and positions), most recent last: a
# check parses only what changed since (``reparse.py``). A kept tree takes ~180 bytes a byte of
# source (11.6 MB for the benchmark's 2,000 lines, 66 KB), so what is kept is bounded by the
# sources' size: 2 MiB of source, ~370 MB, a few large files or many small ones
KEPT_SOURCE_BYTES = 2 * 2**20
_reparsers: "collections.OrderedDict[str, Tuple[object, int]]" = collections.OrderedDict()


def _reparser(path: str, size: int):
    from .reparse import Reparser

    reparser = _reparsers.pop(path, (Reparser(), 0))[0]
    _reparsers[path] = (reparser, size)
    while len(_reparsers) > 1 and sum(kept for _, kept in _reparsers.values()) > KEPT_SOURCE_BYTES:
        _reparsers.popitem(last=False)
    return reparser


def check_buffer(source: str, path: str, settings: Settings) -> Outcome:
    from .engine import SourceError, check_source

    try:
        return Outcome(tuple(check_source(source, path, settings, project=_project_view(path),
                                          reparser=_reparser(path, len(source)))))
    except SourceError as exc:
        return Outcome(error=str(exc), error_at=(exc.line, exc.column))
    except RecursionError:
        return Outcome(error="too deeply nested to analyse")


def check_notebook_buffer(cells, path: str, settings: Settings) -> Outcome:
    """The cells of a notebook document (``server_notebooks.cell_texts``) checked as one program."""
    from .engine import SourceError
    from .server_notebooks import check_notebook_cells

    try:
        size = sum(len(text) for _, _, text, _ in cells)
        findings, error = check_notebook_cells(cells, path, settings, reparser=_reparser(path, size))
    except SourceError as exc:
        return Outcome(error=str(exc))
    except RecursionError:
        return Outcome(error="too deeply nested to analyse")
    if error is None:
        return Outcome(tuple(findings))
    return Outcome(tuple(findings), error=error.message, error_at=(error.line, error.column), error_cell=error.cell)


def _project_view(path: str):
    """The buffer's project, read afresh for each check (the other files change on disk while the
    server runs; their summaries are cached by content, the project's scan by file stamps)."""
    import os

    if not path or not os.path.isfile(path):
        return None
    try:
        from .cache import default_directory
        from .config import load_config
        from .project import Projects

        try:
            source = load_config(start=os.path.dirname(path)).source
        except Exception:  # the configuration is the check's business; here it only places the cache
            source = None
        return Projects(default_directory(source)).view(path)
    except Exception:  # the buffer is then checked alone
        return None


def _warm_up() -> None:
    """Import the rules and build the prefilter in the worker before the first buffer arrives."""
    from .engine import might_hold_findings

    might_hold_findings("", Settings())


class Checker:
    """One worker process that checks buffers; a new one replaces it when it dies."""

    def __init__(self) -> None:
        self._pool: Optional[concurrent.futures.ProcessPoolExecutor] = None
        # one check in the worker at a time: a check waiting its turn is cancelled cleanly by a newer
        # version, where a second one handed to the pool would run, stale, before the newest
        self._turn = asyncio.Lock()

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn: the server runs threads (the event loop's reader), where fork is unsafe
            context = multiprocessing.get_context("spawn")
            self._pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context,
                                                                initializer=_warm_up)
        return self._pool

    async def check(self, source, path: str, settings: Settings, function=check_buffer) -> Outcome:
        """``function(source, path, settings)`` in the worker: ``check_buffer`` for a text document,
        ``check_notebook_buffer`` for a notebook's cells."""
        loop = asyncio.get_running_loop()
        try:
            async with self._turn:
                running = loop.run_in_executor(self._executor(), function, source, path, settings)
                try:
                    return await asyncio.shield(running)
                except asyncio.CancelledError:
                    # a newer version wants the worker, which cannot be interrupted: it gets its
                    # turn when this check ends (its result is not used)
                    await asyncio.wait([running])
                    raise
        except concurrent.futures.process.BrokenProcessPool:
            self._pool = None  # the next check starts a new worker
            return Outcome(error="the process checking this buffer died (the parser crashed on it)")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


# --- configuration ------------------------------------------------------------------------------------

class Configurations:
    """The settings for a file: ``[tool.initlint]`` of the nearest pyproject.toml, re-read when that
    file changes (its modification time and size are the key)."""

    def __init__(self) -> None:
        self._seen: Dict[str, Tuple[Tuple[float, int], Settings]] = {}

    def settings_for(self, path: str) -> Tuple[Settings, Optional[str]]:
        """``(settings, error)``: an invalid configuration gives the defaults and its message."""
        from .config import ConfigError, find_pyproject, load_config

        start = os.path.dirname(path) if os.path.isabs(path) else os.getcwd()
        try:
            found = find_pyproject(start)
        except ConfigError as exc:
            return Settings(), str(exc)
        if found is None:
            return Settings(), None
        key = str(found)
        try:
            status = os.stat(found)
            stamp = (status.st_mtime, status.st_size)
        except OSError:
            return Settings(), None
        cached = self._seen.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1], None
        try:
            settings = load_config(str(found)).settings
        except ConfigError as exc:
            return Settings(), str(exc)
        self._seen[key] = (stamp, settings)
        return settings, None


# --- LSP types ----------------------------------------------------------------------------------------

def path_of(uri: str) -> str:
    """A file URI's path; an unsaved buffer (``untitled:``) keeps its URI as its name."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    return uri


def to_range(types, line: int, column: int, end_line: int, end_column: int):
    """1-based, end-exclusive columns (the engine's) -> an LSP range (0-based)."""
    return types.Range(start=types.Position(line=line - 1, character=column - 1),
                       end=types.Position(line=end_line - 1, character=end_column - 1))


def diagnostic(types, finding: Finding):
    from . import docs
    from .formats import RULES_URL
    from .rule import rule_by_code

    rule = rule_by_code(finding.code)
    href = f"{RULES_URL}#{docs.anchor(rule)}" if rule is not None else RULES_URL
    return types.Diagnostic(
        range=to_range(types, finding.line, finding.column, finding.end_line, finding.end_column),
        message=finding.message,
        severity=types.DiagnosticSeverity.Warning,
        code=finding.code,
        code_description=types.CodeDescription(href=href),
        source=SOURCE,
        data={"fix": finding.fix, "name": finding.name, "line": finding.line, "column": finding.column},
    )


def error_diagnostic(types, outcome: Outcome):
    line, column = outcome.error_at
    line, column = line or 1, column or 1
    return types.Diagnostic(range=to_range(types, line, column, line, column + 1),
                            message=f"initlint could not check this file: {outcome.error}",
                            severity=types.DiagnosticSeverity.Error, code="INI000", source=SOURCE)


def document_edit(types, uri: str, version: Optional[int], old: str, new: str):
    """An edit that replaces the whole of one document (the fixes are re-parsed whole anyway)."""
    lines = old.split("\n")
    end = types.Position(line=len(lines) - 1, character=len(lines[-1]))
    edit = types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end), new_text=new)
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.TextDocumentEdit(text_document=document, edits=[edit])


def whole_document_edit(types, uri: str, version: Optional[int], old: str, new: str):
    """A workspace edit that replaces the whole buffer."""
    return types.WorkspaceEdit(document_changes=[document_edit(types, uri, version, old, new)])


def cells_edit(types, workspace, uris: List[str], changes: Dict[int, str]):
    """A workspace edit that gives the notebook cells ``changes`` (``{cell number: new source}``)."""
    edits = []
    for number in sorted(changes):
        cell = workspace.get_text_document(uris[number - 1])
        edits.append(document_edit(types, cell.uri, cell.version, cell.source, changes[number]))
    return types.WorkspaceEdit(document_changes=edits)


# --- the server -------------------------------------------------------------------------------------

def build_server():
    """The pygls server with initlint's features (importing pygls here keeps ``initlint check``
    free of it)."""
    from lsprotocol import types
    from pygls.lsp.server import LanguageServer

    # notebooks: every notebook type, its Python cells (a client that sends no notebooks is not asked to)
    notebook_sync = types.NotebookDocumentSyncOptions(notebook_selector=[types.NotebookDocumentFilterWithCells(
        notebook="*", cells=[types.NotebookCellLanguage(language="python")])], save=True)
    server = LanguageServer("initlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                            notebook_document_sync=notebook_sync)
    checker = Checker()
    configurations = Configurations()
    pending: Dict[str, asyncio.Task] = {}
    results: Dict[str, Tuple[Optional[int], Tuple[Finding, ...]]] = {}
    notebooks: Dict[str, List[str]] = {}  # an open notebook's URI -> its cells' URIs last published
    warned: Dict[str, str] = {}

    def settings_for(uri: str, path: str) -> Settings:
        settings, problem = configurations.settings_for(path)
        if problem and warned.get(uri) != problem:
            warned[uri] = problem
            server.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Warning, message=f"initlint: {problem} (checking with the defaults)"))
        return settings

    async def run_notebook_check(uri: str, delay: float) -> None:
        from .server_notebooks import cell_texts

        if delay:
            await asyncio.sleep(delay)
        notebook = server.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is None:
            return
        version, path = notebook.version, path_of(uri)
        cells, uris = cell_texts(server.workspace, types, notebook)
        outcome = await checker.check(tuple(cells), path, settings_for(uri, path), check_notebook_buffer)
        current = server.workspace.get_notebook_document(notebook_uri=uri)
        if current is None or current.version != version:
            return  # stale, or closed meanwhile
        by_cell: Dict[int, List[Finding]] = {number: [] for number, *_ in cells}
        for finding in outcome.findings:
            by_cell.setdefault(finding.cell or 1, []).append(finding)
        for gone in set(notebooks.get(uri, ())) - set(uris):  # cells deleted since: cleared
            results.pop(gone, None)
            server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=gone, diagnostics=[]))
        notebooks[uri] = uris
        first_code = next((number for number, kind, _, python in cells if python), 1)
        for number, cell_uri in enumerate(uris, 1):
            findings = tuple(by_cell.get(number, ()))
            document = server.workspace.get_text_document(cell_uri)
            results[cell_uri] = (document.version, findings)
            diagnostics = [diagnostic(types, f) for f in findings]
            if outcome.error is not None and (outcome.error_cell or first_code) == number:
                diagnostics.append(error_diagnostic(types, outcome))
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=cell_uri, version=document.version, diagnostics=diagnostics))

    async def run_check(uri: str, delay: float) -> None:
        if uri in notebooks:
            return await run_notebook_check(uri, delay)
        if delay:
            await asyncio.sleep(delay)
        document = server.workspace.get_text_document(uri)
        version, source, path = document.version, document.source, path_of(uri)
        outcome = await checker.check(source, path, settings_for(uri, path))
        current = server.workspace.get_text_document(uri)
        if current.version != version:
            return  # stale: the buffer changed while it was checked; its own run follows
        results[uri] = (version, outcome.findings)
        diagnostics = [diagnostic(types, f) for f in outcome.findings]
        if outcome.error is not None:
            diagnostics.append(error_diagnostic(types, outcome))
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))

    def schedule(uri: str, delay: float) -> None:
        previous = pending.pop(uri, None)
        if previous is not None and not previous.done():
            previous.cancel()
        pending[uri] = asyncio.ensure_future(run_check(uri, delay))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls, params: types.DidOpenTextDocumentParams) -> None:
        schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls, params: types.DidChangeTextDocumentParams) -> None:
        schedule(params.text_document.uri, DEBOUNCE)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls, params: types.DidSaveTextDocumentParams) -> None:
        schedule(params.text_document.uri, 0)

    def forget(ls, uri: str, published) -> None:
        """A document (or notebook) closed: its pending check cancelled, its diagnostics cleared."""
        task = pending.pop(uri, None)
        if task is not None:
            task.cancel()
        for shown in published:
            results.pop(shown, None)
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=shown, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: types.DidCloseTextDocumentParams) -> None:
        forget(ls, params.text_document.uri, [params.text_document.uri])

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def did_open_notebook(ls, params: types.DidOpenNotebookDocumentParams) -> None:
        notebooks.setdefault(params.notebook_document.uri, [])
        schedule(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def did_change_notebook(ls, params: types.DidChangeNotebookDocumentParams) -> None:
        schedule(params.notebook_document.uri, DEBOUNCE)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def did_save_notebook(ls, params: types.DidSaveNotebookDocumentParams) -> None:
        schedule(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def did_close_notebook(ls, params: types.DidCloseNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        forget(ls, uri, set(notebooks.pop(uri, ())) | {cell.uri for cell in params.cell_text_documents})

    @server.feature(types.INITIALIZED)
    def initialized(ls, params) -> None:
        # a client sends workspace/didChangeWatchedFiles only for the files a server asks it to
        # watch: pyproject.toml, so that an open buffer is checked again when its configuration
        # changes, not only at its next edit
        workspace = ls.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace is not None else None
        if watched is not None and watched.dynamic_registration:
            ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
                id="initlint-pyproject", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern="**/pyproject.toml")]))]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls, params) -> None:
        # a pyproject.toml changed: every open buffer and notebook is checked again under its new settings
        cells = {cell for uris in notebooks.values() for cell in uris}
        for uri in [uri for uri in results if uri not in cells] + list(notebooks):
            schedule(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=False))
    def code_action(ls, params: types.CodeActionParams) -> List[types.CodeAction]:
        from .engine import SourceError
        from .fixer import fix_one, fix_source
        from .noqa import add_noqa
        from .server_notebooks import cell_texts, fix_all_in_cells, fix_in_cells

        uri = params.text_document.uri
        document = ls.workspace.get_text_document(uri)
        source, version = document.source, document.version
        notebook = ls.workspace.get_notebook_document(cell_uri=uri)
        path = path_of(notebook.uri if notebook is not None else uri)
        settings, _ = configurations.settings_for(path)
        if notebook is not None:  # a cell: the fixes run on the program of the notebook's cells
            cells, uris = cell_texts(ls.workspace, types, notebook)
            number = uris.index(uri) + 1 if uri in uris else None

            def fix_edit(line: int, column: int, code: str):
                changes = number and fix_in_cells(cells, path, settings, number, line, column, code)
                return cells_edit(types, ls.workspace, uris, changes) if changes else None

            def fix_all_edit():
                changes = fix_all_in_cells(cells, path, settings)
                return cells_edit(types, ls.workspace, uris, changes) if changes else None
        else:
            def fix_edit(line: int, column: int, code: str):
                try:
                    fixed = fix_one(source, path, settings, line, column, code, project=_project_view(path))
                except SourceError:  # the buffer no longer parses: nothing to offer
                    return None
                return whole_document_edit(types, uri, version, source, fixed) if fixed not in (None, source) else None

            def fix_all_edit():
                result = fix_source(source, path, settings, unsafe=False, project=_project_view(path))
                if result.error is None and result.changed:
                    return whole_document_edit(types, uri, version, source, result.fixed)
                return None

        only = params.context.only
        actions: List[types.CodeAction] = []
        if not only or any(kind.startswith(types.CodeActionKind.QuickFix) for kind in only):
            for item in params.context.diagnostics:
                if item.source != SOURCE or not isinstance(item.data, dict) or item.code == "INI000":
                    continue
                line, column, code = item.data.get("line"), item.data.get("column"), str(item.code)
                fix = item.data.get("fix")
                edit = fix_edit(line, column, code) if fix else None
                if edit is not None:
                    unsafe = " (unsafe: changes the initial weights)" if fix == "unsafe" else ""
                    label = f"initlint: fix {code}{unsafe}"
                    actions.append(types.CodeAction(title=label, kind=types.CodeActionKind.QuickFix,
                                                    diagnostics=[item], is_preferred=fix == "safe", edit=edit))
                suppressed = add_noqa(source, line, code)
                if suppressed != source:
                    actions.append(types.CodeAction(
                        title=f"initlint: suppress {code} on this line (# noqa: {code})",
                        kind=types.CodeActionKind.QuickFix, diagnostics=[item],
                        edit=whole_document_edit(types, uri, version, source, suppressed)))
        wants_fix_all = not only or any(FIX_ALL_KIND.startswith(kind) for kind in only)
        edit = fix_all_edit() if wants_fix_all else None
        if edit is not None:
            actions.append(types.CodeAction(title="initlint: fix all safe fixes", kind=FIX_ALL_KIND, edit=edit))
        return actions

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: types.HoverParams) -> Optional[types.Hover]:
        from . import docs
        from .rule import rule_by_code

        version, findings = results.get(params.text_document.uri, (None, ()))
        line, character = params.position.line + 1, params.position.character + 1
        for finding in findings:
            inside = (finding.line, finding.column) <= (line, character) <= (finding.end_line, finding.end_column)
            rule = rule_by_code(finding.code)
            if inside and rule is not None:
                return types.Hover(
                    contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=docs.rule_markdown(rule)),
                    range=to_range(types, finding.line, finding.column, finding.end_line, finding.end_column))
        return None

    @server.feature(types.SHUTDOWN)
    def shutdown(ls, params) -> None:
        checker.close()

    return server


def main(argv: Optional[List[str]] = None) -> int:
    try:
        server = build_server()
    except ImportError as exc:
        print(f"initlint server: error: {exc.name or exc} is not installed; "
              "`pip install 'initlint[server]'` installs the language server's dependencies", file=sys.stderr)
        return 2
    server.start_io()
    return 0
