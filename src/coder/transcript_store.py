"""Storing parsed transcripts in a project and reading them back (SPEC §3).

:func:`store_transcripts` writes what :func:`coder.transcripts.parse_transcripts` made of the
files, in one write transaction. Kept apart from :mod:`coder.transcripts` (which re-exports
these names) so that reading and parsing files needs no SQLAlchemy. The writing itself is a
few plain statements (:class:`coder.db.lite.Statements`): through SQLAlchemy's connection on
any project, or through ``sqlite3`` alone into an existing SQLite project
(:class:`coder.db.lite.LiteProject`), which ``coder import`` writes while the files are
still being parsed on other cores (:class:`StreamedStore`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from coder.db.lite import LiteProject, Statements, marks
from coder.errors import ConflictError, NotFoundError
from coder.transcripts import (
    PARTICIPANT, SEGMENT_FIELDS, ImportReport, PreparedTranscript, parse_transcripts,
    segment_values,
)

if TYPE_CHECKING:
    from coder.db.engine import Project

_SEGMENT_INSERT = ('INSERT INTO segment (transcript_id, n, speaker, role, "start", "end", '
                   "text, char_start, char_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
assert SEGMENT_FIELDS == ("n", "speaker", "role", "start", "end", "text", "char_start",
                          "char_end")


@contextmanager
def _transaction(project: Project | LiteProject):
    """A write transaction's :class:`~coder.db.lite.Statements`, on either kind of project."""
    if isinstance(project, LiteProject):
        with project.write() as statements:
            yield statements
    else:
        with project.write() as conn:
            yield Statements.of(conn)


def store_transcripts(project: Project | LiteProject, report: ImportReport, *,
                      replace: bool = False, dry_run: bool = False) -> ImportReport:
    """Write parsed transcripts in one transaction (or only classify them, for a dry run)."""
    report.dry_run = dry_run
    ids = [t.id for t in report.transcripts]
    try:
        with _transaction(project) as sql:
            existing = _existing(sql, ids)
            for item in report.transcripts:
                _classify(sql, item, existing.get(item.id), replace, report.warnings)
            _meta_warnings(sql, report)
            if dry_run:
                raise _DryRun  # rolled back: nothing written
            _write(sql, report.transcripts)
    except _DryRun:
        pass
    return report


class _DryRun(Exception):
    """Leaves a dry run's transaction: rolled back, nothing written."""


def _meta_warnings(sql: Statements, report: ImportReport) -> None:
    if report.meta is None:
        return
    ids = [t.id for t in report.transcripts]
    known = set(ids) | {tid for tid, in sql.rows("SELECT id FROM transcript")}
    for tid in sorted(set(report.meta_rows) - known):
        report.warnings.append(f"{report.meta}: row {tid!r} matches no transcript")
    for item in report.transcripts:
        if item.id not in report.meta_rows:
            report.warnings.append(f"{item.path}: no row for {item.id!r} in {report.meta}")


class StreamedStore:
    """:func:`store_transcripts` for transcripts handed over while the rest are parsed
    (``parse_transcripts(on_item=store.add)``): batches are written as they come, in one
    write transaction that :meth:`finish` commits once every file parsed and the gate passed.
    Leaving the ``with`` block any other way (a bad file, personal data found, a conflict,
    Ctrl-C) rolls everything back, so the project is exactly as it was. The database does its
    share (SQLite writes without holding the interpreter) while the files are still parsed on
    other cores. Nothing the gate flagged is handed over, so it never reaches the database.
    ``project`` is a :class:`~coder.db.lite.LiteProject` (SQLite, no SQLAlchemy loaded) or a
    :class:`~coder.db.engine.Project`."""

    BATCH = 32

    def __init__(self, project: Project | LiteProject, *, replace: bool = False):
        import contextlib

        self.project, self.replace = project, replace
        self._stack = contextlib.ExitStack()
        self._sql: Statements | None = None
        self._pending: list[PreparedTranscript] = []
        self._warnings: list[str] = []  # the classification's, after the parser's (order)

    def __enter__(self) -> StreamedStore:
        return self

    def __exit__(self, *exc) -> bool:
        return self._stack.__exit__(*exc)

    def add(self, item: PreparedTranscript) -> None:
        self._pending.append(item)
        if len(self._pending) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._sql is None:
            self._sql = self._stack.enter_context(_transaction(self.project))
        items, self._pending = self._pending, []
        existing = _existing(self._sql, [i.id for i in items])
        for item in items:
            _classify(self._sql, item, existing.get(item.id), self.replace, self._warnings)
        _write(self._sql, items)

    def finish(self, report: ImportReport) -> ImportReport:
        """Write what is left, add the metadata warnings, commit."""
        with self._stack:
            self._flush()
            report.warnings.extend(self._warnings)
            _meta_warnings(self._sql, report)
        return report


