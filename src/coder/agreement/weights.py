"""Agreement weights (Gwet's families) and Krippendorff's difference functions.

Both act on the sorted category *scores*: the category values when they are numbers, the
positions 1…q when they are text (or, for Gwet's ordinal weights, always the positions).

Weights (Gwet 2014, ch. 3; irrCAC ``weights.gen.r``), for scores x_1 < … < x_q with
range R = x_max − x_min::

    identity    w_kl = 1 if k == l else 0
    linear      w_kl = 1 − |x_k − x_l| / R
    quadratic   w_kl = 1 − (x_k − x_l)² / R²
    ordinal     w_kl = 1 − M_kl / M_max,    M_kl = C(|k − l| + 1, 2)  (positions, not values)
    ratio       w_kl = 1 − [(x_k − x_l)/(x_k + x_l)]² / [(x_max − x_min)/(x_max + x_min)]²

Difference functions δ²_ck (Krippendorff 2011, sec. D), with n_g the number of pairable values
of category g::

    nominal     δ² = 0 if c == k else 1
    ordinal     δ² = (Σ_{g=c..k} n_g − (n_c + n_k)/2)²  =  (t_k − t_c)²,  t_c = Σ_{g≤c} n_g − n_c/2
    interval    δ² = (x_c − x_k)²
    ratio       δ² = [(x_c − x_k)/(x_c + x_k)]²        (0 when x_c + x_k = 0)

References
----------
1. Gwet, K. L. (2014). *Handbook of Inter-Rater Reliability*, 4th ed. Advanced Analytics.
2. Gwet, K. L. irrCAC R package, ``R/weights.gen.r``. https://github.com/kgwet/irrCAC
3. Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability.
   https://repository.upenn.edu/asc_papers/43
"""

from __future__ import annotations

import numpy as np

from coder.agreement.encoding import AgreementInputError

WEIGHTS = ("identity", "linear", "quadratic", "ordinal", "ratio")
LEVELS = ("nominal", "ordinal", "interval", "ratio")


def check_weights(weights: str) -> str:
    if not isinstance(weights, str) or weights not in WEIGHTS:
        raise AgreementInputError(
            f"unknown weights {weights!r} — use one of: {', '.join(WEIGHTS)}")
    return weights


def check_level(level: str) -> str:
    if not isinstance(level, str) or level not in LEVELS:
        raise AgreementInputError(
            f"unknown level of measurement {level!r} — use one of: {', '.join(LEVELS)}")
    return level


def weight_matrix(weights: str, scores: np.ndarray) -> np.ndarray:
    """The q × q weight matrix of family ``weights`` for sorted category ``scores``."""
    check_weights(weights)
    x = np.asarray(scores, dtype=float)
    q = len(x)
    if weights == "identity" or q <= 1:
        return np.eye(q)
    diff = x[:, None] - x[None, :]
    span = x[-1] - x[0]
    if weights == "linear":
        return 1.0 - np.abs(diff) / span
    if weights == "quadratic":
        return 1.0 - diff**2 / span**2
    if weights == "ordinal":
        pos = np.arange(1, q + 1)
        nkl = np.abs(pos[:, None] - pos[None, :]) + 1
        m = nkl * (nkl - 1) / 2.0
        return 1.0 - m / m.max()
    # ratio
    if x[0] < 0:
        raise AgreementInputError(
            "ratio weights need non-negative category values — use linear or quadratic weights")
    total = x[:, None] + x[None, :]
    rel = np.divide(diff, total, out=np.zeros_like(diff), where=total != 0)
    return 1.0 - rel**2 / (span / (x[-1] + x[0])) ** 2


def ordinal_positions(n_c: np.ndarray) -> np.ndarray:
    """t_c = Σ_{g ≤ c} n_g − n_c/2, so that the ordinal δ²_ck = (t_k − t_c)² (last axis)."""
    n = np.asarray(n_c, dtype=float)
    return np.cumsum(n, axis=-1) - n / 2.0


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = a - b
    total = a + b
    return np.divide(diff, total, out=np.zeros(np.broadcast(diff, total).shape),
                     where=total != 0) ** 2


def difference_matrix(level: str, scores: np.ndarray, n_c: np.ndarray | None) -> np.ndarray:
    """Krippendorff's δ²_ck for ``level`` as a k × k matrix; ``n_c`` (pairable values per
    category) is used only by the ordinal metric."""
    check_level(level)
    q = len(scores)
    if level == "nominal":
        return 1.0 - np.eye(q)
    if level == "ordinal":
        t = ordinal_positions(n_c)
        return (t[:, None] - t[None, :]) ** 2
    x = np.asarray(scores, dtype=float)
    if level == "interval":
        return (x[:, None] - x[None, :]) ** 2
    return _ratio(x[:, None], x[None, :])


def pair_difference(level: str, scores: np.ndarray, n_c: np.ndarray, a: np.ndarray,
                    b: np.ndarray) -> np.ndarray:
    """δ² of the category codes ``a`` and ``b`` element by element (no k × k matrix)."""
    if level == "nominal":
        return (a != b).astype(float)
    if level == "ordinal":
        t = ordinal_positions(n_c)
        return (t[a] - t[b]) ** 2
    x = np.asarray(scores, dtype=float)
    if level == "interval":
        return (x[a] - x[b]) ** 2
    return _ratio(x[a], x[b])


def expected_disagreement(level: str, scores: np.ndarray, n_c: np.ndarray):
    """Σ_ck n_c n_k δ²_ck, for one vector of category totals (a float) or a stack of them (last
    axis = categories; an array). Without a k × k matrix where δ² allows:

        nominal             n² − Σ_c n_c²
        ordinal, interval   2 n Σ_c n_c (s_c − s̄)²,  s = t (ordinal) or x,  s̄ = Σ n_c s_c / n
        ratio               Σ_ck n_c n_k δ²_ck in blocks of rows (cost grows with k²)
    """
    totals = np.atleast_2d(np.asarray(n_c, dtype=float))
    n = totals.sum(axis=1)
    if level == "nominal":
        out = n**2 - (totals**2).sum(axis=1)
    elif level in ("ordinal", "interval"):
        s = ordinal_positions(totals) if level == "ordinal" else \
            np.broadcast_to(np.asarray(scores, dtype=float), totals.shape)
        mean = (totals * s).sum(axis=1) / np.maximum(n, 1.0)
        out = 2.0 * n * (totals * (s - mean[:, None]) ** 2).sum(axis=1)
    else:
        x = np.asarray(scores, dtype=float)
        out = np.zeros(totals.shape[0])
        block = max(1, 2_000_000 // max(len(x), 1))
        for start in range(0, len(x), block):
            d = _ratio(x[start:start + block, None], x[None, :])
            out += ((totals @ d.T) * totals[:, start:start + block]).sum(axis=1)
    return float(out[0]) if np.ndim(n_c) == 1 else out
