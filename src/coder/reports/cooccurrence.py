"""Co-occurrence of themes (or codes) on segments (``coder report cooccurrence``).

Over the coder's reviewed participant segments, for keys ``a`` and ``b``::

    n_ab       = segments coded with both a and b      (n_aa = segments coded a)
    jaccard_ab = n_ab / (n_a + n_b - n_ab)              (Jaccard 1901; None when no segment
                                                         has a or b)

At theme level a sub-code counts for its theme. At code level (``codes=True``) keys are the
codes exactly as applied (a bare theme is its own key), and codes the coder never applied are
left out, so that a parent and its sub-code do not co-occur by construction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

from coder.reports.data import connection, keys_for, load_codings
from coder.reports.provenance import Provenance, make_provenance

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass
class CooccurrenceTable:
    """``counts[i][j]`` = n_ab and ``jaccard[i][j]`` for ``keys[i]``, ``keys[j]``; ``segments``
    is the number of segments in the base."""

    coder: str
    level: str
    keys: list[str]
    labels: dict[str, str]
    segments: int
    counts: list[list[int]]
    jaccard: list[list[float | None]]
    provenance: Provenance

    def to_frame(self, kind: str = "counts") -> "pd.DataFrame":
        """The ``counts`` (Int64) or ``jaccard`` (Float64) matrix, keys × keys."""
        import pandas as pd

        if kind not in ("counts", "jaccard"):
            raise ValueError("kind must be 'counts' or 'jaccard'")
        matrix = self.counts if kind == "counts" else [
            [pd.NA if v is None else v for v in row] for row in self.jaccard]
        index = pd.Index(self.keys, name=self.level[:-1])
        return pd.DataFrame(matrix, index=index, columns=list(self.keys)).astype(
            "Int64" if kind == "counts" else "Float64")

    def to_json_dict(self, *, provenance: bool = True) -> dict[str, Any]:
        """``{"coder", "level", "segments", "keys", "counts": {a: {b: n}}, "jaccard": {a: {b:
        x|null}}}`` plus ``provenance``."""
        data: dict[str, Any] = {
            "coder": self.coder, "level": self.level, "segments": self.segments,
            "keys": list(self.keys),
            "counts": {a: dict(zip(self.keys, row)) for a, row in zip(self.keys, self.counts)},
            "jaccard": {a: dict(zip(self.keys, row)) for a, row in zip(self.keys, self.jaccard)}}
        if provenance:
            data["provenance"] = self.provenance.to_dict()
        return data


def cooccurrence(source: Any, *, coder: str | None = None, codes: bool = False,
                 command: str | None = None) -> CooccurrenceTable:
    """Theme × theme (``codes=True``: code × code) co-occurrence counts and Jaccard indices."""
    with connection(source) as conn:
        data = load_codings(conn, coder, with_text=False)
        provenance = make_provenance(conn, data.coder_label, command)
    codebook = data.codebook
    if codes:
        applied = set().union(*(s.codes for s in data.segments)) if data.segments else set()
        keys = [c.key for c in codebook.codes if c.key in applied]
    else:
        keys = [c.key for c in codebook.codes if c.parent is None]
    key_set = set(keys)
    pair: Counter[tuple[str, str]] = Counter()
    for seg in data.segments:
        found = sorted(seg.codes & key_set if codes else keys_for(seg.codes, key_set, False))
        for k in found:
            pair[(k, k)] += 1
        for a, b in combinations(found, 2):
            pair[(a, b)] += 1
            pair[(b, a)] += 1
    counts = [[pair[(a, b)] for b in keys] for a in keys]
    jaccard: list[list[float | None]] = []
    for a in keys:
        row: list[float | None] = []
        for b in keys:
            union = pair[(a, a)] + pair[(b, b)] - pair[(a, b)]
            row.append(pair[(a, b)] / union if union else None)
        jaccard.append(row)
    labels = {c.key: c.label for c in codebook.codes}
    return CooccurrenceTable(data.coder, "codes" if codes else "themes", keys, labels,
                             len(data.segments), counts, jaccard, provenance)
