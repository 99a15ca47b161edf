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
    check.set_defaults(run=_check)

    verify = commands.add_parser("verify", help="build a model and confirm its initialisation with statistics",
                                 description="Import MODEL.py, build its model (PyTorch, Keras or Flax), and test every "
                                             "parameter tensor against its declared initialiser (INI601-INI607).")
    from .verify.command import add_arguments as verify_arguments  # argparse only: no framework, no numpy

    verify_arguments(verify)
    verify.set_defaults(run=_verify)

    rules = commands.add_parser("rules", help="list the rules, or explain one",
                                description="List every rule, or print one rule's documentation.")
    rules.add_argument("code", nargs="?", metavar="CODE", help="a rule code such as INI101")
    rules.add_argument("--markdown", action="store_true", help="print the whole rules.md")
    rules.add_argument("--runtime", action="store_true",
                       help="list the runtime checks of `initlint verify` (INI601-INI607) instead")
    rules.set_defaults(run=_rules)
    return parser


def _codes(values: Optional[List[str]]) -> Optional[List[str]]:
    return None if values is None else [part for value in values for part in value.split(",")]


def _check(args: argparse.Namespace) -> int:
    from .config import ConfigError, apply_overrides, load_config, parse_jobs
    from .formats import FORMATTERS, CheckResult, summary
    from .runner import check_paths

    try:
        config = load_config(args.config, isolated=args.isolated)
        config = apply_overrides(
            config,
            select=_codes(args.select),
            extend_select=_codes(args.extend_select),
            ignore=_codes(args.ignore),
            exclude=args.exclude,
            jobs=None if args.jobs is None else parse_jobs(args.jobs),
        )
    except ConfigError as exc:
        print(f"initlint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR

    if hasattr(sys.stdout, "reconfigure"):  # a message with "±" on a latin-1 terminal must not crash
        sys.stdout.reconfigure(errors="backslashreplace")
        sys.stderr.reconfigure(errors="backslashreplace")
    if args.fix or args.diff:
        changed, failed = _apply_fixes(args, config)
        if args.diff:  # no check follows: what would change, or could not be read, decides
            return EXIT_FINDINGS if (changed or failed) and not args.exit_zero else EXIT_CLEAN
    result = CheckResult(check_paths(args.paths, config.settings, jobs=config.jobs, exclude=config.exclude,
                                     cache=_open_cache(args, config)))
    sys.stdout.write(FORMATTERS[args.format](result))
    sys.stdout.flush()
    if args.format == "text":
        for error in result.errors:
            print(f"{error.path}: error: {error.message}", file=sys.stderr)
        if not result.reports and not args.quiet:
            print(f"initlint: warning: no Python files or notebooks found in {' '.join(args.paths)}",
                  file=sys.stderr)
        elif not args.quiet:
            print(summary(result), file=sys.stderr)
    if args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if result.findings or result.errors else EXIT_CLEAN


def _open_cache(args: argparse.Namespace, config):
    """The results cache of this run, or None (``--no-cache``)."""
    if args.no_cache:
        return None
    from .cache import Cache, default_directory

    return Cache.open(args.cache_dir or default_directory(config.source), config.settings)


def _apply_fixes(args: argparse.Namespace, config) -> Tuple[int, int]:
    """Fix every file (or print the diff); returns how many files changed and how many failed."""
    from .runner import discover, fix_paths

    files, errors = discover(args.paths, config.exclude)  # unreadable paths are reported by the check
    changed = fixed = 0
    failed = len(errors) if args.diff else 0
    if args.diff:
        for error in errors:
            print(f"{error.path}: error: {error.message}", file=sys.stderr)
    results = fix_paths(files, config.settings, unsafe=args.unsafe_fixes, write=not args.diff, jobs=config.jobs)
    for path, result in zip(files, results):
        failed += result.error is not None
        # a file that does not parse or read is the check's to report; --diff runs no check
        if result.error is not None and (args.diff or not result.error_is_the_checks):
            print(f"{path}: error: {result.error}", file=sys.stderr)
        if result.changed:
            changed += 1
            fixed += len(result.applied)
            if args.diff:
                sys.stdout.write(result.diff())
    if not args.quiet:
        verb = "Would fix" if args.diff else "Fixed"
        print(f"{verb} {fixed} finding{'s' * (fixed != 1)} in {changed} file{'s' * (changed != 1)}.", file=sys.stderr)
    return changed, failed


def _verify(args: argparse.Namespace) -> int:
    from .verify.command import run

    return run(args)


def _rules(args: argparse.Namespace) -> int:
    from . import docs
    from .rule import all_rules, rule_by_code

    if args.markdown:
        sys.stdout.write(docs.render())
        return EXIT_CLEAN
    if args.code:
        rule = rule_by_code(args.code) or _runtime_code(args.code)
        if rule is None:
            known = ", ".join(r.code for r in docs.all_entries())
            print(f"initlint: error: no rule {args.code!r}; known rules: {known}", file=sys.stderr)
            return EXIT_ERROR
        sys.stdout.write(docs.rule_markdown(rule))
        return EXIT_CLEAN
    rules = all_rules()
    runtime = docs.all_entries()[len(rules):]
    name_width = max((len(r.name) for r in tuple(rules) + tuple(runtime)), default=4)
    if args.runtime:  # INI6xx: reported by `initlint verify`
        for code in runtime:
            print(f"{code.code}  {code.name:<{name_width}}  run  {docs.summary(code)}")
        return EXIT_CLEAN
    for rule in rules:
        default = "on " if rule.default_enabled else "off"
        print(f"{rule.code}  {rule.name:<{name_width}}  {default}  {docs.summary(rule)}")
    if runtime and sys.stderr.isatty():
        print(f"({runtime[0].code}-{runtime[-1].code}, the runtime checks of `initlint verify`: "
              "`initlint rules --runtime`)", file=sys.stderr)
    return EXIT_CLEAN


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
