"""``--fix`` and ``--diff`` for notebooks: the fixer runs on the program of the code cells
(``notebook.build_program``), and the fixed program goes back into the file's JSON text.

Back into cells: ``difflib`` aligns the fixed program's lines with the program's; unchanged lines
are the cells' own (so masked IPython lines come back as written), changed lines go to the cell of
the line they replace, inserted lines (an import a fix added) to the cell of the line before them.
A change that would touch a masked line or a cell that does not parse, or straddle two cells, is
refused (the check still reports the finding).

Back into the file: only the JSON string literals of the changed cells' ``source`` are replaced,
element by element where the source is a list of lines (nbformat's layout: one element a line,
every element ended by its newline except the last); new elements get the separator the list
already uses, and strings are encoded as the file encodes them (UTF-8, or ``\\u`` escapes where the
file is pure ASCII with escapes). Every other byte stays. The result is read back with ``json`` and
must equal the original document with only those sources changed, or nothing is written.

``--diff`` shows each changed cell (``--- nb.ipynb:cell 3``), not the JSON.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Tuple

from .fixer import FixResult, fix_source
from .ftypes import Finding, Settings
from .noqa import physical_lines
from .notebook import Notebook, Program, build_program, load_notebook
from .notebook_text import SourceSpan, SourceSpans


class _Unmappable(Exception):
    """The fixed program cannot be put back into the cells without touching what must stay."""


@dataclass
class NotebookFixResult(FixResult):
    """A notebook's fix: ``original``/``fixed`` are the file's texts; ``cells`` the changed cells'
    ``(number, source before, source after)``."""

    cells: List[Tuple[int, str, str]] = field(default_factory=list)

    def diff(self) -> str:
        out = []
        for number, before, after in self.cells:
            name = f"{self.path}:cell {number}"
            out.extend(difflib.unified_diff(_ended(before), _ended(after), name, name))
        return "".join(out)


def _ended(source: str) -> List[str]:
    """A cell's lines, each ended (a cell's last line usually has no newline: the diff needs one)."""
    return [line if line.endswith(("\n", "\r")) else line + "\n" for line in physical_lines(source)]


def _insertion_cell(program: Program, at: int) -> int:
    """The cell that receives lines inserted before program line ``at`` (0-based): the cell of the
    line before (an import goes after the imports above it), else of the line after."""
    if at > 0 and not program.masked[at - 1]:
        return program.where[at - 1][0]
    if at < len(program.where) and not program.masked[at]:
        return program.where[at][0]
    raise _Unmappable("a fix would insert code between lines that hold IPython syntax")


def cells_after_fix(program: Program, fixed: str) -> Dict[int, List[str]]:
    """Each cell's lines after the fix, newline-terminated as in the program."""
    before = physical_lines(program.text)
    after = physical_lines(fixed)
    if len(before) != len(program.where):  # pragma: no cover - a cell ending in a lone \r
        raise _Unmappable("the cells' line endings do not allow it")
    cells: Dict[int, List[str]] = {cell: [] for cell, _ in program.where}
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i in range(i1, i2):
                cells[program.where[i][0]].append(program.original[i])
            continue
        if any(program.masked[i] for i in range(i1, i2)):
            raise _Unmappable("a fix would change a line that holds IPython syntax or a cell that does not parse")
        if tag == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2)):
                cells[program.where[i][0]].append(after[j])
            continue
        owners = {program.where[i][0] for i in range(i1, i2)} or {_insertion_cell(program, i1)}
        if len(owners) != 1:
            raise _Unmappable("a fix would straddle two cells")
        cells[owners.pop()].extend(after[j1:j2])
    return cells


def _new_sources(notebook: Notebook, program: Program, fixed: str) -> Dict[int, str]:
    """``{cell number: new source}`` of the cells the fix changed."""
    changed = {}
    by_number = {cell.number: cell for cell in notebook.cells}
    for number, lines in cells_after_fix(program, fixed).items():
        old = by_number[number].source
        # libcst puts a blank line after an import it adds when code follows: across cells, a
        # cell's end is enough of a break, so a cell keeps the trailing blank lines it had
        while len(lines) > 1 and not lines[-1].strip() and _trailing_blanks(lines) > _trailing_blanks(
                physical_lines(old)):
            lines = lines[:-1]
        new = "".join(lines)
        if not old.endswith(("\n", "\r")) and new.endswith("\n"):
            new = new[:-1]  # the newline the program added after the cell's last line
        if new != old:
            changed[number] = new
    return changed


def _trailing_blanks(lines: List[str]) -> int:
    count = 0
    for line in reversed(lines):
        if line.strip():
            break
        count += 1
    return count


def _encoder(text: str):
    """``json.dumps`` as the file writes strings: nbformat writes UTF-8; a pure-ASCII file that
    escapes non-ASCII characters keeps escaping them."""
    escapes = text.isascii() and re.search(r"\\u(?!00[0-7])[0-9a-fA-F]{4}", text) is not None
    return lambda value: json.dumps(value, ensure_ascii=escapes)


