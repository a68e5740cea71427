"""Reports as tables and documents: the rows each format shows, and writing them out.

Tables go through the shared renderers of :mod:`coder.render` and :mod:`coder.reports.latex`,
so every command's exports look alike; this module decides the rows. People's formats (table,
md, latex, html) show ``count (share%)`` cells and visible table notes (what a cell counts,
small cells, suppression); data formats hold real numbers: CSV is data only (its provenance,
the groups' sizes and the notes in the sidecar ``FILE.provenance.json``), XLSX has a data
sheet with percent formats, a frozen header and widths, a ``Groups`` sheet, a ``Provenance``
sheet and the workbook's properties. JSON keeps the report's own shape. Quotes are documents
rather than tables: Markdown blockquotes, LaTeX ``quote`` environments, CSV or JSON.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.render import Sheet, latex_escape, render_rows, to_markdown, write_csv, write_xlsx
from coder.reports.cooccurrence import CooccurrenceTable
from coder.reports.disclosure import MARK
from coder.reports.frequencies import ANY, TOTAL, ThemeTable
from coder.reports.latex import latex_table
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


def theme_caption(table: ThemeTable) -> str:
    """A caption of sensible length; what the cells count goes into the table note."""
    what = "Codes" if table.level == "codes" else "Themes"
    unit = "participants" if table.unit == "participants" else "coded segments"
    return f"{what} by {table.by}: {unit} (coder: {table.coder})"


def theme_notes(table: ThemeTable) -> list[str]:
    """The visible notes under a theme table."""
    what = "code or one of its sub-codes" if table.level == "codes" else \
        "theme or one of its codes"
    if table.unit == "participants":
        cell = (f"Cells: participants with at least one segment coded with the {what}, "
                "and their share of the group's N participants.")
    else:
        cell = (f"Cells: participant segments coded with the {what}, and their share of the "
                "group's n participant segments.")
    notes = [cell]
    if table.small_cell_note:
        notes.append(table.small_cell_note[:1].upper() + table.small_cell_note[1:] + ".")
    notes += [n[:1].upper() + n[1:] + "." for n in table.notes]
    return notes


def theme_label(table: ThemeTable) -> str:
    """A ``\\label`` unique per level, grouping, unit, coder and suppression."""
    parts = [table.level, "by", table.by, table.unit, table.coder]
    if table.min_cell is not None:
        parts.append(f"min{table.min_cell}" + ("flag" if table.flag_small else ""))
    return "tab:" + "-".join(_slug(p) for p in parts)


def _n(table: ThemeTable, g: str) -> str:
    return f"(N={table.base(g)})" if table.unit == "participants" else f"(n={table.base(g)})"


def _human_cells(table: ThemeTable) -> list[list[Any]]:
    rows = []
    for key in [*table.keys, ANY]:
        row: list[Any] = [row_label(table.labels, key)]
        for g in [*table.groups, TOTAL]:
            if table.suppressed(g, key):
                row.append(MARK)
                continue
            cell = table.cell(g, key)
            flag = "*" if table.small(g, key) else ""
            row.append(f"{table.count(g, key)}{_pct(cell.share)}{flag}")
        rows.append(row)
    rows[-1][0] = f"Total ({rows[-1][0].lower()})"
    return rows


def theme_human_rows(table: ThemeTable, *, stacked: bool = False
                     ) -> tuple[list[str], list[list[Any]]]:
    """``count (share%)`` cells; column headers carry the group's N (on a second line when
    ``stacked``, for narrow terminals)."""
    sep = "\n" if stacked else " "
    columns = ["Code" if table.level == "codes" else "Theme",
               *[f"{g}{sep}{_n(table, g)}" for g in [*table.groups, TOTAL]]]
    return columns, _human_cells(table)


def theme_data_rows(table: ThemeTable) -> tuple[list[str], list[list[Any]]]:
    """``key, label`` then ``<group> n`` and ``<group> share`` (a number from 0 to 1) per
    group and Total; hidden cells are empty. The groups' sizes are in :func:`group_rows`."""
    names = [*table.groups, TOTAL]
    columns = ["key", "label"]
    for g in names:
        columns += [f"{g} n", f"{g} share"]
    rows: list[list[Any]] = []
    for key in [*table.keys, ANY]:
        row: list[Any] = [key, table.labels.get(key, key)]
        for g in names:
            if table.suppressed(g, key):
                row += [None, None]
                continue
            share = table.cell(g, key).share
            row += [table.count(g, key), share]
        rows.append(row)
    return columns, rows


