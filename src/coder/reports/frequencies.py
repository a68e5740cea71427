"""Theme frequencies per group (``coder report themes``).

For a coder (see :mod:`coder.reports.data`), groups ``g`` (the values of an attribute such as
``country``; ``(none)`` for transcripts without it) and keys ``k`` (themes, or every code with
``codes=True``, where a code counts its sub-codes too)::

    P_g       = participants of g with >= 1 reviewed participant segment     (group N)
    S_g       = reviewed participant segments of g
    P_g,k     = participants of g with >= 1 segment coded k
    S_g,k     = segments of g coded k
    share_g,k = P_g,k / P_g    (unit "participants")
              = S_g,k / S_g    (unit "segments")

A participant is a distinct ``transcript.participant_id``. The ``Total`` column is the same
over all groups; the ``(any)`` row counts participants/segments with at least one key.

Small cells: a cell with fewer than ``min_cell`` participants (zeros included, so that "<K" does
not tell a zero from a one) can identify a person when groups are as small as one expert. With
``min_cell`` those cells are suppressed (shown ``[c]``, left out of JSON and NA in frames),
together with the complementary cells that keep them from being worked out from the totals
(see :mod:`coder.reports.disclosure`); with ``flag_small`` as well they are shown but flagged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coder.errors import CoderError
from coder.reports.data import connection, group_order, keys_for, load_codings
from coder.reports.provenance import Provenance, make_provenance

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

UNITS = ("participants", "segments")
TOTAL = "Total"
ANY = "(any)"


@dataclass(frozen=True)
class Cell:
    """Counts of one key in one group; ``share`` follows the table's unit (None if no base)."""

    participants: int
    segments: int
    share: float | None


@dataclass
class ThemeTable:
    """Theme (or code) frequencies per group. ``cells[(group, key)]``, with ``group`` in
    :attr:`groups` or ``"Total"`` and ``key`` in :attr:`keys` or ``"(any)"``; ``sizes[group]``
    is ``(participants, segments)`` of the group."""

    by: str
    coder: str
    unit: str
    level: str                     # "themes" | "codes"
    keys: list[str]
    labels: dict[str, str]
    groups: list[str]
    sizes: dict[str, tuple[int, int]]
    cells: dict[tuple[str, str], Cell]
    provenance: Provenance
    min_cell: int | None = None
    flag_small: bool = False
    notes: list[str] = field(default_factory=list)
    hidden: frozenset[tuple[str, str]] = frozenset()   # suppressed (group, key) cells

    def cell(self, group: str, key: str) -> Cell:
        return self.cells[(group, key)]

    def small(self, group: str, key: str) -> bool:
        """Whether the cell falls under the small-cell threshold."""
        return self.min_cell is not None and self.cells[(group, key)].participants < self.min_cell

    def suppressed(self, group: str, key: str) -> bool:
        """Whether the cell is hidden: small, or hidden with them (complementary)."""
        return (group, key) in self.hidden

    def count(self, group: str, key: str) -> int:
        """The count the unit reports: participants or segments."""
        c = self.cells[(group, key)]
        return c.participants if self.unit == "participants" else c.segments

    def base(self, group: str) -> int:
        """The share's denominator: the group's participants or segments."""
        return self.sizes[group][0 if self.unit == "participants" else 1]

    @property
    def small_cell_note(self) -> str:
        if self.min_cell is None:
            return ""
        if self.flag_small:
            return (f"* fewer than {self.min_cell} participants: such cells can identify a "
                    "person")
        from coder.reports.disclosure import suppression_note

        return suppression_note(self)

    def to_json_dict(self, *, provenance: bool = True) -> dict[str, Any]:
        """The shape of SPEC §8 (``by, coder, unit, groups``), plus ``level``, ``total`` (all
        groups together), ``min_cell`` and ``provenance``. Suppressed cells are left out of
        ``themes`` and named in the group's ``suppressed`` list; flagged ones carry
        ``"small": true``. With ``codes=True`` the ``themes`` objects hold every code key."""
        def block(group: str) -> dict[str, Any]:
            participants, segments = self.sizes[group]
            themes: dict[str, Any] = {}
            suppressed = []
            for key in self.keys:
                if self.suppressed(group, key):
                    suppressed.append(key)
                    continue
                c = self.cells[(group, key)]
                themes[key] = {"participants": c.participants, "segments": c.segments,
                               "share": c.share}
                if self.small(group, key):
                    themes[key]["small"] = True
            out: dict[str, Any] = {"participants": participants, "segments": segments,
                                   "themes": themes}
            if self.min_cell is not None:
                out["suppressed"] = suppressed
            return out

        data: dict[str, Any] = {"by": self.by, "coder": self.coder, "unit": self.unit,
                                "level": self.level,
                                "groups": {g: block(g) for g in self.groups},
                                "total": block(TOTAL)}
        if self.min_cell is not None:
            data["min_cell"] = self.min_cell
            data["flag_small"] = self.flag_small
        if provenance:
            data["provenance"] = self.provenance.to_dict()
        return data

    def to_frame(self) -> "pd.DataFrame":
        """Rows: keys (index named ``theme`` or ``code``). Columns: a MultiIndex
        ``(group, measure)`` over the groups and ``Total``, measures ``participants``,
        ``segments``, ``share``. Suppressed cells are NA."""
        import pandas as pd

        columns = pd.MultiIndex.from_product([[*self.groups, TOTAL],
                                              ["participants", "segments", "share"]],
                                             names=[self.by, "measure"])
        data = []
        for key in self.keys:
            row: list[Any] = []
            for g in [*self.groups, TOTAL]:
                c = self.cells[(g, key)]
                row += ([pd.NA] * 3 if self.suppressed(g, key)
                        else [c.participants, c.segments, c.share])
            data.append(row)
        frame = pd.DataFrame(data, index=pd.Index(self.keys, name=self.level[:-1]),
                             columns=columns)
        for g in [*self.groups, TOTAL]:
            frame[(g, "participants")] = frame[(g, "participants")].astype("Int64")
            frame[(g, "segments")] = frame[(g, "segments")].astype("Int64")
            frame[(g, "share")] = frame[(g, "share")].astype("Float64")
        return frame

    def sizes_frame(self) -> "pd.DataFrame":
        """Group sizes: index groups and ``Total``, columns ``participants``, ``segments``."""
        import pandas as pd

        names = [*self.groups, TOTAL]
        return pd.DataFrame([self.sizes[g] for g in names], columns=["participants", "segments"],
                            index=pd.Index(names, name=self.by))


