"""Disagreements between coders and settling a consensus coder.

A disagreement is a participant segment that every listed coder reviewed and where their sets
of themes (or codes, with ``codes=True``) differ. :func:`reconcile` builds the consensus coder
segment by segment and records, for every code any coder applied, a :class:`Decision` row:
the rule, who settled it, and each coder's value.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter

from sqlalchemy import and_, delete, func, insert, select

from coder.coding.store import (
    K, R, S, code_keys, coder_id, current_codebook_id, get_or_create_coder, record_decision,
)
from coder.db import tables
from coder.db.engine import fetch_all
from coder.db.tables import utcnow
from coder.errors import CoderError, ConflictError

RULES = ("majority", "unanimous", "interactive")


class StopReconcile(Exception):
    """Raised by an interactive ``choose`` to end the walk; decisions so far are kept."""


#: Returned by an interactive ``choose`` to go back to the previous disputed segment.
BACK = frozenset({"\0back"})


@dataclass
class SegmentView:
    """One segment as the coders saw it: each coder's codes and memo."""

    segment_id: int
    transcript: str
    n: int
    speaker: str
    text: str
    codes: dict[str, set[str]]        # coder → full code keys
    memos: dict[str, str | None]
    differs: list[str] = field(default_factory=list)  # themes/codes with differing values
    question: str | None = None       # the interviewer's turn before it (interactive rule)
    position: tuple[int, int] = (0, 0)  # n of N among the disputed segments (interactive)


def _level(key: str, codes: bool) -> str:
    return key if codes else key.split(".", 1)[0]


def _common(conn, coders: list[str], theme: str | None):
    """The participant segments every one of ``coders`` reviewed, in (transcript, n) order, as
    plain rows ``(id, transcript, n, speaker, text)``, with each coder's codes (filtered to
    ``theme``) and memos: three set-based queries, no per-row ORM work (SPEC §10)."""
    ids = {name: coder_id(conn, name) for name in coders}
    wanted = sorted(set(ids.values()))
    every = (select(R.c.segment_id).where(R.c.coder_id.in_(wanted))
             .group_by(R.c.segment_id).having(func.count() == len(wanted)))
    rows = fetch_all(conn, select(S.c.id, S.c.transcript_id, S.c.n, S.c.speaker, S.c.text)
                     .where(and_(S.c.role == "participant", S.c.id.in_(every))))
    rows.sort(key=itemgetter(1, 2))  # in Python: the same order whatever the server's collation
    memos: dict[tuple[int, int], str] = {
        (sid, cid): memo for sid, cid, memo in fetch_all(
            conn, select(R.c.segment_id, R.c.coder_id, R.c.memo)
            .where(and_(R.c.coder_id.in_(wanted), R.c.memo.is_not(None))))}
    codes: dict[tuple[int, int], set[str]] = {}
    get = codes.get
    query = select(K.c.segment_id, K.c.coder_id, K.c.code_key).where(K.c.coder_id.in_(wanted))
    found_rows = fetch_all(conn, query)
    if theme is not None:  # in Python: LIKE ignores case on SQLite
        found_rows = [r for r in found_rows if r[2] == theme or r[2].startswith(theme + ".")]
    for sid, cid, key in found_rows:
        found = get((sid, cid))
        if found is None:
            codes[(sid, cid)] = {key}
        else:
            found.add(key)
    return ids, rows, codes, memos


def _view(row, ids: dict[str, int], codes, memos) -> SegmentView:
    sid = row[0]
    return SegmentView(sid, row[1], row[2], row[3], row[4],
                       codes={name: codes.get((sid, cid), set()) for name, cid in ids.items()},
                       memos={name: memos.get((sid, cid)) for name, cid in ids.items()})


def segment_views(conn, coders: list[str], *, theme: str | None = None) -> list[SegmentView]:
    """Participant segments reviewed by every one of ``coders``, in transcript order."""
    ids, rows, codes, memos = _common(conn, coders, theme)
    return [_view(row, ids, codes, memos) for row in rows]


