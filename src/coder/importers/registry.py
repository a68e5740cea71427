"""Pick a parser by content as well as suffix, run it, and merge same-speaker turns.

Detection, first match wins:

1. ``.docx`` suffix, or ZIP magic ``PK`` holding ``word/document.xml`` → docx (Word, Teams,
   Google Meet, Otter);
2. other binary files are refused: a legacy Word ``.doc`` (OLE2) with the hint to save it as
   .docx, PDF, other ZIP archives;
3. (after decoding; HTML honours the charset it declares) JSON → WhisperX, Rev.com or
   Amberscript by shape; a ``WEBVTT`` first line → vtt; a cue number line then a ``-->``
   timing line at the top → srt; an HTML page → html;
4. a Zoom chat log (``HH:MM:SS<TAB>Name:<TAB>message``) is refused: it is not a transcript;
5. a header row naming a text column and a speaker or time column → table (CSV/TSV);
6. first block headed ``Speaker Name  0:23`` / ``1:02:03``, as are most blocks → otter;
7. ``---`` on the first line (front matter) → markdown;
8. the suffix: ``.vtt``, ``.srt``, ``.md``/``.markdown``, ``.txt``, ``.json``, ``.csv``/``.tsv``,
   ``.html``/``.htm`` → that format;
9. any line starting with a speaker label → text; otherwise "unknown format".

After parsing, consecutive turns of one speaker are merged (SPEC §3), and every choice the
user should know about becomes a warning on :class:`ParsedTranscript` (unlabelled cues given to
a neighbouring speaker).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from coder.errors import InputError
from coder.importers import (
    captions, docx, htmlpage, markdown, otter, speech_json, table, text,
)
from coder.importers.base import NotATranscript, ParsedTranscript, clean, decode, merge_turns
from coder.safeio import check_office_zip

SUFFIXES = frozenset({".txt", ".md", ".markdown", ".docx", ".vtt", ".srt", ".json", ".csv",
                      ".tsv", ".html", ".htm"})
# Files a folder import passes over without a word (what a study folder usually also holds).
QUIET_SUFFIXES = frozenset({".yaml", ".yml", ".db", ".sqlite", ".qdpx", ".xlsx", ".png", ".jpg",
                            ".jpeg", ".svg", ".wav", ".mp3", ".m4a", ".mp4", ".ogg", ".flac"})

_PARSERS = {
    "text": text.parse,
    "otter": otter.parse,
    "markdown": markdown.parse,
    "vtt": captions.parse_vtt,
    "srt": captions.parse_srt,
    "json": speech_json.parse,
    "table": table.parse,
    "html": htmlpage.parse,
}
_BY_SUFFIX = {".txt": "text", ".md": "markdown", ".markdown": "markdown",
              ".vtt": "vtt", ".srt": "srt", ".json": "json", ".csv": "table", ".tsv": "table",
              ".html": "html", ".htm": "html"}
_CAPTIONS = {"vtt", "srt", "json", "table"}
_OLE2 = b"\xd0\xcf\x11\xe0"
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", _OLE2)
# Zoom's chat export: "00:21:14\tName:\tmessage" (older) or "00:21:14 From Name to Everyone:".
_ZOOM_CHAT = re.compile(r"^\d{1,2}:\d{2}:\d{2}(?:\t[^\t\n]{1,80}:\t| From .{1,80}?:)")


def parse_file(path: Path, encoding: str | None = None) -> ParsedTranscript:
    """Read one transcript file into merged turns.

    ``encoding`` overrides the UTF-8/UTF-16 detection of :func:`~coder.importers.base.decode`
    and a charset an HTML page declares (ignored for .docx). Raises
    :class:`~coder.errors.InputError` for an unreadable, empty, binary, undecodable or
    unrecognized file, malformed front matter, or no turns found — :class:`NotATranscript`
    when the file is readable but is no transcript.
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
    elif data.startswith(_OLE2):
        raise NotATranscript(path, "legacy binary Word/Office file (.doc), not readable",
                             "open it in Word or LibreOffice and save it as .docx or .txt")
    elif data.startswith(_BINARY_MAGIC):
        raise NotATranscript(path, "binary file, not a transcript",
                             "export it as .docx or plain text (.txt) and import that")
    else:
        if encoding is None and htmlpage.looks_like(data[:2048].decode("latin-1")):
            encoding = _declared(path, data)
        content = decode(path, data, encoding)
        if not content.strip():
            raise InputError(path, "empty file", "export the transcript again, or remove the file")
        fmt = detect(path, content)
        turns, meta = _PARSERS[fmt](path, content)
    guessed = sum(1 for t in turns if t.guessed and t.text.strip())
    merged = merge_turns(turns, sep=" " if fmt in _CAPTIONS else "\n\n")
    for turn in merged:  # merge_turns made these Turn objects: change them in place
        turn.text = clean(turn.text)
        # JSON escapes and HTML entities are decoded after decode() normalized the file
        if not unicodedata.is_normalized("NFC", turn.text):
            turn.text = unicodedata.normalize("NFC", turn.text)
        if not unicodedata.is_normalized("NFC", turn.speaker):
            turn.speaker = unicodedata.normalize("NFC", turn.speaker)
    merged = [t for t in merged if t.text]
    if not merged:
        raise InputError(path, f"no turns found (read as {fmt})",
                         "start each turn with a speaker label, e.g. `Interviewer: …` "
                         "and `KZ-01: …`")
    warnings = []
    if guessed:
        warnings.append(f"{path}: {guessed} cue(s) without a speaker label given to the "
                        "speaker before them (or after, at the start) — check them with "
                        "`coder transcripts show`")
    return ParsedTranscript(path=path, format=fmt, turns=merged, meta=meta,
                            sha256=hashlib.sha256(data).hexdigest(), warnings=warnings)


