"""``coder codings import|export`` and ``coder status``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from coder.cli.common import (
    AllowPiiOption, DbOption, Format, FormatOption, IdentifiersOption, OutputOption, gate_output,
    message, open_project,
)

codings_app = typer.Typer(help="Bring codings in from spreadsheets and take them out again.",
                          no_args_is_help=True)

CoderOption = Annotated[Optional[str], typer.Option(
    "--coder", "-c", metavar="NAME", help="The coder whose codings these are, e.g. alice or "
    "auto:model. A name the project does not know yet needs --new-coder (a typo would "
    "otherwise become a new coder in every agreement report). In a team project: your "
    "login, the default.", show_default=False)]

NewCoderOption = Annotated[bool, typer.Option(
    "--new-coder", help="Create the coder named by --coder if the project does not have them "
    "yet (not needed for a project's first coder).")]


class SheetFormat(str, Enum):
    csv = "csv"
    xlsx = "xlsx"


@codings_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX with columns transcript, segment, "
                                         "code and optional memo; an empty code means "
                                         "'reviewed, no code'.", show_default=False)],
    coder: CoderOption = None,
    partial: Annotated[bool, typer.Option(
        "--partial", help="Count only the rows' segments as reviewed (default: every "
        "participant segment of each transcript in the file).")] = False,
    encoding: Annotated[Optional[str], typer.Option(
        "--encoding", metavar="CODEC", help="Text encoding of a CSV/TSV that is neither UTF-8 "
        "nor UTF-16 with BOM (e.g. cp1252 for Excel on Windows). Comma, tab and semicolon "
        "separated files are recognized.")] = None,
    new_coder: NewCoderOption = False,
    db: DbOption = None,
) -> None:
    """Import one coder's codings; the file is checked whole and nothing is written on error."""
    from coder.coding.files import import_codings
    from coder.team import resolve_coder

    project = open_project(db)
    result = import_codings(project, file, resolve_coder(project, coder), partial=partial,
                            encoding=encoding, new_coder=new_coder)
    if result.created:
        message(f"new coder {result.coder} (existing coders: "
                f"{', '.join(result.others) or 'none'})")
    message(f"imported {result.codings} codings by {result.coder} from {file}: "
            f"{result.segments} segments reviewed in {len(result.transcripts)} transcript(s)")
    if result.unlisted:
        message(f"{result.unlisted} participant segment(s) of these transcripts had no row and "
                "were marked 'reviewed, no code' — pass --partial to count only the rows' "
                f"segments; undo with `coder codings delete --coder {result.coder} "
                "--transcript ID`")


@codings_app.command("export")
def export(
    coder: Annotated[Optional[str], typer.Option(
        "--coder", "-c", metavar="NAME", help="Only this coder (default: everyone).")] = None,
    format: Annotated[SheetFormat, typer.Option("--format", "-f", help="csv or xlsx.")]
    = SheetFormat.csv,
    output: OutputOption = None,
    identifiers: IdentifiersOption = None,
    allow_pii: AllowPiiOption = False,
    db: DbOption = None,
) -> None:
    """Export codings with coder, speaker and text (re-importable with `codings import`)."""
    from coder.coding.files import EXPORT_COLUMNS, export_rows
    from coder.render import render_rows

    rows = export_rows(open_project(db), coder)
    gate_output({row[6] for row in rows}, source=output, allow_pii=allow_pii,
                identifiers=identifiers)
    render_rows(EXPORT_COLUMNS, rows, format.value, output)


class StatusBy(str, Enum):
    coder = "coder"
    transcript = "transcript"


def status(
    by: Annotated[StatusBy, typer.Option(
        "--by", help="coder: one line per coder over all transcripts (reviewed, coded, and "
        "how many transcripts are done, in progress, not started); transcript: one line per "
        "coder and transcript, not-started ones included.")] = StatusBy.coder,
    coder: Annotated[Optional[str], typer.Option(
        "--coder", "-c", metavar="NAME", help="Only this coder (default: everyone).")] = None,
    db: DbOption = None, format: FormatOption = Format.table, output: OutputOption = None,
) -> None:
    """How far each coder has got: participant segments reviewed and coded, and transcripts
    done, in progress and not started; transcripts nobody has started are named."""
    from coder.coding.progress import DETAIL_COLUMNS, SUMMARY_COLUMNS, coding_progress
    from coder.render import render_rows

    with open_project(db).read() as conn:
        progress = coding_progress(conn, coder)
    if not progress.coders:
        message("no coder has reviewed anything yet — start with `coder code --coder NAME` "
                "or `coder codings import FILE --coder NAME`")
    if by is StatusBy.transcript:
        columns, rows, title = DETAIL_COLUMNS, progress.detail(), "Coding progress by transcript"
    else:
        columns, rows, title = SUMMARY_COLUMNS, progress.summary(), "Coding progress"
    render_rows(list(columns), [[r[c] for c in columns] for r in rows], format, output,
                title=title)
    untouched = progress.untouched()
    if untouched and progress.coders:
        shown = ", ".join(untouched[:10]) + (f" and {len(untouched) - 10} more"
                                             if len(untouched) > 10 else "")
        who = f"by {coder}" if coder else "by anyone"
        message(f"{len(untouched)} of {len(progress.transcripts)} transcript(s) not started "
                f"{who}: {shown}")


from coder.cli.coders import delete  # noqa: E402 - undoing a coder's work lives with the coders

codings_app.command("delete")(delete)


def register(app: typer.Typer) -> None:
    app.add_typer(codings_app, name="codings")
    app.command("status")(status)
