"""The one exception of the runtime half (kept apart so that importing it costs nothing)."""

from __future__ import annotations

from typing import Optional


class VerifyError(Exception):
    """A problem the user must fix (exit 2): the message says what, ``user_traceback`` shows where in
    their own code (None when the problem is not an exception in their code)."""

    def __init__(self, message: str, user_traceback: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.user_traceback = user_traceback


class Stop(BaseException):
    """initlint stopping the user's code (a timeout, a memory limit). A BaseException, so that the user's own
    ``except Exception:`` cannot swallow it; the runner turns it into a VerifyError."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class BuildTimeout(Stop):
    """``--timeout`` ran out while the user's code ran."""


class OverMemory(Stop):
    """An allocation the memory limit does not allow, raised before it is made."""


class NoRoomForWhole(OverMemory):
    """An allocation that would leave too little room to verify the whole model (its forward pass and
    statistics), raised before it is made while verify chooses by itself between the whole model and one
    module at a time: the runner then builds the model on the meta device instead."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C at the terminal (SIGINT), as opposed to the user's code raising KeyboardInterrupt itself: only
    this one stops initlint with 130; the other is the model's error (exit 2)."""


class UserExit(SystemExit):
    """``os._exit(code)`` called by the user's code (intercepted while it runs, so that it cannot end the
    process with no report and a status that means "clean")."""

    how = "os._exit"
