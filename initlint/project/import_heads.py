"""The first names a module's imports can start with, read from its text without a tree.

The project's prefilter words (``view.ProjectView.prefilter_words``) come from a file's imports of
its own project's modules. Most files a project's prefilter reads import none (every import of
keras' own files is ``keras.*``, a framework's name, or another package), and building CPython's
tree of such a file only to learn that costs more than the rest of its prefilter. ``import_heads``
answers from the text whether a file *can* import a given set of top-level names: a superset of
what the tree would show (a docstring's "from numpy" counts too), never less.

Sound on valid Python by construction:

* ``from X import ...``: the first name after ``from`` (through spaces and backslash
  continuations); a dot there is a relative import, which the caller cannot rule out by name.
* ``import a.b as c, d``: every word from ``import`` to the end of its logical line (the backslash
  continuations included, and past a ``;``: more words, never fewer).
* An ``import`` keyword is taken as the one of a ``from`` statement only where its line holds
  nothing before it but ``from <module>`` (and indentation); any other (a ``from`` on the line
  before, a backslash between; ``x = 1; from a import b``) reads as a plain import: more words,
  never fewer. A comment that ends in a backslash does not continue its line: ``# read from disk
  \\`` followed by ``import x`` is a plain import, as it should be.
* A name with a byte outside ASCII is not compared (Python normalises identifiers, NFKC): the
  answer is then "unknown".
"""

from __future__ import annotations

import re
from typing import FrozenSet, Optional

# identifier bytes: ASCII letters, digits, underscore, and every byte of a non-ASCII character
_NAME = rb"[A-Za-z0-9_\x80-\xff]+"
_GAP = rb"(?:[ \t\f]|\\\r?\n)"  # what may stand between two tokens of one logical line
# a keyword: the literal first, then the byte before it looked at (a pattern that starts with
# ``\b`` or a look-behind loses ``re``'s literal-prefix search: ten times slower)
_FROM_RE = re.compile(rb"from(?<![A-Za-z0-9_\x80-\xff]from)" + _GAP + rb"*(\.|" + _NAME + rb")")  # from.m is valid
_IMPORT_RE = re.compile(rb"import(?<![A-Za-z0-9_\x80-\xff]import)(?![A-Za-z0-9_\x80-\xff])")
# what stands before the ``import`` of a ``from`` statement on its line: ``from <module> ``
_FROM_PREFIX_RE = re.compile(rb"[ \t\f]*from[ \t\f]*[.A-Za-z0-9_\x80-\xff][.A-Za-z0-9_\x80-\xff \t\f]*")
_WORD_RE = re.compile(_NAME)


def import_heads(data: bytes) -> Optional[FrozenSet[bytes]]:
    """Every name an import of ``data`` may start with (a superset), as bytes; None when it cannot
    be told by name: a relative import, or a name with a non-ASCII byte."""
    heads = set()
    if b"from" in data:
        for match in _FROM_RE.finditer(data):
            head = match.group(1)
            if head == b".":
                return None
            heads.add(head)
    if b"import" not in data:
        return _checked(heads)
    fullmatch, find, words = _FROM_PREFIX_RE.fullmatch, data.find, _WORD_RE.findall
    for match in _IMPORT_RE.finditer(data):
        start, end = match.span()
        if fullmatch(data, data.rfind(b"\n", 0, start) + 1, start):
            continue  # the import of a from statement: its names are not heads
        # a plain import: every word to the end of its logical line (backslashes continue it)
        line_end = find(b"\n", end)
        while line_end > 0 and (data[line_end - 1] == 0x5C
                                 or line_end > 1 and data[line_end - 1] == 0x0D and data[line_end - 2] == 0x5C):
            line_end = find(b"\n", line_end + 1)
        heads.update(words(data, end, len(data) if line_end < 0 else line_end))
    return _checked(heads)


def _checked(heads) -> Optional[FrozenSet[bytes]]:
    return None if any(not head.isascii() for head in heads) else frozenset(heads)


def may_import(data: bytes, tops: FrozenSet[str]) -> bool:
    """May ``data`` import a module whose first name is one of ``tops`` (or a relative one)?"""
    heads = import_heads(data)
    return heads is None or any(top.encode("ascii", "replace") in heads for top in tops)
