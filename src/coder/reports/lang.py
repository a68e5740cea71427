"""Code labels in another language (``--lang``), from the codebook's optional ``labels:``.

A code may carry its label in several languages (SPEC §4, optional)::

    - key: reforms
      label: Domestic reforms
      labels: {en: Domestic reforms, ru: Внутренние реформы}

The project stores the codebook file's text with each version; the translations are read
from it, so that no schema change is needed. A code without a label in the language keeps
its ``label`` (and a note says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coder.errors import CoderError

if TYPE_CHECKING:  # pragma: no cover
    from coder.codebook import CodebookInfo


def code_labels(codebook: "CodebookInfo", lang: str | None) -> tuple[dict[str, str], list[str]]:
    """``{full key: label}`` in ``lang`` (None: the codebook's ``label``), and notes."""
    default = {c.key: c.label for c in codebook.codes}
    if not lang:
        return default, []
    translations = {c.key: c.labels for c in codebook.codes if c.labels}
    if not translations:
        translations = _from_source(codebook)
    known = sorted({lang for labels in translations.values() for lang in labels})
    if not any(lang in labels for labels in translations.values()):
        raise CoderError(
            f"the codebook has no labels in {lang!r} (languages: {', '.join(known) or 'none'})"
            f" — add `labels: {{{lang}: …}}` to its codes and load it again, or leave out "
            "--lang")
    out = {k: translations.get(k, {}).get(lang, label) for k, label in default.items()}
    missing = [k for k in default if lang not in translations.get(k, {})]
    notes = ([f"{len(missing)} code(s) have no label in {lang!r} and keep their label: "
              + ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")] if missing else [])
    return out, notes


def _from_source(codebook: "CodebookInfo") -> dict[str, dict[str, str]]:
    from coder.codebook import parse_codebook

    try:
        spec = parse_codebook(codebook.source or "")
    except (CoderError, ValueError):
        return {}
    return {c.key: c.labels for c in spec.codes if c.labels}
