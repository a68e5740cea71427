"""LaTeX tables that go into a paper as they are: escaped, fitting the page, labelled, with notes.

One function, :func:`latex_table`, serves every LaTeX export (reports, and any command through
:func:`coder.render.to_latex`; the agreement report can call it the same way)::

    from coder.reports.latex import latex_table

    tex = latex_table(["Theme", "Alpha", "Total"], rows,
                      caption="Themes by country (coder: alice)", label="tab:themes-country",
                      subheader=["", "(N=2)", "(N=3)"], notes=["<3: suppressed …"],
                      provenance=footer_lines, align="lrr", rules_before={len(rows) - 1})

Cells and headers are plain text; everything is escaped here (:func:`escape`, which also
turns ``<``, ``>`` and ``|`` into their text commands, so ``<3`` does not print ``¡3``).
The layout is chosen from the table's size, estimated from its characters:

- a short table (at most :data:`FLOAT_ROWS` rows) is a ``table`` float whose tabular is scaled
  down to ``\\linewidth`` by ``\\resizebox`` only when it is wider, and put on a landscape page
  (``pdflscape``) when it would have to shrink below :data:`MIN_SCALE`;
- a long table is a ``longtable`` (repeating its header on every page, "continued" footers),
  in a smaller font and on landscape pages when it is wide — a longtable cannot be scaled;
- the first column wraps (``p{…}``) when its labels are long; a second header row carries the
  groups' N; ``rules_before`` puts a ``\\midrule`` above the given rows and ``bands`` a little
  space above theme rows;
- ``notes`` are printed under the table, visible to the reader (not as ``%`` comments);
- the provenance lines are ``%`` comments at the top, after a ``% requires`` line that names
  the packages to load (:data:`PACKAGES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

PACKAGES = ("booktabs", "longtable", "array", "graphicx", "pdflscape")
FLOAT_ROWS = 25          # more rows than this: a longtable
LANDSCAPE_FLOAT_ROWS = 14   # the same on a landscape page, which is less tall
MIN_SCALE = 0.75         # a float scaled below this goes on a landscape page
PORTRAIT_EM = 34.0       # \linewidth of a 10pt article in em (345pt), a little less for safety
LANDSCAPE_EM = 50.0      # the same on a landscape page (\textheight ≈ 550pt, minus margins)
WRAP_EM = 14.0           # first-column labels longer than this wrap in a p{} column
SIZES = (("", 1.0), (r"\footnotesize", 0.8), (r"\scriptsize", 0.7), (r"\tiny", 0.5))
# a longtable cannot be scaled: the font size and orientation, in order of preference
LONG_LAYOUTS = (("", False, 6.0), (r"\footnotesize", False, 6.0),
                (r"\footnotesize", True, 6.0), (r"\scriptsize", True, 4.0),
                (r"\tiny", True, 3.0), (r"\tiny", True, 1.5))      # (size, landscape, sep pt)

_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
            "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "\\": r"\textbackslash{}", "<": r"\textless{}", ">": r"\textgreater{}",
            "|": r"\textbar{}", "\n": " ", "\r": " ", "\t": " "}
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def escape(text: object) -> str:
    """Plain text as LaTeX text: every special character escaped, line breaks as spaces."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))


def requires(text: str = "") -> str:
    """The ``% requires`` line for a table (Cyrillic text also needs T2A fonts)."""
    line = r"% requires \usepackage{" + ",".join(PACKAGES) + "}"
    if _CYRILLIC.search(text):
        line += r" and \usepackage[T2A]{fontenc} (Cyrillic text)"
    return line


def _width_em(text: str) -> float:
    """A rough width of text in em at \\normalsize (Computer Modern averages ~0.5em/char)."""
    wide = sum(1 for ch in text if ch.isupper() or ch in "%mwMW@")
    return 0.5 * len(text) + 0.25 * wide


