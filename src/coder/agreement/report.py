"""The agreement report (SPEC §8 JSON shape): per theme or code, pairwise, overall, by group.

Built from a :class:`~coder.agreement.units.UnitMatrix`; statistics come from the pure kernels
in :mod:`coder.agreement.stats`. Values stay full precision here; renderers round.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np

from coder.agreement.units import UnitMatrix, unit_labels, unit_matrix

BINARY = [0.0, 1.0]  # every theme is a present/absent judgement: both categories are declared


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def key_stats(v: np.ndarray, coders: list[str], *, bootstrap: int = 0,
              seed: int | None = None) -> dict:
    """Statistics of one key: ``v`` is units × coders with 0/1/NaN."""
    from coder.agreement import stats

    n_units = int((np.sum(~np.isnan(v), axis=1) >= 2).sum())
    alpha = stats.krippendorff_alpha(v, level="nominal") if n_units else math.nan
    result = {
        "krippendorff_alpha": _num(alpha),
        "alpha_ci": None,
        "fleiss_kappa": _num(stats.fleiss_kappa(v) if n_units else math.nan),
        "gwet_ac1": _num(stats.gwet_ac1(v, categories=BINARY) if n_units else math.nan),
        "brennan_prediger": _num(stats.brennan_prediger(v, categories=BINARY)
                                 if n_units else math.nan),
        "percent_agreement": _num(stats.percent_agreement(v) if n_units else math.nan),
        "n_units": n_units,
        "reason": None if not math.isnan(alpha) else _reason(v, n_units),
        "pairs": {},
    }
    if bootstrap and not math.isnan(alpha):
        low, high = stats.krippendorff_alpha_ci(v, level="nominal", n_boot=bootstrap, seed=seed)
        result["alpha_ci"] = [_num(low), _num(high)]
    for a, b in combinations(range(len(coders)), 2):
        both = ~np.isnan(v[:, a]) & ~np.isnan(v[:, b])
        pair = v[both][:, [a, b]]
        n = int(both.sum())
        result["pairs"][f"{coders[a]}~{coders[b]}"] = {
            "n": n,
            "cohen_kappa": _num(stats.cohen_kappa(pair) if n else math.nan),
            "percent_agreement": _num(stats.percent_agreement(pair) if n else math.nan),
        }
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

    per_key = {key: key_stats(m.values[i], m.coders, bootstrap=bootstrap, seed=seed)
               for i, key in enumerate(m.keys)}
    pooled = m.values.reshape(-1, len(m.coders))  # every (key, unit) pair is a unit
    alphas = [s["krippendorff_alpha"] for s in per_key.values()
              if s["krippendorff_alpha"] is not None]
    overall = {
        "krippendorff_alpha": _num(stats.krippendorff_alpha(pooled, level="nominal")
                                   if m.n_units else math.nan),
        "mean_alpha": _num(float(np.mean(alphas))) if alphas else None,
        "pairs": {},
    }
    for a, b in combinations(range(len(m.coders)), 2):
        both = ~np.isnan(pooled[:, a]) & ~np.isnan(pooled[:, b])
        pair = pooled[both][:, [a, b]]
        overall["pairs"][f"{m.coders[a]}~{m.coders[b]}"] = {
            "n": int(both.sum()) // max(len(m.keys), 1),
            "cohen_kappa": _num(stats.cohen_kappa(pair) if len(pair) else math.nan),
            "percent_agreement": _num(stats.percent_agreement(pair) if len(pair) else math.nan),
        }
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
