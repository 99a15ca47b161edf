"""The one core: source text in, findings out. Every front end (CLI, flake8, pre-commit, API) calls it.

Per file: CPython's syntax check and a cheap prefilter (``prefilter.py``: can the text, then the
code's names, hold a finding of the rules that run on it?), one libcst parse, one analysis pass
that extracts the facts every rule reads, each enabled rule over those facts, positions computed
only when something was found (and only as far into the file as the last finding), then ``# noqa``
(flake8's own syntax and matching) applied once, here. The gates before libcst
(``worth_parsing``) serve ``--fix`` too; the cycle collector runs once per file
(``one_collection``).
"""

from __future__ import annotations

import ast
import gc
import os
import symtable
import warnings
from contextlib import contextmanager
from functools import lru_cache
from typing import Callable, List, Optional, Tuple, Union

import libcst as cst

from .analysis import analyse
from .analysis.callsites import reports_of
from .analysis.positions import node_ranges
from .ftypes import FileError, FileReport, Finding, Settings
from .noqa import NoqaFilter
from .parsed_nodes import parsed_nodes
from .prefilter import prefilter_for
from .rule import all_rules


# a bigger file is not checked, only reported (the runner does not even read it): libcst takes
# ~1 GB and over a minute per MB of model code, so a 20 MB generated file would take ~20 GB; the
# largest source file of torch, tensorflow, keras, jax, flax, transformers and timm is 1.4 MB
MAX_FILE_BYTES = 4 * 2**20


def too_large(size: int) -> Optional[str]:
    """Why a file of ``size`` bytes is not checked, or None."""
    if size <= MAX_FILE_BYTES:
        return None
    return f"too large to check: {size / 2**20:.1f} MiB (the limit is {MAX_FILE_BYTES / 2**20:g} MiB)"


class SourceError(Exception):
    """The source cannot be checked: it does not decode or does not parse. ``line``/``column``
    (1-based) say where, when the parser said."""

    def __init__(self, message: str, line: Optional[int] = None, column: Optional[int] = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@lru_cache(maxsize=64)
def _enabled_rules(settings: Settings) -> Tuple[object, ...]:
    return tuple(rule(dict(settings.options)) for rule in all_rules() if settings.enabled(rule.code, rule.default_enabled))


def _rules_for(settings: Optional[Settings], path: str) -> Tuple[object, ...]:
    """The rules that run on ``path``: those enabled for it, less the ones that skip test files."""
    rules = _enabled_rules((settings or Settings()).for_path(path))
    if is_test_file(path):
        rules = tuple(rule for rule in rules if not rule.skip_test_files)
    return rules


TreeSource = Union[None, ast.AST, Callable[[], ast.AST]]


def tree_of(tree: TreeSource) -> Optional[ast.AST]:
    """CPython's tree from a ``TreeSource``: the tree, or the function that makes it (called now)."""
    return tree() if callable(tree) else tree


def rules_to_run(source, settings: Optional[Settings] = None, path: str = "<string>",
                 tree: TreeSource = None, project=None) -> Tuple[object, ...]:
    """The rules that run on ``path`` and whose prefilter requirement ``source`` (``str`` or
    ``bytes``) meets, on its text and (``tree``: CPython's tree of it, or a function that makes it,
    called only where the text leaves a question) on the names and strings of its code; decided
    without libcst (see ``prefilter.py``). A rule left out certainly cannot fire on this file; none
    left: the file is not worth parsing. ``project``: the file's ``ProjectView``: the words of what
    the file imports from its project count as written in it (``from .backend import keras``, a
    layer class of another module, see ``prefilter_words``)."""
    rules = _rules_for(settings, path)
    if not rules:
        return ()
    prefilter = prefilter_for(tuple(type(rule) for rule in rules))
    package = package_of(path)
    met = prefilter.met(source, package)
    extra = b""
    if project is not None and not all(met):
        extra = project.prefilter_words(tree=tree, data=source, package=package) or b""
        if extra:  # requirements ask for words and text patterns: more text meets at least as many
            met = prefilter.met(source, package, extra, known=met)
    if any(met):  # the names and strings of the code, without comments and docstrings: CPython's tree
        met = prefilter.kept(source, package, tree_of(tree), extra, met)
    return tuple(rule for rule, keep in zip(rules, met) if keep)


def might_hold_findings(source, settings: Optional[Settings] = None, path: str = "<string>",
                        tree: TreeSource = None, project=None) -> bool:
    """Can ``source`` (``str`` or ``bytes``) hold a finding of the rules that run on ``path``?
    False means it certainly cannot (``rules_to_run`` leaves no rule)."""
    return bool(rules_to_run(source, settings, path, tree, project))


def parse(source) -> cst.Module:
    """libcst's tree of a source CPython's parser has accepted (``syntax_check``)."""
    try:
        with parsed_nodes():  # libcst's construction without its validation: see parsed_nodes.py
            return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:  # CPython accepted it (syntax_check): libcst's own limit
        raise SourceError(f"libcst cannot parse it (CPython can): at line {exc.raw_line}, "
                          f"column {exc.raw_column + 1}", exc.raw_line, exc.raw_column + 1) from None
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"cannot decode: {exc}") from None
    except RecursionError:
        raise SourceError("too deeply nested to parse") from None
    except Exception as exc:  # e.g. NUL bytes, bad coding cookies, libcst's own limits
        raise SourceError(f"cannot parse: {type(exc).__name__}: {exc}") from None