def latex_table(columns: Sequence[str], rows: Sequence[Sequence[object]], *, caption: str,
                label: str | None = None, subheader: Sequence[str] | None = None,
                notes: Iterable[str] = (), provenance: Iterable[str] = (),
                align: str | None = None, rules_before: Iterable[int] = (),
                bands: Iterable[int] = ()) -> str:
    """A booktabs table (see the module docstring). ``align`` has one letter per column
    (``l``, ``r`` or ``c``; default: ``l`` then ``r``)."""
    ncols = len(columns)
    align = align or ("l" + "r" * (ncols - 1))
    if len(align) != ncols:
        raise ValueError(f"align {align!r} has {len(align)} letters for {ncols} columns")
    header = [str(c) for c in columns]
    sub = [str(c) for c in subheader] if subheader else None
    body = [["" if v is None else str(v) for v in row] for row in rows]
    rules, band = set(rules_before), set(bands)

    # column widths in em: the first column wraps when its labels are long
    widths = []
    for j in range(ncols):
        texts = [header[j], *(sub[j:j + 1] if sub else []), *(r[j] for r in body)]
        widths.append(max((_width_em(t) for t in texts), default=1.0))
    wrap = widths[0] > WRAP_EM and align[0] == "l"
    if wrap:
        widths[0] = WRAP_EM
    text_em = sum(widths)

    def width_pt(scale: float, sep: float) -> float:
        """Text scales with the font; \tabcolsep (both sides of every column) does not."""
        return text_em * scale * 10 + 2 * sep * ncols

    natural = width_pt(1.0, 6) / 10
    # a float taller than the page is "Float too large": long ones break across pages
    long = (len(body) > FLOAT_ROWS
            or (natural * MIN_SCALE > PORTRAIT_EM and len(body) > LANDSCAPE_FLOAT_ROWS))

    size, landscape, sep = "", False, 6.0
    if long:
        size, landscape, sep = LONG_LAYOUTS[-1]
        for option, turned, gap in LONG_LAYOUTS:
            room = (LANDSCAPE_EM if turned else PORTRAIT_EM) * 10
            if width_pt(dict(SIZES)[option], gap) <= room:
                size, landscape, sep = option, turned, gap
                break
    else:
        landscape = natural * MIN_SCALE > PORTRAIT_EM

    def colspec(j: int) -> str:
        if j == 0 and wrap:
            return r">{\raggedright\arraybackslash}p{" + f"{WRAP_EM:g}em" + "}"
        return align[j]

    spec = "".join(colspec(j) for j in range(ncols))
    head = [" & ".join(escape(h) for h in header) + r" \\"]
    if sub:
        head.append(" & ".join(escape(h) for h in sub) + r" \\")
    lines_body = []
    for i, row in enumerate(body):
        if i in rules:
            lines_body.append(r"\midrule")
        elif i in band and i:
            lines_body.append(r"\addlinespace")
        lines_body.append(" & ".join(escape(c) for c in row) + r" \\")
    note_lines = [n for n in notes if n]
    caption_tex = escape(caption)
    label_tex = r"\label{" + label + "}" if label else ""

    everything = " ".join([*header, *(sub or []), *(c for r in body for c in r), caption,
                           *note_lines])
    lines = [requires(everything)]
    lines += [f"% {p}" for p in provenance]
    if landscape:
        lines.append(r"\begin{landscape}")
    if long:
        lines += ["{" + size + r"\setlength{\LTcapwidth}{\linewidth}"
                  + (r"\setlength{\tabcolsep}{" + f"{sep:g}pt" + "}" if sep != 6 else ""),
                  r"\begin{longtable}{" + spec + "}",
                  r"\caption{" + caption_tex + "}" + label_tex + r" \\",
                  r"\toprule", *head, r"\midrule", r"\endfirsthead",
                  r"\multicolumn{" + str(ncols) + r"}{l}{\emph{(continued)}} \\",
                  r"\toprule", *head, r"\midrule", r"\endhead",
                  r"\midrule",
                  r"\multicolumn{" + str(ncols) + r"}{r}{\emph{continued}} \\",
                  r"\endfoot", r"\bottomrule", r"\endlastfoot",
                  *lines_body, r"\end{longtable}"]
        if note_lines:
            lines += [r"\par\noindent\begin{minipage}{\linewidth}\footnotesize\raggedright",
                      *[escape(n) + r"\par" for n in note_lines], r"\end{minipage}\par"]
        lines.append("}")
    else:
        lines += [r"\begin{table}[htbp]", r"\centering", r"\caption{" + caption_tex + "}"]
        if label_tex:
            lines.append(label_tex)
        lines += [r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
                  r"\begin{tabular}{" + spec + "}", r"\toprule", *head, r"\midrule",
                  *lines_body, r"\bottomrule", r"\end{tabular}}"]
        if note_lines:
            lines += [r"\par\medskip",
                      r"\begin{minipage}{\linewidth}\footnotesize\raggedright",
                      *[escape(n) + r"\par" for n in note_lines], r"\end{minipage}"]
        lines.append(r"\end{table}")
    if landscape:
        lines.append(r"\end{landscape}")
    return "\n".join(lines) + "\n"


def document(*bodies: str) -> str:
    """A complete article around table exports (for checking that they compile)."""
    packages = set(PACKAGES)
    text = "\n".join(bodies)
    pre = [r"\documentclass{article}", r"\usepackage[T1]{fontenc}",
           r"\usepackage{" + ",".join(sorted(packages)) + "}"]
    return "\n".join([*pre, r"\begin{document}", text, r"\end{document}"]) + "\n"
