"""Jupyter notebooks (``.ipynb``): read as one program, findings and fixes mapped back to cells.

A notebook runs its code cells in order in one namespace, so a layer defined in cell 3 and
initialised in cell 7 is one program: the code cells are joined (file order) into one masked
source, which the engine checks like any file, and each finding is mapped back through the line
map to ``(cell, line in cell)``. The engine never sees a notebook.

- Reading: the stdlib ``json`` (nbformat would validate against its schema and, on writing, re-serialise
  the whole file); a ``.ipynb`` that is not valid JSON, not nbformat 4 or has no ``cells`` list is a
  ``SourceError`` ("not a notebook: …"), so it is reported as an error, never as passed. A notebook
  whose kernel language is not Python (R, Julia), and cells a VS Code notebook marks as another
  language, have nothing to check.
- Masking (``ipython_masking.mask_cell``): what IPython runs but Python cannot parse (magics, shell
  and help lines) is replaced line for line, so no position moves.
- A cell that still does not parse is blanked and reported (``FileError`` with its cell and its
  line and column there), and the other cells are checked. The cells are parsed one by one only when
  the program of them does not parse (the engine parses the program anyway).
- Fixing (``notebook_fix.py``): the fixer runs on the joined program, which goes back into the cells
  and only the changed cells' JSON strings are replaced in the file's text (``notebook_text.py``
  locates them); every other byte stays.
- Positions for SARIF and GitHub: the file's own line and column of a cell's character
  (``notebook_text.py``), since those tools annotate the ``.ipynb`` file as it is stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import List, Optional, Sequence, Tuple

from .ftypes import FileError, FileReport, Finding, Settings
from .ipython_masking import blank_line, mask_cell, parses_or_raises
from .noqa import physical_lines

NOTEBOOK_SUFFIX = ".ipynb"
# a notebook's size is mostly outputs (images, tables), which only the C JSON parser reads: its
# code is held to the engine's limit once extracted (``engine.too_large``)
MAX_NOTEBOOK_BYTES = 64 * 2**20
NBFORMAT = 4

_PYTHON_LANGUAGES = frozenset({"python", "python3", "python2", "ipython", "ipython3", "ipython2", "py"})


def is_notebook(path: str) -> bool:
    return path.endswith(NOTEBOOK_SUFFIX)


def too_large(path: str, size: int) -> Optional[str]:
    """Why a file of ``size`` bytes at ``path`` is not read, or None: the engine's limit for source
    files, a larger one for notebooks (whose bytes are mostly outputs)."""
    if not is_notebook(path):
        from .engine import too_large as source_too_large

        return source_too_large(size)
    if size <= MAX_NOTEBOOK_BYTES:
        return None
    return f"too large to check: {size / 2**20:.1f} MiB (the limit for notebooks is {MAX_NOTEBOOK_BYTES / 2**20:g} MiB)"


def _not_a_notebook(why: str, line: Optional[int] = None, column: Optional[int] = None):
    from .engine import SourceError

    return SourceError(f"not a notebook: {why}", line, column)


# --- reading ----------------------------------------------------------------------------------------

@dataclass
class Cell:
    number: int  # 1-based, every cell counted (the position in the file's "cells" list)
    kind: str  # "code", "markdown", "raw"
    source: str  # the cell's text ("".join of a list of lines, as nbformat joins it)
    python: bool  # a code cell of this program (not a cell another language runs)


@dataclass
class Notebook:
    text: str  # the file's text as read (after any BOM)
    cells: List[Cell]
    document: dict = field(repr=False)

    @property
    def code_cells(self) -> List[Cell]:
        return [cell for cell in self.cells if cell.python]


def _language(document: dict) -> Optional[str]:
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return None
    for section, key in (("language_info", "name"), ("kernelspec", "language")):
        value = metadata.get(section)
        if isinstance(value, dict) and isinstance(value.get(key), str) and value[key].strip():
            return value[key].strip().lower()
    return None


def _cell_language(cell: dict) -> Optional[str]:
    metadata = cell.get("metadata")
    vscode = metadata.get("vscode") if isinstance(metadata, dict) else None
    language = vscode.get("languageId") if isinstance(vscode, dict) else None
    return language.lower() if isinstance(language, str) else None


def load_notebook(text: str) -> Notebook:
    """The notebook in ``text`` (the file decoded as UTF-8); ``SourceError`` if it is not one."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise _not_a_notebook("the file is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _not_a_notebook(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                              exc.lineno, exc.colno) from None
    except RecursionError:
        raise _not_a_notebook("JSON nested too deeply to read") from None
    if not isinstance(document, dict):
        raise _not_a_notebook(f"the file holds a JSON {type(document).__name__}, not a notebook object")
    version = document.get("nbformat")
    if "cells" not in document and version is None:
        raise _not_a_notebook('no "cells" list and no "nbformat" version')
    if version != NBFORMAT or isinstance(version, bool):
        if version == 3 or "worksheets" in document:
            raise _not_a_notebook("nbformat 3 (cells under \"worksheets\"); initlint reads nbformat 4: "
                                  "`jupyter nbconvert --to notebook --nbformat 4` upgrades it")
        raise _not_a_notebook(f"nbformat {version!r}, initlint reads nbformat {NBFORMAT}")
    cells = document.get("cells")
    if not isinstance(cells, list):
        raise _not_a_notebook('no "cells" list')
    python_kernel = _language(document) in (None, *_PYTHON_LANGUAGES)
    out = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise _not_a_notebook(f'cell {number} is not a cell (an object with a "cell_type")')
        source = cell.get("source")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        elif not isinstance(source, str):
            raise _not_a_notebook(f'cell {number} has no "source" (a string or a list of strings)')
        language = _cell_language(cell)
        python = (cell["cell_type"] == "code" and python_kernel
                  and (language is None or language in _PYTHON_LANGUAGES))
        out.append(Cell(number, cell["cell_type"], source, python))
    return Notebook(text, out, document)


