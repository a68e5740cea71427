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


def key_stats(m: UnitMatrix, *, bootstrap: int = 0, seed: int | None = None,
              minimum: float = 0.667) -> dict:
    """Per key (theme or code): the SPEC §8 statistics, computed for all keys in one pass.

    Categories are the ones observed: when a key shows a single category (nobody applied it,
    or everybody everywhere), every chance-corrected statistic is undefined (null), not 1.0.
    Besides SPEC §8: ``prevalence``, the share of the pairable ratings that apply the key, and
    with ``bootstrap``, ``alpha_q``, the share of bootstrapped alphas below ``minimum``
    (Krippendorff's q: the probability that alpha fails to reach the minimum).
    """
    from coder.agreement import stats

    batch = stats.binary_stats_many(m.values) if m.keys else {}
    result = {}
    for i, key in enumerate(m.keys):
        v = m.values[i]
        entry = {name: _num(float(batch[name][i])) for name in STATS}
        alpha = entry["krippendorff_alpha"]
        entry["alpha_ci"] = None
        entry["alpha_q"] = None
        entry["n_units"] = int(batch["n_units"][i])
        entry["prevalence"] = _prevalence(v)
        entry["reason"] = None if alpha is not None else _reason(v, entry["n_units"])
        if bootstrap and alpha is not None:
            entry["alpha_ci"], entry["alpha_q"] = _bootstrap(v, bootstrap, seed, minimum)
        entry["pairs"] = _pairs(v, m.coders)
        result[key] = {k: entry[k] for k in (*STATS[:1], "alpha_ci", "alpha_q", *STATS[1:],
                                             "n_units", "prevalence", "reason", "pairs")}
    return result


def _bootstrap(v: np.ndarray, n_boot: int, seed, minimum: float):
    """([low, high], q) from one bootstrap distribution: the 95% percentile interval (as
    :func:`~coder.agreement.stats.krippendorff_alpha_ci`) and the share below ``minimum``."""
    from coder.agreement import stats

    alphas = stats.krippendorff_alpha_bootstrap(v, level="nominal", n_boot=n_boot, seed=seed)
    if alphas.size == 0:
        return None, None
    low, high = np.quantile(alphas, [0.025, 0.975])
    return [_num(float(low)), _num(float(high))], _num(stats.alpha_below(alphas, minimum))


def _prevalence(v: np.ndarray) -> float | None:
    """Share of the ratings on pairable units (two or more ratings) that apply the key."""
    rated = ~np.isnan(v)
    pairable = rated.sum(axis=1) >= 2
    ratings = v[pairable][rated[pairable]]
    return float(ratings.mean()) if ratings.size else None


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
                  seed: int | None = None, minimum: float = 0.667) -> dict:
    from coder.agreement import stats

    per_key = key_stats(m, bootstrap=bootstrap, seed=seed, minimum=minimum)
    pooled = m.values.reshape(-1, len(m.coders))  # every (key, unit) pair is a unit
    alphas = [s["krippendorff_alpha"] for s in per_key.values()
              if s["krippendorff_alpha"] is not None]
    pooled_alpha = stats.binary_alpha_many(pooled[None])[0] if m.n_units else math.nan
    overall = {
        "krippendorff_alpha": _num(float(pooled_alpha)),
        "alpha_ci": None,
        "alpha_q": None,
        "mean_alpha": _num(float(np.mean(alphas))) if alphas else None,
        "pairs": _pairs(pooled, m.coders),
    }
    if bootstrap and overall["krippendorff_alpha"] is not None:
        overall["alpha_ci"], overall["alpha_q"] = _bootstrap(pooled, bootstrap, seed, minimum)
    for pair in overall["pairs"].values():  # report units, not (unit, key) pairs
        pair["n"] //= max(len(m.keys), 1)
    reviewed = (~np.isnan(m.values[0])).sum(axis=0) if m.keys else np.zeros(len(m.coders))
    return {"coders": m.coders, "level": level, "units": m.n_units,
            "transcripts": len(set(m.transcripts.tolist())),
            "reviewed": {c: int(n) for c, n in zip(m.coders, reviewed)}, level: per_key,
            "overall": overall}


SMALL_GROUP = 20
"""A ``--by`` group with fewer units than this is flagged ``small``: its alpha rests on few
units and its interval is wide (Krippendorff 2019, §12.4.3, asks for far more for rare codes)."""


