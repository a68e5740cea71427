"""Merging a separately coded project into this one (blind coding without a server).

Each coder codes alone in their own copy (:func:`coder.coding.blind.blind_copy`); the
supervisor brings the copies back with :func:`merge_project`. Everything is checked before
anything is written, in one write transaction on this project and one read transaction on the
other, so a refused merge leaves this project exactly as it was.

Matching rules:

- **transcripts** by id, else by the SHA-256 of their text; a matched transcript must have the
  same text and the same segmentation (number, character span and role of every segment),
  because codings point at segments. A transcript with codings that is missing here, or one
  whose text differs, refuses the merge; so does a project with no transcript in common.
- **codebooks** by version content (SHA-256 of the source): a coding made under a version
  that exists here keeps that version, others are recorded under the current version. Keys
  are carried over the renames (``renamed_from``) of this project's later versions; a key the
  current codebook does not have refuses the merge.
- **coders** by name (after ``coder_map``). A coder on both sides is merged segment by segment:
  segments only the other side reviewed come in; segments both reviewed must carry the same
  decision (codes, memos and every other coding column), else the merge is refused.

Rows are copied column by column: every column the two projects' ``review``, ``coding`` and
``decision`` tables share comes along (ids, coders, segments, codebook versions and code keys
mapped), so a column added by a later migration is merged without a change here. Times come in
as they were. Merging the same project twice changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import DateTime, inspect, insert, select
from sqlalchemy.engine import Connection, make_url

from coder.codebook.diff import rename_map
from coder.codebook.store import get_codebook
from coder.db.engine import Project, make_engine, resolve_url
from coder.db.models import (
    Codebook, Coder, Coding, Decision, Review, Segment, Transcript, utcnow,
)
from coder.errors import ConflictError, CoderError, NotFoundError

C, R, K, D = Coder.__table__, Review.__table__, Coding.__table__, Decision.__table__
S, T, CB = Segment.__table__, Transcript.__table__, Codebook.__table__

# Columns that say who, where and when rather than what was decided: not compared.
_NOT_DECISION = {"id", "coder_id", "segment_id", "codebook_id", "source"}
_SHOWN = 3  # conflicting segments named in an error


@dataclass
class CoderMerge:
    """What one coder of the other project brings: ``name`` here, ``source`` there;
    ``status`` new | existing | nothing (no reviews there)."""

    name: str
    source: str
    status: str
    segments: int = 0       # segments newly reviewed here
    codings: int = 0
    decisions: int = 0      # consensus decisions
    unchanged: int = 0      # segments both sides reviewed alike


@dataclass
class MergeReport:
    other: str
    dry_run: bool = False
    transcripts: int = 0            # transcripts of the other project matched here
    skipped: list[str] = field(default_factory=list)  # other transcripts without codings, absent
    codebook: str = ""
    coders: list[CoderMerge] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what reading a .qdpx file decided

    @property
    def changed(self) -> bool:
        return any(c.segments or c.codings or c.decisions for c in self.coders)


def merge_project(project: Project, other: str, *, coders: list[str] | None = None,
                  coder_map: dict[str, str] | None = None, dry_run: bool = False,
                  label: str | None = None) -> MergeReport:
    """Bring the reviews, codings and decisions of ``coders`` (default: all) of ``other`` (a
    path, URL or ``.qdpx`` file) into ``project``; ``coder_map`` renames coders on the way in.

    Raises :class:`ConflictError`/:class:`NotFoundError` (nothing written) when the projects
    do not fit together; see the module docstring for the rules.
    """
    if str(other).lower().endswith(".qdpx") and "://" not in str(other):
        return _merge_qdpx(project, Path(other), coders=coders, coder_map=coder_map,
                           dry_run=dry_run)
    url = resolve_url(str(other))
    label = label or _label(url)
    if _same_database(url, project.url):
        raise CoderError(f"{label}: that is this project itself — give the other coder's "
                         "project file or URL")
    engine = _open_other(url, label)
    try:
        with engine.connect() as src:
            with src.begin():
                data = _read_other(src, label, coders, coder_map or {})
        if dry_run:
            with project.read() as dst:
                return _apply(dst, data, label, dry_run=True)
        with project.write() as dst:
            return _apply(dst, data, label, dry_run=False)
    finally:
        engine.dispose()


# --- the other project -------------------------------------------------------------------


def _label(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or url
    return parsed.render_as_string(hide_password=True)


def _same_database(a: str, b: str) -> bool:
    ua, ub = make_url(a), make_url(b)
    if ua.get_backend_name() == ub.get_backend_name() == "sqlite":
        if not ua.database or not ub.database:
            return False
        try:
            return Path(ua.database).resolve() == Path(ub.database).resolve()
        except OSError:
            return False
    return ua.render_as_string(hide_password=True) == ub.render_as_string(hide_password=True)


def _open_other(url: str, label: str):
    """An engine on the other project, which is read, never migrated or written."""
    from coder.db.migrations import MIGRATIONS, applied_versions

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.is_file():
            raise NotFoundError(f"{label}: no such project file — check the path")
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        versions = applied_versions(engine)
    except Exception as exc:
        engine.dispose()
        raise CoderError(f"{label}: cannot open it as a coder project ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0]}) — give a project file made by coder, "
                         "a database URL or a .qdpx file") from exc
    needed = {"transcript", "segment", "coder", "review", "coding", "codebook"}
    if not needed <= tables or not versions:
        engine.dispose()
        missing = ", ".join(sorted(needed - tables)) or "schema_migration"
        raise CoderError(f"{label}: not a coder project (no {missing} table) — give a "
                         "project made by coder, a database URL or a .qdpx file")
    newer = versions - {v for v, _ in MIGRATIONS}
    if newer:
        engine.dispose()
        raise CoderError(f"{label}: made by a newer coder (schema version "
                         f"{max(newer)}) — update coder before merging it")
    return engine


def _columns(conn: Connection, table) -> list[str]:
    """The columns of ``table`` that both projects have, in this project's order."""
    there = {c["name"] for c in inspect(conn).get_columns(table.name)}
    return [c.name for c in table.columns if c.name in there]


