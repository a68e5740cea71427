"""``coder report themes|cooccurrence|saturation`` and ``coder quotes``: exports for papers."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from coder.cli.common import (
    AllowPiiOption, DbOption, Format, FormatOption, IdentifiersOption, OutputOption, gate_output,
    message, open_project, warn,
)
from coder.errors import CoderError

report_app = typer.Typer(
    help="Paper-ready reports: theme frequencies by group, co-occurrence, saturation — as "
         "tables (CSV, XLSX, Markdown, LaTeX, HTML, JSON) and figures (PDF/PNG/SVG).",
    no_args_is_help=True)

CoderOption = Annotated[Optional[str], typer.Option(
    "--coder", "-c", metavar="NAME|consensus|majority",
    help="Whose codings: a coder's name, consensus, or majority (computed now from all human "
         "coders over the segments every one of them reviewed). Default: consensus.",
    show_default=False)]
CodesOption = Annotated[bool, typer.Option(
    "--codes", help="Code level: a row per code (a code counts its sub-codes) instead of "
                    "per theme.")]
PlotOption = Annotated[Optional[Path], typer.Option(
    "--plot", metavar="FILE.pdf|png|svg", help="Also draw the figure to FILE (PDF, PNG or SVG, "
    "sized for a journal page, with the provenance in its metadata).", show_default=False)]
LangOption = Annotated[Optional[str], typer.Option(
    "--lang", metavar="LANG", help="Code labels in this language (e.g. ru), from the "
    "codebook's optional `labels: {en: …, ru: …}`; codes without one keep their label.",
    show_default=False)]


class Unit(str, Enum):
    participants = "participants"
    segments = "segments"


class Order(str, Enum):
    date = "date"
    id = "id"


class QuoteFormat(str, Enum):
    md = "md"
    latex = "latex"
    csv = "csv"
    json = "json"


def _notes(notes: list[str]) -> None:
    for note in notes:
        warn(note)


def _plot(draw, report, plot: Path | None) -> None:
    if plot is not None:
        draw(report, plot)
        message(f"wrote {plot}")


def _translate(project, report, lang: str | None) -> None:
    """Replace the report's code labels by those in ``lang`` (see coder.reports.lang)."""
    if not lang:
        return
    from coder.codebook import require_codebook
    from coder.reports.lang import code_labels

    with project.read() as conn:
        labels, notes = code_labels(require_codebook(conn), lang)
    report.labels.update(labels)
    _notes(notes)


# Help texts are single-line paragraphs: typer keeps line breaks after the first paragraph.
THEMES_HELP = (
    "Theme frequencies per group, with each group's N, a total row and a total column."
    "\n\nA participant counts for a theme when at least one of their segments is coded with "
    "it or one of its sub-codes. Shares are over the participants (or participant segments) "
    "the coder reviewed in the group. Groups of one or two experts can identify a person: "
    "see --min-cell.")
COOCCURRENCE_HELP = (
    "How often two themes are coded on the same segment (the diagonal: the theme's segments)."
    "\n\nTables show counts; --format json gives counts and Jaccard indices.")
SATURATION_HELP = (
    "New codes per additional interview, the cumulative count, and the saturation point."
    "\n\nCode level. Saturation is reached after the last interview that added a new code, "
    "when at least one interview follows it. Guest, Namey & Chen's (2020) measure is reported "
    "beside it in both usual settings (base 4 / run 2 and base 6 / run 3): the first run of "
    "interviews whose new codes are at most --threshold of the base's codes; see "
    "docs/saturation.md. With --by, a table of both measures per group.")
QUOTES_HELP = (
    "Illustrative quotes for a theme, attributed by pseudonym and attribute (\"Expert KZ-02, "
    "Kazakhstan\")."
    "\n\nPicked deterministically: segments with the most specific code first, then those of "
    "25–120 words, then those with fewest other themes; one quote per expert before a second.")


@report_app.command("themes", help=THEMES_HELP)
def themes(
    by: Annotated[str, typer.Option(
        "--by", metavar="ATTRIBUTE", help="Group by this participant attribute (country, mode, "
        "…), or transcript / participant; transcripts without it form (none).")] = "country",
    unit: Annotated[Unit, typer.Option(
        "--unit", help="participants: experts with at least one segment of the theme, share of "
        "the group's experts; segments: coded segments, share of the group's segments.")]
    = Unit.participants,
    coder: CoderOption = None,
    codes: CodesOption = False,
    min_cell: Annotated[Optional[int], typer.Option(
        "--min-cell", metavar="K", min=1, help="Suppress cells with fewer than K participants "
        "(shown <K): groups of one or two experts can identify a person. Default: off.",
        show_default=False)] = None,
    flag_small: Annotated[bool, typer.Option(
        "--flag-small", help="With --min-cell K: show small cells, flagged with *, instead of "
        "suppressing them.")] = False,
    lang: LangOption = None,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    plot: PlotOption = None,
    db: DbOption = None,
) -> None:
    """Theme frequencies per group (see THEMES_HELP and coder.reports.frequencies)."""
    from coder.reports import theme_frequencies
    from coder.reports.export import render_themes
    from coder.reports.figures import check_figure_path, plot_theme_heatmap

    if plot is not None:
        check_figure_path(plot)
    project = open_project(db)
    table = theme_frequencies(project, by=by, unit=unit.value, coder=coder,
                              codes=codes, min_cell=min_cell, flag_small=flag_small)
    _translate(project, table, lang)
    _notes(table.notes)
    render_themes(table, format.value, output)
    _plot(plot_theme_heatmap, table, plot)