def group_rows(table: ThemeTable) -> tuple[list[str], list[list[Any]]]:
    return ([table.by, "participants", "segments"],
            [[g, *table.sizes[g]] for g in [*table.groups, TOTAL]])


def theme_latex(table: ThemeTable) -> str:
    rows = _human_cells(table)
    columns = ["Code" if table.level == "codes" else "Theme", *table.groups, TOTAL]
    bands = ({i for i, k in enumerate(table.keys) if "." not in k}
             if table.level == "codes" else set())
    return latex_table(columns, rows, caption=theme_caption(table), label=theme_label(table),
                       subheader=["", *[_n(table, g) for g in [*table.groups, TOTAL]]],
                       notes=theme_notes(table), provenance=table.provenance.lines(),
                       rules_before={len(rows) - 1}, bands=bands)


def _sidecar(title: str, provenance, notes: list[str], **extra: Any) -> dict[str, Any]:
    return {"title": title, "notes": notes, **extra, "provenance": provenance.to_dict()}


def _properties(title: str, provenance, footer: str) -> dict[str, str]:
    return {"subject": title, "creator": provenance.software, "description": footer,
            "keywords": f"coder report; project sha256 {provenance.project_hash}",
            "identifier": f"sha256:{provenance.project_hash}"}


def _provenance_rows(provenance, notes: list[str]) -> list[tuple[str, Any]]:
    return [*[("note", n) for n in notes], *provenance.to_dict().items()]


def render_themes(table: ThemeTable, fmt: str, output: Path | None) -> None:
    from coder.output import write_text

    footer = table.provenance.footer(table.small_cell_note)
    notes = theme_notes(table)
    if fmt == "json":
        return _write_json(table.to_json_dict(), output)
    if fmt == "latex":
        return write_text(theme_latex(table), output)
    if fmt == "csv":
        columns, rows = theme_data_rows(table)
        sizes = {g: {"participants": p, "segments": s} for g, (p, s) in table.sizes.items()}
        return write_csv(columns, rows, output,
                         _sidecar(theme_title(table), table.provenance, notes, by=table.by,
                                  unit=table.unit, level=table.level, groups=sizes))
    if fmt == "xlsx":
        _need_file(output)
        columns, rows = theme_data_rows(table)
        formats = {j: ("0.0%" if c.endswith(" share") else "0")
                   for j, c in enumerate(columns) if j >= 2}
        what = "Codes" if table.level == "codes" else "Themes"
        sheets = [Sheet(f"{what} by {table.by}", columns, rows, formats, freeze="C2"),
                  Sheet("Groups", *group_rows(table))]
        write_xlsx(Path(output), sheets, title=theme_caption(table),  # type: ignore[arg-type]
                   provenance=_provenance_rows(table.provenance, notes),
                   properties=_properties(theme_title(table), table.provenance, footer))
        return _wrote(output)
    columns, rows = theme_human_rows(table, stacked=fmt == "table")
    if fmt == "md":
        return write_text(markdown_table(columns, rows, theme_title(table),
                                         table.provenance.footer(), notes), output)
    render_rows(columns, rows, fmt, output, title=theme_title(table),
                footer="\n".join([*notes, *table.provenance.lines()]))


# --- co-occurrence ---------------------------------------------------------------------------

def cooccurrence_title(table: CooccurrenceTable) -> str:
    what = "codes" if table.level == "codes" else "themes"
    return (f"Co-occurrence of {what}: segments coded with both (diagonal: segments coded "
            f"with the {what[:-1]}), {table.segments} segments (coder: {table.coder})")


