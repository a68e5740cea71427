"""Assembling units × coders matrices from a project (SPEC §6).

Units are participant segments. For each theme (or code with ``codes=True``) a coder's value
on a unit is 1 if they applied it (a sub-code counts for its theme), 0 if they reviewed the
unit without applying it, and missing (NaN) if they did not review it. Only units reviewed by at
least two of the selected coders enter the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import case, select

from coder.coding.store import coder_id, code_keys
from coder.db import tables
from coder.db.engine import fetch_all
from coder.errors import CoderError, NotFoundError

if TYPE_CHECKING:
    from coder.reports.provenance import CodingRows


@dataclass
class UnitMatrix:
    """``values[k, u, c]``: coder ``c``'s 0/1/NaN value for key ``k`` on unit ``u``."""

    coders: list[str]
    keys: list[str]
    segment_ids: np.ndarray      # (units,) segment primary keys
    transcripts: np.ndarray      # (units,) transcript ids (object array)
    numbers: np.ndarray          # (units,) segment numbers n
    values: np.ndarray           # (keys, units, coders) float64
    rows: CodingRows | None = field(default=None, repr=False)  # what it was made of

    @property
    def n_units(self) -> int:
        return len(self.segment_ids)

    def subset(self, mask: np.ndarray) -> "UnitMatrix":
        return UnitMatrix(self.coders, self.keys, self.segment_ids[mask], self.transcripts[mask],
                          self.numbers[mask], self.values[:, mask, :], self.rows)

    def groups(self, labels: np.ndarray) -> dict[str, "UnitMatrix"]:
        """Split the units by a label per unit (e.g. transcript or an attribute value)."""
        return {str(g): self.subset(labels == g) for g in sorted(set(labels.tolist()))}


def default_coders(conn) -> list[str]:
    """Every human coder, in order of creation (machine coders and consensus only on request)."""
    C = tables.coder
    return list(conn.execute(select(C.c.name).where(C.c.kind == "human")
                             .order_by(C.c.id)).scalars())


