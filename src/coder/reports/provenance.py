"""Where a report comes from: a content hash of the project, the codebook, the coder, the command.

Every export carries a :class:`Provenance`: as ``<!-- … -->`` lines in Markdown, ``%`` lines in
LaTeX, trailing ``# …`` lines in CSV, document properties in XLSX, a footer in HTML, a
``provenance`` object in JSON and text chunks / Dublin Core metadata in PNG and SVG.

The **project hash** is SHA-256 over a canonical text built in Python, so it is the same on
SQLite and PostgreSQL and does not depend on row ids or insertion order::

    transcript <TAB> id <TAB> sha256            (every transcript, sorted by id)
    codings <TAB> ["coder", …] <TAB> ["code", …] <TAB> N     (JSON lists, sorted)
    one integer per coding, ascending, one per line
    codebook <TAB> sha256                       (the current codebook version)

A coding's integer numbers (coder, transcript, segment n, code) in mixed radix: coders by their
rank among every coder's name, transcripts by their rank among the ids above, ``n`` below ``N``
(one more than the largest segment number), codes by their rank among the codes applied —
the lists are in the text, so every coding can be read back from it. Integers rather than
text lines: the codings are most of a project, and a command that has read them already
(``coder agreement``) hands them over rather than reading them again (:class:`CodingRows`).

It changes when a transcript's content, any coding or the codebook changes, and only then.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
from dataclasses import asdict, dataclass
from operator import itemgetter

from sqlalchemy import select
from sqlalchemy.engine import Connection

from coder.coding.store import K, S
from coder.db import tables
from coder.db.engine import fetch_all


@dataclass
class CodingRows:
    """What :func:`project_hash` reads, when a command has read it already: every segment of
    the project as ``(id, transcript id, n, …)`` and every coding as ``(coder id, segment id,
    code key)``."""

    segments: list[tuple]
    codings: list[tuple]


def project_hash(conn: Connection, rows: CodingRows | None = None) -> str:
    """SHA-256 (hex) of the project's transcripts, codings and current codebook (see above)."""
    from coder.codebook import current_codebook

    T = tables.transcript
    digest = hashlib.sha256()
    transcripts = sorted(conn.execute(select(T.c.id, T.c.sha256)).all())
    digest.update("".join([f"transcript\t{tid}\t{sha}\n" for tid, sha in transcripts]).encode())
    digest.update(_codings_text(conn, rows if rows is not None else read_coding_rows(conn),
                                [tid for tid, _ in transcripts]).encode())
    codebook = current_codebook(conn)
    digest.update(f"codebook\t{codebook.sha256 if codebook else ''}\n".encode())
    return digest.hexdigest()


def read_coding_rows(conn: Connection) -> CodingRows:
    """Every segment and coding, as plain tuples (see :func:`coder.db.engine.fetch_all`)."""
    return CodingRows(fetch_all(conn, select(S.c.id, S.c.transcript_id, S.c.n)),
                      fetch_all(conn, select(K.c.coder_id, K.c.segment_id, K.c.code_key)))


def _codings_text(conn: Connection, rows: CodingRows, transcripts: list[str]) -> str:
    C = tables.coder
    coders = dict(conn.execute(select(C.c.id, C.c.name)).all())
    names = sorted(coders.values())
    rank = {name: i for i, name in enumerate(names)}
    coder_rank = {cid: rank[name] for cid, name in coders.items()}
    applied = sorted(set(map(itemgetter(2), rows.codings)))
    code_rank = {key: i for i, key in enumerate(applied)}
    per_transcript = 1 + max(map(itemgetter(2), rows.segments), default=0)
    transcript_rank = {tid: i for i, tid in enumerate(transcripts)}
    # a segment's place: its transcript's rank, then n; a coding's: coder, segment, code
    place = {sid: transcript_rank[tid] * per_transcript + n for sid, tid, n, *_ in rows.segments}
    stride, width = len(transcripts) * per_transcript, len(applied)
    numbers = sorted([(coder_rank[c] * stride + place[s]) * width + code_rank[k]
                      for c, s, k in rows.codings])
    head = f"codings\t{json.dumps(names)}\t{json.dumps(applied)}\t{per_transcript}\n"
    return head + "\n".join(map(str, numbers)) + "\n"


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed: ``sys.argv`` joined (shell-quoted), the program shown as ``coder``."""
    argv = list(sys.argv if argv is None else argv)
    if not argv:
        return "coder"
    return shlex.join(["coder", *argv[1:]])


@dataclass(frozen=True)
class Provenance:
    """What a report was made from. ``project_hash``: see :func:`project_hash`."""

    project_hash: str
    codebook: str | None
    codebook_version: int | None
    codebook_sha256: str | None
    coder: str
    command: str
    software: str

    def lines(self) -> list[str]:
        codebook = (f"{self.codebook}, version {self.codebook_version} "
                    f"(sha256 {self.codebook_sha256})" if self.codebook else "none loaded")
        return [f"generated by {self.software}",
                f"project: sha256 {self.project_hash}",
                f"codebook: {codebook}",
                f"coder: {self.coder}",
                f"command: {self.command}"]

    def footer(self, *notes: str) -> str:
        """Provenance as text lines, after any ``notes`` (e.g. the small-cell rule)."""
        return "\n".join([*[n for n in notes if n], *self.lines()])

    def to_dict(self) -> dict:
        return asdict(self)

    def png_metadata(self, title: str) -> dict[str, str]:
        """PNG text chunks (matplotlib ``savefig(metadata=…)``)."""
        return {"Title": title, "Description": self.footer(), "Software": self.software,
                "Source": f"project sha256 {self.project_hash}", "Comment": self.command}

    def svg_metadata(self, title: str) -> dict[str, str | None]:
        """SVG Dublin Core metadata; ``Date`` is left out so the file is reproducible."""
        return {"Title": title, "Description": self.footer(), "Creator": self.software,
                "Identifier": f"sha256:{self.project_hash}", "Source": self.command,
                "Date": None}


def make_provenance(conn: Connection, coder: str, command: str | None = None,
                    rows: CodingRows | None = None) -> Provenance:
    """Provenance of a report on ``conn`` by ``coder``; ``command`` defaults to ``sys.argv``;
    ``rows``: the segments and codings, when the command has read them already."""
    from coder import __version__
    from coder.codebook import current_codebook

    codebook = current_codebook(conn)
    return Provenance(
        project_hash=project_hash(conn, rows),
        codebook=codebook.name if codebook else None,
        codebook_version=codebook.version if codebook else None,
        codebook_sha256=codebook.sha256 if codebook else None,
        coder=coder,
        command=command if command is not None else command_line(),
        software=f"coder {__version__}")
