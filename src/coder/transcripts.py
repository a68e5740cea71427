"""Importing transcripts into a project, and reading them back (SPEC §3).

:func:`import_transcripts` parses every file first and touches the database only when all of
them parsed, in one write transaction: a bad file anywhere leaves the project exactly as it was.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from sqlalchemy import Integer, delete, func, select

from coder.db.engine import Project, insert_rows
from coder.db.models import Attribute, Coding, Participant, Review, Segment, Transcript, utcnow
from coder.errors import ConflictError, InputError, NotFoundError

INTERVIEWER_LABELS = ("interviewer", "q", "i", "int")
SEGMENT_FIELDS = ("n", "speaker", "role", "start", "end", "text", "char_start", "char_end")
segment_values = itemgetter(*SEGMENT_FIELDS)
PARTICIPANT, INTERVIEWER = "participant", "interviewer"

T = Transcript.__table__
S = Segment.__table__
A = Attribute.__table__
P = Participant.__table__


@dataclass
class PreparedTranscript:
    """A parsed file, resolved against metadata, ready to insert."""

    id: str
    path: Path
    format: str
    sha256: str
    participant: str
    interviewer: str | None
    attributes: dict[str, str]
    text: str
    segments: list[dict]
    status: str = "new"  # new | unchanged | replaced | updated (attributes only)

    @property
    def participant_segments(self) -> int:
        return sum(1 for s in self.segments if s["role"] == PARTICIPANT)


@dataclass
class ImportReport:
    transcripts: list[PreparedTranscript] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    meta: Path | None = None
    meta_rows: dict[str, dict[str, str]] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for t in self.transcripts if t.status == status)


# ---------------------------------------------------------------------------- reading inputs

def collect_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders searched recursively for transcript suffixes, in sorted order."""
    from coder.importers import SUFFIXES

    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in SUFFIXES
                                and not any(part.startswith(".") for part in p.parts)))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(path, "no such file or folder", "check the path")
    if not found:
        raise InputError(", ".join(map(str, paths)), "no transcript files found",
                         "give .txt, .md, .docx, .vtt or .srt files or a folder holding them")
    return found


def read_meta(path: Path) -> dict[str, dict[str, str]]:
    """``participants.csv``: a ``transcript`` column, every other column an attribute."""
    from coder.fileio import read_input
    from coder.importers.base import decode

    data = read_input(path, "participants file", "check the --meta path")
    reader = csv.DictReader(io.StringIO(decode(Path(path), data)))
    fields = [f.strip() for f in (reader.fieldnames or [])]
    if "transcript" not in fields:
        raise InputError(path, "no `transcript` column", "add a header row whose first column "
                         "is `transcript` (the transcript id, i.e. the file stem)", line=1)
    reader.fieldnames = fields
    rows: dict[str, dict[str, str]] = {}
    for row in reader:
        line = reader.line_num
        tid = (row.get("transcript") or "").strip()
        if not tid:
            raise InputError(path, "empty `transcript` value", "give the transcript id",
                             line=line)
        if tid in rows:
            raise InputError(path, f"transcript {tid!r} listed twice",
                             "keep one row per transcript", line=line)
        rows[tid] = {k: (v or "").strip() for k, v in row.items()
                     if k and k != "transcript" and v is not None and (v or "").strip()}
    return rows


def _find_interviewer(speakers: list[str], meta_label: str | None, option: str | None):
    wanted = meta_label or option
    if wanted:
        for s in speakers:
            if s.casefold() == wanted.casefold():
                return s
        return None
    for s in speakers:
        if s.casefold().rstrip(".") in INTERVIEWER_LABELS:
            return s
    return None


