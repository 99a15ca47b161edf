"""Path globs as flake8 and ruff match them, shared by ``exclude`` and ``per-file-ignores``.

A pattern matches a path by the path's name, by the path itself, or by any trailing part of its
absolute path (``tests/fixtures`` matches ``/repo/tests/fixtures``; ``*_pb2.py`` matches any such
file).
"""

from __future__ import annotations

import fnmatch
import os
from typing import Iterable


def path_matches(path: str, patterns: Iterable[str]) -> bool:
    path = os.path.normpath(path)
    candidates = {os.path.basename(path), path.replace(os.sep, "/"), os.path.abspath(path).replace(os.sep, "/")}
    for pattern in patterns:
        pattern = pattern.rstrip("/").replace(os.sep, "/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, pattern) or fnmatch.fnmatchcase(candidate, "*/" + pattern):
                return True
    return False
