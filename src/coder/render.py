"""Rendering a table (columns + rows) in every output format of SPEC §8.

Used by every tabular command, so the formats look the same everywhere: a rich table for
people; JSON (a list of objects), CSV, Markdown, HTML, LaTeX (booktabs) and XLSX for programs
and papers. ``footer`` carries provenance (project, codebook version, command line).
No pandas here: this module serves light commands too.
"""

from __future__ import annotations

import csv
import html
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coder.errors import CoderError

LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                 "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                 "\\": r"\textbackslash{}"}


def cell_text(value: Any, digits: int = 3) -> str:
    """A cell as text: floats to ``digits`` places, None/NaN as ``n/a``."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]], footer: str | None = None) -> str:
    """CSV; text that a spreadsheet would evaluate as a formula is neutralized
    (:mod:`coder.spreadsheet_safety`)."""
    from coder.spreadsheet_safety import neutralize

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([neutralize(c) for c in columns])
    for row in rows:
        writer.writerow(["" if v is None or (isinstance(v, float) and math.isnan(v))
                         else neutralize(v) for v in row])
    if footer:
        buf.write("".join(f"# {line}\n" for line in footer.splitlines()))
    return buf.getvalue()


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def markdown_text(text: str) -> str:
    """Text for a Markdown document that can never be raw HTML (a ``<script>``, an ``<img
    onerror>``, a comment) in the rendered page: a ``<`` that could open a tag, comment or
    autolink (CommonMark §6.6–6.7: followed by a letter, ``/``, ``!`` or ``?``) is written
    ``&lt;``, which Markdown shows as the character. ``<2`` stays as it is."""
    return _TAG_START.sub("&lt;", text)


def markdown_comment(line: str) -> str:
    """``line`` as an HTML comment ``<!-- … -->`` that the line cannot end early: the
    sequences that close a comment (``-->``, ``--!>``) get their ``>`` as ``&gt;``."""
    for closing in ("-->", "--!>"):
        while closing in line:
            line = line.replace(closing, closing[:-1] + "&gt;")
    return f"<!-- {line} -->"


def to_markdown(columns, rows, title: str | None = None, footer: str | None = None,
                digits: int = 3) -> str:
    def esc(v):
        return markdown_text(cell_text(v, digits)).replace("|", r"\|").replace("\n", " ")

    title = markdown_text(title) if title else title
    lines = [f"**{title}**", ""] if title else []
    lines.append("| " + " | ".join(esc(c) for c in columns) + " |")
    lines.append("|" + "|".join("---:" if _numeric(rows, i) else "---"
                                for i in range(len(columns))) + "|")
    lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in rows]
    if footer:
        lines += [""] + [markdown_comment(line) for line in footer.splitlines()]
    return "\n".join(lines) + "\n"


def to_latex(columns, rows, title: str | None = None, footer: str | None = None,
             digits: int = 3, label: str | None = None) -> str:
    spec = "".join("r" if _numeric(rows, i) else "l" for i in range(len(columns)))
    lines = [r"% requires \usepackage{booktabs}"]
    if footer:
        lines += [f"% {line}" for line in footer.splitlines()]
    lines += [r"\begin{table}[ht]", r"\centering"]
    if title:
        lines.append(r"\caption{" + latex_escape(title) + "}")
    if label:
        lines.append(r"\label{" + label + "}")
    lines += [r"\begin{tabular}{" + spec + "}", r"\toprule",
              " & ".join(latex_escape(str(c)) for c in columns) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(cell_text(v, digits)) for v in row) + r" \\"
              for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def to_html(columns, rows, title: str | None = None, footer: str | None = None,
            digits: int = 3) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "\n".join("<tr>" + "".join(
        f"<td class=\"{'num' if isinstance(v, (int, float)) else 'txt'}\">"
        f"{html.escape(cell_text(v, digits))}</td>" for v in row) + "</tr>" for row in rows)
    caption = f"<caption>{html.escape(title)}</caption>" if title else ""
    foot = f"<footer><pre>{html.escape(footer)}</pre></footer>" if footer else ""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title or 'coder report')}</title><style>"
            "body{font-family:sans-serif}table{border-collapse:collapse}"
            "th,td{padding:.25em .6em;border-bottom:1px solid #ccc}td.num{text-align:right}"
            "</style></head><body>\n"
            f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"
            f"{foot}\n</body></html>\n")


def to_xlsx(columns, rows, path: Path, title: str | None = None,
            footer: str | None = None) -> None:
    """XLSX; every text cell is a string cell, never a formula (:mod:`coder.spreadsheet_safety`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from coder.spreadsheet_safety import xlsx_text_cell

    wb = Workbook()
    ws = wb.active
    ws.title = (title or "report")[:31].translate({ord(c): "_" for c in "[]:*?/\\"})

    row_number = 0

    def put(values) -> None:
        nonlocal row_number
        row_number += 1
        for j, v in enumerate(values, start=1):
            xlsx_text_cell(ws.cell(row_number, j), v)

    put(list(columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        put([None if isinstance(v, float) and math.isnan(v) else v for v in row])
    if footer:
        put([])
        for line in footer.splitlines():
            put([line])
    wb.properties.title = title
    wb.properties.description = footer
    from coder.fileio import atomic_write

    atomic_write(path, wb.save)


def to_rich_table(columns, rows, title: str | None = None, digits: int = 3):
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    for i, c in enumerate(columns):
        table.add_column(str(c), justify="right" if _numeric(rows, i) else "left",
                         overflow="fold")
    for row in rows:
        table.add_row(*(cell_text(v, digits) for v in row))
    return table


def render_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], format, output=None, *,
                title: str | None = None, footer: str | None = None, digits: int = 3) -> None:
    """Render and write a table to ``output`` (a path) or stdout in ``format``."""
    from coder.output import message, out, write_text

    fmt = getattr(format, "value", format)
    if fmt == "table":
        table = to_rich_table(columns, rows, title, digits)
        if output is None:
            out.print(table)
            if footer:
                message(footer)
            return
        from rich.console import Console

        buf = io.StringIO()
        Console(file=buf, width=200, color_system=None).print(table)
        return write_text(buf.getvalue() + (footer + "\n" if footer else ""), output)
    if fmt == "json":
        return write_text(rows_json(columns, rows), output)
    if fmt == "csv":
        return write_text(to_csv(columns, rows, footer), output)
    if fmt == "md":
        return write_text(to_markdown(columns, rows, title, footer, digits), output)
    if fmt == "latex":
        return write_text(to_latex(columns, rows, title, footer, digits), output)
    if fmt == "html":
        return write_text(to_html(columns, rows, title, footer, digits), output)
    if fmt == "xlsx":
        if output is None:
            raise CoderError("xlsx is a binary format — give an output file with -o FILE.xlsx")
        to_xlsx(columns, rows, Path(output), title, footer)
        return message(f"wrote {output}")
    raise CoderError(f"unknown format {fmt!r} — use table, json, csv, md, html, latex or xlsx")


def rows_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A JSON list of row objects, one object per line: the C encoder writes each line (the
    indenting encoder is pure Python, seconds on 50,000 rows)."""
    import json

    if not rows:
        return "[]"
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    return "[\n" + ",\n".join("  " + dumps(dict(zip(columns, _jsonable(r)))) for r in rows) \
        + "\n]"


def _jsonable(row):
    return [None if isinstance(v, float) and math.isnan(v) else v for v in row]


def _numeric(rows, i: int) -> bool:
    values = [r[i] for r in rows if r[i] is not None and r[i] != ""]
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                for v in values)
