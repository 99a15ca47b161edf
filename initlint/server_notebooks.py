"""Notebook documents in the language server (LSP 3.17 ``notebookDocument/*``).

The editor sends a notebook as cells, each its own text document (``vscode-notebook-cell:`` URIs).
The cells are checked as one program, exactly as ``initlint check nb.ipynb`` checks the file:
an ``initlint.notebook.Notebook`` is built from the cells the editor holds and goes through the same
``check_cells`` (masking of magics, cells that do not parse, the map back to cells); findings come
back with their cell, and each cell gets its own diagnostics with cell-relative ranges. A quick fix
runs on the program (a fix may depend on another cell) and goes back into the cells as ``--fix``
puts it back into the file.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from .ftypes import Settings
from .notebook import _PYTHON_LANGUAGES, Cell, Notebook

# (cell number, kind, source, python?): what the worker needs of a cell (picklable)
CellText = Tuple[int, str, str, bool]


def cell_texts(workspace, types, document) -> Tuple[List[CellText], List[str]]:
    """The cells of the LSP notebook ``document`` as the worker takes them, and their URIs (in
    order: cell ``k`` of the check is ``uris[k - 1]``)."""
    cells, uris = [], []
    for number, cell in enumerate(document.cells, 1):
        text = workspace.get_text_document(cell.document)
        code = cell.kind == types.NotebookCellKind.Code
        language = (text.language_id or "python").lower()
        cells.append((number, "code" if code else "markdown", text.source, code and language in _PYTHON_LANGUAGES))
        uris.append(cell.document)
    return cells, uris


def notebook_of(cells: Sequence[CellText]) -> Notebook:
    return Notebook("", [Cell(number, kind, source, python) for number, kind, source, python in cells], {})


def check_notebook_cells(cells: Sequence[CellText], path: str, settings: Settings, reparser=None):
    """``(findings, error)``: ``check_cells``'s report of the cells (``SourceError`` as it raises)."""
    from .notebook import check_cells

    report = check_cells(notebook_of(cells), path, settings, reparser=reparser)
    return report.findings, report.error


def fix_in_cells(cells: Sequence[CellText], path: str, settings: Settings, cell: int, line: int,
                 column: int, code: str) -> Optional[Dict[int, str]]:
    """``{cell number: new source}`` after the fix of the ``code`` finding at ``line``:``column`` of
    ``cell``; None when there is none or it cannot go back into the cells."""
    from .fixer import fix_one
    from .notebook import build_program
    from .notebook_fix import cell_sources_after_fix

    notebook = notebook_of(cells)
    for parse_cells in (False, True):  # the second time without the cells that do not parse
        program = build_program(notebook, parse_cells=parse_cells)
        if (cell, line) not in program.where or not program.text.strip():
            return None
        at = program.where.index((cell, line)) + 1
        try:
            fixed = fix_one(program.text, path, settings, at, column, code)
        except Exception:  # the program does not parse: try without its broken cells
            continue
        if fixed is None:
            return None
        return cell_sources_after_fix(notebook, program, fixed)
    return None


def fix_all_in_cells(cells: Sequence[CellText], path: str, settings: Settings) -> Optional[Dict[int, str]]:
    """``{cell number: new source}`` after every safe fix, as ``initlint check --fix nb.ipynb``."""
    from .fixer import fix_source
    from .notebook import build_program
    from .notebook_fix import cell_sources_after_fix

    notebook = notebook_of(cells)
    program = build_program(notebook, parse_cells=False)
    if not program.text.strip():
        return None
    fixed = fix_source(program.text, path, settings, unsafe=False)
    if fixed.unparsable:
        program = build_program(notebook)
        fixed = fix_source(program.text, path, settings, unsafe=False)
    if fixed.error is not None or not fixed.changed:
        return None
    return cell_sources_after_fix(notebook, program, fixed.fixed) or None
