"""Which files can hold a finding, decided from the raw text before anything is parsed.

A libcst parse costs about 12x CPython's, and the analysis as much again, while most files of a
deep-learning code base initialise nothing. So every rule states what a file must *mention* for
the rule to be able to fire, as a ``Requirement`` (words, combined with ``&`` and ``|``). Files
that meet no selected rule's requirement are never parsed by libcst.

The words are derived from the catalogue and the analysis, never listed by hand:

* a catalogue name is found by its *final symbol* (``xavier_uniform_``, ``TruncatedNormal``,
  ``Linear``) together with its *module path* (``torch``, ``nn``, ``init``). Resolution only ever
  appends attribute names to an imported name, and the catalogue's canonical spellings rewrite
  module paths only, so the final symbol of a resolved name is always written in the file:
  ``from torch.nn.init import xavier_uniform_ as xu`` spells it in the import. So is every
  component of the path for an absolute import (``from torch import nn`` then ``nn.init.x``); a
  relative one (``from .weight_init import trunc_normal_`` inside timm) takes the leading ones
  from the file's own package, which the prefilter is given. Paths follow the canonical rewrites
  backwards: ``transformers.initialization.normal_`` is ``torch.nn.init.normal_``. Asking for the
  path, not the root alone, keeps out the many files that define or call an ``identity``,
  ``normal`` or ``constant`` of their own beside some import of the framework;
* a string name the catalogue accepts (Keras ``'glorot_uniform'``) must be a whole string literal,
  in any case, as the catalogue lowers strings before looking them up; activations (``'relu'``,
  ``nn.ReLU``, ``x.relu()``) are matched in any case without a root;
* the few identifiers an analysis step tests literally (``type(m) == ...``, ``jax.random``,
  tensor methods such as ``w.data.normal_()``) are named with ``words``/``module``.

Where words cannot tell, a rule can ask for the shape of an expression: ``pattern`` (a regular
expression over the bytes of the text, comments included, in both stages: one name on both sides
of ``x.load_state_dict(x.state_dict())``, a ``1 +`` offset; ``GAP`` spells what may stand between
two tokens) or ``shape`` (a regex on the text, then, once CPython has parsed the file, a test of
the tree's nodes: ``[layer] * n``). Both must match every way the code can spell what the rule
looks for.

A rule's requirement is built from predicates over the catalogue (``initializers(...)``,
``layers(...)``, ``activations(...)``). A rule declares it as ``Rule.requires``; rules written
before the field existed have theirs in ``rule_requirements()`` below. A rule with neither keeps
every file (slower, never wrong) and fails ``tests/test_prefilter.py``.

The text is cut into words with ``bytes.translate`` and ``split`` (C speed, ~15 ms per MB), and
every requirement is then evaluated on the set of vocabulary words found, after a check that the
file shows one word the requirement cannot do without (most files show none).

Soundness is tested, not assumed: on the rules' fixtures and documented examples and on the
installed sources of timm, transformers, keras, flax and torch.nn, every finding of every rule run
on every file lies in a file that meets that rule's requirement (``tests/test_prefilter.py``).

Known limit: a string name put together from implicitly concatenated literals (``'he_' 'normal'``)
or spelled with escape sequences is not seen in the text.
"""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Union


# an identifier between quotes; the closing quote is only looked at, so that it can open the next
_QUOTED_WORD = re.compile(rb"['\"](?=([A-Za-z_][A-Za-z0-9_]*)['\"])")


@dataclass(frozen=True)
class Found:
    """What a file mentions, as far as the prefilter looks: the vocabulary words it contains (as
    written, and in lower case) and the top-level package it lies in (relative imports resolve
    against it)."""

    words: FrozenSet[bytes]
    folded: FrozenSet[bytes]
    package_root: Optional[bytes] = None
    source: bytes = b""
    # the whole text, comments and docstrings included, that a ``Pattern`` reads: the source in
    # both stages, where ``source`` becomes the code's words once the file is parsed
    text: bytes = b""
    # every component of the package (``timm.layers``: timm, layers), where relative imports lead
    package_parts: FrozenSet[bytes] = frozenset()
    # CPython's tree of the file once it is parsed (the words are then its code's), for a ``Shape``,
    # and its nodes of the kinds the shapes read, gathered by code_words' walk
    tree: Optional[ast.AST] = None
    by_kind: Optional[Dict[type, List[ast.AST]]] = None
    # what the patterns found in ``text``, shared by the two stages of one file
    searched: Optional[dict] = None
    # what the methods below found; never carried over by dataclasses.replace (another source)
    _cache: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def quoted(self) -> FrozenSet[bytes]:
        """Every identifier-shaped string literal of the source, in lower case (``'Glorot_Uniform'``:
        glorot_uniform), found in one pass the first time it is asked for."""
        found = self._cache.get("quoted")
        if found is None:
            found = self._cache["quoted"] = frozenset(w.lower() for w in _QUOTED_WORD.findall(self.source))
        return found

    def memo(self, key: str, compute: Callable[["Found"], object]):
        """``compute(self)``, once per file (a shape's test asks for what all its nodes share)."""
        if key not in self._cache:
            self._cache[key] = compute(self)
        return self._cache[key]

    def nodes(self, kind: type) -> List[ast.AST]:
        """The tree's nodes of type ``kind`` (those code_words gathered; any other kind in one walk
        of the tree the first time one is asked for)."""
        if self.by_kind is not None and kind in self.by_kind:
            return self.by_kind[kind]
        by_type = self._cache.get("nodes")
        if by_type is None:
            by_type = self._cache["nodes"] = {}
            for node in ast.walk(self.tree):
                by_type.setdefault(type(node), []).append(node)
        return by_type.get(kind, [])


