"""Importing a REFI-QDA project (``.qdpx``) into a coder project, in one write transaction.

The archive is read and checked whole first (:func:`coder.refi.read.read_qdpx`); then one
transaction maps it, so any error leaves the project exactly as it was:

- **codes** → a codebook version (:func:`coder.refi.codebook.codebook_from_refi`); none is
  added when the codes equal the current codebook's;
- **users** → coders, named from the user's name (accents dropped, other characters → ``_``);
  a coding's coder is its ``creatingUser``, else its selection's, else the project's; the
  `` (machine coder)`` / `` (reconciled consensus)`` that coder's export adds to a User's name
  is taken off again and gives the coder's kind;
- **text sources** → transcripts (id = the source name without a file suffix), split into
  segments by :mod:`coder.refi.segments` (speaker turns by the transcript readers). A
  transcript that already exists with the same text keeps its segments and selections are
  placed on them; with other text it is refused;
- **selections** → the participant segments they overlap, each Coding a coding there;
- **attributes**: ``participants.csv`` rows (``--meta``), then the variables of the source's
  Case(s), then the names of the document sets it belongs to as ``set`` (MAXQDA; several
  joined with ``; ``), then ATLAS.ti-style sets named ``name: value``, then the source's own
  variables, later ones winning; the participant is the ``participant`` variable, else the
  case's name; the names of Cases that are not the participant become ``case``;
- **memos**: a Note referenced by a Coding, and the Description of a selection with codings
  (where QualCoder, ATLAS.ti and coder write it) unless it repeats a Note of the selection
  → the memo of those codings; a Note of a
  selection, or the Description of one without codings (MAXQDA, coder) → the review memo of
  the note's author (else of the selection's coders or creator);
- **exactness**: a selection that leaves part of a segment's words uncovered would widen its
  codings to the whole segment: refused on a transcript already in the project, done with a
  warning on a new source split into speaker turns;
- **reviews**: like ``coder codings import``, a coder with codings (or memos) in a transcript
  has reviewed all its participant segments, and their codings there are replaced.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import and_, delete, insert, select, update

from coder.codebook import current_codebook
from coder.coding.store import K, R, S, get_or_create_coder, mark_reviewed
from coder.refi.guards import archive_coder, check_guids
from coder.db.engine import Project
from coder.db.models import Attribute, Participant, Transcript, utcnow
from coder.errors import ConflictError
from coder.refi.codebook import (
    CodebookMapping, ascii_fold, codebook_from_refi, load_refi_codebook,
)
from coder.refi.model import RefiProject, RefiSelection, RefiSource, RefiUser
from coder.refi.read import read_qdpx
from coder.refi.segments import overlapping, selection_spans, speaker_turns

T, A, P = Transcript.__table__, Attribute.__table__, Participant.__table__
_SUFFIX = re.compile(r"\.(txt|docx?|rtf|odt|pdf|md)$", re.IGNORECASE)


@dataclass
class SourceResult:
    """One text source: ``status`` new | existing | skipped; ``split`` how it was segmented."""

    id: str
    name: str
    status: str
    split: str = ""
    segments: int = 0
    participant_segments: int = 0
    selections: int = 0
    reason: str | None = None


@dataclass
class PlacedSelection:
    """Where a selection landed: ``[char_start, char_end)`` of the transcript text, and the
    numbers of the segments its codings went to; ``codings`` as ``(coder, code key)``."""

    guid: str | None
    transcript: str
    char_start: int
    char_end: int
    segments: list[int]
    codings: list[tuple[str, str]]


@dataclass
class QdpxImport:
    path: Path
    origin: str
    units: str
    sources: list[SourceResult] = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    codebook: str = "none"          # created | unchanged | none
    codebook_version: int | None = None
    codes: int = 0
    codings: int = 0
    reviewed: int = 0
    selections: list[PlacedSelection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False


class _Seg(NamedTuple):
    n: int
    id: int
    role: str
    start: int
    end: int


@dataclass
class _Placed:
    """A stored transcript's segments, ordered by position."""

    transcript: str
    segments: list[_Seg]
    text: str = ""
    existing: bool = False   # the transcript was already in the project

    def participant_ids(self) -> list[int]:
        return [seg.id for seg in self.segments if seg.role == "participant"]

    def covering(self, start: int, end: int) -> list[_Seg]:
        """The participant segments sharing a character with ``[start, end)``."""
        spans = [(seg.start, seg.end) for seg in self.segments]
        return [self.segments[i] for i in overlapping(spans, start, end)
                if self.segments[i].role == "participant"]