@dataclass
class _Other:
    coders: list[tuple[int, str, str, str, datetime]]  # id, name there, name here, kind, created
    reviews: list[dict]
    codings: list[dict]
    decisions: list[dict]
    segments: dict[int, tuple[str, int]]                # segment id → (transcript, n)
    layout: dict[str, list[tuple]]                      # transcript → [(n, start, end, role)]
    texts: dict[str, str]                               # transcript → sha256 of its text
    codebooks: dict[int, str]                           # codebook id → sha256 of its source
    current_sha: str | None
    used_transcripts: set[str]
    columns: dict[str, list[str]]                       # table → columns both projects have


def _read_other(src: Connection, label: str, wanted: list[str] | None,
                coder_map: dict[str, str]) -> _Other:
    from coder.coding.store import check_coder_name

    rows = src.execute(select(C.c.id, C.c.name, C.c.kind, C.c.created_at)
                       .order_by(C.c.name)).all()
    by_name = {r.name: r for r in rows}
    if wanted:
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise NotFoundError(f"{label}: no coder {', '.join(map(repr, unknown))} there "
                                f"(coders: {', '.join(by_name) or 'none'}) — check --coders")
        rows = [by_name[n] for n in dict.fromkeys(wanted)]
    stray = [n for n in coder_map if n not in {r.name for r in rows}]
    if stray:
        raise NotFoundError(f"--coder-map names {', '.join(map(repr, stray))}, not a coder "
                            f"being merged from {label} (coders: {', '.join(by_name) or 'none'})")
    coders, targets = [], {}
    for r in rows:
        here = check_coder_name(coder_map.get(r.name, r.name))
        if here in targets:
            raise CoderError(f"--coder-map: {targets[here]} and {r.name} would both become "
                             f"{here} — map them to different names")
        targets[here] = r.name
        coders.append((r.id, r.name, here, r.kind, r.created_at))
    ids = [c[0] for c in coders]
    columns: dict[str, list[str]] = {}

    def fetch(table) -> list[dict]:
        columns[table.name] = _columns(src, table)
        if not ids:
            return []
        cols = [table.c[n] for n in columns[table.name]]
        return [dict(m) for m in src.execute(select(*cols).where(table.c.coder_id.in_(ids)))
                .mappings()]

    reviews, codings = fetch(R), fetch(K)
    decisions = fetch(D) if inspect(src).has_table("decision") else []
    segments, layout = {}, defaultdict(list)
    for sid, tid, n, start, end, role in src.execute(
            select(S.c.id, S.c.transcript_id, S.c.n, S.c.char_start, S.c.char_end, S.c.role)
            .order_by(S.c.transcript_id, S.c.n)):
        segments[sid] = (tid, n)
        layout[tid].append((n, start, end, role))
    texts = {tid: hashlib.sha256(text.encode("utf-8")).hexdigest()
             for tid, text in src.execute(select(T.c.id, T.c.text))}
    used = {segments[r["segment_id"]][0] for rows_ in (reviews, codings, decisions)
            for r in rows_}
    codebooks = dict(src.execute(select(CB.c.id, CB.c.sha256)).all())
    current = src.execute(select(CB.c.sha256).order_by(CB.c.version.desc()).limit(1)).scalar()
    return _Other(coders, reviews, codings, decisions, segments, dict(layout), texts,
                  codebooks, current, used, columns)


