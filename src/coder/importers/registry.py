"""Pick a parser by content as well as suffix, run it, and merge same-speaker turns.

Detection, first match wins:

1. ``.docx`` suffix, or ZIP magic ``PK`` holding ``word/document.xml`` → docx;
2. (after decoding) a ``WEBVTT`` first line → vtt; a cue number line then a ``-->`` timing
   line at the top → srt;
3. first block headed ``Speaker Name  0:23`` / ``1:02:03``, as are most blocks → otter;
4. ``---`` on the first line (front matter) → markdown;
5. the suffix: ``.vtt``, ``.srt``, ``.md``/``.markdown``, ``.txt`` → that format;
6. any line starting with a speaker label → text; otherwise "unknown format".
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from coder.errors import InputError
from coder.importers import captions, docx, markdown, otter, text
from coder.importers.base import ParsedTranscript, clean, decode, merge_turns
from coder.safeio import check_office_zip

SUFFIXES = frozenset({".txt", ".md", ".markdown", ".docx", ".vtt", ".srt"})

_PARSERS = {
    "text": text.parse,
    "otter": otter.parse,
    "markdown": markdown.parse,
    "vtt": captions.parse_vtt,
    "srt": captions.parse_srt,
}
_BY_SUFFIX = {".txt": "text", ".md": "markdown", ".markdown": "markdown",
              ".vtt": "vtt", ".srt": "srt"}
_CAPTIONS = {"vtt", "srt"}
# PDF, ZIP (not Word), legacy .doc/.xls (OLE2), RTF's cousins are text and fall through.
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def parse_file(path: Path, encoding: str | None = None) -> ParsedTranscript:
    """Read one transcript file into merged turns.

    ``encoding`` overrides the UTF-8/UTF-16 detection of :func:`~coder.importers.base.decode`
    (ignored for .docx). Raises :class:`~coder.errors.InputError` for an unreadable, empty,
    binary, undecodable or unrecognized file, malformed front matter, or no turns found.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})", "check the path") from None
    if not data.strip():
        raise InputError(path, "empty file", "export the transcript again, or remove the file")
    if path.suffix.lower() == ".docx" or docx.is_docx(data):
        fmt = "docx"
        check_office_zip(path, data, "Word file", "open it in Word or LibreOffice and save it "
                         "again as .docx")
        turns, meta = docx.parse(path, data)
    elif data.startswith(_BINARY_MAGIC):
        raise InputError(path, "binary file, not a transcript",
                         "export it as .docx or plain text (.txt) and import that")
    else:
        content = decode(path, data, encoding)
        if not content.strip():
            raise InputError(path, "empty file", "export the transcript again, or remove the file")
        fmt = detect(path, content)
        turns, meta = _PARSERS[fmt](path, content)
    merged = merge_turns(turns, sep=" " if fmt in _CAPTIONS else "\n\n")
    for turn in merged:  # merge_turns made these Turn objects: change them in place
        turn.text = clean(turn.text)
    merged = [t for t in merged if t.text]
    if not merged:
        raise InputError(path, f"no turns found (read as {fmt})",
                         "start each turn with a speaker label, e.g. `Interviewer: …` "
                         "and `KZ-01: …`")
    return ParsedTranscript(path=path, format=fmt, turns=merged, meta=meta,
                            sha256=hashlib.sha256(data).hexdigest())


def detect(path: Path, content: str) -> str:
    """The format of decoded ``content``: text | otter | markdown | vtt | srt."""
    if captions.looks_like_vtt(content):
        return "vtt"
    if captions.looks_like_srt(content):
        return "srt"
    if otter.looks_like(content):
        return "otter"
    if content.split("\n", 1)[0].strip() == "---":
        return "markdown"
    by_suffix = _BY_SUFFIX.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    if text.looks_like(content):
        return "text"
    raise InputError(path, "unknown format",
                     "give a .txt, .md, .docx, .vtt or .srt transcript with speaker labels "
                     "(`Name: text`)")