@dataclass
class _Planned:
    source: RefiSource
    id: str
    participant: str
    attributes: dict[str, str]


@dataclass
class PreparedQdpx:
    """A project read and planned, ready to store: nothing here touches a database."""

    refi: RefiProject
    mapping: CodebookMapping | None
    planned: list[_Planned]
    interviewer: str | None
    warnings: list[str]


def prepare_qdpx(path: str | Path, *, meta: Path | None = None,
                 interviewer: str | None = None, allow_pii: bool = False,
                 identifiers: Path | None = None) -> PreparedQdpx:
    """Read and check the ``.qdpx`` at ``path`` (and the ``--meta`` CSV); no database needed.
    Unsafe or unreadable input raises :class:`~coder.errors.InputError`; unless
    ``allow_pii``, personal data in a source's text raises :class:`~coder.anonymize.PiiFound`
    (the same gate as for transcript files)."""
    from coder.transcripts import read_meta

    refi = read_qdpx(path)
    check_guids(refi)
    if not allow_pii:
        _pii_gate(refi, identifiers)
    meta_rows = read_meta(meta) if meta else {}
    mapping = (codebook_from_refi(refi.codes, refi.name, str(refi.path))
               if refi.codes else None)
    if mapping is not None:
        _codable_where_coded(refi, mapping)
    warnings = list(refi.warnings) + (mapping.warnings if mapping else [])
    return PreparedQdpx(refi, mapping, _plan(refi, meta_rows), interviewer, warnings)


def _codable_where_coded(refi: RefiProject, mapping: CodebookMapping) -> None:
    """A category (``isCodable="false"``) that the project codes all the same is imported as a
    code: the codings are kept, with a warning."""
    coded = {coding.code for source in refi.sources
             for coding in [*source.codings, *(c for s in source.selections for c in s.codings)]}
    specs = {code.key: code for code in mapping.spec.codes}
    for guid in sorted(coded & set(mapping.keys)):
        spec = specs.get(mapping.keys[guid])
        if spec is not None and not spec.codable:
            spec.codable = True
            mapping.warnings.append(f"{refi.path}: code {spec.label!r} is marked not codable "
                                    "(a category) but has codings; imported as a code")


def _pii_gate(refi: RefiProject, identifiers: Path | None) -> None:
    from coder.anonymize import PiiFound, load_identifiers, scan_text

    ids = load_identifiers(identifiers) if identifiers else None
    findings = []
    for source in refi.sources:
        if source.text:
            findings += scan_text(source.text, identifiers=ids,
                                  source=f"{refi.path}!{source.name}")
    if findings:
        raise PiiFound(findings, "pseudonymize the sources in the other tool (or export, "
                       "coder anonymize, re-import), or pass --allow-pii if the data is public")


def store_qdpx(project: Project, prepared: PreparedQdpx, *, dry_run: bool = False,
               coder_map: dict[str, str] | None = None, widen: bool = False) -> QdpxImport:
    """Map a prepared project into ``project`` in one write transaction, rolled back on any
    error (and for a dry run).

    A selection covering only part of a segment of a transcript already in the project is
    refused, unless ``widen`` (``coder merge``): then its codings apply to the whole segment,
    with a warning, as on a new transcript split into speaker turns."""
    refi = prepared.refi
    report = QdpxImport(path=refi.path, origin=refi.origin, units=refi.units,
                        warnings=list(prepared.warnings), dry_run=dry_run)
    report.sources = [SourceResult(id="", name=s.name, status="skipped", reason=s.skipped)
                      for s in refi.sources if s.text is None]
    with project.write() as conn:
        codebook_id = _store_codebook(conn, prepared.mapping, report)
        users = _store_users(conn, refi, report, coder_map or {})
        placed = {item.source.guid: _store_source(conn, item, prepared.interviewer, refi, report)
                  for item in prepared.planned}
        _store_codings(conn, refi, prepared.mapping, users, placed, codebook_id, report,
                       widen=widen)
        if dry_run:
            conn.rollback()
    return report


