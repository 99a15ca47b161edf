"""Notebook documents in ``initlint server`` (LSP 3.17 ``notebookDocument/*``), driven over stdio by a
real LSP client that opens a notebook as VS Code sends one: the cells checked as one program, each
cell's diagnostics published on its own URI with cell-relative ranges, equal to ``initlint check
nb.ipynb``'s findings; a change to one cell re-checks the others; a quick fix in a cell."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from conftest import require_module, run_cli

require_module("pytest_lsp", "the language server is tested with a real LSP client")
require_module("pygls", "the language server's dependency")

import pytest_lsp  # noqa: E402
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

from test_server import diagnostics_for, make_client  # noqa: E402

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "initlint", "server"],
                            server_env={**os.environ}, client_factory=make_client)

# a markdown cell first (cells are numbered as the file numbers them), a magic line in the first code
# cell, and a finding in the last cell that needs the first: Xavier on a Linear that a ReLU follows,
# the layers built in cell 2, the init written in cell 3
CELLS = [
    ("markdown", "# A small model\n"),
    ("code", "%matplotlib inline\nimport torch\nfrom torch import nn\n\n"
             "net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))"),
    ("code", "def init_weights(m):\n    if isinstance(m, nn.Linear):\n        nn.init.xavier_uniform_(m.weight)\n\n"
             "net.apply(init_weights)"),
]


def notebook_json(cells) -> str:
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        "cells": [{"cell_type": kind, "id": f"c{i}", "metadata": {}, "source": source.splitlines(keepends=True),
                   **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                  for i, (kind, source) in enumerate(cells)]}, indent=1)


def check_json(path: Path):
    document = json.loads(run_cli("check", "--no-cache", "--format", "json", str(path)).stdout)
    return sorted((f["cell"], f["line"], f["column"], f["end_line"], f["end_column"], f["code"], f["message"])
                  for f in document["findings"])


def as_check_sees(by_cell: Dict[int, list]):
    return sorted((cell, d.range.start.line + 1, d.range.start.character + 1, d.range.end.line + 1,
                   d.range.end.character + 1, d.code, d.message) for cell, ds in by_cell.items() for d in ds)


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    capabilities = types.ClientCapabilities(notebook_document=types.NotebookDocumentClientCapabilities(
        synchronization=types.NotebookDocumentSyncClientCapabilities()))
    result = await lsp_client.initialize_session(types.InitializeParams(capabilities=capabilities,
                                                                        root_uri=root.as_uri()))
    lsp_client.root = root
    lsp_client.sync = result.capabilities.notebook_document_sync
    yield
    await lsp_client.shutdown_session()


def open_notebook(client: LanguageClient, path: Path, cells) -> List[str]:
    """Write the notebook (for ``check`` to compare with) and open it as VS Code does; the cells' URIs."""
    path.write_text(notebook_json(cells), encoding="utf-8")
    uris = [f"vscode-notebook-cell:{path}#W{i}sZmlsZQ%3D%3D" for i in range(len(cells))]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=path.as_uri(), notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(document=uri, kind=types.NotebookCellKind.Code if kind == "code"
                                      else types.NotebookCellKind.Markup) for uri, (kind, _) in zip(uris, cells)]),
        cell_text_documents=[types.TextDocumentItem(uri=uri, language_id="python" if kind == "code" else "markdown",
                                                    version=1, text=source)
                             for uri, (kind, source) in zip(uris, cells)]))
    return uris


async def cell_diagnostics(client: LanguageClient, uris: List[str], versions: List[int]) -> Dict[int, list]:
    return {number: list(await diagnostics_for(client, uri, version))
            for number, (uri, version) in enumerate(zip(uris, versions), 1)}


@pytest.mark.asyncio
async def test_a_notebooks_cells_get_checks_findings_each_on_its_own_uri(client: LanguageClient):
    assert client.sync is not None  # advertised to a client that can send notebooks
    path = client.root / "model.ipynb"
    uris = open_notebook(client, path, CELLS)
    by_cell = await cell_diagnostics(client, uris, [1, 1, 1])
    assert as_check_sees(by_cell) == check_json(path)
    assert [d.code for d in by_cell[3]] == ["INI201"] and by_cell[1] == by_cell[2] == []
    xavier = by_cell[3][0]
    assert (xavier.range.start.line, xavier.range.start.character) == (2, 8)  # in the cell, not the program
    # hover on the finding, in the cell
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uris[2]), position=xavier.range.start))
    assert hover is not None and "INI201" in hover.contents.value