def syntax_check(source, path: str) -> ast.Module:
    """CPython's AST of ``source``; ``SourceError`` if CPython's parser refuses it."""
    try:
        with warnings.catch_warnings():  # the user's SyntaxWarnings are not ours to print
            warnings.simplefilter("ignore")
            return compile(source, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        raise SourceError(f"syntax error at line {exc.lineno}, column {exc.offset}: {exc.msg}",
                          exc.lineno, exc.offset) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot parse: {exc}") from None
    except (RecursionError, MemoryError):
        raise SourceError("too deeply nested to parse") from None


def syntax_valid(source, path: str) -> None:
    """``SourceError`` if CPython's parser refuses ``source``, as ``syntax_check`` words it, for a
    file whose tree nothing asks for (the prefilter's text leaves no rule): CPython's parser and
    symbol table without building Python's tree of it (about 60% of ``syntax_check``'s time over
    the benchmark corpus). The symbol table refuses a little more than the parser (``def f(x):
    global x``); what it refuses is asked of ``syntax_check`` again, so that the verdict and its
    words are the parser's, whatever the prefilter decided."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            symtable.symtable(source, path, "exec")
        return
    except Exception:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError, decoding
        pass
    syntax_check(source, path)


@lru_cache(maxsize=4096)
def _package_of_dir(directory: str) -> Optional[str]:
    """The dotted package a directory is, found by walking up through ``__init__.py`` files."""
    parts = []
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        parts.append(os.path.basename(directory))
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return ".".join(reversed(parts)) or None


def package_of(path: str) -> Optional[str]:
    """The package a file's relative imports are resolved against (``timm/layers/x.py`` -> ``timm.layers``)."""
    if not path or path.startswith("<"):
        return None
    return _package_of_dir(os.path.dirname(os.path.abspath(path)))


def is_test_file(path: str) -> bool:
    """pytest's default ``python_files``: test_*.py and *_test.py."""
    name = os.path.basename(path)
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def located_reports(module: cst.Module, path: str, settings: Settings, noqa: bool = True,
                    code: Optional[str] = None, project=None, reparser=None, rules=None,
                    tree: Optional[ast.Module] = None) -> list:
    """``(rule, report, finding)`` for every report that survives ``# noqa``, positioned. ``code``:
    the module's text, when the caller has it (``module.code`` regenerates it from the tree).
    ``project``: the file's ``ProjectView`` (what the other modules of its project export).
    ``reparser``: the ``reparse.Reparser`` that assembled ``module``; it has its nodes' positions.
    ``rules``: the rules to run (``rules_to_run``); None: every rule that runs on ``path``.
    ``tree``: CPython's tree of the same source, if the caller has it (positions come cheaper)."""
    settings = settings.for_path(path)
    rules = _rules_for(settings, path) if rules is None else rules
    if not rules:
        return []
    facts = analyse(module, package_of(path), project)
    pending = [(rule, report) for rule in rules for report in reports_of(facts, rule)]
    if not pending:
        return []
    nodes = [report.node for _, report in pending]
    positions = reparser.node_ranges(module, nodes) if reparser is not None else None
    if positions is None:
        positions = node_ranges(module, nodes, tree)
    suppress = NoqaFilter(module.code if code is None else code).suppressed if noqa else (lambda line, rule: False)
    located = []
    for rule, report in pending:
        where = positions.get(report.node)
        if where is None or suppress(where[0][0], rule.code):
            continue
        (line, column), (end_line, end_column) = where
        fix = (report.fix.safety or rule.fix_safety) if report.fix is not None else None  # a fix may be less safe
        finding = Finding(path, line, column + 1, end_line, end_column + 1,
                          rule.code, rule.name, rule.format(report), report.framework, fix)
        located.append((rule, report, finding))
    return located


def check_module(module: cst.Module, path: str, settings: Settings, noqa: bool = True,
                 code: Optional[str] = None, project=None, reparser=None, rules=None,
                 tree: Optional[ast.Module] = None) -> List[Finding]:
    located = located_reports(module, path, settings, noqa, code, project, reparser, rules, tree)
    return sorted({finding for _, _, finding in located})


# libcst nests an ``a and b and ...`` chain one level per term, and a dotted name one level per
# dot, where CPython keeps one flat BoolOp and one string: from ~6,000 terms libcst's native parser
# overflows its stack and the process dies (SIGSEGV)
MAX_FLAT_TERMS = 4_000


def _within_libcsts_reach(source, tree: ast.Module) -> None:
    """``SourceError`` for what CPython accepts but would crash libcst's parser."""
    data = source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass")
    # the text first, at C speed: a file without thousands of and/or cannot hold such a chain
    if data.count(b"and") + data.count(b"or") >= MAX_FLAT_TERMS:
        for node in ast.walk(tree):
            if type(node) is ast.BoolOp and len(node.values) > MAX_FLAT_TERMS:
                word = "and" if type(node.op) is ast.And else "or"
                _too_flat(f"an `{word}` chain of {len(node.values):,} terms", node.lineno)
    # dotted names live in import statements: only statements are walked, not expressions, and
    # only in a file with thousands of dots
    statements = list(tree.body) if data.count(b".") >= MAX_FLAT_TERMS else []
    while statements:
        node = statements.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
            longest = max(name.count(".") for name in names)
            if longest > MAX_FLAT_TERMS:
                _too_flat(f"a dotted name of {longest + 1:,} parts", node.lineno)
        else:
            statements.extend(child for child in ast.iter_child_nodes(node)
                              if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)))


