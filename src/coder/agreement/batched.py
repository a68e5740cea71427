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


def _unit_histogram(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How many units of each code have a ones and b zeros: (H, a, b).

    H is codes × (R+1)² with cell a·(R+1) + b; ``a`` and ``b`` give each cell's counts. Built
    with two comparisons over the array, a sum over the (few) coders and one ``bincount``.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 3:
        raise AgreementInputError(
            f"expected a codes × units × coders array (3 dimensions), got {v.ndim}")
    n_codes, n_units, n_coders = v.shape
    base = n_coders + 1
    cells = base * base
    small = np.int8 if cells <= 127 else np.int16 if cells <= 32767 else np.int64
    one = (v == 1.0).astype(small)
    one *= base
    one += v == 0.0  # per rating: base for a 1, 1 for a 0, 0 for missing
    cell = np.zeros((n_codes, n_units), dtype=np.int64)
    for j in range(n_coders):  # a loop over the coders, not the units
        cell += one[..., j]
    cell += (np.arange(n_codes, dtype=np.int64) * cells)[:, None]
    hist = np.bincount(cell.ravel(), minlength=n_codes * cells).reshape(n_codes, cells)
    a, b = np.divmod(np.arange(cells), base)
    rated = hist @ (a + b)
    if int(rated.sum()) != v.size - int(np.count_nonzero(np.isnan(v))):
        raise AgreementInputError(
            "binary statistics need 0, 1 or NaN entries — use the scalar functions for other "
            "categories")
    return hist.astype(float), a.astype(float), b.astype(float)


def _safe_div(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den != 0)


def _alpha(hist: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    m = a + b
    pairable = m >= 2
    n = hist @ np.where(pairable, m, 0.0)
    n1 = hist @ np.where(pairable, a, 0.0)
    n0 = n - n1
    # Σ_{c≠k} o_ck = Σ_u 2 a_u b_u / (m_u − 1); Σ_{c≠k} n_c n_k = 2 n_0 n_1
    observed = hist @ np.where(pairable, 2.0 * a * b / np.maximum(m - 1.0, 1.0), 0.0)
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
    return _alpha(*_unit_histogram(values))


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
    hist, a, b = _unit_histogram(values)
    m = a + b
    two = m >= 2
    n_units = hist @ two
    pa = _safe_div(hist @ np.where(two, (a * (a - 1.0) + b * (b - 1.0))
                                   / np.maximum(m * (m - 1.0), 1.0), 0.0), n_units)
    rated = m >= 1
    pi1 = _safe_div(hist @ np.where(rated, a / np.maximum(m, 1.0), 0.0), hist @ rated)
    pi0 = 1.0 - pi1
    if categories is None:
        q = (hist @ a > 0).astype(int) + (hist @ b > 0)
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
        "krippendorff_alpha": _alpha(hist, a, b),
        "fleiss_kappa": fleiss,
        "gwet_ac1": ac1,
        "brennan_prediger": bp,
        "percent_agreement": pa,
        "n_units": n_units.astype(np.int64),
    }
