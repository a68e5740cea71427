"""Inter-coder agreement statistics on a units × coders matrix (SPEC §7).

Pure functions: no database, no printing. ``data`` is a units × coders table — list of lists,
NumPy array or pandas DataFrame — whose values are numbers or text, with ``None``/NaN for a
missing rating. Each function returns a Python float, NaN where the statistic is undefined (for
example a single category observed, or no unit rated by two coders); never 1.0 for undefined.

Notation: unit i has r_i ratings, r_ik of them in category k; q categories with weights w_kl;
p_a is the (weighted) observed agreement, p_e the chance agreement, and every chance-corrected
coefficient is (p_a − p_e)/(1 − p_e).

Categories are the values observed in the data, sorted, unless ``categories=`` declares the full
list (unused categories change Brennan-Prediger and Gwet's AC1/AC2, whose p_e depends on q).
Weights (``identity | linear | quadratic | ordinal | ratio``) are Gwet's families computed on the
category values (positions 1…q for text); see :mod:`coder.agreement.weights`.

References
----------
1. Gwet, K. L. (2014). *Handbook of Inter-Rater Reliability*, 4th ed. Advanced Analytics.
2. Gwet, K. L. irrCAC: Computing Chance-Corrected Agreement Coefficients (R package),
   ``R/agree.coeff3.raw.r`` and ``R/agree.coeff2.r``. https://github.com/kgwet/irrCAC
3. Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
   Communication, University of Pennsylvania. https://repository.upenn.edu/asc_papers/43
4. Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
   Psychological Measurement* 20, 37–46; Cohen, J. (1968). Weighted kappa. *Psychological
   Bulletin* 70, 213–220.
5. Scott, W. A. (1955). Reliability of content analysis: the case of nominal scale coding.
   *Public Opinion Quarterly* 19, 321–325.
6. Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. *Psychological
   Bulletin* 76, 378–382.
7. Conger, A. J. (1980). Integration and generalization of kappas for multiple raters.
   *Psychological Bulletin* 88, 322–328.
8. Brennan, R. L., & Prediger, D. J. (1981). Coefficient kappa: some uses, misuses, and
   alternatives. *Educational and Psychological Measurement* 41, 687–699.
9. Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of high
   agreement. *British Journal of Mathematical and Statistical Psychology* 61, 29–48.
10. Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability
    measure for coding data. *Communication Methods and Measures* 1, 77–89.
"""

from __future__ import annotations

import numpy as np

from coder.agreement.batched import binary_alpha_many, binary_stats_many
from coder.agreement.bootstrap import (
    alpha_below,
    krippendorff_alpha_bootstrap,
    krippendorff_alpha_ci,
)
from coder.agreement.encoding import (
    MAX_CATEGORIES,
    AgreementInputError,
    check_categories,
    encode,
    from_contingency,
    from_counts,
)
from coder.agreement.kernels import (
    alpha_from_parts,
    chance_corrected,
    count_table,
    gwet_agreement,
    krippendorff_parts,
    rater_counts,
)
from coder.agreement.weights import check_level, check_weights, weight_matrix
from coder.agreement import __all__  # noqa: F401 - the public API is listed once, there


def _prepare(data, weights: str, categories):
    check_weights(weights)
    enc = encode(data, categories)
    check_categories(enc.k)  # before any q × q weights or k × k table is allocated
    return enc, weight_matrix(weights, enc.scores)


def percent_agreement(data, weights: str = "identity", categories=None) -> float:
    """Gwet's (weighted) percent agreement among any number of coders.

    p_a = (1/n₂) Σ_{i: r_i ≥ 2} Σ_k r_ik (r*_ik − 1) / (r_i (r_i − 1)),  r*_ik = Σ_l w_kl r_il

    the mean, over the n₂ units rated by at least two coders, of the share of agreeing coder
    pairs in the unit [1, 2]. Not Krippendorff's A_o = 1 − D_o, which weighs units by their
    number of ratings. NaN when no unit has two ratings.
    """
    enc, w = _prepare(data, weights, categories)
    pa, _ = gwet_agreement(*count_table(enc), w)
    return pa


