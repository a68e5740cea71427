"""Reports as tables and documents: the rows each format shows, and writing them out.

Tables go through the shared renderers of :mod:`coder.render` (rich, CSV, Markdown, LaTeX
booktabs with a caption, HTML, XLSX), so every command's exports look alike; this module only
decides the rows. People's formats (table, md, latex, html) show ``count (share%)`` cells;
data formats (csv, xlsx) numeric ``n`` and ``share`` columns; JSON the report's own shape.
Quotes are documents rather than tables: Markdown blockquotes, LaTeX ``quote`` environments,
CSV or JSON. Each export ends with the report's provenance (see
:mod:`coder.reports.provenance`).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.render import latex_escape, render_rows, to_csv, to_latex, to_markdown
from coder.reports.cooccurrence import CooccurrenceTable
from coder.reports.frequencies import ANY, TOTAL, ThemeTable
from coder.reports.quotes import QUOTE_COLUMNS, QuoteSet
from coder.reports.saturation import SaturationCurve

HUMAN = ("table", "md", "latex", "html")
DATA = ("csv", "xlsx")


# --- theme frequencies -----------------------------------------------------------------------

def _pct(share: float | None) -> str:
    """`` (67%)``: whole percent, halves rounded up as readers expect (12.5% → 13%)."""
    return "" if share is None else f" ({math.floor(share * 100 + 0.5)}%)"


def row_label(labels: dict[str, str], key: str) -> str:
    """A key's label, indented with an en dash per level for sub-codes."""
    label = labels.get(key, key)
    return ("– " * key.count(".")) + label


def theme_title(table: ThemeTable) -> str:
    what = "Codes" if table.level == "codes" else "Themes"
    if table.unit == "participants":
        unit = "participants with at least one segment coded, share of the group's participants"
    else:
        unit = "segments coded, share of the group's participant segments"
    return f"{what} by {table.by}: {unit} (coder: {table.coder})"


def theme_human_rows(table: ThemeTable, *, stacked: bool = False
                     ) -> tuple[list[str], list[list[Any]]]:
    """``count (share%)`` cells; column headers carry the group's N (on a second line when
    ``stacked``, for narrow terminals)."""
    def header(g: str) -> str:
        n = table.base(g)
        sep = "\n" if stacked else " "
        return f"{g}{sep}(N={n})" if table.unit == "participants" else f"{g}{sep}(n={n})"

    columns = ["Code" if table.level == "codes" else "Theme",
               *[header(g) for g in table.groups], header(TOTAL)]
    rows = []
    for key in [*table.keys, ANY]:
        row: list[Any] = [row_label(table.labels, key)]
        for g in [*table.groups, TOTAL]:
            if table.suppressed(g, key):
                row.append(f"<{table.min_cell}")
                continue
            cell = table.cell(g, key)
            flag = "*" if table.small(g, key) else ""
            row.append(f"{table.count(g, key)}{_pct(cell.share)}{flag}")
        rows.append(row)
    rows[-1][0] = f"Total ({rows[-1][0].lower()})"
    return columns, rows


def theme_data_rows(table: ThemeTable) -> tuple[list[str], list[list[Any]]]:
    """``key, label`` then ``<group> n`` and ``<group> share`` per group and Total; a first
    ``(N)`` row gives each group's base."""
    names = [*table.groups, TOTAL]
    columns = ["key", "label"]
    for g in names:
        columns += [f"{g} n", f"{g} share"]
    base = ("participants in the group" if table.unit == "participants"
            else "participant segments in the group")
    rows: list[list[Any]] = [["(N)", base, *[v for g in names for v in (table.base(g), None)]]]
    for key in [*table.keys, ANY]:
        row: list[Any] = [key, table.labels.get(key, key)]
        for g in names:
            if table.suppressed(g, key):
                row += [f"<{table.min_cell}", None]
                continue
            share = table.cell(g, key).share
            count: Any = table.count(g, key)
            if table.small(g, key):
                count = f"{count}*"
            row += [count, None if share is None else round(share, 4)]
        rows.append(row)
    return columns, rows


def render_themes(table: ThemeTable, fmt: str, output: Path | None) -> None:
    footer = table.provenance.footer(table.small_cell_note)
    if fmt == "json":
        return _write_json(table.to_json_dict(), output)
    columns, rows = (theme_data_rows(table) if fmt in DATA
                     else theme_human_rows(table, stacked=fmt == "table"))
    _emit(columns, rows, fmt, output, theme_title(table), footer,
          label=f"tab:{table.level}-by-{_slug(table.by)}", align_right=True)


# --- co-occurrence ---------------------------------------------------------------------------

def cooccurrence_title(table: CooccurrenceTable) -> str:
    what = "codes" if table.level == "codes" else "themes"
    return (f"Co-occurrence of {what}: segments coded with both (diagonal: segments coded "
            f"with the {what[:-1]}), {table.segments} segments (coder: {table.coder})")


def render_cooccurrence(table: CooccurrenceTable, fmt: str, output: Path | None) -> None:
    footer = table.provenance.footer()
    if fmt == "json":
        return _write_json(table.to_json_dict(), output)
    if fmt in DATA:
        columns = ["key", "label", *table.keys]
        rows = [[k, table.labels.get(k, k), *row] for k, row in zip(table.keys, table.counts)]
    else:
        columns = ["Code" if table.level == "codes" else "Theme",
                   *[table.labels.get(k, k) for k in table.keys]]
        rows = [[row_label(table.labels, k), *row] for k, row in zip(table.keys, table.counts)]
    _emit(columns, rows, fmt, output, cooccurrence_title(table), footer,
          label=f"tab:cooccurrence-{table.level}")


