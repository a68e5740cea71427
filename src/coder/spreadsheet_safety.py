"""Cells that cannot run in a spreadsheet: formula neutralization for CSV and XLSX exports.

Interview text and memos are free text, so a cell may begin with ``=HYPERLINK(…)`` or a DDE
payload such as ``=cmd|' /C calc'!A0``; a spreadsheet that opens the export would run it
(OWASP, "CSV Injection"). Exports therefore never contain a live formula:

- **CSV**: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return gets a leading apostrophe (:func:`neutralize`) — spreadsheets show the apostrophe
  as the "this is text" mark. So that the mark can be told from a real apostrophe, a cell
  that already begins with apostrophes followed by one of those characters gets one more.
  :func:`restore` removes exactly one, so ``coder codings import`` reads back what was
  exported (a memo ``=see p. 4`` survives the round trip).
- **XLSX**: every text cell is written as a string cell (:func:`xlsx_text_cell`), never as a
  formula, and marked ``quotePrefix`` so that editing it in Excel keeps it text; its value
  is the text itself, unchanged.
"""

from __future__ import annotations

from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _needs_mark(text: str) -> bool:
    return text.lstrip("'").startswith(TRIGGERS)


def neutralize(value: Any) -> Any:
    """A CSV cell value: text that a spreadsheet would evaluate, with an apostrophe before it.
    Numbers and other non-text values are returned unchanged."""
    if isinstance(value, str) and _needs_mark(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """The exported text of a CSV cell written by :func:`neutralize` (one apostrophe off)."""
    if text.startswith("'") and _needs_mark(text[1:]):
        return text[1:]
    return text


def xlsx_text_cell(cell, value: Any) -> None:
    """Set an openpyxl ``cell`` to ``value``; text becomes a string cell, never a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if _needs_mark(value):
            cell.quotePrefix = True
