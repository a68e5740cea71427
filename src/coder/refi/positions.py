"""Selection positions: from what the writer counted to code points of coder's text.

REFI-QDA §10.2 says positions count Unicode code points from 0; writers differ (see
``../shared/refi/NOTES.md`` §3):

- NVivo counts **UTF-16 code units** (an emoji is 2) and CRLF as 2, end-exclusive;
- ATLAS.ti (and, as far as is known, MAXQDA) counts code points with **CRLF as one**;
- the standard, QualCoder and coder itself count code points of the file as it is.

coder stores text LF-normalised with the BOM stripped and offsets in code points, so every
position is converted. :func:`decide_units` picks the convention by how the selections fit
the text — starts and ends between words, names that quote the text (ATLAS.ti) — with the
project's ``origin`` deciding only ties, and says when the evidence is weak.
:class:`PlainText` converts in O(log n) per position with two sorted lists (the astral
characters and the CRLF pairs), so a 600 000-character source costs no per-character table.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Units:
    utf16: bool          # positions count UTF-16 code units, not code points
    crlf_as_one: bool    # a CRLF line break counts as one position

    def describe(self) -> str:
        unit = "UTF-16 code units" if self.utf16 else "code points"
        return f"{unit}, CRLF counted as {'one' if self.crlf_as_one else 'two'}"


SPEC = Units(utf16=False, crlf_as_one=False)
NVIVO = Units(utf16=True, crlf_as_one=False)
ATLAS = Units(utf16=False, crlf_as_one=True)
ALL = (SPEC, NVIVO, ATLAS, Units(utf16=True, crlf_as_one=True))


def normalise_newlines(raw: str) -> str:
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def _astral_offsets(text: str) -> list[int]:
    """UTF-16 offsets at which each astral (non-BMP) character starts, ascending."""
    return [m.start() + k for k, m in enumerate(_ASTRAL.finditer(text))]


class PlainText:
    """A source's text as stored (``raw``: BOM stripped, CR kept) and as coder keeps it
    (``text``: LF only), with position conversion between them."""

    def __init__(self, raw: str):
        self.raw = raw
        self.text = normalise_newlines(raw)
        self._crlf = [m.start() for m in re.finditer("\r\n", raw)]  # raw index of each CR
        self._astral_raw = _astral_offsets(raw)
        self._astral_text = _astral_offsets(self.text)

    @property
    def ambiguous(self) -> bool:
        """True when the conventions disagree on this text (it has CRLF or astral characters)."""
        return bool(self._crlf or self._astral_raw)

    def length(self, units: Units) -> int:
        base = self.text if units.crlf_as_one else self.raw
        astral = self._astral_text if units.crlf_as_one else self._astral_raw
        return len(base) + (len(astral) if units.utf16 else 0)

    def to_text(self, position: int, units: Units) -> int:
        """``position`` in ``units`` → code-point offset into :attr:`text`.

        A position inside a surrogate pair or between CR and LF falls back to the start of
        that character.
        """
        if units.utf16:
            astral = self._astral_text if units.crlf_as_one else self._astral_raw
            position -= bisect_left(astral, position)
        if not units.crlf_as_one:
            position -= bisect_left(self._crlf, position)
        return position

    def convert(self, start: int, end: int, units: Units) -> tuple[int, int] | None:
        """The ``[start, end)`` range in text offsets, or ``None`` if it is not inside the text."""
        if start < 0 or end < start or end > self.length(units):
            return None
        return self.to_text(start, units), self.to_text(end, units)


def preferred(origin: str) -> list[Units]:
    """Conventions to try, most likely first, for a project written by ``origin``."""
    lowered = (origin or "").lower()
    if "nvivo" in lowered:
        first = NVIVO
    elif "atlas" in lowered or "maxqda" in lowered:
        first = ATLAS
    else:
        first = SPEC
    return [first] + [u for u in ALL if u != first]


_WS = re.compile(r"\s+")
_LINE_MARK = re.compile(r"^line:\d+\s*")  # qc's and coder's selection names start so
NAME_WEIGHT = 4       # a selection name quoting the text is stronger evidence than a boundary
WEAK_MARGIN = 0.1     # the winner must lead by this share of the disputed evidence


def _squash(text: str) -> str:
    return _WS.sub(" ", text).strip().rstrip("…").strip()


def _name_fits(name: str, text: str, span: tuple[int, int] | None) -> bool:
    if span is None:
        return False
    quoted, found = _squash(_LINE_MARK.sub("", name)), _squash(text[span[0]:span[1]])
    return bool(quoted) and bool(found) and (found.startswith(quoted) or quoted.startswith(found))


def _at_boundary(text: str, position: int) -> bool:
    """Not inside a word: a selection made by a person starts and ends between words."""
    if position <= 0 or position >= len(text):
        return True
    return not (text[position - 1].isalnum() and text[position].isalnum())


@dataclass
class UnitChoice:
    """The convention chosen, and a sentence when the evidence for it was weak."""

    units: Units
    weak: str | None = None


def decide_units(origin: str, sources: list[tuple[PlainText, list[tuple[str, int, int]]]]
                 ) -> UnitChoice:
    """The position convention of a project, from how its selections fit the text.

    ``sources`` pairs each text with its selections as ``(name, start, end)`` in file units.
    Each convention scores a point for every selection start and end that falls between words,
    :data:`NAME_WEIGHT` for a selection name that quotes the text it covers (ATLAS.ti), and
    loses every selection it puts outside the text. Only selections on which conventions
    disagree are scored (before the first emoji or CRLF all agree). The origin's convention
    wins ties; the choice is *weak* when the winner leads by less than :data:`WEAK_MARGIN` of
    the disputed points.
    """
    order = preferred(origin)
    if not any(text.ambiguous for text, _ in sources):
        return UnitChoice(order[0])
    disputed = []
    for text, selections in sources:
        if not text.ambiguous:
            continue
        for name, start, end in selections:
            spans = {text.convert(start, end, units) for units in order}
            if len(spans) > 1:
                disputed.append((text, name, start, end))
    if not disputed:
        return UnitChoice(order[0])

    def score(units: Units) -> int:
        points = 0
        for text, name, start, end in disputed:
            span = text.convert(start, end, units)
            if span is None:
                points -= 2 * NAME_WEIGHT
                continue
            points += _at_boundary(text.text, span[0]) + _at_boundary(text.text, span[1])
            if name and _name_fits(name, text.text, span):
                points += NAME_WEIGHT
        return points

    scores = [score(units) for units in order]
    ranked = sorted(range(len(order)), key=lambda i: (-scores[i], i))
    best = ranked[0]

    def spans(units: Units) -> list:
        return [text.convert(start, end, units) for text, _, start, end in disputed]

    # the runner-up is the best convention that reads some selection differently
    rivals = [i for i in ranked[1:] if spans(order[i]) != spans(order[best])]
    weak = None
    if rivals and scores[best] - scores[rivals[0]] < max(2, WEAK_MARGIN * 2 * len(disputed)):
        second = rivals[0]
        weak = (f"selection positions read as {order[best].describe()} on weak evidence: "
                f"{len(disputed)} selection(s) differ between conventions and "
                f"{order[second].describe()} fits almost as well ({scores[second]} against "
                f"{scores[best]} points) — check a few codings in `coder transcripts show`")
    return UnitChoice(order[best], weak)


def choose_units(origin: str, sources: list[tuple[PlainText, list[tuple[str, int, int]]]]
                 ) -> Units:
    """The convention :func:`decide_units` picks."""
    return decide_units(origin, sources).units
