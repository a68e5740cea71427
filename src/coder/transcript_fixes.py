"""Fixing an import after the fact: remove a transcript, or change who its interviewer is.

:func:`remove_transcript` deletes a transcript with its segments and attributes — and, only
when ``force`` is given, the codings, reviews and consensus decisions made on it (it refuses
otherwise, saying how many there are). :func:`relabel_interviewer` changes the roles of a
transcript's segments without touching its segmentation, so every coding stays attached to the
same text. Both run in one write transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update

from coder.db.engine import Project
from coder.db.models import (
    Attribute, Coder, Coding, Decision, Participant, Review, Segment, Transcript,
)
from coder.errors import ConflictError, InputError, NotFoundError

T, S, A, P = (Transcript.__table__, Segment.__table__, Attribute.__table__,
              Participant.__table__)
C, R, D, K = Coding.__table__, Review.__table__, Decision.__table__, Coder.__table__


@dataclass
class Removal:
    """What :func:`remove_transcript` deleted (or, for a dry run, would delete)."""

    id: str
    segments: int = 0
    codings: int = 0
    reviews: int = 0
    decisions: int = 0
    coders: list[str] = field(default_factory=list)  # whose codings or reviews go with it
    participant_removed: bool = False

    def describe(self) -> str:
        parts = [f"{self.segments} segments"]
        if self.codings or self.reviews or self.decisions:
            parts.append(f"{self.codings} codings, {self.reviews} reviews and {self.decisions} "
                         f"consensus decisions by {', '.join(self.coders) or 'nobody'}")
        return ", ".join(parts)


def _require(conn, transcript_id: str):
    row = conn.execute(select(T.c.id, T.c.participant_id, T.c.interviewer)
                       .where(T.c.id == transcript_id)).first()
    if row is None:
        raise NotFoundError(f"no transcript {transcript_id!r} — see `coder transcripts list`")
    return row


def coding_summary(conn, transcript_id: str) -> Removal:
    """Counts of segments, codings, reviews and decisions on one transcript, with the coders."""
    segs = select(S.c.id).where(S.c.transcript_id == transcript_id)
    count = lambda table: conn.execute(  # noqa: E731
        select(func.count()).select_from(table).where(table.c.segment_id.in_(segs))).scalar_one()
    coder_ids = select(C.c.coder_id).where(C.c.segment_id.in_(segs)).union(
        select(R.c.coder_id).where(R.c.segment_id.in_(segs)))
    coders = sorted(conn.execute(select(K.c.name).where(K.c.id.in_(coder_ids))).scalars())
    segments = conn.execute(select(func.count()).select_from(S)
                            .where(S.c.transcript_id == transcript_id)).scalar_one()
    return Removal(transcript_id, segments, count(C), count(R), count(D), coders)


def remove_transcript(project: Project, transcript_id: str, *, force: bool = False,
                      dry_run: bool = False) -> Removal:
    """Delete one transcript; with codings, reviews or decisions on it only when ``force``."""
    with project.write() as conn:
        row = _require(conn, transcript_id)
        removal = coding_summary(conn, transcript_id)
        if (removal.codings or removal.reviews or removal.decisions) and not force:
            raise ConflictError(
                f"transcript {transcript_id!r} has {removal.codings} codings, {removal.reviews} "
                f"reviews and {removal.decisions} consensus decisions (coders: "
                f"{', '.join(removal.coders)}) — export them first (`coder codings export`), "
                "then pass --force to delete them with it")
        if dry_run:
            conn.rollback()
            return removal
        segs = select(S.c.id).where(S.c.transcript_id == transcript_id)
        for table in (C, R, D):
            conn.execute(delete(table).where(table.c.segment_id.in_(segs)))
        conn.execute(delete(S).where(S.c.transcript_id == transcript_id))
        conn.execute(delete(A).where(A.c.transcript_id == transcript_id))
        conn.execute(delete(T).where(T.c.id == transcript_id))
        if row.participant_id is not None and conn.execute(
                select(func.count()).select_from(T)
                .where(T.c.participant_id == row.participant_id)).scalar_one() == 0:
            conn.execute(delete(P).where(P.c.id == row.participant_id))
            removal.participant_removed = True
    return removal


@dataclass
class Relabel:
    """What :func:`relabel_interviewer` changed."""

    id: str
    interviewer: str | None
    previous: str | None
    to_interviewer: int = 0   # segments now interviewer turns
    to_participant: int = 0   # segments now participant turns
    codings_on_interviewer: int = 0  # codings kept on segments that became interviewer turns


def relabel_interviewer(project: Project, transcript_id: str, label: str | None) -> Relabel:
    """Make ``label``'s turns the interviewer's (``None``: nobody's) and every other turn the
    participant's. Segments, their numbers and text stay as they are, so codings stay valid."""
    import unicodedata

    with project.write() as conn:
        row = _require(conn, transcript_id)
        speakers = list(dict.fromkeys(conn.execute(
            select(S.c.speaker).where(S.c.transcript_id == transcript_id)
            .order_by(S.c.n)).scalars()))
        chosen = None
        if label is not None:
            wanted = unicodedata.normalize("NFC", label).strip().casefold()
            chosen = next((s for s in speakers if s.casefold() == wanted), None)
            if chosen is None:
                raise InputError(None, f"transcript {transcript_id!r} has no speaker {label!r}",
                                 f"choose one of: {', '.join(speakers)}")
        result = Relabel(transcript_id, chosen, row.interviewer)
        roles = dict(conn.execute(select(S.c.id, S.c.role)
                                  .where(S.c.transcript_id == transcript_id)).all())
        result.to_interviewer = conn.execute(
            select(func.count()).select_from(S).where(
                S.c.transcript_id == transcript_id, S.c.speaker == chosen,
                S.c.role != "interviewer")).scalar_one() if chosen else 0
        result.to_participant = sum(1 for r in roles.values() if r == "interviewer") - \
            (conn.execute(select(func.count()).select_from(S).where(
                S.c.transcript_id == transcript_id, S.c.speaker == chosen,
                S.c.role == "interviewer")).scalar_one() if chosen else 0)
        conn.execute(update(S).where(S.c.transcript_id == transcript_id)
                     .values(role="participant"))
        if chosen is not None:
            conn.execute(update(S).where(S.c.transcript_id == transcript_id,
                                         S.c.speaker == chosen).values(role="interviewer"))
            segs = select(S.c.id).where(S.c.transcript_id == transcript_id,
                                        S.c.speaker == chosen)
            result.codings_on_interviewer = conn.execute(
                select(func.count()).select_from(C).where(C.c.segment_id.in_(segs))).scalar_one()
        conn.execute(update(T).where(T.c.id == transcript_id).values(interviewer=chosen))
    return result


__all__ = ["Relabel", "Removal", "coding_summary", "relabel_interviewer", "remove_transcript"]