# --- the program --------------------------------------------------------------------------------------

@dataclass
class CellSyntaxError:
    cell: int
    line: int
    column: int
    message: str

    def text(self) -> str:
        return f"cell {self.cell}, line {self.line}, column {self.column}: {self.message}"


@dataclass
class Program:
    """The code cells joined into one source, with the map back."""

    text: str
    where: List[Tuple[int, int]]  # program line (0-based) -> (cell number, line in cell, 1-based)
    original: List[str]  # program line (0-based) -> the cell's own line (unmasked), newline-terminated
    masked: List[bool]  # program line (0-based) -> masked (magic) or blanked (a cell that does not parse)
    broken: List[CellSyntaxError]

    def cell_position(self, line: int, column: int) -> Tuple[int, int, int]:
        """``(cell, line in cell, column)`` of a 1-based program position."""
        cell, cell_line = self.where[min(max(line, 1), len(self.where)) - 1]
        return cell, cell_line, column


def _syntax_error(cell: int, exc: Exception) -> CellSyntaxError:
    if isinstance(exc, SyntaxError):
        return CellSyntaxError(cell, exc.lineno or 1, exc.offset or 1, f"syntax error: {exc.msg}")
    if isinstance(exc, (RecursionError, MemoryError)):
        return CellSyntaxError(cell, 1, 1, "too deeply nested to parse")
    return CellSyntaxError(cell, 1, 1, f"cannot parse: {exc}")


