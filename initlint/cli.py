"""``initlint`` on the command line: ``initlint check PATH…``, ``initlint verify MODEL.py`` and
``initlint rules [CODE]``.

Exit codes: 0 clean, 1 findings or a file that could not be checked, 2 usage, configuration or
internal error. Start-up imports argparse, libcst and the rules, never a deep-learning framework.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import List, Optional, Sequence, Tuple

from . import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own exit code for usage errors is 2, as ours
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from .formats import FORMATTERS

    parser = _Parser(prog="initlint", description="Find weight-initialisation bugs in deep-learning model code.")
    parser.add_argument("--version", action="version", version=f"initlint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser("check", help="check Python files statically (never imports them)",
                                description="Check Python files and directories for weight-initialisation bugs.")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                       help="files or directories (default: the current directory)")
    check.add_argument("--select", action="append", metavar="CODES",
                       help="only these codes or prefixes, comma-separated (replaces the configured selection)")
    check.add_argument("--extend-select", action="append", metavar="CODES",
                       help="also these codes or prefixes (e.g. off-by-default INI204)")
    check.add_argument("--ignore", action="append", metavar="CODES", help="skip these codes or prefixes")
    check.add_argument("--exclude", action="append", metavar="GLOB", default=[],
                       help="skip files and directories matching this glob (repeatable; adds to the configuration)")
    check.add_argument("--format", choices=sorted(FORMATTERS), default="text", help="output format (default: text)")
    check.add_argument("--jobs", "-j", metavar="N", help="processes to use; 0 (the default): one per CPU")
    check.add_argument("--no-cache", action="store_true",
                       help="check every file again, neither reading nor writing the results cache")
    check.add_argument("--no-project", action="store_true",
                       help="check each file alone: do not resolve imports between the modules of its project")
    check.add_argument("--cache-dir", metavar="DIR",
                       help="where results are cached (default: .initlint_cache beside pyproject.toml, "
                            "else in the working directory)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when something was found")
    check.add_argument("--config", metavar="FILE", help="read settings from this TOML file")
    check.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    check.add_argument("--quiet", "-q", action="store_true", help="print findings and errors only, no summary")
    check.add_argument("--fix", action="store_true",
                       help="apply safe fixes in place (atomically), then report what is left")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix or --diff: also apply fixes that change the numbers the model starts from")
    check.add_argument("--diff", action="store_true",
                       help="print the fixes as a unified diff instead of writing them (exit 1 if there are any)")
    check.add_argument("--per-file-ignores", action="append", metavar="GLOB:CODES",
                       help="ignore these codes in files matching GLOB, e.g. 'tests/*:INI3,INI401' (repeatable; "
                            "adds to the configuration's per-file-ignores)")
    check.add_argument("--statistics", action="store_true",
                       help="print how many findings each rule has instead of the findings")
    check.add_argument("--show-source", action="store_true",
                       help="print the source line of each finding under it, with a caret at the column")
    check.add_argument("--output-file", "-o", metavar="FILE", help="write the findings to FILE instead of stdout")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour the text output: auto (on a terminal, unless NO_COLOR is set), always, never")
    check.add_argument("--stdin-filename", metavar="NAME",
                       help="with the path `-` (source on stdin): the file name to report and to match the "
                            "configuration against")
    check.set_defaults(run=_check)

    verify = commands.add_parser("verify", help="build a model and confirm its initialisation with statistics",
                                 description="Import MODEL.py, build its model (PyTorch, Keras or Flax), and test every "
                                             "parameter tensor against its declared initialiser (INI601-INI608).")
    from .verify.command import add_arguments as verify_arguments  # argparse only: no framework, no numpy

    verify_arguments(verify)
    verify.set_defaults(run=_verify)

    rules = commands.add_parser("rules", help="list the rules, or explain one",
                                description="List every rule, or print one rule's documentation.")
    rules.add_argument("code", nargs="?", metavar="CODE",
                       help="a rule code (INI101), a prefix (INI2: list those rules) or a rule name (xavier-under-relu)")
    rules.add_argument("--markdown", action="store_true", help="print the whole rules.md")
    rules.add_argument("--runtime", action="store_true",
                       help="list the runtime checks of `initlint verify` (INI601-INI608) instead")
    rules.set_defaults(run=_rules)

    server = commands.add_parser("server", help="run the language server (LSP over stdio) for editors",
                                 description="A Language Server over stdio: check's findings on the editor's "
                                             "buffer, quick fixes, and the rules' documentation on hover. "
                                             "Needs `pip install 'initlint[server]'`.")
    server.set_defaults(run=_server)
    return parser


def _codes(values: Optional[List[str]]) -> Optional[List[str]]:
    return None if values is None else [part for value in values for part in value.split(",")]


def _check(args: argparse.Namespace) -> int:
    from .config import ConfigError, apply_overrides, load_config, parse_jobs, runtime_only
    from .formats import FORMATTERS, CheckResult, summary

    try:
        _refuse_conflicts(args)
        config = load_config(args.config, isolated=args.isolated)
        config = apply_overrides(
            config,
            select=_codes(args.select),
            extend_select=_codes(args.extend_select),
            ignore=_codes(args.ignore),
            exclude=args.exclude,
            jobs=None if args.jobs is None else parse_jobs(args.jobs),
            per_file_ignores=args.per_file_ignores,
        )
    except ConfigError as exc:
        print(f"initlint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    runtime = runtime_only(config.settings.select | config.settings.extend_select)
    if runtime:  # selected, but only `initlint verify` can report them
        print(f"initlint: warning: {', '.join(runtime)}: runtime check{'s' * (len(runtime) != 1)} of `initlint "
              "verify`; `initlint check` never reports them", file=sys.stderr)

    for stream in (sys.stdout, sys.stderr):  # a message with "±" on a latin-1 terminal must not crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if args.paths == ["-"]:
        return _check_stdin(args, config)
    if args.fix or args.diff:
        changed, failed = _apply_fixes(args, config)
        if args.diff:  # no check follows: what would change, or could not be read, decides
            return EXIT_FINDINGS if (changed or failed) and not args.exit_zero else EXIT_CLEAN
    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty())
    reports = check_paths_with_progress(args, config, progress)
    result = CheckResult(reports, unsafe_fixes=args.unsafe_fixes)
    _write_output(args, result)
    if args.format == "text":
        for error in result.errors:
            print(error.text(), file=sys.stderr)
        if not result.reports and not args.quiet:
            print(f"initlint: warning: no Python files or notebooks found in {' '.join(args.paths)}",
                  file=sys.stderr)
        elif not args.quiet:
            print(summary(result), file=sys.stderr)
            from .textout import fix_hint

            hint = fix_hint(result)
            if hint and not args.fix:
                print(hint, file=sys.stderr)
    if args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if result.findings or result.errors else EXIT_CLEAN


def _refuse_conflicts(args: argparse.Namespace) -> None:
    """Flag combinations that cannot mean what they say are usage errors, not silent choices."""
    from .config import ConfigError

    if args.diff and args.format != "text":
        raise ConfigError(f"--diff prints a unified diff; it cannot be combined with --format {args.format}")
    if args.statistics and args.format in ("sarif", "github"):
        raise ConfigError(f"--statistics prints counts as text or json, not {args.format}")
    if args.stdin_filename and args.paths != ["-"]:
        raise ConfigError("--stdin-filename names the source read from stdin: give the path `-`")
    if "-" in args.paths and args.paths != ["-"]:
        raise ConfigError("`-` (read the source from stdin) cannot be mixed with other paths")


def check_paths_with_progress(args: argparse.Namespace, config, progress: "_Progress"):
    from .runner import check_paths

    try:
        return check_paths(args.paths, config.settings, jobs=config.jobs, exclude=config.exclude,
                           cache=_open_cache(args, config), progress=progress.update if progress.enabled else None,
                           project=not args.no_project)
    finally:
        progress.done()


class _Progress:
    """``checked 1,200/2,951 files`` on one stderr line while a long run goes on (a terminal only;
    the line is wiped at the end, so nothing of it is left in the output)."""

    DELAY = 1.0  # a run that ends before this prints nothing

    def __init__(self, enabled: bool) -> None:
        import time

        self.enabled = enabled
        self.start = time.monotonic()
        self.shown = False

    def update(self, done: int, total: int) -> None:
        import time

        if time.monotonic() - self.start < self.DELAY:
            return
        self.shown = True
        sys.stderr.write(f"\rinitlint: checked {done:,}/{total:,} files")
        sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()


def _write_output(args: argparse.Namespace, result) -> None:
    from .formats import FORMATTERS
    from .textout import render_findings, statistics, use_colour

    stream = sys.stdout
    if args.statistics:
        text = statistics(result, args.format)
    elif args.format == "text":
        colour = args.output_file is None and use_colour(args.color, sys.stdout)
        text = render_findings(result, colour=colour, show_source=args.show_source)
    else:
        text = FORMATTERS[args.format](result)
    if args.output_file:
        with open(args.output_file, "w", encoding="utf-8", errors="backslashreplace") as out:
            out.write(text)
        return
    stream.write(text)
    stream.flush()


def _check_stdin(args: argparse.Namespace, config) -> int:
    """``initlint check -``: the source from stdin, reported as ``--stdin-filename`` (or ``-``);
    ``--fix`` prints the fixed source on stdout, ``--diff`` the diff, as ruff does."""
    from .engine import SourceError, report_of
    from .formats import CheckResult, summary
    from .ftypes import FileError, FileReport

    path = args.stdin_filename or "-"
    data = sys.stdin.buffer.read()
    view = _stdin_project(args, config, path)
    if args.fix or args.diff:
        if path.endswith(".ipynb"):  # --stdin-filename nb.ipynb: the notebook's cells, its JSON kept
            from .notebook_fix import fix_notebook as fix_source
        else:
            from .fixer import fix_source

        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            print(FileError(path, f"cannot decode: {exc}").text(), file=sys.stderr)
            return EXIT_FINDINGS
        fixed = fix_source(text, path, config.settings, unsafe=args.unsafe_fixes,
                           **({"project": view} if view is not None else {}))
        if fixed.error is not None and not fixed.unparsable:
            print(FileError(path, fixed.error).text(), file=sys.stderr)
        if args.diff:
            sys.stdout.write(fixed.diff())
            return EXIT_FINDINGS if (fixed.changed or fixed.error) and not args.exit_zero else EXIT_CLEAN
        sys.stdout.write(fixed.fixed)
        data = fixed.fixed.encode("utf-8")
    try:
        report = report_of(data, path, config.settings, project=view)
    except SourceError as exc:
        report = FileReport(path, error=FileError(path, str(exc), exc.line, exc.column))
    result = CheckResult([report], unsafe_fixes=args.unsafe_fixes)
    if args.fix:  # stdout holds the fixed source: what is left goes to stderr
        for finding in result.findings:
            print(finding.text(), file=sys.stderr)
    else:
        _write_output(args, result)
    if args.format == "text" or args.fix:
        for error in result.errors:
            print(error.text(), file=sys.stderr)
        if not args.quiet and not args.fix:
            print(summary(result), file=sys.stderr)
    if args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if result.findings or result.errors else EXIT_CLEAN


def _stdin_project(args: argparse.Namespace, config, path: str):
    """The project view of the file ``--stdin-filename`` names (an editor's buffer of it): the
    source read from stdin is checked and fixed with its project, as the file would be."""
    if args.no_project or path == "-" or path.endswith(".ipynb"):
        return None
    from .project import Projects

    cache = _open_cache(args, config)
    return Projects(cache.directory if cache is not None else None, tuple(config.exclude)).view(path)


def _open_cache(args: argparse.Namespace, config):
    """The results cache of this run, or None (``--no-cache``)."""
    if args.no_cache:
        return None
    from .cache import Cache, default_directory

    return Cache.open(args.cache_dir or default_directory(config.source), config.settings)


def _apply_fixes(args: argparse.Namespace, config) -> Tuple[int, int]:
    """Fix every file (or print the diff); returns how many files changed and how many failed."""
    from .ftypes import FileError
    from .runner import discover, fix_paths

    files, errors = discover(args.paths, config.exclude)  # unreadable paths are reported by the check
    changed = fixed = 0
    failed = len(errors) if args.diff else 0
    if args.diff:
        for error in errors:
            print(error.text(), file=sys.stderr)
    cache = None if args.no_project else _open_cache(args, config)  # where the project's summaries are kept
    results = fix_paths(files, config.settings, unsafe=args.unsafe_fixes, write=not args.diff, jobs=config.jobs,
                        project=not args.no_project, paths=args.paths, exclude=config.exclude,
                        cache_dir=cache.directory if cache is not None else None)
    for path, result in zip(files, results):
        failed += result.error is not None
        # a file that does not parse or read is the check's to report; --diff runs no check
        if result.error is not None and (args.diff or not result.error_is_the_checks):
            print(FileError(path, result.error, *result.error_at).text(), file=sys.stderr)
        if result.changed:
            changed += 1
            fixed += len(result.applied)
            if args.diff:
                sys.stdout.write(result.diff())
    if not args.quiet and args.diff:
        hidden = 0 if args.unsafe_fixes else _hidden_unsafe_fixes(args, config)
        line = f"Would fix {fixed} finding{'s' * (fixed != 1)} in {changed} file{'s' * (changed != 1)}"
        if hidden:
            line += f"; {hidden} more with `--unsafe-fixes` (they change the numbers the model starts from)"
        print(line + ".", file=sys.stderr)
    elif not args.quiet:
        print(f"Fixed {fixed} finding{'s' * (fixed != 1)} in {changed} file{'s' * (changed != 1)}.", file=sys.stderr)
    return changed, failed


def _hidden_unsafe_fixes(args: argparse.Namespace, config) -> int:
    """How many findings only ``--unsafe-fixes`` would fix (a check, served by the cache when warm)."""
    from .runner import check_paths

    reports = check_paths(args.paths, config.settings, jobs=config.jobs, exclude=config.exclude,
                          cache=_open_cache(args, config), project=not args.no_project)
    return sum(f.fix == "unsafe" for report in reports for f in report.findings)


def _server(args: argparse.Namespace) -> int:
    from .server import main as serve

    return serve()


def _verify(args: argparse.Namespace) -> int:
    from .verify.command import run

    return run(args)


def _rules(args: argparse.Namespace) -> int:
    from . import docs
    from .rule import all_rules

    if args.markdown:
        sys.stdout.write(docs.render())
        return EXIT_CLEAN
    rules = all_rules()
    runtime = docs.all_entries()[len(rules):]
    if args.code:
        wanted = args.code.strip()
        by_name = {entry.name: entry for entry in docs.all_entries()}
        exact = by_name.get(wanted.lower()) or next((e for e in docs.all_entries() if e.code == wanted.upper()), None)
        if exact is not None:
            sys.stdout.write(docs.rule_markdown(exact))
            return EXIT_CLEAN
        prefixed = [e for e in docs.all_entries() if e.code.startswith(wanted.upper())] if wanted[:3].upper() == "INI" else []
        if not prefixed:
            print(f"initlint: error: no rule {args.code!r} (a code such as INI101, a prefix such as INI2, or a "
                  "rule name such as xavier-under-relu); `initlint rules` lists them", file=sys.stderr)
            return EXIT_ERROR
        _rule_table(prefixed)
        return EXIT_CLEAN
    if args.runtime:  # INI6xx: reported by `initlint verify`
        _rule_table(runtime)
        return EXIT_CLEAN
    _rule_table(rules)
    if runtime and sys.stderr.isatty():
        print(f"({runtime[0].code}-{runtime[-1].code}, the runtime checks of `initlint verify`: "
              "`initlint rules --runtime`)", file=sys.stderr)
    return EXIT_CLEAN


def _rule_table(entries) -> None:
    """One row per rule under a header: code, name, on/off by default (``verify`` for a runtime
    check), whether ``--fix`` has a fix (safe, unsafe, or -), and the summary as plain text."""
    import re

    from . import docs

    name_width = max((len(e.name) for e in entries), default=4)
    print(f"{'Code':<6}  {'Name':<{name_width}}  {'Default':<7}  {'Fix':<6}  Summary")
    for entry in entries:
        default = "verify" if getattr(entry, "runtime", False) else ("on" if entry.default_enabled else "off")
        fix = getattr(entry, "fix_safety", None) or "-"
        plain = re.sub(r"[`*]", "", docs.summary(entry))
        print(f"{entry.code:<6}  {entry.name:<{name_width}}  {default:<7}  {fix:<6}  {plain}")


def _runtime_code(code: str):
    from .verify.codes import code_by_name

    return code_by_name(code)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `initlint check | head`: the reader left; stop quietly, as other command-line tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FINDINGS
    except Exception:
        print("initlint: internal error (please report it):", file=sys.stderr)
        traceback.print_exc()
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
