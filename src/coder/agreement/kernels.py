"""Count kernels behind :mod:`coder.agreement.stats`.

Every statistic comes from a units × coders matrix of category codes (0…k−1, missing = k; see
:mod:`coder.agreement.encoding`) through small count tables:

* ``unit_counts``  (N × k): n_uc, how many coders put unit u in category c — one ``bincount``
  over ``u·(k+1) + code``, a single pass over the matrix;
* ``rater_counts`` (R × k): how many units coder g put in category c (Conger's kappa);
* Krippendorff's coincidence matrix o (k × k) from ``unit_counts`` by one matrix product.

When the values are many (k large compared with the coders, e.g. interval data with decimals) an
N × k table would dwarf the data, so alpha switches to a *pairs* kernel: a loop over the
R(R−1)/2 coder pairs (never over units) summing δ² of the two values in each unit.

Hand-written rather than taken from a library because the libraries either turn missing values into
an extra category (statsmodels' ``aggregate_raters``), build units × coders × values boolean cubes
(``krippendorff``), or loop over units in Python (irrCAC ports); see SPEC §10 for the budget.
"""

from __future__ import annotations

import numpy as np

from coder.agreement.encoding import AgreementInputError, Encoded
from coder.agreement.weights import difference_matrix, expected_disagreement, pair_difference

_DENSE_CELLS = 4_000_000   # an N × k count table up to this size is always fine
_MAX_CELLS = 50_000_000    # beyond this, count-based (Gwet-family) statistics refuse


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


def rater_counts(enc: Encoded) -> np.ndarray:
    """R × k table: how many units coder g put in category c."""
    _, n_coders = enc.codes.shape
    k1 = enc.k + 1
    idx = enc.codes + (np.arange(n_coders, dtype=np.intp) * k1)[None, :]
    counts = np.bincount(idx.ravel(), minlength=n_coders * k1).reshape(n_coders, k1)
    return counts[:, : enc.k]


def coincidences(counts: np.ndarray) -> np.ndarray:
    """Krippendorff's k × k coincidence matrix o_ck = Σ_u (n_uc n_uk − [c=k] n_uc)/(m_u − 1),
    over pairable units (m_u ≥ 2)."""
    m = counts.sum(axis=1)
    pairable = m >= 2
    c = counts[pairable].astype(float)
    cw = c / (m[pairable] - 1.0)[:, None]
    o = cw.T @ c
    o[np.diag_indices_from(o)] -= cw.sum(axis=0)
    return o


def krippendorff_parts(enc: Encoded, level: str) -> tuple[float, float, float]:
    """(Σ_ck o_ck δ²_ck, Σ_ck n_c n_k δ²_ck, n) for alpha = 1 − (n − 1)·first/second."""
    n_units, n_coders = enc.codes.shape
    k1 = enc.k + 1
    if k1 <= 8 * n_coders or n_units * k1 <= _DENSE_CELLS:
        o = coincidences(unit_counts(enc))
        n_c = o.sum(axis=0)
        delta = difference_matrix(level, enc.scores, n_c)
        return float((o * delta).sum()), expected_disagreement(level, enc.scores, n_c), \
            float(n_c.sum())
    codes = enc.codes
    m = (codes < enc.k).sum(axis=1)
    pairable = m >= 2
    codes = codes[pairable]
    n_c = np.bincount(codes.ravel(), minlength=k1)[: enc.k].astype(float)
    observed = unit_disagreement(codes, m[pairable], enc.k, level, enc.scores, n_c).sum()
    return float(observed), expected_disagreement(level, enc.scores, n_c), float(n_c.sum())


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


def alpha_from_parts(observed: float, expected: float, n: float) -> float:
    """α = 1 − (n − 1)·observed/expected; NaN when no value is pairable (n < 2) or the pairable
    values show no variation (expected = 0)."""
    if n < 2 or not expected > 0:
        return float("nan")
    return float(1.0 - (n - 1.0) * observed / expected)


def gwet_agreement(counts: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Gwet's weighted percent agreement and classification probabilities.

    p_a = (1/n₂) Σ_{i: r_i ≥ 2} Σ_k r_ik (r*_ik − 1) / (r_i (r_i − 1)),  r*_ik = Σ_l w_kl r_il
    π_k = (1/n₁) Σ_{i: r_i ≥ 1} r_ik / r_i
    (Gwet 2014, eqs. for multiple raters with missing ratings; irrCAC ``*.raw``.)
    p_a is NaN when no unit has two ratings; π is all zero when nothing was rated.
    """
    r = counts.sum(axis=1)
    c = counts.astype(float)
    two = r >= 2
    if two.any():
        c2 = c[two]
        r2 = r[two].astype(float)
        agree = (c2 * (c2 @ w.T - 1.0)).sum(axis=1) / (r2 * (r2 - 1.0))
        pa = float(agree.mean())
    else:
        pa = float("nan")
    one = r >= 1
    pi = (c[one] / r[one][:, None]).mean(axis=0) if one.any() else np.zeros(counts.shape[1])
    return pa, pi


def chance_corrected(pa: float, pe: float) -> float:
    """(p_a − p_e)/(1 − p_e), NaN when undefined (p_a undefined or p_e = 1)."""
    if np.isnan(pa) or np.isnan(pe) or not (1.0 - pe) > 1e-12:
        return float("nan")
    return float((pa - pe) / (1.0 - pe))
