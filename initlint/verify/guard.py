"""Bounds on the user's code while ``initlint verify`` runs it (import, build, initialisation, forward pass).

``UserCode`` is one context manager around all of it:

- **stdout stays ours**: the model's writes to stdout go to stderr, at the Python level (``sys.stdout``) and
  at file descriptor 1 (``os.dup2``, so C and C++ code that prints is redirected too; C stdio buffers are
  flushed before descriptor 1 is given back). ``--format json`` then prints exactly one JSON document.
- **exits are the model's errors**: ``sys.exit()``, ``os._exit()`` (intercepted while the user's code runs, in
  this process only: a forked child keeps the real one) and a ``KeyboardInterrupt`` the code raises itself
  end in exit 2 with its traceback; only a real Ctrl-C (SIGINT) stops initlint with 130.
- **``--timeout``**: a watchdog thread, at the deadline, sends SIGALRM to the main thread, whose handler
  raises ``BuildTimeout`` where the user's code is (a sleep, a blocking call or a torch operation returning
  to Python is interrupted; the traceback shows where it hung). Should the main thread not come back
  within a grace period (C code that blocks signals, or a user ``except BaseException`` that swallows the
  exception), the watchdog prints the message itself and ends the process with ``os._exit(2)``: no report,
  but the promised exit status. C code that holds the GIL and never returns cannot be stopped from inside
  the process at all; run initlint under ``timeout(1)`` for that.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Optional

from .errors import BuildTimeout, Interrupted, OverMemory, UserExit, VerifyError

EXIT_ERROR = 2


def grace_seconds(timeout: float) -> float:
    """How long the main thread gets to unwind after the deadline before the hard exit."""
    return max(2.0, min(10.0, timeout / 10))


def _flush(stream) -> None:
    try:
        if stream is not None:
            stream.flush()
    except (OSError, ValueError, AttributeError):  # a closed or odd stream the user left behind
        pass


def _flush_c_stdio() -> None:
    """fflush(NULL): C code's buffered printf output reaches the descriptor it was meant for now, while 1 is
    still stderr, not at exit after our JSON."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - no C library to ask (Windows)
        pass


def where_stopped(exc: BaseException, what: str) -> Optional[str]:
    """The user's frames where initlint stopped their code (not initlint's frames below them): the last
    one is the line that hung, or allocated too much."""
    import traceback

    from .recording import is_user_file

    frames = traceback.extract_tb(exc.__traceback__)
    users = [i for i, f in enumerate(frames) if is_user_file(f.filename)]
    if not users:
        return None
    return "".join(["Traceback (most recent call last):\n"] + traceback.format_list(frames[users[0]:users[-1] + 1])
                   + [f"({what})\n"])


class StdoutToStderr:
    """The user's writes to stdout go to stderr while active (Python level and descriptor 1)."""

    def __enter__(self) -> "StdoutToStderr":
        self.saved_stdout = sys.stdout
        _flush(sys.stdout)
        _flush(sys.__stdout__)
        _flush_c_stdio()
        try:
            self.saved_fd: Optional[int] = os.dup(1)
            os.dup2(2, 1)
        except OSError:  # no descriptor 1 or 2: only the Python-level redirection
            self.saved_fd = None
        sys.stdout = sys.stderr
        return self

    def __exit__(self, *exc) -> None:
        _flush(sys.stdout)  # whatever the user's code put there
        _flush(sys.__stdout__)  # print(file=sys.__stdout__) is buffered for descriptor 1
        _flush(sys.stderr)
        _flush_c_stdio()
        if self.saved_fd is not None:
            os.dup2(self.saved_fd, 1)
            os.close(self.saved_fd)
        sys.stdout = self.saved_stdout