def _two_coder_table(data, weights: str, categories):
    enc, w = _prepare(data, weights, categories)
    if enc.codes.shape[1] != 2:
        raise AgreementInputError(
            f"this statistic compares exactly two coders, got {enc.codes.shape[1]} columns"
            " — pass one pair of coders, or use fleiss_kappa / krippendorff_alpha")
    k = enc.k
    a, b = enc.codes[:, 0], enc.codes[:, 1]
    both = (a < k) & (b < k)
    n = int(both.sum())
    table = np.bincount(a[both] * k + b[both], minlength=k * k).reshape(k, k) / max(n, 1)
    return table, w, n


def cohen_kappa(data, weights: str = "identity", categories=None) -> float:
    """Cohen's (weighted) kappa for exactly two coders, over the units both rated [4].

    p_a = Σ_kl w_kl p_kl,   p_e = Σ_kl w_kl p_k+ p_+l,   κ = (p_a − p_e)/(1 − p_e)

    with p_kl the share of units coder A put in k and coder B in l. The categories (hence the
    weights) are all values in ``data``, including units only one coder rated. Equals
    scikit-learn's ``cohen_kappa_score`` (weights None/linear/quadratic) on the complete pairs
    when the categories are consecutive integers. NaN when no unit was rated by both or p_e = 1.
    """
    return kappa_from_table(*_two_coder_table(data, weights, categories))


def kappa_from_table(p: np.ndarray, w: np.ndarray, n: int) -> float:
    """Cohen's kappa from the k × k proportions ``p`` of ``n`` units (rows coder A, columns
    coder B) and the agreement weights ``w``; the formula of :func:`cohen_kappa`."""
    if n == 0:
        return float("nan")
    pa = float((w * p).sum())
    pe = float(p.sum(axis=1) @ w @ p.sum(axis=0))
    return chance_corrected(pa, pe)


def scott_pi(data, weights: str = "identity", categories=None) -> float:
    """Scott's (weighted) pi for exactly two coders, over the units both rated [5, 2].

    π_k = (p_k+ + p_+k)/2,   p_e = Σ_kl w_kl π_k π_l,   π = (p_a − p_e)/(1 − p_e)

    p_a as in :func:`cohen_kappa`. NaN when no unit was rated by both or p_e = 1.
    """
    p, w, n = _two_coder_table(data, weights, categories)
    if n == 0:
        return float("nan")
    pa = float((w * p).sum())
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2.0
    return chance_corrected(pa, float(pi @ w @ pi))


def fleiss_kappa(data, weights: str = "identity", categories=None) -> float:
    """Fleiss' generalized kappa for any number of coders, missing ratings allowed [6, 1].

    π_k = (1/n₁) Σ_{i: r_i ≥ 1} r_ik / r_i,   p_e = Σ_kl w_kl π_k π_l

    p_a as in :func:`percent_agreement`; units with one rating count in π but not in p_a
    (Gwet 2014 ch. 2; irrCAC ``fleiss.kappa.raw``). NaN when p_a is undefined or p_e = 1
    (a single category observed).
    """
    enc, w = _prepare(data, weights, categories)
    pa, pi = gwet_agreement(*count_table(enc), w)
    if enc.k < 1:
        return float("nan")
    return chance_corrected(pa, float(pi @ w @ pi))