def _list_edits(text: str, span: SourceSpan, new: str, encode) -> List[Tuple[int, int, str]]:
    """Edits of the file's text that turn the list of strings at ``span`` into the lines of ``new``,
    touching only the elements that change."""
    literals = span.literals
    new_lines = physical_lines(new)
    if not literals:
        return [(span.start, span.end, json.dumps(new_lines, indent=1, ensure_ascii=False))]
    first_gap = text[span.start + 1:literals[0].start]
    gap = text[literals[0].end:literals[1].start] if len(literals) > 1 else "," + first_gap
    old_values = [literal.value for literal in literals]
    edits = []
    matcher = difflib.SequenceMatcher(None, old_values, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        added = gap.join(encode(line) for line in new_lines[j1:j2])
        if tag == "replace" and i2 - i1 == j2 - j1:
            edits.extend((literals[i].start, literals[i].end, encode(new_lines[j]))
                         for i, j in zip(range(i1, i2), range(j1, j2)))
        elif tag == "replace":
            edits.append((literals[i1].start, literals[i2 - 1].end, added))
        elif tag == "delete":  # the elements and one separator beside them
            if i1 > 0:
                edits.append((literals[i1 - 1].end, literals[i2 - 1].end, ""))
            elif i2 < len(literals):
                edits.append((literals[i1].start, literals[i2].start, ""))
            else:
                edits.append((span.start, span.end, "[]"))
        elif i1 > 0:  # insert after element i1 - 1
            edits.append((literals[i1 - 1].end, literals[i1 - 1].end, gap + added))
        else:
            edits.append((literals[0].start, literals[0].start, added + gap))
    return edits


def splice(notebook: Notebook, changes: Dict[int, str]) -> str:
    """The file's text with the ``source`` of each cell in ``changes`` replaced, nothing else."""
    text = notebook.text
    spans = SourceSpans(text).spans
    encode = _encoder(text)
    edits: List[Tuple[int, int, str]] = []
    for number, new in changes.items():
        span = spans[number - 1]
        if span is None:  # pragma: no cover - load_notebook requires a source
            raise _Unmappable(f"cell {number} has no source in the file")
        if span.is_list:
            edits.extend(_list_edits(text, span, new, encode))
        else:
            edits.append((span.start, span.end, encode(new)))
    pieces = []
    cursor = 0
    for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        if start < cursor:  # pragma: no cover - the edits of one list never overlap
            raise _Unmappable("overlapping edits")
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _confirm(notebook: Notebook, spliced: str, changes: Dict[int, str]) -> None:
    """The spliced text must read as the original document with only those sources changed."""
    document = json.loads(spliced)
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list) or len(cells) != len(notebook.cells):
        raise _Unmappable("the rewritten file does not read back as the same notebook")
    for number, new in changes.items():
        source = cells[number - 1].get("source")
        if ("".join(source) if isinstance(source, list) else source) != new:
            raise _Unmappable(f"cell {number} does not read back as fixed")
        cells[number - 1]["source"] = notebook.document["cells"][number - 1]["source"]
    if document != notebook.document:
        raise _Unmappable("the rewritten file changed more than the cells' sources")


def _map_applied(finding: Finding, program: Program) -> Finding:
    cell, line, column = program.cell_position(finding.line, finding.column)
    return replace(finding, line=line, column=column, end_line=line, end_column=column, cell=cell)


def fix_notebook(text: str, path: str, settings: Optional[Settings] = None, unsafe: bool = False) -> FixResult:
    """The fixed text of the notebook file ``text``. Never raises: a file that is not a notebook,
    and a fix that cannot go back into the cells, leave the text as it was (with the error)."""
    from .engine import SourceError

    try:
        notebook = load_notebook(text)
    except SourceError as exc:
        return NotebookFixResult(path, text, text, error=str(exc), unparsable=True)
    program = build_program(notebook, parse_cells=False)
    if not program.text.strip():
        return NotebookFixResult(path, text, text)
    fixed = fix_source(program.text, path, settings, unsafe)
    if fixed.unparsable:  # a cell that does not parse (the check reports it): fix the others
        program = build_program(notebook)
        fixed = fix_source(program.text, path, settings, unsafe)
    result = NotebookFixResult(path, text, text, error=fixed.error, unparsable=fixed.unparsable)
    if fixed.error is not None or not fixed.changed:
        return result
    try:
        changes = _new_sources(notebook, program, fixed.fixed)
        spliced = splice(notebook, changes)
        _confirm(notebook, spliced, changes)
    except (_Unmappable, ValueError, KeyError, IndexError) as exc:
        result.error = f"fix not applied: {exc}"
        return result
    if text.startswith("\ufeff"):
        spliced = "\ufeff" + spliced
    result.fixed = spliced
    result.applied = [_map_applied(finding, program) for finding in fixed.applied]
    by_number = {cell.number: cell for cell in notebook.cells}
    result.cells = [(number, by_number[number].source, changes[number]) for number in sorted(changes)]
    return result


def cell_sources_after_fix(notebook: Notebook, program: Program, fixed: str) -> Optional[Dict[int, str]]:
    """``{cell number: new source}`` of the cells that ``fixed`` (the fixed text of ``program``)
    changes, as ``--fix`` writes them; None when the fix cannot go back into the cells (the
    language server's quick fix in a notebook cell)."""
    try:
        return _new_sources(notebook, program, fixed)
    except (_Unmappable, ValueError, KeyError, IndexError):
        return None