# --- this project ------------------------------------------------------------------------


def _apply(dst: Connection, o: _Other, label: str, *, dry_run: bool) -> MergeReport:
    report = MergeReport(other=label, dry_run=dry_run)
    seg_map = _match_transcripts(dst, o, label, report)
    key_map, book_map, report.codebook = _match_codebook(dst, o, label)
    here = {name: cid for cid, name in dst.execute(select(C.c.id, C.c.name))}

    plans = []
    for cid, there, name, kind, created in o.coders:
        reviews = [r for r in o.reviews if r["coder_id"] == cid]
        codings = [r for r in o.codings if r["coder_id"] == cid]
        decisions = [r for r in o.decisions if r["coder_id"] == cid]
        item = CoderMerge(name=name, source=there,
                          status="existing" if name in here else "new")
        report.coders.append(item)
        if not (reviews or codings or decisions):
            item.status = "nothing"
            continue
        for r in codings:
            r["code_key"] = key_map[r["code_key"]]
        for r in decisions:
            r["code_key"] = key_map.get(r["code_key"], r["code_key"])
        theirs = _decisions(reviews, codings, seg_map.__getitem__, o.columns)
        mine = (_decisions(*_rows_here(dst, here[name], o.columns), lambda sid: sid, o.columns)
                if name in here else {})
        clash = sorted(s for s in theirs.keys() & mine.keys() if theirs[s] != mine[s])
        if clash:
            raise ConflictError(_clash_message(dst, name, there, label, clash))
        new = {s for s in theirs if s not in mine}
        item.unchanged = len(theirs) - len(new)
        item.segments = sum(1 for r in reviews if seg_map[r["segment_id"]] in new)
        item.codings = sum(1 for r in codings if seg_map[r["segment_id"]] in new)
        item.decisions = sum(1 for r in decisions if seg_map[r["segment_id"]] in new)
        plans.append((item, kind, created, new, reviews, codings, decisions))

    if dry_run:
        return report
    for item, kind, created, new, reviews, codings, decisions in plans:
        if not (item.segments or item.codings or item.decisions):
            continue
        cid = here.get(item.name)
        if cid is None:
            cid = dst.execute(insert(C).values(name=item.name, kind=kind,
                                               created_at=_utc(created) or utcnow())
                              ).inserted_primary_key[0]
        for table, rows in ((R, reviews), (K, codings), (D, decisions)):
            times = [c.name for c in table.columns if isinstance(c.type, DateTime)]
            out = []
            for r in rows:
                sid = seg_map[r["segment_id"]]
                if sid not in new:
                    continue
                row = dict(r)
                row.pop("id", None)
                for c in times:
                    if c in row:
                        row[c] = _utc(row[c])
                row["coder_id"], row["segment_id"] = cid, sid
                if "codebook_id" in row and table is K:
                    row["codebook_id"] = book_map(row["codebook_id"])
                out.append(row)
            for i in range(0, len(out), 5000):
                dst.execute(insert(table), out[i:i + 5000])
    return report