def import_qdpx(project: Project, path: str | Path, *, meta: Path | None = None,
                interviewer: str | None = None, dry_run: bool = False,
                allow_pii: bool = False, identifiers: Path | None = None,
                coder_map: dict[str, str] | None = None, widen: bool = False) -> QdpxImport:
    """Import the ``.qdpx`` at ``path`` (see the module docstring): prepare, then store
    (:func:`store_qdpx` tells what ``widen`` does)."""
    prepared = prepare_qdpx(path, meta=meta, interviewer=interviewer, allow_pii=allow_pii,
                            identifiers=identifiers)
    return store_qdpx(project, prepared, dry_run=dry_run, coder_map=coder_map, widen=widen)


# ------------------------------------------------------------------------------ planning

def _plan(refi: RefiProject, meta_rows: dict) -> list[_Planned]:
    """Ids, participants and attributes of the readable sources (no database needed)."""
    case_values: dict[str, dict[str, str]] = defaultdict(dict)
    case_names: dict[str, list[str]] = defaultdict(list)
    for case in refi.cases:
        for guid in case.sources:
            case_values[guid].update(_named(refi, case.values))
            if case.name:
                case_names[guid].append(case.name)
    set_values: dict[str, dict[str, str]] = defaultdict(dict)
    set_names: dict[str, list[str]] = defaultdict(list)
    for group in refi.sets:
        name, sep, value = group.name.partition(":")
        for guid in group.sources:
            if sep and name.strip() and value.strip():  # ATLAS.ti groups "gender: male"
                set_values[guid][name.strip()] = value.strip()
            elif group.name:  # MAXQDA document sets "ICLS 2024"
                set_names[guid].append(group.name)
    planned, seen = [], set()
    for source in refi.sources:
        if source.text is None:
            continue
        base = _SUFFIX.sub("", source.name).strip() or source.guid
        tid, n = base, 2
        while tid in seen:
            tid, n = f"{base}-{n}", n + 1
        seen.add(tid)
        attributes = dict(meta_rows.get(tid, {}))
        attributes.update(case_values.get(source.guid, {}))
        if set_names.get(source.guid):
            attributes["set"] = "; ".join(dict.fromkeys(set_names[source.guid]))
        attributes.update(set_values.get(source.guid, {}))
        attributes.update(_named(refi, source.values))
        names = case_names.get(source.guid, [])
        participant = attributes.get("participant") or (names[0] if len(names) == 1 else tid)
        if names and names != [participant]:  # MAXQDA / Quirkos cases that are not the person
            attributes.setdefault("case", "; ".join(dict.fromkeys(names)))
        planned.append(_Planned(source, tid, participant, attributes))
    return planned


def _named(refi: RefiProject, values: dict[str, str]) -> dict[str, str]:
    return {refi.variables[g]: v for g, v in values.items() if g in refi.variables}


# ------------------------------------------------------------------------------ storing

def _store_codebook(conn, mapping: CodebookMapping | None, report: QdpxImport) -> int | None:
    if mapping is None:
        current = current_codebook(conn)
        return current.id if current else None
    result = load_refi_codebook(conn, mapping.spec)
    report.codes = len(mapping.spec.codes)
    report.codebook, report.codebook_version = result.status, result.version
    return result.codebook_id


