"""Speaker-labelled text: paragraphs ``Label: text``; unlabelled paragraphs continue a turn.

The label rule (:func:`split_label`) and the turn-head rule (:func:`split_head`) are shared by
the Markdown, Word, HTML and caption parsers. They are hand-written because no library parses
free-form speaker labels. A line starts a new turn when it begins with a *label* and a colon
followed by a space or the line end:

- 1–40 characters, starting with a letter (any script: ``Интервьюер``, ``Р``); letters,
  digits, spaces and ``. - ' ’ ( ) # & / _`` only, so sentence punctuation (``, ; ! ? "``)
  rules a candidate out;
- at most 4 words; a label of several words has every word capitalized (or a digit, ``(``
  or ``#``), except short particles such as ``de``/``van`` (≤ 3 letters) — so
  ``Dr. Smith``, ``Speaker 2``, ``KZ-01``, ``Q`` qualify but ``In my view: …`` does not;
- not a common non-speaker word: ``Note``, ``NB``, ``PS``, ``Source``, ``Date``… (see
  :data:`NOT_LABELS`), so ``Note: …`` inside a turn stays text;
- optionally bold (``**Label:** text``, ``**Label**: text``, ``__`` too) or bracketed as
  WhisperX writes it (``[SPEAKER_00]: text``).

Around the label, what transcription tools put there (:func:`split_head`):

- a list bullet and a time or time range before it: ``- [00:02.07 - 00:02.51] **Speaker 1**:``
  (SaluteSpeech Markdown), ``[00:01:02] Name: …``;
- a time in parentheses before the colon: ``Speaker 1 (00:03:18):`` (Rev.com);
- a time in brackets after it: ``S01: [00:00:12] …`` (noScribe), and a bold label without a
  colon when a time follows: ``**Emma** [0:00] …``.

Those times become the turn's start (and end); they never stay in the text. A line holding only
a time (``00:00:11``, Google Meet) gives the next turn its start. Lines that are not speech —
pause marks such as ``(12 seconds pause)``, ``{END}``, the footers of Otter, Teams and Meet —
are dropped (:func:`is_not_speech`). Text before the first labelled line (a title, a date line,
a tool's header) is a preamble and is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from coder.importers.base import Turn

_LABEL = re.compile(
    r"""^\s*(?P<b1>\*\*|__)   # the bold marker is required here: (?P=b1) below needs it
        (?P<label>[^\W\d_][\w .'’()\#&/-]{0,39}?)\s*
        (?:(?P=b1)\s*:|:\s*(?P=b1))      # **Label**: or **Label:**
        (?=\s|$)
     |^\s*\[(?P<label3>[^\W\d][\w .'’()\#&/-]{0,39}?)\]:(?=\s|$)   # [SPEAKER_00]:
     |^\s*(?P<label2>[^\W\d_][\w .'’()\#&/-]{0,39}?
         (?:\s+[(\[](?:\d{1,3}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?[)\]])?)   # Rev: "Name (00:03:18):"
        \s*:(?=\s|$)""",
    re.VERBOSE,
)  # the text after the label: line[match.end():], checked for newlines in _split

# h:mm:ss, m:ss, mm:ss.ss, with an optional fraction (comma or dot).
TIME = r"(?:\d{1,3}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_TIME_RANGE = rf"(?P<t1>{TIME})(?:\s*(?:-|–|—|-->)\s*(?P<t2>{TIME}))?"
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,4}[.)])\s+")
_TIME_PREFIX = re.compile(rf"^\s*[\[(]?{_TIME_RANGE}[\])]?\s+")
_TIME_IN_LABEL = re.compile(rf"^(?P<label>.+?)\s+[(\[](?P<t1>{TIME})[)\]]$")
_TIME_AFTER = re.compile(rf"^\s*[\[(](?P<t1>{TIME})[\])](?:\s+|$)")
_BOLD_NO_COLON = re.compile(
    rf"^\s*(?:\*\*|__)(?P<label>[^\W\d_][\w .'’()\#&/-]{{0,39}}?)(?:\*\*|__)\s*"
    rf"[\[(](?P<t1>{TIME})[\])](?:\s+|$)(?P<rest>.*)$")
_BOLD_WRAPPED = re.compile(r"^\s*(\*\*|__)(?P<inner>[^*_\n]{1,60}?)(?:\1\s*:|:\s*\1)\s*(?P<rest>.*)$")
_TIME_ONLY = re.compile(rf"^\s*[\[(]?{_TIME_RANGE}[\])]?\s*$")
# A bracketed time anywhere in the text (noScribe writes one every few minutes): not speech.
TIME_MARK = re.compile(rf"\s*\[{TIME}(?:\s*(?:-|–|-->)\s*{TIME})?\]\s*")

NOT_LABELS = frozenset("""
    note notes nb n.b ps p.s pps e.g i.e example examples source sources see also cf
    edit update warning tip important caution reference references link url http https
    date time location place duration title subject topic transcript interview recording
    translation translated comment remark answer question summary abstract keywords
    email e-mail tel phone fax website attendees participants language speakers
    примечание дата время место длительность язык тема источник
""".split())
# "answer"/"question" as whole words only: "Q" and "A" remain labels.

_NOT_SPEECH = re.compile(
    r"""^\s*(?:
        [(\[]\s*(?:\d+(?:[.,]\d+)?\s*(?:s|sec|secs|seconds?|sek|sekunden|сек|секунд[аы]?)\s*
                  (?:pause|pausa|пауза)?|pause\s+\d+(?:[.,]\d+)?\s*(?:s|sec|seconds?)?
                  |пауза\s+\d+(?:[.,]\d+)?\s*(?:с|сек)?)\s*[)\]]        # (12 seconds pause)
      | [{\[(]\s*(?:end|the\s+end|end\s+of\s+(?:the\s+)?(?:interview|transcript|recording|tape)
                  |конец(?:\s+(?:интервью|записи|стенограммы))?)\s*[}\])]\.?   # {END}
      | transcribed\s+by\s+https?://otter\.ai
      | .{1,80}\s(?:started|stopped)\s+transcription                  # Teams
      | (?:transcription|meeting)\s+ended\s+after\s+\d.*             # Google Meet
      | this\s+editable\s+transcript\s+was\s+computer\s+generated.*  # Google Meet
    )\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


@dataclass
class Head:
    """The start of a turn: its speaker, the text after the label, and times given with it."""

    label: str
    rest: str
    start: float | None = None
    end: float | None = None


def seconds(stamp: str) -> float:
    """``"1:02:03"`` → 3723.0, ``"0:23"`` → 23.0, ``"00:02.07"`` → 2.07, ``"0:01,5"`` → 1.5."""
    stamp = stamp.replace(",", ".")
    total = 0.0
    for part in stamp.split(":"):
        total = total * 60 + float(part)
    return round(total, 3)


def clean_label(label: str) -> str:
    """Strip surrounding ``**``/``__``, whitespace and a trailing colon from a speaker label."""
    label = label.strip()
    for _ in range(2):
        label = label.strip("*_ \t").rstrip(":").strip()
    return " ".join(label.split())  # = re.sub(r"\s+", " ", label) on stripped text, faster


def split_label(line: str) -> tuple[str, str] | None:
    """``"Dr. Smith: Hello"`` → ``("Dr. Smith", "Hello")``; None when the line has no label."""
    found = _split(line)
    return None if found is None else found[:2]


def _split(line: str) -> tuple[str, str, float | None] | None:
    """(label, text after it, the time written inside the label or None)."""
    if ":" not in line:  # most continuation lines: no regex needed
        return None
    match = _LABEL.match(line)
    if not match:
        return None
    raw = match.group("label") or match.group("label2") or match.group("label3") or ""
    rest = line[match.end():]
    newline = rest.find("\n")
    if newline != -1 and newline != len(rest) - 1:
        return None  # a label rules a single line only (a cue of several lines: none)
    start = None
    if raw.endswith((")", "]")):
        timed = _TIME_IN_LABEL.match(raw.strip())
        if timed:  # Rev.com: "Speaker 1 (00:03:18):"
            raw, start = timed["label"], seconds(timed["t1"])
    label = _speaker(raw)
    if label is None:
        return None
    return label, rest.strip(), start


def split_head(line: str) -> Head | None:
    """A turn head with its times (see the module docstring), or None for a text line."""
    first = line[:1]
    if first.isalpha():  # the common case, "Label: text": no bullet, no time before it
        found = _split(line)
        if found is None:
            return None
        return _head(*found, None, None)
    first = line.lstrip()[:1]
    if not first or (first not in _HEAD_START and not first.isalpha()):
        return None
    text = line
    start = end = None
    bullet = _BULLET.match(text)
    if bullet:
        text = text[bullet.end():]
    prefix = _TIME_PREFIX.match(text)
    if prefix:
        start, end = _times(prefix)
        text = text[prefix.end():]
    elif bullet and not text.lstrip().startswith(("**", "__", "[")):
        return None  # "- Note: …" in a list is text; a bulleted turn carries a time or bold
    found = _split(text)
    if found is None and start is None:
        wrapped = _BOLD_WRAPPED.match(text)  # "**[00:01:02] Anna:** text", "**Anna (0:12):**"
        if wrapped and (wrapped["inner"][:1] in "[(0123456789"
                        or wrapped["inner"].rstrip().endswith((")", "]"))):
            return split_head(f"{wrapped['inner']}: {wrapped['rest']}")
    if found is None:
        bold = _BOLD_NO_COLON.match(text)
        if bold is None:
            return None
        label = _speaker(bold["label"])
        if label is None:
            return None
        return Head(label, bold["rest"].strip(), seconds(bold["t1"]), end)
    return _head(*found, start, end)


def _head(label: str, rest: str, in_label: float | None, start: float | None,
          end: float | None) -> Head:
    if in_label is not None:  # Rev.com: "Speaker 1 (00:03:18):"
        start = in_label
    if rest[:1] in ("[", "("):
        after = _TIME_AFTER.match(rest)
        if after:  # noScribe: "S01: [00:00:12] text"
            start = seconds(after["t1"]) if start is None else start
            rest = rest[after.end():].strip()
    return Head(label, rest, start, end)


_HEAD_START = frozenset("-*+•[(_0123456789")


def _times(match: re.Match) -> tuple[float | None, float | None]:
    t1, t2 = match.group("t1", "t2")
    return seconds(t1), (seconds(t2) if t2 else None)


def time_only(line: str) -> float | None:
    """The start given by a line holding only a time (``00:00:11``), else None."""
    match = _TIME_ONLY.match(line)
    return seconds(match["t1"]) if match else None


def is_not_speech(line: str) -> bool:
    """A pause mark, an end mark or a tool's footer line (see :data:`_NOT_SPEECH`)."""
    return len(line) < 200 and _NOT_SPEECH.match(line) is not None


def strip_time_marks(text: str) -> str:
    """Remove bracketed times inside a turn's text (they are not words)."""
    return TIME_MARK.sub(" ", text) if "[" in text else text


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
    """Unmerged turns: each turn head opens a turn; other lines continue the last one.

    Lines of one paragraph are joined with ``\\n``, paragraphs with a blank line. A line with
    only a time gives its start to the next turn (or to the current one if it has none yet).
    """
    return _turns((start + offset, line, offset == 0)
                  for start, block in blocks
                  for offset, line in enumerate(block.split("\n")))


def turns_from_text(text: str) -> list[Turn]:
    """``turns_from_paragraphs(paragraphs(text))`` in one pass over the lines (most of the time
    of a large import, SPEC §10). Tests hold the two to the same turns."""
    def lines():
        in_block = False
        for number, line in enumerate(text.split("\n"), start=1):
            if not line or line.isspace():  # a blank line ends the paragraph
                in_block = False
                continue
            yield number, line, not in_block
            in_block = True

    return _turns(lines())


def _turns(lines: Iterable[tuple[int, str, bool]]) -> list[Turn]:
    """The turns of ``(line number, line, first of its paragraph)``; the common head
    (``Label: text``, no times or marks) is taken without building a :class:`Head`."""
    turns: list[Turn] = []
    pending: float | None = None
    for number, line, first in lines:
        if line[:1].isalpha():  # split_head's own first case, without its Head
            found = _split(line)
            head = None
            if found is not None:
                label, rest, in_label = found
                if in_label is None and rest[:1] not in ("[", "("):
                    turns.append(Turn(label, strip_time_marks(rest), pending, None, line=number))
                    pending = None
                    continue
                head = _head(label, rest, in_label, None, None)
        else:
            head = split_head(line)
        if head:
            begin = head.start if head.start is not None else pending
            turns.append(Turn(head.label, strip_time_marks(head.rest), begin, head.end,
                              line=number))
            pending = None
            continue
        mark = time_only(line) if line[:1].isdigit() or line[:1] in "[(" else None
        if mark is not None:
            pending = mark
            continue
        if not turns or is_not_speech(line):
            continue
        last = turns[-1]
        line = strip_time_marks(_strip_prefix(line)).strip()
        sep = "\n\n" if first else "\n"
        last.text = last.text + sep + line if last.text else line
    return turns


def _strip_prefix(line: str) -> str:
    """An unlabelled ``- [00:40.58 - 00:40.90] text`` line keeps only its text."""
    bullet = _BULLET.match(line)
    rest = line[bullet.end():] if bullet else line
    prefix = _TIME_PREFIX.match(rest)
    return rest[prefix.end():] if prefix and (bullet or rest[:1] in "[(") else line


def parse(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """Speaker-labelled text → (unmerged turns, no metadata)."""
    return turns_from_text(text), {}


def looks_like(text: str) -> bool:
    """True when some line of ``text`` starts with a speaker label."""
    return any(split_head(line) for line in text.split("\n") if line.strip())
