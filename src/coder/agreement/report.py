"""The agreement report (SPEC §8 JSON shape): per theme or code, pairwise, overall, by group.

Built from a :class:`~coder.agreement.units.UnitMatrix`; statistics come from the pure kernels
in :mod:`coder.agreement.stats`. Values stay full precision here; renderers round.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np

from coder.agreement.units import UnitMatrix, unit_labels, unit_matrix

STATS = ("krippendorff_alpha", "fleiss_kappa", "gwet_ac1", "brennan_prediger",
         "percent_agreement")


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _pairs(v: np.ndarray, coders: list[str]) -> dict:
    """Cohen's kappa and percent agreement of every pair on the units both reviewed."""
    from coder.agreement import stats

    pairs = {}
    for a, b in combinations(range(len(coders)), 2):
        both = ~np.isnan(v[:, a]) & ~np.isnan(v[:, b])
        x, y = v[both, a], v[both, b]
        n = len(x)
        table = _binary_pair_table(x, y) if n else None
        if table is not None:  # 0/1 ratings: the 2 × 2 counts, no encoding needed
            p, w, same = table
            kappa = stats.kappa_from_table(p, w, n)
            agree = same / n
        elif n:
            pair = np.stack([x, y], axis=1)
            kappa = stats.cohen_kappa(pair)
            agree = float(np.mean(x == y))
        pairs[f"{coders[a]}~{coders[b]}"] = {
            "n": n,
            "cohen_kappa": _num(kappa) if n else None,
            "percent_agreement": _num(agree) if n else None,
        }
    return pairs


def _binary_pair_table(x: np.ndarray, y: np.ndarray):
    """For two coders' 0/1 ratings of the same units: the proportions and identity weights
    :func:`coder.agreement.stats.cohen_kappa` builds (categories = the values observed) and
    how many units they agree on, from one ``bincount``; None when a rating is not 0 or 1."""
    from coder.agreement.weights import weight_matrix

    if not (((x == 0.0) | (x == 1.0)).all() and ((y == 0.0) | (y == 1.0)).all()):
        return None
    counts = np.bincount((x * 2.0 + y).astype(np.intp), minlength=4)
    observed = [bool(counts[0] + counts[1] + counts[2]), bool(counts[1] + counts[2] + counts[3])]
    if all(observed):
        table, scores = counts.reshape(2, 2), np.array([0.0, 1.0])
    else:
        table, scores = np.array([[len(x)]]), np.array([1.0 if observed[1] else 0.0])
    return table / max(len(x), 1), weight_matrix("identity", scores), int(counts[0] + counts[3])


def key_stats(m: UnitMatrix, *, bootstrap: int = 0, seed: int | None = None) -> dict:
    """Per key (theme or code): the SPEC §8 statistics, computed for all keys in one pass.

    Categories are the ones observed: when a key shows a single category (nobody applied it,
    or everybody everywhere), every chance-corrected statistic is undefined (null), not 1.0.
    """
    from coder.agreement import stats

    batch = stats.binary_stats_many(m.values) if m.keys else {}
    result = {}
    for i, key in enumerate(m.keys):
        v = m.values[i]
        entry = {name: _num(float(batch[name][i])) for name in STATS}
        alpha = entry["krippendorff_alpha"]
        entry["alpha_ci"] = None
        entry["n_units"] = int(batch["n_units"][i])
        entry["reason"] = None if alpha is not None else _reason(v, entry["n_units"])
        if bootstrap and alpha is not None:
            low, high = stats.krippendorff_alpha_ci(v, level="nominal", n_boot=bootstrap,
                                                    seed=seed)
            entry["alpha_ci"] = [_num(low), _num(high)]
        entry["pairs"] = _pairs(v, m.coders)
        result[key] = {k: entry[k] for k in (*STATS[:1], "alpha_ci", *STATS[1:], "n_units",
                                             "reason", "pairs")}
    return result


def _reason(v: np.ndarray, n_units: int) -> str:
    if n_units == 0:
        return "no unit was reviewed by two or more of these coders"
    observed = v[~np.isnan(v)]
    if not observed.any():
        return "no coder applied it: with a single category, chance-corrected agreement is undefined"
    if observed.all():
        return "every coder applied it everywhere: with a single category, chance-corrected " \
               "agreement is undefined"
    return "undefined: no pairable variation"


def matrix_report(m: UnitMatrix, *, level: str, bootstrap: int = 0,
                  seed: int | None = None) -> dict:
    from coder.agreement import stats

    per_key = key_stats(m, bootstrap=bootstrap, seed=seed)
    pooled = m.values.reshape(-1, len(m.coders))  # every (key, unit) pair is a unit
    alphas = [s["krippendorff_alpha"] for s in per_key.values()
              if s["krippendorff_alpha"] is not None]
    pooled_alpha = stats.binary_alpha_many(pooled[None])[0] if m.n_units else math.nan
    overall = {
        "krippendorff_alpha": _num(float(pooled_alpha)),
        "mean_alpha": _num(float(np.mean(alphas))) if alphas else None,
        "pairs": _pairs(pooled, m.coders),
    }
    for pair in overall["pairs"].values():  # report units, not (unit, key) pairs
        pair["n"] //= max(len(m.keys), 1)
    return {"coders": m.coders, "level": level, "units": m.n_units, level: per_key,
            "overall": overall}


def agreement_report(conn, coders: list[str] | None = None, *, codes: bool = False,
                     by: str | None = None, bootstrap: int = 0, seed: int | None = 1) -> dict:
    """The full report; with ``by``, a ``groups`` entry holds the same report per group."""
    m = unit_matrix(conn, coders, codes=codes)
    level = "codes" if codes else "themes"
    report = matrix_report(m, level=level, bootstrap=bootstrap, seed=seed)
    if by:
        labels = unit_labels(conn, m, by)
        report["by"] = by
        report["groups"] = {}
        for name, sub in m.groups(labels).items():
            g = matrix_report(sub, level=level, bootstrap=bootstrap, seed=seed)
            report["groups"][name] = {"units": g["units"], level: g[level],
                                      "overall": g["overall"]}
    return report


def failing_keys(report: dict, min_alpha: float) -> list[str]:
    """Keys whose alpha is below ``min_alpha``. Undefined alphas (n/a) are not failures: a
    theme nobody applied says nothing about reliability; the renderer flags them instead."""
    per_key = report.get("themes") or report.get("codes") or {}
    return [k for k, s in per_key.items()
            if s["krippendorff_alpha"] is not None and s["krippendorff_alpha"] < min_alpha]