def import_transcripts(project: Project, paths: Iterable[str | Path], *,
                       meta: Path | None = None, interviewer: str | None = None,
                       replace: bool = False, dry_run: bool = False,
                       encoding: str | None = None,
                       progress: Callable[[Path], None] | None = None,
                       allow_pii: bool = False, identifiers: Path | None = None,
                       speakers: dict[str, str] | None = None,
                       ner: bool = False) -> ImportReport:
    """Parse ``paths`` and store them as transcripts, all in one transaction."""
    from coder.roles import project_interviewer_labels

    report = parse_transcripts(paths, meta=meta, interviewer=interviewer, encoding=encoding,
                               progress=progress, allow_pii=allow_pii, identifiers=identifiers,
                               speakers=speakers, ner=ner,
                               interviewer_labels=project_interviewer_labels(project))
    return store_transcripts(project, report, replace=replace, dry_run=dry_run)


def _existing(sql: Statements, ids: list[str]) -> dict[str, tuple[str, dict[str, str]]]:
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for chunk in _chunks(ids, 500):
        for tid, sha in sql.rows(f"SELECT id, sha256 FROM transcript WHERE id IN "
                                 f"({marks(len(chunk))})", tuple(chunk)):
            found[tid] = (sha, {})
        for tid, name, value in sql.rows(f"SELECT transcript_id, name, value FROM attribute "
                                         f"WHERE transcript_id IN ({marks(len(chunk))})",
                                         tuple(chunk)):
            found[tid][1][name] = value
    return found


def _classify(sql: Statements, item: PreparedTranscript, existing, replace: bool,
              warnings: list[str]) -> None:
    if existing is None:
        item.status = "new"
        return
    sha, attributes = existing
    if sha == item.sha256:
        if not _split_differs(sql, item):
            item.status = "unchanged" if attributes == item.attributes else "updated"
            return
        if not replace:
            warnings.append(f"{item.path}: {item.id!r} is unchanged, but with the current "
                            "speaker and interviewer settings it splits differently — pass "
                            "--replace to re-split it")
            item.status = "unchanged" if attributes == item.attributes else "updated"
            return
        codings, reviews = _coded(sql, item.id)
        if codings or reviews:
            raise ConflictError(f"{item.path}: transcript {item.id!r} has {codings} codings and "
                                f"{reviews} reviewed segments, so it is not re-split — to change "
                                f"only who the interviewer is, run `coder transcripts relabel "
                                f"{item.id} --interviewer LABEL` (codings stay valid)")
        item.status = "resplit"
        return
    if not replace:
        raise ConflictError(f"{item.path}: transcript {item.id!r} already exists with different "
                            "content — pass --replace to overwrite it (allowed only while it has "
                            "no codings)")
    codings, reviews = _coded(sql, item.id)
    if codings or reviews:
        raise ConflictError(f"{item.path}: transcript {item.id!r} has {codings} codings and "
                            f"{reviews} reviewed segments — export them (coder codings export), "
                            "delete them, then re-import with --replace")
    item.status = "replaced"


def _coded(sql: Statements, transcript_id: str) -> tuple[int, int]:
    """(codings, reviews) on the segments of one transcript."""
    counts = [sql.rows(f"SELECT count(*) FROM {table} WHERE segment_id IN "
                       "(SELECT id FROM segment WHERE transcript_id = ?)", (transcript_id,))[0][0]
              for table in ("coding", "review")]
    return counts[0], counts[1]


def _split_differs(sql: Statements, item: PreparedTranscript) -> bool:
    """Whether the stored segments (speaker, role, text) or interviewer differ from ``item``'s."""
    stored = sql.rows("SELECT speaker, role, text FROM segment WHERE transcript_id = ? "
                      "ORDER BY n", (item.id,))
    interviewer = sql.rows("SELECT interviewer FROM transcript WHERE id = ?", (item.id,))[0][0]
    return interviewer != item.interviewer or \
        stored != [(s["speaker"], s["role"], s["text"]) for s in item.segments]