def render_cooccurrence(table: CooccurrenceTable, fmt: str, output: Path | None) -> None:
    from coder.output import write_text

    footer = table.provenance.footer()
    what = "codes" if table.level == "codes" else "themes"
    if fmt == "json":
        return _write_json(table.to_json_dict(), output)
    if fmt in DATA:
        columns = ["key", "label", *table.keys]
        rows = [[k, table.labels.get(k, k), *row] for k, row in zip(table.keys, table.counts)]
        if fmt == "csv":
            return write_csv(columns, rows, output,
                             _sidecar(cooccurrence_title(table), table.provenance, []))
        _need_file(output)
        write_xlsx(Path(output), [Sheet(f"Co-occurrence of {what}", columns, rows,  # type: ignore[arg-type]
                                        {j: "0" for j in range(2, len(columns))}, "C2")],
                   title=cooccurrence_title(table),
                   provenance=_provenance_rows(table.provenance, []),
                   properties=_properties(cooccurrence_title(table), table.provenance, footer))
        return _wrote(output)
    if fmt == "latex":
        # a matrix: numbered columns, so that it fits however long the labels are
        columns = ["Code" if table.level == "codes" else "Theme",
                   *[f"({i})" for i in range(1, len(table.keys) + 1)]]
        rows = [[f"({i}) {row_label(table.labels, k)}", *row]
                for i, (k, row) in enumerate(zip(table.keys, table.counts), start=1)]
        note = (f"Cells: participant segments coded with both (diagonal: with the "
                f"{what[:-1]}), of {table.segments} segments; column (i) is row (i).")
        return write_text(latex_table(
            columns, rows, caption=f"Co-occurrence of {what} (coder: {table.coder})",
            label=f"tab:cooccurrence-{table.level}-{_slug(table.coder)}", notes=[note],
            provenance=table.provenance.lines()), output)
    columns = ["Code" if table.level == "codes" else "Theme",
               *[table.labels.get(k, k) for k in table.keys]]
    rows = [[row_label(table.labels, k), *row] for k, row in zip(table.keys, table.counts)]
    if fmt == "md":
        return write_text(markdown_table(columns, rows, cooccurrence_title(table), footer),
                          output)
    render_rows(columns, rows, fmt, output, title=cooccurrence_title(table), footer=footer)


# --- saturation ------------------------------------------------------------------------------

def saturation_title(curve: SaturationCurve) -> str:
    return (f"New codes per interview, in order of {curve.order} (coder: {curve.coder}); "
            + curve.summary())


def saturation_notes(curve: SaturationCurve) -> list[str]:
    return [f"Guest, Namey & Chen (2020), {g.summary()}." for g in curve.guest]


SATURATION_COLUMNS = ["position", "transcript", "participant", "date", "codes", "new",
                      "cumulative", "new codes"]


def render_saturation(curve: SaturationCurve, fmt: str, output: Path | None) -> None:
    from coder.output import write_text

    footer = curve.provenance.footer()
    notes = saturation_notes(curve)
    if fmt == "json":
        return _write_json(curve.to_json_dict(), output)
    point = curve.saturation
    rows = []
    for i in curve.interviews:
        mark = " (saturation)" if point is not None and i.position == point.position else ""
        transcript = i.transcript + (mark if fmt in HUMAN else "")
        rows.append([i.position, transcript, i.participant, i.date or "", i.codes, i.new,
                     i.cumulative, ", ".join(i.new_codes)])
    columns = SATURATION_COLUMNS
    if fmt == "csv":
        return write_csv(columns, rows, output,
                         _sidecar(saturation_title(curve), curve.provenance, notes,
                                  guest=[g.to_json_dict() for g in curve.guest]))
    if fmt == "xlsx":
        _need_file(output)
        guest = [[g.base, g.run, g.threshold, g.base_codes, g.point] for g in curve.guest]
        write_xlsx(Path(output), [  # type: ignore[arg-type]
            Sheet("Saturation", columns, rows, {0: "0", 4: "0", 5: "0", 6: "0"}),
            Sheet("Guest et al 2020", ["base size", "run length", "threshold", "base codes",
                                       "saturation at"], guest, {2: "0%"})],
            title=saturation_title(curve), provenance=_provenance_rows(curve.provenance, notes),
            properties=_properties(saturation_title(curve), curve.provenance, footer))
        return _wrote(output)
    if fmt == "latex":
        rows = [[*r[:7], ", ".join(_short(k) for k in r[7].split(", ")) if r[7] else ""]
                for r in rows]
        return write_text(latex_table(
            ["", "Transcript", "Participant", "Date", "Codes", "New", "Cum.", "New codes"],
            rows, caption=f"Code saturation in order of {curve.order} (coder: {curve.coder})",
            label=f"tab:saturation-{_slug(curve.order)}-{_slug(curve.coder)}",
            notes=[curve.summary()[:1].upper() + curve.summary()[1:] + ".", *notes],
            provenance=curve.provenance.lines(), align="rllrrrrl"), output)
    if fmt == "md":
        return write_text(markdown_table(columns, rows, saturation_title(curve), footer,
                                         notes, right=False), output)
    render_rows(columns, rows, fmt, output, title=saturation_title(curve),
                footer="\n".join([*notes, footer]))


