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

**Guest, Namey & Chen (2020)**, "A simple method to assess and report thematic saturation in
qualitative research", PLoS ONE 15(5): e0232076 — with a *base size* ``b``, a *run length*
``r`` and a *new-information threshold* ``t``::

    base          = |codes of interviews 1 … b|                 (= cumulative_b)
    new(s)        = |codes of interviews s … s+r-1 not in interviews 1 … s-1|
                  = new_s + … + new_{s+r-1}
    ratio(s)      = new(s) / base                                 for s = b+1, b+2, …
    saturation at = s - 1   for the first run s with s+r-1 <= n and ratio(s) <= t

that is, the run moves on one interview at a time, its new codes are counted against every
earlier interview and divided by the base's codes, and saturation is reached with the
interviews before the first run that adds no more than ``t`` (default 5%). Not reached when
no complete run stays under the threshold (or the base has no code). :data:`GUEST_SETTINGS`
are the authors' two usual settings, base 4 / run 2 and base 6 / run 3; both are reported.
With ``by`` (:func:`saturation_by_group`) each group's interviews form their own sequence.
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
GUEST_SETTINGS = ((4, 2), (6, 3))
THRESHOLD = 0.05


@dataclass(frozen=True)
class GuestRun:
    """One run of Guest et al.'s measure: interviews ``start`` … ``end`` (positions)."""

    start: int
    end: int
    new: int
    ratio: float


@dataclass(frozen=True)
class GuestSaturation:
    """Guest, Namey & Chen's (2020) saturation for one base size, run length and threshold;
    ``point`` is the number of interviews at saturation (None: not reached)."""

    base: int
    run: int
    threshold: float
    base_codes: int
    runs: tuple[GuestRun, ...]
    point: int | None

    @property
    def setting(self) -> str:
        return f"base {self.base}, run {self.run}, threshold {self.threshold:.0%}"

    def summary(self) -> str:
        if self.point is None:
            if not self.runs:
                return (f"{self.setting}: not assessable — needs at least "
                        f"{self.base + self.run} interviews")
            return f"{self.setting}: not reached (every run added more than {self.threshold:.0%})"
        run = next(r for r in self.runs if r.start == self.point + 1)
        return (f"{self.setting}: reached at {self.point} interviews (interviews "
                f"{run.start}–{run.end} added {run.new} new code(s), {run.ratio:.0%} of the "
                f"base's {self.base_codes})")

    def to_json_dict(self) -> dict[str, Any]:
        return {"base": self.base, "run": self.run, "threshold": self.threshold,
                "base_codes": self.base_codes, "saturation": self.point,
                "runs": [{"start": r.start, "end": r.end, "new": r.new, "ratio": r.ratio}
                         for r in self.runs]}


def guest_saturation(interviews: "list[Interview]", base: int, run: int,
                     threshold: float = THRESHOLD) -> GuestSaturation:
    """Guest et al.'s measure over interviews in order (see the module docstring)."""
    if base < 1 or run < 1:
        raise CoderError("base size and run length must be at least 1")
    if not 0 <= threshold < 1:
        raise CoderError("the new-information threshold is a share between 0 and 1 (e.g. 0.05)")
    n = len(interviews)
    base_codes = interviews[base - 1].cumulative if n >= base else 0
    runs = []
    point = None
    for start in range(base + 1, n - run + 2):
        new = sum(i.new for i in interviews[start - 1:start - 1 + run])
        ratio = new / base_codes if base_codes else float("inf")
        runs.append(GuestRun(start, start + run - 1, new, ratio))
        if point is None and base_codes and ratio <= threshold + 1e-12:
            point = start - 1
    return GuestSaturation(base, run, threshold, base_codes,
                           tuple(r for r in runs if r.ratio != float("inf")), point)


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
    threshold: float = THRESHOLD

    @property
    def guest(self) -> list[GuestSaturation]:
        """Guest et al.'s measure in both usual settings (see the module docstring)."""
        return [guest_saturation(self.interviews, b, r, self.threshold)
                for b, r in GUEST_SETTINGS]

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
                            "cumulative": i.cumulative} for i in self.interviews],
            "guest": [g.to_json_dict() for g in self.guest]}
        if provenance:
            data["provenance"] = self.provenance.to_dict()
        return data


def saturation(source: Any, *, order: str = "date", coder: str | None = None,
               command: str | None = None, threshold: float = THRESHOLD) -> SaturationCurve:
    """New and cumulative codes per interview in ``order`` (``"date"`` or ``"id"``)."""
    return saturation_by_group(source, by=None, order=order, coder=coder, command=command,
                               threshold=threshold)[None]


def saturation_by_group(source: Any, *, by: str | None, order: str = "date",
                        coder: str | None = None, command: str | None = None,
                        threshold: float = THRESHOLD) -> "dict[str | None, SaturationCurve]":
    """A curve per value of the attribute ``by`` (its interviews in ``order``), or one curve
    under the key None when ``by`` is None."""
    from coder.reports.data import group_order

    if not 0 <= threshold < 1:
        raise CoderError("--threshold is a share between 0 and 1 (e.g. 0.05 for 5%)")
    if order not in ORDERS:
        raise CoderError(f"unknown order {order!r} — use date or id")
    with connection(source) as conn:
        data = load_codings(conn, coder, with_text=False)
        provenance = make_provenance(conn, data.coder_label, command)
    if order == "date" and "date" not in data.attributes:
        raise CoderError("no transcript has a date attribute — use --order id, or import "
                         "metadata with a date column (coder import … --meta participants.csv)")
    if by is not None:
        data.check_attribute(by)
    position = {c.key: c.position for c in data.codebook.codes}
    per_interview: dict[str, set[str]] = defaultdict(set)
    for seg in data.segments:
        per_interview[seg.transcript].update(seg.codes)
    groups: dict[str | None, list[str]] = defaultdict(list)
    for tid in per_interview:
        groups[None if by is None else data.group(tid, by)].append(tid)
    names = [None] if by is None else group_order(set(groups))  # type: ignore[arg-type]
    return {g: _curve(data, {t: per_interview[t] for t in groups[g]}, position, order,
                      provenance, threshold) for g in names}


def _curve(data, per_interview: dict[str, set[str]], position: dict[str, int], order: str,
           provenance: Provenance, threshold: float) -> SaturationCurve:

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
    return SaturationCurve(data.coder, order, interviews, provenance, notes, threshold)
