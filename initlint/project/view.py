"""What the analysis of one file may ask of its project (``analysis.facts.analyse(project=...)``).

Five questions, each a narrow hook in the per-file analysis:

* ``names(q)``: the other names an imported qualified name stands for (the project's re-exports
  and aliases followed: ``from .backend import keras`` is ``keras``);
* ``constant(q)``: the literal value of a project constant (``from .config import INIT_STD``);
* ``instance(q)``: the call a project module binds a name to (``INIT = GlorotUniform(seed=0)``),
  so that one initialiser instance imported by several layers is seen as one;
* ``class_layers(q)``: the layers (with their activations) of a project class defined in another
  module, when an init here reaches them (``layers.py``);
* ``applied_classes(f)``: the classes another module applies this file's function ``f`` to
  (``net.apply(weights_init)`` in ``train.py``), so that an init helper knows what it initialises.

Every file consulted is recorded (``touched``): the result of the check depends on them, and the
cache keeps it only while they are unchanged (``dependencies``).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from functools import lru_cache
from typing import Dict, List, Optional, Set, Tuple

from .import_heads import may_import
from .index import Project
from .layout import module_names

MISSING = object()
_STAR_RE = re.compile(rb"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+\*", re.M)
_STAR_HINT_RE = re.compile(rb"import[ \t]+\*")  # in every match of _STAR_RE; its literal start is found at C speed


def _words(names, quoted) -> bytes:
    words = " ".join(sorted(names)).replace(".", " ") + " " + " ".join(sorted(quoted))
    return words.strip().encode("utf-8", "surrogateescape")


@lru_cache(maxsize=2)
def _gate(which: str):
    """A prefilter that asks only for a catalogue initialiser (``inits``), or for one or a layer."""
    from ..prefilter import Prefilter, initializers, layers

    # the root is enough here: the module path may be what the project's imports stand for
    return Prefilter([initializers(modules=False)] if which == "inits"
                     else [initializers(modules=False), layers(modules=False)])


def _meets(gate, found) -> bool:
    return any(requirement.met_by(found) for requirement in gate.requirements)


def _gate_with(gate, found, data: bytes, more: bytes, package: Optional[str]) -> bool:
    """``gate`` on ``data`` followed by ``more``, from ``found``: what a gate whose words include
    ``gate``'s found in ``data`` (its words are not cut out of it again)."""
    extra = gate.found(more, package)
    return _meets(gate, dataclasses.replace(found, words=found.words | extra.words,
                                            folded=found.folded | extra.folded, source=data + b"\n" + more))


@lru_cache(maxsize=1)
def _layer_and_activation_symbols() -> Tuple[frozenset, frozenset]:
    """The final symbols of the catalogue's layers (as written) and activations (in any case)."""
    from ..catalogue import ACTIVATIONS, LAYERS

    return (frozenset(name.rsplit(".", 1)[-1] for layer in LAYERS for name in layer.names),
            frozenset(name.rsplit(".", 1)[-1].lower() for activation in ACTIVATIONS for name in activation.names))


def _layer_or_activation(qualname: str) -> bool:
    """Does ``qualname`` end in a catalogue layer or activation? What another module's class calls
    counts for a file's prefilter only as such: what it completes is the layers an init here
    reaches and the activations after them (an allocation, a copy or a loss in that class is not
    this file's code)."""
    layers, activations = _layer_and_activation_symbols()
    final = qualname.rsplit(".", 1)[-1]
    return final in layers or final.lower() in activations


MAX_NESTING = 4  # class layers through classes of other modules, at most this deep