class Requirement:
    """A condition on what a file mentions. ``a & b``: both; ``a | b``: either."""

    why = ""

    def met_by(self, found: Found) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def vocabulary(self) -> Tuple[FrozenSet[bytes], FrozenSet[bytes]]:
        """(case-sensitive words, lower-case words) the condition looks at."""
        raise NotImplementedError  # pragma: no cover - abstract

    def __and__(self, other: "Requirement") -> "Requirement":
        return All((self, other))

    def __or__(self, other: "Requirement") -> "Requirement":
        return Any((self, other))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.why}>"


@dataclass(frozen=True, repr=False)
class Words(Requirement):
    """Any of ``words`` (as written) or of ``folded`` (in any case) appears as a whole word."""

    words: FrozenSet[bytes] = frozenset()
    folded: FrozenSet[bytes] = frozenset()
    why: str = ""

    def met_by(self, found: Found) -> bool:
        return not self.words.isdisjoint(found.words) or not self.folded.isdisjoint(found.folded)

    def vocabulary(self):
        return self.words, self.folded


@dataclass(frozen=True, repr=False)
class Quoted(Requirement):
    """One of ``strings`` (lower case) is a whole string literal, in any case: ``'glorot_uniform'``,
    ``"HE_NORMAL"``."""

    strings: FrozenSet[bytes] = frozenset()
    why: str = ""

    def met_by(self, found: Found) -> bool:
        # the word is there (cheap): is it a whole string?
        return not self.strings.isdisjoint(found.folded) and not self.strings.isdisjoint(found.quoted())

    def vocabulary(self):
        return frozenset(), self.strings


@dataclass(frozen=True, repr=False)
class Pattern(Requirement):
    """The text matches ``regex`` (compiled, over bytes): a shape words cannot show, such as one
    name on both sides of ``x.load_state_dict(x.state_dict())`` or a ``1 +`` offset. It reads the
    whole text, comments and docstrings included, in both stages (the code's words have no
    punctuation), so it must match every way the code can spell the shape (whitespace, line breaks,
    comments and parentheses between the tokens). ``re`` runs in C; write a pattern that fails fast
    (starting with a literal where it can) and put it after the words a match contains
    (``words(...) & Pattern(...)``): ``All`` stops at the first unmet term."""

    regex: "re.Pattern[bytes]" = re.compile(b"")
    why: str = ""

    def met_by(self, found: Found) -> bool:
        # the same text in both stages: searched once
        memo = found.searched
        if memo is None:
            return self.regex.search(found.text) is not None
        met = memo.get(self)
        if met is None:
            met = memo[self] = self.regex.search(found.text) is not None
        return met

    def vocabulary(self):
        return frozenset(), frozenset()


@dataclass(frozen=True, repr=False)
class Shape(Requirement):
    """An expression of a kind words cannot show (``[layer] * n``): on the text, ``regex`` matches
    (it must match every way to spell the shape, as a ``Pattern``); once CPython has parsed the file,
    ``test(node, found)`` holds for one of its nodes of the ``types`` (exact where a regex can only
    be a superset). ``reads``: other node kinds the test asks ``found.nodes`` for. code_words
    gathers the nodes of these kinds (never ``Name``/``Constant``) in its walk, at no extra walk."""

    regex: "re.Pattern[bytes]" = re.compile(b"")
    types: Tuple[type, ...] = ()
    test: Callable[[ast.AST, Found], bool] = lambda node, found: True
    reads: Tuple[type, ...] = ()
    why: str = ""

    def met_by(self, found: Found) -> bool:
        if found.tree is None:
            return self.regex.search(found.text) is not None
        test = self.test
        return any(test(node, found) for kind in self.types for node in found.nodes(kind))

    def vocabulary(self):
        return frozenset(), frozenset()


@dataclass(frozen=True, repr=False)
class Root(Requirement):
    """A name from one of these top-level packages can be resolved in the file: the package's name
    is written in it (every absolute import spells its root), or the file lies inside it (a
    relative import takes its root from the file's path)."""

    roots: FrozenSet[bytes] = frozenset()
    why: str = ""

    def met_by(self, found: Found) -> bool:
        return not self.roots.isdisjoint(found.words) or found.package_root in self.roots

    def vocabulary(self):
        return self.roots, frozenset()