@report_app.command("cooccurrence", help=COOCCURRENCE_HELP)
def cooccurrence(
    coder: CoderOption = None,
    codes: Annotated[bool, typer.Option(
        "--codes", help="Code level (codes exactly as applied; codes never applied are left "
                        "out) instead of themes.")] = False,
    lang: LangOption = None,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    plot: PlotOption = None,
    db: DbOption = None,
) -> None:
    """Theme co-occurrence on segments (see COOCCURRENCE_HELP)."""
    from coder.reports import cooccurrence as build
    from coder.reports.export import render_cooccurrence
    from coder.reports.figures import check_figure_path, plot_cooccurrence

    if plot is not None:
        check_figure_path(plot)
    project = open_project(db)
    table = build(project, coder=coder, codes=codes)
    _translate(project, table, lang)
    render_cooccurrence(table, format.value, output)
    _plot(plot_cooccurrence, table, plot)


@report_app.command("saturation", help=SATURATION_HELP)
def saturation(
    order: Annotated[Order, typer.Option(
        "--order", help="Interview order: by the date attribute (undated last) or by "
        "transcript id.")] = Order.date,
    coder: CoderOption = None,
    by: Annotated[Optional[str], typer.Option(
        "--by", metavar="ATTRIBUTE", help="Saturation per group of this attribute (country, "
        "mode, …): each group's interviews in order; a table of both measures per group.",
        show_default=False)] = None,
    threshold: Annotated[float, typer.Option(
        "--threshold", metavar="SHARE", min=0.0, max=0.99, help="Guest et al.'s "
        "new-information threshold, a share of the base's codes (0.05 = 5%; 0 = no new code).")]
    = 0.05,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    plot: PlotOption = None,
    db: DbOption = None,
) -> None:
    """New codes per interview and the saturation point (see SATURATION_HELP)."""
    from coder.reports.export import render_saturation, render_saturation_groups
    from coder.reports.figures import check_figure_path, plot_saturation
    from coder.reports.saturation import saturation_by_group

    if plot is not None:
        check_figure_path(plot)
        if by is not None:
            raise CoderError("--plot draws the curve of all interviews — leave out --by to "
                             "draw it, or --plot to get the table per group")
    curves = saturation_by_group(open_project(db), by=by, order=order.value, coder=coder,
                                 threshold=threshold)
    if by is not None:
        _notes(next(iter(curves.values())).notes if curves else [])
        return render_saturation_groups(curves, by, format.value, output)
    curve = curves[None]
    _notes(curve.notes)
    render_saturation(curve, format.value, output)
    message(curve.summary())
    for guest in curve.guest:
        message(f"Guest et al. (2020), {guest.summary()}")
    _plot(plot_saturation, curve, plot)


def quotes(
    theme: Annotated[str, typer.Option(
        "--theme", metavar="KEY", help="Theme or full code key, e.g. security_community or "
        "security_community.established.", show_default=False)],
    by: Annotated[Optional[str], typer.Option(
        "--by", metavar="ATTRIBUTE", help="Group the quotes by this attribute (the limit "
        "applies per group) and attribute them with it.", show_default=False)] = None,
    limit: Annotated[int, typer.Option(
        "--limit", "-n", metavar="N", min=1, help="Quotes (per group with --by).")] = 5,
    coder: CoderOption = None,
    who: Annotated[str, typer.Option(
        "--who", metavar="WORD", help="Word before the pseudonym in attributions.")]
    = "Expert",
    format: Annotated[QuoteFormat, typer.Option(
        "--format", "-f", help="md: blockquotes; latex: quote environments (escaped); csv; "
        "json.")] = QuoteFormat.md,
    output: OutputOption = None,
    identifiers: IdentifiersOption = None,
    allow_pii: AllowPiiOption = False,
    db: DbOption = None,
) -> None:
    """Illustrative quotes for a theme (see QUOTES_HELP and coder.reports.quotes)."""
    from coder.reports import quotes as build
    from coder.reports.export import render_quotes

    qs = build(open_project(db), theme=theme, by=by, limit=limit, coder=coder, who=who)
    _notes(qs.notes)
    gate_output((f"{q.attribution}: {q.text}" for q in qs.quotes), source=output or "quotes",
                allow_pii=allow_pii, identifiers=identifiers)
    render_quotes(qs, format.value, output)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
    app.command("quotes", help=QUOTES_HELP)(quotes)