def _safe(default):
    """A hook that fails (a module too odd to summarise, a bug of ours) answers ``default``: the
    file is then checked with less of its project, never not at all."""
    def wrap(method):
        @functools.wraps(method)
        def hook(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Exception:  # RecursionError and MemoryError too
                return default() if callable(default) else default
        return hook
    return wrap


class ProjectView:
    def __init__(self, project: Project, path: str, depth: int = 0) -> None:
        self.project = project
        self.path = path
        names = module_names(path, project.root)
        self.module = names[0] if names else os.path.splitext(os.path.basename(path))[0]
        self.depth = depth
        self.touched: Set[str] = set()
        self._names: Dict[str, Tuple[str, ...]] = {}
        self._stars: Optional[bool] = None

    # -- the hooks ---------------------------------------------------------------------------------

    def names(self, qualname: str) -> Tuple[str, ...]:
        """Qualified names ``qualname`` also stands for (empty when none or not a project name)."""
        known = self._names.get(qualname)  # asked for every use of an import: answered here, cheaply
        return known if known is not None else self._new_names(qualname)

    @_safe(())
    def _new_names(self, qualname: str) -> Tuple[str, ...]:
        known = ()
        local = self.project.localize(self.path, qualname)
        if self.project.is_project_name(local):
            canonical = self.project.canonical(local, self.touched)
            if canonical != qualname:
                known = (canonical,)
        self._names[qualname] = known
        return known

    def unbound(self, name: str) -> Tuple[str, ...]:
        """What a name this file uses without binding it stands for, through its ``from m import *``
        of project modules (``from models import *`` then ``Generator()``)."""
        known = self._names.get("*" + name)
        return known if known is not None else self._new_unbound(name)

    @_safe(())
    def _new_unbound(self, name: str) -> Tuple[str, ...]:
        known = ()
        if self._stars is None:  # read the text first: most files have no star import
            try:
                with open(self.path, "rb") as handle:
                    data = handle.read()
                    self._stars = bool(_STAR_HINT_RE.search(data) and _STAR_RE.search(data))
            except OSError:
                self._stars = False
        summary = self.project.summary_of(self.path) if self._stars else None
        if summary is not None and summary["stars"]:
            found = self.project._through_stars(summary, name, self.touched)
            known = (found,) if found is not None else ()
        self._names["*" + name] = known
        return known

    @_safe(MISSING)
    def constant(self, qualname: str):
        """The literal a project constant is bound to, else ``MISSING``."""
        definition = self._definition(qualname)
        if definition is None:
            return MISSING
        _path, summary, name = definition
        constants = summary["constants"]
        if name in constants:
            value = constants[name]
            return tuple(value) if isinstance(value, list) else value
        return MISSING

    @_safe(None)
    def instance(self, qualname: str) -> Optional[Tuple[Tuple[str, ...], str]]:
        """``(names of the callee, source of the call)`` when a project module binds ``qualname``
        to a call at top level (``INIT = GlorotUniform(seed=0)``), else None."""
        definition = self._definition(qualname)
        if definition is None:
            return None
        _path, summary, name = definition
        found = summary["instances"].get(name)
        if found is None:
            return None
        callee, text = found
        return (callee, *self.names(callee)), text

    @_safe(None)
    def class_layers(self, qualname: str):
        """The layers of the project class ``qualname`` (None: not a project class of another module)."""
        if self.depth >= MAX_NESTING:
            return None
        definition = self._definition(qualname)
        if definition is None:
            return None
        path, summary, name = definition
        if name not in summary["classes"] or path == self.path:
            return None
        from .layers import class_layers

        return class_layers(self, path, name)

    @_safe(list)
    def applied_classes(self, function: str) -> List[str]:
        """Classes that ``x.apply(f)`` calls elsewhere in the project apply this module's ``function`` to."""
        return self._elsewhere(self.project.applied_classes(f"{self.module}.{function}"))

    @_safe(list)
    def passed_classes(self, function: str) -> List[str]:
        """Classes whose instances calls elsewhere in the project pass to this module's ``function``
        (``init_weights(self)`` in a method of ``Net``)."""
        return self._elsewhere(self.project.passed_classes(f"{self.module}.{function}"))

    @_safe(list)
    def method_users(self) -> List[str]:
        """Classes of other modules that run a method of this module's classes on themselves
        (``class Net(BaseModel)`` calling ``self.init_weights()``, which ``models/base.py`` defines)."""
        return self._elsewhere(self.project.passed_to_methods(self.module))

    @_safe(None)
    def class_facts(self, qualname: str):
        """``(bases, methods, supers)`` of a class this file names (``Project.class_facts``): how a
        subclass here resolves a method through classes of other modules."""
        return self.project.class_facts(self.project.localize(self.path, qualname), self.touched)

    @_safe(False)
    def uses_known(self, function: str) -> bool:
        """Does every module that applies this module's ``function`` or calls it on a module show
        that module's class? (The project's tables are part of every cached result's key: a new
        such use anywhere re-checks.)"""
        return not any(where != self.path for where in self.project.unknown_uses(f"{self.module}.{function}"))

    def _elsewhere(self, pairs) -> List[str]:
        out = []
        for cls, where in pairs:
            if where != self.path:  # this file's own uses are its analysis' business
                self.touched.add(where)
                out.append(cls)
        return out

    @_safe(None)
    def local_class(self, qualname: str) -> Optional[str]:
        """The class name, when ``qualname`` is a class of this very file."""
        definition = self._definition(qualname)
        if definition is not None and definition[0] == self.path and definition[2] in definition[1]["classes"]:
            return definition[2]
        return None

    # -- for the engine ----------------------------------------------------------------------------

    @_safe(b"")
    def prefilter_words(self, tree=None, data=None, package: Optional[str] = None) -> bytes:
        """What this file's project imports stand for, as words for the prefilter of a file whose
        own text does not meet every rule's requirement. Two tiers, each asked only when it can
        matter:

        * what the file's imports stand for (re-exports: ``from .backend import keras``; an
          imported initialiser instance's class; a string constant such as ``'glorot_uniform'``),
          for a file that mentions a layer or an initialiser;
        * the layers and activations of the project classes it uses (and their bases') and of those
          another module applies its functions to (``net.apply(weights_init)``) or passes to them
          (``init_weights(self)``) and of the subclasses elsewhere that run its classes' methods on
          themselves (``self.init_weights()``), for a file that then mentions an initialiser (every finding
          project scope can complete is about one)."""
        from ..prefilter import source_bytes

        data = source_bytes(data) if data is not None else b""
        gate = _gate("layers_or_inits")
        found = gate.found(data, package)
        if not _meets(gate, found):
            return b""
        if not self.project.mentions_module(self.module) and not self._may_import_project(data):
            return b""  # neither tier can find anything: no tree is built for it
        summary = self.project.own_summary(self.path, data, tree)
        if summary is None:
            return b""
        names: Set[str] = set()
        quoted: Set[str] = set()
        classes: List[str] = []
        for qualname in summary["imports"].values():
            if not self.project.is_project_name(qualname):
                continue
            canonical = self.project.canonical(qualname, self.touched)
            names.add(canonical)
            classes.append(canonical)
            definition = self._definition(canonical)
            if definition is None:
                continue
            _path, exporter, name = definition
            if name in exporter["instances"]:
                names.add(exporter["instances"][name][0])
            value = exporter["constants"].get(name)
            if isinstance(value, str) and value.isidentifier():
                quoted.add(repr(value))  # a string name: 'glorot_uniform', 'relu'
        first = _words(names, quoted)
        if not _gate_with(_gate("inits"), found, data, first, package):
            return first
        for function in summary["functions"]:
            classes.extend(self.applied_classes(function))
            classes.extend(self.passed_classes(function))
        classes.extend(self.method_users())
        seen: Set[str] = set()
        for _ in range(MAX_NESTING):
            following = []
            for cls in classes:
                if cls in seen:
                    continue
                seen.add(cls)
                definition = self._definition(cls)
                if definition is None or definition[2] not in definition[1]["classes"]:
                    continue
                summary = definition[1]["classes"][definition[2]]
                for called in summary["calls"] + summary["bases"]:  # its layers, and its bases' (inherited)
                    canonical = self.project.canonical(called, self.touched) if self.project.is_project_name(called) \
                        else called
                    if _layer_or_activation(canonical):
                        names.add(canonical)
                    following.append(canonical)
            classes = following
        return _words(names, quoted)

    @_safe(None)
    def dependencies(self) -> Optional[Dict[str, Optional[str]]]:
        """``{file relative to the root: content hash}`` of every other file this view consulted,
        and the project's file list under the key ``""``; None when they cannot be told."""
        out = {self.project.relative(path): self.project.file_hash(path) for path in self.touched if path != self.path}
        out[""] = self.project.layout
        return out

    # -- helpers -----------------------------------------------------------------------------------

    def _may_import_project(self, data: bytes) -> bool:
        """May this file import a name of its project (``is_project_name``), as its text shows
        without a tree (``import_heads``)? A script beside other modules imports them under its
        folder's name (``localize``): not told by name, so yes."""
        if self.project.script_prefix(self.path):
            return True
        return may_import(data, self.project.project_tops)

    def _definition(self, qualname: str):
        if not self.project.is_project_name(qualname):
            return None
        canonical = self.project.canonical(qualname, self.touched)
        return self.project.definition(canonical, self.touched)