def _write(sql: Statements, items: list[PreparedTranscript]) -> None:
    now = sql.time(datetime.now(timezone.utc))
    replaced = [i.id for i in items if i.status in ("replaced", "resplit")]
    for chunk in _chunks(replaced, 500):
        for table, key in (("segment", "transcript_id"), ("attribute", "transcript_id"),
                           ("transcript", "id")):
            sql.run(f"DELETE FROM {table} WHERE {key} IN ({marks(len(chunk))})", tuple(chunk))
    fresh = [i for i in items if i.status in ("new", "replaced", "resplit")]
    updated = [i for i in items if i.status == "updated"]
    if not fresh and not updated:
        return
    people = {i.participant for i in fresh}
    known = set()
    for chunk in _chunks(sorted(people), 500):
        known |= {p for p, in sql.rows(f"SELECT id FROM participant WHERE id IN "
                                       f"({marks(len(chunk))})", tuple(chunk))}
    sql.many("INSERT INTO participant (id) VALUES (?)", [(p,) for p in sorted(people - known)])
    sql.many("INSERT INTO transcript (id, participant_id, source, format, sha256, interviewer, "
             "text, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             [(i.id, i.participant, str(i.path), i.format, i.sha256, i.interviewer, i.text, now)
              for i in fresh])
    sql.many(_SEGMENT_INSERT, [(i.id, *segment_values(seg)) for i in fresh for seg in i.segments])
    for chunk in _chunks([i.id for i in updated], 500):
        sql.run(f"DELETE FROM attribute WHERE transcript_id IN ({marks(len(chunk))})",
                tuple(chunk))
    sql.many("INSERT INTO attribute (transcript_id, name, value) VALUES (?, ?, ?)",
             [(i.id, k, v) for i in fresh + updated for k, v in i.attributes.items()])


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ---------------------------------------------------------------------------- reading back

def list_transcripts(project: Project) -> list[dict]:
    """One dict per transcript: id, participant, format, segments, participant segments, attrs."""
    from sqlalchemy import Integer, func, select

    from coder.db.tables import attribute as A, segment as S, transcript as T

    with project.read() as conn:
        counts = {tid: (total, part) for tid, total, part in conn.execute(
            select(S.c.transcript_id, func.count(),
                   func.sum((S.c.role == PARTICIPANT).cast(Integer)))
            .group_by(S.c.transcript_id))}
        attrs: dict[str, dict[str, str]] = {}
        for tid, name, value in conn.execute(select(A.c.transcript_id, A.c.name, A.c.value)):
            attrs.setdefault(tid, {})[name] = value
        rows = conn.execute(select(T.c.id, T.c.participant_id, T.c.format, T.c.source,
                                   T.c.imported_at).order_by(T.c.id)).all()
    return [{"id": r.id, "participant": r.participant_id, "format": r.format,
             "source": r.source, "segments": counts.get(r.id, (0, 0))[0],
             "participant_segments": int(counts.get(r.id, (0, 0))[1] or 0),
             "attributes": attrs.get(r.id, {}),
             "imported_at": r.imported_at.isoformat(timespec="seconds")} for r in rows]


def get_transcript(project: Project, transcript_id: str) -> dict:
    """The SPEC §8 shape: ``{"id", "attributes", "segments": [{n, speaker, role, start, end, text}]}``."""
    from sqlalchemy import select

    from coder.db.tables import attribute as A, segment as S, transcript as T

    with project.read() as conn:
        row = conn.execute(select(T.c.id).where(T.c.id == transcript_id)).first()
        if row is None:
            ids = conn.execute(select(T.c.id).order_by(T.c.id).limit(8)).scalars().all()
            hint = f" (have: {', '.join(ids)}…)" if ids else " (the project has none yet)"
            raise NotFoundError(f"no transcript {transcript_id!r}{hint} — see "
                                "`coder transcripts list`")
        attrs = dict(conn.execute(select(A.c.name, A.c.value)
                                  .where(A.c.transcript_id == transcript_id)).all())
        segs = conn.execute(select(S.c.n, S.c.speaker, S.c.role, S.c.start, S.c.end, S.c.text)
                            .where(S.c.transcript_id == transcript_id).order_by(S.c.n)).all()
    return {"id": transcript_id, "attributes": attrs,
            "segments": [dict(s._mapping) for s in segs]}


__all__ = ["StreamedStore", "get_transcript", "import_transcripts", "list_transcripts",
           "store_transcripts"]
