"""``coder import`` and ``coder transcripts list|show``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Optional

import typer

from coder.cli.common import (
    DbOption, Format, FormatOption, OutputOption, dump_json, err, message, messages,
    open_project, out, warn, write_text,
)

transcripts_app = typer.Typer(help="List and show imported transcripts.", no_args_is_help=True)


def import_(
    paths: Annotated[list[Path], typer.Argument(
        help="Transcript files or folders (searched recursively): speaker-labelled .txt/.md, "
             "Word .docx (also Teams, Google Meet, Otter), .vtt/.srt captions (Zoom, Teams, "
             "WhisperX, noScribe), WhisperX/Rev/Amberscript .json, speaker-table .csv/.tsv, "
             "Word or noScribe .html. Recognized by content.", show_default=False)],
    meta: Annotated[Optional[Path], typer.Option(
        "--meta", metavar="CSV", help="Participants file: a `transcript` column matching the "
        "ids (file stems), every other column an attribute (country, mode, date, …).")] = None,
    interviewer: Annotated[Optional[str], typer.Option(
        "--interviewer", metavar="LABEL", help="Speaker label of the interviewer when neither "
        "the metadata nor the usual labels say it (Interviewer, Q, I, Int, Moderator, "
        "Facilitator, Интервьюер, Вопрос, И, Модератор, and the project's setting "
        "interviewer_labels).")] = None,
    speakers: Annotated[Optional[str], typer.Option(
        "--speakers", metavar="MAP", help="Rename speakers, e.g. diarized labels: "
        "\"SPEAKER_00=Interviewer, SPEAKER_01=KZ-04\". A metadata column `speakers` does the "
        "same per transcript.")] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Overwrite transcripts whose content changed, and re-split unchanged "
        "files whose speaker or interviewer settings changed (only while they have no "
        "codings; see `coder transcripts relabel`).")] = False,
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
    coder_map: Annotated[Optional[list[str]], typer.Option(
        "--coder-map", metavar="USER=CODER", help="REFI-QDA only: import the archive's user "
        "USER as coder CODER (repeat, or separate with commas). Needed when a user has the "
        "name of a coder this project already has, e.g. --coder-map alice=alice_nvivo "
        "(alice=alice if it is the same person).")] = None,
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
                           identifiers=identifiers, coder_map=coder_map)
    if coder_map:
        from coder.errors import CoderError

        raise CoderError("--coder-map applies to REFI-QDA (.qdpx) projects only — leave it out")
    from coder.parallel import jobs_for
    from coder.roles import interviewer_labels_value
    from coder.transcripts import collect_files, parse_speaker_map, parse_transcripts

    mapping = parse_speaker_map(speakers)
    files = collect_files(paths, exclude=[meta] if meta else [])
    # The project's settings (interviewer labels, ner) apply to the parsing. A SQLite project
    # is only looked into here, and opened while the files are parsed on other cores; a new
    # one is made after parsing, so that a bad file leaves no empty project behind.
    project, settings, exists = _project_settings(db)
    ner = ner or bool(settings.get("ner"))
    # Into an existing project, with files parsed on other cores: write them as they come,
    # in one transaction committed at the end (coder.transcript_store.StreamedStore).
    streamed = exists and not dry_run and not ner and jobs_for(len(files)) > 1
    streamer = None  # the StreamedStore writing into the project while the files parse

    with contextlib.ExitStack() as stack:  # leaving it with an error rolls the writes back
        def meanwhile() -> None:  # while the files parse on other cores: open the project
            nonlocal project, streamer
            if project is None:  # SQLite with a current schema: sqlite3 alone writes it
                from coder.db.lite import open_current
                from coder.db.url import sqlite_file

                project = open_current(sqlite_file(db)) or _open_if_there(db)
            if streamed and project is not None:
                from coder.transcript_store import StreamedStore

                streamer = stack.enter_context(StreamedStore(project, replace=replace))

        def on_item(item) -> None:
            if streamer is not None:
                streamer.add(item)

        with _progress(len(files)) as advance:
            report = parse_transcripts(
                files, meta=meta, interviewer=interviewer, encoding=encoding,
                progress=advance, allow_pii=allow_pii, identifiers=identifiers,
                speakers=mapping, ner=ner, meanwhile=meanwhile,
                interviewer_labels=interviewer_labels_value(settings.get("interviewer_labels")),
                on_item=on_item if streamed else None)
        if streamer is not None:
            streamer.finish(report)
        else:
            if project is None and not dry_run:
                project = open_project(db, create=True)
            if project is not None:  # a dry run into a project not there yet: all is new
                from coder.transcripts import store_transcripts

                store_transcripts(project, report, replace=replace, dry_run=dry_run)
    for text in report.warnings:
        warn(text)
    for path, why in report.skipped:
        warn(f"skipped {path}: {why}")
    verb = "would import" if dry_run else "imported"
    what = {"new": verb, "replaced": "would replace" if dry_run else "replaced",
            "resplit": "would re-split" if dry_run else "re-split",
            "unchanged": "unchanged", "updated": "attributes updated"}
    messages([f"{what[t.status]}: {t.id} ({t.format}, {len(t.segments)} turns, "
              f"{t.participant_segments} by the participant) from {t.path}"
              for t in report.transcripts])
    new = report.count("new") + report.count("replaced") + report.count("resplit")
    message(f"{verb} {new} transcript(s), {report.count('unchanged')} unchanged"
            + (f", {report.count('updated')} with new attributes" if report.count("updated")
               else "")
            + (f", {len(report.skipped)} file(s) skipped" if report.skipped else "")
            + (f" into {project.label}" if not dry_run else ""))


class _progress:
    """A rich progress bar on stderr for many files; nothing for a few or when piped."""

    def __init__(self, total: int):
        self.total = total
        self.bar = None

    def __enter__(self):
        if self.total < 5 or not err.is_terminal:
            return lambda _path: None
        import time

        from rich.progress import Progress

        # Refreshed here rather than by rich's thread: with no other thread alive, parsing
        # can fork worker processes safely (coder.parallel).
        self.bar = bar = Progress(console=err, transient=True, auto_refresh=False)
        bar.start()
        task = bar.add_task("parsing", total=self.total)
        shown = [0.0]

        def advance(_path) -> None:
            bar.advance(task)
            now = time.monotonic()
            if now - shown[0] >= 0.1:
                shown[0] = now
                bar.refresh()

        return advance

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


def _project_settings(db: str | None):
    """(the open project or None, its settings, whether it exists): a SQLite project's
    settings are read without opening it (coder.db.peek; it is opened meanwhile), others' by
    opening it."""
    from coder.db.peek import sqlite_settings
    from coder.db.url import sqlite_file

    path = sqlite_file(db)
    settings = sqlite_settings(path) if path is not None else None
    if settings is not None:
        return None, settings, path.exists()
    project = _open_if_there(db)
    if project is None:
        return None, {}, False
    from coder.db.settings import all_settings

    with project.read() as conn:
        return project, all_settings(conn), True


def _open_if_there(db: str | None):
    """The project, or None when it does not exist yet (``coder import`` creates it)."""
    from coder.errors import NotFoundError

    try:
        return open_project(db)
    except NotFoundError:
        return None


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


@transcripts_app.command("remove")
def remove(transcript_id: Annotated[str, typer.Argument(metavar="ID", help="Transcript id.")],
           force: Annotated[bool, typer.Option(
               "--force", help="Also delete the codings, reviews and consensus decisions made "
               "on it (refused without this while any exist).")] = False,
           yes: Annotated[bool, typer.Option(
               "--yes", "-y", help="Do not ask for confirmation.")] = False,
           db: DbOption = None) -> None:
    """Remove a transcript with its segments and attributes, e.g. to import it again.

    It says what it deletes and asks first (unless --yes). Codings on it are never deleted
    silently: without --force the command refuses and counts them.
    """
    from coder.transcript_fixes import remove_transcript

    project = open_project(db)
    plan = remove_transcript(project, transcript_id, force=force, dry_run=True)
    _confirm(f"remove transcript {transcript_id} ({plan.describe()})?", yes)
    done = remove_transcript(project, transcript_id, force=force)
    message(f"removed {transcript_id}: {done.describe()}")


@transcripts_app.command("relabel")
def relabel(transcript_id: Annotated[str, typer.Argument(metavar="ID", help="Transcript id.")],
            interviewer: Annotated[str, typer.Option(
                "--interviewer", metavar="LABEL", help="The speaker label whose turns are the "
                "interviewer's; every other turn becomes the participant's.")],
            db: DbOption = None) -> None:
    """Change which speaker is the interviewer, keeping segments (and so codings) as they are.

    Use it when a transcript was imported with the wrong interviewer and already has codings
    (otherwise `coder import --replace` re-splits it from the file).
    """
    from coder.transcript_fixes import relabel_interviewer

    done = relabel_interviewer(open_project(db), transcript_id, interviewer)
    message(f"relabelled {transcript_id}: interviewer {done.previous or '(none)'} → "
            f"{done.interviewer}; {done.to_interviewer} segment(s) now interviewer turns, "
            f"{done.to_participant} now participant turns")
    if done.codings_on_interviewer:
        warn(f"{transcript_id}: {done.codings_on_interviewer} coding(s) are on segments that "
             "are now interviewer turns; they are kept but no longer count in agreement or "
             "reports")


def _confirm(question: str, yes: bool) -> None:
    import sys

    from coder.errors import CoderError

    if yes:
        return
    if not sys.stdin.isatty():
        raise CoderError(f"{question[:-1]} needs confirmation — pass --yes")
    if not typer.confirm(question, err=True):
        raise CoderError("aborted: nothing removed")


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