def conger_kappa(data, weights: str = "identity", categories=None) -> float:
    """Conger's generalized kappa (Cohen's kappa for many coders), missing allowed [7, 1].

    p_gk = n_gk / n_g (share of coder g's units in k),  p̄_k = (1/r) Σ_g p_gk,
    s²_kl = (Σ_g p_gk p_gl − r p̄_k p̄_l)/(r − 1),   p_e = Σ_kl w_kl (p̄_k p̄_l − s²_kl / r)

    p_a as in :func:`percent_agreement` (irrCAC ``conger.kappa.raw``). Coders who rated no unit
    are left out; NaN with fewer than two coders, p_a undefined or p_e = 1. With two coders
    and no missing ratings it equals :func:`cohen_kappa`.
    """
    enc, w = _prepare(data, weights, categories)
    pa, _ = gwet_agreement(*count_table(enc), w)
    by_rater = rater_counts(enc)
    n_g = by_rater.sum(axis=1)
    p = by_rater[n_g > 0] / n_g[n_g > 0][:, None]
    r = p.shape[0]
    if r < 2 or enc.k < 1:
        return float("nan")
    p_mean = p.mean(axis=0)
    outer = np.outer(p_mean, p_mean)
    s2 = (p.T @ p - r * outer) / (r - 1)
    return chance_corrected(pa, float((w * (outer - s2 / r)).sum()))


def brennan_prediger(data, weights: str = "identity", categories=None) -> float:
    """Brennan and Prediger's coefficient (Bennett's S), any number of coders [8, 1].

    p_e = Σ_kl w_kl / q²

    p_a as in :func:`percent_agreement`. q is the number of categories: declare unused ones with
    ``categories=`` (it changes the result). NaN when p_a is undefined or q < 2.
    """
    enc, w = _prepare(data, weights, categories)
    pa, _ = gwet_agreement(*count_table(enc), w)
    q = enc.k
    if q < 2:
        return float("nan")
    return chance_corrected(pa, float(w.sum()) / q**2)


def _gwet_ac(data, weights: str, categories) -> float:
    enc, w = _prepare(data, weights, categories)
    pa, pi = gwet_agreement(*count_table(enc), w)
    q = enc.k
    if q < 2:
        return float("nan")
    pe = float(w.sum()) / (q * (q - 1)) * float((pi * (1.0 - pi)).sum())
    return chance_corrected(pa, pe)


def gwet_ac1(data, categories=None) -> float:
    """Gwet's AC1, any number of coders, missing ratings allowed [9, 1].

    π_k as in :func:`fleiss_kappa`,   p_e = Σ_k π_k (1 − π_k) / (q − 1)

    p_a as in :func:`percent_agreement` (irrCAC ``gwet.ac1.raw``). q is the number of categories:
    declare unused ones with ``categories=`` (it changes the result). NaN when p_a is undefined
    or q < 2.
    """
    return _gwet_ac(data, "identity", categories)


def gwet_ac2(data, weights: str = "quadratic", categories=None) -> float:
    """Gwet's AC2, the weighted AC1 [1, 2].

    p_e = (Σ_kl w_kl / (q (q − 1))) Σ_k π_k (1 − π_k)

    with π_k, p_a and q as in :func:`gwet_ac1`.
    """
    return _gwet_ac(data, weights, categories)


def krippendorff_alpha(data, level: str = "nominal", categories=None) -> float:
    """Krippendorff's alpha for any number of coders, missing ratings allowed [3, 10].

    o_ck = Σ_u (n_uc n_uk − [c = k] n_uc)/(m_u − 1)   over units with m_u ≥ 2 values
    n_c = Σ_k o_ck,   n = Σ_c n_c
    α = 1 − D_o/D_e = 1 − (n − 1) Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck

    with δ² the difference function of ``level`` (nominal, ordinal, interval, ratio; see
    :mod:`coder.agreement.weights`). Interval and ratio need numbers. For ``ordinal`` on text
    labels, ``categories=`` declares their order (``["low", "medium", "high"]``); without it
    text is ordered alphabetically, which is rarely the scale's order. Declared categories no
    coder used change nothing. NaN when no unit has two values (n = 0) or the pairable values
    show no variation (D_e = 0). Equals the ``krippendorff`` package with
    ``level_of_measurement`` given explicitly (it defaults to interval).
    """
    check_level(level)
    enc = encode(data, categories)
    if level in ("interval", "ratio") and not enc.numeric:
        raise AgreementInputError(
            f"the {level} level needs numeric ratings, got text — use level='nominal' or"
            " 'ordinal', or code the categories as numbers")
    return alpha_from_parts(*krippendorff_parts(enc, level))
