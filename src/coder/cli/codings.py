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

CoderOption = Annotated[str, typer.Option(
    "--coder", "-c", metavar="NAME", help="The coder whose codings these are (created on first "
    "use), e.g. alice or auto:model.", show_default=False)]


class SheetFormat(str, Enum):
    csv = "csv"
    xlsx = "xlsx"


@codings_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX with columns transcript, segment, "
                                         "code and optional memo; an empty code means "
                                         "'reviewed, no code'.", show_default=False)],
    coder: CoderOption,
    partial: Annotated[bool, typer.Option(
        "--partial", help="Count only the rows' segments as reviewed (default: every "
        "participant segment of each transcript in the file).")] = False,
    db: DbOption = None,
) -> None:
    """Import one coder's codings; the file is checked whole and nothing is written on error."""
    from coder.coding.files import import_codings

    result = import_codings(open_project(db), file, coder, partial=partial)
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


def status(db: DbOption = None, format: FormatOption = Format.table,
           output: OutputOption = None) -> None:
    """How far each coder has got: participant segments reviewed and coded per transcript."""
    from coder.coding.files import coding_status
    from coder.render import render_rows

    rows = coding_status(open_project(db))
    if not rows:
        message("no coder has reviewed anything yet — start with `coder code --coder NAME` "
                "or `coder codings import FILE --coder NAME`")
    columns = ["coder", "transcript", "segments", "reviewed", "coded"]
    render_rows(columns, [[r[c] for c in columns] for r in rows], format, output,
                title="Coding progress")


def register(app: typer.Typer) -> None:
    app.add_typer(codings_app, name="codings")
    app.command("status")(status)
