"""Writing and reading coders' decisions.

A *decision* is what a coder says about one participant segment: the set of codes that apply
(possibly none) and an optional memo. :func:`record_decision` stores it atomically — the
coder's review of the segment and exactly that set of codings — so a session that is killed
never leaves half a decision behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection

from coder.db.engine import insert_ignore, insert_rows, upsert
from coder.db import tables
from coder.db.tables import utcnow
from coder.errors import CoderError, ConflictError, NotFoundError

C = tables.coder
R = tables.review
K = tables.coding
S = tables.segment

CODER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$")


def coder_kind(name: str) -> str:
    if name.startswith("auto:"):
        return "machine"
    return "consensus" if name == "consensus" else "human"


def check_coder_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise CoderError("the coder name is empty — pass --coder NAME (e.g. --coder alice)")
    if not CODER_NAME.match(name):
        raise CoderError(f"coder name {name!r} is not allowed — use letters, digits and "
                         "_ . : @ - (no spaces or commas), e.g. alice or auto:model")
    return name


def get_or_create_coder(conn: Connection, name: str, kind: str | None = None) -> int:
    """The id of coder ``name``, created if new. In a team project a member may write only
    as themselves (:func:`coder.team.acting_coder`); the database enforces it as well."""
    name = check_coder_name(name)
    if conn.dialect.name == "postgresql":
        from coder.team import acting_coder

        acting_coder(conn, name, kind=kind)
    row = conn.execute(select(C.c.id).where(C.c.name == name)).first()
    if row:
        return row[0]
    # another process may create the same coder at the same moment: insert-or-ignore, re-read
    insert_ignore(conn, C, [{"name": name, "kind": kind or coder_kind(name),
                             "created_at": utcnow()}])
    return conn.execute(select(C.c.id).where(C.c.name == name)).scalar_one()


def coder_id(conn: Connection, name: str) -> int:
    row = conn.execute(select(C.c.id).where(C.c.name == name)).first()
    if row is None:
        from coder.names import unknown_coder

        raise unknown_coder(conn, name)
    return row[0]


def coder_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(C.c.name).order_by(C.c.id)).scalars())


def current_codebook_id(conn: Connection) -> int | None:
    cb = tables.codebook
    return conn.execute(select(cb.c.id).order_by(cb.c.version.desc()).limit(1)).scalar()


def code_keys(conn: Connection, codebook_id: int | None = None) -> list[str]:
    """Full keys of the current codebook's codes (themes included), in codebook order."""
    codebook_id = codebook_id or current_codebook_id(conn)
    if codebook_id is None:
        return []
    code = tables.code
    return list(conn.execute(select(code.c.key).where(code.c.codebook_id == codebook_id)
                             .order_by(code.c.position, code.c.id)).scalars())


def categories(conn: Connection, codebook_id: int | None = None) -> set[str]:
    """Keys of the current codebook's categories: codes never applied themselves
    (``codable: false``; they group their sub-codes)."""
    codebook_id = codebook_id or current_codebook_id(conn)
    if codebook_id is None:
        return set()
    code = tables.code
    return set(conn.execute(select(code.c.key).where(code.c.codebook_id == codebook_id,
                                                     code.c.codable.is_(False))).scalars())


ANY = object()  # record_decision without a basis: replace whatever is stored


def record_decision(conn: Connection, coder: int, segment: int, codes: Iterable[str],
                    memo: str | None = None, *, codebook_id: int | None = None,
                    source: str = "session", based_on=ANY,
                    spans: dict[str, tuple[int, int] | None] | None = None) -> None:
    """Store the coder's whole decision on a segment: review row + exactly ``codes``.

    The review row is written first, which locks it: two writers of the same coder and
    segment (two sessions of one person on a team server) are serialized, and the later one
    replaces the earlier decision whole — never a union of both. ``based_on`` is the decision
    the new one was made on, as the deciding session saw it: ``None`` (not reviewed) or
    ``(codes, memo)``. When the stored decision differs from it (another session decided
    meanwhile), nothing is written and :class:`ConflictError` names the segment.
    Then two statements: delete the codes no longer wanted, insert the wanted ones that are
    missing (existing codings keep their codebook version and time).
    ``spans`` (when given) sets each wanted code's marked span — character offsets into the
    segment's text, ``None`` for the whole turn — with one more statement per code.
    """
    wanted = sorted(set(codes))
    now = utcnow()
    review = {"coder_id": coder, "segment_id": segment, "memo": memo, "source": source,
              "reviewed_at": now}
    claimed = based_on is not ANY and _check_basis(conn, review, based_on, (set(wanted), memo))
    if not claimed:
        upsert(conn, R, review, keys=("coder_id", "segment_id"), update=("memo", "reviewed_at"))
    mine = and_(K.c.coder_id == coder, K.c.segment_id == segment)
    conn.execute(delete(K).where(and_(mine, K.c.code_key.not_in(wanted)) if wanted else mine))
    insert_ignore(conn, K, [{"coder_id": coder, "segment_id": segment, "code_key": key,
                             "codebook_id": codebook_id, "memo": None, "created_at": now}
                            for key in wanted])
    if spans is not None:
        for key in wanted:
            span = spans.get(key)
            conn.execute(update(K).where(and_(mine, K.c.code_key == key)).values(
                span_start=span[0] if span else None, span_end=span[1] if span else None))


