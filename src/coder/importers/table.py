"""Speaker tables: CSV/TSV with a header row naming speaker, start, end and text columns.

ELAN's tab-delimited export, CORAAL's ``Line/Spkr/StTime/Content/EnTime`` files and spreadsheets
saved as CSV look like this. The delimiter (tab, comma, semicolon) is sniffed by the stdlib
``csv`` module; the columns are found by their header names (:data:`COLUMNS`, case and
punctuation ignored, an ELAN unit suffix such as ``- hh:mm:ss.ms`` or ``- msec`` too). Times are
seconds, ``h:mm:ss.ms`` clocks, or milliseconds when the header says ``ms``/``msec``. A turn is a
run of rows with the same speaker in file order; pause rows (``(pause 0.28)``) are not speech.
A table with a text column but no speaker column (WhisperX's TSV) is refused.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from coder.errors import InputError
from coder.importers.base import NotATranscript, Turn
from coder.importers.text import is_not_speech, seconds

COLUMNS = {
    "speaker": {"speaker", "spkr", "spk", "speakername", "tier", "tiername", "participant",
                "who", "name", "voice", "говорящий", "спикер"},
    "text": {"text", "content", "transcription", "utterance", "annotation",
             "words", "speech", "текст"},
    "start": {"start", "sttime", "starttime", "begin", "begintime", "from", "onset", "in",
              "timestamp", "time", "начало"},
    "end": {"end", "entime", "endtime", "stop", "stoptime", "to", "offset", "out", "конец"},
}
_UNIT = re.compile(r"\s*-\s*(hh:mm:ss(\.ms)?|ss\.msec|msec|ms|sec)\s*$", re.IGNORECASE)
_PAUSE = re.compile(r"^\(\s*pause\s+\d+(?:\.\d+)?\s*\)$", re.IGNORECASE)
_CLOCK = re.compile(r"^(?:\d{1,3}:)?\d{1,2}:\d{2}(?:[.,]\d+)?$")


def _key(name: str) -> str:
    return re.sub(r"[\W_]+", "", _UNIT.sub("", name).casefold())


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _key(name)
        for role, names in COLUMNS.items():
            if key in names and role not in found:
                found[role] = index
    return found


def _dialect(text: str):
    first = text.split("\n", 1)[0]
    for delimiter in ("\t", ";", ","):
        if first.count(delimiter) >= 1:
            try:
                return csv.Sniffer().sniff(first, delimiters=delimiter)
            except csv.Error:
                continue
    return None


def looks_like(text: str) -> bool:
    """The first line is a header with a text column and a speaker or time column."""
    dialect = _dialect(text)
    if dialect is None:
        return False
    header = next(csv.reader([text.split("\n", 1)[0]], dialect), [])
    found = _columns(header)
    return "text" in found and ("speaker" in found or "start" in found)


def parse(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """CSV/TSV text → (unmerged turns, one per row, no metadata)."""
    dialect = _dialect(text)
    rows = csv.reader(io.StringIO(text), dialect) if dialect else iter(())
    header = next(rows, [])
    found = _columns(header)
    if "text" not in found:
        raise NotATranscript(path, "a table without a text column (a participants file?)",
                             "give a participants file with --meta; a transcript table needs "
                             "columns such as speaker, start, end, text", line=1)
    if "speaker" not in found:
        raise InputError(path, "the table has no speaker column (no speaker information)",
                         "add a `speaker` column, or export the transcript with diarization "
                         "or speaker names", line=1)
    millis = {role: bool(re.search(r"\b(ms|msec)\b", header[i], re.IGNORECASE))
              for role, i in found.items() if role in ("start", "end")}
    turns: list[Turn] = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = _getter(row)
        speaker, words = cell(found["speaker"]), cell(found["text"])
        if not words or _PAUSE.match(words) or is_not_speech(words):
            continue
        if not speaker:
            raise InputError(path, "row without a speaker", "fill in the speaker column",
                             line=number)
        start = _time(path, cell(found["start"]), millis.get("start"), number) \
            if "start" in found else None
        end = _time(path, cell(found["end"]), millis.get("end"), number) \
            if "end" in found else None
        turns.append(Turn(" ".join(speaker.split()), words, start, end, line=number))
    return turns, {}


def _getter(row: list[str]):
    return lambda i: row[i].strip() if i < len(row) else ""


def _time(path: Path, value: str, millis: bool | None, line: int) -> float | None:
    if not value:
        return None
    try:
        if _CLOCK.match(value):
            return seconds(value)
        number = float(value.replace(",", "."))
    except ValueError:
        raise InputError(path, f"unreadable time {value!r}",
                         "give times in seconds (12.5) or as h:mm:ss.ms", line=line) from None
    return number / 1000 if millis else number
