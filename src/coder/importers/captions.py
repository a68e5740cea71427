"""Caption files: WebVTT (webvtt-py) and SubRip (srt).

The speaker of a cue line is its Teams voice span ``<v Label>text</v>``, else a ``Label: text``
prefix (Zoom; the label rule of :mod:`coder.importers.text`), else the previous speaker: an
unlabelled cue continues the turn before it. Times are seconds as floats. A cue with no label
before any labelled one is an error rather than silently dropped speech.
"""

from __future__ import annotations

import re
from pathlib import Path

from coder.errors import InputError
from coder.importers.base import Turn
from coder.importers.text import split_label

_TAG = re.compile(r"<[^>\n]*>")
_TIMING = re.compile(r"-->")
_VTT_TIMING = re.compile(r"\s*(\d+:)?\d{2}:\d{2}\.\d{3}\s+-->\s+(\d+:)?\d{2}:\d{2}\.\d{3}(\s|$)")


def looks_like_vtt(text: str) -> bool:
    return text.lstrip().startswith("WEBVTT")


def looks_like_srt(text: str) -> bool:
    return re.match(r"\s*\d+[ \t]*\n[ \t]*\d+:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->", text) is not None


def parse_vtt(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """WebVTT → (unmerged turns, one per labelled cue line, no metadata)."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError
    from webvtt.models import Caption

    try:
        captions = list(webvtt.from_string(text, strict=True))
    except (MalformedFileError, MalformedCaptionError):
        bad = next((n for n, line in enumerate(text.split("\n"), start=1)
                    if "-->" in line and not _VTT_TIMING.match(line)), None)
        raise InputError(path, "not a valid WebVTT file" if bad is None else "malformed cue timing",
                         "start the file with a `WEBVTT` line and give each cue a timing line "
                         "such as `00:00:01.000 --> 00:00:04.000`", line=bad) from None
    lines = _cue_lines(text, len(captions))
    cues = []
    for caption, line in zip(captions, lines):
        parts = []
        for raw, plain in zip(caption.lines, caption.text.split("\n")):
            voice = Caption.VOICE_SPAN_PATTERN.match(raw)
            parts.append((" ".join(voice.group(1).split()) if voice else None, plain))
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
             [(None, _TAG.sub("", part)) for part in sub.content.split("\n")])
            for sub, line in zip(subtitles, lines)]
    return _turns(path, cues), {}


def _turns(path: Path, cues) -> list[Turn]:
    """``(start, end, line, [(voice | None, text line)])`` per cue → one Turn per cue line."""
    turns: list[Turn] = []
    speaker: str | None = None
    for start, end, line, parts in cues:
        for voice, plain in parts:
            label = None if voice else split_label(plain)
            if voice or label:
                speaker, plain = (voice, plain) if voice else label
            elif speaker is None:
                if not plain.strip():
                    continue
                raise InputError(path, "cue has no speaker label",
                                 "begin the first cue with `Name: text` (Zoom) or "
                                 "`<v Name>text</v>` (Teams)", line=line)
            turns.append(Turn(speaker, plain.strip(), start, end, line=line))
    return turns


def _cue_lines(text: str, count: int) -> list[int | None]:
    """Line of each cue's first text line (its timing line + 1), if timings are countable."""
    found = [n + 2 for n, line in enumerate(text.split("\n")) if _TIMING.search(line)]
    return found if len(found) == count else [None] * count