class UserCode:
    """Around everything that runs the user's code. ``phase`` says what runs now, for the messages."""

    def __init__(self, what: str, timeout: Optional[float] = None, protect_stdout: bool = False):
        if timeout is not None and not timeout > 0:
            raise VerifyError(f"--timeout {timeout:g}: give a positive number of seconds")
        self.what = what  # "model.py" or the builder's name
        self.timeout = timeout
        self.protect_stdout = protect_stdout
        self.phase = "building the model"
        self._lock = threading.Lock()
        self._armed = False
        self._fired = False
        self._done = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._main = threading.main_thread()
        self._redirect: Optional[StdoutToStderr] = None
        self._saved_handlers = {}
        self._real_exit = None

    # --- messages --------------------------------------------------------------------------------

    def timeout_message(self, where: str = "the traceback above shows where") -> str:
        return (f"{self.what}: the model build did not finish within {self.timeout:g} s (--timeout {self.timeout:g}); "
                f"it was stopped while {self.phase}. If it is only slow, raise --timeout; if it hangs, {where}")

    # --- entering and leaving --------------------------------------------------------------------

    def __enter__(self) -> "UserCode":
        in_main = threading.current_thread() is self._main
        if self.timeout is not None and not in_main:
            raise VerifyError("--timeout works only when initlint runs in the main thread (it uses a signal)")
        if self.protect_stdout:
            self._redirect = StdoutToStderr().__enter__()
        if in_main:
            self._install(signal.SIGINT, self._on_sigint)
            if self.timeout is not None and hasattr(signal, "SIGALRM"):
                self._install(signal.SIGALRM, self._on_alarm)
        self._real_exit = os._exit
        pid = os.getpid()
        real_exit = self._real_exit

        def intercepted_exit(code):
            if os.getpid() != pid:  # a child forked by the user's code ends as it asked
                real_exit(code)
            raise UserExit(code)

        os._exit = intercepted_exit
        self._armed = True
        if self.timeout is not None:
            self._thread = threading.Thread(target=self._watch, name="initlint-timeout", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        with self._lock:
            self._armed = False  # from here the watchdog neither signals nor exits
            fired = self._fired
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        os._exit = self._real_exit
        self._restore_handlers(drain_alarm=fired)
        if self._redirect is not None:
            self._redirect.__exit__(None, None, None)
        if exc is None:
            return False
        from .discovery import exit_call, user_traceback

        if isinstance(exc, BuildTimeout):
            raise VerifyError(self.timeout_message(), where_stopped(exc, "stopped here at the deadline")) from None
        if isinstance(exc, OverMemory):
            raise VerifyError(f"{self.what}: {exc.message}", where_stopped(exc, "the allocation refused")) from None
        if isinstance(exc, Interrupted):  # Ctrl-C: initlint stops (exit 130)
            return False
        if isinstance(exc, SystemExit):
            raise VerifyError(f"{self.what}: the model's code called {exit_call(exc)} while {self.phase}",
                              user_traceback(exc)) from None
        if isinstance(exc, KeyboardInterrupt):
            raise VerifyError(f"{self.what}: the model's code raised KeyboardInterrupt while {self.phase}",
                              user_traceback(exc)) from None
        return False

    # --- signals ---------------------------------------------------------------------------------

    def _install(self, signum, handler) -> None:
        try:
            self._saved_handlers[signum] = signal.signal(signum, handler)
        except (ValueError, OSError):  # pragma: no cover - not the main thread after all, or no such signal
            pass

    def _restore_handlers(self, drain_alarm: bool) -> None:
        alarm = getattr(signal, "SIGALRM", None)
        block = drain_alarm and alarm in self._saved_handlers and hasattr(signal, "pthread_sigmask")
        if block:
            # the watchdog's SIGALRM may still be pending for this thread: take it now, or it would arrive
            # under the default action (which ends the process) once the old handler is back
            signal.pthread_sigmask(signal.SIG_BLOCK, {alarm})
            if alarm in signal.sigpending():
                signal.sigwait({alarm})
        try:
            for signum, previous in self._saved_handlers.items():
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        finally:
            self._saved_handlers.clear()
            if block:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {alarm})

    def _on_alarm(self, signum, frame) -> None:
        if self._armed and self._fired:
            raise BuildTimeout(self.timeout_message())

    def _on_sigint(self, signum, frame) -> None:
        raise Interrupted()

    # --- the watchdog thread ---------------------------------------------------------------------

    def _watch(self) -> None:
        if self._done.wait(self.timeout):
            return
        with self._lock:
            if not self._armed:
                return
            self._fired = True
            alarm = getattr(signal, "SIGALRM", None)
            if alarm is not None and alarm in self._saved_handlers:
                signal.pthread_kill(self._main.ident, alarm)
        if self._done.wait(grace_seconds(self.timeout)):
            return
        with self._lock:
            if not self._armed:
                return
            # the main thread did not come back: say why ourselves (straight to descriptor 2: the main
            # thread may hold sys.stderr's lock) and end with the promised status
            message = (f"initlint verify: error: {self.timeout_message('the stack below shows where')}. The "
                       f"model's code did not respond to the interruption (C code that blocks signals, or an "
                       f"`except BaseException` that went on), so initlint exits without a report\n")
            try:
                os.write(2, message.encode("utf-8", "backslashreplace"))
                import faulthandler  # signal-safe, needs no lock the main thread may hold

                faulthandler.dump_traceback(2, all_threads=True)
            except (OSError, ValueError):  # pragma: no cover
                pass
            self._real_exit(EXIT_ERROR)
