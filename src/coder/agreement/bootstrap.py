"""Bootstrap confidence interval for Krippendorff's alpha.

Method: a **unit-level (cluster) bootstrap** with a percentile interval. Each resample draws the
pairable units (m_u ≥ 2) with replacement and recomputes α completely — D_o *and* D_e, and for
the ordinal metric the difference function, which depends on the category totals.

Why not the resampling of Hayes & Krippendorff's KALPHA macro [1, 2]: KALPHA draws pairs of
values independently from the pooled coincidence matrix and keeps D_e fixed. That treats the
pairs inside one unit as independent although they share the unit's values, and ignores the
variation of D_e; Hughes [3] shows that the resulting intervals miss their nominal coverage.
Resampling whole units respects the design — units are what the study sampled, coders rate
them jointly — and is the standard nonparametric bootstrap for clustered data.

Vectorized: units with the same category counts contribute the same coincidences, so a resample
is described by how many times each distinct count *pattern* was drawn (a multinomial draw over
patterns, or a draw of unit indices when patterns are many). α of every resample then follows
from a matrix product of those pattern frequencies with per-pattern sums; there is no loop over
units, only over chunks of resamples to bound memory.

References
----------
1. Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability
   measure for coding data. *Communication Methods and Measures* 1, 77–89.
2. Krippendorff, K. (2006, rev. 2011). Algorithm for bootstrapping a distribution of α.
   http://www.afhayes.com/public/alphaboot.pdf
3. Hughes, J. (2022). Toward improved inference for Krippendorff's alpha agreement coefficient.
   arXiv:2210.13265.
4. Efron, B., & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, ch. 13
   (percentile intervals). Chapman & Hall.
"""

from __future__ import annotations

import numpy as np

from coder.agreement.encoding import AgreementInputError, encode
from coder.agreement.kernels import alpha_from_parts, krippendorff_parts, unit_disagreement
from coder.agreement.weights import check_level, expected_disagreement, ordinal_positions

_CELLS = 4_000_000  # array cells (resamples × groups × coders) held in memory at once
_FEW_GROUPS = 64    # up to this many distinct units: draw a multinomial over them


def krippendorff_alpha_ci(data, level: str = "nominal", n_boot: int = 1000, ci: float = 0.95,
                          seed=None) -> tuple[float, float]:
    """Percentile bootstrap interval (low, high) for :func:`krippendorff_alpha`.

    ``n_boot`` resamples of the pairable units (see the module docstring for the method and why);
    ``ci`` is the coverage (0.95 gives the 2.5th and 97.5th percentiles); ``seed`` makes the
    interval reproducible. Resamples whose α is undefined (no variation drawn) are left out.
    (NaN, NaN) when α itself is undefined.
    """
    check_level(level)
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 1:
        raise AgreementInputError(f"n_boot is a positive whole number, got {n_boot!r}")
    if not 0.0 < float(ci) < 1.0:
        raise AgreementInputError(f"ci is a coverage between 0 and 1 (e.g. 0.95), got {ci!r}")
    enc = encode(data)
    if level in ("interval", "ratio") and not enc.numeric:
        raise AgreementInputError(f"the {level} level needs numeric ratings, got text")
    if np.isnan(alpha_from_parts(*krippendorff_parts(enc, level))):
        return (float("nan"), float("nan"))

    k = enc.k
    rated = (enc.codes < k).sum(axis=1)
    units = np.sort(enc.codes[rated >= 2], axis=1)  # a unit is its multiset of values
    groups, inverse, freq = np.unique(units, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    n_units, n_coders = units.shape
    n_groups = groups.shape[0]
    m = (groups < k).sum(axis=1).astype(float)
    fixed = None if level == "ordinal" else \
        unit_disagreement(groups, m, k, level, enc.scores, None)
    group_totals = None
    if n_groups * (k + 1) <= _CELLS:
        flat = groups + (np.arange(n_groups) * (k + 1))[:, None]
        group_totals = np.bincount(flat.ravel(), minlength=n_groups * (k + 1))
        group_totals = group_totals.reshape(n_groups, k + 1)[:, :k].astype(float)

    rng = np.random.default_rng(seed)
    few = n_groups <= _FEW_GROUPS
    per_resample = n_groups * n_coders + (0 if few else n_units)
    chunk = max(1, min(n_boot, _CELLS // per_resample))
    alphas = np.empty(n_boot)
    for start in range(0, n_boot, chunk):  # chunks of resamples, bounded memory
        b = min(chunk, n_boot - start)
        if few:
            draws = rng.multinomial(n_units, freq / n_units, size=b)
        else:
            picked = inverse[rng.integers(0, n_units, size=(b, n_units))]
            picked += (np.arange(b) * n_groups)[:, None]
            draws = np.bincount(picked.ravel(), minlength=b * n_groups).reshape(b, n_groups)
        alphas[start:start + b] = _resampled_alpha(draws.astype(float), groups, m, k, level,
                                                   enc.scores, fixed, group_totals)
    kept = alphas[~np.isnan(alphas)]
    if kept.size == 0:
        return (float("nan"), float("nan"))
    tail = (1.0 - float(ci)) / 2.0
    low, high = np.quantile(kept, [tail, 1.0 - tail])
    return (float(low), float(high))


def _resampled_alpha(draws, groups, m, k, level, scores, fixed, group_totals) -> np.ndarray:
    """α of each resample; row b of ``draws`` says how often each distinct unit was drawn.

    α = 1 − (n − 1) Σ_u Σ_ck o_uck δ²_ck / Σ_ck n_c n_k δ²_ck. For the ordinal metric
    δ²_ck = (t_k − t_c)² with t from the resample's own totals, and per unit
    Σ_ck o_uck δ²_ck = 2 m_u Σ_j (t_j − t̄_u)² / (m_u − 1) over its m_u values.
    """
    b = draws.shape[0]
    if group_totals is not None:
        totals = draws @ group_totals  # resamples × k
    else:
        flat = groups[None, :, :] + (np.arange(b) * (k + 1))[:, None, None]
        weights = np.broadcast_to(draws[:, :, None], flat.shape)
        totals = np.bincount(flat.ravel(), weights=weights.ravel(), minlength=b * (k + 1))
        totals = totals.reshape(b, k + 1)[:, :k]
    n = totals.sum(axis=1)
    if fixed is not None:
        observed = draws @ fixed
    else:
        t = np.concatenate([ordinal_positions(totals), np.zeros((b, 1))], axis=1)
        values = t[np.arange(b)[:, None, None], groups[None, :, :]]  # resamples × units × coders
        present = groups < k
        mean = values.sum(axis=2) / m
        spread = (((values - mean[:, :, None]) * present) ** 2).sum(axis=2)
        observed = (draws * (2.0 * m * spread / (m - 1.0))).sum(axis=1)
    expected = expected_disagreement(level, scores, totals)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected
    alpha[((totals > 0).sum(axis=1) < 2) | ~(expected > 0)] = np.nan  # no variation drawn
    return alpha
