"""``coder scan`` (find personal data, exit 1 when any) and ``coder anonymize`` (pseudonymize)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from coder.cli.common import dump_json, message, warn, write_text

PathsArgument = Annotated[list[Path], typer.Argument(
    help="Transcript files or folders (searched recursively for .txt, .md, .docx, .vtt, .srt).",
    show_default=False)]
NerOption = Annotated[bool, typer.Option(
    "--ner", help="Also flag person names found by spaCy's named-entity recognizer (needs "
    "spaCy and a model such as en_core_web_sm installed).")]
EncodingOption = Annotated[Optional[str], typer.Option(
    "--encoding", metavar="CODEC", help="Text encoding for files that are neither UTF-8 nor "
    "UTF-16 with BOM (e.g. cp1251).")]
FIX = ("pseudonymize them with `coder anonymize PATH... --identifiers FILE --out DIR`, or "
       "import with --allow-pii if the data is public")


class ScanFormat(str, Enum):
    table = "table"
    json = "json"


def scan(
    paths: PathsArgument,
    identifiers: Annotated[Optional[Path], typer.Option(
        "--identifiers", metavar="FILE", help="The team's key file (YAML or CSV, name → "
        "pseudonym; an empty pseudonym marks a public name): the names to look for, with "
        "initials, surname alone and case endings.")] = None,
    format: Annotated[ScanFormat, typer.Option(
        "--format", "-f", help="table: one `FILE:LINE:COL: kind: 'text'` line per finding; "
        "json: {files, findings: [{file, line, column, kind, text, replacement}]}.")]
        = ScanFormat.table,
    ner: NerOption = False,
    encoding: EncodingOption = None,
) -> None:
    """Report personal data in transcripts without importing them; exit 1 when any is found.

    Looks for e-mail addresses, phone numbers, URLs, @handles, ID-like numbers and the names
    of the --identifiers file. Names are only checked with --identifiers (or --ner).
    """
    from coder.anonymize import load_identifiers, scan_paths
    from coder.errors import GateFailed
    from coder.transcripts import collect_paths

    files = collect_paths(paths)
    key = load_identifiers(identifiers) if identifiers else None
    findings = scan_paths(files, key, ner=ner, encoding=encoding)
    if format == ScanFormat.json:
        write_text(dump_json({"files": len(files),
                              "findings": [f.to_dict() for f in findings]}), None)
    elif findings:
        write_text("\n".join(f"{f.location()}: {f.kind}: {f.text!r}"
                             + (" (file name)" if f.line is None else "")
                             for f in findings), None)
    if findings:
        where = len({f.file for f in findings})
        raise GateFailed(f"personal data found: {len(findings)} item(s) in {where} of "
                         f"{len(files)} file(s) — {FIX}")
    names = f"{len(key.entries)} listed names" if key else "no names (give --identifiers FILE)"
    message(f"no personal data found in {len(files)} file(s); checked contact details, ID "
            f"numbers and {names}")


def anonymize(
    paths: PathsArgument,
    identifiers: Annotated[Path, typer.Option(
        "--identifiers", metavar="FILE", help="The team's key file (YAML or CSV, name → "
        "pseudonym; an empty pseudonym marks a public name). Kept outside the project; never "
        "copied or stored.", show_default=False)],
    out: Annotated[Path, typer.Option(
        "--out", metavar="DIR", help="Folder for the pseudonymized copies (same relative "
        "names); must not be, or be inside, an input folder.", show_default=False)],
    report: Annotated[Optional[Path], typer.Option(
        "--report", metavar="FILE.csv", help="Also write every replacement (file, line, "
        "column, kind, text, replacement) as CSV. It holds the original data: keep it with "
        "the key file, outside --out.")] = None,
    ner: NerOption = False,
    encoding: EncodingOption = None,
) -> None:
    """Write pseudonymized copies of transcripts and list every replacement.

    Listed names become their pseudonyms (other names [PERSON-n], the same in every file);
    e-mail addresses, phones, URLs, handles and ID numbers become [EMAIL], [PHONE], [URL],
    [HANDLE] and [ID]. The copies are written as UTF-8; Word files keep their formatting.
    """
    from coder.anonymize import anonymize_paths, load_identifiers
    from coder.errors import InputError

    if report is not None:
        if _inside(report, out):
            raise InputError(report, f"is inside --out {out}",
                             "keep the replacement report (it holds the original names) "
                             "outside the folder you import, e.g. next to the key file")
        if not report.resolve().parent.is_dir():
            raise InputError(report, "its folder does not exist", "create it first")
    result = anonymize_paths(paths, load_identifiers(identifiers), out, ner=ner,
                             encoding=encoding)
    if result.replacements:
        write_text("\n".join(f"{r.location()}: {r.kind}: {r.text!r} -> {r.replacement!r}"
                             + (" (file name)" if r.line is None else "")
                             for r in result.replacements), None)
    if report is not None:
        write_text(result.to_csv(), report)
    for finding in result.remaining:
        warn(f"{finding.location()}: {finding.kind} {finding.text!r} is still in the copy — "
             "check its pseudonym and the identifiers file")
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(result.counts().items()))
    message(f"wrote {len(result.files)} file(s) to {out}: {len(result.replacements)} "
            f"replacement(s)" + (f" ({counts})" if counts else ""))


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("anonymize")(anonymize)