def _match_transcripts(dst: Connection, o: _Other, label: str, report: MergeReport
                       ) -> dict[int, int]:
    """Other segment id → segment id here, for every transcript both projects have."""
    texts = {tid: hashlib.sha256(text.encode("utf-8")).hexdigest()
             for tid, text in dst.execute(select(T.c.id, T.c.text))}
    by_hash: dict[str, list[str]] = defaultdict(list)
    for tid, sha in texts.items():
        by_hash[sha].append(tid)
    if o.texts and not texts:
        raise ConflictError(f"{label}: this project has no transcripts yet — start it as a "
                            "blind copy of the other (coder project export THIS --db OTHER) "
                            "or import the same transcripts first")
    matched: dict[str, str] = {}
    problems: list[str] = []
    for tid, sha in sorted(o.texts.items()):
        if texts.get(tid) == sha:
            matched[tid] = tid
        elif (len(by_hash.get(sha, [])) == 1 and by_hash[sha][0] not in o.texts
              and by_hash[sha][0] not in matched.values()):
            matched[tid] = by_hash[sha][0]  # the same interview under another id
        elif tid not in o.used_transcripts:
            report.skipped.append(tid)
        elif tid in texts:
            problems.append(f"transcript {tid} has other text there than here — merge only "
                            "projects made from the same transcripts (hand coders a copy "
                            "with `coder project export`)")
        else:
            problems.append(f"transcript {tid} is coded there but not in this project — "
                            "import it here first (coder import FILE)")
    if o.texts and not matched:
        raise ConflictError(f"{label}: no transcript in common with this project — is it "
                            "the right project? Merge only copies of this project's "
                            "transcripts (coder project export)")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConflictError(f"{label}: {problems[0]}{more}")
    report.transcripts = len(matched)
    seg_map: dict[int, int] = {}
    here = defaultdict(dict)
    for sid, tid, n, start, end, role in dst.execute(
            select(S.c.id, S.c.transcript_id, S.c.n, S.c.char_start, S.c.char_end, S.c.role)
            .where(S.c.transcript_id.in_(sorted(set(matched.values()))))):
        here[tid][n] = (sid, (n, start, end, role))
    for tid in sorted(o.used_transcripts):
        mine = [v[1] for _, v in sorted(here[matched[tid]].items())]
        if mine != o.layout.get(tid, []):
            raise ConflictError(
                f"{label}: transcript {tid} is split into segments differently there than "
                f"here ({len(o.layout.get(tid, []))} vs {len(mine)} segments, or other "
                "speakers' roles) — re-import it with the same interviewer on both sides")
    for other_sid, (tid, n) in o.segments.items():
        if tid in matched and n in here[matched[tid]]:
            seg_map[other_sid] = here[matched[tid]][n][0]
    return seg_map


def _match_codebook(dst: Connection, o: _Other, label: str):
    """(key map, codebook-id mapper, description) for the other project's codings."""
    used = {r["code_key"] for r in o.codings} | {r["code_key"] for r in o.decisions}
    current = get_codebook(dst)
    if current is None:
        if not o.codings:
            return {}, lambda cid: None, "none"
        raise NotFoundError("no codebook loaded in this project — load the coders' codebook "
                            "first (coder codebook load FILE)")
    versions = {sha: (cid, v) for cid, v, sha in dst.execute(
        select(CB.c.id, CB.c.version, CB.c.sha256))}
    base = versions.get(o.current_sha, (None, None))[1]
    keys = {k: k for k in used}
    if base is not None:  # follow this project's renames since the version they coded with
        for version in range(base + 1, current.version + 1):
            step = get_codebook(dst, version)
            if step is None:
                continue
            renames = rename_map(sorted(set(keys.values())), step)
            keys = {k: renames.get(v, v) for k, v in keys.items()}
    else:
        renames = rename_map(sorted(used), current)
        keys = {k: renames.get(k, k) for k in used}
    unknown = sorted(k for k, v in keys.items() if v not in current.keys and
                     any(r["code_key"] == k for r in o.codings))
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise ConflictError(
            f"{label}: its codings use {len(unknown)} code(s) this project's codebook (version "
            f"{current.version}) does not have: {shown} — load the same codebook on both sides "
            "(coder codebook load FILE), with renamed_from: for renamed codes")
    same = {ocid: versions[sha][0] for ocid, sha in o.codebooks.items() if sha in versions}

    def book(ocid):
        return None if ocid is None else same.get(ocid, current.id)

    if o.current_sha == current.sha256:
        text = f"the same codebook (version {current.version})"
    elif base is not None:
        text = f"their codebook is version {base} here; codes carried to version {current.version}"
    else:
        text = (f"their codebook is not stored here; every code they used is in version "
                f"{current.version}")
    return keys, book, text