# --- saturation ------------------------------------------------------------------------------

def saturation_title(curve: SaturationCurve) -> str:
    return (f"New codes per interview, in order of {curve.order} (coder: {curve.coder}); "
            + curve.summary())


def render_saturation(curve: SaturationCurve, fmt: str, output: Path | None) -> None:
    footer = curve.provenance.footer()
    if fmt == "json":
        return _write_json(curve.to_json_dict(), output)
    columns = ["position", "transcript", "participant", "date", "codes", "new", "cumulative",
               "new codes"]
    point = curve.saturation
    rows = []
    for i in curve.interviews:
        mark = " (saturation)" if point is not None and i.position == point.position else ""
        transcript = i.transcript + (mark if fmt in HUMAN else "")
        rows.append([i.position, transcript, i.participant, i.date or "", i.codes, i.new,
                     i.cumulative, ", ".join(i.new_codes)])
    _emit(columns, rows, fmt, output, saturation_title(curve), footer,
          label="tab:saturation")


# --- quotes ----------------------------------------------------------------------------------

QUOTE_FORMATS = ("md", "latex", "csv", "json")


def quotes_title(qs: QuoteSet) -> str:
    return f"Illustrative quotes: {qs.label} ({qs.key}; coder: {qs.coder})"


def quotes_markdown(qs: QuoteSet) -> str:
    """A heading, then per group (with ``by``) a sub-heading and one blockquote per quote."""
    from coder.render import markdown_comment, markdown_text as md

    lines = [f"## {md(quotes_title(qs))}", ""]
    for group, items in qs.grouped():
        if group is not None:
            lines += [f"### {md(str(group))}", ""]
        for q in items:
            for para in q.text.splitlines():
                lines.append(f"> {md(para)}".rstrip())
            lines += [">", f"> — {md(q.attribution)}", ""]
    if not qs.quotes:
        lines += ["_No segment is coded with this code._", ""]
    lines += [markdown_comment(line) for line in qs.provenance.footer().splitlines()]
    return "\n".join(lines) + "\n"


def quotes_latex(qs: QuoteSet) -> str:
    """``quote`` environments with escaped text, attribution flushed right."""
    lines = [f"% {line}" for line in qs.provenance.footer().splitlines()]
    lines += [f"% {quotes_title(qs)}"]
    for group, items in qs.grouped():
        if group is not None:
            lines += ["", r"\paragraph{" + latex_escape(group) + "}"]
        for q in items:
            body = "\n\n".join(latex_escape(p) for p in q.text.splitlines() if p.strip())
            lines += ["", r"\begin{quote}", body,
                      r"\par\hfill--- " + latex_escape(q.attribution), r"\end{quote}"]
    return "\n".join(lines) + "\n"


def quotes_csv(qs: QuoteSet) -> str:
    rows = [[q.group, q.participant, q.transcript, q.segment, ", ".join(q.codes), q.words,
             q.attribution, q.text] for q in qs.quotes]
    return to_csv(QUOTE_COLUMNS, rows, qs.provenance.footer())


def render_quotes(qs: QuoteSet, fmt: str, output: Path | None) -> None:
    from coder.output import write_text

    if fmt == "json":
        return _write_json(qs.to_json_dict(), output)
    writers = {"md": quotes_markdown, "latex": quotes_latex, "csv": quotes_csv}
    if fmt not in writers:
        raise CoderError(f"unknown format {fmt!r} — use one of {', '.join(QUOTE_FORMATS)}")
    write_text(writers[fmt](qs), output)


# --- shared ----------------------------------------------------------------------------------

def latex_table(columns, rows, title: str, footer: str, label: str | None = None) -> str:
    """:func:`coder.render.to_latex`, with the first column left-aligned and the rest right
    (report cells such as ``2 (67%)`` are text, but read as numbers)."""
    text = to_latex(columns, rows, title, footer, label=label)
    spec = "l" + "r" * (len(columns) - 1)
    return re.sub(r"\\begin\{tabular\}\{[lr]*\}", lambda _m: r"\begin{tabular}{" + spec + "}",
                  text, count=1)


def _plain_latex(columns, rows, title: str, footer: str, label: str | None = None) -> str:
    return to_latex(columns, rows, title, footer, label=label)


def markdown_table(columns, rows, title: str, footer: str) -> str:
    """:func:`coder.render.to_markdown`, with every column but the first right-aligned."""
    lines = to_markdown(columns, rows, title, footer).split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("|---"))
    lines[at] = "|---|" + "---:|" * (len(columns) - 1)
    return "\n".join(lines)


def _emit(columns, rows, fmt: str, output: Path | None, title: str, footer: str,
          label: str | None = None, align_right: bool = False) -> None:
    from coder.output import write_text

    if fmt == "latex":
        latex = latex_table if align_right else _plain_latex
        return write_text(latex(columns, rows, title, footer, label), output)
    if fmt == "md" and align_right:
        return write_text(markdown_table(columns, rows, title, footer), output)
    render_rows(columns, rows, fmt, output, title=title, footer=footer)


def _write_json(data: dict, output: Path | None) -> None:
    from coder.output import dump_json, write_text

    write_text(dump_json(data), output)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "group"
