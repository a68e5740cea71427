"""Rendering the agreement report for people (rich) and papers (md, csv, html, latex, xlsx)."""

from __future__ import annotations

from coder.render import cell_text, render_rows

RELIABLE, TENTATIVE = 0.800, 0.667
STAT_COLUMNS = ["krippendorff_alpha", "fleiss_kappa", "gwet_ac1", "brennan_prediger",
                "percent_agreement"]
HEADERS = ["alpha", "95% CI", "Fleiss k", "Gwet AC1", "B-P", "% agree", "n"]


def alpha_style(value: float | None) -> str:
    if value is None:
        return "dim"
    return "green" if value >= RELIABLE else "yellow" if value >= TENTATIVE else "red"


def _ci(stat: dict) -> str:
    ci = stat.get("alpha_ci")
    return "" if not ci else f"[{cell_text(ci[0])}, {cell_text(ci[1])}]"


def key_rows(report: dict, per_key: dict, overall: dict, group: str | None = None) -> list[list]:
    rows = []
    prefix = [group] if group is not None else []
    for key, s in per_key.items():
        rows.append(prefix + [key, s["krippendorff_alpha"], _ci(s), s["fleiss_kappa"],
                              s["gwet_ac1"], s["brennan_prediger"], s["percent_agreement"],
                              s["n_units"]])
    blank = [""] * 6
    rows.append(prefix + ["overall (pooled)", overall["krippendorff_alpha"], *blank])
    rows.append(prefix + ["mean of alphas", overall["mean_alpha"], *blank])
    return rows


def render_agreement(report: dict, fmt: str, output=None) -> None:
    from coder.output import dump_json, write_text

    if fmt == "json":
        return write_text(dump_json(report), output)
    level = report["level"]
    label = "theme" if level == "themes" else "code"
    if fmt == "table" and output is None:
        return _rich(report, level, label)
    columns = [label] + HEADERS
    rows = key_rows(report, report[level], report["overall"])
    if "groups" in report:
        columns = [report["by"]] + columns
        rows = [[""] + r for r in rows]
        for name, g in report["groups"].items():
            rows += key_rows(report, g[level], g["overall"], group=name)
    title = (f"Inter-coder agreement ({', '.join(report['coders'])}; "
             f"{report['units']} units)")
    if fmt in ("md", "latex", "html"):  # documents: the pairwise matrix follows the table
        from coder.output import write_text
        from coder.render import to_html, to_latex, to_markdown

        writer = {"md": to_markdown, "latex": to_latex, "html": to_html}[fmt]
        pair_columns, pair_rows = pairwise_matrix(report)
        text = writer(columns, rows, title) + "\n" + writer(
            pair_columns, pair_rows, f"Pairwise Cohen's kappa (pooled over all {level})")
        return write_text(text, output)
    render_rows(columns, rows, fmt, output, title=title)


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


def _rich(report: dict, level: str, label: str) -> None:
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
        for name, value in (("overall (pooled)", overall["krippendorff_alpha"]),
                            ("mean of alphas", overall["mean_alpha"])):
            t.add_row(name, Text(cell_text(value), style=alpha_style(value)),
                      *([""] * (len(HEADERS) - 1)))
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
        out.print(table_for(g[level], g["overall"],
                            f"{report['by']} = {name} ({g['units']} units)"))
    out.print(Text("alpha: green >= .800 reliable, yellow >= .667 tentative, red below; "
                   "n/a = undefined (see warnings)", style="dim"))
