"""Word (.docx) via python-docx: paragraphs ``Label: text``, the label often bold.

Each non-empty body paragraph is one paragraph of the text format (:mod:`coder.importers.text`),
with line number = paragraph index + 1. A paragraph whose leading bold run(s) form a valid
label, followed by more text, is labelled even without a colon (``**Interviewer** Hello``).
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

from coder.errors import InputError
from coder.importers.base import Turn
from coder.importers.text import split_label, turns_from_paragraphs


def is_docx(data: bytes) -> bool:
    """A ZIP archive holding ``word/document.xml``."""
    return data[:2] == b"PK" and b"word/document.xml" in data


def parse(path: Path, data: bytes) -> tuple[list[Turn], dict[str, str]]:
    """DOCX bytes → (unmerged turns, no metadata)."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    # python-docx surfaces a broken package as any of several zip/XML/key errors.
    except Exception:  # noqa: BLE001
        raise InputError(path, "not a valid Word file",
                         "open it in Word or LibreOffice and save it again as .docx") from None
    blocks = []
    for index, paragraph in enumerate(document.paragraphs):
        text = unicodedata.normalize("NFC", paragraph.text).replace("\r", "\n")
        if text.strip():
            blocks.append((index + 1, _bold_label(paragraph, text)))
    return turns_from_paragraphs(blocks), {}


def _bold_label(paragraph, text: str) -> str:
    """Add the colon to a bold label written without one, so the text rule sees it."""
    if split_label(text.split("\n", 1)[0]):
        return text
    bold = ""
    for run in paragraph.runs:
        if not run.bold:
            break
        bold += run.text
    label = bold.strip()
    rest = text[len(bold):].strip() if text.startswith(bold) else ""
    if label and rest and split_label(label + ":"):
        return f"{label}: {rest}"
    return text
