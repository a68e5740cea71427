"""Speaker-labelled text: paragraphs ``Label: text``; unlabelled paragraphs continue a turn.

The label rule (:func:`split_label`) is shared by the Markdown, Word and caption parsers.
It is hand-written because no library parses free-form speaker labels. A line starts a
new turn when it begins with a *label* and a colon followed by a space or the line end:

- 1–40 characters, starting with a letter; letters, digits, spaces and ``. - ' ’ ( ) # & /``
  only, so sentence punctuation (``, ; ! ? "``) rules a candidate out;
- at most 4 words; a label of several words has every word capitalized (or a digit, ``(``
  or ``#``), except short particles such as ``de``/``van`` (≤ 3 letters) — so
  ``Dr. Smith``, ``Speaker 2``, ``KZ-01``, ``Q`` qualify but ``In my view: …`` does not;
- not a common non-speaker word: ``Note``, ``NB``, ``PS``, ``Source``, ``Date``… (see
  :data:`NOT_LABELS`), so ``Note: …`` inside a turn stays text;
- optionally bold: ``**Label:** text`` and ``**Label**: text`` (``__`` too).

Text before the first labelled line (a title, a date line) is a preamble and is dropped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from coder.importers.base import Turn

_LABEL = re.compile(
    r"""^\s*(?P<b1>\*\*|__)   # the bold marker is required here: (?P=b1) below needs it
        (?P<label>[^\W\d_][\w .'’()\#&/-]{0,39}?)\s*
        (?:(?P=b1)\s*:|:\s*(?P=b1))      # **Label**: or **Label:**
        (?=\s|$)(?P<rest>.*)$
     |^\s*(?P<label2>[^\W\d_][\w .'’()\#&/-]{0,39}?)\s*:(?=\s|$)(?P<rest2>.*)$""",
    re.VERBOSE,
)

NOT_LABELS = frozenset("""
    note notes nb n.b ps p.s pps e.g i.e example examples source sources see also cf
    edit update warning tip important caution reference references link url http https
    date time location place duration title subject topic transcript interview recording
    translation translated comment remark answer question summary abstract keywords
    email e-mail tel phone fax website
""".split())
# "answer"/"question" as whole words only: "Q" and "A" remain labels.


def clean_label(label: str) -> str:
    """Strip surrounding ``**``/``__``, whitespace and a trailing colon from a speaker label."""
    label = label.strip()
    for _ in range(2):
        label = label.strip("*_ \t").rstrip(":").strip()
    return " ".join(label.split())  # = re.sub(r"\s+", " ", label) on stripped text, faster


def split_label(line: str) -> tuple[str, str] | None:
    """``"Dr. Smith: Hello"`` → ``("Dr. Smith", "Hello")``; None when the line has no label."""
    match = _LABEL.match(line)
    if not match:
        return None
    raw, rest = match.group("label", "rest")
    if not raw:
        raw, rest = match.group("label2", "rest2")
    label = _speaker(raw or "")
    if label is None:
        return None
    return label, (rest or "").strip()


@lru_cache(maxsize=4096)
def _speaker(raw: str) -> str | None:
    """The cleaned label when it is a plausible speaker, else None (cached: a transcript
    repeats a handful of labels thousands of times)."""
    label = clean_label(raw)
    return label if label and _plausible(label) else None


def _plausible(label: str) -> bool:
    words = label.split()
    if len(words) > 4 or label.casefold().rstrip(".") in NOT_LABELS:
        return False
    if len(words) == 1:
        return True
    return all(w[0].isupper() or w[0].isdigit() or w[0] in "(#" or (w.isalpha() and len(w) <= 3)
               for w in words) and (words[0][0].isupper() or words[0][0].isdigit())


def paragraphs(text: str, first_line: int = 1) -> list[tuple[int, str]]:
    """Blank-line separated blocks as ``(line number of their first line, block text)``."""
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    start = first_line
    for number, line in enumerate(text.split("\n"), start=first_line):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            blocks.append((start, "\n".join(current)))
            current = []
    if current:
        blocks.append((start, "\n".join(current)))
    return blocks


def turns_from_paragraphs(blocks: list[tuple[int, str]]) -> list[Turn]:
    """Unmerged turns: each labelled line opens a turn; other lines continue the last one.

    Lines of one paragraph are joined with ``\\n``, paragraphs with a blank line.
    """
    turns: list[Turn] = []
    for start, block in blocks:
        for offset, line in enumerate(block.split("\n")):
            found = split_label(line)
            if found:
                turns.append(Turn(found[0], found[1], line=start + offset))
            elif turns:
                last = turns[-1]
                sep = "\n\n" if offset == 0 else "\n"
                last.text = last.text + sep + line.strip() if last.text else line.strip()
    return turns


def parse(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """Speaker-labelled text → (unmerged turns, no metadata)."""
    return turns_from_paragraphs(paragraphs(text)), {}


def looks_like(text: str) -> bool:
    """True when some line of ``text`` starts with a speaker label."""
    return any(split_label(line) for line in text.split("\n") if line.strip())
