"""Assembling units × coders matrices from a project (SPEC §6).

Units are participant segments. For each theme (or code with ``codes=True``) a coder's value
on a unit is 1 if they applied it (a sub-code counts for its theme), 0 if they reviewed the
unit without applying it, and missing (NaN) if they did not review it. Only units reviewed by at
least two of the selected coders enter the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, select

from coder.coding.store import coder_id, code_keys
from coder.db.models import Attribute, Coder, Coding, Review, Segment
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
    C = Coder.__table__
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
    col = {cid: i for i, cid in enumerate(ids)}
    R, S, K = Review.__table__, Segment.__table__, Coding.__table__
    rows = conn.execute(
        select(R.c.segment_id, R.c.coder_id)
        .join(S, S.c.id == R.c.segment_id)
        .where(and_(S.c.role == "participant", R.c.coder_id.in_(ids)))).all()
    if rows:
        seg = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        cod = np.fromiter((col[r[1]] for r in rows), dtype=np.int64, count=len(rows))
    else:
        seg = cod = np.zeros(0, dtype=np.int64)
    uniq, inverse = np.unique(seg, return_inverse=True)
    reviewed = np.zeros((len(uniq), len(ids)), dtype=bool)
    reviewed[inverse, cod] = True
    keep = reviewed.sum(axis=1) >= 2
    uniq, reviewed = uniq[keep], reviewed[keep]
    values = np.where(reviewed, 0.0, np.nan)[None, :, :].repeat(len(keys), axis=0)
    key_index = {k: i for i, k in enumerate(keys)}
    pos = {int(s): i for i, s in enumerate(uniq)}
    for sid, cid, key in conn.execute(
            select(K.c.segment_id, K.c.coder_id, K.c.code_key).where(K.c.coder_id.in_(ids))):
        u = pos.get(sid)
        k = key_index.get(key if codes else key.split(".", 1)[0])
        if u is not None and k is not None and reviewed[u, col[cid]]:
            values[k, u, col[cid]] = 1.0
    meta = {}
    for chunk_start in range(0, len(uniq), 5000):
        chunk = [int(x) for x in uniq[chunk_start:chunk_start + 5000]]
        for sid, tid, n in conn.execute(select(S.c.id, S.c.transcript_id, S.c.n)
                                        .where(S.c.id.in_(chunk))):
            meta[sid] = (tid, n)
    transcripts = np.array([meta[int(s)][0] for s in uniq], dtype=object)
    numbers = np.array([meta[int(s)][1] for s in uniq], dtype=np.int64)
    return UnitMatrix(coders, keys, uniq, transcripts, numbers, values)


def unit_labels(conn, matrix: UnitMatrix, by: str) -> np.ndarray:
    """A label per unit: its transcript id (``by="transcript"``) or a transcript attribute."""
    if by == "transcript":
        return matrix.transcripts
    A = Attribute.__table__
    values = dict(conn.execute(select(A.c.transcript_id, A.c.value).where(A.c.name == by)).all())
    if not values:
        names = sorted(set(conn.execute(select(A.c.name)).scalars()))
        raise CoderError(f"no transcript has the attribute {by!r} — use transcript or one of: "
                         f"{', '.join(names) or '(no attributes imported)'}")
    return np.array([values.get(t) or "(none)" for t in matrix.transcripts], dtype=object)
