"""Importing transcripts into a project, and reading them back (SPEC §3).

:func:`import_transcripts` parses every file first and touches the database only when all of
them parsed, in one write transaction: a bad file anywhere leaves the project exactly as it was.
Finding, reading and parsing files is here; storing and reading back is in
:mod:`coder.transcript_store` (re-exported here), so that parsing needs no SQLAlchemy.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from coder.errors import InputError
from coder.roles import (  # noqa: F401  (re-exported: the REFI importer uses them)
    INTERVIEWER_LABELS, _find_interviewer, _rename_speakers, parse_speaker_map,
    project_interviewer_labels,
)

SEGMENT_FIELDS = ("n", "speaker", "role", "start", "end", "text", "char_start", "char_end")
segment_values = itemgetter(*SEGMENT_FIELDS)
PARTICIPANT, INTERVIEWER = "participant", "interviewer"


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
    status: str = "new"  # new | unchanged | replaced | resplit | updated (attributes only)

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
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why) in folders

    def count(self, status: str) -> int:
        return sum(1 for t in self.transcripts if t.status == status)


# ---------------------------------------------------------------------------- reading inputs

@dataclass
class Collected:
    """The files of an import: those named, and those found in folders (which may be skipped)."""

    files: list[Path]
    from_folder: set[Path] = field(default_factory=set)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.files)


def collect_files(paths: Iterable[str | Path], *, exclude: Iterable[Path] = ()) -> Collected:
    """Files as given, folders searched recursively for transcript suffixes, in sorted order
    (:func:`coder.importers.walk.find_files`: ``..`` and hidden folders the user named work).

    What the search left out comes back in ``skipped`` with the reason (a legacy ``.doc``, a
    PDF, a hidden entry, an unreadable folder…), except what a study folder usually also holds
    (YAML, images, audio: :data:`~coder.importers.registry.QUIET_SUFFIXES`). ``exclude`` (the
    --meta file) is passed over.
    """
    from coder.importers.registry import QUIET_SUFFIXES, SUFFIXES
    from coder.importers.walk import find_files

    paths = [Path(p) for p in paths]
    excluded = {Path(p).resolve() for p in exclude}
    named = {p.resolve() for p in paths if p.is_file()}

    names = {r.name for r in excluded | named}

    def among(path: Path, resolved: set[Path]) -> bool:  # resolve() only where it can match
        return path.name in names and path.resolve() in resolved

    found, left_out = find_files(paths, SUFFIXES)
    collected = Collected([f for f in found if not among(f, excluded)])
    collected.from_folder = {f for f in collected.files if not among(f, named)}
    for entry in left_out:
        suffix = entry.path.suffix.lower()
        if among(entry.path, excluded) or suffix in QUIET_SUFFIXES:
            continue
        reason = entry.reason
        if suffix in (".doc", ".rtf", ".odt", ".pages", ".pdf"):
            reason = _why_not(suffix)
        collected.skipped.append((entry.path, reason))
    if not collected.files:
        why = ""
        if collected.skipped:
            path, reason = collected.skipped[0]
            more = len(collected.skipped) - 1
            why = f" (skipped {path}: {reason}" + (f"; and {more} more" if more else "") + ")"
        raise InputError(", ".join(map(str, paths)), "no transcript files found" + why,
                         "give .txt, .md, .docx, .vtt, .srt, .json, .csv or .html files or a "
                         "folder holding them")
    return collected


def _why_not(suffix: str) -> str:
    if suffix in (".doc", ".rtf", ".odt", ".pages"):
        return f"{suffix} is not read: save it as .docx or .txt"
    if suffix == ".pdf":
        return "PDF is not read: export the transcript as .docx or .txt"
    return f"not a transcript format ({suffix or 'no suffix'})"


def collect_paths(paths: Iterable[str | Path], skipped: list | None = None) -> list[Path]:
    """Files as given, folders searched recursively for transcript suffixes, in sorted order;
    what was left out is appended to ``skipped`` as ``(path, reason)``."""
    collected = collect_files(paths)
    if skipped is not None:
        skipped.extend(collected.skipped)
    return collected.files


def read_meta(path: Path, encoding: str | None = None) -> dict[str, dict[str, str]]:
    """``participants.csv``: a ``transcript`` column, every other column an attribute (CSV,
    TSV or XLSX, read by :func:`coder.tables.read_table`; a column named twice is refused)."""
    from coder.safeio import check_id
    from coder.tables import read_table

    table = read_table(path, what="participants file", required=("transcript",),
                       encoding=encoding, lower=False,
                       fix="add a header row whose first column is `transcript` (the "
                           "transcript id, i.e. the file stem)")
    fields = table.header
    rows: dict[str, dict[str, str]] = {}
    for line, raw in table.rows:
        row = dict(zip(fields, raw))
        tid = (row.get("transcript") or "").strip()
        if not tid:
            raise InputError(path, "empty `transcript` value", "give the transcript id",
                             line=line)
        check_id(path, tid, line=line)
        if tid in rows:
            raise InputError(path, f"transcript {tid!r} listed twice",
                             "keep one row per transcript", line=line)
        rows[tid] = {k: v.strip() for k, v in row.items()
                     if k and k != "transcript" and v.strip()}
    return rows


def prepare(parsed, meta_rows: dict[str, dict[str, str]], interviewer: str | None,
            warnings: list[str], *, speakers: dict[str, str] | None = None,
            interviewer_labels: Iterable[str] = ()) -> PreparedTranscript:
    """Resolve id, attributes, speaker names, roles and offsets of one parsed transcript."""
    from coder.safeio import check_id

    tid = check_id(parsed.path, parsed.meta.get("id") or parsed.path.stem)
    attributes = {k: v for k, v in meta_rows.get(tid, {}).items()}
    attributes.update({k: v for k, v in parsed.meta.items() if k != "id" and v != ""})
    warnings.extend(parsed.warnings)
    mapping = dict(speakers or {})
    if attributes.get("speakers"):
        mapping.update(parse_speaker_map(attributes["speakers"], f"{parsed.path}: `speakers`"))
    _rename_speakers(parsed, mapping, warnings)
    speakers = list(dict.fromkeys(t.speaker for t in parsed.turns))
    label = _find_interviewer(speakers, attributes.get("interviewer"), interviewer,
                              interviewer_labels)
    if label is None:
        given = attributes.get("interviewer") or interviewer
        why = f"no speaker is labelled {given!r}" if given else "no interviewer label found"
        warnings.append(f"{parsed.path}: {why}; every turn imported as participant — set "
                        "`interviewer` in the metadata or pass --interviewer LABEL")
    segments, offset = [], 0
    append = segments.append
    for n, turn in enumerate(parsed.turns, start=1):
        speaker, text = turn.speaker, turn.text
        start = offset + len(speaker) + 2  # after "speaker: "
        offset = start + len(text)
        append({"n": n, "speaker": speaker,
                "role": INTERVIEWER if speaker == label else PARTICIPANT,
                "start": turn.start, "end": turn.end, "text": text,
                "char_start": start, "char_end": offset})
        offset += 2  # the "\n\n" between turns
    return PreparedTranscript(
        id=tid, path=parsed.path, format=parsed.format, sha256=parsed.sha256,
        participant=attributes.get("participant") or tid, interviewer=label,
        attributes=attributes, segments=segments,
        text=transcript_text(segments))


def transcript_text(segments: list[dict]) -> str:
    """The transcript's text as stored: ``speaker: text`` turns, a blank line between them
    (the segments' ``char_start``/``char_end`` point into it)."""
    return "\n\n".join([f"{s['speaker']}: {s['text']}" for s in segments])


# ---------------------------------------------------------------------------- importing

def parse_transcripts(paths: Iterable[str | Path] | Collected, *, meta: Path | None = None,
                      interviewer: str | None = None, encoding: str | None = None,
                      progress: Callable[[Path], None] | None = None,
                      allow_pii: bool = False, identifiers: Path | None = None,
                      speakers: dict[str, str] | None = None,
                      interviewer_labels: Iterable[str] = (),
                      ner: bool = False,
                      meanwhile: Callable[[], object] | None = None,
                      on_item: Callable[[PreparedTranscript], None] | None = None
                      ) -> ImportReport:
    """Parse and resolve every file; no database needed. Any bad file raises InputError.

    A file found in a folder that is readable but no transcript
    (:class:`~coder.importers.base.NotATranscript`: a chat log, JSON of another shape) is
    skipped and listed in ``report.skipped``; named on its own, it is an error. ``speakers``
    maps speaker labels to names (``SPEAKER_00`` → ``Interviewer``), as does a metadata column
    ``speakers``; ``interviewer_labels`` adds the project's own interviewer labels.

    Unless ``allow_pii``, the personal-data gate scans every file (with the names of the
    ``identifiers`` file, which is read, never stored) and raises
    :class:`~coder.anonymize.PiiFound` listing each finding.

    Many files are parsed on several cores (:mod:`coder.parallel`; ``CODER_JOBS=1`` keeps one
    process), with the same results, warnings and errors in the same order. ``meanwhile`` is
    called once while the workers parse (``coder import`` opens the project then).
    ``on_item`` receives each transcript, in order, as soon as it is parsed and checked — but
    none once the gate has found anything (:class:`coder.transcript_store.StreamedStore`
    writes them meanwhile, and rolls back when this raises).
    """
    from coder.importers import parse_file
    from coder.importers.base import NotATranscript
    from coder.parallel import ordered_map

    collected = paths if isinstance(paths, Collected) else \
        collect_files(paths, exclude=[meta] if meta else [])
    files = collected.files
    report = ImportReport(meta=meta, meta_rows=read_meta(meta, encoding) if meta else {},
                          skipped=list(collected.skipped))
    seen: dict[str, Path] = {}
    gate = None
    if not allow_pii:
        from coder.anonymize import ImportGate

        gate = ImportGate(identifiers, files=files, meta=meta, encoding=encoding, ner=ner)
    interviewer_labels = tuple(interviewer_labels)
    parent = os.getpid()

    def parse_one(path: Path):
        """(parsed turns if the gate flags them, else None; prepared; warnings) or the
        InputError: what a worker process does for one file (coder.parallel). The gate's
        findings are made here in the parent, in order, so that pseudonyms number alike."""
        try:
            parsed = parse_file(path, encoding=encoding)
            warnings: list[str] = []
            item = prepare(parsed, report.meta_rows, interviewer, warnings, speakers=speakers,
                           interviewer_labels=interviewer_labels)
        except InputError as exc:
            return exc
        # The parsed turns go back to the parent only when the gate must look again (most
        # files: only the prepared segments, which cost a third as much to send); from a
        # worker, the transcript's text is left to be joined again there (half the bytes).
        flagged = gate is not None and gate.prescan(parsed)
        if os.getpid() != parent:
            item.text = None
        return (parsed if flagged else None), item, warnings

    # The cyclic garbage collector would walk every turn and segment parsed so far again and
    # again while they pile up (a tenth of a large import); parsing makes no cycles.
    enabled = gc.isenabled()
    gc.disable()
    results = None
    try:
        # Named-entity models are large and slow to load: one process keeps one copy.
        # ``meanwhile`` runs while the workers parse (before the parsing, in one process).
        results = ordered_map(parse_one, files, jobs=1 if ner else None, meanwhile=meanwhile)
        for path, result in zip(files, results):
            if isinstance(result, InputError):
                if isinstance(result, NotATranscript) and path in collected.from_folder:
                    report.skipped.append((path, result.problem))
                    continue
                raise result
            flagged, item, warnings = result
            if item.text is None:
                item.text = transcript_text(item.segments)
            report.warnings.extend(warnings)
            if gate is not None:
                gate.check_name(path, item.id)
                if flagged is not None:
                    gate.check_found(flagged)
            if item.id in seen:
                raise InputError(path, f"duplicate transcript id {item.id!r} (also {seen[item.id]})",
                                 "rename one file or give it an `id` in its front matter")
            seen[item.id] = path
            report.transcripts.append(item)
            if on_item is not None and (gate is None or not gate.findings):
                on_item(item)  # nothing the gate flagged is handed on, nor anything after it
            if progress:
                progress(path)
    finally:
        if results is not None:
            results.close()
        if enabled:
            gc.enable()
    if gate is not None:
        gate.close()
    return report


_STORE = ("get_transcript", "import_transcripts", "list_transcripts", "store_transcripts")


def __getattr__(name: str):
    """The database half lives in :mod:`coder.transcript_store` (it needs SQLAlchemy)."""
    if name in _STORE:
        from coder import transcript_store

        return getattr(transcript_store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Collected", "ImportReport", "PreparedTranscript", "collect_files", "collect_paths",
           "parse_speaker_map", "parse_transcripts", "prepare", "read_meta", *_STORE]
