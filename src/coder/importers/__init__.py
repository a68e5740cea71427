"""Transcript parsers, one module per format, and a registry that picks one by content/suffix.

:func:`parse_file` is the entry point: path → :class:`~coder.importers.base.ParsedTranscript`.
"""

from __future__ import annotations

from coder.importers.base import ParsedTranscript, Turn
from coder.importers.registry import SUFFIXES, parse_file

__all__ = ["ParsedTranscript", "Turn", "SUFFIXES", "parse_file"]
