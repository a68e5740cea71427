"""REFI-QDA exchange: projects (``.qdpx``) and codebooks (``.qdc``) in and out.

REFI-QDA 1.0 is the exchange standard of NVivo, ATLAS.ti, MAXQDA, QualCoder and others
(schemas in ``../shared/refi/``). What other modules and the CLI call::

    from coder.refi import export_qdc, export_qdpx, import_qdpx, load_qdc, read_qdc

    export_qdpx(project).data       # bytes of a .qdpx archive (Project.xsd-valid project.qde)
    export_qdc(project).data        # bytes of a .qdc codebook (Codebook.xsd-valid)
    import_qdpx(project, "x.qdpx")  # QdpxImport report; one transaction
    store_qdpx(project, prepare_qdpx("x.qdpx"))  # the same, reading before opening a project
    book = read_qdc("x.qdc")        # .mapping.spec: a CodebookSpec; .mapping.warnings
    load_qdc(project, book)         # LoadResult (created | unchanged); one transaction

Modules: :mod:`~coder.refi.safe` (bounded ZIP and hardened XML reading),
:mod:`~coder.refi.read` (archive → :mod:`~coder.refi.model` records),
:mod:`~coder.refi.positions` (selection positions: UTF-16 / CRLF conventions),
:mod:`~coder.refi.segments` (sources → segments), :mod:`~coder.refi.codebook` (codes both ways),
:mod:`~coder.refi.import_` (records → database), :mod:`~coder.refi.export` (database → files).
Each module's docstring states its mapping rules.
"""

from __future__ import annotations

from coder.refi.codebook import QdcCodebook, load_qdc, read_qdc
from coder.refi.export import ExportResult, export_qdc, export_qdpx
from coder.refi.import_ import (
    PlacedSelection, PreparedQdpx, QdpxImport, SourceResult, import_qdpx, prepare_qdpx, store_qdpx,
)

__all__ = ["ExportResult", "PlacedSelection", "PreparedQdpx", "QdcCodebook", "QdpxImport",
           "SourceResult", "export_qdc", "export_qdpx", "import_qdpx", "load_qdc",
           "prepare_qdpx", "read_qdc", "store_qdpx"]