@dataclass(frozen=True, repr=False)
class Spelled(Requirement):
    """A module path below its root is spelled: each of ``parts`` (``nn``, ``init`` of
    ``torch.nn.init``) is written in the file, or is a component of the package it lies in (where
    a relative import takes it from)."""

    parts: Tuple[bytes, ...] = ()
    why: str = ""

    def met_by(self, found: Found) -> bool:
        words, package = found.words, found.package_parts
        for part in self.parts:
            if part not in words and part not in package:
                return False
        return True

    def vocabulary(self):
        return frozenset(self.parts), frozenset()


@dataclass(frozen=True, repr=False)
class All(Requirement):
    terms: Tuple[Requirement, ...] = ()

    def met_by(self, found: Found) -> bool:
        for term in self.terms:  # a loop, not all(<generator>): evaluated ~300 times per file
            if not term.met_by(found):
                return False
        return True

    def vocabulary(self):
        return _union(self.terms)

    @property
    def why(self) -> str:
        return " and ".join(f"({t.why})" if isinstance(t, Any) else t.why for t in self.terms)


@dataclass(frozen=True, repr=False)
class Any(Requirement):
    terms: Tuple[Requirement, ...] = ()

    def met_by(self, found: Found) -> bool:
        for term in self.terms:
            if term.met_by(found):
                return True
        return False

    def vocabulary(self):
        return _union(self.terms)

    @property
    def why(self) -> str:
        return " or ".join(f"({t.why})" if isinstance(t, All) else t.why for t in self.terms)


def _union(terms) -> Tuple[FrozenSet[bytes], FrozenSet[bytes]]:
    words, folded = set(), set()
    for term in terms:
        w, f = term.vocabulary()
        words |= w
        folded |= f
    return frozenset(words), frozenset(folded)


ANYTHING: Requirement = All(())  # met by every file


def _ascii(names: Iterable[str]) -> FrozenSet[bytes]:
    return frozenset(n.encode("ascii") for n in names if n.isascii())


def _final(name: str) -> str:
    return name.rsplit(".", 1)[-1]


# -- where a catalogue name can come from ------------------------------------------------------------

_LITERAL_PREFIX = re.compile(r"^\^((?:[A-Za-z_][A-Za-z0-9_]*\\\.)+)")
_LITERAL_REPLACEMENT = re.compile(r"^((?:[A-Za-z_][A-Za-z0-9_]*\.)+)")


@lru_cache(maxsize=None)
def _rewrites() -> Optional[Tuple[Tuple[str, str], ...]]:
    """``(source prefix, replacement prefix)`` of every canonical-spelling rewrite, as literal
    dotted prefixes; None when one cannot be read that way (then no clause asks for a root)."""
    from .catalogue.names import _REWRITES

    out = []
    for pattern, replacement in _REWRITES:
        source = _LITERAL_PREFIX.match(pattern)
        target = _LITERAL_REPLACEMENT.match(replacement)
        if source is None or target is None:
            return None
        out.append((source.group(1).replace("\\", ""), target.group(1)))
    return tuple(out)


def roots_of(canonical_name: str) -> Optional[FrozenSet[str]]:
    """Every top-level package a user's qualified name can start with and still be spelled
    ``canonical_name`` by the catalogue: undoes the rewrites of ``catalogue.names`` (each applied at
    most once, in order) backwards. None: not known (the rewrites could not be read)."""
    rewrites = _rewrites()
    return None if rewrites is None else _roots_under(canonical_name, rewrites)


@lru_cache(maxsize=None)  # every rule's requirement asks again for the same few hundred names
def _roots_under(canonical_name: str, rewrites: Tuple[Tuple[str, str], ...]) -> FrozenSet[str]:
    sources = {canonical_name}
    for source, target in reversed(rewrites):
        sources |= {source + s[len(target):] for s in sources if s.startswith(target)}
    return frozenset(s.split(".", 1)[0] for s in sources)


def module_paths(canonical_name: str) -> Optional[FrozenSet[Tuple[str, ...]]]:
    """The module paths (``("torch", "nn", "init")``) a user's qualified name can have and still be
    spelled ``canonical_name``, each reduced to components its real spelling certainly has: the
    rewrites undone as in ``roots_of``, where a rewrite that drops more than its literal prefix
    (``torch.nn.modules.linear.`` -> ``torch.nn.``) only ever adds components to the ones kept.
    None: not known."""
    rewrites = _rewrites()
    return None if rewrites is None else _paths_under(canonical_name, rewrites)


@lru_cache(maxsize=None)
def _paths_under(canonical_name: str, rewrites: Tuple[Tuple[str, str], ...]) -> FrozenSet[Tuple[str, ...]]:
    sources = {canonical_name}
    for source, target in reversed(rewrites):
        sources |= {source + s[len(target):] for s in sources if s.startswith(target)}
    return frozenset(tuple(s.split(".")[:-1]) for s in sources)


