"""Measuring a machine coder like a person: agreement with each human and the consensus, set
against the humans' agreement with each other on the same units, with an equivalence test, and
run-to-run consistency over repeated runs.

Units are the participant segments that the machine coder and every selected human reviewed
(complete cases, so every comparison is on the same units). Per theme (or code) and pooled over
all of them (every (unit, key) pair one pairable unit, as ``overall`` in ``coder agreement``):

- ``alpha_with[h]``: Krippendorff's alpha (nominal) of the machine and human ``h``;
- ``machine_human`` = mean over humans of ``alpha_with[h]``; ``human_human`` = mean over pairs
  of humans of their alpha;
- ``difference`` = machine_human − human_human, with a percentile bootstrap interval over
  units at ``1 − 2·test_level`` confidence (90 % for the usual 5 % level);
- the **equivalence test** (two one-sided tests, Schuirmann 1987; Walker & Nowacki 2011):
  the machine is *equivalent* to a human coder within ``margin`` when the whole interval lies
  inside (−margin, +margin); *below* when the interval lies under −margin; otherwise
  *undecided* (more units are needed to tell).

Alpha of two coders with no missing values on binary data has the closed form
α = 1 − (n − 1)·D / (n₀·n₁), with D the number of units they disagree on, n = 2·units the number
of values and n₀, n₁ the numbers of 0s and 1s among them (Krippendorff 2019, §12.2), so a
bootstrap replicate is three weighted sums. A test checks it against
:func:`coder.agreement.krippendorff_alpha`.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from coder.errors import CoderError


def _alpha_parts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(units, 3): per unit, the disagreements, 0s and 1s of two 0/1 rating arrays
    (last axis = keys, summed)."""
    dis = (a != b).sum(axis=-1)
    ones = (a + b).sum(axis=-1)
    zeros = 2 * a.shape[-1] - ones
    return np.stack([dis, zeros, ones], axis=-1).astype(np.float64)


def _alpha_from(parts: np.ndarray) -> np.ndarray:
    """Alpha from summed (disagreements, zeros, ones); NaN where one category is absent."""
    d, n0, n1 = parts[..., 0], parts[..., 1], parts[..., 2]
    n = n0 + n1
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - (n - 1.0) * d / (n0 * n1)
    return np.where((n0 > 0) & (n1 > 0), alpha, np.nan)


