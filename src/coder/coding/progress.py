"""How far each coder has got (``coder status``): counted in the database, not per row here.

Per coder and transcript, three numbers over the transcript's participant segments: how many
there are, how many the coder reviewed, and how many of those carry at least one code. Two
aggregate queries give them for the whole project (SPEC §10: a read command on 50,000
segments × 3 coders costs about what reading the rows costs); every transcript appears for
every coder, so a transcript a coder has not started shows as ``not started`` rather than
being left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.engine import Connection

from coder.coding.store import C, K, R, S, coder_id
from coder.db import tables

PARTICIPANT = "participant"
DONE, STARTED, NOT_STARTED = "done", "in progress", "not started"
SUMMARY_COLUMNS = ("coder", "kind", "reviewed", "coded", "segments", "done", "in_progress",
                   "not_started")
DETAIL_COLUMNS = ("coder", "transcript", "segments", "reviewed", "coded", "state")


@dataclass
class Progress:
    """Counts for the coders in scope. ``cells[(coder, transcript)] = (reviewed, coded)``;
    ``segments[transcript]`` = its participant segments; ``transcripts`` in id order."""

    coders: list[tuple[str, str]]            # (name, kind), by name
    transcripts: list[str]
    segments: dict[str, int]
    cells: dict[tuple[str, str], tuple[int, int]]

    def state(self, coder: str, transcript: str) -> str:
        reviewed = self.cells.get((coder, transcript), (0, 0))[0]
        if reviewed == 0:
            return NOT_STARTED
        return DONE if reviewed >= self.segments[transcript] else STARTED

    def summary(self) -> list[dict]:
        """One row per coder, over all transcripts (:data:`SUMMARY_COLUMNS`)."""
        total = sum(self.segments.values())
        rows = []
        for name, kind in self.coders:
            states = {DONE: 0, STARTED: 0, NOT_STARTED: 0}
            reviewed = coded = 0
            for tid in self.transcripts:
                r, c = self.cells.get((name, tid), (0, 0))
                reviewed += r
                coded += c
                states[self.state(name, tid)] += 1
            rows.append({"coder": name, "kind": kind, "reviewed": reviewed, "coded": coded,
                         "segments": total, "done": states[DONE],
                         "in_progress": states[STARTED], "not_started": states[NOT_STARTED]})
        return rows

    def detail(self) -> list[dict]:
        """One row per coder and transcript, not-started ones included
        (:data:`DETAIL_COLUMNS`), by coder then transcript."""
        rows = []
        for name, _kind in self.coders:
            for tid in self.transcripts:
                r, c = self.cells.get((name, tid), (0, 0))
                rows.append({"coder": name, "transcript": tid, "segments": self.segments[tid],
                             "reviewed": r, "coded": c, "state": self.state(name, tid)})
        return rows

    def untouched(self) -> list[str]:
        """Transcripts with participant segments that no coder in scope has started."""
        started = {tid for (_name, tid), (r, _c) in self.cells.items() if r}
        return [t for t in self.transcripts if t not in started and self.segments[t]]


def coding_progress(conn: Connection, coder: str | None = None) -> Progress:
    """Counts for every coder (or the one named; an unknown name is a NotFoundError)."""
    T = tables.transcript
    segments = dict(conn.execute(
        select(T.c.id, func.count(S.c.id))
        .select_from(T.outerjoin(S, and_(S.c.transcript_id == T.c.id,
                                         S.c.role == PARTICIPANT)))
        .group_by(T.c.id)).all())
    who = select(C.c.id, C.c.name, C.c.kind).order_by(C.c.name)
    if coder is not None:
        who = who.where(C.c.id == coder_id(conn, coder))
    coders = conn.execute(who).all()
    names = {cid: name for cid, name, _kind in coders}
    coded = case((exists().where(and_(K.c.coder_id == R.c.coder_id,
                                      K.c.segment_id == R.c.segment_id)), 1), else_=0)
    query = (select(R.c.coder_id, S.c.transcript_id, func.count(), func.sum(coded))
             .select_from(R.join(S, S.c.id == R.c.segment_id))
             .where(S.c.role == PARTICIPANT)
             .group_by(R.c.coder_id, S.c.transcript_id))
    if coder is not None:
        query = query.where(R.c.coder_id.in_(list(names)))
    cells = {(names[cid], tid): (int(n), int(c or 0))
             for cid, tid, n, c in conn.execute(query) if cid in names}
    return Progress(coders=[(name, kind) for _cid, name, kind in coders],
                    transcripts=sorted(segments), segments=segments, cells=cells)
