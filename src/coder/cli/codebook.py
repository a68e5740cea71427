"""``coder codebook load|validate|show|diff|export``: the codebook file and its versions."""

from __future__ import annotations

import io
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from coder.cli.common import (
    DbOption, OutputOption, dump_json, message, open_project, out, write_text,
)

EncodingOption = Annotated[Optional[str], typer.Option(
    "--encoding", metavar="CODEC", help="Text encoding of a codebook file that is not UTF-8 "
    "(e.g. cp1251).", show_default=False)]

codebook_app = typer.Typer(
    help="Load, validate, show, compare and export the thematic codebook (a YAML file).",
    no_args_is_help=True)


@codebook_app.command("import")
def import_qdc(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="REFI-QDA codebook (.qdc) from "
                                         "NVivo, ATLAS.ti, MAXQDA, QualCoder … (or a .qdpx "
                                         "project, for its codebook).", show_default=False)],
    drop: Annotated[bool, typer.Option(
        "--drop", help="Allow removing codes that have codings, deleting those codings.")] = False,
    db: DbOption = None,
) -> None:
    """Make a REFI-QDA codebook the project's current codebook (a new version if it changed).

    Keys come from a `Key:` line in a code's description (coder's own exports) or the name.
    """
    from coder.cli.common import warn
    from coder.codebook import render_diff
    from coder.refi import load_qdc, read_qdc

    book = read_qdc(file)
    for text in book.mapping.warnings:
        warn(text)
    result = load_qdc(open_project(db, create=True), book, drop=drop)
    info = result.codebook
    if result.status == "unchanged":
        message(f"unchanged: {file} has the codes of the current codebook (version "
                f"{result.version})")
        return
    message(f"loaded codebook version {result.version} from {file}: {len(info.themes)} themes, "
            f"{len(info.codes)} codes")
    if result.diff is not None:
        message(render_diff(result.diff, None, info).rstrip("\n"))


FileArg = Annotated[Path, typer.Argument(metavar="FILE", help="Codebook YAML file (SPEC §4).",
                                         show_default=False)]


class ShowFormat(str, Enum):
    table = "table"
    json = "json"


class DiffFormat(str, Enum):
    text = "text"
    json = "json"


class ExportFormat(str, Enum):
    md = "md"
    latex = "latex"
    yaml = "yaml"


@codebook_app.command("load")
def load(
    file: FileArg,
    drop: Annotated[bool, typer.Option(
        "--drop", help="Allow removing codes that have codings, deleting those codings.")] = False,
    encoding: EncodingOption = None,
    db: DbOption = None,
) -> None:
    """Validate FILE and make it the project's current codebook (a new version if it changed).

    Codes with `renamed_from:` keep their codings; removing a coded code needs --drop.
    """
    from coder.codebook import load_codebook, load_codebook_file, render_diff

    spec = load_codebook_file(file, encoding)
    proj = open_project(db, create=True)
    with proj.write() as conn:
        result = load_codebook(conn, spec, spec.source, drop=drop)
    info = result.codebook
    counts = f"{len(info.themes)} themes, {len(info.codes)} codes"
    if result.status == "unchanged":
        message(f"unchanged: {file} is already the current codebook (version {result.version}, "
                f"{counts})")
        return
    message(f"loaded codebook version {result.version}: {info.name} ({counts})")
    if result.diff is not None:
        message(render_diff(result.diff, None, info).rstrip("\n"))
    for (old, new), n in result.carried.items():
        message(f"carried {n} coding{'s' * (n != 1)} from {old} to {new}")
    for key, n in result.dropped.items():
        message(f"deleted {n} coding{'s' * (n != 1)} of removed code {key}")


@codebook_app.command("validate")
def validate(file: FileArg, encoding: EncodingOption = None) -> None:
    """Check FILE without a project: every problem is reported as FILE:LINE, exit code 1."""
    from coder.codebook import load_codebook_file

    spec = load_codebook_file(file, encoding)
    message(f"ok: {len(spec.themes)} themes, {len(spec.codes)} codes")