def prepare(parsed, meta_rows: dict[str, dict[str, str]], interviewer: str | None,
            warnings: list[str]) -> PreparedTranscript:
    """Resolve id, attributes, roles and offsets of one parsed transcript."""
    tid = parsed.meta.get("id") or parsed.path.stem
    attributes = {k: v for k, v in meta_rows.get(tid, {}).items()}
    attributes.update({k: v for k, v in parsed.meta.items() if k != "id" and v != ""})
    speakers = list(dict.fromkeys(t.speaker for t in parsed.turns))
    label = _find_interviewer(speakers, attributes.get("interviewer"), interviewer)
    if label is None:
        given = attributes.get("interviewer") or interviewer
        why = f"no speaker is labelled {given!r}" if given else "no interviewer label found"
        warnings.append(f"{parsed.path}: {why}; every turn imported as participant — set "
                        "`interviewer` in the metadata or pass --interviewer LABEL")
    text_parts, segments, offset = [], [], 0
    for n, turn in enumerate(parsed.turns, start=1):
        prefix = f"{turn.speaker}: "
        start = offset + len(prefix)
        segments.append({"n": n, "speaker": turn.speaker,
                         "role": INTERVIEWER if turn.speaker == label else PARTICIPANT,
                         "start": turn.start, "end": turn.end, "text": turn.text,
                         "char_start": start, "char_end": start + len(turn.text)})
        text_parts.append(prefix + turn.text)
        offset = start + len(turn.text) + 2  # the "\n\n" between turns
    return PreparedTranscript(
        id=tid, path=parsed.path, format=parsed.format, sha256=parsed.sha256,
        participant=attributes.get("participant") or tid, interviewer=label,
        attributes=attributes, text="\n\n".join(text_parts), segments=segments)


# ---------------------------------------------------------------------------- importing

def parse_transcripts(paths: Iterable[str | Path], *, meta: Path | None = None,
                      interviewer: str | None = None, encoding: str | None = None,
                      progress: Callable[[Path], None] | None = None,
                      allow_pii: bool = False, identifiers: Path | None = None,
                      ner: bool = False) -> ImportReport:
    """Parse and resolve every file; no database needed. Any bad file raises InputError.

    Unless ``allow_pii``, the personal-data gate scans every file (with the names of the
    ``identifiers`` file, which is read, never stored) and raises
    :class:`~coder.anonymize.PiiFound` listing each finding.
    """
    from coder.importers import parse_file

    files = collect_paths(paths)
    report = ImportReport(meta=meta, meta_rows=read_meta(meta) if meta else {})
    seen: dict[str, Path] = {}
    gate = None
    if not allow_pii:
        from coder.anonymize import ImportGate

        gate = ImportGate(identifiers, files=files, meta=meta, encoding=encoding, ner=ner)
    for path in files:
        parsed = parse_file(path, encoding=encoding)
        item = prepare(parsed, report.meta_rows, interviewer, report.warnings)
        if gate is not None:
            gate.check(parsed, item.id)
        if item.id in seen:
            raise InputError(path, f"duplicate transcript id {item.id!r} (also {seen[item.id]})",
                             "rename one file or give it an `id` in its front matter")
        seen[item.id] = path
        report.transcripts.append(item)
        if progress:
            progress(path)
    if gate is not None:
        gate.close()
    return report


def store_transcripts(project: Project, report: ImportReport, *, replace: bool = False,
                      dry_run: bool = False) -> ImportReport:
    """Write parsed transcripts in one transaction (or only classify them, for a dry run)."""
    report.dry_run = dry_run
    ids = [t.id for t in report.transcripts]
    with project.write() as conn:
        existing = _existing(conn, ids)
        for item in report.transcripts:
            _classify(conn, item, existing.get(item.id), replace)
        if report.meta is not None:
            known = set(ids) | set(conn.execute(select(T.c.id)).scalars())
            for tid in sorted(set(report.meta_rows) - known):
                report.warnings.append(f"{report.meta}: row {tid!r} matches no transcript")
            for item in report.transcripts:
                if item.id not in report.meta_rows:
                    report.warnings.append(f"{item.path}: no row for {item.id!r} in "
                                           f"{report.meta}")
        if dry_run:
            conn.rollback()
        else:
            _write(conn, report.transcripts)
    return report


