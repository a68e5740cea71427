"""Splitting an imported REFI text source into segments, and placing selections on them.

REFI sources are whole documents, not speaker turns. The rule:

1. **Speaker turns** — the text is read by the same readers as ``coder import``
   (:func:`coder.importers.registry.parse_file`): Otter-style ``Speaker Name  0:23`` blocks
   (QualCoder projects often hold such transcripts, after a preamble of summary and keywords),
   captions, or speaker-labelled text — the last only when labelled lines make up at least a
   fifth of the non-blank lines (:func:`has_speaker_labels`), so comments that happen to hold
   ``Word: …`` stay whole. Each turn the reader returns is then found in the source text, so a
   segment's offsets point at the turn's own text (after ``Label:`` or the Otter header) and
   the source text stays exactly as the other program had it; text before the first turn
   stays in the transcript but is no segment. A selection is placed on every turn it overlaps.
2. **Otherwise** the text is cut at every selection's start and end: each piece inside a
   selection becomes a segment exactly as it is, each stretch between selections becomes a
   segment with its surrounding white space trimmed (none when it is blank). A selection then
   covers a run of whole segments, and its text is ``text[first.char_start:last.char_end]``.

Both keep ``segment.text == transcript.text[char_start:char_end]``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from coder.importers.text import split_label

LABELLED_SHARE = 0.2


@dataclass
class Span:
    start: int
    end: int
    speaker: str | None = None   # None: not a speaker turn (rule 2)
    time_start: float | None = None   # seconds, where the reader found a timestamp
    time_end: float | None = None


def _lines(text: str):
    """``(offset, line)`` for every line of ``text``."""
    offset = 0
    for line in text.split("\n"):
        yield offset, line
        offset += len(line) + 1


def has_speaker_labels(text: str) -> bool:
    """Rule 1's test: ≥ 2 labelled lines, ≥ 20 % of the non-blank lines."""
    lines = [line for _, line in _lines(text) if line.strip()]
    labelled = sum(1 for line in lines if split_label(line))
    return labelled >= 2 and labelled >= LABELLED_SHARE * len(lines)


def speaker_turns(text: str) -> tuple[str, list[Span]] | None:
    """Rule 1: ``(format, turns)`` when a transcript reader finds speaker turns in ``text``
    (from its start, or from its first Otter header after a preamble), else ``None``."""
    from coder.importers import otter

    starts = [0]
    for offset, line in _lines(text):  # an Otter transcript after a preamble (QualCoder)
        if offset and otter.HEADER.match(line) and text[:offset].endswith("\n\n"):
            starts.append(offset)
            break
    for start in starts:
        found = _read_turns(text, start)
        if found is not None:
            return found
    return None


def _read_turns(text: str, start: int) -> tuple[str, list[Span]] | None:
    import tempfile

    from coder.errors import InputError
    from coder.importers.registry import parse_file

    with tempfile.TemporaryDirectory(prefix="coder-refi-") as folder:
        path = Path(folder) / "source.txt"
        path.write_text(text[start:], encoding="utf-8")
        try:
            parsed = parse_file(path)
        except InputError:
            return None
    if parsed.format == "text" and not has_speaker_labels(text[start:]):
        return None
    spans = _locate(text, start, parsed.turns)
    if spans is None or len(spans) < 2:
        return None
    return parsed.format, spans


_BLANKS = re.compile(r"[ \t\u00a0]+")


def _locate(text: str, cursor: int, turns) -> list[Span] | None:
    """Where each turn's text lies in ``text``, searching forward from ``cursor``. The readers
    collapse runs of blanks and trim lines, so the search runs on ``text`` with every run of
    blanks squashed to one space, mapped back to ``text``'s offsets. ``None`` when a turn
    cannot be found."""
    squashed: list[str] = []
    origin: list[int] = []  # offset in ``text`` of each character of the squashed text
    at = 0
    for match in _BLANKS.finditer(text):
        squashed.append(text[at:match.start()])
        origin.extend(range(at, match.start()))
        squashed.append(" ")
        origin.append(match.start())
        at = match.end()
    squashed.append(text[at:])
    origin.extend(range(at, len(text)))
    flat = "".join(squashed)
    position = bisect_right(origin, cursor - 1)  # the first squashed index at or after cursor
    spans: list[Span] = []
    for turn in turns:
        first = last = None
        for line in turn.text.split("\n"):
            line = line.strip()
            if not line:
                continue
            found = flat.find(line, position)
            if found < 0:
                return None
            position = found + len(line)
            first = origin[found] if first is None else first
            last = origin[position - 1] + 1
        if first is not None:
            spans.append(Span(first, last, turn.speaker, turn.start, turn.end))
    return spans


def selection_spans(text: str, ranges: list[tuple[int, int]]) -> list[Span]:
    """Rule 2: pieces of ``text`` cut at every boundary of ``ranges`` (``[start, end)``)."""
    cuts = sorted({0, len(text)} | {p for r in ranges for p in r if 0 <= p <= len(text)})
    covered = _Coverage(ranges)
    spans: list[Span] = []
    for start, end in zip(cuts, cuts[1:]):
        if start == end:
            continue
        if covered.inside(start):
            spans.append(Span(start, end))
            continue
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        if piece.strip():
            spans.append(Span(start + lead, end - trail))
    return spans


class _Coverage:
    """Whether a position lies inside any of a set of ranges (merged, then bisected)."""

    def __init__(self, ranges: list[tuple[int, int]]):
        merged: list[list[int]] = []
        for start, end in sorted(r for r in ranges if r[0] < r[1]):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [m[0] for m in merged]
        self.ends = [m[1] for m in merged]

    def inside(self, position: int) -> bool:
        i = bisect_right(self.starts, position) - 1
        return i >= 0 and position < self.ends[i]


def overlapping(spans: list[tuple[int, int]], start: int, end: int) -> list[int]:
    """Indices of ``spans`` (sorted, non-overlapping ``(start, end)``) that share at least one
    character with ``[start, end)``."""
    starts = [s for s, _ in spans]
    i = max(bisect_right(starts, start) - 1, 0)
    found = []
    while i < len(spans) and spans[i][0] < end:
        if spans[i][1] > start and spans[i][0] < spans[i][1]:
            found.append(i)
        i += 1
    return found
