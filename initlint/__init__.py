"""initlint: find weight-initialisation bugs in deep-learning model code."""

__version__ = "0.1.0"

from .engine import SourceError, check_file, check_source  # noqa: E402,F401
from .ftypes import FileError, FileReport, Finding, Settings  # noqa: E402,F401
