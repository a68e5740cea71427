"""Assembling units × coders matrices from a project (SPEC §6).

Units are participant segments. For each theme (or code with ``codes=True``) a coder's value
on a unit is 1 if they applied it (a sub-code counts for its theme), 0 if they reviewed the
unit without applying it, and missing (NaN) if they did not review it. Only units reviewed by at
least two of the selected coders enter the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

import numpy as np
from sqlalchemy import and_, select

from coder.coding.store import coder_id, code_keys
from coder.db import tables
from coder.errors import CoderError, NotFoundError


@dataclass
class UnitMatrix:
    """``values[k, u, c]``: coder ``c``'s 0/1/NaN value for key ``k`` on unit ``u``."""

    coders: list[str]
    keys: list[str]
    segment_ids: np.ndarray      # (units,) segment primary keys
    transcripts: np.ndarray      # (units,) transcript ids (object array)
    numbers: np.ndarray          # (units,) segment numbers n
    values: np.ndarray           # (keys, units, coders) float64

    @property
    def n_units(self) -> int:
        return len(self.segment_ids)

    def subset(self, mask: np.ndarray) -> "UnitMatrix":
        return UnitMatrix(self.coders, self.keys, self.segment_ids[mask], self.transcripts[mask],
                          self.numbers[mask], self.values[:, mask, :])

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
    # Whole columns go to NumPy: no Python work per review or coding (see _fetch).
    reviews = _fetch(conn, select(R.c.segment_id, R.c.coder_id, S.c.transcript_id, S.c.n)
                     .join(S, S.c.id == R.c.segment_id)
                     .where(and_(S.c.role == "participant", R.c.coder_id.in_(ids))))
    seg, cod, _tids, _ns = _columns(reviews, 4)
    cod = _positions(cod, ids)
    uniq, inverse = np.unique(seg, return_inverse=True)
    reviewed = np.zeros((len(uniq), len(ids)), dtype=bool)
    reviewed[inverse, cod] = True
    keep = reviewed.sum(axis=1) >= 2
    uniq, reviewed = uniq[keep], reviewed[keep]
    values = np.where(reviewed, 0.0, np.nan)[None, :, :].repeat(len(keys), axis=0)
    codings = _fetch(conn, select(K.c.segment_id, K.c.coder_id, K.c.code_key)
                     .where(K.c.coder_id.in_(ids)))
    if codings and len(uniq):
        s, c, raw = _columns(codings, 3)
        key_index = {k: i for i, k in enumerate(keys)}
        lookup = {key: key_index.get(key if codes else key.split(".", 1)[0], -1)
                  for key in set(raw)}
        k = np.fromiter(map(lookup.__getitem__, raw), dtype=np.int64, count=len(raw))
        c = _positions(c, ids)
        u = np.minimum(np.searchsorted(uniq, s), len(uniq) - 1)
        ok = (uniq[u] == s) & (k >= 0)   # a kept unit and a key of this level
        ok[ok] = reviewed[u[ok], c[ok]]
        values[k[ok], u[ok], c[ok]] = 1.0
    meta = {sid: (tid, n) for sid, _cid, tid, n in reviews}
    units = uniq.tolist()
    transcripts = np.array([meta[s][0] for s in units], dtype=object)
    numbers = np.array([meta[s][1] for s in units], dtype=np.int64)
    return UnitMatrix(coders, keys, uniq, transcripts, numbers, values)


def _fetch(conn, statement) -> list[tuple]:
    """Every row of a Core SELECT as plain tuples, through the driver's own cursor.

    A large project has hundreds of thousands of review and coding rows; making SQLAlchemy
    Row objects of them (and unpacking those) costs more than the query itself (SPEC §10:
    ``coder agreement`` on 50,000 segments × 3 coders × 20 codes in under 5 s). The
    statements here select integer and text columns, which no SQLAlchemy type converts, and
    their only values are coder ids and a fixed word, rendered inline.
    """
    sql = statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    cursor = conn.connection.cursor()  # the DBAPI connection of this transaction
    try:
        cursor.execute(str(sql))
        return cursor.fetchall()
    finally:
        cursor.close()


def _columns(rows: list[tuple], width: int) -> list:
    """Rows → ``width`` columns (not ``zip(*rows)``: ten times slower on 10⁵ rows); integer
    columns become int64 arrays, others lists."""
    if not rows:
        return [np.zeros(0, dtype=np.int64) for _ in range(width)]
    columns = [list(map(itemgetter(i), rows)) for i in range(width)]
    return [np.asarray(column, dtype=np.int64) if isinstance(column[0], int) else column
            for column in columns]


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
