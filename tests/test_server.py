"""``initlint server`` driven over stdio by a real LSP client (pytest-lsp): diagnostics equal to
``check``'s on open, updated on change, a quick fix applied re-checks clean, fix-all, noqa
suppression, hover, configuration, and a buffer the parser cannot take leaves the server answering."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from conftest import DATA, require_module, run_cli, write

require_module("pytest_lsp", "the language server is tested with a real LSP client")
require_module("pygls", "the language server's dependency")

import pytest_lsp  # noqa: E402
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

def make_client() -> LanguageClient:
    """pytest-lsp's client, keeping the version each URI's diagnostics are for as well."""
    from pytest_lsp import make_test_lsp_client

    client = make_test_lsp_client()
    client.versions = {}

    def publish(params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.versions[params.uri] = params.version

    client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    return client


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "initlint", "server"],
                            server_env={**os.environ}, client_factory=make_client)
TIMEOUT = 60  # the first check starts the worker process (imports libcst and the rules)


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="workspace")]))
    lsp_client.root = root
    yield
    await lsp_client.shutdown_session()


async def diagnostics_for(client: LanguageClient, uri: str, version: int):
    """Wait until diagnostics for ``version`` of ``uri`` arrive."""
    async def wait():
        while client.versions.get(uri) != version:
            await asyncio.sleep(0.02)
        return client.diagnostics[uri]
    return await asyncio.wait_for(wait(), TIMEOUT)


def open_document(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    path.write_text(text, encoding="utf-8")
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    return uri


def as_check_sees(diagnostics):
    return sorted((d.range.start.line + 1, d.range.start.character + 1, d.range.end.line + 1,
                   d.range.end.character + 1, d.code, d.message) for d in diagnostics)


def check_json(path: Path):
    document = json.loads(run_cli("check", "--no-cache", "--format", "json", str(path)).stdout)
    return sorted((f["line"], f["column"], f["end_line"], f["end_column"], f["code"], f["message"])
                  for f in document["findings"])


BAD = (DATA / "cli" / "bad.py").read_text(encoding="utf-8")


@pytest.mark.asyncio
async def test_open_gives_checks_findings_and_change_updates_them(client: LanguageClient):
    path = client.root / "model.py"
    uri = open_document(client, path, BAD)
    diagnostics = await diagnostics_for(client, uri, 1)
    assert as_check_sees(diagnostics) == check_json(path)
    assert all(d.source == "initlint" and d.code_description.href.endswith("#" + d.code.lower())
               for d in diagnostics)
    # the buffer, not the file on disk: remove the INI402 line in the editor only
    line = next(i for i, text in enumerate(BAD.splitlines()) if "nn.init.normal_(self.out.weight)" in text)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=line, character=0),
                              end=types.Position(line=line + 1, character=0)), text="")]))
    updated = await diagnostics_for(client, uri, 2)
    assert sorted(d.code for d in updated) == sorted(c for c in (d.code for d in diagnostics) if c != "INI402")


@pytest.mark.asyncio
async def test_a_burst_of_changes_ends_with_the_last_versions_diagnostics(client: LanguageClient):
    """Keystrokes faster than a check: stale checks are dropped, the last version is checked."""
    path = client.root / "burst.py"
    uri = open_document(client, path, BAD)
    await diagnostics_for(client, uri, 1)
    line = next(i for i, text in enumerate(BAD.splitlines()) if "nn.init.normal_(self.out.weight)" in text)
    for version in range(2, 9):  # the INI402 line commented out and back, ending commented out
        comment = version % 2 == 0
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=0),
                                  end=types.Position(line=line, character=0 if comment else 2)),
                text="# " if comment else "")]))
        await asyncio.sleep(0.01)
    last = await diagnostics_for(client, uri, 8)
    path.write_text(BAD.replace("nn.init.normal_(self.out.weight)", "# nn.init.normal_(self.out.weight)", 1))
    assert as_check_sees(last) == check_json(path) and "INI402" not in {d.code for d in last}


@pytest.mark.asyncio
async def test_a_quick_fix_applied_rechecks_clean(client: LanguageClient):
    source = ("import torch.nn as nn\n\n\nclass M(nn.Module):\n    def __init__(self):\n"
              "        super().__init__()\n        self.fc = nn.Linear(4, 4)\n"
              "        nn.init.xavier_uniform_(self.fc.bias)\n")
    uri = open_document(client, client.root / "vector.py", source)
    diagnostics = await diagnostics_for(client, uri, 1)
    assert [d.code for d in diagnostics] == ["INI501"]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostics[0].range,
        context=types.CodeActionContext(diagnostics=diagnostics)))
    titles = [a.title for a in actions]
    fix = next(a for a in actions if a.title.startswith("initlint: fix INI501"))
    assert fix.is_preferred and "unsafe" not in fix.title
    assert any("noqa: INI501" in t for t in titles) and "initlint: fix all safe fixes" in titles
    edit = fix.edit.document_changes[0].edits[0]
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text)]))
    assert list(await diagnostics_for(client, uri, 2)) == []
    compile(edit.new_text, "fixed", "exec")


@pytest.mark.asyncio
async def test_unsafe_fixes_are_labelled_and_noqa_suppresses(client: LanguageClient):
    uri = open_document(client, client.root / "bad.py", BAD)
    diagnostics = await diagnostics_for(client, uri, 1)
    xavier = next(d for d in diagnostics if d.code == "INI201")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=xavier.range,
        context=types.CodeActionContext(diagnostics=[xavier], only=[types.CodeActionKind.QuickFix])))
    fix = next(a for a in actions if a.title.startswith("initlint: fix INI201"))
    assert "unsafe" in fix.title and not fix.is_preferred
    assert "kaiming" in fix.edit.document_changes[0].edits[0].new_text
    noqa = next(a for a in actions if "noqa" in a.title)
    suppressed = noqa.edit.document_changes[0].edits[0].new_text
    assert "# noqa: INI201" in suppressed.splitlines()[xavier.range.start.line]
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=suppressed)]))
    assert "INI201" not in [d.code for d in await diagnostics_for(client, uri, 2)]


@pytest.mark.asyncio
async def test_hover_shows_the_rules_documentation(client: LanguageClient):
    from initlint import docs
    from initlint.rule import rule_by_code

    uri = open_document(client, client.root / "bad.py", BAD)
    diagnostics = await diagnostics_for(client, uri, 1)
    target = next(d for d in diagnostics if d.code == "INI201")
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=target.range.start))
    assert hover.contents.value == docs.rule_markdown(rule_by_code("INI201"))
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=0)))
    assert nothing is None


@pytest.mark.asyncio
async def test_configuration_is_honoured_and_reread(client: LanguageClient):
    project = client.root / "project"
    write(project / "pyproject.toml", '[tool.initlint]\nignore = ["INI2"]\n')
    uri = open_document(client, project / "net.py", BAD)
    codes = {d.code for d in await diagnostics_for(client, uri, 1)}
    assert "INI201" not in codes and codes
    write(project / "pyproject.toml", '[tool.initlint]\nignore = ["INI3"]\n')
    os.utime(project / "pyproject.toml", (1, 1))  # a new stamp even within the clock's resolution
    client.versions[uri] = None
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    codes = {d.code for d in await diagnostics_for(client, uri, 1)}
    assert "INI201" in codes and not any(c.startswith("INI3") for c in codes)


@pytest_lsp.fixture(config=SERVER)
async def watching_client(lsp_client: LanguageClient, tmp_path_factory):
    """A client that watches the files a server registers for (as VS Code does)."""
    root = tmp_path_factory.mktemp("workspace")
    lsp_client.registrations = []

    def register(params: types.RegistrationParams) -> None:
        lsp_client.registrations.extend(params.registrations)

    lsp_client.protocol.fm.features[types.CLIENT_REGISTER_CAPABILITY] = register
    capabilities = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
        did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)))
    await lsp_client.initialize_session(types.InitializeParams(capabilities=capabilities, root_uri=root.as_uri()))
    lsp_client.root = root
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_a_changed_configuration_rechecks_open_buffers_without_an_edit(watching_client: LanguageClient):
    client = watching_client
    project = client.root / "project"
    write(project / "pyproject.toml", '[tool.initlint]\nignore = ["INI2"]\n')
    uri = open_document(client, project / "net.py", BAD)
    assert "INI201" not in {d.code for d in await diagnostics_for(client, uri, 1)}
    (registration,) = client.registrations
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert [w["globPattern"] for w in registration.register_options["watchers"]] == ["**/pyproject.toml"]
    write(project / "pyproject.toml", '[tool.initlint]\nignore = ["INI3"]\n')
    os.utime(project / "pyproject.toml", (1, 1))
    client.versions[uri] = None
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
        uri=(project / "pyproject.toml").as_uri(), type=types.FileChangeType.Changed)]))
    codes = {d.code for d in await diagnostics_for(client, uri, 1)}
    assert "INI201" in codes and not any(c.startswith("INI3") for c in codes)


@pytest.mark.asyncio
async def test_a_buffer_the_parser_cannot_take_leaves_the_server_answering(client: LanguageClient):
    deep = "import torch.nn as nn\nnn.init.xavier_uniform_(w)\ny = " + " and ".join(["x"] * 20_000) + "\n"
    uri = open_document(client, client.root / "deep.py", deep)
    diagnostics = await diagnostics_for(client, uri, 1)
    assert [d.code for d in diagnostics] == ["INI000"]
    assert diagnostics[0].severity == types.DiagnosticSeverity.Error
    assert "too deeply nested" in diagnostics[0].message
    broken = open_document(client, client.root / "broken.py", "import torch\ndef f(:\n")
    error = (await diagnostics_for(client, broken, 1))[0]
    assert (error.range.start.line, error.range.start.character) == (1, 6)
    # a code action asked for a finding of an earlier version, on a buffer that no longer parses
    stale = types.Diagnostic(range=error.range, message="m", code="INI201", source="initlint",
                             data={"fix": "unsafe", "name": "xavier-under-relu", "line": 2, "column": 1})
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=broken), range=error.range,
        context=types.CodeActionContext(diagnostics=[stale])))
    assert [a.title for a in actions] == ["initlint: suppress INI201 on this line (# noqa: INI201)"]
    # and the server still checks the next buffer
    good = open_document(client, client.root / "bad.py", BAD)
    assert as_check_sees(await diagnostics_for(client, good, 1)) == check_json(client.root / "bad.py")


def test_a_missing_dependency_is_a_clear_error(tmp_path):
    """Without pygls the command says what to install (exit 2), it does not crash."""
    blocker = write(tmp_path / "sitecustomize.py",
                    "import sys\nclass Block:\n    def find_spec(self, name, *args):\n"
                    "        if name.split('.')[0] in ('pygls', 'lsprotocol'):\n"
                    "            raise ImportError(f'No module named {name!r}', name=name)\n"
                    "sys.meta_path.insert(0, Block())\n")
    env = {"PYTHONPATH": os.pathsep.join([str(blocker.parent), os.environ.get("PYTHONPATH", "")])}
    result = run_cli("server", env=env)
    assert result.returncode == 2 and "initlint[server]" in result.stderr
