"""The analysis layer: one pass over a module that extracts the facts every rule reads."""

from .facts import FileFacts, analyse  # noqa: F401