@codebook_app.command("show")
def show(
    db: DbOption = None,
    format: Annotated[ShowFormat, typer.Option(
        "--format", "-f", help="table: a tree of themes and sub-codes for people; json: every "
                               "field for programs.")] = ShowFormat.table,
    output: OutputOption = None,
) -> None:
    """Show the current codebook's themes and sub-codes with their number of codings.

    A code's total includes its sub-codes' codings.
    """
    from coder.codebook import coding_counts, require_codebook, theme_totals

    with open_project(db).read() as conn:
        info = require_codebook(conn)
        counts = coding_counts(conn)
    totals = theme_totals(info, counts)
    if format is ShowFormat.json:
        write_text(dump_json(_show_json(info, counts, totals)), output)
        return
    tree = _show_tree(info, counts, totals)
    if output is None:
        out.print(tree)
        return
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    console.print(tree)
    write_text(console.file.getvalue(), output)


def _show_json(info, counts: dict[str, int], totals: dict[str, int]) -> dict:
    return {"name": info.name, "version": info.version, "sha256": info.sha256,
            "codes": [{"key": c.key, "parent": c.parent, "label": c.label,
                       "definition": c.definition, "include": c.include,
                       "exclude": c.exclude, "examples": c.examples, "keywords": c.stored_keywords(),
                       "colour": c.colour, "codable": c.codable, "position": c.position,
                       "codings": counts.get(c.key, 0), "codings_total": totals[c.key]}
                      for c in info.codes]}


def _show_tree(info, counts: dict[str, int], totals: dict[str, int]) -> Tree:
    """Themes and sub-codes with their codings (``own (total N)`` where sub-codes add some)."""
    root = Tree(Text(f"{info.name} (version {info.version})", style="bold"))
    nodes = {None: root}
    for code in info.codes:
        n, total = counts.get(code.key, 0), totals[code.key]
        line = Text()
        line.append(code.key, style="bold cyan" if code.is_theme else "cyan")
        line.append(f"  {code.label}  ")
        if not code.codable:
            line.append("category  ", style="dim")
        line.append(f"{n}" + (f" (total {total})" if total != n else ""), style="green")
        nodes[code.key] = nodes[code.parent].add(line)
    return root


@codebook_app.command("diff")
def diff(
    old: Annotated[Path, typer.Argument(metavar="OLD", help="The earlier codebook file; "
                                        "with NEW omitted, the file to compare the project's "
                                        "current codebook with.", show_default=False)],
    new: Annotated[Optional[Path], typer.Argument(metavar="NEW", help="The later codebook "
                                                  "file.", show_default=False)] = None,
    format: Annotated[DiffFormat, typer.Option(
        "--format", "-f", help="text for people, json for programs.")] = DiffFormat.text,
    encoding: EncodingOption = None,
    db: DbOption = None,
) -> None:
    """Compare two codebook files, or the current codebook with one file.

    Lists added, removed, renamed and edited codes.
    """
    from coder.codebook import diff_codebooks, load_codebook_file, render_diff, require_codebook

    if new is None:
        after = load_codebook_file(old, encoding)
        with open_project(db).read() as conn:
            before = require_codebook(conn)
    else:
        before, after = load_codebook_file(old, encoding), load_codebook_file(new, encoding)
    result = diff_codebooks(before, after)
    if format is DiffFormat.json:
        write_text(dump_json(result.to_dict()), None)
    else:
        write_text(render_diff(result, before, after), None)


@codebook_app.command("export")
def export(
    format: Annotated[ExportFormat, typer.Option(
        "--format", "-f", help="md: Markdown; latex: a booktabs longtable for a paper; yaml: a "
                               "codebook file that loads back.")] = ExportFormat.md,
    output: OutputOption = None,
    db: DbOption = None,
) -> None:
    """Export the current codebook for a paper (Markdown, LaTeX) or as a YAML file."""
    from coder.codebook import require_codebook
    from coder.codebook.export import export_latex, export_markdown, export_yaml

    with open_project(db).read() as conn:
        info = require_codebook(conn)
    render = {ExportFormat.md: export_markdown, ExportFormat.latex: export_latex,
              ExportFormat.yaml: export_yaml}[format]
    write_text(render(info), output)


def register(app: typer.Typer) -> None:
    app.add_typer(codebook_app, name="codebook")