def _rows_here(dst: Connection, cid: int, columns: dict[str, list[str]]
               ) -> tuple[list[dict], list[dict]]:
    """The coder's review and coding rows here, in the columns the other project has too."""
    def rows(table) -> list[dict]:
        cols = [table.c[n] for n in columns[table.name]]
        return [dict(m) for m in dst.execute(select(*cols).where(table.c.coder_id == cid))
                .mappings()]

    return rows(R), rows(K)


def _compared(table, columns: list[str]) -> list[str]:
    """The columns of ``table`` that make up a decision: not ids, coders, segments, codebook
    versions, sources or times."""
    return [c.name for c in table.columns if c.name in columns
            and c.name not in _NOT_DECISION and not isinstance(c.type, DateTime)]


def _decisions(reviews: list[dict], codings: list[dict], where,
               columns: dict[str, list[str]]) -> dict[int, tuple]:
    """segment id here → a comparable decision: the review's own columns and the sorted
    codings, each in their :func:`_compared` columns."""
    review_cols, coding_cols = _compared(R, columns[R.name]), _compared(K, columns[K.name])
    result: dict[int, list] = {}
    for r in reviews:
        result[where(r["segment_id"])] = [tuple(r[c] for c in review_cols), []]
    for r in codings:
        result.setdefault(where(r["segment_id"]), [(), []])[1].append(
            tuple(r[c] for c in coding_cols))
    return {sid: (review, tuple(sorted(codes, key=repr))) for sid, (review, codes)
            in result.items()}


def _clash_message(dst: Connection, name: str, there: str, label: str, clash: list[int]) -> str:
    where = dst.execute(select(S.c.transcript_id, S.c.n).where(S.c.id.in_(clash[:_SHOWN]))
                        .order_by(S.c.transcript_id, S.c.n)).all()
    shown = ", ".join(f"{t} #{n}" for t, n in where) + (" …" if len(clash) > _SHOWN else "")
    return (f"{label}: coder {name} is in both projects with different decisions on "
            f"{len(clash)} segment(s) ({shown}) — merge under a new name with --coder-map "
            f"{there}={name}2, or remove one side's codings first (coder codings delete "
            f"--coder {name})")


def _utc(value):
    """Times as aware UTC (SQLite hands back naive UTC; PostgreSQL needs aware)."""
    if isinstance(value, datetime):
        return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None
                else value.astimezone(timezone.utc))
    return value


# --- REFI-QDA ----------------------------------------------------------------------------


def _merge_qdpx(project: Project, path: Path, **options) -> MergeReport:
    """A ``.qdpx`` file: import it into a blind copy of this project (same transcripts and
    codebook, no coders), then merge that copy like any other project."""
    import tempfile

    from coder.coding.blind import blind_copy
    from coder.db.engine import open_project
    from coder.refi import import_qdpx

    if not path.is_file():
        raise NotFoundError(f"{path}: no such file — check the path")
    with tempfile.TemporaryDirectory(prefix="coder-merge-") as tmp:
        staged = str(Path(tmp) / "staged.db")
        blind_copy(project, staged, coder=None)
        stage = open_project(staged)
        try:
            read = import_qdpx(stage, path, widen=True)  # partial selections: warned
        finally:
            stage.close()
        report = merge_project(project, staged, label=str(path), **options)
        report.warnings[:0] = read.warnings
        return report
