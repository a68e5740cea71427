"""Properties every agreement statistic must have (hypothesis, bounded example counts).

Symmetry in coders and units, invariance to renaming nominal categories, 1 for perfect agreement
with two or more categories, alpha ≤ 1, NaN (never 1.0) where undefined, and the batched binary
kernels equal to the scalar functions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coder.agreement import stats

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

MULTI = {  # any number of coders; nominal/identity versions
    "krippendorff_alpha": lambda d: stats.krippendorff_alpha(d, "nominal"),
    "fleiss_kappa": lambda d: stats.fleiss_kappa(d),
    "conger_kappa": lambda d: stats.conger_kappa(d),
    "brennan_prediger": lambda d: stats.brennan_prediger(d),
    "gwet_ac1": lambda d: stats.gwet_ac1(d),
    "percent_agreement": lambda d: stats.percent_agreement(d),
}
WEIGHTED = {  # order-aware versions, invariant to coder and unit order but not to relabelling
    "alpha_ordinal": lambda d: stats.krippendorff_alpha(d, "ordinal"),
    "alpha_interval": lambda d: stats.krippendorff_alpha(d, "interval"),
    "alpha_ratio": lambda d: stats.krippendorff_alpha(d, "ratio"),
    "fleiss_quadratic": lambda d: stats.fleiss_kappa(d, "quadratic"),
    "conger_linear": lambda d: stats.conger_kappa(d, "linear"),
    "ac2_ordinal": lambda d: stats.gwet_ac2(d, "ordinal"),
    "bp_ratio": lambda d: stats.brennan_prediger(d, "ratio"),
}
PAIRWISE = {
    "cohen_kappa": lambda d: stats.cohen_kappa(d),
    "cohen_quadratic": lambda d: stats.cohen_kappa(d, "quadratic"),
    "scott_pi": lambda d: stats.scott_pi(d),
}


@st.composite
def ratings(draw, min_coders=2, max_coders=5, max_units=25, n_values=5, missing=True):
    """A units × coders float matrix of values 1…n_values with NaN for missing ratings."""
    n_units = draw(st.integers(1, max_units))
    n_coders = draw(st.integers(min_coders, max_coders))
    n_vals = draw(st.integers(1, n_values))
    cell = st.integers(1, n_vals).map(float)
    if missing:
        cell = st.one_of(st.just(math.nan), cell, cell)
    values = draw(st.lists(cell, min_size=n_units * n_coders, max_size=n_units * n_coders))
    return np.array(values, dtype=float).reshape(n_units, n_coders)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-9)


@SETTINGS
@given(data=ratings(), seed=st.integers(0, 2**16))
def test_invariant_to_coder_and_unit_order(data, seed):
    rng = np.random.default_rng(seed)
    shuffled = data[rng.permutation(data.shape[0])][:, rng.permutation(data.shape[1])]
    for name, fn in {**MULTI, **WEIGHTED}.items():
        assert same(fn(data), fn(shuffled)), name


@SETTINGS
@given(data=ratings(min_coders=2, max_coders=2), seed=st.integers(0, 2**16))
def test_two_coder_statistics_invariant_to_order(data, seed):
    rng = np.random.default_rng(seed)
    swapped = data[rng.permutation(data.shape[0])][:, ::-1]
    for name, fn in PAIRWISE.items():
        assert same(fn(data), fn(swapped)), name


@SETTINGS
@given(data=ratings(), names=st.permutations(["ant", "bee", "cat", "dog", "eel"]))
def test_nominal_statistics_invariant_to_renaming_categories(data, names):
    renamed = [[None if math.isnan(v) else names[int(v) - 1] for v in row] for row in data]
    for name, fn in MULTI.items():
        assert same(fn(data), fn(renamed)), name
    renumbered = np.where(np.isnan(data), np.nan, 100.0 - 7.0 * data)
    for name, fn in MULTI.items():
        assert same(fn(data), fn(renumbered)), name


@SETTINGS
@given(data=ratings(missing=True), coders=st.integers(2, 5))
def test_perfect_agreement_with_two_categories_is_one(data, coders):
    truth = data[:, :1]
    perfect = np.repeat(truth, coders, axis=1)
    perfect[np.isnan(np.repeat(data[:, :1], coders, axis=1))] = np.nan
    # drop some ratings (never below two per unit) without breaking agreement
    if coders > 2:
        perfect[::2, -1] = np.nan
    observed = perfect[~np.isnan(perfect)]
    assume(len(np.unique(observed)) >= 2)
    for name, fn in {**MULTI, **WEIGHTED}.items():
        assert fn(perfect) == pytest.approx(1.0), name
    if coders == 2:
        for name, fn in PAIRWISE.items():
            assert fn(perfect) == pytest.approx(1.0), name


@SETTINGS
@given(data=ratings())
def test_coefficients_at_most_one(data):
    for name, fn in {**MULTI, **WEIGHTED}.items():
        value = fn(data)
        assert math.isnan(value) or value <= 1.0 + 1e-12, name


@SETTINGS
@given(data=ratings(), value=st.sampled_from([0.0, 3.0]))
def test_single_category_is_undefined_not_one(data, value):
    single = np.where(np.isnan(data), np.nan, value)
    for name, fn in {**MULTI, **WEIGHTED}.items():
        if name != "percent_agreement":
            assert math.isnan(fn(single)), name


@SETTINGS
@given(data=ratings(min_coders=2, max_coders=4))
def test_no_pairable_unit_is_undefined(data):
    lonely = np.full_like(data, np.nan)
    rows = np.arange(data.shape[0])
    lonely[rows, rows % data.shape[1]] = data[rows, rows % data.shape[1]]
    for name, fn in {**MULTI, **WEIGHTED}.items():
        assert math.isnan(fn(lonely)), name


@st.composite
def binary_codes(draw):
    n_codes = draw(st.integers(1, 4))
    n_units = draw(st.integers(1, 30))
    n_coders = draw(st.integers(1, 5))
    cell = st.sampled_from([0.0, 1.0, math.nan])
    flat = draw(st.lists(cell, min_size=n_codes * n_units * n_coders,
                         max_size=n_codes * n_units * n_coders))
    return np.array(flat, dtype=float).reshape(n_codes, n_units, n_coders)


@SETTINGS
@given(values=binary_codes(), declared=st.booleans())
def test_batched_binary_equals_scalar(values, declared):
    cats = [0, 1] if declared else None
    batch = stats.binary_stats_many(values, categories=cats)
    alphas = stats.binary_alpha_many(values)
    for c, v in enumerate(values):
        assert same(batch["krippendorff_alpha"][c], stats.krippendorff_alpha(v))
        assert same(alphas[c], stats.krippendorff_alpha(v))
        assert same(batch["fleiss_kappa"][c], stats.fleiss_kappa(v, categories=cats))
        assert same(batch["gwet_ac1"][c], stats.gwet_ac1(v, categories=cats))
        assert same(batch["brennan_prediger"][c], stats.brennan_prediger(v, categories=cats))
        assert same(batch["percent_agreement"][c], stats.percent_agreement(v))
        assert batch["n_units"][c] == int(((~np.isnan(v)).sum(axis=1) >= 2).sum())