def _imported(paths: FrozenSet[Tuple[str, ...]], modules: bool) -> Requirement:
    """A name can be imported along one of ``paths``: its root (``Root``) and, with ``modules``, the
    rest of the path (``Spelled``)."""
    by_rest: Dict[Tuple[str, ...], set] = {}
    for path in paths:
        by_rest.setdefault(path[1:] if modules else (), set()).add(path[0])
    terms = []
    for rest, roots in sorted(by_rest.items(), key=lambda item: (item[0], sorted(item[1]))):
        root = Root(_ascii(roots), why="/".join(sorted(roots)))
        terms.append(root & Spelled(tuple(_ascii(rest)), why=".".join(rest)) if rest else root)
    return terms[0] if len(terms) == 1 else Any(tuple(terms))


def _named(entries: Iterable, what: str, modules: bool = True) -> Requirement:
    """One of ``entries`` by a name: a final symbol of its names, with a module path it can be
    imported along (``modules=False``: its root alone). Tensor methods (``w.data.normal_()``) are
    recognised by their name alone."""
    from .analysis.inits import TENSOR_METHODS
    from .catalogue.names import canonical

    methods = {f"torch.Tensor.{method}" for method in TENSOR_METHODS}
    groups: Dict[Optional[FrozenSet[Tuple[str, ...]]], set] = {}
    for entry in entries:
        for name in entry.names:
            paths = None if canonical(name) in methods else module_paths(canonical(name))
            groups.setdefault(paths, set()).add(_final(name))
    terms = []
    for paths, symbols in sorted(groups.items(), key=lambda item: sorted(item[0] or ())):
        term = Words(_ascii(symbols), why=what)
        terms.append(term if paths is None else term & _imported(paths, modules))
    if not terms:
        raise ValueError(f"a requirement that no file can meet: {what}")
    return terms[0] if len(terms) == 1 else Any(tuple(terms))


# -- what a rule can declare ------------------------------------------------------------------------


def initializers(where: Callable[[object], bool] = lambda entry: True, why: str = "",
                 strings: bool = True, modules: bool = True) -> Requirement:
    """Some catalogue initialiser for which ``where(entry)`` holds: one of its names, or a string
    name (Keras ``'he_normal'``, MXNet ``'xavier'``) that resolves to it. String names need no
    import: layers, ``add_weight`` and ``initialize`` take them. ``strings=False`` for a rule that
    reads an initialiser's arguments: one named by a string has none. ``modules=False``: a name's
    root is enough, its module path need not be spelled (for a gate that asks whether a file's
    project imports may stand for one)."""
    from . import catalogue

    why = why or "an initialiser"
    entries = [e for e in catalogue.INITIALIZERS if where(e)]
    chosen = {id(e) for e in entries}
    string_names = set()
    for (_framework, key), (entry_name, _args) in catalogue._STRING_INITS.items():
        entry = catalogue.initializer(entry_name)
        if entry is not None and id(entry) in chosen:
            string_names.add(key)
    named = _named(entries, why, modules)
    if not (strings and string_names):
        return named
    return named | Quoted(_ascii(string_names), why=f"{why} named by a string")


def layers(where: Callable[[object], bool] = lambda entry: True, why: str = "",
           modules: bool = True) -> Requirement:
    """Some catalogue layer for which ``where(entry)`` holds, by one of its names (``modules``: as
    for ``initializers``)."""
    from . import catalogue

    return _named([e for e in catalogue.LAYERS if where(e)], why or "a layer", modules)


def activations(kinds: Iterable[object], why: str = "") -> Requirement:
    """An activation of one of ``kinds``: a catalogue activation's final symbol, a string name
    (``activation='relu'``), or a layer that applies one by default (Keras LSTM: tanh). Matched in
    any case and without asking for an import: the analysis also reads methods (``x.relu()``)."""
    from . import catalogue

    kinds = frozenset(kinds)
    folded = {_final(n) for a in catalogue.ACTIVATIONS if a.activation in kinds for n in a.names}
    folded |= {key for (_fw, key), (activation, _slope) in catalogue._STRING_ACTS.items() if activation in kinds}
    exact = set()  # lower-case functional layers (slim's conv2d applies a ReLU): as written, or torch's Conv2d matches
    for layer in catalogue.LAYERS:
        default = layer.default_activation
        if default is None:
            continue
        by_name = catalogue.activation(default)
        by_string = catalogue.activation_from_string(layer.framework, default)
        applied = by_name.activation if by_name is not None else by_string[0] if by_string else None
        if applied in kinds:
            (exact if layer.functional else folded).update(_final(n) for n in layer.names)
    why = why or "an activation: " + ", ".join(sorted(k.value for k in kinds))
    return Words(_ascii(exact), folded=_ascii(w.lower() for w in folded), why=why)


def words(*names: str, why: str = "") -> Requirement:
    """One of these identifiers, for names an analysis step tests literally rather than through
    the catalogue."""
    return Words(_ascii(names), why=why or " or ".join(names))


def module(*roots: str, why: str = "") -> Requirement:
    """A name imported from one of these top-level packages (see ``Root``)."""
    return Root(_ascii(roots), why=why or "/".join(roots))


