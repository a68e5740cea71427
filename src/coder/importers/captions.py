"""Caption files: WebVTT (webvtt-py, lenient) and SubRip (srt).

The speaker of a cue is its voice span ``<v Label>text</v>`` (Teams, noScribe, YouTube), else a
``Label: text`` or ``[SPEAKER_00]: text`` prefix (Zoom, WhisperX; the label rule of
:mod:`coder.importers.text`), else the previous speaker: an unlabelled cue continues the turn
before it and is counted (``Turn.guessed``) so that the import can warn about it. Cues before
the first labelled one go to the first speaker, and are counted the same way; a file with no
label in any cue is refused. Lines after the first in a cue belong to the cue's speaker.

Lenient WebVTT also reads the legacy Teams/Stream timings ``0:0:0.210`` and WhisperX's
``mm:ss.mmm``; a cue whose end precedes its start (a noScribe bug) is read as it is. Voice names
and text are HTML-unescaped (``Far&#237;as`` → ``Farías``); an overlap marker leaking into a
voice (``<v //S02>``) and a trailing colon (``<v Name:>``) are not part of the name, and a cue
that repeats its voice as a text label (``<v Ann:>Ann: Hello``) keeps only the text. Pause cues
such as ``(12 seconds pause)`` are not speech. Times are seconds as floats.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

from coder.errors import InputError
from coder.importers.base import Turn
from coder.importers.text import clean_label, is_not_speech, split_label, strip_time_marks

_TAG = re.compile(r"<[^>\n]*>")
_TIMING = re.compile(r"-->")
_VOICE = re.compile(r"<v(?:\.[\w-]+)*\s+([^>\s][^>]*)>")
_LENIENT_TIMING = re.compile(
    r"\s*(?:\d+:)?\d{1,2}:\d{1,2}[.,]\d{1,3}\s*-->\s*(?:\d+:)?\d{1,2}:\d{1,2}[.,]\d{1,3}(\s|$)")
_NO_SPEAKERS = ("give the cues speaker labels: `Name: text` (Zoom), `<v Name>text</v>` "
                "(Teams) or `[SPEAKER_00]: text` (WhisperX with --diarize)")


def looks_like_vtt(text: str) -> bool:
    return text.lstrip().startswith("WEBVTT")


def looks_like_srt(text: str) -> bool:
    return re.match(r"\s*\d+[ \t]*\n[ \t]*\d+:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->", text) is not None


def parse_vtt(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """WebVTT → (unmerged turns, one per labelled cue line, no metadata)."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    bad = next((n for n, line in enumerate(text.split("\n"), start=1)
                if "-->" in line and not _LENIENT_TIMING.match(line)), None)
    try:
        if bad is not None:
            raise MalformedCaptionError
        captions = list(webvtt.from_string(text))
    except (MalformedFileError, MalformedCaptionError):
        raise InputError(path, "not a valid WebVTT file" if bad is None else "malformed cue timing",
                         "start the file with a `WEBVTT` line and give each cue a timing line "
                         "such as `00:00:01.000 --> 00:00:04.000`", line=bad) from None
    lines = _cue_lines(text, len(captions))
    cues = []
    for caption, line in zip(captions, lines):
        parts = []
        for raw in caption.lines:
            voice = _VOICE.match(raw)
            parts.append((_voice_name(voice.group(1)) if voice else None,
                          html.unescape(_TAG.sub("", raw))))
        cues.append((caption.start_time.in_milliseconds() / 1000,
                     caption.end_time.in_milliseconds() / 1000, line, parts))
    return _turns(path, cues), {}


def parse_srt(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """SubRip → (unmerged turns, one per labelled cue line, no metadata)."""
    import srt

    try:
        subtitles = list(srt.parse(text))
    except (srt.SRTParseError, srt.TimestampParseError) as exc:
        offset = getattr(exc, "expected_start", None)
        raise InputError(path, "not a valid SubRip file",
                         "give each cue a number, a `00:00:01,000 --> 00:00:04,000` line and "
                         "its text, separated by blank lines",
                         line=None if offset is None else text.count("\n", 0, offset) + 1) from None
    lines = _cue_lines(text, len(subtitles))
    cues = [(sub.start.total_seconds(), sub.end.total_seconds(), line,
             [(None, html.unescape(_TAG.sub("", part))) for part in sub.content.split("\n")])
            for sub, line in zip(subtitles, lines)]
    return _turns(path, cues), {}


def _voice_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", html.unescape(raw)).strip()
    name = name.lstrip("/").strip()  # noScribe: "<v //S02>" is S02 speaking over someone
    return clean_label(name)


def _turns(path: Path, cues) -> list[Turn]:
    """``(start, end, line, [(voice | None, text line)])`` per cue → one Turn per cue line."""
    turns: list[Turn] = []
    leading: list[Turn] = []  # unlabelled cues before the first label
    speaker: str | None = None
    labelled = 0
    for start, end, line, parts in cues:
        cue_speaker: str | None = None
        voiced = False
        for index, (voice, plain) in enumerate(parts):
            plain = plain.strip()
            if voice:
                cue_speaker, voiced = voice, True
                if plain.startswith(voice + ":"):  # "<v Ann:>Ann: Hello"
                    plain = plain[len(voice) + 1:].strip()
            elif not voiced:  # inside a voice span a "Word: …" line is text
                label = split_label(plain)
                if label:
                    cue_speaker, plain = label
            if not plain or is_not_speech(plain):
                continue
            plain = strip_time_marks(plain).strip()
            labelled += index == 0 and cue_speaker is not None
            if cue_speaker is not None:
                speaker = cue_speaker
                turns.append(Turn(speaker, plain, start, end, line=line))
            elif speaker is not None:
                turns.append(Turn(speaker, plain, start, end, line=line, guessed=index == 0))
            else:
                leading.append(Turn("", plain, start, end, line=line, guessed=index == 0))
    if speaker is None:
        if not leading:
            return []
        raise InputError(path, "no cue has a speaker label", _NO_SPEAKERS, line=leading[0].line)
    spoken = labelled + sum(1 for t in turns + leading if t.guessed)
    if labelled * 5 < spoken:  # a stray "Word: …" in subtitles is not a speaker
        raise InputError(path, f"only {labelled} of {spoken} cues have a speaker label "
                         f"(the first: {turns[0].speaker!r})", _NO_SPEAKERS, line=turns[0].line)
    if leading:
        first = turns[0].speaker
        for turn in leading:
            turn.speaker = first
        turns = leading + turns
    return turns


def _cue_lines(text: str, count: int) -> list[int | None]:
    """Line of each cue's first text line (its timing line + 1), if timings are countable."""
    found = [n + 2 for n, line in enumerate(text.split("\n")) if _TIMING.search(line)]
    return found if len(found) == count else [None] * count
