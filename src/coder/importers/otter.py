"""Otter.ai text export: a header line ``Speaker Name  0:23`` (or ``1:02:03``), then the text.

Hand-written: no library reads Otter's plain-text export. ``start`` is the header's timestamp
in seconds; ``end`` is None, because Otter gives no end time (we do not invent one from the
next turn's start). The footer ``Transcribed by https://otter.ai`` is dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from coder.importers.base import Turn

HEADER = re.compile(
    r"^(?P<speaker>[^\s:,;!?\"][^:,;!?\"]{0,39}?)[ \t]+(?P<time>(?:\d{1,3}:)?\d{1,2}:\d{2})\s*$")
_FOOTER = re.compile(r"^\s*transcribed by\s+https?://otter\.ai\s*$", re.IGNORECASE)


def seconds(stamp: str) -> float:
    """``"1:02:03"`` → 3723.0, ``"0:23"`` → 23.0."""
    total = 0
    for part in stamp.split(":"):
        total = total * 60 + int(part)
    return float(total)


def parse(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """Otter export → (unmerged turns, no metadata).

    A header counts only at the start of a block (after a blank line or at the top), so a text
    line ending in a time ("we met at 10:30") stays text. Lines before the first header are
    dropped.
    """
    turns: list[Turn] = []
    previous = ""
    for number, line in enumerate(text.split("\n"), start=1):
        header = HEADER.match(line) if not previous.strip() else None
        previous = line
        if header:
            turns.append(Turn(header["speaker"].strip(), "", seconds(header["time"]), None,
                              line=number))
        elif turns and not _FOOTER.match(line):
            last = turns[-1]
            last.text = f"{last.text}\n{line.strip()}" if last.text else line.strip()
    for turn in turns:
        turn.text = re.sub(r"\n{3,}", "\n\n", turn.text).strip()
    return turns, {}


def looks_like(text: str) -> bool:
    """The first non-blank line is a header, and so is the first line of most blocks."""
    head = text.lstrip()
    if not HEADER.match(head[:head.find("\n")] if "\n" in head else head):
        return False  # the answer for most files, without splitting the whole text
    blocks = [b.strip().split("\n", 1)[0] for b in re.split(r"\n\s*\n", text) if b.strip()]
    if not blocks or not HEADER.match(blocks[0]):
        return False
    headed = sum(1 for first in blocks if HEADER.match(first))
    return headed * 2 >= len(blocks)
