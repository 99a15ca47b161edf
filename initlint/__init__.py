"""initlint: find weight-initialisation bugs in deep-learning model code."""

__version__ = "0.2.0"

from .engine import SourceError, check_file, check_source  # noqa: E402,F401
from .ftypes import FileError, FileReport, Finding, Settings  # noqa: E402,F401


def __getattr__(name: str):
    """``initlint.verify`` is imported on first use: importing initlint stays free of frameworks and numpy."""
    if name == "verify":
        import importlib

        return importlib.import_module(".verify", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
