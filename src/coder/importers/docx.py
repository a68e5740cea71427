"""Word (.docx) via python-docx: the layouts Word, Teams, Google Meet and Otter.ai write.

Each non-empty body paragraph is one paragraph of the text format (line number = paragraph
index + 1; line breaks inside a paragraph are kept as lines):

- ``Label: text`` paragraphs, the label often bold, even without a colon (``**Interviewer**
  Hello``) — :mod:`coder.importers.text`;
- Microsoft Teams and Otter.ai: a header ``Name   0:04`` then the turn's lines, in the same
  paragraph (Teams) or the next ones (Otter) — :mod:`coder.importers.otter`; Teams' ``… started
  transcription`` / ``… stopped transcription`` lines are not speech;
- Google Meet's "Notes by Gemini": the notes tab comes first and is not speech: everything up
  to the ``📖 Transcript`` heading is dropped; time-mark paragraphs (``00:00:11``) give the next
  turn its start; the ``Transcription ended after …`` footer is dropped.
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

from coder.errors import InputError
from coder.importers import otter
from coder.importers.base import Turn
from coder.importers.text import split_head, split_label, turns_from_paragraphs

# Google Meet puts a book emoji before the heading of the transcript tab.
_MEET_TRANSCRIPT = re.compile(r"^\W{0,3}\s*(?:transcript|transkript|transcription|transcripción"
                              r"|стенограмма|транскрипт|расшифровка)\s*$", re.IGNORECASE)


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
    return parse_blocks(blocks), {}


def parse_blocks(blocks: list[tuple[int, str]]) -> list[Turn]:
    """Paragraphs ``(line, text)`` of a Word-like document → unmerged turns."""
    blocks = _after_meet_notes(blocks)
    labelled = sum(1 for _, block in blocks if split_head(block.split("\n", 1)[0]))
    if otter.headed_blocks(blocks) > labelled:
        return otter.parse_blocks(blocks)
    return turns_from_paragraphs(blocks)


def _after_meet_notes(blocks: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Google Meet: only what follows the transcript tab's heading (``📖 Transcript``)."""
    for i, (_, block) in enumerate(blocks):
        if "\n" not in block and _MEET_TRANSCRIPT.match(block.strip()):
            return blocks[i + 1:]
    return blocks


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
