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

Vectorized — no loop over units, only over chunks of resamples to bound memory:

* few distinct units (binary codes with 3 coders give at most 9 kinds of unit): a resample is a
  multinomial draw of how often each kind occurs, and its sums are matrix products;
* interval data with many distinct values: a resample is the vector of how often each unit was
  drawn; D_o and D_e need only per-unit sums (Σ o δ², m, Σx, Σx²), so all is one product;
* otherwise unit indices are drawn, and the category totals of a chunk of resamples come from one
  ``bincount`` (cost resamples × units × coders).

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

_CELLS = 2_000_000  # array cells (resamples × units × coders) held in memory at once
_FEW_GROUPS = 64    # up to this many distinct units: draw a multinomial over them


def krippendorff_alpha_ci(data, level: str = "nominal", n_boot: int = 1000, ci: float = 0.95,
                          seed=None, categories=None) -> tuple[float, float]:
    """Percentile bootstrap interval (low, high) for :func:`krippendorff_alpha`.

    ``n_boot`` resamples of the pairable units (see the module docstring for the method and why);
    ``ci`` is the coverage (0.95 gives the 2.5th and 97.5th percentiles); ``seed`` makes the
    interval reproducible. Resamples whose α is undefined (no variation drawn) are left out.
    (NaN, NaN) when α itself is undefined.
    """
    if not 0.0 < float(ci) < 1.0:
        raise AgreementInputError(f"ci is a coverage between 0 and 1 (e.g. 0.95), got {ci!r}")
    kept = krippendorff_alpha_bootstrap(data, level, n_boot, seed=seed, categories=categories)
    if kept.size == 0:
        return (float("nan"), float("nan"))
    tail = (1.0 - float(ci)) / 2.0
    low, high = np.quantile(kept, [tail, 1.0 - tail])
    return (float(low), float(high))


def alpha_below(alphas: np.ndarray, minimum: float) -> float:
    """Krippendorff's q: the share of bootstrapped alphas below ``minimum``, the probability
    that the data's alpha fails to reach the minimum (Krippendorff 2019, §12.4.2); NaN when
    there are none."""
    alphas = np.asarray(alphas, dtype=float)
    return float(np.mean(alphas < minimum)) if alphas.size else float("nan")


def krippendorff_alpha_bootstrap(data, level: str = "nominal", n_boot: int = 1000, seed=None,
                                 categories=None) -> np.ndarray:
    """The bootstrap distribution of :func:`krippendorff_alpha`: the defined alphas of
    ``n_boot`` unit resamples (the method of the module docstring), empty when α itself is
    undefined. :func:`krippendorff_alpha_ci` takes its percentiles, :func:`alpha_below` the
    share under a minimum."""
    check_level(level)
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 1:
        raise AgreementInputError(f"n_boot is a positive whole number, got {n_boot!r}")
    enc = encode(data, categories)
    if level in ("interval", "ratio") and not enc.numeric:
        raise AgreementInputError(f"the {level} level needs numeric ratings, got text")
    if np.isnan(alpha_from_parts(*krippendorff_parts(enc, level))):
        return np.zeros(0)

    k = enc.k
    rated = (enc.codes < k).sum(axis=1)
    units = enc.codes[rated >= 2]
    m = rated[rated >= 2].astype(float)
    fixed = None if level == "ordinal" else \
        unit_disagreement(units, m, k, level, enc.scores, None)  # Σ_ck o_uck δ² per unit
    rng = np.random.default_rng(seed)
    groups = _distinct_units(units, k)
    if groups is not None and len(groups[0]) <= _FEW_GROUPS:
        resamples = _resample_groups(rng, n_boot, units, m, fixed, k, *groups)
    elif level == "interval":
        resamples = _resample_moments(rng, n_boot, units, m, fixed, k, enc.scores)
    else:
        resamples = _resample_units(rng, n_boot, units, m, fixed, k)
    alphas = np.concatenate([_alphas(level, enc.scores, *parts) for parts in resamples])
    return alphas[~np.isnan(alphas)]


def _distinct_units(units: np.ndarray, k: int):
    """(first index, frequency) of each distinct multiset of values, or None when the units'
    count rows do not fit a 64-bit key (many categories: then they are mostly distinct)."""
    _, n_coders = units.shape
    if k * np.log2(n_coders + 1) > 62:
        return None
    power = np.append((n_coders + 1) ** np.arange(k, dtype=np.int64), 0)
    key = power[units].sum(axis=1)
    _, first, freq = np.unique(key, return_index=True, return_counts=True)
    return first, freq


