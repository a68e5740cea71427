"""Codings from and to spreadsheets (SPEC §5): CSV or XLSX with ``transcript, segment, code``
and optional ``memo``.

An import is validated whole before anything is written: every bad row is an error naming
``FILE:ROW`` (the spreadsheet row, header = row 1), and nothing is stored. Review coverage
(SPEC §6): importing a coder's file covers every participant segment of each transcript in it,
unless ``partial``, where only the rows' segments count. The coder's codings on covered
segments are replaced by the file's, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, delete, select, update

from coder.coding.store import (
    K, R, S, categories, check_coder_name, code_keys, current_codebook_id,
    get_or_create_coder, mark_reviewed,
)
from coder.db.engine import Project, insert_rows
from coder.spreadsheet_safety import restore
from coder.db import tables
from coder.db.tables import utcnow
from coder.errors import InputError, NotFoundError

COLUMNS = ("transcript", "segment", "code", "memo", "quote")
EXPORT_COLUMNS = ("transcript", "segment", "code", "memo", "coder", "speaker", "text", "quote")


@dataclass
class CodingRow:
    line: int
    transcript: str
    segment: int
    code: str
    memo: str
    quote: str = ""   # the words of the segment that carry the code (empty: the whole turn)


@dataclass
class CodingsImport:
    coder: str
    rows: int = 0
    codings: int = 0
    segments: int = 0
    transcripts: list[str] = field(default_factory=list)
    created: bool = False        # the coder is new to the project
    others: list[str] = field(default_factory=list)  # the coders that existed before
    unlisted: int = 0  # covered segments without a row: marked "reviewed, no code"


def read_rows(path: Path, encoding: str | None = None) -> list[CodingRow]:
    """Rows of a codings CSV/TSV/XLSX, with their spreadsheet row numbers (see
    :mod:`coder.tables` for encodings, delimiters and limits)."""
    from coder.tables import read_table

    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".csv", ".tsv", ".txt", ""):
        raise InputError(path, f"not a CSV or XLSX file ({path.suffix})",
                         "save the codings as .csv or .xlsx with columns transcript, segment, "
                         "code, memo")
    table = read_table(path, what="codings file", required=COLUMNS[:3], encoding=encoding,
                       fix="the header must name transcript, segment, code (memo optional)")
    idx = {c: table.header.index(c) for c in COLUMNS if c in table.header}
    with open(path, "rb") as f:
        xlsx = f.read(2) == b"PK"
    where = [idx.get(c, -1) for c in COLUMNS]  # transcript, segment, code, memo, quote
    rows = []
    for number, raw in table.rows:
        # restore(): undo the formula marks a CSV export puts on text such as "=…" (an XLSX
        # cell is a string cell, never a formula, and is taken as it is)
        cells = [raw[i].strip() if 0 <= i < len(raw) else "" for i in where]
        if not xlsx:
            cells = [restore(c) if c[:1] == "'" else c for c in cells]
        transcript, segment, code, memo, quote = cells
        if not transcript:
            raise InputError(path, "empty transcript", "give the transcript id", line=number)
        rows.append(CodingRow(number, transcript, _segment(path, segment, number), code, memo,
                              quote))
    return rows


def _segment(path: Path, value: str, line: int) -> int:
    """A segment number: ``4`` or ``4.0`` (spreadsheets write numbers as floats)."""
    if value.isascii() and value.isdigit():  # the common case, without a float
        return int(value)
    try:
        number = float(value)
        segment = int(number)
        if number != segment:
            raise ValueError
    except (ValueError, OverflowError):  # OverflowError: inf
        raise InputError(path, f"segment {value!r} is not a segment number",
                         "give the segment number n (see coder transcripts show ID)",
                         line=line) from None
    return segment


def import_codings(project: Project, path: Path, coder: str, *,
                   partial: bool = False, encoding: str | None = None,
                   new_coder: bool = False) -> CodingsImport:
    """Validate every row, then store the coder's codings and reviews in one transaction.

    A memo repeated on several rows of one segment (one row per code) is kept once. A coder
    name the project does not know is refused (a typo would otherwise become a new coder who
    joins every agreement report) unless ``new_coder`` or it is the project's first human
    coder; see :func:`coder.names.needs_confirmation`.
    """
    from coder import names

    coder = check_coder_name(coder)
    rows = read_rows(path, encoding)
    if not rows:
        raise InputError(path, "no coding rows", "add rows transcript,segment,code[,memo]")
    T = tables.transcript
    with project.write() as conn:
        keys = set(code_keys(conn))
        grouping = categories(conn)
        if not keys:
            raise NotFoundError("no codebook loaded — run `coder codebook load "
                                "codebooks/csto-2022.yaml` first")
        tids = sorted({r.transcript for r in rows})
        known = set(conn.execute(select(T.c.id).where(T.c.id.in_(tids))).scalars())
        segs: dict[tuple[str, int], tuple[int, str]] = {}
        counts: dict[str, int] = defaultdict(int)
        for tid, n, sid, role in conn.execute(
                select(S.c.transcript_id, S.c.n, S.c.id, S.c.role)
                .where(S.c.transcript_id.in_(sorted(known)))):
            segs[(tid, n)] = (sid, role)
            counts[tid] += 1
        quoted = {segs[(r.transcript, r.segment)][0] for r in rows
                  if r.quote and (r.transcript, r.segment) in segs}
        texts = dict(conn.execute(select(S.c.id, S.c.text).where(S.c.id.in_(sorted(quoted))))
                     .all()) if quoted else {}
        spans: dict[tuple[int, str], tuple[int, int]] = {}
        per_segment: dict[int, set[str]] = defaultdict(set)
        memos: dict[int, list[str]] = defaultdict(list)
        for r in rows:
            where = dict(path=path, line=r.line)
            if r.transcript not in known:
                raise InputError(problem=f"unknown transcript {r.transcript!r}",
                                 fix="import it first or fix the id (coder transcripts list)",
                                 **where)
            if (r.transcript, r.segment) not in segs:
                raise InputError(problem=f"segment {r.segment} out of range for "
                                 f"{r.transcript} (1–{counts[r.transcript]})",
                                 fix="use the numbers shown by coder transcripts show", **where)
            sid, role = segs[(r.transcript, r.segment)]
            if role != "participant":
                raise InputError(problem=f"segment {r.segment} of {r.transcript} is an "
                                 "interviewer turn", fix="code only participant segments",
                                 **where)
            if r.code and r.code not in keys:
                raise InputError(problem=f"unknown code {r.code!r}",
                                 fix="use a full key from coder codebook show, e.g. "
                                 f"{_closest(r.code, keys)}", **where)
            if r.code in grouping:
                subs = {k for k in keys if k.startswith(r.code + ".")} or keys
                raise InputError(problem=f"{r.code!r} is a category (codable: false): it only "
                                 "groups its sub-codes", fix="apply one of its sub-codes, e.g. "
                                 f"{_closest(r.code + '.', subs)}", **where)
            per_segment[sid]  # noqa: B018 - a reviewed segment, with or without codes
            if r.code:
                per_segment[sid].add(r.code)
            if r.quote:
                span = find_quote(texts.get(sid, ""), r.quote)
                if not r.code or span is None:
                    raise InputError(problem="quote given without a code" if not r.code else
                                     f"the quote {r.quote[:60]!r} is not in segment "
                                     f"{r.segment} of {r.transcript}",
                                     fix="copy the words from the segment's text (coder "
                                     "transcripts show), or leave quote empty for the whole "
                                     "turn", **where)
                spans[(sid, r.code)] = span
            if r.memo and r.memo not in memos[sid]:
                memos[sid].append(r.memo)
        others = names.existing_coders(conn)
        if names.needs_confirmation(conn, coder) and not new_coder:
            raise names.new_coder_refusal(conn, coder)
        cid = get_or_create_coder(conn, coder)
        codebook_id = current_codebook_id(conn)
        if partial:
            covered = sorted(per_segment)
        else:
            covered = sorted(sid for (tid, _n), (sid, role) in segs.items()
                             if role == "participant")
        for i in range(0, len(covered), 500):
            conn.execute(delete(K).where(and_(K.c.coder_id == cid,
                                              K.c.segment_id.in_(covered[i:i + 500]))))
        now = utcnow()
        none = (None, None)
        insert_rows(conn, K, ("coder_id", "segment_id", "code_key", "codebook_id", "memo",
                              "created_at", "span_start", "span_end"),
                    [(cid, sid, key, codebook_id, None, now, *spans.get((sid, key), none))
                     for sid, codes in per_segment.items() for key in sorted(codes)])
        mark_reviewed(conn, cid, covered, source="import")
        for sid, texts in memos.items():
            conn.execute(update(R).where(and_(R.c.coder_id == cid, R.c.segment_id == sid))
                         .values(memo="; ".join(texts)))
    return CodingsImport(coder=coder, rows=len(rows),
                         codings=sum(len(c) for c in per_segment.values()),
                         segments=len(covered), transcripts=tids,
                         created=coder not in others, others=others,
                         unlisted=len(covered) - len(per_segment))


def _closest(code: str, keys: set[str]) -> str:
    import difflib

    match = difflib.get_close_matches(code, sorted(keys), n=1, cutoff=0.0)
    return match[0] if match else "power_transfer"


def export_rows(project: Project, coder: str | None = None) -> list[list]:
    """Rows of EXPORT_COLUMNS: one per coding, and one with empty code per reviewed segment
    without codes, ordered by coder, transcript, segment."""
    from coder.coding.store import coder_id

    C = tables.coder
    with project.read() as conn:
        q = (select(C.c.name, S.c.transcript_id, S.c.n, S.c.speaker, S.c.text, R.c.memo,
                    R.c.segment_id, R.c.coder_id)
             .join(C, C.c.id == R.c.coder_id).join(S, S.c.id == R.c.segment_id))
        if coder is not None:
            q = q.where(R.c.coder_id == coder_id(conn, coder))
        reviews = conn.execute(q.order_by(C.c.name, S.c.transcript_id, S.c.n)).all()
        codes: dict[tuple[int, int], list[tuple[str, int | None, int | None]]] = \
            defaultdict(list)
        qc = select(K.c.coder_id, K.c.segment_id, K.c.code_key, K.c.span_start,
                    K.c.span_end).order_by(K.c.code_key)
        for cid, sid, key, a, b in conn.execute(qc):
            codes[(cid, sid)].append((key, a, b))
    rows = []
    for r in reviews:
        for i, (key, a, b) in enumerate(codes.get((r.coder_id, r.segment_id))
                                        or [("", None, None)]):
            rows.append([r.transcript_id, r.n, key, (r.memo or "") if i == 0 else "",
                         r.name, r.speaker, r.text, r.text[a:b] if a is not None else ""])
    return rows


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Offsets of ``quote`` in ``text`` (whitespace collapsed, case ignored), or None."""
    import re

    words = quote.split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), text, re.IGNORECASE)
    return (m.start(), m.end()) if m else None

