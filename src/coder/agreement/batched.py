"""Batched statistics for binary (applied / not applied) codes: many codes in one pass.

``values`` is a codes × units × coders float array with entries 0, 1 or NaN (not reviewed), the
shape the database layer builds for SPEC §6. Per code c and unit u let m = number of ratings,
a = number of 1s, b = m − a. With only two categories every statistic reduces to sums of a, b
and m over units, so one vectorized pass over the array gives all codes at once. Each result
equals the scalar function of :mod:`coder.agreement.stats` on ``values[c]`` (tested).

Pool all (code, unit) pairs for an overall alpha with ``values.reshape(1, -1, n_coders)``.
"""

from __future__ import annotations

import numpy as np

from coder.agreement.encoding import AgreementInputError


def _binary_counts(values) -> tuple[np.ndarray, np.ndarray]:
    """(a, m): number of 1s and of ratings per code and unit, each codes × units."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 3:
        raise AgreementInputError(
            f"expected a codes × units × coders array (3 dimensions), got {v.ndim}")
    c, n, r = v.shape
    ones = np.zeros((c, n), dtype=np.int32)
    rated = np.zeros((c, n), dtype=np.int32)
    for j in range(r):  # a loop over the (few) coders, not the units
        col = v[..., j]
        is_one = col == 1.0
        ones += is_one
        rated += is_one
        rated += col == 0.0
    if int(rated.sum()) != v.size - int(np.isnan(v).sum()):
        raise AgreementInputError(
            "binary statistics need 0, 1 or NaN entries — use the scalar functions for other "
            "categories")
    return ones, rated


def _safe_div(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den != 0)


def _alpha(ones: np.ndarray, rated: np.ndarray) -> np.ndarray:
    pairable = rated >= 2
    a = np.where(pairable, ones, 0).astype(float)
    m = np.where(pairable, rated, 0).astype(float)
    b = m - a
    n = m.sum(axis=1)
    n1 = a.sum(axis=1)
    n0 = n - n1
    # Σ_{c≠k} o_ck = Σ_u 2 a_u b_u / (m_u − 1); Σ_{c≠k} n_c n_k = 2 n_0 n_1
    observed = (2.0 * a * b / np.maximum(m - 1.0, 1.0)).sum(axis=1)
    expected = 2.0 * n0 * n1
    alpha = 1.0 - (n - 1.0) * _safe_div(observed, expected)
    alpha[(n < 2) | ~(expected > 0)] = np.nan
    return alpha


def binary_alpha_many(values: np.ndarray) -> np.ndarray:
    """Krippendorff's nominal alpha of every code of a codes × units × coders 0/1/NaN array.

    With a_u ones and b_u zeros among the m_u ≥ 2 ratings of unit u, n_1 = Σ a_u, n_0 = Σ b_u,
    n = n_0 + n_1 (pairable units only)::

        α = 1 − (n − 1) Σ_u [2 a_u b_u / (m_u − 1)] / (2 n_0 n_1)

    (Krippendorff 2011, the coincidence matrix of binary data). NaN where undefined.
    """
    ones, rated = _binary_counts(values)
    return _alpha(ones, rated)


def binary_stats_many(values: np.ndarray, categories=None) -> dict[str, np.ndarray]:
    """Alpha, Fleiss' kappa, Gwet's AC1, Brennan-Prediger and percent agreement of every code.

    Returns a dict of arrays (one value per code): ``krippendorff_alpha``, ``fleiss_kappa``,
    ``gwet_ac1``, ``brennan_prediger``, ``percent_agreement`` and ``n_units`` (units rated by
    at least two coders). Formulas as in :mod:`coder.agreement.stats`, for two categories::

        p_a = mean_{m ≥ 2} [a(a − 1) + b(b − 1)] / (m(m − 1))
        π_1 = mean_{m ≥ 1} a/m,  π_0 = 1 − π_1
        Fleiss p_e = π_0² + π_1²,  AC1 p_e = 2 π_0 π_1 / (q − 1),  BP p_e = 1/q

    q is the number of categories observed in the code (as the scalar functions do by default);
    ``categories=(0, 1)`` declares both, as ``categories=[0, 1]`` does for the scalar functions.
    """
    if categories is not None and sorted(float(c) for c in categories) != [0.0, 1.0]:
        raise AgreementInputError("binary statistics take categories=(0, 1) or None")
    ones, rated = _binary_counts(values)
    a = ones.astype(float)
    m = rated.astype(float)
    b = m - a
    two = rated >= 2
    n_units = two.sum(axis=1)
    pair_agree = np.where(two, (a * (a - 1.0) + b * (b - 1.0)) / np.maximum(m * (m - 1.0), 1.0),
                          0.0)
    pa = _safe_div(pair_agree.sum(axis=1), n_units)
    one = rated >= 1
    pi1 = _safe_div(np.where(one, a / np.maximum(m, 1.0), 0.0).sum(axis=1), one.sum(axis=1))
    pi0 = 1.0 - pi1
    if categories is None:
        q = (a.sum(axis=1) > 0).astype(int) + (b.sum(axis=1) > 0)
    else:
        q = np.full(len(pa), 2)

    def corrected(pe):
        out = _safe_div(pa - pe, 1.0 - pe)
        out[~((1.0 - pe) > 1e-12) | np.isnan(pa)] = np.nan
        return out

    q2 = q == 2
    fleiss = corrected(pi0**2 + pi1**2)
    ac1 = corrected(np.where(q2, 2.0 * pi0 * pi1, 1.0))
    bp = corrected(np.where(q2, 0.5, 1.0))
    if categories is None:
        fleiss[~q2] = np.nan  # a single observed category: p_e = 1 (guard against rounding)
    return {
        "krippendorff_alpha": _alpha(ones, rated),
        "fleiss_kappa": fleiss,
        "gwet_ac1": ac1,
        "brennan_prediger": bp,
        "percent_agreement": pa,
        "n_units": n_units,
    }
