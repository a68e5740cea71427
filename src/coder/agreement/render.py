"""Rendering the agreement report for people (rich) and papers (md, csv, html, latex, xlsx).

Every format carries the report's provenance: a ``provenance`` object in JSON, ``# …`` lines
in CSV, ``<!-- … -->`` in Markdown, ``%`` lines in LaTeX, a sheet and document properties in
XLSX, a section in HTML (which is the whole reliability appendix, one document), and lines on
stderr under the terminal table. Data formats (CSV, XLSX) are tidy: one row per theme (or
code), overall value and coder pair, with numeric ``alpha_low`` and ``alpha_high`` columns.
"""

from __future__ import annotations

from coder.agreement.report import RELIABLE, SMALL_GROUP, TENTATIVE, verdict
from coder.render import cell_text, render_rows

STAT_COLUMNS = ["krippendorff_alpha", "fleiss_kappa", "gwet_ac1", "brennan_prediger",
                "percent_agreement"]
HEADERS = ["alpha", "95% CI", "Fleiss k", "Gwet AC1", "B-P", "% agree", "n"]
DATA_COLUMNS = ["section", "group", "key", "label", "krippendorff_alpha", "alpha_low",
                "alpha_high", "alpha_q", "fleiss_kappa", "cohen_kappa", "gwet_ac1",
                "brennan_prediger", "percent_agreement", "n", "prevalence", "verdict"]
__all__ = ["RELIABLE", "TENTATIVE", "alpha_style", "render_agreement", "pairwise_matrix"]


def alpha_style(value: float | None) -> str:
    if value is None:
        return "dim"
    return "green" if value >= RELIABLE else "yellow" if value >= TENTATIVE else "red"


def _ci(stat: dict) -> str:
    ci = stat.get("alpha_ci")
    return "" if not ci else f"[{cell_text(ci[0])}, {cell_text(ci[1])}]"


def _footer(report: dict) -> str:
    from coder.reports.provenance import Provenance

    prov = report.get("provenance")
    return Provenance(**prov).footer() if prov else ""


def key_rows(report: dict, per_key: dict, overall: dict, group: str | None = None,
             labels: dict[str, str] | None = None) -> list[list]:
    rows = []
    prefix = [group] if group is not None else []
    for key, s in per_key.items():
        rows.append(prefix + [(labels or {}).get(key, key), s["krippendorff_alpha"], _ci(s),
                              s["fleiss_kappa"], s["gwet_ac1"], s["brennan_prediger"],
                              s["percent_agreement"], s["n_units"]])
    blank = [""] * 6
    rows.append(prefix + ["overall (pooled)", overall["krippendorff_alpha"], _ci(overall),
                          *blank[1:]])
    rows.append(prefix + ["mean of alphas", overall["mean_alpha"], *blank])
    return rows


def data_rows(report: dict, labels: dict[str, str]) -> list[list]:
    """Tidy rows (see :data:`DATA_COLUMNS`): per key, overall and pair, per group."""
    level = report["level"]
    minimum = report.get("minimum_alpha") if report.get("minimum_declared") else None
    section = level[:-1]

    def ci(s: dict, i: int):
        return s["alpha_ci"][i] if s.get("alpha_ci") else None

    def block(group: str, part: dict, units: int) -> list[list]:
        rows = []
        for key, s in part[level].items():
            rows.append([section, group, key, labels.get(key, key), s["krippendorff_alpha"],
                         ci(s, 0), ci(s, 1), s.get("alpha_q"), s["fleiss_kappa"], None,
                         s["gwet_ac1"], s["brennan_prediger"], s["percent_agreement"],
                         s["n_units"], s.get("prevalence"),
                         verdict(s["krippendorff_alpha"], minimum)])
        ov = part["overall"]
        rows.append(["overall", group, "pooled", f"all {level} pooled", ov["krippendorff_alpha"],
                     ci(ov, 0), ci(ov, 1), ov.get("alpha_q"), None, None, None, None, None,
                     units, None, verdict(ov["krippendorff_alpha"], minimum)])
        rows.append(["overall", group, "mean_alpha", f"mean of {section} alphas",
                     ov["mean_alpha"], None, None, None, None, None, None, None, None, units,
                     None, ""])
        for pair, p in ov["pairs"].items():
            rows.append(["pair", group, pair, pair.replace("~", " and "), None, None, None,
                         None, None, p["cohen_kappa"], None, None, p["percent_agreement"],
                         p["n"], None, ""])
        return rows

    rows = block("", report, report["units"])
    for name, g in report.get("groups", {}).items():
        rows += block(name, g, g["units"])
    return rows


