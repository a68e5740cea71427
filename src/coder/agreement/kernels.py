"""Count kernels behind :mod:`coder.agreement.stats`.

Every statistic comes from a units × coders matrix of category codes (0…k−1, missing = k; see
:mod:`coder.agreement.encoding`) through small count tables:

* ``unit_counts``  (N × k): n_uc, how many coders put unit u in category c — one ``bincount``
  over ``u·(k+1) + code``, a single pass over the matrix;
* ``rater_counts`` (R × k): how many units coder g put in category c (Conger's kappa);
* Krippendorff's coincidence matrix o (k × k) from ``unit_counts`` by one matrix product.

When the values are many (k > 8R, e.g. interval data with decimals) an N × k table would dwarf
the data and the k × k product cost N·k², so alpha switches to a *pairs* kernel, O(N·R²): a loop
over the R(R−1)/2 coder pairs (never over units) summing δ² of the two values in each unit.

Hand-written rather than taken from a library because the libraries either turn missing values into
an extra category (statsmodels' ``aggregate_raters``), build units × coders × values boolean cubes
(``krippendorff``), or loop over units in Python (irrCAC ports); see SPEC §10 for the budget.
"""

from __future__ import annotations

import numpy as np

from coder.agreement.encoding import AgreementInputError, Encoded
from coder.agreement.weights import difference_matrix, expected_disagreement, pair_difference

_MAX_CELLS = 50_000_000    # beyond this, count-based (Gwet-family) statistics refuse
_PATTERN_BITS = 20         # count rows as base-(R+1) numbers while (R+1)^k <= 2^20


def unit_counts(enc: Encoded) -> np.ndarray:
    """N × k table n_uc: how many coders put unit u in category c (one ``bincount``)."""
    n_units, _ = enc.codes.shape
    k1 = enc.k + 1
    if n_units * k1 > _MAX_CELLS:
        raise AgreementInputError(
            f"{enc.k} distinct values are too many categories for this statistic — it is meant "
            "for categorical ratings; use krippendorff_alpha with level='interval' for scores")
    idx = enc.codes + (np.arange(n_units, dtype=np.intp) * k1)[:, None]
    counts = np.bincount(idx.ravel(), minlength=n_units * k1).reshape(n_units, k1)
    return counts[:, : enc.k]


