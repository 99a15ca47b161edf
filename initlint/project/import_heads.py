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
* An ``import`` keyword is taken as the one of a ``from`` statement only where ``from <module>``
  stands before it on the same logical line with nothing else between and no ``#`` before the
  ``from`` on its line (a comment ending in a backslash does not continue the line: ``# read from
  disk \\`` followed by ``import x`` is a plain import).
* A name with a byte outside ASCII is not compared (Python normalises identifiers, NFKC): the
  answer is then "unknown".
"""

from __future__ import annotations

import re
from typing import FrozenSet, Optional

# identifier bytes: ASCII letters, digits, underscore, and every byte of a non-ASCII character
_NAME = rb"[A-Za-z0-9_\x80-\xff]+"
_GAP = rb"(?:[ \t\f]|\\\r?\n)"  # what may stand between two tokens of one logical line
_FROM_RE = re.compile(rb"\bfrom" + _GAP + rb"*(\.|" + _NAME + rb")")  # ``from.m import x`` is valid
# ``from <module> import``: the module's dotted name (or dots) between, and nothing else
_FROM_IMPORT_RE = re.compile(rb"\bfrom" + _GAP + rb"*(?:[.A-Za-z0-9_\x80-\xff]|" + _GAP + rb")*?" + _GAP
                             + rb"*\bimport\b")
_IMPORT_RE = re.compile(rb"\bimport\b")
_WORD_RE = re.compile(_NAME)
# a newline no backslash continues (``\\\r\n`` continues as ``\\\n`` does); a lone ``\r`` runs on: more words
_LINE_END_RE = re.compile(rb"(?<!\\)(?<!\\\r)\n|\Z")


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
    from_imports = set()  # where the ``import`` of a ``from`` statement ends
    for match in _FROM_IMPORT_RE.finditer(data):
        line = data.rfind(b"\n", 0, match.start()) + 1
        if data.find(b"#", line, match.start()) < 0:
            from_imports.add(match.end())
    for match in _IMPORT_RE.finditer(data):
        if match.end() in from_imports:
            continue
        end = _LINE_END_RE.search(data, match.end()).start()
        heads.update(_WORD_RE.findall(data, match.end(), end))
    return _checked(heads)


def _checked(heads) -> Optional[FrozenSet[bytes]]:
    return None if any(not head.isascii() for head in heads) else frozenset(heads)


def may_import(data: bytes, tops: FrozenSet[str]) -> bool:
    """May ``data`` import a module whose first name is one of ``tops`` (or a relative one)?"""
    heads = import_heads(data)
    return heads is None or any(top.encode("ascii", "replace") in heads for top in tops)
