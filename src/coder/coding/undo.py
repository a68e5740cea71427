"""Undoing coding work: deleting a coder's codings and reviews, renaming and removing coders.

Every destructive function comes in two steps: one that counts what would go (so the CLI can
say what and ask) and one that deletes in one write transaction. Deleting a review
"un-reviews" the segment: the coder has not decided on it any more (SPEC §6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Connection

from coder.coding.store import C, K, R, S, check_coder_name, coder_id
from coder.db.engine import Project
from coder.db.models import Decision, Transcript
from coder.errors import CoderError, ConflictError, NotFoundError

D = Decision.__table__
T = Transcript.__table__


@dataclass
class Scope:
    """Whose work, where: a coder, optionally one transcript and some of its segment numbers."""

    coder: str
    transcript: str | None = None
    segments: list[int] | None = None

    def describe(self) -> str:
        where = ""
        if self.transcript:
            where = f" in {self.transcript}"
            if self.segments:
                where += f" (segment{'s' if len(self.segments) > 1 else ''} " \
                         f"{format_numbers(self.segments)})"
        return f"{self.coder}{where}"


@dataclass
class Removed:
    reviews: int = 0
    codings: int = 0
    decisions: int = 0

    @property
    def total(self) -> int:
        return self.reviews + self.codings + self.decisions

    def describe(self) -> str:
        parts = [f"{self.reviews} review(s)", f"{self.codings} coding(s)"]
        if self.decisions:
            parts.append(f"{self.decisions} consensus decision(s)")
        return ", ".join(parts)


def parse_segments(text: str | None) -> list[int] | None:
    """``"3,5-7"`` → ``[3, 5, 6, 7]``; ``None`` for none given."""
    if text is None or not text.strip():
        return None
    numbers: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not match:
            raise CoderError(f"--segments: {part!r} is not a segment number or range — give "
                             "numbers and ranges such as 3,5-7")
        low, high = int(match[1]), int(match[2] or match[1])
        if high < low or high - low > 100_000:
            raise CoderError(f"--segments: {part!r} is not a valid range — write LOW-HIGH")
        numbers.update(range(low, high + 1))
    return sorted(numbers)


def format_numbers(numbers: list[int]) -> str:
    """``[3, 5, 6, 7]`` → ``"3, 5-7"``."""
    parts, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(str(start) if start == n else f"{start}-{n}")
            start = None
    return ", ".join(parts)


def _segment_ids(conn: Connection, scope: Scope):
    """A SELECT of the segment ids in scope, or ``None`` for every segment."""
    if scope.transcript is None:
        if scope.segments:
            raise CoderError("--segments needs --transcript ID (segment numbers count within "
                             "one transcript)")
        return None
    if conn.execute(select(T.c.id).where(T.c.id == scope.transcript)).first() is None:
        raise NotFoundError(f"no transcript {scope.transcript!r} — see coder transcripts list")
    query = select(S.c.id).where(S.c.transcript_id == scope.transcript)
    if scope.segments:
        have = set(conn.execute(select(S.c.n).where(S.c.transcript_id == scope.transcript))
                   .scalars())
        missing = [n for n in scope.segments if n not in have]
        if missing:
            raise NotFoundError(f"{scope.transcript} has no segment {format_numbers(missing)} "
                                f"(1–{max(have, default=0)}) — see coder transcripts show "
                                f"{scope.transcript}")
        query = query.where(S.c.n.in_(scope.segments))
    return query


def _where(table, cid: int, segments):
    cond = table.c.coder_id == cid
    return cond if segments is None else and_(cond, table.c.segment_id.in_(segments))


def count_codings(project: Project, scope: Scope) -> Removed:
    """What :func:`delete_codings` would delete."""
    with project.read() as conn:
        return _count(conn, scope)


def _count(conn: Connection, scope: Scope) -> Removed:
    cid = coder_id(conn, check_coder_name(scope.coder))
    segments = _segment_ids(conn, scope)

    def n(table) -> int:
        return conn.execute(select(func.count()).select_from(table)
                            .where(_where(table, cid, segments))).scalar_one()

    return Removed(reviews=n(R), codings=n(K), decisions=n(D))


def delete_codings(project: Project, scope: Scope) -> Removed:
    """Delete the coder's codings, reviews (and consensus decisions) in scope; the segments
    count as not reviewed by that coder any more. The coder itself stays."""
    with project.write() as conn:
        removed = _count(conn, scope)
        cid = coder_id(conn, scope.coder)
        segments = _segment_ids(conn, scope)
        for table in (K, D, R):
            conn.execute(delete(table).where(_where(table, cid, segments)))
    return removed


@dataclass
class CoderInfo:
    name: str
    kind: str
    created_at: object
    reviewed: int
    codings: int


def list_coders(project: Project) -> list[CoderInfo]:
    """Every coder with the number of segments reviewed and codings made, by name."""
    with project.read() as conn:
        reviewed = dict(conn.execute(select(R.c.coder_id, func.count()).group_by(R.c.coder_id))
                        .all())
        codings = dict(conn.execute(select(K.c.coder_id, func.count()).group_by(K.c.coder_id))
                       .all())
        rows = conn.execute(select(C.c.id, C.c.name, C.c.kind, C.c.created_at)
                            .order_by(C.c.name)).all()
    return [CoderInfo(r.name, r.kind, r.created_at, reviewed.get(r.id, 0), codings.get(r.id, 0))
            for r in rows]


def rename_coder(project: Project, old: str, new: str) -> None:
    """Rename a coder; their reviews, codings and decisions follow (they point at its id)."""
    new = check_coder_name(new)
    with project.write() as conn:
        cid = coder_id(conn, old)
        if old == new:
            return
        if conn.execute(select(C.c.id).where(C.c.name == new)).first() is not None:
            raise ConflictError(f"there is already a coder {new!r} — pick another name, or "
                                f"remove one of them first (coder coders remove {new})")
        conn.execute(update(C).where(C.c.id == cid).values(name=new))


def count_coder(project: Project, name: str) -> Removed:
    return count_codings(project, Scope(coder=name))


def remove_coder(project: Project, name: str) -> Removed:
    """Delete a coder with all their reviews, codings and decisions."""
    with project.write() as conn:
        removed = _count(conn, Scope(coder=name))
        cid = coder_id(conn, name)
        for table in (K, D, R):
            conn.execute(delete(table).where(table.c.coder_id == cid))
        conn.execute(delete(C).where(C.c.id == cid))
    return removed


__all__ = ["CoderInfo", "Removed", "Scope", "count_codings", "count_coder",
           "delete_codings", "format_numbers", "list_coders", "parse_segments", "remove_coder",
           "rename_coder"]
