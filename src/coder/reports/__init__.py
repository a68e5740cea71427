"""Paper-ready reports: theme frequencies per group, co-occurrence, saturation, quotes.

The library API that the ``coder report …`` and ``coder quotes`` commands call. Every function
takes ``source`` — a SQLAlchemy ``Connection``, a :class:`~coder.db.engine.Project` or a
database path/URL — and a ``coder``: a coder's name, ``"majority"`` (computed on the fly from
all human coders over the segments every one of them reviewed, see :mod:`coder.reports.data`),
or ``None`` for ``consensus``. Results are plain objects with ``to_frame()`` (pandas, imported
on demand) and ``to_json_dict()``; each carries its :class:`Provenance`::

    from coder.reports import theme_frequencies, cooccurrence, saturation, quotes

    table = theme_frequencies("coder.db", by="country", unit="participants",
                              coder="consensus", codes=False, min_cell=None)
    table.to_frame()          # rows themes; columns (group, participants|segments|share)
    table.sizes_frame()       # each group's participants and segments
    table.to_json_dict()      # {"by", "coder", "unit", "groups": {G: {…}}, …} (SPEC §8)

    co = cooccurrence("coder.db", coder="majority", codes=False)
    co.to_frame("counts"), co.to_frame("jaccard")

    curve = saturation("coder.db", order="date")          # or order="id"
    curve.to_frame(); curve.saturation                    # Interview or None

    qs = quotes("coder.db", theme="security_community", by="country", limit=3)
    qs.quotes[0].attribution                              # "Expert KZ-02, Kazakhstan"

Signatures::

    theme_frequencies(source, *, by="country", unit="participants", coder=None, codes=False,
                      min_cell=None, flag_small=False, command=None) -> ThemeTable
    cooccurrence(source, *, coder=None, codes=False, command=None) -> CooccurrenceTable
    saturation(source, *, order="date", coder=None, command=None) -> SaturationCurve
    quotes(source, *, theme, by=None, limit=5, coder=None, who="Expert",
           command=None) -> QuoteSet
    load_codings(conn, coder=None) -> CodingData        # .to_frame(): one row per coding
    project_hash(conn) -> str                           # content hash, see provenance

Exports (:mod:`coder.reports.export`) render them as tables (rich, CSV, XLSX, Markdown, LaTeX
booktabs, HTML) or JSON; figures (:mod:`coder.reports.figures`) as PNG/SVG heatmaps and curves.
``command`` is recorded in the provenance (default: ``sys.argv`` joined).
"""

from coder.reports.cooccurrence import CooccurrenceTable, cooccurrence
from coder.reports.data import MAJORITY, CodingData, load_codings
from coder.reports.frequencies import Cell, ThemeTable, theme_frequencies
from coder.reports.provenance import Provenance, project_hash
from coder.reports.quotes import Quote, QuoteSet, quotes
from coder.reports.saturation import Interview, SaturationCurve, saturation

__all__ = [
    "MAJORITY", "Cell", "CodingData", "CooccurrenceTable", "Interview", "Provenance", "Quote",
    "QuoteSet", "SaturationCurve", "ThemeTable", "cooccurrence", "load_codings",
    "project_hash", "quotes", "saturation", "theme_frequencies",
]
