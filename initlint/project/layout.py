"""Where a project is and what its modules are called, found from the file system alone.

A project's *root* is the nearest folder above a file that has ``pyproject.toml``, ``setup.cfg``,
``setup.py`` or ``.git``, or is the working directory (so a research repository with neither,
checked from its top, is one project); failing those, the outermost folder named on the command
line that holds the file. An installed package (a folder under ``site-packages``) is
its own project: the walk up stops there and the top of its ``__init__.py`` chain is the root, so
that checking ``site-packages/timm`` never reads all of site-packages.

A module can be imported under more than one name, so a file gets each that applies: the dotted
path through its ``__init__.py`` chain (``timm/layers/mlp.py`` -> ``timm.layers.mlp``, which
covers ``src/`` layouts: ``src/pkg/x.py`` -> ``pkg.x``), and its path relative to the root and to
``root/src`` (``models/net.py`` -> ``models.net`` for a namespace package without ``__init__.py``,
imported from a script at the root).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Optional, Tuple

MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
# above these, a folder is not a project of the user's: an installed package is its own project
_BOUNDARIES = frozenset({"site-packages", "dist-packages"})


@lru_cache(maxsize=4096)
def _package_top(directory: str) -> Optional[str]:
    """The topmost folder of the ``__init__.py`` chain ``directory`` is in (None: not a package)."""
    top = None
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        top = directory
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return top


@lru_cache(maxsize=4096)
def _root_of_dir(directory: str, cwd: str, hints: Tuple[str, ...] = ()) -> str:
    from ..runner import SKIP_DIRS

    here = directory
    while True:
        name = os.path.basename(here)
        if name in _BOUNDARIES or name in SKIP_DIRS:
            break
        if here == cwd or any(os.path.exists(os.path.join(here, marker)) for marker in MARKERS):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    # no marker: the outermost folder named on the command line that holds it, else its package
    for hint in hints:
        if directory == hint or directory.startswith(hint + os.sep):
            return hint
    return _package_top(directory) or directory


def project_root(path: str, hints: Tuple[str, ...] = ()) -> str:
    """The root folder of the project ``path`` (a file or folder) belongs to, absolute. ``hints``:
    absolute folders named on the command line (shortest first)."""
    path = os.path.abspath(path)
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    return _root_of_dir(directory, os.getcwd(), hints)


def _dotted(relative: str) -> Optional[str]:
    parts = relative.replace(os.sep, "/").split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)


@lru_cache(maxsize=8192)
def module_names(path: str, root: str) -> Tuple[str, ...]:
    """Every dotted name the module at ``path`` (absolute) can be imported by in the project at ``root``."""
    stem = os.path.splitext(path)[0]
    names = []
    top = _package_top(os.path.dirname(path))
    if top is not None:
        names.append(_dotted(os.path.relpath(stem, os.path.dirname(top))))
    for base in (root, os.path.join(root, "src")):
        if stem.startswith(base + os.sep):
            names.append(_dotted(os.path.relpath(stem, base)))
    out = []
    for name in names:
        if name and name not in out:
            out.append(name)
    return tuple(out)