def count_table(enc: Encoded) -> tuple[np.ndarray, np.ndarray]:
    """The N × k table n_uc as (distinct rows, how many units have each row).

    Every statistic here is a sum over units of a function of the unit's counts, so units with
    equal counts are computed once. With R coders and k categories a row is a number in base
    R + 1; when (R + 1)^k is small (binary codes: 16 with 3 coders) one ``bincount`` of those
    numbers gives the distinct rows, without an N × k table. Otherwise it is ``unit_counts``
    with frequency 1.
    """
    n_units, n_coders = enc.codes.shape
    k = enc.k
    base = n_coders + 1
    if k == 0 or n_units == 0:
        return np.zeros((0, k), dtype=np.int64), np.zeros(0)
    if k * np.log2(base) <= _PATTERN_BITS:
        power = np.append(base ** np.arange(k, dtype=np.int64), 0)  # missing adds nothing
        key = power[enc.codes[:, 0]]
        for j in range(1, n_coders):  # a loop over coders, not units
            key = key + power[enc.codes[:, j]]
        hist = np.bincount(key)
        keys = np.flatnonzero(hist)
        return (keys[:, None] // power[:k]) % base, hist[keys].astype(float)
    return unit_counts(enc), np.ones(n_units)


def rater_counts(enc: Encoded) -> np.ndarray:
    """R × k table: how many units coder g put in category c."""
    _, n_coders = enc.codes.shape
    k1 = enc.k + 1
    idx = enc.codes + (np.arange(n_coders, dtype=np.intp) * k1)[None, :]
    counts = np.bincount(idx.ravel(), minlength=n_coders * k1).reshape(n_coders, k1)
    return counts[:, : enc.k]


def coincidences(table: np.ndarray, freq: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Krippendorff's k × k coincidence matrix o_ck = Σ_u (n_uc n_uk − [c=k] n_uc)/(m_u − 1)
    over pairable units (m_u ≥ 2), and the exact totals n_c = Σ_k o_ck = Σ_u n_uc of those
    units; rows of ``table`` count ``freq`` times (default once)."""
    m = table.sum(axis=1)
    pairable = m >= 2
    c = table[pairable].astype(float)
    f = np.ones(len(c)) if freq is None else freq[pairable]
    cw = c * (f / (m[pairable] - 1.0))[:, None]
    o = cw.T @ c
    o[np.diag_indices_from(o)] -= cw.sum(axis=0)
    return o, f @ c


def krippendorff_parts(enc: Encoded, level: str) -> tuple[float, float, np.ndarray]:
    """(Σ_ck o_ck δ²_ck, Σ_ck n_c n_k δ²_ck, n_c) for alpha = 1 − (n − 1)·first/second."""
    _, n_coders = enc.codes.shape
    k1 = enc.k + 1
    if enc.k * np.log2(n_coders + 1) <= _PATTERN_BITS or k1 <= 8 * n_coders:
        o, n_c = coincidences(*count_table(enc))
        delta = difference_matrix(level, enc.scores, n_c)
        return float((o * delta).sum()), expected_disagreement(level, enc.scores, n_c), n_c
    codes = enc.codes
    m = (codes < enc.k).sum(axis=1)
    pairable = m >= 2
    codes = codes[pairable]
    n_c = np.bincount(codes.ravel(), minlength=k1)[: enc.k].astype(float)
    observed = unit_disagreement(codes, m[pairable], enc.k, level, enc.scores, n_c).sum()
    return float(observed), expected_disagreement(level, enc.scores, n_c), n_c


def unit_disagreement(codes: np.ndarray, m: np.ndarray, k: int, level: str, scores: np.ndarray,
                      n_c: np.ndarray) -> np.ndarray:
    """Per unit Σ_ck o_uck δ²_ck = Σ_{j≠l} δ²(v_j, v_l)/(m_u − 1) over its rated coders, for
    units with m_u ≥ 2; a loop over coder pairs, vectorized over units."""
    out = np.zeros(codes.shape[0])
    _, n_coders = codes.shape
    for j in range(n_coders):
        cj = codes[:, j]
        for l_ in range(j + 1, n_coders):
            cl = codes[:, l_]
            both = (cj < k) & (cl < k)
            out[both] += 2.0 * pair_difference(level, scores, n_c, cj[both], cl[both])
    return out / np.maximum(m - 1.0, 1.0)


def alpha_from_parts(observed: float, expected: float, n_c: np.ndarray) -> float:
    """α = 1 − (n − 1)·observed/expected, n = Σ n_c; NaN when fewer than two values are
    pairable or they all fall in one category (D_e = 0: no variation to agree on)."""
    n = float(np.sum(n_c))
    if n < 2 or np.count_nonzero(n_c) < 2 or not expected > 0:
        return float("nan")
    return float(1.0 - (n - 1.0) * observed / expected)


def gwet_agreement(table: np.ndarray, freq: np.ndarray, w: np.ndarray
                   ) -> tuple[float, np.ndarray]:
    """Gwet's weighted percent agreement and classification probabilities.

    p_a = (1/n₂) Σ_{i: r_i ≥ 2} Σ_k r_ik (r*_ik − 1) / (r_i (r_i − 1)),  r*_ik = Σ_l w_kl r_il
    π_k = (1/n₁) Σ_{i: r_i ≥ 1} r_ik / r_i
    (Gwet 2014, eqs. for multiple raters with missing ratings; irrCAC ``*.raw``.) Rows of
    ``table`` (units' counts r_ik) count ``freq`` times. p_a is NaN when no unit has two
    ratings; π is all zero when nothing was rated.
    """
    r = table.sum(axis=1).astype(float)
    c = table.astype(float)
    two = r >= 2
    if two.any():
        c2 = c[two]
        r2 = r[two]
        agree = (c2 * (c2 @ w.T - 1.0)).sum(axis=1) / (r2 * (r2 - 1.0))
        pa = float(agree @ freq[two] / freq[two].sum())
    else:
        pa = float("nan")
    one = r >= 1
    if not one.any():
        return pa, np.zeros(table.shape[1])
    pi = (freq[one] / r[one]) @ c[one] / freq[one].sum()
    return pa, pi


def chance_corrected(pa: float, pe: float) -> float:
    """(p_a − p_e)/(1 − p_e), NaN when undefined (p_a undefined or p_e = 1)."""
    if np.isnan(pa) or np.isnan(pe) or not (1.0 - pe) > 1e-12:
        return float("nan")
    return float((pa - pe) / (1.0 - pe))
