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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coder.errors import CoderError



def cell_text(value: Any, digits: int = 3) -> str:
    """A cell as text: floats to ``digits`` places, None/NaN as ``n/a``."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def latex_escape(text: str) -> str:
    """Plain text as LaTeX (see :func:`coder.reports.latex.escape`)."""
    from coder.reports.latex import escape

    return escape(text)


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Data only — a header row, then the rows — so that ``pandas.read_csv`` and spreadsheets
    read it as it is. Provenance goes to a sidecar file (:func:`write_csv`). Text that a
    spreadsheet would evaluate as a formula is neutralized (:mod:`coder.spreadsheet_safety`)."""
    from coder.spreadsheet_safety import neutralize

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([neutralize(c) for c in columns])
    for row in rows:
        writer.writerow(["" if v is None or (isinstance(v, float) and math.isnan(v))
                         else neutralize(v) for v in row])
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



def sidecar_path(output: Path) -> Path:
    """Where a CSV file's provenance goes: ``FILE.provenance.json`` beside ``FILE``."""
    output = Path(output)
    return output.with_name(output.name + ".provenance.json")


def write_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]], output: Path | None,
              provenance: dict[str, Any] | None = None) -> None:
    """CSV data to ``output`` (or stdout), and ``provenance`` to the sidecar
    ``FILE.provenance.json`` when writing a file (stdout gets the data only)."""
    from coder.output import dump_json, write_text

    write_text(to_csv(columns, rows), output)
    if output is not None and provenance:
        write_text(dump_json(provenance), sidecar_path(Path(output)))


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
             digits: int = 3, label: str | None = None, notes: Sequence[str] = ()) -> str:
    """A booktabs table through :func:`coder.reports.latex.latex_table` (escaped, fitted to
    the page, a longtable when long); ``footer`` lines become ``%`` comments."""
    from coder.reports.latex import latex_table

    spec = "".join("r" if _numeric(rows, i) else "l" for i in range(len(columns)))
    return latex_table([str(c) for c in columns], [[cell_text(v, digits) for v in row]
                                                   for row in rows],
                       caption=title or "", label=label, notes=notes, align=spec,
                       provenance=footer.splitlines() if footer else ())


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


_SHEET_BAD = str.maketrans({c: " " for c in "[]:*?/\\"})


def sheet_name(text: str, taken: Sequence[str] = ()) -> str:
    """A valid, unique worksheet name: no ``[]:*?/\\``, at most 31 characters."""
    base = " ".join(text.translate(_SHEET_BAD).split())[:31].strip() or "Sheet"
    name, i = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({i})"
        name, i = base[:31 - len(suffix)] + suffix, i + 1
    return name


@dataclass
class Sheet:
    """One worksheet: ``formats`` maps a column index to an Excel number format
    (``"0.0%"``, ``"0"``); ``freeze`` is the first cell that scrolls."""

    name: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    formats: dict[int, str] = field(default_factory=dict)
    freeze: str = "A2"


def write_xlsx(path: Path, sheets: Sequence[Sheet], *, title: str | None = None,
               provenance: Sequence[tuple[str, Any]] = (), properties: dict[str, str] | None
               = None) -> None:
    """A workbook: one worksheet per :class:`Sheet` (bold frozen header, column widths, number
    formats), a ``Provenance`` sheet (``provenance`` as field/value rows) and the workbook's
    document properties (title, subject, creator, description, keywords, …)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from coder.spreadsheet_safety import xlsx_text_cell

    wb = Workbook()
    taken: list[str] = []
    all_sheets = list(sheets)
    if provenance:
        all_sheets.append(Sheet("Provenance", ["field", "value"],
                                [[k, "" if v is None else str(v)] for k, v in provenance]))
    for n, sheet in enumerate(all_sheets):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = sheet_name(sheet.name, taken)
        taken.append(ws.title)
        ws.append([str(c) for c in sheet.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        for i, row in enumerate(sheet.rows, start=2):
            for j, v in enumerate(row, start=1):  # text is a string cell, never a formula
                xlsx_text_cell(ws.cell(i, j), None if isinstance(v, float) and math.isnan(v)
                               else v)
        for j, fmt in sheet.formats.items():
            for (cell,) in ws.iter_rows(min_row=2, min_col=j + 1, max_col=j + 1):
                if isinstance(cell.value, (int, float)):
                    cell.number_format = fmt
        for j in range(len(sheet.columns)):
            texts = [str(sheet.columns[j])]
            for row in sheet.rows:
                v = row[j] if j < len(row) else None
                texts.append("100.0%" if isinstance(v, float) and "%" in
                             sheet.formats.get(j, "") else cell_text(v, 3) if v is not None
                             else "")
            width = max(len(t) for t in texts) + 2
            ws.column_dimensions[get_column_letter(j + 1)].width = min(max(width, 6), 60)
        ws.freeze_panes = sheet.freeze
    props = wb.properties
    props.title = title
    for key, value in (properties or {}).items():
        setattr(props, key, value)
    from coder.fileio import atomic_write

    atomic_write(path, wb.save)


def to_xlsx(columns, rows, path: Path, title: str | None = None,
            footer: str | None = None) -> None:
    """One data sheet (named from the title), a Provenance sheet from ``footer``'s
    ``field: value`` lines, and the title and footer in the document properties."""
    formats = {i: "0.000" for i in range(len(columns))
               if any(isinstance(r[i], float) for r in rows)}
    provenance = [tuple(line.split(": ", 1)) if ": " in line else ("note", line)
                  for line in (footer or "").splitlines()]
    write_xlsx(path, [Sheet(title or "report", columns, rows, formats)], title=title,
               provenance=provenance,  # type: ignore[arg-type]
               properties={"description": footer or "", "creator": "coder"})


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
        return write_csv(columns, rows, output,
                         {"title": title, "provenance": footer.splitlines()} if footer else None)
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