# what may stand between two tokens of an expression: whitespace, line breaks, a continuation
# backslash, comments. Each character has one way to match (a comment runs to its line's end), so a
# pattern that fails backtracks over a gap once, never exponentially.
GAP = rb"(?:\s|\\|#[^\n]*(?:\n|\Z))*"


def pattern(regex: bytes, why: str) -> Requirement:
    """The text matches ``regex`` (see ``Pattern``); ``GAP`` spells what may separate two tokens."""
    return Pattern(re.compile(regex), why=why)


# jax.random as the code can name it: ``jax.random`` (``from jax.random import ...`` too), ``from jax
# import random`` (in parentheses or on one line), ``import jax as J`` and then ``J.random``
_JAX_RANDOM = pattern(rb"jax" + GAP + rb"\." + GAP + rb"random\b"
                      + rb"|from" + GAP + rb"jax" + GAP + rb"import" + GAP + rb"(?:\([^)]*|[^\n]*)\brandom\b"
                      + rb"|import" + GAP + rb"jax" + GAP + rb"as" + GAP + rb"(\w+)[\s\S]*?\b\1" + GAP + rb"\." + GAP
                      + rb"random\b", "jax.random")


def shape(regex: bytes, types: Tuple[type, ...], test: Callable[[ast.AST, Found], bool], why: str,
          reads: Tuple[type, ...] = ()) -> Requirement:
    """The text matches ``regex``, and once parsed a node of ``types`` passes ``test`` (see
    ``Shape``)."""
    return Shape(re.compile(regex), types, test, reads, why=why)


def _shape_kinds(requirement: Requirement) -> FrozenSet[type]:
    """The node kinds the shapes of ``requirement`` read."""
    if isinstance(requirement, Shape):
        return frozenset(requirement.types + requirement.reads)
    if isinstance(requirement, (All, Any)):
        return frozenset().union(*map(_shape_kinds, requirement.terms))
    return frozenset()


# -- the rules that predate Rule.requires ----------------------------------------------------------


@lru_cache(maxsize=None)
def rule_requirements() -> Dict[str, Requirement]:
    """Requirements of the rules that do not declare ``requires`` themselves, by code. Each mirrors
    the first test its rule makes on an initialiser (or layer), widened where that test depends on
    argument values the text does not show."""
    from . import catalogue
    from .catalogue import RELU_FAMILY, Activation, Family, Framework, Style
    from .catalogue.model import KaimingLaw, NormalLaw, UniformLaw

    def truncated_before(e):
        return e.family is Family.TRUNCATED_NORMAL and e.truncation is not None and e.truncation.std_is == "before"

    def absolute_bounds(e):
        return e.style is Style.INPLACE and e.truncation is not None and e.truncation.units == "absolute"

    def scheme_bearing(e):  # Glorot/He/LeCun by name, or by the arguments of a variance-scaling law
        return e.fan_based or e.scheme is not None

    def kaiming(e):
        return isinstance(e.law, KaimingLaw)

    def constant(e):  # a sampler (torch.zeros) reaches no layer: it is judged by INI401/INI403
        return e.family is Family.CONSTANT and e.style is not Style.SAMPLER

    def jax_factory(e):
        return e.framework is Framework.JAX and e.style is Style.FACTORY

    def normal_sampler(e):
        return e.style is Style.SAMPLER and e.family is Family.NORMAL

    def default_can_harm(e):
        return e.style is not Style.SAMPLER and isinstance(e.law, (NormalLaw, UniformLaw))

    def non_sampler(e):
        return e.style is not Style.SAMPLER

    def sampler(e):
        return e.style is Style.SAMPLER

    def raises_on_vectors(e):
        return e.raises_below_2d

    def applied_in_place(e):
        return e.style is Style.INPLACE

    relu = activations(RELU_FAMILY)
    # a layer, or a TF1 raw-graph product (tf.matmul(x, W) / tf.nn.conv2d(x, W) with W a variable)
    any_layer = layers() | (words("matmul", "conv1d", "conv2d", "conv3d", "xw_plus_b", why="a TF matmul or conv")
                            & words("get_variable", "Variable", why="a TF variable") & module("tensorflow"))

    def tf_factory(e):  # an object that can repeat its numbers (strings and constants cannot)
        return e.framework is Framework.KERAS and e.style is Style.FACTORY \
            and e.family not in (Family.CONSTANT, Family.IDENTITY)
    return {
        "INI101": initializers(truncated_before, "a truncated normal whose std is taken before truncation"),
        "INI102": initializers(absolute_bounds, "a truncated normal with absolute bounds"),
        "INI201": initializers(scheme_bearing, "a fan-based initialiser") & any_layer & relu,
        "INI202": initializers(scheme_bearing, "a fan-based initialiser") & any_layer
        & activations((Activation.TANH, Activation.SIGMOID, Activation.SELU)),
        "INI203": initializers(kaiming, "a Kaiming initialiser") & any_layer & relu,
        "INI204": layers(lambda e: e.default_weight_init is not None, "a layer with a default init") & relu,
        "INI301": initializers(constant, "a constant initialiser") & any_layer,
        "INI302": initializers(constant, "a constant initialiser") & any_layer,
        "INI303": _named([e for e in catalogue.INITIALIZERS if tf_factory(e)], "a TF/Keras initialiser object")
        & (layers(lambda e: e.framework is Framework.KERAS, "a Keras layer")
           | words("Variable", "get_variable", "add_weight", why="a variable created by hand")),
        # what consumes a key: jax.random.* (matched by module path in the rule: the text spells
        # jax.random, `from jax import random` or an alias of jax's `.random`; numpy's and Python's
        # random, everywhere in Keras' tests, are not it), a model's .init/.init_with_output (with a
        # key jax.random made, or one stored on self), or an initialiser returned by a JAX factory
        "INI304": (words("random", why="random") & module("jax")
                   & (_JAX_RANDOM | words("init", "init_with_output", why="a model's init")))
        | initializers(jax_factory, "a JAX initialiser factory"),
        "INI401": initializers(normal_sampler, "a standard-normal sampler"),
        "INI402": initializers(default_can_harm, "a normal/uniform initialiser"),
        # a literal scale on a layer whose fan-in the code shows; custom initialisers are judged by
        # the sampler inside them. An initialiser named by a string has arguments only in Keras'
        # serialised form, {'class_name': ..., 'config': {...}} (a bare 'zeros' or 'identity' is
        # torch's padding mode or timm's activation as often)
        # A sampler (torch.rand, jax.random.normal) counts only inside a hand-written initialiser,
        # which only an initialiser argument can name: a layer's (Keras, Flax, MXNet: no torch layer
        # takes one), initialize(init=...), self.param(name, init, ...), add_weight/get_variable
        "INI403": (initializers(non_sampler, "an initialiser", strings=False)
                   | initializers(non_sampler, "an initialiser") & words("config", why="a serialised initialiser's config")
                   | initializers(sampler, "a sampler") & (
                       layers(lambda e: bool(e.weight_init_kwarg or e.bias_init_kwarg), "a layer with an init argument")
                       | words("initialize", "add_weight", "get_variable", why="an initialiser argument")
                       | pattern(rb"\.param" + GAP + rb"\(", "Flax's self.param")))
        & any_layer,
        "INI404": initializers(kaiming, "a Kaiming initialiser"),
        "INI501": initializers(raises_on_vectors, "an initialiser that raises on vectors"),
        "INI502": initializers(applied_in_place, "an in-place initialiser") & layers(
            lambda e: e.lazy, "a lazy layer"),
        # only in init functions: those applying an in-place init, or passed to .apply()
        "INI503": layers(why="a layer type") & words("type", "__class__", why="type(m) or m.__class__")
        & (initializers(applied_in_place, "an in-place initialiser") | words("apply")),
    }


