"""Illustrative quotes for a theme or code (``coder quotes``).

Candidates are the coder's participant segments coded with the key or one of its sub-codes.
They are ranked deterministically, best first, by:

1. specificity — a segment coded with a deeper code (a sub-code rather than the bare theme);
2. length — 25 to 120 words is ideal; shorter or longer is penalised by the words missing or
   in excess;
3. focus — fewer other themes on the same segment;
4. position — transcript id, then segment number.

Selection takes the best quote of each participant first (participants in the order of their
best quote), then second-best ones, and so on, until ``limit`` — so that quotes come from as
many experts as possible. With ``by`` the limit applies per group (value of the attribute).

Quotes are attributed by pseudonym and an attribute: ``Expert KZ-02, Kazakhstan`` (the ``by``
attribute, else ``country`` when the project has it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coder.errors import CoderError, NotFoundError
from coder.reports.data import NONE_GROUP, connection, group_order, load_codings
from coder.reports.provenance import Provenance, make_provenance

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

IDEAL_WORDS = (25, 120)
ATTRIBUTION_DEFAULT = "country"


@dataclass(frozen=True)
class Quote:
    transcript: str
    segment: int
    participant: str
    group: str | None          # the value of ``by`` (or the attribution attribute)
    codes: tuple[str, ...]     # the segment's codes under the key
    words: int
    text: str
    attribution: str


@dataclass
class QuoteSet:
    key: str
    label: str
    by: str | None
    coder: str
    quotes: list[Quote]
    provenance: Provenance
    candidates: int = 0
    notes: list[str] = field(default_factory=list)

    def grouped(self) -> list[tuple[str | None, list[Quote]]]:
        """Quotes per group in group order (one ``(None, quotes)`` pair without ``by``)."""
        if self.by is None:
            return [(None, list(self.quotes))]
        groups: dict[str, list[Quote]] = defaultdict(list)
        for q in self.quotes:
            groups[q.group or NONE_GROUP].append(q)
        return [(g, groups[g]) for g in group_order(set(groups))]

    def to_frame(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame([[q.group, q.participant, q.transcript, q.segment,
                              ", ".join(q.codes), q.words, q.attribution, q.text]
                             for q in self.quotes], columns=QUOTE_COLUMNS)

    def to_json_dict(self, *, provenance: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "theme": self.key, "label": self.label, "by": self.by, "coder": self.coder,
            "candidates": self.candidates,
            "quotes": [{"group": q.group, "participant": q.participant,
                        "transcript": q.transcript, "segment": q.segment,
                        "codes": list(q.codes), "words": q.words,
                        "attribution": q.attribution, "text": q.text} for q in self.quotes]}
        if provenance:
            data["provenance"] = self.provenance.to_dict()
        return data


QUOTE_COLUMNS = ["group", "participant", "transcript", "segment", "codes", "words",
                 "attribution", "text"]


def _length_penalty(words: int) -> int:
    low, high = IDEAL_WORDS
    return max(0, low - words, words - high)


def quotes(source: Any, *, theme: str, by: str | None = None, limit: int = 5,
           coder: str | None = None, who: str = "Expert",
           command: str | None = None) -> QuoteSet:
    """Up to ``limit`` quotes (per group with ``by``) for the theme or code ``theme``."""
    if limit < 1:
        raise CoderError("--limit must be at least 1")
    with connection(source) as conn:
        data = load_codings(conn, coder)
        if by is not None:
            data.check_attribute(by)
        provenance = make_provenance(conn, data.coder_label, command)
        marked = _marked_spans(conn, data.coder, theme)
    codebook = data.codebook
    if theme not in codebook:
        import difflib

        close = difflib.get_close_matches(theme, sorted(codebook.keys), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else \
            "see `coder codebook show` for the keys"
        raise NotFoundError(f"no theme or code {theme!r} in the codebook — {hint}")
    attribute = by or (ATTRIBUTION_DEFAULT if ATTRIBUTION_DEFAULT in data.attributes else None)
    prefix = theme + "."

    ranked = []
    for seg in data.segments:
        matching = tuple(sorted(k for k in seg.codes if k == theme or k.startswith(prefix)))
        if not matching:
            continue
        text = seg.text.strip()
        span = marked.get((seg.transcript, seg.n))
        if span is not None:  # the coder marked the sentence(s) that carry the code
            text = seg.text[span[0]:span[1]].strip()
        words = len(text.split())
        depth = max(k.count(".") for k in matching)
        others = {k.split(".", 1)[0] for k in seg.codes} - {theme.split(".", 1)[0]}
        score = (-depth, _length_penalty(words), len(others), seg.transcript, seg.n)
        person = data.participant(seg)
        value = data.group(seg.transcript, attribute) if attribute else None
        shown = value if value and value != NONE_GROUP else None
        attribution = f"{who} {person}".strip() + (f", {shown}" if shown else "")
        ranked.append((score, Quote(seg.transcript, seg.n, person, value, matching, words,
                                    text, attribution)))
    ranked.sort(key=lambda item: item[0])

    pools: dict[str | None, list[Quote]] = defaultdict(list)
    for _, q in ranked:
        pools[q.group if by else None].append(q)
    chosen: list[Quote] = []
    for group in (group_order({g for g in pools if g is not None}) if by else [None]):
        chosen += _spread(pools[group], limit)
    notes = list(data.notes)
    if not ranked:
        notes.append(f"{data.coder_label} applied {theme} to no segment — no quotes")
    return QuoteSet(theme, codebook.label(theme), by, data.coder, chosen, provenance,
                    candidates=len(ranked), notes=notes)


def _marked_spans(conn, coder: str | None, theme: str) -> dict[tuple[str, int], tuple[int, int]]:
    """(transcript, n) → the span the coder marked for ``theme`` (or one of its codes) on that
    segment: from the first to the last marked character, over the matching codes."""
    from sqlalchemy import and_, or_, select

    from coder.db import tables

    if not coder:
        return {}
    C, K, S = tables.coder, tables.coding, tables.segment
    rows = conn.execute(
        select(S.c.transcript_id, S.c.n, K.c.span_start, K.c.span_end)
        .join(K, K.c.segment_id == S.c.id).join(C, C.c.id == K.c.coder_id)
        .where(and_(C.c.name == coder, K.c.span_start.is_not(None),
                    or_(K.c.code_key == theme, K.c.code_key.startswith(theme + ".")))))
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for tid, n, a, b in rows:
        old = spans.get((tid, n))
        spans[(tid, n)] = (min(a, old[0]), max(b, old[1])) if old else (a, b)
    return spans


def _spread(candidates: list[Quote], limit: int) -> list[Quote]:
    """Round robin over participants (in order of their best quote): one each first."""
    per_person: dict[str, list[Quote]] = defaultdict(list)
    for q in candidates:  # already best first
        per_person[q.participant].append(q)
    picked: list[Quote] = []
    depth = 0
    while len(picked) < limit:
        layer = [qs[depth] for qs in per_person.values() if len(qs) > depth]
        if not layer:
            break
        picked += layer[:limit - len(picked)]
        depth += 1
    return picked
