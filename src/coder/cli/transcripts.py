"""``coder import`` and ``coder transcripts list|show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from coder.cli.common import (
    DbOption, Format, FormatOption, OutputOption, dump_json, err, message, open_project, out,
    warn, write_text,
)

transcripts_app = typer.Typer(help="List and show imported transcripts.", no_args_is_help=True)


def import_(
    paths: Annotated[list[Path], typer.Argument(
        help="Transcript files or folders (searched recursively): .txt (speaker-labelled or "
             "Otter.ai), .md, .docx, .vtt (Zoom/Teams), .srt.", show_default=False)],
    meta: Annotated[Optional[Path], typer.Option(
        "--meta", metavar="CSV", help="Participants file: a `transcript` column matching the "
        "ids (file stems), every other column an attribute (country, mode, date, …).")] = None,
    interviewer: Annotated[Optional[str], typer.Option(
        "--interviewer", metavar="LABEL", help="Speaker label of the interviewer when neither "
        "the metadata nor the usual labels (Interviewer, Q, I, Int) say it.")] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Overwrite transcripts whose content changed (only while they have "
        "no codings).")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Parse and report what would be imported; write nothing.")] = False,
    encoding: Annotated[Optional[str], typer.Option(
        "--encoding", metavar="CODEC", help="Text encoding for files that are neither UTF-8 "
        "nor UTF-16 with BOM (e.g. cp1251).")] = None,
    allow_pii: Annotated[bool, typer.Option(
        "--allow-pii", help="Import even when the personal-data gate finds e-mail addresses, "
        "phone numbers, URLs, handles, ID numbers or listed names (for public data).")] = False,
    identifiers: Annotated[Optional[Path], typer.Option(
        "--identifiers", metavar="FILE", help="The team's key file (YAML/CSV name → "
        "pseudonym, kept outside the project): the gate also looks for these names. It is "
        "read, never stored.")] = None,
    ner: Annotated[bool, typer.Option(
        "--ner", help="Also look for person names nobody listed, with a named-entity tagger "
        "(natasha for Russian text, spaCy for others if installed). Default: the project "
        "setting `ner` (coder config set ner true).")] = False,
    db: DbOption = None,
) -> None:
    """Import transcripts into the project, split into speaker turns (one transaction).

    A REFI-QDA project (`coder import FILE.qdpx`, or `coder import qdpx FILE`) brings its
    transcripts, codebook, coders, codings and attributes along.
    """
    from coder.cli.refi import import_qdpx, refi_paths

    if (projects := refi_paths(paths)) is not None:
        return import_qdpx(projects, meta=meta, interviewer=interviewer, replace=replace,
                           encoding=encoding, dry_run=dry_run, db=db, allow_pii=allow_pii,
                           identifiers=identifiers)
    from coder.transcripts import collect_paths, parse_transcripts, store_transcripts

    files = collect_paths(paths)
    ner = ner or _ner_setting(db)
    with _progress(len(files)) as advance:
        report = parse_transcripts(files, meta=meta, interviewer=interviewer,
                                   encoding=encoding, progress=advance,
                                   allow_pii=allow_pii, identifiers=identifiers, ner=ner)
    from coder.errors import NotFoundError

    try:
        project = open_project(db, create=not dry_run)
    except NotFoundError:
        if not dry_run:
            raise
        project = None  # a dry run into a project that does not exist yet: everything is new
    if project is not None:
        store_transcripts(project, report, replace=replace, dry_run=dry_run)
    for text in report.warnings:
        warn(text)
    verb = "would import" if dry_run else "imported"
    for t in report.transcripts:
        what = {"new": verb, "replaced": "would replace" if dry_run else "replaced",
                "unchanged": "unchanged", "updated": "attributes updated"}[t.status]
        message(f"{what}: {t.id} ({t.format}, {len(t.segments)} turns, "
                f"{t.participant_segments} by the participant) from {t.path}")
    new = report.count("new") + report.count("replaced")
    message(f"{verb} {new} transcript(s), {report.count('unchanged')} unchanged"
            + (f", {report.count('updated')} with new attributes" if report.count("updated")
               else "") + (f" into {project.label}" if not dry_run else ""))


class _progress:
    """A rich progress bar on stderr for many files; nothing for a few or when piped."""

    def __init__(self, total: int):
        self.total = total
        self.bar = None

    def __enter__(self):
        if self.total < 5 or not err.is_terminal:
            return lambda _path: None
        from rich.progress import Progress

        self.bar = Progress(console=err, transient=True)
        self.bar.start()
        task = self.bar.add_task("parsing", total=self.total)
        return lambda _path: self.bar.advance(task)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


def _ner_setting(db: str | None) -> bool:
    """The project setting ``ner`` when the project exists (a first import has none)."""
    from coder.db.settings import get_setting
    from coder.errors import NotFoundError

    try:
        project = open_project(db)
    except NotFoundError:
        return False
    try:
        with project.read() as conn:
            return bool(get_setting(conn, "ner", False))
    finally:
        project.close()


@transcripts_app.command("list")
def list_(db: DbOption = None, format: FormatOption = Format.table,
          output: OutputOption = None) -> None:
    """List the project's transcripts with their participant, format and segment counts."""
    from coder.transcripts import list_transcripts

    rows = list_transcripts(open_project(db))
    if format == Format.json:
        return write_text(dump_json(rows), output)
    columns = ["id", "participant", "format", "segments", "participant_segments"]
    attrs = sorted({k for r in rows for k in r["attributes"]} - {"participant", "interviewer"})
    table_rows = [[r[c] for c in columns] + [r["attributes"].get(a, "") for a in attrs]
                  for r in rows]
    _render(columns + attrs, table_rows, format, output, title="Transcripts")


@transcripts_app.command("show")
def show(transcript_id: Annotated[str, typer.Argument(metavar="ID", help="Transcript id.")],
         db: DbOption = None, format: FormatOption = Format.table,
         output: OutputOption = None) -> None:
    """Show one transcript: its attributes and its numbered speaker turns."""
    from coder.transcripts import get_transcript

    data = get_transcript(open_project(db), transcript_id)
    if format == Format.json:
        return write_text(dump_json(data), output)
    if format == Format.table and output is None:
        attrs = ", ".join(f"{k}={v}" for k, v in sorted(data["attributes"].items()))
        out.print(f"[bold]{data['id']}[/bold]  {attrs}", highlight=False)
    rows = [[s["n"], s["speaker"], s["role"], _clock(s["start"]), _clock(s["end"]), s["text"]]
            for s in data["segments"]]
    _render(["n", "speaker", "role", "start", "end", "text"], rows, format, output,
            title=None)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _render(columns, rows, format: Format, output, title) -> None:
    from coder.render import render_rows

    render_rows(columns, rows, format, output, title=title)


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.add_typer(transcripts_app, name="transcripts")
