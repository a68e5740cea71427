"""Pseudonymized copies of transcripts: every finding of :mod:`coder.anonymize.detect` replaced.

Names become the identifiers file's pseudonym (a possessive ``'s`` is kept: "Serikbayev's" →
"Expert A's"; case endings are dropped), or a generated ``[PERSON-n]``, the same for one name in
every file of a run; e-mail addresses, phones, URLs, handles and ID numbers become ``[EMAIL]``,
``[PHONE]``, ``[URL]``, ``[HANDLE]`` and ``[ID]``. At each position the longest match wins
("Anna Maria Petrova" before "Anna").

:func:`anonymize_paths` writes text files (.txt, .md, .vtt, .srt and any other text file named
explicitly) as UTF-8 with the same relative names under the output folder — a file name holding
a name is pseudonymized too — and rewrites Word files run by run with python-docx, so bold
labels and other formatting survive. It never writes into an input folder.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from coder.anonymize.detect import (
    Finding, Pseudonyms, as_identifiers, docx_paragraphs, is_docx, scan_text,
)
from coder.anonymize.identifiers import Identifiers
from coder.errors import InputError


@dataclass
class AnonymizeReport:
    """What :func:`anonymize_paths` wrote and replaced.

    ``replacements`` hold the source file and line of each replaced item; ``remaining`` the
    personal data still found in the written copies (normally none — e.g. a pseudonym that is
    itself a listed name).
    """

    out_dir: Path
    files: list[tuple[Path, Path]] = field(default_factory=list)   # (source, written)
    replacements: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.replacements:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        return counts

    def to_csv(self) -> str:
        from coder.spreadsheet_safety import neutralize

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["file", "line", "column", "kind", "text", "replacement"])
        for r in self.replacements:
            writer.writerow([r.file, "" if r.line is None else r.line,
                             "" if r.column is None else r.column, r.kind,
                             neutralize(r.text), neutralize(r.replacement)])
        return buffer.getvalue()


def pseudonymize_text(text: str, identifiers: Identifiers | None, *, source: str | None = None,
                      ner: bool = False, pseudonyms: Pseudonyms | None = None,
                      first_line: int = 1, numbers: bool = True) -> tuple[str, list[Finding]]:
    """``text`` with every finding replaced, and the findings (the replacements made)."""
    findings = scan_text(text, identifiers=identifiers, source=source, ner=ner,
                         pseudonyms=pseudonyms, first_line=first_line, numbers=numbers)
    if not findings:
        return text, []
    parts, pos = [], 0
    for finding in findings:
        parts += [text[pos:finding.offset], finding.replacement]
        pos = finding.end
    parts.append(text[pos:])
    return "".join(parts), findings


def anonymize_paths(paths, identifiers: Identifiers | str | Path | None, out_dir: str | Path, *,
                    ner: bool = False, encoding: str | None = None) -> AnonymizeReport:
    """Write pseudonymized copies of ``paths`` (files, or folders searched recursively for
    transcripts) under ``out_dir``, keeping relative names. Nothing is written unless every
    file could be read and pseudonymized.

    Raises :class:`~coder.errors.InputError` when ``out_dir`` is, or is inside, an input
    folder (or the folder of an input file), or when two inputs map to one output name.
    """
    from coder.importers.base import decode

    identifiers = as_identifiers(identifiers)
    out_dir = Path(out_dir)
    plan = _plan([Path(p) for p in paths], out_dir, identifiers)
    pseudonyms = Pseudonyms()
    report = AnonymizeReport(out_dir)
    outputs: dict[Path, tuple[Path, bytes]] = {}
    for source, relative in plan:
        label = str(source)
        stem, renamed = pseudonymize_text(relative.stem, identifiers, source=label,
                                          pseudonyms=pseudonyms, numbers=False)
        for finding in renamed:
            finding.line = finding.column = None
        report.replacements += renamed
        target = out_dir / relative.with_name(stem.replace("/", "-") + relative.suffix)
        data = source.read_bytes()
        if is_docx(source, data):
            content, found = _pseudonymize_docx(source, data, identifiers, label, ner,
                                                pseudonyms)
            remaining = [f for n, text in docx_paragraphs(target, content)
                         for f in scan_text(text, identifiers=identifiers, source=str(target),
                                            first_line=n)]
        else:
            text = decode(source, data, encoding)
            new_text, found = pseudonymize_text(text, identifiers, source=label, ner=ner,
                                                pseudonyms=pseudonyms)
            content = new_text.encode("utf-8")
            remaining = scan_text(new_text, identifiers=identifiers, source=str(target))
        report.replacements += found
        report.remaining += remaining
        if target in outputs:
            raise InputError(source, f"would be written to {target}, as {outputs[target][0]} is",
                             "anonymize the two in separate runs or rename one")
        outputs[target] = (source, content)
    for target, (source, content) in outputs.items():
        _write(target, content)
        report.files.append((source, target))
    return report


def _plan(paths: list[Path], out_dir: Path,
          identifiers: Identifiers | None) -> list[tuple[Path, Path]]:
    """(source file, path relative to the output folder) for every input file."""
    from coder.transcripts import collect_paths

    out = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "is a file, not a folder", "give --out a folder path")
    key = identifiers.source.resolve() if identifiers and identifiers.source else None
    plan: list[tuple[Path, Path]] = []
    for path in paths:
        resolved = path.resolve()
        folder = resolved if path.is_dir() else resolved.parent
        if out == folder or (path.is_dir() and folder in out.parents):
            raise InputError(out_dir, f"is {'inside ' if out != folder else ''}the input "
                             f"folder {path if path.is_dir() else path.parent}",
                             "choose an output folder outside the inputs (the originals stay "
                             "untouched, and a later import of the folder must not read both)")
        for file in collect_paths([path]):
            if key is not None and file.resolve() == key:
                raise InputError(file, "the identifiers file is among the inputs",
                                 "keep the key file outside the transcripts folder")
            relative = file.relative_to(path) if path.is_dir() else Path(file.name)
            plan.append((file, relative))
    return plan


def _write(target: Path, content: bytes) -> None:
    from coder.fileio import atomic_write

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(target.parent, f"cannot create the folder ({exc.strerror})",
                         "check that the output folder is writable") from None
    atomic_write(target, content)


# ---------------------------------------------------------------------------- Word

def _pseudonymize_docx(path: Path, data: bytes, identifiers, label: str, ner: bool,
                       pseudonyms: Pseudonyms) -> tuple[bytes, list[Finding]]:
    """Replace findings inside the runs of every paragraph (body, tables, headers, footers),
    keeping formatting; clear the author fields of the document properties."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - python-docx raises many kinds for a broken package
        raise InputError(path, "not a valid Word file",
                         "open it in Word or LibreOffice and save it again as .docx") from None
    found: list[Finding] = []
    for line, paragraph in enumerate(document.paragraphs, start=1):  # lines as the importer
        found += _rewrite_paragraph(paragraph, line, identifiers, label, ner, pseudonyms)
    for paragraph in _other_paragraphs(document):
        found += _rewrite_paragraph(paragraph, None, identifiers, label, ner, pseudonyms)
    props = document.core_properties
    props.author = props.last_modified_by = ""
    for name in ("title", "subject", "comments", "keywords", "category"):
        value = getattr(props, name) or ""
        new, items = pseudonymize_text(value, identifiers, source=label, pseudonyms=pseudonyms)
        for item in items:
            item.line = item.column = None
        found += items
        if items:
            setattr(props, name, new)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue(), found