def requirement_of(rule) -> Optional[Requirement]:
    """What a file must mention for ``rule`` (a Rule class or instance) to fire; None when the rule
    declares nothing (it then runs on every file)."""
    cls = rule if isinstance(rule, type) else type(rule)
    declared = cls.__dict__.get("requires")
    if declared is not None:
        return declared
    return rule_requirements().get(cls.code)


# -- matching -----------------------------------------------------------------------------------------

# bytes.translate table: identifier characters stay, everything else (non-ASCII bytes too) splits words
_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_SPLIT_WORDS = bytes(c if c in _WORD_BYTES else 0x20 for c in range(256))


# the words of the last large text split (``_words_of``), as one tuple (text, words, folded words)
_LAST_WORDS: tuple = (None, frozenset(), frozenset())
_REMEMBERED = 2048  # bytes: a file's text, not the few words of its project imports


def _words_of(data: bytes) -> Tuple[FrozenSet[bytes], FrozenSet[bytes]]:
    """The distinct words of ``data``, as written and in lower case. A file's text is asked for by
    the engine's prefilter and then by the project's gates (``project/view.py``): its words are
    kept from the first to the next (the same bytes object)."""
    last = _LAST_WORDS
    if last[0] is data:
        return last[1], last[2]
    tokens = frozenset(data.translate(_SPLIT_WORDS).split())
    # the distinct words folded at C speed (a few thousand, against every word of the text)
    folded = frozenset(b" ".join(tokens).lower().split())
    if len(data) >= _REMEMBERED:
        _remember_words(data, tokens, folded)
    return tokens, folded


def _remember_words(data: bytes, tokens: FrozenSet[bytes], folded: FrozenSet[bytes]) -> None:
    global _LAST_WORDS
    _LAST_WORDS = (data, tokens, folded)  # one tuple: another thread sees the old one or this one


