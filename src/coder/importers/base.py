"""What every transcript parser produces, and the helpers they share.

A parser turns the decoded text of one file into :class:`ParsedTranscript`: the raw cues or
paragraphs as :class:`Turn` objects (in order, not yet merged), plus front-matter metadata.
:func:`merge_turns` then applies SPEC §3's rule: consecutive turns by the same speaker form one
turn, keeping the first start and the last end time.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from coder.errors import InputError


class NotATranscript(InputError):
    """A readable file that is not an interview transcript (a chat log, a JSON file of another
    shape, a legacy binary document): an error when named, skipped (and listed) in a folder."""


@dataclass
class Turn:
    speaker: str
    text: str
    start: float | None = None
    end: float | None = None
    line: int | None = None  # 1-based source line where the turn starts, for messages
    guessed: bool = False    # an unlabelled cue given to the speaker before (or after) it


@dataclass
class ParsedTranscript:
    path: Path
    format: str                 # text | otter | markdown | docx | vtt | srt
    turns: list[Turn]           # merged turns, in order
    meta: dict[str, str] = field(default_factory=dict)  # front matter, as strings
    sha256: str = ""            # of the file's bytes
    warnings: list[str] = field(default_factory=list)  # what the reader decided for the user


def decode(path: Path, data: bytes, encoding: str | None = None) -> str:
    """Bytes → text, Unicode NFC, with LF line ends and no BOM.

    UTF-8 (with or without BOM) and UTF-16 with BOM are recognized; anything else needs
    ``encoding``. Binary data (NUL bytes in what should be UTF-8) is refused.
    """
    if encoding:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise InputError(path, f"unknown encoding {encoding!r}",
                             "give a Python codec name such as cp1251 or latin-1") from None
        except UnicodeDecodeError as exc:
            raise InputError(path, f"cannot decode byte {exc.start} as {encoding}",
                             "check the --encoding value", line=_line_of(data, exc.start)) from None
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(path, "broken UTF-16 text",
                             "re-save the file as UTF-8") from None
    else:
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        if b"\x00" in data:
            if _looks_utf16(data):
                raise InputError(path, "UTF-16 text without a byte-order mark",
                                 "re-save the file as UTF-8 or pass --encoding utf-16-le")
            raise InputError(path, "binary file, not a transcript",
                             "give a .txt, .md, .docx, .vtt or .srt transcript")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            likely = guess_encoding(data)
            how = (f"it looks like {likely}: pass --encoding {likely}, or re-save the file as "
                   "UTF-8" if likely else
                   "re-save the file as UTF-8 or pass --encoding (e.g. cp1251)")
            raise InputError(path, f"undecodable byte 0x{data[exc.start]:02x} (not UTF-8)",
                             how, line=_line_of(data, exc.start)) from None
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def guess_encoding(data: bytes) -> str | None:
    """The codec charset-normalizer finds most likely for ``data`` (None if it finds none).

    Only a suggestion for the error message: a guess is never used to decode silently.
    """
    from charset_normalizer import from_bytes

    sample = data[:200_000]
    # The code pages of the study's languages (Cyrillic, Armenian, Western) first; any other
    # only when none of them fits.
    best = from_bytes(sample, cp_isolation=list(_LIKELY_CODECS)).best() or from_bytes(sample).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        return None
    return best.encoding.replace("_", "-")


_LIKELY_CODECS = ("cp1251", "koi8_r", "cp866", "mac_cyrillic", "iso8859_5", "cp1252",
                  "iso8859_15", "cp1250", "kz1048", "cp1254")


def _looks_utf16(data: bytes) -> bool:
    """Mostly-ASCII UTF-16 LE: a NUL in (nearly) every odd byte of the first KiB."""
    head = data[:1024]
    return len(head) >= 8 and head[1::2].count(0) >= 0.9 * len(head[1::2]) > head[::2].count(0)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


_SPACE = re.compile(r"[ \t\u00a0]+")


def clean(text: str) -> str:
    """Collapse runs of spaces and trim each line; keep paragraph breaks."""
    # The substitution only runs where it changes something: on already clean text it would
    # replace every single space with itself (a third of a large import's time).
    if "\n" not in text:  # most turns are one paragraph
        if "  " in text or "\t" in text or "\u00a0" in text:
            text = _SPACE.sub(" ", text)
        return text.strip()
    lines = [(_SPACE.sub(" ", line) if "  " in line or "\t" in line or "\u00a0" in line
              else line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def merge_turns(turns: list[Turn], sep: str = " ") -> list[Turn]:
    """Join consecutive turns by the same speaker (SPEC §3): first start, last end.

    ``sep`` joins their texts: a space for caption cues split mid-sentence, a blank line for
    paragraph-based formats.
    """
    merged: list[Turn] = []
    last = None
    for turn in turns:
        text = turn.text.strip()
        if not text:
            continue
        if last is not None and last.speaker == turn.speaker:
            last.text = last.text + sep + text
            if turn.end is not None:
                last.end = turn.end
            if last.start is None:
                last.start = turn.start
        else:
            last = Turn(turn.speaker, text, turn.start, turn.end, turn.line)
            merged.append(last)
    return merged