def _declared(path: Path, data: bytes) -> str | None:
    """The charset an HTML page declares, when it is one Python knows and not UTF-8/16."""
    import codecs

    name = htmlpage.declared_charset(data)
    if not name:
        return None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    # A BOM or UTF-8 is read by decode() itself, with its checks.
    return None if codec.startswith(("utf-8", "utf-16", "utf_8", "utf_16")) else codec


def detect(path: Path, content: str) -> str:
    """The format of decoded ``content``: text | otter | markdown | vtt | srt | json | table |
    html."""
    suffix = path.suffix.lower()
    if captions.looks_like_vtt(content):
        return "vtt"
    if captions.looks_like_srt(content):
        return "srt"
    if speech_json.looks_like(content) and (suffix == ".json" or _is_json(content)):
        return "json"
    if htmlpage.looks_like(content):
        return "html"
    if _is_chat(content):
        raise NotATranscript(path, "a Zoom chat log, not an interview transcript",
                             "import the meeting's transcript (the .vtt Zoom saves with the "
                             "recording) instead")
    if table.looks_like(content):
        return "table"
    if otter.looks_like(content):
        return "otter"
    if content.split("\n", 1)[0].strip() == "---":
        return "markdown"
    by_suffix = _BY_SUFFIX.get(suffix)
    if by_suffix:
        return by_suffix
    if text.looks_like(content):
        return "text"
    raise InputError(path, "unknown format",
                     "give a .txt, .md, .docx, .vtt, .srt, .json, .csv or .html transcript with "
                     "speaker labels (`Name: text`)")


def _is_json(content: str) -> bool:
    import json

    try:
        json.loads(content)
    except ValueError:
        return False
    return True


def _is_chat(content: str) -> bool:
    """Most of the first 20 non-blank lines are Zoom chat lines."""
    lines = [line for line in content.split("\n", 200)[:200] if line.strip()][:20]
    return bool(lines) and sum(1 for line in lines if _ZOOM_CHAT.match(line)) * 5 >= 2 * len(lines)