def theme_frequencies(source: Any, *, by: str = "country", unit: str = "participants",
                      coder: str | None = None, codes: bool = False,
                      min_cell: int | None = None, flag_small: bool = False,
                      command: str | None = None) -> ThemeTable:
    """Theme (``codes=True``: code) frequencies per value of the attribute ``by``.

    ``source``: a Connection, Project or database path. ``coder``: a coder name,
    ``"majority"`` or None (= ``consensus``). See the module docstring for the formulas.
    """
    if unit not in UNITS:
        raise CoderError(f"unknown unit {unit!r} — use participants or segments")
    if min_cell is not None and min_cell < 1:
        raise CoderError("--min-cell must be at least 1")
    if flag_small and min_cell is None:
        raise CoderError("--flag-small needs the threshold: add --min-cell K (e.g. --min-cell 3)")
    with connection(source) as conn:
        data = load_codings(conn, coder, with_text=False)
        data.check_attribute(by)
        provenance = make_provenance(conn, data.coder_label, command)
    codebook = data.codebook
    level = "codes" if codes else "themes"
    keys = [c.key for c in codebook.codes if codes or c.parent is None]
    key_set = set(keys)
    labels = {c.key: c.label for c in codebook.codes}
    labels[ANY] = "Any code" if codes else "Any theme"

    people: dict[str, set[str]] = defaultdict(set)
    n_segments: dict[str, int] = defaultdict(int)
    key_people: dict[tuple[str, str], set[str]] = defaultdict(set)
    key_segments: dict[tuple[str, str], int] = defaultdict(int)
    groups: set[str] = set()
    # Per transcript and per distinct set of codes, computed once (not once per segment).
    where: dict[str, tuple[tuple[str, str], str]] = {}
    counted: dict[frozenset[str], tuple[str, ...]] = {}
    for seg in data.segments:
        place = where.get(seg.transcript)
        if place is None:
            group = data.group(seg.transcript, by)
            groups.add(group)
            place = where[seg.transcript] = ((group, TOTAL), data.participant(seg))
        pair, person = place
        found = counted.get(seg.codes)
        if found is None:
            found = keys_for(seg.codes, key_set, codes)
            found = counted[seg.codes] = tuple(sorted(found | {ANY})) if found else ()
        for g in pair:
            people[g].add(person)
            n_segments[g] += 1
            for key in found:
                key_people[(g, key)].add(person)
                key_segments[(g, key)] += 1

    ordered = group_order(groups)
    sizes = {g: (len(people[g]), n_segments[g]) for g in [*ordered, TOTAL]}
    cells = {}
    for g in [*ordered, TOTAL]:
        n_people, n_segs = sizes[g]
        for key in [*keys, ANY]:
            p, s = len(key_people[(g, key)]), key_segments[(g, key)]
            num, den = (p, n_people) if unit == "participants" else (s, n_segs)
            cells[(g, key)] = Cell(p, s, num / den if den else None)
    table = ThemeTable(by=by, coder=data.coder, unit=unit, level=level, keys=keys,
                       labels=labels, groups=ordered, sizes=sizes, cells=cells,
                       provenance=provenance, min_cell=min_cell, flag_small=flag_small,
                       notes=list(data.notes))
    if min_cell is not None and not flag_small:
        from coder.reports.disclosure import suppress_table

        table.hidden = frozenset(suppress_table(table))
    return table