def saturation_group_rows(curves: "dict[str | None, SaturationCurve]", by: str
                          ) -> tuple[list[str], list[list[Any]]]:
    """One row per group: interviews, codes, the last interview adding a code (when followed by
    another) and Guest et al.'s point in both settings (None: not reached)."""
    columns = [by, "interviews", "codes", "no new code after"]
    first = next(iter(curves.values()), None)
    settings = first.guest if first else []
    columns += [f"Guest base {g.base} run {g.run}" for g in settings]
    rows = []
    for group, curve in curves.items():
        point = curve.saturation
        rows.append([group, len(curve.interviews), curve.total_codes,
                     point.position if point else None, *[g.point for g in curve.guest]])
    return columns, rows


def render_saturation_groups(curves: "dict[str | None, SaturationCurve]", by: str, fmt: str,
                             output: Path | None) -> None:
    """Saturation per group (``--by``); empty cells: not reached or not assessable."""
    from coder.output import write_text

    first = next(iter(curves.values()), None)
    if first is None:
        raise CoderError("no interview has been reviewed by this coder — nothing to report")
    columns, rows = saturation_group_rows(curves, by)
    title = (f"Saturation by {by} (coder: {first.coder}; order of {first.order}; Guest et "
             f"al.'s threshold {first.threshold:.0%})")
    notes = ["Cells: the number of interviews of the group at saturation; empty: not reached "
             "(or too few interviews for the base and run)."]
    footer = first.provenance.footer()
    if fmt == "json":
        return _write_json({"by": by, "coder": first.coder, "order": first.order,
                            "threshold": first.threshold,
                            "groups": {g: c.to_json_dict(provenance=False)
                                       for g, c in curves.items()},
                            "provenance": first.provenance.to_dict()}, output)
    if fmt == "csv":
        return write_csv(columns, rows, output, _sidecar(title, first.provenance, notes))
    if fmt == "xlsx":
        _need_file(output)
        write_xlsx(Path(output), [Sheet(f"Saturation by {by}", columns, rows,  # type: ignore[arg-type]
                                        {j: "0" for j in range(1, len(columns))})],
                   title=title, provenance=_provenance_rows(first.provenance, notes),
                   properties=_properties(title, first.provenance, footer))
        return _wrote(output)
    human = [[g, *("–" if v is None else v for v in r)] for g, *r in rows]
    if fmt == "latex":
        return write_text(latex_table(
            columns, human, caption=title, label=f"tab:saturation-by-{_slug(by)}-"
            f"{_slug(first.coder)}", notes=notes, provenance=first.provenance.lines()),
            output)
    if fmt == "md":
        return write_text(markdown_table(columns, human, title, footer, notes), output)
    render_rows(columns, human, fmt, output, title=title,
                footer="\n".join([*notes, footer]))


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1]


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


def quotes_rows(qs: QuoteSet) -> list[list[Any]]:
    return [[q.group, q.participant, q.transcript, q.segment, ", ".join(q.codes), q.words,
             q.attribution, q.text] for q in qs.quotes]


def render_quotes(qs: QuoteSet, fmt: str, output: Path | None) -> None:
    from coder.output import write_text

    if fmt == "json":
        return _write_json(qs.to_json_dict(), output)
    if fmt == "csv":
        return write_csv(QUOTE_COLUMNS, quotes_rows(qs), output,
                         _sidecar(quotes_title(qs), qs.provenance, qs.notes))
    writers = {"md": quotes_markdown, "latex": quotes_latex}
    if fmt not in writers:
        raise CoderError(f"unknown format {fmt!r} — use one of {', '.join(QUOTE_FORMATS)}")
    write_text(writers[fmt](qs), output)


# --- shared ----------------------------------------------------------------------------------

def markdown_table(columns, rows, title: str, footer: str, notes: list[str] = (), *,
                   right: bool = True) -> str:
    """:func:`coder.render.to_markdown` (with ``right``: every column but the first
    right-aligned) and the ``notes`` as a visible paragraph under the table."""
    lines = to_markdown(columns, rows, title, footer).split("\n")
    if right:
        at = next(i for i, line in enumerate(lines) if line.startswith("|---"))
        lines[at] = "|---|" + "---:|" * (len(columns) - 1)
    if notes:
        end = next((i for i, line in enumerate(lines) if line.startswith("<!--")), len(lines))
        lines[end:end] = ["_Note._ " + " ".join(notes), ""]
    return "\n".join(lines)


def _need_file(output: Path | None) -> None:
    if output is None:
        raise CoderError("xlsx is a binary format — give an output file with -o FILE.xlsx")


def _wrote(output: Path | None) -> None:
    from coder.output import message

    message(f"wrote {output}")


def _write_json(data: dict, output: Path | None) -> None:
    from coder.output import dump_json, write_text

    write_text(dump_json(data), output)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "group"