def _resample_groups(rng, n_boot, units, m, fixed, k, first, freq):
    """Few distinct units (binary codes: at most 9 with 3 coders): a resample is a multinomial
    draw of how often each distinct unit occurs; yields (category totals, Σ o δ²) per chunk."""
    n_units, n_coders = units.shape
    groups, m_g = units[first], m[first]
    flat = groups + (np.arange(len(first)) * (k + 1))[:, None]
    group_totals = np.bincount(flat.ravel(), minlength=len(first) * (k + 1))
    group_totals = group_totals.reshape(len(first), k + 1)[:, :k].astype(float)
    chunk = max(1, min(n_boot, _CELLS // (len(first) * n_coders)))
    for start in range(0, n_boot, chunk):  # chunks of resamples, bounded memory
        b = min(chunk, n_boot - start)
        draws = rng.multinomial(n_units, freq / n_units, size=b).astype(float)
        totals = draws @ group_totals
        if fixed is not None:
            observed = draws @ fixed[first]
        else:
            flat = groups[None, :, :] + (np.arange(b) * (k + 1))[:, None, None]
            observed = (draws * _ordinal_spread(totals, flat, m_g)).sum(axis=1)
        yield totals, observed


def _resample_units(rng, n_boot, units, m, fixed, k):
    """Many distinct units: draw unit indices; yields (category totals, Σ o δ²) per chunk."""
    n_units, n_coders = units.shape
    chunk = max(1, min(n_boot, _CELLS // (n_units * n_coders)))
    small = np.int32 if chunk * (k + 1) < 2**31 else np.int64  # halves the memory traffic
    units = units.astype(small)
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        drawn = rng.integers(0, n_units, size=(b, n_units), dtype=np.int32)
        flat = units[drawn]  # resamples × units × coders
        flat += (np.arange(b, dtype=small) * (k + 1))[:, None, None]
        totals = np.bincount(flat.ravel(), minlength=b * (k + 1)).reshape(b, k + 1)[:, :k]
        totals = totals.astype(float)
        if fixed is not None:
            observed = fixed[drawn].sum(axis=1)
        else:
            observed = _ordinal_spread(totals, flat, m[drawn]).sum(axis=1)
        yield totals, observed


def _ordinal_spread(totals, flat, m) -> np.ndarray:
    """Per resample and unit, Σ_ck o_uck δ²_ck = 2 (m_u Σ_j t_j² − (Σ_j t_j)²)/(m_u − 1) with
    the ordinal positions t of the resample's own totals. ``flat`` holds the units' codes offset
    by resample·(k + 1); a missing value (code k) has t = 0 and adds nothing."""
    b, k = totals.shape
    t = np.concatenate([ordinal_positions(totals), np.zeros((b, 1))], axis=1).ravel()[flat]
    ones = np.ones(flat.shape[-1])
    s1 = t.reshape(-1, len(ones)) @ ones  # sums over the (few) coders as a matrix product
    s2 = (t * t).reshape(-1, len(ones)) @ ones
    s1, s2 = s1.reshape(flat.shape[:-1]), s2.reshape(flat.shape[:-1])
    return 2.0 * (m * s2 - s1**2) / (m - 1.0)


def _resample_moments(rng, n_boot, units, m, fixed, k, scores):
    """Interval level, many distinct values: D_e needs only the resample's Σx and Σx² (about
    the data's mean, for precision), so a resample is the vector F of how often each unit was
    drawn and every sum is one product F @ (m, Σx, Σx², Σ o δ²) — no category totals."""
    n_units, _ = units.shape
    x = np.asarray(scores, dtype=float)
    x = np.append(x - x[units[units < k]].mean(), 0.0)[units]  # missing adds nothing
    per_unit = np.column_stack([m, x.sum(axis=1), (x**2).sum(axis=1), fixed])
    chunk = max(1, min(n_boot, _CELLS // n_units))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        drawn = rng.integers(0, n_units, size=(b, n_units))
        drawn += (np.arange(b) * n_units)[:, None]
        freq = np.bincount(drawn.ravel(), minlength=b * n_units).reshape(b, n_units)
        n, s1, s2, observed = (freq.astype(float) @ per_unit).T
        expected = 2.0 * (n * s2 - s1**2)  # = Σ_ck n_c n_k (x_c − x_k)²
        yield n, observed, expected, ~(expected > 1e-9 * n * s2)


def _alphas(level, scores, totals_or_n, observed, expected=None, undefined=None) -> np.ndarray:
    """α = 1 − (n − 1) Σ_u Σ_ck o_uck δ²_ck / Σ_ck n_c n_k δ²_ck for each resample, from its
    category totals (or, with ``expected`` given, from n)."""
    if expected is None:
        totals = totals_or_n
        n = totals.sum(axis=1)
        expected = expected_disagreement(level, scores, totals)
        undefined = (totals > 0).sum(axis=1) < 2  # no variation drawn
    else:
        n = totals_or_n
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected
    alpha[undefined | ~(expected > 0)] = np.nan
    return alpha
