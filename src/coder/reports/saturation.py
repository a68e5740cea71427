"""Code saturation: new codes per additional interview (``coder report saturation``).

Interviews (transcripts the coder reviewed) are taken in order — by their ``date`` attribute
(ISO dates sort as text; interviews without a date come last) or by transcript id — and for
interview ``i``::

    codes_i      = distinct codes applied in interview i (code level: full keys as applied)
    new_i        = codes_i minus every code of interviews 1 … i-1
    cumulative_i = |new_1 ∪ … ∪ new_i|

Saturation is reached after interview ``s``, the last interview that added a new code, when at
least one interview follows it (no new code from ``s+1`` to the end). When the last interview
still adds a code, saturation is not reached (``None``). Cf. Guest, Bunce & Johnson (2006),
"How many interviews are enough?", Field Methods 18(1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coder.errors import CoderError
from coder.reports.data import connection, load_codings
from coder.reports.provenance import Provenance, make_provenance

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ORDERS = ("date", "id")


@dataclass(frozen=True)
class Interview:
    """One step of the curve (``position`` counts from 1)."""

    position: int
    transcript: str
    participant: str
    date: str | None
    codes: int
    new_codes: tuple[str, ...]
    cumulative: int

    @property
    def new(self) -> int:
        return len(self.new_codes)


@dataclass
class SaturationCurve:
    coder: str
    order: str
    interviews: list[Interview]
    provenance: Provenance
    notes: list[str] = field(default_factory=list)

    @property
    def total_codes(self) -> int:
        return self.interviews[-1].cumulative if self.interviews else 0

    @property
    def saturation(self) -> Interview | None:
        """The interview after which no new code appeared (see the module docstring)."""
        last = max((i for i in self.interviews if i.new), key=lambda i: i.position,
                   default=None)
        if last is None or last.position == len(self.interviews):
            return None
        return last

    def summary(self) -> str:
        point = self.saturation
        n = len(self.interviews)
        if point is None:
            return (f"saturation not reached: interview {n} of {n} still added a new code"
                    if self.total_codes else "no codes applied")
        return (f"saturation after interview {point.position} of {n} ({point.transcript}): "
                f"the remaining {n - point.position} added no new code; "
                f"{self.total_codes} codes in all")

    def to_frame(self) -> "pd.DataFrame":
        """One row per interview: ``position, transcript, participant, date, codes, new,
        cumulative, new_codes`` (new codes joined by ``, ``)."""
        import pandas as pd

        return pd.DataFrame(
            [[i.position, i.transcript, i.participant, i.date, i.codes, i.new, i.cumulative,
              ", ".join(i.new_codes)] for i in self.interviews],
            columns=["position", "transcript", "participant", "date", "codes", "new",
                     "cumulative", "new_codes"])

    def to_json_dict(self, *, provenance: bool = True) -> dict[str, Any]:
        point = self.saturation
        data: dict[str, Any] = {
            "coder": self.coder, "order": self.order, "total_codes": self.total_codes,
            "saturation": ({"position": point.position, "transcript": point.transcript}
                           if point else None),
            "interviews": [{"position": i.position, "transcript": i.transcript,
                            "participant": i.participant, "date": i.date, "codes": i.codes,
                            "new": i.new, "new_codes": list(i.new_codes),
                            "cumulative": i.cumulative} for i in self.interviews]}
        if provenance:
            data["provenance"] = self.provenance.to_dict()
        return data


def saturation(source: Any, *, order: str = "date", coder: str | None = None,
               command: str | None = None) -> SaturationCurve:
    """New and cumulative codes per interview in ``order`` (``"date"`` or ``"id"``)."""
    if order not in ORDERS:
        raise CoderError(f"unknown order {order!r} — use date or id")
    with connection(source) as conn:
        data = load_codings(conn, coder, with_text=False)
        provenance = make_provenance(conn, data.coder_label, command)
    if order == "date" and "date" not in data.attributes:
        raise CoderError("no transcript has a date attribute — use --order id, or import "
                         "metadata with a date column (coder import … --meta participants.csv)")
    position = {c.key: c.position for c in data.codebook.codes}
    per_interview: dict[str, set[str]] = defaultdict(set)
    for seg in data.segments:
        per_interview[seg.transcript].update(seg.codes)

    def sort_key(tid: str):
        date = data.transcripts[tid].attributes.get("date")
        return (date is None, date or "", tid) if order == "date" else (tid,)

    seen: set[str] = set()
    interviews = []
    for i, tid in enumerate(sorted(per_interview, key=sort_key), start=1):
        codes = per_interview[tid]
        new = sorted(codes - seen, key=lambda k: (position.get(k, len(position)), k))
        seen |= codes
        interviews.append(Interview(i, tid, data.transcripts[tid].participant,
                                    data.transcripts[tid].attributes.get("date"), len(codes),
                                    tuple(new), len(seen)))
    notes = list(data.notes)
    undated = [i.transcript for i in interviews if order == "date" and i.date is None]
    if undated:
        notes.append(f"{len(undated)} interview(s) without a date are placed last: "
                     + ", ".join(undated))
    return SaturationCurve(data.coder, order, interviews, provenance, notes)