def agreement_report(conn, coders: list[str] | None = None, *, codes: bool = False,
                     by: str | None = None, bootstrap: int = 0, seed: int | None = 1,
                     minimum: float | None = None, provenance: bool = True) -> dict:
    """The full report; with ``by``, a ``groups`` entry holds the same report per group.

    ``minimum`` is the declared minimum alpha (``--min-alpha``); without it Krippendorff's
    .667 is the one q (``alpha_q``) is computed for. ``provenance`` adds where the report
    comes from (project hash, codebook version, coders, command line).
    """
    m = unit_matrix(conn, coders, codes=codes)
    level = "codes" if codes else "themes"
    floor = TENTATIVE if minimum is None else float(minimum)
    report = matrix_report(m, level=level, bootstrap=bootstrap, seed=seed, minimum=floor)
    report["minimum_alpha"] = floor
    report["minimum_declared"] = minimum is not None
    report["bootstrap"] = bootstrap
    report["seed"] = seed if bootstrap else None
    if by:
        labels = unit_labels(conn, m, by)
        report["by"] = by
        report["groups"] = {}
        for name, sub in m.groups(labels).items():
            g = matrix_report(sub, level=level, bootstrap=bootstrap, seed=seed, minimum=floor)
            report["groups"][name] = {"units": g["units"], "small": g["units"] < SMALL_GROUP,
                                      "reviewed": g["reviewed"], level: g[level],
                                      "overall": g["overall"]}
    if provenance:
        from coder.reports.provenance import make_provenance

        report["provenance"] = make_provenance(conn, ", ".join(m.coders), rows=m.rows).to_dict()
    return report


RELIABLE, TENTATIVE = 0.800, 0.667


def verdict(alpha: float | None, minimum: float | None = None) -> str:
    """Krippendorff's reading of an alpha (reliable ≥ .800, tentative ≥ .667, unreliable
    below), or against a declared ``minimum``: meets / below the minimum; undefined for None."""
    if alpha is None:
        return "undefined"
    if minimum is not None:
        return "meets the minimum" if alpha >= minimum else "below the minimum"
    return "reliable" if alpha >= RELIABLE else "tentative" if alpha >= TENTATIVE else \
        "unreliable"


def failing_keys(report: dict, min_alpha: float) -> list[str]:
    """Keys whose alpha is below ``min_alpha``. Undefined alphas (n/a) are not failures: a
    theme nobody applied says nothing about reliability; the renderer flags them instead."""
    per_key = report.get("themes") or report.get("codes") or {}
    return [k for k, s in per_key.items()
            if s["krippendorff_alpha"] is not None and s["krippendorff_alpha"] < min_alpha]


def failing_groups(report: dict, min_alpha: float) -> list[tuple[str, str, float]]:
    """(group, key, alpha) for every ``--by`` group's key whose alpha is below ``min_alpha``."""
    level = report["level"]
    return [(name, k, s["krippendorff_alpha"])
            for name, g in report.get("groups", {}).items() for k, s in g[level].items()
            if s["krippendorff_alpha"] is not None and s["krippendorff_alpha"] < min_alpha]


def gate_failures(report: dict, min_alpha: float) -> list[str]:
    """``key (alpha)`` and ``key in BY = GROUP (alpha)`` for every alpha below ``min_alpha``."""
    level = report["level"]
    failing = [f"{k} ({report[level][k]['krippendorff_alpha']:.3f})"
               for k in failing_keys(report, min_alpha)]
    return failing + [f"{k} in {report['by']} = {name} ({a:.3f})"
                      for name, k, a in failing_groups(report, min_alpha)]


def report_warnings(report: dict) -> list[str]:
    """What a reader must not miss: undefined alphas (overall and per group), small groups."""
    level = report["level"]
    out = []
    undefined = [k for k, s in report[level].items() if s["krippendorff_alpha"] is None]
    if undefined:
        out.append(f"alpha undefined (n/a) for {', '.join(undefined)}: "
                   + report[level][undefined[0]]["reason"])
    for name, g in report.get("groups", {}).items():
        missing = [k for k, s in g[level].items() if s["krippendorff_alpha"] is None]
        if missing:
            out.append(f"{report['by']} = {name}: alpha undefined (n/a) for "
                       f"{', '.join(missing)}: " + g[level][missing[0]]["reason"])
        if g.get("small"):
            out.append(f"{report['by']} = {name} is a small group ({g['units']} units): its "
                       "statistics can swing with one decision")
    return out