def _num(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _verdict(low: float | None, high: float | None, margin: float) -> str:
    if low is None or high is None:
        return "undefined"
    if low > -margin and high < margin:
        return "equivalent"
    if high < -margin:
        return "below"
    if low > margin:
        return "above"
    return "undecided"


def evaluate_machine_coder(conn, coder: str, *, humans: list[str] | None = None,
                           consensus: str | None = None, codes: bool = False,
                           margin: float = 0.1, bootstrap: int = 1000, seed: int = 0,
                           test_level: float = 0.05) -> dict:
    """The evaluation of machine coder ``coder`` (see the module docstring) as a dict."""
    from coder.agreement.units import default_coders, unit_matrix
    from coder.coding.store import coder_names

    if not 0 < margin < 1:
        raise CoderError(f"--margin {margin}: give a difference in alpha between 0 and 1, "
                         "e.g. 0.1")
    names = coder_names(conn)
    if coder not in names:
        raise CoderError(f"no coder {coder!r} in the project (coders: {', '.join(names)}) — "
                         "run `coder autocode llm` first or check the name")
    humans = [h for h in (humans or default_coders(conn)) if h != coder]
    if not humans:
        raise CoderError("no human coder to compare with — import a person's codings first")
    if consensus is None and "consensus" in names:
        consensus = "consensus"
    wanted = [coder, *humans] + ([consensus] if consensus else [])
    matrix = unit_matrix(conn, wanted, codes=codes)
    v = matrix.values  # (keys, units, coders)
    complete = ~np.isnan(v[0, :, :len(humans) + 1]).any(axis=1)
    v = v[:, complete, :]
    n_units = int(complete.sum())
    result = {"coder": coder, "humans": humans, "consensus": consensus,
              "level": "codes" if codes else "themes", "units": n_units, "margin": margin,
              "confidence": 1 - 2 * test_level, "bootstrap": bootstrap,
              "keys": {}, "overall": None, "consistency": None}
    if n_units < 2:
        raise CoderError(f"{coder} and {', '.join(humans)} reviewed {n_units} segment(s) in "
                         "common — code more segments before measuring the machine coder")
    rng = np.random.default_rng(seed)
    weights = [rng.multinomial(n_units, np.full(n_units, 1.0 / n_units))
               for _ in range(bootstrap)] if bootstrap else []
    weights = np.asarray(weights, dtype=np.float64).reshape(-1, n_units)
    per_key = [v[k][:, :, None] for k in range(len(matrix.keys))]   # (units, coders, 1)
    pooled = np.transpose(v, (1, 2, 0))                             # (units, coders, keys)
    for key, data in zip(matrix.keys, per_key):
        result["keys"][key] = _compare(data, humans, consensus, weights, margin, test_level)
    result["overall"] = _compare(pooled, humans, consensus, weights, margin, test_level)
    result["consistency"] = run_consistency(conn, coder, codes=codes)
    return result


def _compare(data: np.ndarray, humans: list[str], consensus: str | None,
             weights: np.ndarray, margin: float, test_level: float) -> dict:
    """``data``: (units, coders, keys) 0/1 with column 0 the machine, then the humans, then
    the consensus (which may be missing on some units)."""
    h = len(humans)
    machine = data[:, 0, :]
    parts_mh = [_alpha_parts(machine, data[:, 1 + i, :]) for i in range(h)]
    parts_hh = [_alpha_parts(data[:, 1 + i, :], data[:, 1 + j, :])
                for i, j in combinations(range(h), 2)]
    alpha_with = {name: _num(_alpha_from(p.sum(axis=0))) for name, p in zip(humans, parts_mh)}
    out = {"alpha_with": alpha_with, "alpha_with_consensus": None,
           "machine_human": None, "human_human": None, "difference": None,
           "ci": None, "verdict": "undefined"}
    if consensus is not None:
        cons = data[:, 1 + h, :]
        both = ~np.isnan(cons).any(axis=1)
        if both.sum() >= 2:
            out["alpha_with_consensus"] = _num(_alpha_from(
                _alpha_parts(machine[both], cons[both]).sum(axis=0)))
    mh = np.nanmean([a for a in alpha_with.values() if a is not None]) \
        if any(a is not None for a in alpha_with.values()) else np.nan
    out["machine_human"] = _num(mh)
    if not parts_hh:
        return out
    hh_values = [_alpha_from(p.sum(axis=0)) for p in parts_hh]
    hh = np.nanmean(hh_values) if not np.all(np.isnan(hh_values)) else np.nan
    out["human_human"] = _num(hh)
    out["difference"] = _num(mh - hh)
    if len(weights) and out["difference"] is not None:
        stack_mh = np.stack(parts_mh)   # (h, units, 3)
        stack_hh = np.stack(parts_hh)   # (pairs, units, 3)
        diffs = []
        for chunk in np.array_split(weights, max(1, len(weights) // 50)):
            a_mh = _alpha_from(np.einsum("bu,pus->bps", chunk, stack_mh))
            a_hh = _alpha_from(np.einsum("bu,pus->bps", chunk, stack_hh))
            with np.errstate(invalid="ignore"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    diffs.append(np.nanmean(a_mh, axis=1) - np.nanmean(a_hh, axis=1))
        diffs = np.concatenate(diffs)
        diffs = diffs[np.isfinite(diffs)]
        if len(diffs) >= 10:
            low, high = np.quantile(diffs, [test_level, 1 - test_level])
            out["ci"] = [float(low), float(high)]
            out["verdict"] = _verdict(float(low), float(high), margin)
    return out


def run_consistency(conn, coder: str, *, codes: bool = False) -> dict | None:
    """Krippendorff's alpha over the repeated runs of ``coder`` (``coder@run2``, …) per key and
    pooled, on the units every run answered; None when there is only one run."""
    from coder.agreement import krippendorff_alpha
    from coder.agreement.units import unit_matrix
    from coder.coding.store import coder_names

    base = coder.split("@run", 1)[0]
    runs = [n for n in coder_names(conn) if n == base or n.startswith(base + "@run")]
    if len(runs) < 2:
        return None
    matrix = unit_matrix(conn, runs, codes=codes)
    v = matrix.values
    complete = ~np.isnan(v[0]).any(axis=1)
    v = v[:, complete, :]
    keys = {key: _num(krippendorff_alpha(v[k])) for k, key in enumerate(matrix.keys)}
    pooled = v.reshape(-1, v.shape[2])
    return {"runs": runs, "units": int(complete.sum()), "keys": keys,
            "overall": _num(krippendorff_alpha(pooled))}