class Prefilter:
    """``prefilter(source, package)``: can ``source`` hold a finding of any of these rules?

    The text is cut into words at C speed (``bytes.translate`` + ``split``), then the requirements
    are evaluated on the vocabulary words found: about 10 ms per MB, against ~3 s per MB to parse."""

    def __init__(self, requirements: Sequence[Optional[Requirement]]) -> None:
        self.requirements = tuple(ANYTHING if r is None else r for r in requirements)
        self.keeps_everything = any(r is ANYTHING for r in self.requirements)
        self.words, self.folded = _union(self.requirements)
        # most files meet no requirement: each is first asked for one word it cannot do without
        self._checks = tuple((r, _trigger(r)) for r in self.requirements)
        self._kinds = frozenset().union(*map(_shape_kinds, self.requirements))
        self._searched: Tuple[bytes, dict] = (b"", {})  # the last text the patterns searched, and what they found

    def found(self, source: Union[str, bytes], package: Optional[str] = None,
              text: Optional[bytes] = None) -> Found:
        """What ``source`` mentions; ``text``: what a ``Pattern`` reads (default: the source)."""
        return self._found(source_bytes(source), package, text)

    def _in_code(self, tree: ast.AST, data: bytes, package: Optional[str], extra: bytes) -> Found:
        """What the code of ``data`` mentions (``tree``: CPython's tree of it), and the nodes its
        shapes read."""
        by_kind: Optional[Dict[type, List[ast.AST]]] = {kind: [] for kind in self._kinds} if self._kinds else None
        found = self._found(code_words(tree, by_kind) + b" " + extra, package, data, tree)
        last, searched = self._searched
        return replace(found, by_kind=by_kind, searched=searched if last is data or last == data else None)

    def _in_text(self, data: bytes, package: Optional[str], extra: bytes = b"") -> Found:
        searched: dict = {}
        found = self._found(data, package, extra=extra)
        self._searched = (found.source, searched)  # one tuple: another thread sees the old pair or this one
        return replace(found, searched=searched)

    def _found(self, data: bytes, package: Optional[str], text: Optional[bytes] = None,
               tree: Optional[ast.AST] = None, extra: bytes = b"") -> Found:
        """What ``data`` followed by the words ``extra`` mentions (``text``: what patterns read, by
        default the same)."""
        tokens, folded = _words_of(data)
        if extra:  # a line apart, so the words are those of each
            more, more_folded = _words_of(extra)
            tokens, folded = tokens | more, folded | more_folded
            data = data + b"\n" + extra
        parts = _package_parts(package)
        return Found(frozenset(tokens & self.words), frozenset(folded & self.folded), parts[0] if parts else None,
                     data, data if text is None else text, frozenset(parts), tree)

    def __call__(self, source: Union[str, bytes], package: Optional[str] = None,
                 tree: Optional[ast.AST] = None, extra: bytes = b"") -> bool:
        """Does ``source`` meet some requirement (``kept``)? ``extra``: words the file stands for
        beyond its text (what its project imports are), in both stages."""
        if self.keeps_everything:
            return True
        return any(self.kept(source, package, tree, extra))

    def kept(self, source: Union[str, bytes], package: Optional[str] = None, tree: Optional[ast.AST] = None,
             extra: bytes = b"", met: Optional[Tuple[bool, ...]] = None) -> Tuple[bool, ...]:
        """Per requirement: met on the text (``met``, when the caller has asked already) and, with
        ``tree`` (CPython's AST of ``source``), on the names and strings of its code alone too (what
        comments and docstrings mention no longer counts: about a fifth of the files the text keeps)."""
        met = self.met(source, package, extra) if met is None else met
        if tree is not None and any(met):
            met = tuple(a and b for a, b in zip(met, self.met_in_code(tree, source, package, extra)))
        return met

    def met(self, source: Union[str, bytes], package: Optional[str] = None,
            extra: bytes = b"", known: Optional[Tuple[bool, ...]] = None) -> Tuple[bool, ...]:
        """Per requirement, in order: does ``source`` (with the ``extra`` words) meet it? A rule whose
        requirement a file does not meet cannot fire there (each rule's requirement is tested for
        soundness on its own), so the engine runs only the rules a file meets
        (``engine.rules_to_run``). ``known``: what the text alone met, asked again with ``extra``:
        more words meet at least as much, so only the rest is evaluated (a pattern searches the
        text and the words again)."""
        found = self._in_text(source_bytes(source), package, extra)
        if known is not None:
            return tuple(was or _meets(r, trigger, found) for was, (r, trigger) in zip(known, self._checks))
        return tuple(_meets(r, trigger, found) for r, trigger in self._checks)

    def met_in_code(self, tree: ast.AST, source: Union[str, bytes], package: Optional[str] = None,
                    extra: bytes = b"") -> Tuple[bool, ...]:
        """``met`` on the names and strings of the code alone (``tree``: CPython's tree of
        ``source``), which patterns still read the text of and shapes read the tree of."""
        found = self._in_code(tree, self._text(source, extra), package, extra)
        return tuple(_meets(r, trigger, found) for r, trigger in self._checks)

    @staticmethod
    def _text(source: Union[str, bytes], extra: bytes) -> bytes:
        data = source_bytes(source)
        return data + b"\n" + extra if extra else data


Trigger = Tuple[FrozenSet[bytes], FrozenSet[bytes], FrozenSet[bytes]]


