"""``coder merge OTHER`` and ``coder project export|split``: blind coding without a server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from coder.cli.common import DbOption, err, message, open_project, warn
from coder.errors import CoderError

project_app = typer.Typer(
    help="Hand coders blind copies of the project (transcripts and codebook, no one else's "
         "codings); bring them back with `coder merge`.", no_args_is_help=True)


def merge(
    other: Annotated[str, typer.Argument(
        metavar="OTHER", help="The other project: a SQLite file, a database URL, or a "
        "REFI-QDA .qdpx file.", show_default=False)],
    coders: Annotated[Optional[str], typer.Option(
        "--coders", metavar="A,B", help="Only these coders of OTHER (default: all).",
        show_default=False)] = None,
    coder_map: Annotated[Optional[list[str]], typer.Option(
        "--coder-map", metavar="OLD=NEW", help="Bring OTHER's coder OLD in as NEW here "
        "(repeat or separate with commas), e.g. when both projects have a coder bob.",
        show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what would come in; change nothing.")] = False,
    db: DbOption = None,
) -> None:
    """Merge the reviews, codings and memos of another copy of this project into it.

    Transcripts are matched by id and content, codebooks by version content and renamed_from.
    The merge is refused, and nothing changes, when the transcripts differ, when a code is
    unknown here, or when a coder on both sides decided a segment differently (bring them in
    under a new name with --coder-map). Merging the same copy twice changes nothing.
    """
    from coder.coding.merge import merge_project

    mapping = _parse_map(coder_map or [])
    names = [n.strip() for n in coders.split(",") if n.strip()] if coders else None
    project = open_project(db)
    with err.status(f"reading {other} and comparing it with this project …"):
        report = merge_project(project, other, coders=names, coder_map=mapping,
                               dry_run=dry_run)
    for text in report.warnings:
        warn(text)
    verb = "would bring" if dry_run else "brought"
    message(f"{report.other}: {report.transcripts} transcript(s) matched; {report.codebook}")
    if report.skipped:
        message(f"not here and not coded there (left out): {', '.join(report.skipped)}")
    for c in report.coders:
        name = c.name if c.name == c.source else f"{c.source} as {c.name}"
        if c.status == "nothing":
            message(f"  {name}: nothing reviewed there")
            continue
        extra = f", {c.decisions} consensus decision(s)" if c.decisions else ""
        same = f"; {c.unchanged} segment(s) already here alike" if c.unchanged else ""
        message(f"  {name} ({c.status}): {verb} {c.segments} reviewed segment(s), "
                f"{c.codings} coding(s){extra}{same}")
    if not report.changed:
        message("nothing new to merge" + (" — the project is unchanged" if not dry_run else ""))


def _parse_map(items: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in ",".join(items).split(","):
        if not item.strip():
            continue
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise CoderError(f"--coder-map {item!r}: write OLD=NEW, e.g. --coder-map bob=bob2")
        mapping[old.strip()] = new.strip()
    return mapping


@project_app.command("export")
def export(
    dest: Annotated[str, typer.Argument(metavar="DEST", help="The new project: a file path "
                                        "(must not exist) or an empty database URL.",
                                        show_default=False)],
    coder: Annotated[Optional[str], typer.Option(
        "--coder", "-c", metavar="NAME", help="The coder the copy is for: their own codings "
        "come along, no one else's (default: no codings at all).", show_default=False)] = None,
    db: DbOption = None,
) -> None:
    """Write a blind copy of the project for one coder: transcripts, attributes and every
    codebook version, but no one else's codings, reviews or trained models."""
    from coder.coding.blind import blind_copy

    counts = blind_copy(open_project(db), dest, coder=coder)
    message(f"wrote {dest}: {counts.get('transcript', 0)} transcript(s), "
            f"{counts.get('codebook', 0)} codebook version(s)"
            + (f", {counts.get('coding', 0)} coding(s) by {coder}" if coder else "")
            + f" — code there, then `coder merge {dest}` here")


@project_app.command("split")
def split(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="Existing folder for the "
                                           "copies, one NAME.db per coder.",
                                           show_default=False)],
    coders: Annotated[str, typer.Option(
        "--coders", metavar="A,B", help="The coders to make copies for, e.g. alice,bob,carol.",
        show_default=False)],
    db: DbOption = None,
) -> None:
    """One blind copy per coder (FOLDER/NAME.db), each with only that coder's own codings."""
    from coder.coding.blind import split_project

    names = [n.strip() for n in coders.split(",") if n.strip()]
    if not names:
        raise CoderError("--coders is empty — name the coders, e.g. --coders alice,bob")
    paths = split_project(open_project(db), folder, names)
    for name, path in paths.items():
        message(f"wrote {path} for {name}")
    message("code in each copy (coder code --db FILE --coder NAME), then merge them back "
            "with `coder merge FILE`")


def register(app: typer.Typer) -> None:
    app.command("merge")(merge)
    app.add_typer(project_app, name="project")