def _other_paragraphs(document):
    """Paragraphs outside the body text: tables, headers and footers."""
    yield from _table_paragraphs(document.tables)
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header,
                     section.first_page_footer, section.even_page_header,
                     section.even_page_footer):
            if not part.is_linked_to_previous:
                yield from part.paragraphs
                yield from _table_paragraphs(part.tables)


def _table_paragraphs(tables):
    for table in tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs
                yield from _table_paragraphs(cell.tables)


def _rewrite_paragraph(paragraph, line, identifiers, label, ner, pseudonyms) -> list[Finding]:
    runs = [run for item in paragraph.iter_inner_content()
            for run in (item.runs if hasattr(item, "runs") else [item])]
    texts = [run.text for run in runs]
    text = "".join(texts)
    if not text.strip():
        return []
    found = scan_text(text, identifiers=identifiers, source=label, ner=ner,
                      pseudonyms=pseudonyms, first_line=line or 1)
    if line is None:
        for item in found:
            item.line = item.column = None
    if not found:
        return []
    if text != paragraph.text or not runs:  # content python-docx does not expose as runs
        paragraph.text, _ = pseudonymize_text(paragraph.text, identifiers, ner=ner,
                                              pseudonyms=pseudonyms)
        return found
    starts, total = [], 0
    for piece in texts:
        starts.append(total)
        total += len(piece)
    for item in reversed(found):  # from the end: earlier offsets stay valid
        i = bisect_right(starts, item.offset) - 1
        j = bisect_right(starts, item.end - 1) - 1
        a, b = item.offset - starts[i], item.end - starts[j]
        if i == j:
            texts[i] = texts[i][:a] + item.replacement + texts[i][b:]
        else:
            texts[i] = texts[i][:a] + item.replacement
            for k in range(i + 1, j):
                texts[k] = ""
            texts[j] = texts[j][b:]
    for run, new in zip(runs, texts):
        if run.text != new:
            run.text = new
    return found


__all__ = ["AnonymizeReport", "anonymize_paths", "pseudonymize_text"]
