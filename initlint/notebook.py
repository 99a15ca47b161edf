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
- Masking (``mask_cell``): what IPython runs but Python cannot parse is replaced line for line, so no
  position moves: line magics (``%matplotlib inline``), shell escapes (``!pip install``, ``x = !ls``),
  help (``?obj``, ``obj??``), IPython's autocall escapes (``/f x``, ``,f a``, ``;f a``), automagic
  lines (``pip install x`` with no ``%``) become ``pass`` at their indentation (a magic can be the only
  statement of a block); a cell magic (``%%time``) loses its first line when its body is Python
  (``PYTHON_CELL_MAGICS``) and is blanked whole otherwise (``%%bash``, ``%%writefile``, ``%%html``,
  ``%%python``: their body is not this program's code). ``get_ipython().system(...)`` lines are Python and stay as they are.
- A cell that still does not parse is blanked and reported (``FileError`` with its cell and its
  line and column there), and the other cells are checked. The cells are parsed one by one only when
  the program of them does not parse (the engine parses the program anyway).
- Fixing (``fix_notebook``): the fixer runs on the joined program; the fixed program is mapped back to
  cells (``difflib`` over its lines; masked lines restored as they were), and only the JSON string
  literals of the changed cells' ``source`` are replaced in the file's text (``_SourceSpans`` finds
  them with the C scanner of the ``json`` module). Every other byte (indentation, key order,
  outputs, metadata, the trailing newline) stays; the result is re-read and compared before it is
  written.
- Positions for SARIF and GitHub: the file's own line and column of a cell's character
  (``file_position``), since those tools annotate the ``.ipynb`` file as it is stored.
"""

from __future__ import annotations

import ast
import bisect
import json
import keyword
import re
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

from .ftypes import FileError, FileReport, Finding, Settings
from .noqa import physical_lines

NOTEBOOK_SUFFIX = ".ipynb"
# a notebook's size is mostly outputs (images, tables), which only the C JSON parser reads: its
# code is held to the engine's limit once extracted (``engine.too_large``)
MAX_NOTEBOOK_BYTES = 64 * 2**20
NBFORMAT = 4

# cell magics whose body is Python run in the notebook's namespace: only their first line is masked
# (``%%python``, ``%%pypy`` and ``%%px`` run their body in another process: not this program)
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit", "snakeviz"})
# IPython's escapes at the start of a statement: magics, shell, help, autocall
_ESCAPES = ("%", "!", "?", "/", ";", ",")
# ``files = !ls``, ``x, y = %sc -l ls``: IPython's assignment forms (a Python target, then = ! or = %)
_ASSIGN_FROM_MAGIC = re.compile(r"\s*[\w.]+(\s*,\s*[\w.]+)*\s*=\s*[!%]")
# automagic: a line magic written without its %, which IPython runs as the magic when no variable of
# that name exists (``pip install torch``); recognised only for these names followed by an argument,
# and only on a line Python cannot parse (``cd -x`` is Python: ``_is_automagic``)
_AUTOMAGIC_NAMES = ("pip", "conda", "mamba", "micromamba", "matplotlib", "load_ext", "reload_ext", "unload_ext",
                    "autoreload", "aimport", "cd", "env", "run", "time", "timeit", "prun", "config", "pylab",
                    "precision", "xmode", "notebook", "store", "bookmark", "pushd", "popd", "dhist")
_AUTOMAGIC = re.compile(r"\s*(?:%s)[ \t]+(?P<arg>[A-Za-z_][\w]*|-[A-Za-z-]|[0-9'\"~./])" % "|".join(_AUTOMAGIC_NAMES))
_CELL_MAGIC = re.compile(r"\s*%%\s*(?P<name>[\w.-]*)")
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


# --- masking ----------------------------------------------------------------------------------------

class _Scanner:
    """Just enough of Python's tokenizer to know, line by line, whether the next line starts a
    statement: open brackets, open strings (triple-quoted ones span lines), backslash continuations.
    Also the last character of code on a line (outside strings and comments), for ``obj?``."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote: Optional[str] = None  # the open string's delimiter
        self.continued = False

    @property
    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued

    def scan(self, line: str) -> str:
        """Advance over ``line``; returns its last code character ('' if none). Jumps from one
        character that matters to the next (brackets, quotes, ``#``, backslashes) with a regex."""
        text = line.rstrip("\r\n")
        last = ""
        i, n = 0, len(text)
        self.continued = False
        while i < n:
            if self.quote is not None:  # inside a string: to its end, or past an escape
                stop = _STRING_STOPS[self.quote].search(text, i)
                if stop is None:
                    break
                if stop.group().startswith("\\"):
                    i = stop.end()
                    continue
                i, self.quote, last = stop.end(), None, text[stop.end() - 1]
                continue
            stop = _CODE_STOPS.search(text, i)
            segment = text[i:stop.start() if stop else n].rstrip()
            if segment:
                last = segment[-1]
            if stop is None:
                break
            char, i = stop.group(), stop.start()
            if char == "#":
                break
            if char in "'\"":
                self.quote = char * 3 if text.startswith(char * 3, i) else char
                i += len(self.quote)
                last = char
                continue
            if char == "\\" and i == n - 1:
                self.continued = True
                break
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            last = char
            i += 1
        if self.quote is not None and len(self.quote) == 1 and not text.endswith("\\"):
            self.quote = None  # an unterminated one-line string: Python's parser reports it
        return last


_CODE_STOPS = re.compile(r"""[#'"\\()\[\]{}]""")
# in a string: an escape (a backslash and what follows, if anything) or the closing delimiter
_STRING_STOPS = {quote: re.compile(r"\\.?|" + re.escape(quote)) for quote in ("'", '"', "'" * 3, '"' * 3)}
# a line that might be IPython's (a superset of what ``mask_cell`` masks): a cell with none is Python
_CANDIDATE = re.compile(r"^[ \t]*(?:[%%!?/;,]|(?:%s)[ \t])|=[ \t]*[!%%]|\?[ \t\r]*(?:#.*)?$"
                        % "|".join(_AUTOMAGIC_NAMES), re.MULTILINE)


def _is_magic_line(line: str) -> bool:
    stripped = line.lstrip(" \t")
    if not stripped.strip():
        return False
    return (stripped.startswith(_ESCAPES) or _ASSIGN_FROM_MAGIC.match(line) is not None
            or _is_automagic(line))


def _is_automagic(line: str) -> bool:
    match = _AUTOMAGIC.match(line)
    if match is None or keyword.iskeyword(match.group("arg")):
        return False
    try:  # ``cd -x`` is Python (cd minus x): IPython would run it so if ``cd`` were a variable
        _compile(line.strip(), "line")
    except (SyntaxError, ValueError):
        return True
    return False


def _pass(line: str) -> str:
    """A statement that does nothing, at ``line``'s indentation, with its line ending."""
    indent = line[:len(line) - len(line.lstrip(" \t"))]
    ending = line[len(line.rstrip("\r\n")):] or "\n"
    return f"{indent}pass{ending}"


def _blank(line: str) -> str:
    return line[len(line.rstrip("\r\n")):] or "\n"


def mask_cell(lines: Sequence[str]) -> Tuple[List[str], List[bool]]:
    """The cell's lines with IPython's syntax replaced (see the module docstring), and for each line
    whether it was masked. The number of lines and every unmasked line stay as they were."""
    lines = list(lines)
    masked = [False] * len(lines)
    if _CANDIDATE.search("".join(lines)) is None:  # most cells: nothing of IPython's
        return lines, masked
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return lines, masked
    cell_magic = _CELL_MAGIC.match(lines[first])
    if cell_magic is not None:
        if cell_magic.group("name") not in PYTHON_CELL_MAGICS:  # %%bash, %%writefile...: not this program
            return [_blank(line) for line in lines], [True] * len(lines)
        lines[first], masked[first] = _blank(lines[first]), True
    scanner = _Scanner()
    magic_continues = False
    for i, line in enumerate(lines):
        if masked[i]:
            continue
        if magic_continues:  # a magic's backslash-continued line
            magic_continues = line.rstrip("\r\n").endswith("\\")
            lines[i], masked[i] = _blank(line), True
            continue
        if scanner.at_statement_start:
            if _is_magic_line(line):
                magic_continues = line.rstrip("\r\n").endswith("\\")
                lines[i], masked[i] = _pass(line), True
                continue
            before = (scanner.depth, scanner.quote, scanner.continued)
            if scanner.scan(line) == "?" and scanner.at_statement_start:  # obj? / obj??: help
                scanner.depth, scanner.quote, scanner.continued = before
                lines[i], masked[i] = _pass(line), True
            continue
        scanner.scan(line)
    return lines, masked


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


def _compile(source: str, name: str) -> None:
    with warnings.catch_warnings():  # the user's SyntaxWarnings are not ours to print
        warnings.simplefilter("ignore")
        compile(source, name, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                dont_inherit=True)


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
                _compile("".join(masked_lines), f"cell {number}")
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                broken.append(_syntax_error(number, exc))
                cells[k] = (number, lines, [_blank(line) for line in lines], [True] * len(lines))
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


def check_notebook(data: bytes, path: str, settings: Optional[Settings] = None, prefilter: bool = True) -> FileReport:
    """The report of the notebook whose file holds ``data``. ``SourceError`` when it cannot be read
    as a notebook, or when the program made of its cells cannot be checked as a whole."""
    from .engine import SourceError, check_source, too_large as source_too_large

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not a notebook: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    notebook = load_notebook(text)
    program = build_program(notebook, parse_cells=False)
    large = source_too_large(len(program.text.encode("utf-8", "surrogatepass")))
    if large:
        raise SourceError(f"its code cells are {large}")
    try:
        findings = check_source(program.text, path, settings, prefilter=prefilter) if program.text.strip() else []
    except SourceError:  # which cells do not parse? Without them, the others are checked
        program = build_program(notebook)
        if not program.broken:
            raise
        findings = check_source(program.text, path, settings, prefilter=prefilter) if program.text.strip() else []
    mapped = tuple(sorted(_map_finding(finding, program) for finding in findings))
    error = None
    if program.broken:
        error = _broken_error(path, program.broken, sum(1 for cell in notebook.code_cells if cell.source.strip()))
    return FileReport(path, mapped, error)


# --- fixing ---------------------------------------------------------------------------------------------

@dataclass
class _Literal:
    start: int  # offset of the opening quote in the file's text
    end: int  # offset just past the closing quote
    value: str


@dataclass
class _SourceSpan:
    """Where one cell's ``"source"`` value lies in the file's text."""

    start: int
    end: int
    literals: List[_Literal]  # one for a string value; the elements of a list value
    is_list: bool


_WHITESPACE = re.compile(r"[ \t\n\r]*")


class _SourceSpans:
    """The ``"source"`` of every cell, located in the file's text (with the ``json`` module's C
    scanner for strings, and its decoder to step over every other value)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._decoder = json.JSONDecoder()
        self.spans: List[Optional[_SourceSpan]] = []
        self._scan()

    def _skip(self, i: int) -> int:
        return _WHITESPACE.match(self.text, i).end()

    def _expect(self, i: int, char: str) -> int:
        i = self._skip(i)
        if self.text[i:i + 1] != char:
            raise ValueError(f"expected {char!r} at offset {i}")
        return i + 1

    def _string(self, i: int) -> Tuple[_Literal, int]:
        if self.text[i:i + 1] != '"':
            raise ValueError(f"expected a string at offset {i}")
        value, end = json.decoder.scanstring(self.text, i + 1)
        return _Literal(i, end, value), end

    def _object(self, i: int, member) -> int:
        """Step over the object at ``i``; ``member(key, value start)`` parses each value and returns
        its end. Returns the offset past the closing brace."""
        i = self._skip(self._expect(i, "{"))
        if self.text[i:i + 1] == "}":
            return i + 1
        while True:
            key, i = self._string(self._skip(i))
            i = member(key.value, self._skip(self._expect(i, ":")))
            i = self._skip(i)
            if self.text[i:i + 1] == "}":
                return i + 1
            i = self._expect(i, ",")

    def _value_end(self, i: int) -> int:
        return self._decoder.raw_decode(self.text, i)[1]

    def _scan(self) -> None:
        self._object(self._skip(0), lambda key, i: self._cells(i) if key == "cells" else self._value_end(i))

    def _cells(self, i: int) -> int:
        self.spans = []  # a repeated "cells" key: the last one counts, as json.loads reads it
        i = self._skip(self._expect(i, "["))
        if self.text[i:i + 1] == "]":
            return i + 1
        while True:
            i = self._skip(self._cell(self._skip(i)))
            if self.text[i:i + 1] == "]":
                return i + 1
            i = self._expect(i, ",")

    def _cell(self, i: int) -> int:
        found: List[Optional[_SourceSpan]] = [None]

        def member(key: str, start: int) -> int:
            if key != "source":
                return self._value_end(start)
            found[0] = self._source(start)
            return found[0].end

        end = self._object(i, member)
        self.spans.append(found[0])
        return end

    def _source(self, i: int) -> _SourceSpan:
        if self.text[i:i + 1] == '"':
            literal, end = self._string(i)
            return _SourceSpan(i, end, [literal], False)
        start = i
        literals = []
        i = self._skip(self._expect(i, "["))
        if self.text[i:i + 1] != "]":
            while True:
                literal, i = self._string(self._skip(i))
                literals.append(literal)
                i = self._skip(i)
                if self.text[i:i + 1] == "]":
                    break
                i = self._expect(i, ",")
        return _SourceSpan(start, i + 1, literals, True)


def _literal_body_index(body: str, k: int) -> int:
    """The offset in a JSON string literal's body (without quotes) of its ``k``-th decoded
    character (an escape is one character; a surrogate pair of escapes is one code point)."""
    i = count = 0
    while count < k and i < len(body):
        if body[i] == "\\":
            if body[i + 1:i + 2] == "u":
                unit = int(body[i + 2:i + 6], 16)
                pair = (0xD800 <= unit < 0xDC00 and body[i + 6:i + 8] == "\\u"
                        and 0xDC00 <= int(body[i + 8:i + 12] or "0", 16) < 0xE000)
                i += 12 if pair else 6
            else:
                i += 2
        else:
            i += 1
        count += 1
    return i


class NotebookFile:
    """A notebook's text with its cells located in it: the file's own positions of the cells'
    characters (for SARIF and GitHub annotations) and the cells' lines (for SARIF fingerprints)."""

    def __init__(self, text: str) -> None:
        self.notebook = load_notebook(text)
        self.text = self.notebook.text
        self._spans: Optional[_SourceSpans] = None
        self._line_starts: Optional[List[int]] = None

    @property
    def spans(self) -> List[Optional[_SourceSpan]]:
        if self._spans is None:
            self._spans = _SourceSpans(self.text)
            if len(self._spans.spans) != len(self.notebook.cells):  # pragma: no cover - json.loads agreed
                raise ValueError("the cells located in the text are not the cells json read")
        return self._spans.spans

    def cell_line(self, cell: int, line: int) -> str:
        """The text of line ``line`` (1-based) of cell ``cell``, without its ending; '' if none."""
        if not 0 < cell <= len(self.notebook.cells):
            return ""
        lines = physical_lines(self.notebook.cells[cell - 1].source)
        return lines[line - 1].rstrip("\r\n") if 0 < line <= len(lines) else ""

    def file_position(self, cell: int, line: int, column: int) -> Tuple[int, int]:
        """The 1-based ``(line, column)`` in the file's text of a cell's character (1-based line and
        column in the cell, column in code points): inside the JSON string literal that holds it."""
        span = self.spans[cell - 1] if 0 < cell <= len(self.notebook.cells) else None
        if span is None or not span.literals:
            return 1, 1
        lines = physical_lines(self.notebook.cells[cell - 1].source)
        line = min(max(line, 1), max(len(lines), 1))
        offset = sum(len(text) for text in lines[:line - 1]) + column - 1
        offset = min(max(offset, 0), len(self.notebook.cells[cell - 1].source))
        starts = []
        total = 0
        for literal in span.literals:
            starts.append(total)
            total += len(literal.value)
        k = max(0, bisect.bisect_right(starts, offset) - 1)
        # at the end of one element and the start of the next, the next holds the character
        while k + 1 < len(starts) and offset >= starts[k] + len(span.literals[k].value):
            k += 1
        literal = span.literals[k]
        body = self.text[literal.start + 1:literal.end - 1]
        where = literal.start + 1 + _literal_body_index(body, offset - starts[k])
        return self._line_column(where)

    def _line_column(self, offset: int) -> Tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = [0] + [match.end() for match in re.finditer("\n", self.text)]
        row = bisect.bisect_right(self._line_starts, offset) - 1
        return row + 1, offset - self._line_starts[row] + 1


@lru_cache(maxsize=16)
def _read_notebook_file(path: str, stamp: Tuple[int, int]) -> Optional[NotebookFile]:
    try:
        with open(path, "rb") as handle:
            return NotebookFile(handle.read().decode("utf-8"))
    except Exception:  # gone, changed into something else: the formats fall back to the cell's numbers
        return None


def notebook_file(path: str) -> Optional[NotebookFile]:
    """The notebook at ``path`` as it is on disk now (read once per version of the file), or None."""
    import os

    try:
        status = os.stat(path)
    except OSError:
        return None
    return _read_notebook_file(path, (status.st_mtime_ns, status.st_size))


def file_region(finding: Finding) -> Tuple[int, int, int, int]:
    """``(line, column, end line, end column)`` of a notebook finding in the ``.ipynb`` file's own
    text, for the formats that annotate the stored file (SARIF, GitHub); the finding's own numbers
    when the file cannot be read back."""
    stored = notebook_file(finding.path) if finding.cell is not None else None
    if stored is None:
        return finding.line, finding.column, finding.end_line, finding.end_column
    try:
        line, column = stored.file_position(finding.cell, finding.line, finding.column)
        end_line, end_column = stored.file_position(finding.cell, finding.end_line, finding.end_column)
    except (ValueError, IndexError):
        return finding.line, finding.column, finding.end_line, finding.end_column
    if (end_line, end_column) < (line, column):
        end_line, end_column = line, column
    return line, column, end_line, end_column


def cell_line_text(path: str, cell: int, line: int) -> str:
    """The stripped text of a notebook cell's line ('' when it cannot be read)."""
    stored = notebook_file(path)
    return stored.cell_line(cell, line).strip() if stored is not None else ""
