"""The reliability appendix (:mod:`coder.reports.reliability`) as HTML, Markdown, LaTeX, Word.

HTML, Markdown and LaTeX come from jinja2 templates in ``coder/data/`` (HTML autoescaped; a
LaTeX filter escapes special characters and maps α, κ, ≥ … to math; a Markdown filter escapes
table pipes). The HTML is one self-contained HTML5 document with print styles and no script
(nothing we export can run). Word is built with python-docx: headings, tables with shaded
verdict cells, the methods paragraph as a quote, provenance in the document properties too.
"""

from __future__ import annotations

from pathlib import Path

from coder.errors import CoderError
from coder.render import latex_escape
from coder.reports.reliability import Appendix

REPORT_SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".tex": "latex",
                   ".docx": "docx"}
TONE_FILL = {"reliable": "D9F2DD", "tentative": "FFF1C2", "unreliable": "F8D4D0",
             "undefined": "ECECEC"}
MARK = {"reliable": "●", "tentative": "◐", "unreliable": "○", "undefined": "–"}
TEX_UNICODE = {"α": r"$\alpha$", "κ": r"$\kappa$", "−": r"$-$", "≥": r"$\geq$",
               "≤": r"$\leq$", "…": r"\ldots{}", "–": "--", "—": "---", "“": "``", "”": "''",
               "●": r"$\bullet$", "×": r"$\times$", "§": r"\S{}"}


def tex(value) -> str:
    """LaTeX-escaped text with the report's Unicode symbols as LaTeX commands."""
    text = latex_escape(str(value))
    return "".join(TEX_UNICODE.get(ch, ch) for ch in text)


def md(value) -> str:
    return str(value).replace("|", r"\|").replace("\n", " ")


def _numbers(doc: Appendix) -> dict[str, int]:
    """Section numbers after the optional groups section."""
    first = 7 if doc.groups else 6
    return {"pairwise": first, "consensus": first + 1, "methods": first + 2,
            "references": first + 3}


def _render(name: str, doc: Appendix, *, autoescape: bool) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from coder import __version__

    env = Environment(loader=PackageLoader("coder", "data"), autoescape=autoescape,
                      undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["tex"] = tex
    env.filters["md"] = md
    return env.get_template(name).render(doc=doc, n=_numbers(doc), mark=MARK,
                                         software=f"coder {__version__}")


def to_html(doc: Appendix) -> str:
    return _render("reliability.html.j2", doc, autoescape=True)


def to_markdown(doc: Appendix) -> str:
    return _render("reliability.md.j2", doc, autoescape=False)


def to_latex(doc: Appendix) -> str:
    return _render("reliability.tex.j2", doc, autoescape=False)


def report_format(path: Path) -> str:
    """The document format a ``--report`` file name asks for."""
    fmt = REPORT_SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise CoderError(f"{path}: unknown report type {Path(path).suffix or '(none)'!r} — "
                         "name the file .html, .md, .tex or .docx")
    return fmt


def report_bytes(doc: Appendix, path: Path) -> bytes:
    """The appendix in the format the suffix of ``path`` names, as bytes to write."""
    fmt = report_format(path)
    if fmt == "docx":
        return to_docx(doc)
    return {"html": to_html, "md": to_markdown, "latex": to_latex}[fmt](doc).encode("utf-8")


def write_report(doc: Appendix, path: Path) -> None:
    """Write the appendix to ``path`` in the format its suffix names (atomically)."""
    from coder.output import write_bytes

    write_bytes(report_bytes(doc, path), Path(path))


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _table(document, header: list[str], rows: list[list[str]], tones: list[str] | None = None):
    from docx.shared import Pt

    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(text))
        run.bold = True
    for i, row in enumerate(rows):
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = str(text)
        if tones:
            for cell in cells:
                _shade(cell, TONE_FILL[tones[i]])
    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(8)
    return table


def _agreement_rows(doc: Appendix, rows, overall) -> tuple[list[list[str]], list[str]]:
    out, tones = [], []
    for r in rows + ([overall] if overall else []):
        out.append([r.label, r.prevalence, r.alpha, r.ci, r.q, r.fleiss, r.cohen, r.ac1, r.bp,
                    r.agreement, str(r.n), r.verdict])
        tones.append(r.tone)
    return out, tones


def to_docx(doc: Appendix) -> bytes:
    """The appendix as a Word document (python-docx), returned as bytes."""
    import io

    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    from coder import __version__

    d = Document()
    section = d.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    d.core_properties.title = doc.title
    d.core_properties.comments = "; ".join(doc.provenance)[:255]  # Word's limit
    d.core_properties.author = f"coder {__version__}"
    n = _numbers(doc)
    header = [doc.level_word.capitalize(), *doc.columns]
    d.add_heading(doc.title, level=0)
    d.add_paragraph(f"Reliability appendix generated by coder {__version__} from the project "
                    "whose content hash is given under Provenance.")
    d.add_heading("1. Units and how the text was split", level=1)
    d.add_paragraph(doc.units_text)
    d.add_heading("2. Codebook", level=1)
    d.add_paragraph(doc.codebook_text)
    d.add_heading("3. Coders and the double-coded sample", level=1)
    _table(d, ["Coder", "participant segments reviewed", "of them in the double-coded sample"],
           [[c["name"], str(c["reviewed"]), str(c["in_sample"])] for c in doc.coders])
    for sentence in doc.machines:
        d.add_paragraph(sentence)
    d.add_paragraph(doc.sampling)
    d.add_heading(f"4. Agreement per {doc.level_word}", level=1)
    d.add_paragraph("Legend: reliable ≥ .800 (green) · tentative ≥ .667 (amber) · unreliable "
                    "(red) · undefined (grey)")
    d.add_paragraph(doc.thresholds)
    _table(d, header, *_agreement_rows(doc, doc.rows, doc.overall))
    d.add_heading("5. Notes on reading the numbers", level=1)
    for note in doc.notes or [f"No statistic needs a caveat: every α is defined, no "
                              f"{doc.level_word} is rare, and every interval is narrow."]:
        d.add_paragraph(note, style="List Bullet" if doc.notes else None)
    if doc.groups:
        d.add_heading(f"6. Agreement by {doc.by}", level=1)
        for g in doc.groups:
            small = "; small group" if g.small else ""
            d.add_heading(f"{doc.by} = {g.name} ({g.units} segments{small})", level=2)
            _table(d, header, *_agreement_rows(doc, g.rows, None))
    d.add_heading(f"{n['pairwise']}. Pairwise agreement", level=1)
    d.add_paragraph(f"Cohen's κ for each pair of coders, pooled over every segment–"
                    f"{doc.level_word} pair they both reviewed, with percent agreement and the "
                    "number of segments.")
    _table(d, doc.pair_columns, doc.pair_rows)
    d.add_heading(f"{n['consensus']}. How disagreements were settled", level=1)
    for sentence in doc.consensus or ["No consensus has been built yet (see coder reconcile)."]:
        d.add_paragraph(sentence)
    d.add_heading(f"{n['methods']}. Methods paragraph", level=1)
    d.add_paragraph("Ready to paste into a methods section; every number is the one reported "
                    "above.")
    d.add_paragraph(doc.methods, style="Intense Quote")
    d.add_heading(f"{n['references']}. References", level=1)
    for ref in doc.references:
        d.add_paragraph(ref, style="List Bullet")
    d.add_heading("Provenance", level=1)
    for line in doc.provenance:
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
