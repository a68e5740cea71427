"""The personal-data gate: :class:`PiiFound`, :class:`ImportGate` (``coder import``) and
:func:`check_output` (for commands that write text from the project: quotes, exports)."""

from __future__ import annotations

from pathlib import Path

from coder.anonymize.detect import (
    Finding, Pseudonyms, as_identifiers, scan_file, scan_name, scan_text,
)
from coder.errors import CoderError, InputError


class PiiFound(CoderError):
    """Personal data where there should be none; ``findings`` lists it.

    ``str()`` is one line per finding (``FILE:LINE: kind 'text'``), then what to do.
    """

    LIMIT = 50

    def __init__(self, findings: list[Finding], fix: str | None = None):
        self.findings = findings
        files = len({f.file for f in findings})
        lines = [_describe(f) for f in findings[:self.LIMIT]]
        if len(findings) > self.LIMIT:
            lines.append(f"… and {len(findings) - self.LIMIT} more (see `coder scan`)")
        fix = fix or ("pseudonymize the files with `coder anonymize PATH... --identifiers FILE "
                      "--out DIR` and import DIR, or pass --allow-pii if the data is public")
        lines.append(f"personal data found ({len(findings)} item(s) in {files} file(s)) — {fix}")
        super().__init__("\n".join(lines))


def _describe(finding: Finding) -> str:
    where = finding.location(column=False)
    tail = " (in the file name)" if finding.line is None and finding.file else ""
    return f"{where}: {finding.kind} {finding.text!r}{tail}"


def check_output(text: str, *, source: str | Path, identifiers=None,
                 fix: str | None = None) -> None:
    """Raise :class:`PiiFound` when ``text`` (about to be written to ``source``) holds
    personal data. For commands that write quotes or exports from the project."""
    findings = scan_text(text, identifiers=as_identifiers(identifiers), source=str(source))
    if findings:
        raise PiiFound(findings, fix or "pseudonymize the transcripts (coder anonymize), "
                       "re-import them with --replace, then export again")


class ImportGate:
    """The personal-data gate of ``coder import``: collect findings file by file, then
    :meth:`close` raises :class:`PiiFound` listing them all (before anything is written).

    What enters the project is scanned in memory: each parsed transcript's speaker labels,
    turn texts and front matter, its id (the file stem, unless front matter gives one), and
    the ``--meta`` file. Only when something is found is the file scanned again as
    :func:`~coder.anonymize.detect.scan_file` does (as ``coder scan`` does), to report the
    file's own line numbers. Scanning the turns rather than the file skips caption timings,
    which would cost more than the rest of the scan; text the importer drops (a preamble, VTT
    ``NOTE`` blocks) is not checked.
    """

    def __init__(self, identifiers=None, *, files=(), meta: Path | None = None,
                 encoding: str | None = None, ner: bool = False):
        self.identifiers = as_identifiers(identifiers)
        self.ner = ner
        self.encoding = encoding
        self.findings: list[Finding] = []
        self.pseudonyms = Pseudonyms()
        source = getattr(self.identifiers, "source", None)
        if source is not None and any(_same(source, f) for f in files):
            raise InputError(source, "the identifiers file is among the files to import",
                             "keep the key file outside the transcripts folder")
        if meta is not None:
            self.findings += scan_file(Path(meta), identifiers=self.identifiers,
                                       pseudonyms=self.pseudonyms, label=str(meta),
                                       encoding=encoding)

    def prescan(self, parsed) -> bool:
        """Whether the turns, labels or front matter of ``parsed`` hold anything at all (the
        fast pass of :meth:`check`; it keeps no state, so worker processes can run it)."""
        # Each speaker label once (a label repeats on every turn, and its digits — KZ-0001 —
        # are what the number rules look at): the same findings as the joined "label: text"
        # lines, since ": " ends every match that could start in a label.
        labels = dict.fromkeys(t.speaker for t in parsed.turns)
        text = "\n".join([f"{label}:" for label in labels] + [t.text for t in parsed.turns]
                         + [str(v) for v in parsed.meta.values()])
        return bool(scan_text(text, identifiers=self.identifiers, ner=self.ner))

    def check(self, parsed, transcript_id: str | None = None) -> None:
        """Scan one :class:`~coder.importers.base.ParsedTranscript`; remember what is found."""
        self.check_name(parsed.path, transcript_id)
        if self.prescan(parsed):
            self.check_found(parsed)

    def check_name(self, path: Path, transcript_id: str | None = None) -> None:
        """The transcript's id (the file stem, unless front matter gives one)."""
        self.findings += scan_name(transcript_id or Path(path).stem, source=str(path),
                                   identifiers=self.identifiers, pseudonyms=self.pseudonyms)

    def check_found(self, parsed) -> None:
        """The findings, with the file's own lines, of a transcript :meth:`prescan` flagged."""
        source = str(parsed.path)
        exact = [f for f in scan_file(parsed.path, identifiers=self.identifiers,
                                      encoding=self.encoding, pseudonyms=self.pseudonyms,
                                      ner=self.ner)
                 if f.line is not None]
        if exact:
            self.findings += exact
            return
        # Only in the joined turns (a name split over two caption cues): the turn's line.
        for turn in parsed.turns:
            for f in scan_text(f"{turn.speaker}: {turn.text}", identifiers=self.identifiers,
                               source=source, pseudonyms=self.pseudonyms, ner=self.ner):
                f.line, f.column = turn.line or 1, None
                self.findings.append(f)

    def close(self) -> None:
        if self.findings:
            raise PiiFound(self.findings)


def _same(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


__all__ = ["ImportGate", "PiiFound", "check_output"]