def render_agreement(report: dict, fmt: str, output=None, *, labels: dict | None = None,
                     document=None) -> None:
    """Write ``report`` in ``fmt``; ``document`` (an :class:`~coder.reports.reliability.
    Appendix`) is the HTML output."""
    from coder.output import dump_json, message, write_text

    labels = labels or {}
    if fmt == "json":
        return write_text(dump_json(report), output)
    if fmt == "html" and document is not None:
        from coder.reports.reliability_render import to_html

        return write_text(to_html(document), output)
    level = report["level"]
    label = "theme" if level == "themes" else "code"
    footer = _footer(report)
    if fmt == "table" and output is None:
        _rich(report, level, label, labels)
        if footer:
            message(footer, style="dim")
        return
    if fmt in ("csv", "xlsx"):
        rows = data_rows(report, labels)
        if fmt == "xlsx":
            return _xlsx(report, rows, output, footer)
        return render_rows(DATA_COLUMNS, rows, fmt, output, footer=footer)
    columns = [label] + HEADERS
    rows = key_rows(report, report[level], report["overall"], labels=labels)
    if "groups" in report:
        columns = [report["by"]] + columns
        rows = [[""] + r for r in rows]
        for name, g in report["groups"].items():
            small = " (small)" if g.get("small") else ""
            rows += key_rows(report, g[level], g["overall"], group=name + small, labels=labels)
    title = (f"Inter-coder agreement ({', '.join(report['coders'])}; "
             f"{report['units']} units)")
    if fmt in ("md", "latex"):  # documents: the pairwise matrix follows the table
        from coder.render import to_latex, to_markdown

        writer = {"md": to_markdown, "latex": to_latex}[fmt]
        pair_columns, pair_rows = pairwise_matrix(report)
        text = writer(columns, rows, title) + "\n" + writer(
            pair_columns, pair_rows, f"Pairwise Cohen's kappa (pooled over all {level})",
            footer)
        return write_text(text, output)
    render_rows(columns, rows, fmt, output, title=title, footer=footer)


def _xlsx(report: dict, rows: list[list], output, footer: str) -> None:
    """Sheets ``agreement`` (the tidy rows), ``pairwise`` (the coder × coder matrix) and
    ``provenance``; the provenance is also the workbook's description."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from coder.errors import CoderError
    from coder.fileio import atomic_write
    from coder.output import message

    if output is None:
        raise CoderError("xlsx is a binary format — give an output file with -o FILE.xlsx")
    wb = Workbook()
    ws = wb.active
    ws.title = "agreement"
    ws.append(DATA_COLUMNS)
    for row in rows:
        ws.append(row)
    pair_columns, pair_rows = pairwise_matrix(report)
    pw = wb.create_sheet("pairwise")
    pw.append(["Cohen's kappa, pooled", *pair_columns[1:]])
    for name, *cells in pair_rows:
        pw.append([name, *(None if isinstance(c, str) else c for c in cells)])
    pv = wb.create_sheet("provenance")
    for line in footer.splitlines():
        pv.append([line])
    for sheet in (ws, pw):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    wb.properties.title = f"Inter-coder agreement ({', '.join(report['coders'])})"
    wb.properties.description = footer
    atomic_write(output, wb.save)
    message(f"wrote {output}")


def pairwise_matrix(report: dict) -> tuple[list[str], list[list]]:
    """Coder × coder Cohen's kappa pooled over every (unit, theme) pair; None on the diagonal."""
    coders, pairs = report["coders"], report["overall"]["pairs"]
    rows = []
    for a in coders:
        row: list = [a]
        for b in coders:
            s = pairs.get(f"{a}~{b}") or pairs.get(f"{b}~{a}")
            row.append("—" if a == b else s["cohen_kappa"])
        rows.append(row)
    return [""] + coders, rows


def _rich(report: dict, level: str, label: str, labels: dict) -> None:
    from rich.table import Table
    from rich.text import Text

    from coder.output import out

    def table_for(per_key: dict, overall: dict, title: str) -> Table:
        t = Table(title=title, title_justify="left")
        t.add_column(label, no_wrap=True)
        for h in HEADERS:
            t.add_column(h, justify="right")
        for key, s in per_key.items():
            a = s["krippendorff_alpha"]
            t.add_row(key, Text(cell_text(a), style=alpha_style(a)), _ci(s),
                      *(cell_text(s[c]) for c in STAT_COLUMNS[1:]), str(s["n_units"]))
        t.add_section()
        for name, value, ci in (("overall (pooled)", overall["krippendorff_alpha"],
                                 _ci(overall)), ("mean of alphas", overall["mean_alpha"], "")):
            t.add_row(name, Text(cell_text(value), style=alpha_style(value)), ci,
                      *([""] * (len(HEADERS) - 2)))
        return t

    out.print(table_for(report[level], report["overall"],
                        f"Inter-coder agreement — {', '.join(report['coders'])} "
                        f"({report['units']} units)"))
    if report["overall"]["pairs"]:
        pair_columns, pair_rows = pairwise_matrix(report)
        m = Table(title="Pairwise Cohen's kappa (pooled over all "
                        f"{'themes' if level == 'themes' else 'codes'})", title_justify="left")
        for i, c in enumerate(pair_columns):
            m.add_column(c, justify="left" if i == 0 else "right")
        for name, *cells in pair_rows:
            m.add_row(name, *(Text(k, style="dim") if isinstance(k, str)
                              else Text(cell_text(k), style=alpha_style(k)) for k in cells))
        out.print(m)
    for name, g in report.get("groups", {}).items():
        small = f" — small group (under {SMALL_GROUP} units)" if g.get("small") else ""
        out.print(table_for(g[level], g["overall"],
                            f"{report['by']} = {name} ({g['units']} units){small}"))
    out.print(Text("alpha: green >= .800 reliable, yellow >= .667 tentative, red below; "
                   "n/a = undefined (see warnings)", style="dim"))