def disagreements(conn, coders: list[str], *, theme: str | None = None,
                  codes: bool = False) -> list[SegmentView]:
    """Segments where the coders' themes (or codes) differ; ``theme`` (a theme or code key of
    the current codebook, else :class:`~coder.errors.NotFoundError`) limits them to it."""
    from coder.names import code_key

    if len(coders) < 2:
        raise CoderError("name at least two coders: --coders alice,bob")
    if theme is not None:
        theme = code_key(conn, theme, option="--theme")
    ids, rows, applied, memos = _common(conn, coders, theme)
    level = _Levels(codes)
    cids = list(ids.values())
    empty: set[str] = set()
    result = []
    for row in rows:
        sid = row[0]
        sets = [applied.get((sid, cid), empty) for cid in cids]
        first = sets[0]
        if all(s == first for s in sets):
            continue  # the same codes: the same themes
        sets = [{level[k] for k in s} for s in sets]
        first = sets[0]
        if all(s == first for s in sets):
            continue
        view = _view(row, ids, applied, memos)
        view.differs = sorted(set().union(*sets) - set.intersection(*sets))
        result.append(view)
    return result


class _Levels(dict):
    """code key → the key compared: itself (``codes=True``) or its theme; computed once."""

    def __init__(self, codes: bool):
        super().__init__()
        self.codes = codes

    def __missing__(self, key: str) -> str:
        value = self[key] = _level(key, self.codes)
        return value


def majority(view: SegmentView, *, unanimous: bool = False) -> set[str]:
    """Codes applied by more than half (or all) of the coders. A theme that reaches the
    threshold while none of its sub-codes does is kept as the bare theme."""
    coders = len(view.codes)
    need = coders if unanimous else coders // 2 + 1
    count: dict[str, int] = {}
    theme_count: dict[str, int] = {}
    for keys in view.codes.values():
        for k in keys:
            count[k] = count.get(k, 0) + 1
        for t in {k.split(".", 1)[0] for k in keys}:
            theme_count[t] = theme_count.get(t, 0) + 1
    chosen = {k for k, c in count.items() if c >= need}
    for t, c in theme_count.items():
        if c >= need and not any(k == t or k.startswith(t + ".") for k in chosen):
            chosen.add(t)
    return chosen


@dataclass
class ReconcileReport:
    consensus: str
    rule: str
    segments: int = 0
    settled: int = 0        # segments where coders disagreed and a decision was taken
    skipped: int = 0
    codings: int = 0
    conflicts: list[str] = field(default_factory=list)
    disputed: int = 0       # interactive: disagreements not settled before this walk
    still_open: int = 0     # interactive: of those, not settled when the walk ended


def reconcile(project, coders: list[str], *, rule: str = "majority",
              as_name: str = "consensus", settled_by: str | None = None,
              choose: Callable[[SegmentView, set[str], list[str]], set[str] | None] | None
              = None) -> ReconcileReport:
    """Write the consensus coder ``as_name`` from ``coders`` under ``rule``.

    Under majority and unanimous rules everything is written in one transaction. Under the
    interactive rule, agreed segments are written first; then ``choose(view, proposal, keys)``
    is asked for every disagreement not settled yet — it returns the codes to apply (a subset
    of ``keys``), None to leave the segment for later, or raises :class:`StopReconcile` — and
    each answer is committed at once. When somebody else settled the same segment after this
    walk began, the answer is not saved and the conflict is reported instead.
    """
    if rule not in RULES:
        raise CoderError(f"unknown rule {rule!r} — use one of {', '.join(RULES)}")
    if len(coders) < 2:
        raise CoderError("name at least two coders: --coders alice,bob")
    if as_name in coders:
        raise CoderError(f"--as {as_name} is one of the coders being reconciled — choose another "
                         "name for the consensus, e.g. --as consensus")
    if rule == "interactive" and choose is None:
        raise CoderError("the interactive rule needs a terminal")
    report = ReconcileReport(consensus=as_name, rule=rule)
    started = utcnow()
    with project.write() as conn:
        settled_by = _settler(conn, settled_by)
        _require_consensus_target(conn, as_name)
        target = get_or_create_coder(conn, as_name, kind="consensus")
        codebook = current_codebook_id(conn)
        keys = code_keys(conn)
        views = segment_views(conn, coders)
        done = set(conn.execute(select(tables.decision.c.segment_id).where(
            tables.decision.c.coder_id == target)).scalars())
        disputed = []
        for view in views:
            union = set().union(*view.codes.values())
            disagree = any(s != union for s in view.codes.values())
            if rule == "interactive" and disagree:
                if view.segment_id not in done:
                    disputed.append(view)
                continue
            proposal = majority(view, unanimous=(rule == "unanimous"))
            _settle(conn, target, view, proposal, rule, settled_by, codebook)
            report.segments += 1
            report.settled += int(disagree)
            report.codings += len(proposal)
    if disputed:
        with project.read() as conn:
            _questions(conn, disputed)
        for view in disputed:
            sets = [{k.split(".", 1)[0] for k in s} for s in view.codes.values()]
            union = set().union(*sets)
            view.differs = sorted(k for k in union if not all(k in s for s in sets)) or \
                sorted(set().union(*view.codes.values())
                       - set.intersection(*[set(s) for s in view.codes.values()]))
    report.disputed = len(disputed)
    settled_now: set[int] = set()
    i = 0
    while i < len(disputed):
        view = disputed[i]
        view.position = (i + 1, len(disputed))
        try:
            picked = choose(view, majority(view), keys)
        except StopReconcile:
            break
        if picked is BACK:
            i = max(0, i - 1)
            continue
        i += 1
        if picked is None:
            report.skipped += 1
            continue
        with project.write() as conn:
            other = _settled_meanwhile(conn, target, view.segment_id, started, settled_by)
            if other:
                report.conflicts.append(
                    f"{view.transcript} #{view.n} was settled by {other} while you were "
                    "deciding — your choice was not saved; see coder disagreements")
                continue
            _settle(conn, target, view, set(picked), rule, settled_by, codebook)
        if view.segment_id not in settled_now:
            report.segments += 1
            report.settled += 1
        settled_now.add(view.segment_id)
        report.codings += len(picked)
    report.still_open = len(disputed) - len(settled_now)
    return report