def _check_basis(conn: Connection, review: dict, based_on, new: tuple[set[str], str | None]
                 ) -> bool:
    """Lock the coder's review of the segment and compare it with ``based_on``; True when
    the review row was new and has just been inserted."""
    coder, segment = review["coder_id"], review["segment_id"]
    if based_on is None:
        # Not reviewed when the session showed it: claim the review row. A concurrent
        # claimant waits on the key, then inserts nothing and is compared below.
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        claimed = conn.execute(insert(R).values(**review).on_conflict_do_nothing()
                               .returning(R.c.coder_id)).first()
        if claimed is not None:
            return True
    row = conn.execute(select(R.c.memo).where(and_(R.c.coder_id == coder,
                                                   R.c.segment_id == segment))
                       .with_for_update()).first()
    stored = None if row is None else (decisions(conn, coder, [segment]).get(segment,
                                                                             (set(), row[0])))
    expected = None if based_on is None else (set(based_on[0]), based_on[1])
    if stored == expected or stored == new:
        return False
    where = conn.execute(select(S.c.transcript_id, S.c.n).where(S.c.id == segment)).first()
    label = f"{where[0]}:{where[1]}" if where else f"segment {segment}"
    if stored is None:
        what = "its decision was removed"
    else:
        what = f"it was decided as {', '.join(sorted(stored[0])) or 'no code'}"
    raise ConflictError(f"{label} changed in another session of this coder since it was shown "
                        f"({what}) — your decision was not saved; look at the segment again "
                        "and decide")


def forget_decision(conn: Connection, coder: int, segment: int) -> None:
    """Remove the coder's review and codings of one segment (it becomes unreviewed)."""
    conn.execute(delete(K).where(and_(K.c.coder_id == coder, K.c.segment_id == segment)))
    conn.execute(delete(R).where(and_(R.c.coder_id == coder, R.c.segment_id == segment)))


def coding_spans(conn: Connection, coder: int, segment: int) -> dict[str, tuple[int, int]]:
    """code key → marked span of the coder's codings on ``segment`` (codes with a span)."""
    rows = conn.execute(select(K.c.code_key, K.c.span_start, K.c.span_end).where(and_(
        K.c.coder_id == coder, K.c.segment_id == segment, K.c.span_start.is_not(None))))
    return {key: (a, b) for key, a, b in rows}


def mark_reviewed(conn: Connection, coder: int, segments: Iterable[int], *,
                  source: str, memo: str | None = None, overwrite_memo: bool = False) -> None:
    """Insert review rows for ``segments`` (existing ones keep their time, memo optionally)."""
    segments = list(segments)
    if not segments:
        return
    done: set[int] = set()
    for i in range(0, len(segments), 500):
        chunk = segments[i:i + 500]
        done |= set(conn.execute(select(R.c.segment_id).where(
            and_(R.c.coder_id == coder, R.c.segment_id.in_(chunk)))).scalars())
    now = utcnow()
    insert_rows(conn, R, ("coder_id", "segment_id", "memo", "source", "reviewed_at"),
                [(coder, s, memo, source, now) for s in segments if s not in done],
                ignore_conflicts=True)
    if overwrite_memo and done:
        conn.execute(update(R).where(and_(R.c.coder_id == coder, R.c.segment_id.in_(done)))
                     .values(memo=memo, reviewed_at=now))


def decisions(conn: Connection, coder: int, segment_ids: list[int] | None = None
              ) -> dict[int, tuple[set[str], str | None]]:
    """segment id → (codes, memo) for every segment the coder reviewed."""
    q = select(R.c.segment_id, R.c.memo).where(R.c.coder_id == coder)
    if segment_ids is not None:
        q = q.where(R.c.segment_id.in_(segment_ids))
    result = {sid: (set(), memo) for sid, memo in conn.execute(q)}
    q = select(K.c.segment_id, K.c.code_key).where(K.c.coder_id == coder)
    if segment_ids is not None:
        q = q.where(K.c.segment_id.in_(segment_ids))
    for sid, key in conn.execute(q):
        result.setdefault(sid, (set(), None))[0].add(key)
    return result
