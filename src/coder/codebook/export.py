"""Codebook exports: Markdown and LaTeX for papers, YAML to recreate a loadable file.

Each function takes a codebook (from the project or a file) and returns the text; nothing here
writes files or prints. ``export_yaml`` round-trips: loading its output gives the same codes.
"""

from __future__ import annotations

import io
import re

from coder.codebook.model import CodeSpec, CodeTree, short_key


def _version_line(book: CodeTree) -> str:
    n_themes, n_codes = len(book.themes), len(book.codes)
    version = getattr(book, "version", None)
    counts = f"{n_themes} theme{'s' * (n_themes != 1)}, {n_codes} code{'s' * (n_codes != 1)}"
    return f"Version {version} — {counts}." if version is not None else f"{counts}."


def _numbering(book: CodeTree) -> dict[str, str]:
    """``{key: "2.1"}``: themes numbered 1, 2 …, sub-codes 2.1, 2.1.1 …"""
    numbers: dict[str, str] = {}
    counters: dict[str | None, int] = {}
    for code in book.codes:
        counters[code.parent] = counters.get(code.parent, 0) + 1
        prefix = numbers[code.parent] + "." if code.parent in numbers else ""
        numbers[code.key] = f"{prefix}{counters[code.parent]}"
    return numbers


# --- Markdown ---------------------------------------------------------------------------------

def export_markdown(book: CodeTree) -> str:
    """The codebook as Markdown: a heading per code (themes ``##``, sub-codes deeper), its
    definition, then inclusion and exclusion criteria, examples and keywords as lists."""
    from coder.render import markdown_text as md

    numbers = _numbering(book)
    out = [f"# {md(book.name)}", "", md(_version_line(book)), ""]
    for code in book.codes:
        level = "#" * min(2 + code.depth, 6)
        out += [f"{level} {numbers[code.key]} {md(code.label)} (`{code.key}`)", ""]
        if code.definition:
            out += [md(code.definition), ""]
        for title, items in (("Include", code.include), ("Exclude", code.exclude),
                             ("Examples", code.examples)):
            if items:
                out += [f"**{title}:**", ""] + [f"- {md(item)}" for item in items] + [""]
        if code.keywords:
            out += ["**Keywords:** " + ", ".join(f"`{k}`" for k in code.keywords), ""]
        for language, keywords in code.keywords_by_language.items():
            out += [f"**Keywords ({language}):** " + ", ".join(f"`{k}`" for k in keywords), ""]
    return "\n".join(out).rstrip("\n") + "\n"


# --- LaTeX ------------------------------------------------------------------------------------

_LATEX_SPECIAL = {
    "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters ``& % $ # _ { } ~ ^ \\`` (one pass, so the backslashes
    of the replacements are not escaped again)."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group()], text)


_LATEX_HEAD = r"Code & Definition & Include & Exclude & Example \\"
# 0.15 + 4 × 0.18 of the text width, plus the 8 inner column gaps, fits the text block.
_COLUMNS = (r"@{}>{\raggedright\arraybackslash}p{0.15\textwidth}"
            + r">{\raggedright\arraybackslash}p{0.18\textwidth}" * 4 + "@{}")


def export_latex(book: CodeTree, *, label: str = "tab:codebook") -> str:
    """The codebook as a booktabs ``longtable`` (needs ``\\usepackage{booktabs,longtable,array}``).

    Columns: Code / Definition / Include / Exclude / Example (the first example). Themes are
    bold; sub-codes are indented under their theme by one ``\\quad`` per level. Criteria are
    joined with semicolons; all text is escaped.
    """
    version = getattr(book, "version", None)
    caption = "Codebook: " + latex_escape(book.name) + (f" (version {version})"
                                                         if version is not None else "")
    out = [
        r"% Codebook exported by coder; needs \usepackage{booktabs,longtable,array}",
        rf"\begin{{longtable}}{{{_COLUMNS}}}",
        rf"\caption{{{caption}}}\label{{{label}}}\\",
        r"\toprule", _LATEX_HEAD, r"\midrule", r"\endfirsthead",
        r"\toprule", _LATEX_HEAD, r"\midrule", r"\endhead",
        r"\bottomrule", r"\endlastfoot",
    ]
    for i, code in enumerate(book.codes):
        if code.is_theme and i > 0:
            out.append(r"\midrule")
        out.append(" & ".join(_latex_cells(code)) + r" \\")
    out.append(r"\end{longtable}")
    return "\n".join(out) + "\n"


_STRAIGHT_QUOTES = re.compile(r'"([^"]*)"')


def _latex_text(text: str) -> str:
    """Escaped text with paired straight double quotes turned into TeX's ``…''."""
    return _STRAIGHT_QUOTES.sub(r"``\1''", latex_escape(text))


def _latex_cells(code: CodeSpec) -> list[str]:
    name = _latex_text(code.label)
    name = rf"\textbf{{{name}}}" if code.is_theme else r"\quad" * code.depth + " " + name

    def joined(items: list[str]) -> str:
        return "; ".join(_latex_text(item) for item in items)

    example = f"``{_latex_text(code.examples[0])}''" if code.examples else ""
    return [name, _latex_text(code.definition), joined(code.include), joined(code.exclude),
            example]


# --- YAML -------------------------------------------------------------------------------------

def export_yaml(book: CodeTree) -> str:
    """A codebook file (SPEC §4) that loads back to the same codes.

    Empty fields are left out; ``version`` is the project's version of the codebook.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def node(code: CodeSpec) -> CommentedMap:
        m = CommentedMap()
        m["key"] = short_key(code.key)
        m["label"] = code.label
        if code.definition:
            m["definition"] = code.definition
        for name in ("include", "exclude", "examples", "keywords"):
            items = getattr(code, name)
            if name == "keywords" and code.keywords_by_language:
                by_language = CommentedMap()
                if items:
                    by_language["any"] = CommentedSeq(items)
                for language, keywords in code.keywords_by_language.items():
                    by_language[language] = CommentedSeq(keywords)
                m[name] = by_language
            elif items:
                m[name] = CommentedSeq(items)
        if code.colour:
            m["colour"] = code.colour
        if not code.codable:
            m["codable"] = False
        if code.renamed_from:
            m["renamed_from"] = code.renamed_from
        children = book.children(code.key)
        if children:
            m["codes"] = CommentedSeq(node(child) for child in children)
        return m

    doc = CommentedMap()
    doc["name"] = book.name
    version = getattr(book, "version", None)
    if version is not None:
        doc["version"] = version
    if getattr(book, "description", None):
        doc["description"] = book.description
    doc["themes"] = CommentedSeq(node(theme) for theme in book.themes)
    yaml = YAML(typ="rt")
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    return buffer.getvalue()