def _settler(conn, settled_by: str | None) -> str:
    """Who settles: in a team project the login (``--settled-by`` may only repeat it), else
    ``--settled-by`` or the operating-system user."""
    from coder.team import team_login

    member = team_login(conn)
    if member is None:
        return settled_by or getpass.getuser()
    if settled_by and settled_by != member[0]:
        raise CoderError(f"--settled-by {settled_by}: you are logged in as {member[0]}, and in a "
                         "team project decisions are recorded under the login — leave out "
                         "--settled-by")
    return member[0]


def _require_consensus_target(conn, name: str) -> None:
    """The consensus is never written over a person's or a machine's codings."""
    from coder.coding.store import C

    kind = conn.execute(select(C.c.kind).where(C.c.name == name)).scalar()
    if kind is not None and kind != "consensus":
        n = conn.execute(select(func.count()).select_from(K).join(C, C.c.id == K.c.coder_id)
                         .where(C.c.name == name)).scalar_one()
        raise ConflictError(f"--as {name}: {name} is a {kind} coder ({n} codings) — the "
                            "consensus is written only to a consensus coder; name an existing "
                            "consensus coder or a new name, e.g. --as consensus")


def _questions(conn, views: list[SegmentView]) -> None:
    """Fill each view's ``question``: the interviewer turn right before it, if any."""
    from sqlalchemy import tuple_

    wanted = [(v.transcript, v.n - 1) for v in views]
    found: dict[tuple[str, int], str] = {}
    for i in range(0, len(wanted), 300):
        chunk = wanted[i:i + 300]
        for tid, n, text, role in conn.execute(
                select(S.c.transcript_id, S.c.n, S.c.text, S.c.role)
                .where(tuple_(S.c.transcript_id, S.c.n).in_(chunk))):
            if role == "interviewer":
                found[(tid, n)] = text
    for v in views:
        v.question = found.get((v.transcript, v.n - 1))


def _settled_meanwhile(conn, target: int, segment: int, since, me: str) -> str | None:
    D = tables.decision
    row = conn.execute(select(D.c.settled_by).where(and_(
        D.c.coder_id == target, D.c.segment_id == segment, D.c.decided_at >= since,
        D.c.settled_by != me)).limit(1)).first()
    return row[0] if row else None


def _settle(conn, target: int, view: SegmentView, codes: set[str], rule: str,
            settled_by: str, codebook: int | None) -> None:
    """Store the consensus decision on one segment and how it was reached."""
    D = tables.decision
    record_decision(conn, target, view.segment_id, codes, codebook_id=codebook,
                    source="reconcile")
    conn.execute(delete(D).where(and_(D.c.coder_id == target,
                                      D.c.segment_id == view.segment_id)))
    union = set().union(*view.codes.values())
    now = utcnow()
    rows = [{"coder_id": target, "segment_id": view.segment_id, "code_key": key,
             "applied": key in codes, "rule": rule, "settled_by": settled_by,
             "sources": json.dumps({c: int(key in s) for c, s in view.codes.items()}),
             "decided_at": now} for key in sorted(union | codes)]
    if rows:
        conn.execute(insert(D), rows)