def _too_flat(what: str, line: int) -> None:
    raise SourceError(f"too deeply nested to parse: {what} at line {line} (libcst's parser takes up to "
                      f"{MAX_FLAT_TERMS:,})", line, 1)


def _text(source, module: cst.Module) -> str:
    """The module's text as ``module.code`` would give it, decoded from the source instead."""
    if isinstance(source, str):
        return source
    try:
        text = source.decode(module.encoding)
    except (UnicodeDecodeError, LookupError):
        return module.code
    return text[1:] if text.startswith("\ufeff") else text


@contextmanager
def one_collection():
    """Python's cycle collector paused while one file is checked, then run once over what the file
    left. Its automatic runs are triggered by allocations, and a kept file's check allocates
    millions of objects (CPython's tree, libcst's tree, the analysis): about 40 runs per file, each
    walking every object still alive, a fifth of the whole check (one process over the benchmark
    corpus: 39 CPU s -> 31, best of several runs). The analysis leaves no cycle that holds the tree
    (a binding points at its scope weakly: a test holds it to that), so a file's objects are freed
    by reference counting when its check returns, and the one run at the end, over what is left of
    the youngest generation, costs next to nothing; it is there so that a cycle, should one come
    back, costs the memory of one file and not of the run. Nothing changes if the caller has the
    collector off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)  # the youngest generation: everything allocated since the pause


def check_source(source, path: str = "<string>", settings: Optional[Settings] = None,
                 noqa: bool = True, prefilter: bool = True, project=None, reparser=None) -> List[Finding]:
    """Findings for one source text (``str`` or ``bytes``). Raises ``SourceError`` if it cannot be parsed.
    ``noqa=False`` leaves ``# noqa`` to the caller (flake8 applies it itself); ``prefilter=False``
    parses and analyses even a file whose text shows it cannot hold a finding (for tests).
    ``project``: the file's ``project.ProjectView``: imports between the project's modules are
    resolved through their summaries (None: the file alone). ``reparser``: a ``reparse.Reparser``
    that has seen the earlier versions of this source (the language server's buffers): only what
    changed is parsed again, to the same tree."""
    with one_collection():
        return _check_source(source, path, settings or Settings(), noqa, prefilter, project, reparser)


def worth_parsing(source, path: str, settings: Settings, prefilter: bool = True, project=None) -> bool:
    """The gates before libcst, for a check and for a fix alike: ``SourceError`` if CPython's
    parser refuses ``source`` or libcst's would crash on it; False if its text and the names of its
    code show it cannot hold a finding of the rules that run on ``path`` (``prefilter=False``: no
    such shortcut); True: parse it."""
    return _gates(source, path, settings, prefilter, project)[0] is not None


def _gates(source, path: str, settings: Settings, prefilter: bool, project):
    """``worth_parsing``, as ``(tree, rules)``: CPython's tree of a source worth parsing (None for
    one that is not) and the rules to run on it (``rules_to_run``; None: all, without a prefilter)."""
    # CPython's own parser first: ~12x faster than libcst, the grammar the user's Python runs, and
    # a guard: libcst's native parser overflows its stack (SIGSEGV) on nesting CPython refuses.
    # Its tree only where the prefilter asks for it (most files' text leaves no rule): the others
    # are only validated (``syntax_valid``), which costs less
    if not prefilter:
        tree = syntax_check(source, path)
        _within_libcsts_reach(source, tree)
        return tree, None
    made: List[ast.AST] = []

    def make() -> ast.AST:
        if not made:
            made.append(syntax_check(source, path))
        return made[0]

    rules = rules_to_run(source, settings, path, make, project)
    if not rules:
        if not made:
            syntax_valid(source, path)
        return None, ()
    tree = make()
    _within_libcsts_reach(source, tree)
    return tree, rules


def _check_source(source, path: str, settings: Settings, noqa: bool, prefilter: bool, project=None,
                  reparser=None) -> List[Finding]:
    tree, rules = _gates(source, path, settings, prefilter, project)
    if tree is None:
        return []
    module = parse(source) if reparser is None else reparser.parse(source, tree, parse)
    return check_module(module, path, settings, noqa, _text(source, module) if noqa else None, project, reparser,
                        rules, tree)


def report_of(data: bytes, path: str, settings: Optional[Settings] = None, prefilter: bool = True,
              project=None) -> FileReport:
    """The report of a file whose bytes are ``data``: a ``.ipynb`` notebook as the program of its
    code cells (``notebook.py``), any other file as Python (with its ``project`` view, if any).
    Raises ``SourceError`` as ``check_source``."""
    if path.endswith(".ipynb"):
        from .notebook import check_notebook

        return check_notebook(data, path, settings, prefilter)
    return FileReport(path, tuple(check_source(data, path, settings, prefilter=prefilter, project=project)))


def check_file(path: str, settings: Optional[Settings] = None, cache=None, prefilter: bool = True,
               projects=None) -> FileReport:
    """Check one file (a ``.ipynb`` notebook too); every failure becomes a ``FileError``, never an
    exception. ``cache``: a ``cache.Cache`` that answers for content it has seen checked and learns
    the rest. ``projects``: a ``project.Projects``: the file is checked as part of its project (None:
    alone)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return FileReport(path, error=FileError(path, f"cannot read: {exc.strerror or exc}"))
    view = projects.view(path) if projects is not None else None
    key = None
    if cache is not None:
        key = cache.key(data, path, projects)
        cached = cache.get(key, path, projects)
        if cached is not None:
            return cached
    try:
        report = report_of(data, path, settings, prefilter, view)
    except SourceError as exc:
        report = FileReport(path, error=FileError(path, str(exc), exc.line, exc.column))
    except RecursionError:
        return FileReport(path, error=FileError(path, "too deeply nested to analyse"))
    except Exception as exc:  # an internal error on one file must not lose the others
        return FileReport(path, error=FileError(path, f"internal error: {type(exc).__name__}: {exc}"))
    if key is not None:
        deps = view.dependencies() if view is not None else None
        if view is None or deps is not None:  # a project check whose dependencies are unknown is not kept
            cache.put(key, report, deps)
    return report
