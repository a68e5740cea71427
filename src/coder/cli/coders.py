"""``coder coders list|rename|remove`` and ``coder codings delete``: undoing coding work."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from coder.cli.common import DbOption, Format, FormatOption, OutputOption, message, open_project
from coder.errors import CoderError

coders_app = typer.Typer(help="The project's coders: list them, fix a mistyped name, remove "
                              "one with all their work.", no_args_is_help=True)

YesOption = Annotated[bool, typer.Option(
    "--yes", "-y", help="Delete without asking (for scripts).")]


def confirm(question: str, yes: bool) -> bool:
    """Ask before deleting; ``--yes`` skips. Without a terminal to answer, refuse (exit 1)."""
    if yes:
        return True
    import sys

    if not sys.stdin or sys.stdin.closed:
        raise CoderError("nothing deleted — pass --yes to delete without asking")
    try:
        answer = typer.confirm(question, default=False, err=True)
    except typer.Abort:
        raise CoderError("nothing deleted — pass --yes to delete without asking") from None
    if not answer:
        message("nothing deleted")
    return answer


@coders_app.command("list")
def list_(db: DbOption = None, format: FormatOption = Format.table,
          output: OutputOption = None) -> None:
    """Every coder with their kind, segments reviewed and codings."""
    from coder.coding.undo import list_coders
    from coder.render import render_rows

    rows = list_coders(open_project(db))
    if not rows:
        message("no coders yet — they appear with `coder code --coder NAME` or "
                "`coder codings import FILE --coder NAME`")
    columns = ["coder", "kind", "reviewed", "codings", "created"]
    render_rows(columns, [[r.name, r.kind, r.reviewed, r.codings,
                           r.created_at.isoformat() if r.created_at else None] for r in rows],
                format, output, title="Coders")


@coders_app.command("rename")
def rename(old: Annotated[str, typer.Argument(help="The coder's current name.")],
           new: Annotated[str, typer.Argument(help="The new name.")],
           db: DbOption = None) -> None:
    """Rename a coder (e.g. a mistyped --coder); their reviews and codings follow."""
    from coder.coding.undo import rename_coder

    rename_coder(open_project(db), old, new)
    message(f"renamed coder {old} to {new}")


@coders_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The coder to remove.")],
           yes: YesOption = False, db: DbOption = None) -> None:
    """Remove a coder with all their reviews, codings and consensus decisions."""
    from coder.coding.undo import count_coder, remove_coder

    project = open_project(db)
    found = count_coder(project, name)
    if not confirm(f"remove coder {name} with {found.describe()}?", yes):
        return
    removed = remove_coder(project, name)
    message(f"removed coder {name} and {removed.describe()}")


def delete(
    coder: Annotated[str, typer.Option("--coder", "-c", metavar="NAME",
                                       help="Whose codings to delete.", show_default=False)],
    transcript: Annotated[Optional[str], typer.Option(
        "--transcript", "-t", metavar="ID", help="Only in this transcript.",
        show_default=False)] = None,
    segments: Annotated[Optional[str], typer.Option(
        "--segments", "-s", metavar="N,M-K", help="Only these segment numbers of --transcript, "
        "e.g. 3,5-7.", show_default=False)] = None,
    yes: YesOption = False,
    db: DbOption = None,
) -> None:
    """Delete a coder's codings and reviews (everywhere, in one transcript, or on some
    segments): those segments count as not reviewed by them again. Says what and asks."""
    from coder.coding.undo import Scope, count_codings, delete_codings, parse_segments

    scope = Scope(coder=coder, transcript=transcript, segments=parse_segments(segments))
    project = open_project(db)
    found = count_codings(project, scope)
    if not found.total:
        message(f"nothing to delete: {scope.describe()} has no reviews or codings")
        return
    if not confirm(f"delete {found.describe()} by {scope.describe()}?", yes):
        return
    removed = delete_codings(project, scope)
    message(f"deleted {removed.describe()} by {scope.describe()}")


def register(app: typer.Typer) -> None:
    app.add_typer(coders_app, name="coders")  # `coder codings delete`: see coder.cli.codings
