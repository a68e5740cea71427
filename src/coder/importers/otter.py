"""Otter.ai and Teams-style headers: a line ``Speaker Name  0:23`` (or ``1:02:03``), then text.

Hand-written: no library reads Otter's plain-text export. The same layout is what Otter's and
Microsoft Teams' Word exports hold (the header, then the turn's lines, often in one paragraph).
``start`` is the header's timestamp in seconds; ``end`` is None, because these exports give no
end time (we do not invent one from the next turn's start). Footers such as ``Transcribed by
https://otter.ai`` and ``… stopped transcription`` are dropped, as are lines before the first
header (a title, a date).
"""

from __future__ import annotations

import re
from pathlib import Path

from coder.importers.base import Turn
from coder.importers.text import is_not_speech, paragraphs, seconds, strip_time_marks

HEADER = re.compile(
    r"^(?P<speaker>[^\s:,;!?\"][^:,;!?\"]{0,39}?)[ \t]+(?P<time>(?:\d{1,3}:)?\d{1,2}:\d{2})\s*$")

__all__ = ["HEADER", "looks_like", "parse", "parse_blocks", "seconds"]


def parse(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """Otter export → (unmerged turns, no metadata).

    A header counts only at the start of a block (after a blank line or at the top), so a text
    line ending in a time ("we met at 10:30") stays text.
    """
    return parse_blocks(paragraphs(text)), {}


def parse_blocks(blocks: list[tuple[int, str]]) -> list[Turn]:
    """``(line, block)`` pairs → turns; a block whose first line is a header opens a turn."""
    turns: list[Turn] = []
    for number, block in blocks:
        lines = block.split("\n")
        header = HEADER.match(lines[0].strip())
        if header:
            turns.append(Turn(" ".join(header["speaker"].split()), "",
                              seconds(header["time"]), None, line=number))
            lines = lines[1:]
        elif not turns:
            continue
        kept = [strip_time_marks(line).strip() for line in lines if not is_not_speech(line)]
        kept = [line for line in kept if line]
        if not kept:
            continue
        last = turns[-1]
        body = "\n".join(kept)
        last.text = f"{last.text}\n\n{body}" if last.text and not header else \
            (f"{last.text}\n{body}" if last.text else body)
    return turns


def headed_blocks(blocks: list[tuple[int, str]]) -> int:
    """How many blocks start with a header."""
    return sum(1 for _, block in blocks if HEADER.match(block.split("\n", 1)[0].strip()))


def looks_like(text: str) -> bool:
    """The first non-blank line is a header, and so is the first line of most blocks."""
    head = text.lstrip()
    if not HEADER.match(head[:head.find("\n")].strip() if "\n" in head else head.strip()):
        return False  # the answer for most files, without splitting the whole text
    blocks = [b.strip().split("\n", 1)[0] for b in re.split(r"\n\s*\n", text) if b.strip()]
    if not blocks or not HEADER.match(blocks[0].strip()):
        return False
    headed = sum(1 for first in blocks if HEADER.match(first.strip()))
    return headed * 2 >= len(blocks)
