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