def import_transcripts(project: Project, paths: Iterable[str | Path], *,
                       meta: Path | None = None, interviewer: str | None = None,
                       replace: bool = False, dry_run: bool = False,
                       encoding: str | None = None,
                       progress: Callable[[Path], None] | None = None,
                       allow_pii: bool = False, identifiers: Path | None = None,
                       ner: bool = False) -> ImportReport:
    """Parse ``paths`` and store them as transcripts, all in one transaction."""
    report = parse_transcripts(paths, meta=meta, interviewer=interviewer, encoding=encoding,
                               progress=progress, allow_pii=allow_pii, identifiers=identifiers,
                               ner=ner)
    return store_transcripts(project, report, replace=replace, dry_run=dry_run)


def _existing(conn, ids: list[str]) -> dict[str, tuple[str, dict[str, str]]]:
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for chunk in _chunks(ids, 500):
        for tid, sha in conn.execute(select(T.c.id, T.c.sha256).where(T.c.id.in_(chunk))):
            found[tid] = (sha, {})
        for tid, name, value in conn.execute(
                select(A.c.transcript_id, A.c.name, A.c.value).where(A.c.transcript_id.in_(chunk))):
            found[tid][1][name] = value
    return found


def _classify(conn, item: PreparedTranscript, existing, replace: bool) -> None:
    if existing is None:
        item.status = "new"
        return
    sha, attributes = existing
    if sha == item.sha256:
        item.status = "unchanged" if attributes == item.attributes else "updated"
        return
    if not replace:
        raise ConflictError(f"{item.path}: transcript {item.id!r} already exists with different "
                            "content — pass --replace to overwrite it (allowed only while it has "
                            "no codings)")
    segs = select(S.c.id).where(S.c.transcript_id == item.id)
    codings = conn.execute(select(func.count()).select_from(Coding.__table__)
                           .where(Coding.__table__.c.segment_id.in_(segs))).scalar_one()
    reviews = conn.execute(select(func.count()).select_from(Review.__table__)
                           .where(Review.__table__.c.segment_id.in_(segs))).scalar_one()
    if codings or reviews:
        raise ConflictError(f"{item.path}: transcript {item.id!r} has {codings} codings and "
                            f"{reviews} reviewed segments — export them (coder codings export), "
                            "delete them, then re-import with --replace")
    item.status = "replaced"


def _write(conn, items: list[PreparedTranscript]) -> None:
    now = utcnow()
    replaced = [i.id for i in items if i.status == "replaced"]
    for chunk in _chunks(replaced, 500):
        conn.execute(delete(S).where(S.c.transcript_id.in_(chunk)))
        conn.execute(delete(A).where(A.c.transcript_id.in_(chunk)))
        conn.execute(delete(T).where(T.c.id.in_(chunk)))
    fresh = [i for i in items if i.status in ("new", "replaced")]
    updated = [i for i in items if i.status == "updated"]
    if not fresh and not updated:
        return
    people = {i.participant for i in fresh}
    known = set()
    for chunk in _chunks(sorted(people), 500):
        known |= set(conn.execute(select(P.c.id).where(P.c.id.in_(chunk))).scalars())
    insert_rows(conn, P, ("id",), [(p,) for p in sorted(people - known)])
    insert_rows(conn, T, ("id", "participant_id", "source", "format", "sha256", "interviewer",
                          "text", "imported_at"),
                [(i.id, i.participant, str(i.path), i.format, i.sha256, i.interviewer, i.text,
                  now) for i in fresh])
    insert_rows(conn, S, ("transcript_id",) + SEGMENT_FIELDS,
                [(i.id, *segment_values(seg)) for i in fresh for seg in i.segments])
    for chunk in _chunks([i.id for i in updated], 500):
        conn.execute(delete(A).where(A.c.transcript_id.in_(chunk)))
    insert_rows(conn, A, ("transcript_id", "name", "value"),
                [(i.id, k, v) for i in fresh + updated for k, v in i.attributes.items()])


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ---------------------------------------------------------------------------- reading back

def list_transcripts(project: Project) -> list[dict]:
    """One dict per transcript: id, participant, format, segments, participant segments, attrs."""
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


__all__ = ["ImportReport", "PreparedTranscript", "collect_paths", "get_transcript",
           "import_transcripts", "list_transcripts", "parse_transcripts", "read_meta",
           "store_transcripts"]
