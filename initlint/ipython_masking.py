"""IPython's syntax in a notebook cell, masked line for line so that Python can parse the cell
and no position moves (``notebook.py`` joins the masked cells into one program).

What IPython runs but Python cannot parse is replaced: line magics (``%matplotlib inline``), shell
escapes (``!pip install``, ``x = !ls``), help (``?obj``, ``obj??``), IPython's autocall escapes
(``/f x``, ``,f a``, ``;f a``) and automagic lines (``pip install x`` with no ``%``, only where Python
cannot parse the line) become ``pass`` at their indentation (a magic can be the only statement of a
block); a magic's backslash-continued lines become blank. A cell magic (``%%time``) loses its first
line when its body is Python run in this namespace (``PYTHON_CELL_MAGICS``) and is blanked whole
otherwise (``%%bash``, ``%%writefile``, ``%%html``, ``%%python``: their body is not this program's
code). ``get_ipython().system(...)`` lines are Python and stay as they are. A line counts only where
a statement starts (``_Scanner``): a ``%`` line inside a triple-quoted string or a bracket is Python.
"""

from __future__ import annotations

import ast
import keyword
import re
import warnings
from typing import List, Optional, Sequence, Tuple

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


def parses_or_raises(source: str, name: str) -> None:
    """CPython's parser over ``source`` (top-level ``await`` allowed, as IPython runs it);
    ``SyntaxError`` (or ``ValueError``, ``RecursionError``) if it cannot parse it."""
    with warnings.catch_warnings():  # the user's SyntaxWarnings are not ours to print
        warnings.simplefilter("ignore")
        compile(source, name, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                dont_inherit=True)


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
        parses_or_raises(line.strip(), "line")
    except (SyntaxError, ValueError):
        return True
    return False


def _pass(line: str) -> str:
    """A statement that does nothing, at ``line``'s indentation, with its line ending."""
    indent = line[:len(line) - len(line.lstrip(" \t"))]
    ending = line[len(line.rstrip("\r\n")):] or "\n"
    return f"{indent}pass{ending}"


def blank_line(line: str) -> str:
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
            return [blank_line(line) for line in lines], [True] * len(lines)
        lines[first], masked[first] = blank_line(lines[first]), True
    scanner = _Scanner()
    magic_continues = False
    for i, line in enumerate(lines):
        if masked[i]:
            continue
        if magic_continues:  # a magic's backslash-continued line
            magic_continues = line.rstrip("\r\n").endswith("\\")
            lines[i], masked[i] = blank_line(line), True
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