def build_program(notebook: Notebook, parse_cells: bool = True) -> Program:
    """The notebook's code cells as one masked program (see the module docstring). ``parse_cells``:
    parse each cell alone and blank (and list in ``broken``) those that do not parse; without it,
    the program is as the cells are, for a caller that parses the whole anyway and comes back only
    when that fails (``check_notebook``: one parse instead of two for a notebook whose cells parse)."""
    chunks: List[str] = []
    where: List[Tuple[int, int]] = []
    original: List[str] = []
    masked_all: List[bool] = []
    broken: List[CellSyntaxError] = []
    cells = []
    for cell in notebook.code_cells:
        lines = physical_lines(cell.source)
        if not lines:
            continue
        if not lines[-1].endswith(("\n", "\r")):
            lines[-1] += "\n"  # each cell ends its last line, so the next cell starts a line
        masked_lines, masked = mask_cell(lines)
        cells.append((cell.number, lines, masked_lines, masked))
    if parse_cells:
        for k, (number, lines, masked_lines, masked) in enumerate(cells):
            try:
                parses_or_raises("".join(masked_lines), f"cell {number}")
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                broken.append(_syntax_error(number, exc))
                cells[k] = (number, lines, [blank_line(line) for line in lines], [True] * len(lines))
    for number, lines, masked_lines, masked in cells:
        chunks.extend(masked_lines)
        where.extend((number, k) for k in range(1, len(lines) + 1))
        original.extend(lines)
        masked_all.extend(masked)
    return Program("".join(chunks), where, original, masked_all, broken)


# --- checking -------------------------------------------------------------------------------------------

def _map_finding(finding: Finding, program: Program) -> Finding:
    cell, line, column = program.cell_position(finding.line, finding.column)
    end_cell, end_line, end_column = program.cell_position(finding.end_line, finding.end_column)
    if end_cell != cell:  # a node never spans cells (each parses alone); stay inside the start cell
        end_line, end_column = line, column
    return replace(finding, line=line, column=column, end_line=end_line, end_column=end_column, cell=cell)


def _broken_error(path: str, broken: Sequence[CellSyntaxError], cells: int) -> FileError:
    if len(broken) == cells:
        head = "no code cell parses" if cells > 1 else "its code cell does not parse"
    elif len(broken) == 1:
        head = "a cell does not parse (the other cells were checked)"
    else:
        head = f"{len(broken)} cells do not parse (the other cells were checked)"
    first = broken[0]
    return FileError(path, f"{head}: " + "; ".join(error.text() for error in broken), first.line, first.column,
                     first.cell)


def _in_cells(exc, program: Program):
    """The engine's ``SourceError`` about the program, with its position given by cell."""
    from .engine import SourceError

    if exc.line is None or not program.where:
        return exc
    cell, line, column = program.cell_position(exc.line, exc.column or 1)
    message = re.sub(r",? at line \d+(?:, column \d+)?", "", str(exc))  # the program's numbers
    return SourceError(f"cell {cell}, line {line}, column {column}: {message}")


def check_notebook(data: bytes, path: str, settings: Optional[Settings] = None, prefilter: bool = True) -> FileReport:
    """The report of the notebook whose file holds ``data``. ``SourceError`` when it cannot be read
    as a notebook, or when the program made of its cells cannot be checked as a whole."""
    from .engine import SourceError

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not a notebook: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return check_cells(load_notebook(text), path, settings, prefilter)


def check_cells(notebook: Notebook, path: str, settings: Optional[Settings] = None, prefilter: bool = True,
                reparser=None) -> FileReport:
    """The report of ``notebook`` (read from a file, or the cells an editor holds: the language
    server builds one), its findings placed by cell. ``SourceError`` as ``check_notebook``.
    ``reparser``: the ``reparse.Reparser`` of the notebook's earlier versions (see ``check_source``)."""
    from .engine import SourceError, check_source, too_large as source_too_large

    program = build_program(notebook, parse_cells=False)
    large = source_too_large(len(program.text.encode("utf-8", "surrogatepass")))
    if large:
        raise SourceError(f"its code cells are {large}")
    def findings_of(program: Program) -> List[Finding]:
        if not program.text.strip():
            return []
        return check_source(program.text, path, settings, prefilter=prefilter, reparser=reparser)

    try:
        findings = findings_of(program)
    except SourceError:  # which cells do not parse? Without them, the others are checked
        program = build_program(notebook)
        try:
            findings = findings_of(program)
        except SourceError as exc:  # the whole cannot be checked (libcst's limits): say where, by cell
            raise _in_cells(exc, program) from None
    mapped = tuple(sorted(_map_finding(finding, program) for finding in findings))
    error = None
    if program.broken:
        error = _broken_error(path, program.broken, sum(1 for cell in notebook.code_cells if cell.source.strip()))
    return FileReport(path, mapped, error)
