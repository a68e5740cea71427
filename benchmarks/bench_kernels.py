"""Agreement kernels against the ``krippendorff`` package (SPEC §10).

The matrices of ``coder agreement`` at the budget's size: ``--units`` participant segments ×
``--coders`` coders × ``--codes`` binary codes, seeded, about ``--missing`` of the ratings missing
(not reviewed) and coders agreeing on most units. In one process, best of ``--repeat`` runs,
it times:

* ``krippendorff.alpha(reliability_data=m.T, level_of_measurement="nominal")`` for every code —
  the reference;
* ``coder.agreement.krippendorff_alpha(m)`` for every code (a loop over codes);
* ``coder.agreement.binary_alpha_many(values)`` — all codes in one pass;
* ``binary_stats_many`` (alpha, Fleiss, AC1, Brennan-Prediger, percent agreement for all codes)
  and a 1,000-resample ``krippendorff_alpha_ci`` of one code, for information;

checks that every alpha equals the package's, prints a table with the ratios to the package and,
with ``--json FILE``, writes the figures. Exit code 1 when a kernel takes more than ``--target``
(default 0.5) times the package's time, or a value differs.

    .venv/bin/python benchmarks/bench_kernels.py [--units 50000] [--coders 3] [--codes 20]
                                                 [--missing 0.1] [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

TARGET = 0.5


def make_values(n_codes: int, n_units: int, n_coders: int, missing: float, seed: int):
    """codes × units × coders of 0/1/NaN: each code has a prevalence, each coder follows the
    unit's true value 90% of the time."""
    rng = np.random.default_rng(seed)
    prevalence = rng.uniform(0.05, 0.5, size=(n_codes, 1, 1))
    truth = rng.random((n_codes, n_units, 1)) < prevalence
    agree = rng.random((n_codes, n_units, n_coders)) < 0.9
    values = np.where(agree, truth, ~truth).astype(float)
    values[rng.random(values.shape) < missing] = np.nan
    return values


def best_of(repeat: int, fn):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def run(args) -> dict:
    values = make_values(args.codes, args.units, args.coders, args.missing, args.seed)
    return {"units": args.units, "coders": args.coders, "codes": args.codes,
            "missing": args.missing, "seed": args.seed, "repeat": args.repeat,
            **compare(values, repeat=args.repeat, seed=args.seed, target=args.target)}


def compare(values: np.ndarray, *, repeat: int = 3, seed: int = 2022,
            target: float = TARGET) -> dict:
    """Time the kernels and the package on ``values`` (codes × units × coders, 0/1/NaN), e.g.
    the matrices ``coder agreement`` builds (``benchmarks/run.py`` passes them)."""
    import krippendorff

    from coder.agreement import (
        binary_alpha_many,
        binary_stats_many,
        krippendorff_alpha,
        krippendorff_alpha_ci,
    )

    # warm-up: first calls pay for imports and allocations
    krippendorff.alpha(reliability_data=values[0].T, level_of_measurement="nominal")
    krippendorff_alpha(values[0])
    binary_stats_many(values[:1])

    t_pkg, ref = best_of(repeat, lambda: np.array([
        krippendorff.alpha(reliability_data=v.T, level_of_measurement="nominal")
        for v in values]))
    t_loop, loop = best_of(repeat, lambda: np.array([krippendorff_alpha(v) for v in values]))
    t_many, many = best_of(repeat, lambda: binary_alpha_many(values))
    t_stats, _ = best_of(repeat, lambda: binary_stats_many(values))
    t_ci, ci = best_of(repeat, lambda: krippendorff_alpha_ci(values[0], n_boot=1000, seed=seed))
    diff = float(max(np.nanmax(np.abs(loop - ref), initial=0.0),
                     np.nanmax(np.abs(many - ref), initial=0.0)))
    rows = [
        ("krippendorff package, loop over codes", t_pkg),
        ("coder krippendorff_alpha, loop over codes", t_loop),
        ("coder binary_alpha_many, all codes at once", t_many),
        ("coder binary_stats_many (5 statistics)", t_stats),
        ("coder krippendorff_alpha_ci, 1 code, 1000 resamples", t_ci),
    ]
    return {
        "timings_s": {name: t for name, t in rows},
        "package_s": t_pkg,
        "loop_s": t_loop,
        "batched_s": t_many,
        "stats_many_s": t_stats,
        "alpha_ci_s": t_ci,
        "loop_ratio": t_loop / t_pkg,
        "batched_ratio": t_many / t_pkg,
        "stats_many_ratio": t_stats / t_pkg,
        "target_ratio": target,
        "max_abs_difference": diff,
        "alpha_ci_code0": list(ci),
        "alpha_code0": float(ref[0]),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=50_000)
    parser.add_argument("--coders", type=int, default=3)
    parser.add_argument("--codes", type=int, default=20)
    parser.add_argument("--missing", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--target", type=float, default=TARGET,
                        help="largest acceptable ratio to the package's time")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON")
    args = parser.parse_args(argv)

    figures = run(args)
    t_pkg = figures["package_s"]
    print(f"{args.units:,} units × {args.coders} coders × {args.codes} binary codes, "
          f"{args.missing:.0%} missing, best of {args.repeat}")
    print(f"{'kernel':<54} {'seconds':>9} {'× package':>10}")
    for name, seconds in figures["timings_s"].items():
        print(f"{name:<54} {seconds:>9.4f} {seconds / t_pkg:>10.3f}")
    print(f"max |alpha − package| = {figures['max_abs_difference']:.2e}; "
          f"alpha(code 0) = {figures['alpha_code0']:.4f}, 95% CI "
          f"[{figures['alpha_ci_code0'][0]:.4f}, {figures['alpha_ci_code0'][1]:.4f}]")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")

    failures = []
    if figures["max_abs_difference"] > 1e-9:
        failures.append("alpha differs from the krippendorff package")
    for key in ("loop_ratio", "batched_ratio"):
        if figures[key] > args.target:
            failures.append(f"{key} {figures[key]:.3f} > target {args.target}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