@pytest.mark.asyncio
async def test_a_change_to_one_cell_rechecks_the_cells_that_depend_on_it(client: LanguageClient):
    path = client.root / "model.ipynb"
    uris = open_notebook(client, path, CELLS)
    assert [d.code for d in (await cell_diagnostics(client, uris, [1, 1, 1]))[3]] == ["INI201"]
    # cell 2's ReLU becomes a Tanh: Xavier suits it, so cell 3's finding goes
    line = CELLS[1][1].split("\n")[4]
    character = line.index("nn.ReLU()")
    client.versions.clear()  # every cell's diagnostics are published anew
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=path.as_uri(), version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=uris[1], version=2),
                changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=4, character=character),
                                      end=types.Position(line=4, character=character + len("nn.ReLU()"))),
                    text="nn.Tanh()")])]))))
    by_cell = await cell_diagnostics(client, uris, [1, 2, 1])
    assert by_cell[3] == []
    changed = [CELLS[0], ("code", CELLS[1][1].replace("nn.ReLU()", "nn.Tanh()")), CELLS[2]]
    path.write_text(notebook_json(changed), encoding="utf-8")
    assert as_check_sees(by_cell) == check_json(path) == []


@pytest.mark.asyncio
async def test_a_quick_fix_in_a_cell_and_a_cell_that_does_not_parse(client: LanguageClient):
    path = client.root / "model.ipynb"
    # cell 4: Xavier on a bias of a layer cell 2 built (INI501, a safe fix); cell 5 does not parse
    cells = CELLS + [("code", "layer = net[0]\nnn.init.xavier_uniform_(layer.bias)\n"), ("code", "def broken(:\n")]
    uris = open_notebook(client, path, cells)
    by_cell = await cell_diagnostics(client, uris, [1] * len(cells))
    # the broken cell is reported in that cell, the others are still checked
    assert [d.code for d in by_cell[5]] == ["INI000"] and by_cell[5][0].range.start.line == 0
    assert [d.code for d in by_cell[3]] == ["INI201"] and [d.code for d in by_cell[4]] == ["INI501"]
    assert as_check_sees({k: [d for d in v if d.code != "INI000"] for k, v in by_cell.items()}) == check_json(path)
    bias = by_cell[4][0]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uris[3]), range=bias.range,
        context=types.CodeActionContext(diagnostics=[bias])))
    fix = next(a for a in actions if a.title.startswith("initlint: fix INI501"))
    assert fix.is_preferred
    (edit,) = fix.edit.document_changes
    assert edit.text_document.uri == uris[3] and edit.text_document.version == 1
    fix_all = next(a for a in actions if a.kind == "source.fixAll.initlint")
    assert [e.text_document.uri for e in fix_all.edit.document_changes] == [uris[3]]
    noqa = next(a for a in actions if "noqa" in a.title)
    assert "# noqa: INI501" in noqa.edit.document_changes[0].edits[0].new_text.splitlines()[1]
    # the cell as --fix writes it into the file
    run_cli("check", "--no-cache", "--fix", str(path))
    written = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][3]["source"])
    assert edit.edits[0].new_text == written == "layer = net[0]\nnn.init.zeros_(layer.bias)\n"
    # applied in the editor, the cell checks clean
    client.versions.clear()
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=path.as_uri(), version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=uris[3], version=2),
                changes=[types.TextDocumentContentChangePartial(range=edit.edits[0].range,
                                                                text=edit.edits[0].new_text)])]))))
    assert (await cell_diagnostics(client, uris, [1, 1, 1, 2, 1]))[4] == []


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["d2l_init_pytorch.ipynb", "magics_positions.ipynb", "broken_cell.ipynb",
                                  "keras_shared_initializer.ipynb"])
async def test_the_fixture_notebooks_opened_in_an_editor_get_checks_findings(client: LanguageClient, name: str):
    """Notebooks as Jupyter stores them (magics, markdown cells, a cell that does not parse), opened
    as an editor sends them: each cell's diagnostics are check's findings for that cell."""
    from conftest import DATA

    stored = DATA / "notebooks" / name
    document = json.loads(stored.read_text(encoding="utf-8"))
    cells = [("code" if cell["cell_type"] == "code" else "markdown",
              "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
             for cell in document["cells"]]
    path = client.root / name
    uris = open_notebook(client, path, cells)
    path.write_text(stored.read_text(encoding="utf-8"), encoding="utf-8")  # check reads the stored file
    by_cell = await cell_diagnostics(client, uris, [1] * len(cells))
    found = {k: [d for d in v if d.code != "INI000"] for k, v in by_cell.items()}
    assert as_check_sees(found) == check_json(path) and any(found.values())
    errors = json.loads(run_cli("check", "--no-cache", "--format", "json", str(path)).stdout)["errors"]
    assert sorted((k, d.range.start.line + 1, d.range.start.character + 1) for k, v in by_cell.items()
                  for d in v if d.code == "INI000") == sorted((e["cell"], e["line"], e["column"]) for e in errors)
