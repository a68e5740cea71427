"""Codebooks: the YAML file format (SPEC §4), validation, versions in the project, diff, export.

What other modules call::

    from coder.codebook import current_codebook, require_codebook, theme_of

    info = require_codebook(conn)      # CodebookInfo of the current version (or a CoderError)
    info.themes                        # top-level CodeSpec objects, in order
    info.keys                          # set of full keys
    info.get("csto_efficacy.rapid_deployment")  # CodeSpec or None
    theme_of("csto_efficacy.rapid_deployment")  # "csto_efficacy"

Sources of codebooks: :func:`load_codebook_file` (YAML). A REFI-QDA ``.qdc`` reader (a later
issue, in :mod:`coder.refi`) builds a :class:`CodebookSpec` the same way and hands it to
:func:`load_codebook`.
"""

from coder.codebook.diff import CodebookDiff, diff_codebooks, rename_map, render_diff
from coder.codebook.loader import CodebookInvalid, load_codebook_file, parse_codebook
from coder.codebook.model import (
    CodebookInfo, CodebookSpec, CodeSpec, compile_keyword, parent_of, theme_of,
)
from coder.codebook.store import (
    DEFAULT_CODEBOOK, LoadResult, codebook_versions, coding_counts, current_codebook,
    get_codebook, load_codebook, require_codebook, theme_totals,
)

__all__ = [
    "DEFAULT_CODEBOOK", "CodeSpec", "CodebookDiff", "CodebookInfo", "CodebookInvalid",
    "CodebookSpec", "LoadResult", "codebook_versions", "coding_counts", "compile_keyword",
    "current_codebook", "diff_codebooks", "get_codebook", "load_codebook", "load_codebook_file",
    "parent_of", "parse_codebook", "rename_map", "render_diff", "require_codebook",
    "theme_of", "theme_totals",
]
