"""``initlint verify MODEL.py``: the command-line front end of the runtime checks.

Exit codes as for ``initlint check``: 0 nothing found, 1 findings, 2 a usage error or a model that
cannot be imported or built (with the user's own traceback on stderr).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import sys
import time

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``verify`` subcommand's options (argparse only: nothing heavy is imported)."""
    parser.epilog = EPILOG
    parser.add_argument("path", metavar="MODEL.py", help="the Python file that builds the model")
    parser.add_argument("--entry", metavar="NAME",
                        help="a function returning the model, or a model object, in the file (default: build_model, "
                             "make_model, create_model or get_model, else the only model object)")
    parser.add_argument("--input-shape", metavar="SHAPE",
                        help="input shape with its batch dimension, e.g. 2,4 or 2,3,32,32 (default: inferred; "
                             "needed by lazy layers and Flax modules)")
    parser.add_argument("--framework", choices=["torch", "keras", "flax"],
                        help="the model's framework (default: from the file's imports and the model's type)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                        help="build and measure on this device (default: cpu)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the build and the sampling (default: 0)")
    parser.add_argument("--format", choices=["text", "json"], default="text", help="output format (default: text)")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="draw each flagged tensor's histogram against its expected density")
    parser.add_argument("--alpha", type=float, default=1e-3,
                        help="family-wise error rate (Holm) or false-discovery rate (bh) across the model "
                             "(default: 0.001)")
    parser.add_argument("--correction", choices=["holm", "bh"], default="holm",
                        help="multiple-testing correction (default: holm)")
    parser.add_argument("--strict", action="store_true",
                        help="also judge framework-default initialisers against the activation (INI605)")
    parser.add_argument("--no-static", action="store_true", help="do not run the static rules on MODEL.py")
    parser.add_argument("--timeout", metavar="SECONDS", type=_seconds,
                        help="stop with exit 2 when importing MODEL.py, building, initialising and running the model "
                             "forward take longer than this in all (default: no limit)")
    parser.add_argument("--max-memory", metavar="SIZE", type=_size, default=-1,
                        help="the memory the model's build may allocate, e.g. 8GiB or 512MiB; an allocation that "
                             "would exceed it stops the build (exit 2) before it is made (default: what the machine "
                             "has available, MemAvailable; none: no check)")
    split = parser.add_mutually_exclusive_group()
    split.add_argument("--per-module", dest="per_module", action="store_const", const=True, default=None,
                       help="build the model on the meta device and verify it one module at a time: each parameter "
                            "made on the CPU by replaying the build's own initialisation, tested and freed (for "
                            "models bigger than memory; default: automatic when the parameters would not fit in "
                            "the memory available, or --max-memory). The forward-pass checks (INI605, INI606) "
                            "need the whole model and do not run")
    split.add_argument("--whole-model", dest="per_module", action="store_const", const=False,
                       help="never verify one module at a time (a model too big for the memory available stops "
                            "with the memory error instead)")
    parser.add_argument("--progress", action="store_true",
                        help="progress of a verification one module at a time (tensors done, ETA) on stderr even "
                             "when stderr is not a terminal")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")


EPILOG = ("verify imports MODEL.py and runs its code, as pytest runs a test file: run it only on code you "
          "trust. It never loads a checkpoint itself. The model's writes to stdout go to stderr, so stdout holds "
          "only the report (one JSON document with --format json); sys.exit(), os._exit() and exceptions in the "
          "model's code end in exit 2 with its traceback.")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of seconds, e.g. 60")
    return value


def _size(text: str):
    from .memory import parse_size  # stdlib only

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def _stdout_to_stderr() -> None:
    """At exit, before the model's ``atexit`` handlers: whatever they print goes to stderr, so
    stdout holds the report and nothing else."""
    try:
        os.dup2(sys.stderr.fileno(), 1)
    except (OSError, ValueError, AttributeError):  # no real descriptors (an embedding host)
        pass
    sys.stdout = sys.stderr


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def _secondary_rank() -> bool:
    """A rank other than 0 of a torch.distributed run (torch only asked if the model imported it)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    from .sharded import distributed, rank

    return distributed(torch) and rank(torch) != 0


def _leave(code: int) -> int:
    """Under torchrun, the end of a rank: every rank waits for the others, the process group is closed,
    and the process exits at once with ``code`` (atexit handlers run, streams flushed) instead of
    through the interpreter's teardown. A rank whose gloo group is still alive at teardown (a device
    mesh keeps it alive after destroy_process_group) was seen to abort in torch's destructors now and
    then ("terminate called without an active exception", exit -6: in 4 of 12 runs of the correct FSDP2,
    TP and DDP fixtures on this machine, none in 54 since), and torchrun then failed the whole run.
    Elsewhere it returns ``code``."""
    torch = sys.modules.get("torch")
    if torch is None:
        return code
    from .sharded import distributed, end_process_group

    if not distributed(torch):
        return code
    end_process_group(torch)
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:  # a closed or replaced stream: nothing left to write
                pass
        os._exit(code)


def run(args: argparse.Namespace) -> int:
    """Run ``initlint verify`` for parsed arguments; returns the exit status."""
    from . import VerifyError
    from .runner import verify_file

    started = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"initlint: {message}", file=sys.stderr, flush=True)

    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
        sys.stderr.reconfigure(errors="backslashreplace")
    try:
        report = verify_file(args.path, entry=args.entry, input_shape=args.input_shape, framework=args.framework,
                             device=args.device, seed=args.seed, alpha=args.alpha, correction=args.correction,
                             strict=args.strict, keep_samples=bool(args.plot), static=not args.no_static,
                             progress=progress, timeout=args.timeout, max_memory=args.max_memory,
                             protect_stdout=True, per_module=args.per_module,
                             ticks=args.progress or _is_terminal(sys.stderr))
    except VerifyError as exc:
        if exc.user_traceback:
            sys.stderr.write(exc.user_traceback)
            if not exc.user_traceback.endswith("\n"):
                sys.stderr.write("\n")
        print(f"initlint verify: error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    if _secondary_rank():  # under torchrun every rank verifies; rank 0 alone reports
        return _leave(EXIT_FINDINGS if report.findings else EXIT_CLEAN)
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(report.text())
    sys.stdout.flush()
    # registered after the model's own handlers, so it runs before them (atexit runs last-in first)
    atexit.register(_stdout_to_stderr)
    if args.plot:
        from .plot import describe_plot, plot, plotted

        written = plot(report, args.plot)
        progress(describe_plot(written, len(plotted(report))) if written
                 else f"nothing flagged to plot; {args.plot} not written")
    build = report.seconds.get("build")
    progress(f"verified in {time.perf_counter() - started:.1f} s" + (f" (build {build:.1f} s)" if build else ""))
    return _leave(EXIT_FINDINGS if report.findings else EXIT_CLEAN)