def unit_matrix(conn, coders: list[str] | None = None, *, codes: bool = False) -> UnitMatrix:
    """Build the matrix for ``coders`` (default: all human coders) at theme or code level."""
    coders = coders or default_coders(conn)
    if len(coders) < 2:
        raise CoderError(f"agreement needs at least two coders (have: {', '.join(coders) or 'none'})"
                         " — import a second coder's codings or pass --coders a,b")
    if len(set(coders)) != len(coders):
        raise CoderError("a coder is listed twice in --coders — name each coder once")
    ids = [coder_id(conn, name) for name in coders]
    all_keys = code_keys(conn)
    if not all_keys:
        raise NotFoundError("no codebook loaded — run `coder codebook load "
                            "codebooks/csto-2022.yaml` first")
    keys = all_keys if codes else [k for k in all_keys if "." not in k]
    R, S, K = tables.review, tables.segment, tables.coding
    # Whole columns go to NumPy: no Python work per review or coding (see _fetch). Plain
    # scans, no join: looking each review's segment up by key costs more than reading them
    # all. Every segment and every coder's codings are read: the project hash of the report's
    # provenance is made of the same rows (coder.reports.provenance.CodingRows).
    segments = _fetch(conn, select(S.c.id, S.c.transcript_id, S.c.n,
                                   case((S.c.role == "participant", 1), else_=0)))
    parts = [row for row in segments if row[3]]
    part_ids = np.fromiter(map(itemgetter(0), parts), dtype=np.int64, count=len(parts))
    order = np.argsort(part_ids, kind="stable")
    sorted_ids = part_ids[order]
    reviews = _ints(_fetch(conn, select(R.c.segment_id, R.c.coder_id)
                           .where(R.c.coder_id.in_(ids))), 2)
    mine = _only(sorted_ids, reviews[:, 0])  # reviews of participant segments
    seg, cod = reviews[mine, 0], _positions(reviews[mine, 1], ids)
    uniq, inverse = np.unique(seg, return_inverse=True)
    reviewed = np.zeros((len(uniq), len(ids)), dtype=bool)
    reviewed[inverse, cod] = True
    keep = reviewed.sum(axis=1) >= 2
    uniq, reviewed = uniq[keep], reviewed[keep]
    values = np.where(reviewed, 0.0, np.nan)[None, :, :].repeat(len(keys), axis=0)
    codings = _fetch(conn, select(K.c.coder_id, K.c.segment_id, K.c.code_key))
    if codings and len(uniq):
        key_index = {k: i for i, k in enumerate(keys)}
        row = {key: key_index.get(key if codes else key.split(".", 1)[0], -1)
               for key in set(map(itemgetter(2), codings))}  # the key's row in the matrix
        n = len(codings)
        c_ids = np.fromiter(map(itemgetter(0), codings), dtype=np.int64, count=n)
        s = np.fromiter(map(itemgetter(1), codings), dtype=np.int64, count=n)
        k = np.fromiter(map(row.__getitem__, map(itemgetter(2), codings)), dtype=np.int64,
                        count=n)
        chosen = np.isin(c_ids, ids)
        s, c, k = s[chosen], _positions(c_ids[chosen], ids), k[chosen]
        u = np.minimum(np.searchsorted(uniq, s), len(uniq) - 1)
        ok = (uniq[u] == s) & (k >= 0)   # a kept unit and a key of this level
        ok[ok] = reviewed[u[ok], c[ok]]
        values[k[ok], u[ok], c[ok]] = 1.0
    at = order[np.searchsorted(sorted_ids, uniq)] if len(uniq) else np.zeros(0, dtype=np.intp)
    transcripts = np.array([parts[i][1] for i in at.tolist()], dtype=object)
    numbers = np.array([parts[i][2] for i in at.tolist()], dtype=np.int64)
    from coder.reports.provenance import CodingRows

    return UnitMatrix(coders, keys, uniq, transcripts, numbers, values,
                      CodingRows(segments, codings))


def _ints(rows: list[tuple], width: int) -> np.ndarray:
    """Rows of integers → a (rows, width) int64 array."""
    if not rows:
        return np.zeros((0, width), dtype=np.int64)
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=len(rows) * width)
    return flat.reshape(len(rows), width)


def _only(sorted_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mask of ``values`` found in ``sorted_ids``."""
    if not len(sorted_ids):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_ids, values), len(sorted_ids) - 1)
    return sorted_ids[at] == values


def _fetch(conn, statement) -> list[tuple]:
    """Rows as plain tuples from the driver (:func:`coder.db.engine.fetch_all`): making
    SQLAlchemy Row objects of 10⁵ reviews and codings costs more than the queries (SPEC §10)."""
    return fetch_all(conn, statement)


def _positions(coder_ids: np.ndarray, ids: list[int]) -> np.ndarray:
    """Database coder ids → their column in the matrix (the order of ``ids``)."""
    out = np.zeros(len(coder_ids), dtype=np.int64)
    for column, cid in enumerate(ids):
        out[coder_ids == cid] = column
    return out


def unit_labels(conn, matrix: UnitMatrix, by: str) -> np.ndarray:
    """A label per unit: its transcript id (``by="transcript"``) or a transcript attribute."""
    if by == "transcript":
        return matrix.transcripts
    A = tables.attribute
    values = dict(conn.execute(select(A.c.transcript_id, A.c.value).where(A.c.name == by)).all())
    if not values:
        names = sorted(set(conn.execute(select(A.c.name)).scalars()))
        raise CoderError(f"no transcript has the attribute {by!r} — use transcript or one of: "
                         f"{', '.join(names) or '(no attributes imported)'}")
    return np.array([values.get(t) or "(none)" for t in matrix.transcripts], dtype=object)
