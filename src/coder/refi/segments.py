"""Splitting an imported REFI text source into segments, and placing selections on them.

REFI sources are whole documents, not speaker turns. The rule:

1. **Speaker-labelled text** — at least two lines start with a speaker label (the label rule of
   :func:`coder.importers.text.split_label`) and they make up at least a fifth of the non-blank
   lines: the text is split into turns as the text importer does (a labelled line opens a turn,
   the lines after it continue it, consecutive turns of one speaker merge). Text before the
   first label stays in the transcript but is no segment. A segment's offsets point at the
   turn's text, after ``Label:``; a selection is placed on every turn it overlaps.
2. **Otherwise** the text is cut at every selection's start and end: each piece inside a
   selection becomes a segment exactly as it is, each stretch between selections becomes a
   segment with its surrounding white space trimmed (none when it is blank). A selection then
   covers a run of whole segments, and its text is ``text[first.char_start:last.char_end]``.

Both keep ``segment.text == transcript.text[char_start:char_end]``.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from coder.importers.text import split_label

LABELLED_SHARE = 0.2


@dataclass
class Span:
    start: int
    end: int
    speaker: str | None = None   # None: not a speaker turn (rule 2)


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


def speaker_spans(text: str) -> list[Span]:
    """The turns of speaker-labelled ``text`` as spans of their text (labels excluded)."""
    turns: list[Span] = []
    for offset, line in _lines(text):
        found = split_label(line)
        stripped = line.rstrip()
        if found:
            label, rest = found
            start = offset + len(stripped) - len(rest) if rest else None
            turns.append(Span(start if start is not None else -1, offset + len(stripped), label))
        elif stripped.strip() and turns:
            last = turns[-1]
            if last.start < 0:  # the label stood alone on its line
                last.start = offset + len(line) - len(line.lstrip())
            last.end = offset + len(stripped)
    merged: list[Span] = []
    for turn in turns:
        if turn.start < 0:
            continue  # a label with no text
        if merged and merged[-1].speaker == turn.speaker:
            merged[-1].end = turn.end
        else:
            merged.append(turn)
    return merged


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