def coder_name(name: str | None, fallback: str) -> str:
    """A valid coder name from a REFI user name (``Enric Llagostera`` → ``Enric_Llagostera``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.:@-]+", "_", ascii_fold(name or "").strip())
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned).rstrip("_")
    return cleaned or fallback


def user_coder(user: RefiUser) -> tuple[str, str | None]:
    """``(coder name, kind)`` of a REFI user: the name as :func:`coder_name` cleans it, with
    the `` (machine coder)`` / `` (reconciled consensus)`` that coder's export adds taken off
    again (kind ``None``: decided by the name, see :func:`coder.coding.store.coder_kind`)."""
    from coder.refi.export import USER_SUFFIX

    shown = (user.name or "").strip()
    for kind, suffix in USER_SUFFIX.items():
        if shown.endswith(suffix) and shown[:-len(suffix)].strip():
            return coder_name(shown[:-len(suffix)], f"user-{user.guid[:8]}"), kind
    return coder_name(shown, coder_name(user.id, f"user-{user.guid[:8]}")), None


def _store_users(conn, refi: RefiProject, report: QdpxImport, coder_map: dict[str, str]
                 ) -> dict[str | None, tuple[int, str]]:
    """``{user GUID: (coder id, coder name)}`` for every user, created when new."""
    users: dict[str | None, tuple[int, str]] = {}
    names: dict[str, str] = {}
    for user in refi.users:
        if user.guid in users:
            continue
        name, kind = user_coder(user)
        base, n = name, 2
        while names.get(name, user.guid) != user.guid:
            name, n = f"{base}-{n}", n + 1
        names[name] = user.guid
        name = archive_coder(conn, refi.path, user, name, coder_map)  # refi/guards.py
        users[user.guid] = (get_or_create_coder(conn, name, kind), name)
        report.coders.append(name)
    return users


def _store_source(conn, item: _Planned, interviewer: str | None, refi: RefiProject,
                  report: QdpxImport) -> _Placed:
    """Insert (or find) the transcript and its segments."""
    from coder.transcripts import _find_interviewer

    source, text = item.source, item.source.text
    result = SourceResult(id=item.id, name=source.name, status="new",
                          selections=len(source.selections))
    report.sources.append(result)
    row = conn.execute(select(T.c.text).where(T.c.id == item.id)).first()
    if row is not None:
        if row.text != text:
            raise ConflictError(f"{refi.path}: transcript {item.id!r} already exists with "
                                "different text — import the project into another database "
                                "(--db), or rename the source in your QDA program")
        result.status, result.split = "existing", "existing segments"
    else:
        label = None
        turns = speaker_turns(text)
        if turns is not None:
            fmt, spans = turns
            speakers = list(dict.fromkeys(s.speaker for s in spans))
            label = _find_interviewer(speakers, item.attributes.get("interviewer"), interviewer)
            if label is None:
                report.warnings.append(f"{refi.path}: source {source.name!r}: no interviewer "
                                       "label found; every turn imported as participant — set "
                                       "an `interviewer` variable or pass --interviewer LABEL")
            result.split = "speaker labels" if fmt == "text" else f"speaker turns ({fmt})"
        else:
            ranges = [(s.start, s.end) for s in source.selections if s.start is not None]
            if source.codings:
                ranges.append((0, len(text)))
            spans = selection_spans(text, ranges)
            result.split = "selections"
        _insert_transcript(conn, item, label, spans, refi)
    placed = _Placed(item.id, [_Seg(*r) for r in conn.execute(
        select(S.c.n, S.c.id, S.c.role, S.c.char_start, S.c.char_end)
        .where(S.c.transcript_id == item.id).order_by(S.c.char_start, S.c.n))],
        text=text, existing=result.status == "existing")
    result.segments = len(placed.segments)
    result.participant_segments = len(placed.participant_ids())
    return placed


def _whole(text: str, start: int, end: int, hits: list[_Seg]) -> bool:
    """True when ``[start, end)`` leaves no word of the segments ``hits`` uncovered."""
    first, last = hits[0], hits[-1]
    left = text[first.start:start] if start > first.start else ""
    right = text[end:last.end] if end < last.end else ""
    return not any(ch.isalnum() for ch in left + right)


def _span(text: str, seg: _Seg, sel: RefiSelection) -> tuple[int, int] | None:
    """The part of ``seg`` that ``sel`` covers, as offsets into the segment's text (without
    surrounding white space), or None when that is no word."""
    start, end = max(sel.start, seg.start), min(sel.end, seg.end)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start - seg.start, end - seg.start) if start < end else None


def _insert_transcript(conn, item: _Planned, interviewer: str | None, spans,
                       refi: RefiProject) -> None:
    text = item.source.text
    if conn.execute(select(P.c.id).where(P.c.id == item.participant)).first() is None:
        conn.execute(insert(P).values(id=item.participant))
    conn.execute(insert(T).values(
        id=item.id, participant_id=item.participant, source=f"{refi.path}#{item.source.name}",
        format="refi", sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        interviewer=interviewer, text=text, imported_at=utcnow()))
    if spans:
        conn.execute(insert(S), [
            {"transcript_id": item.id, "n": n, "speaker": span.speaker or item.participant,
             "role": "interviewer" if interviewer and span.speaker == interviewer
             else "participant", "start": span.time_start, "end": span.time_end,
             "text": text[span.start:span.end], "char_start": span.start,
             "char_end": span.end} for n, span in enumerate(spans, start=1)])
    if item.attributes:
        conn.execute(insert(A), [{"transcript_id": item.id, "name": k, "value": v}
                                 for k, v in item.attributes.items()])


def _store_codings(conn, refi: RefiProject, mapping: CodebookMapping | None, users: dict,
                   placed: dict[str, _Placed], codebook_id: int | None,
                   report: QdpxImport, *, widen: bool = False) -> None:
    collect = _Collector(conn, refi, mapping.keys if mapping else {}, users, report)
    collect.widen = widen
    for source in refi.sources:
        if source.guid not in placed:
            continue
        selections = list(source.selections)
        if source.codings:  # codings of the whole source: a selection of all its text
            selections.append(RefiSelection(guid=None, name="", raw_start=0, raw_end=0,
                                            codings=source.codings, start=0,
                                            end=len(source.text)))
        for sel in selections:
            if sel.start is not None:
                collect.selection(source, sel, placed[source.guid])
    if collect.unknown_codes:
        report.warnings.append(f"{refi.path}: {collect.unknown_codes} coding(s) refer to codes "
                               "that are not in the project's codebook; skipped")
    collect.check_partial()
    stray = len(set(refi.notes) - collect.used_notes)
    if stray:
        report.warnings.append(f"{refi.path}: {stray} note(s) not attached to a selection or "
                               "coding (project, source or code memos) were not imported")
    collect.write(placed, codebook_id)


class _Collector:
    """Gathers codings, memos and reviewed transcripts per coder, then writes them."""

    def __init__(self, conn, refi: RefiProject, keys: dict[str, str], users: dict,
                 report: QdpxImport):
        self.conn, self.refi, self.keys, self.users, self.report = conn, refi, keys, users, report
        self.codes: dict[tuple[int, int], set[str]] = defaultdict(set)
        self.coding_memos: dict[tuple[int, int, str], list[str]] = defaultdict(list)
        self.review_memos: dict[tuple[int, int], list[str]] = defaultdict(list)
        self.touched: dict[int, set[str]] = defaultdict(set)  # coder id → transcripts
        self.unknown_codes = 0
        self.used_notes: set[str] = set()
        # selections narrower than the segments they land on, by (source name, existing)
        self.partial: dict[tuple[str, bool], list[RefiSelection]] = defaultdict(list)
        self.widen = False  # partial selections on existing transcripts too (coder merge)
        # (coder, segment, code) → the stretch of the turn each selection marked, None for
        # the whole turn: one stretch is kept as the coding's span (SPEC: the marked sentence)
        self.spans: dict[tuple[int, int, str], list[tuple[tuple[int, int] | None,
                                                          tuple[str, bool], RefiSelection]]] \
            = defaultdict(list)

    def coder(self, guid: str | None) -> tuple[int, str]:
        """``(coder id, name)`` of a user GUID; an unknown user becomes a coder of its own."""
        if guid not in self.users:
            name = f"user-{guid[:8]}" if guid else "unknown"
            self.report.warnings.append(
                f"{self.refi.path}: user {guid or '(none)'} is not among the project's users; "
                f"their work is imported as coder {name}")
            self.users[guid] = (get_or_create_coder(self.conn, name), name)
            self.report.coders.append(name)
        return self.users[guid]

    def selection(self, source: RefiSource, sel: RefiSelection, placed: _Placed) -> None:
        hits = placed.covering(sel.start, sel.end)
        if not hits:
            if sel.codings or sel.notes:
                self.report.warnings.append(
                    f"{self.refi.path}: selection {sel.name or sel.guid!r} in {source.name!r} "
                    "covers no participant segment (preamble or interviewer turn); its "
                    "codings are not imported")
            return
        landed = PlacedSelection(sel.guid, placed.transcript, sel.start, sel.end,
                                 sorted(seg.n for seg in hits), [])
        self.report.selections.append(landed)
        whole = _whole(placed.text, sel.start, sel.end, hits)
        # Part of one turn is a span of that turn (kept exactly); part of several is not.
        span = None if whole or len(hits) != 1 else _span(placed.text, hits[0], sel)
        if sel.codings and not whole and span is None:
            self.partial[(source.name, placed.existing)].append(sel)
        # a selection's Description is the memo of its codings (QualCoder, ATLAS.ti, coder),
        # unless it repeats a note of the selection itself (coder's memo on the segment)
        own = {text for _, text in self._notes(sel.notes)}
        described = ([sel.description] if sel.codings and sel.description
                     and sel.description not in own else [])
        coders = []
        for coding in sel.codings:
            cid, name = self.coder(coding.user or sel.user or self.refi.creating_user)
            coders.append(cid)
            self.touched[cid].add(placed.transcript)
            key = self.keys.get(coding.code or "")
            if key is None:
                self.unknown_codes += 1
                continue
            landed.codings.append((name, key))
            memos = self._notes(coding.notes)
            for seg in hits:
                self.codes[(cid, seg.id)].add(key)
                self.coding_memos[(cid, seg.id, key)] += [text for _, text in memos] + described
                self.spans[(cid, seg.id, key)].append(
                    (span, (source.name, placed.existing), sel))
        memos = self._notes(sel.notes) + ([(None, sel.description)]
                                          if sel.description and not sel.codings else [])
        for author, text in memos:  # the note's author, else whoever coded the selection
            authors = ([self.coder(author)[0]] if author
                       else list(dict.fromkeys(coders)) or [self.coder(sel.user)[0]])
            for cid in authors:
                self.touched[cid].add(placed.transcript)
                for seg in hits:
                    self.review_memos[(cid, seg.id)].append(text)

    def check_partial(self) -> None:
        """A coding has one span at most: a selection that covers part of one segment keeps
        that stretch; one that covers part of several segments, or a code selected twice in
        one segment, would be widened to the whole segment. On an existing transcript that is
        refused (unless ``widen``); on a new one split into speaker turns it is done, and
        said."""
        for found in self.spans.values():
            if len({span for span, _, _ in found}) > 1:  # two stretches, or one and the turn
                for span, where, sel in found:
                    if span is not None and sel not in self.partial[where]:
                        self.partial[where].append(sel)
        for (name, existing), selections in sorted(self.partial.items()):
            if not selections:
                continue
            sel = selections[0]
            label = sel.name if sel.name and len(sel.name) <= 60 else (
                f"{sel.name[:57]}…" if sel.name else sel.guid)
            example = f"{label!r}, characters {sel.start}–{sel.end}"
            if existing and self.widen:
                self.report.warnings.append(
                    f"{self.refi.path}: {len(selections)} selection(s) in {name!r} cover only "
                    f"part of a segment (first: {example}); their codings apply to the whole "
                    "segment, as coder codes whole segments")
                continue
            if existing:
                raise ConflictError(
                    f"{self.refi.path}: {len(selections)} selection(s) in {name!r} cover only "
                    f"part of a segment of the transcript already in the project (first: "
                    f"{example}); their codings cannot be placed exactly — import the project "
                    "into another database (--db), where its text is split at the selections")
            self.report.warnings.append(
                f"{self.refi.path}: {len(selections)} selection(s) in {name!r} cover only part "
                f"of a speaker turn (first: {example}); their codings apply to the whole turn, "
                "as coder codes whole turns")

    def _span_of(self, cid: int, sid: int, key: str) -> tuple[int, int] | None:
        """The one stretch all selections of ``key`` marked in the segment, else None."""
        spans = {span for span, _, _ in self.spans.get((cid, sid, key), ())}
        return spans.pop() if len(spans) == 1 else None

    def _notes(self, guids: list[str]) -> list[tuple[str | None, str]]:
        self.used_notes.update(guids)
        notes = self.refi.notes
        return [(notes[g].user, notes[g].text) for g in guids if g in notes]

    def write(self, placed: dict[str, _Placed], codebook_id: int | None) -> None:
        """Replace each coder's codings on the transcripts they touched, mark all their
        participant segments reviewed (as ``coder codings import`` does), store memos."""
        conn, now = self.conn, utcnow()
        by_transcript = {p.transcript: p.participant_ids() for p in placed.values()}
        for cid, transcripts in self.touched.items():
            covered = sorted(sid for tid in sorted(transcripts) for sid in by_transcript[tid])
            for i in range(0, len(covered), 500):
                conn.execute(delete(K).where(and_(K.c.coder_id == cid,
                                                  K.c.segment_id.in_(covered[i:i + 500]))))
            mark_reviewed(conn, cid, covered, source="refi")
            self.report.reviewed += len(covered)
        rows = [{"coder_id": cid, "segment_id": sid, "code_key": key,
                 "codebook_id": codebook_id, "created_at": now,
                 "memo": "; ".join(dict.fromkeys(self.coding_memos[(cid, sid, key)])) or None,
                 "span_start": span[0] if span else None, "span_end": span[1] if span else None}
                for (cid, sid), keys in self.codes.items() for key in sorted(keys)
                for span in [self._span_of(cid, sid, key)]]
        if rows:
            conn.execute(insert(K), rows)
        self.report.codings = len(rows)
        for (cid, sid), texts in self.review_memos.items():
            conn.execute(update(R).where(and_(R.c.coder_id == cid, R.c.segment_id == sid))
                         .values(memo="; ".join(dict.fromkeys(texts))))