def _meets(requirement: Requirement, trigger: Optional[Trigger], found: Found) -> bool:
    if trigger is not None and trigger[0].isdisjoint(found.words) and trigger[1].isdisjoint(found.folded) \
            and trigger[2].isdisjoint(found.package_parts):
        return False
    return requirement.met_by(found)


def _trigger(requirement: Requirement) -> Optional[Trigger]:
    """(words, lower-case words, package components) one of which a file must show for
    ``requirement`` to be met; None where there is no such set (a ``Pattern``, or a term met by
    every file). Only ever a necessary condition: it saves evaluating the rest."""
    if isinstance(requirement, Words):
        return requirement.words, requirement.folded, frozenset()
    if isinstance(requirement, Quoted):
        return frozenset(), requirement.strings, frozenset()
    if isinstance(requirement, Root):
        return requirement.roots, frozenset(), requirement.roots
    if isinstance(requirement, Spelled) and requirement.parts:
        part = frozenset(requirement.parts[:1])  # every part is needed: the first will do
        return part, frozenset(), part
    if isinstance(requirement, All):  # any term's: the smallest
        found = [t for t in map(_trigger, requirement.terms) if t is not None]
        return min(found, key=lambda t: sum(map(len, t))) if found else None
    if isinstance(requirement, Any) and requirement.terms:  # every term's
        found = [_trigger(t) for t in requirement.terms]
        if any(t is None for t in found):
            return None
        return tuple(frozenset().union(*parts) for parts in zip(*found))  # type: ignore[return-value]
    return None


@lru_cache(maxsize=1024)
def _package_parts(package: Optional[str]) -> Tuple[bytes, ...]:
    return tuple(part.encode("ascii", "replace") for part in package.split(".")) if package else ()


@lru_cache(maxsize=64)
def prefilter_for(rules: Tuple[type, ...]) -> Prefilter:
    """The prefilter of a selection of rules (Rule classes)."""
    return Prefilter([requirement_of(rule) for rule in rules])


def code_words(tree: ast.AST, gather: Optional[Dict[type, List[ast.AST]]] = None) -> bytes:
    """The identifiers a module's code uses (names, attributes, imported modules and names) and the
    string constants shaped like a name (``'glorot_uniform'``; every string name the catalogue
    accepts is an identifier, a test holds it to that), quoted, as text the prefilter can read.
    A superset of what libcst's ``Name`` nodes and simple strings hold: it is the same source, and
    the AST folds ``'he_' 'normal'``. Comments and docstrings are left out. ``gather``: lists by
    node kind (not ``Name``/``Constant``), filled with the tree's nodes of those kinds on the way."""
    out: List[str] = []
    add = out.append
    stack = [tree]
    pop, push, extend = stack.pop, stack.append, stack.extend
    fields_of = _AST_FIELDS
    while stack:  # ast.walk's order does not matter here, and its generators cost more than the rest
        node = pop()
        kind = type(node)
        if kind is ast.Name:
            add(node.id)
            continue
        if kind is ast.Constant:
            if type(node.value) is str and node.value.isidentifier():
                add(repr(node.value))
            continue
        if kind is ast.Attribute:
            add(node.attr)
        elif kind is ast.alias:
            add(node.name)
            if node.asname:
                add(node.asname)
        elif kind is ast.ImportFrom:
            if node.module:
                add(node.module)
        if gather is not None:
            bucket = gather.get(kind)
            if bucket is not None:
                bucket.append(node)
        fields = fields_of.get(kind)
        if fields is None:
            fields = fields_of[kind] = _fields(kind)
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                extend(value)  # the odd string or None in a list (Global's names, a dict's **) walks nowhere
            elif value is not None:
                push(value)
    return " ".join(out).encode("utf-8", "surrogatepass")


def _fields(kind: type) -> Tuple[str, ...]:
    """The fields of a node type that can hold words; none for a value that is not a node (a string
    in Global's names, a None among a dict's keys, an ImportFrom's level)."""
    if not (isinstance(kind, type) and issubclass(kind, ast.AST)):
        return ()
    # contexts, operators and type comments hold no word
    return tuple(f for f in kind._fields if f not in ("ctx", "type_comment", "op", "ops"))


_AST_FIELDS: Dict[type, Tuple[str, ...]] = {}


_ASCII_COMPATIBLE = frozenset(codecs.lookup(name).name for name in ("utf-8", "utf-8-sig", "latin-1", "ascii"))


def source_bytes(source: Union[str, bytes]) -> bytes:
    """The source as bytes in which every ASCII word reads as itself: UTF-8 and every other
    ASCII-compatible encoding as they are; a coding cookie naming another codec (``utf-7`` spells
    ``_`` as ``+AF8-``) is decoded and re-encoded."""
    if isinstance(source, str):
        return source.encode("utf-8", "surrogatepass")
    if b"coding" in source[:1024]:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
            if codecs.lookup(encoding).name not in _ASCII_COMPATIBLE:
                return source.decode(encoding, "replace").encode("utf-8", "surrogatepass")
        except (SyntaxError, LookupError, UnicodeError):
            pass
    return source
