"""coder.agreement statistics against published values and reference implementations.

* every case of ``../shared/agreement/cases.json`` (Krippendorff 2011, Gwet's irrCAC, Wikipedia,
  scikit-learn's tests…) through the public API, within the case's tolerance;
* the ``krippendorff`` package (``alpha(reliability_data=data.T, level_of_measurement=LEVEL)``,
  the level always explicit: the package defaults to interval) on seeded random matrices with
  missing ratings;
* scikit-learn's ``cohen_kappa_score(a, b, labels=…, weights=None|"linear"|"quadratic")`` on the
  units both coders rated.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest

from coder.agreement import stats
from coder.errors import CoderError

CASES_PATH = Path(__file__).resolve().parents[1].parent / "shared" / "agreement" / "cases.json"
CASES = json.loads(CASES_PATH.read_text(encoding="utf-8"))

GWET_FAMILY = {
    "percent_agreement": stats.percent_agreement,
    "cohen_kappa": stats.cohen_kappa,
    "scott_pi": stats.scott_pi,
    "fleiss_kappa": stats.fleiss_kappa,
    "conger_kappa": stats.conger_kappa,
    "brennan_prediger": stats.brennan_prediger,
    "gwet_ac2": stats.gwet_ac2,
}
LEVELS = ["nominal", "ordinal", "interval", "ratio"]
WEIGHTS = ["identity", "linear", "quadratic", "ordinal", "ratio"]


def case_matrix(case: dict):
    fmt = case["data_format"]
    if fmt.startswith("contingency_table"):
        return stats.from_contingency(case["data"])
    if fmt.startswith("subjects_x_categories_counts"):
        return stats.from_counts(case["data"])
    assert fmt.startswith("units_x_coders"), fmt
    return case["data"]


def compute_case(case: dict) -> float:
    data = case_matrix(case)
    metric = case["metric"]
    extra = {"categories": case["categories"]} if case.get("categories") is not None else {}
    if metric == "krippendorff_alpha":
        return stats.krippendorff_alpha(data, level=case.get("level", "nominal"))
    if metric == "gwet_ac1":
        assert case.get("weights", "identity") == "identity"
        return stats.gwet_ac1(data, **extra)
    return GWET_FAMILY[metric](data, weights=case.get("weights", "identity"), **extra)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_published_case(case):
    got = compute_case(case)
    assert isinstance(got, float)
    if case["expected"] is None:
        assert math.isnan(got), f"undefined statistic must be NaN, got {got}"
    else:
        assert got == pytest.approx(case["expected"], abs=case["tolerance"])


@pytest.mark.parametrize("case", [c for c in CASES if c.get("reference_exact") is not None],
                         ids=lambda c: c["id"])
def test_exact_reference_values(case):
    assert compute_case(case) == pytest.approx(case["reference_exact"], abs=1e-12)


# --- the krippendorff package -------------------------------------------------------------

def random_ratings(rng, n_units, n_coders, n_values, missing, offset=0.0):
    data = rng.integers(0, n_values, size=(n_units, n_coders)).astype(float) + offset
    # agreement above chance: copy a unit's first rating to some of the others
    copy = rng.random((n_units, n_coders)) < 0.5
    data = np.where(copy, data[:, :1], data)
    data[rng.random(data.shape) < missing] = np.nan
    return data


SHAPES = [(40, 2, 2, 0.0), (60, 3, 4, 0.2), (25, 5, 3, 0.4), (200, 4, 7, 0.1), (12, 6, 5, 0.5)]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_alpha_equals_krippendorff_package(level, seed, shape):
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(seed)
    data = random_ratings(rng, *shape, offset=1.0)  # ratio needs positive values
    expected = krippendorff.alpha(reliability_data=data.T, level_of_measurement=level)
    assert stats.krippendorff_alpha(data, level=level) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_many_distinct_values_equals_package(level):
    """Scores with decimals: k ≫ coders switches alpha to the pairs kernel (checked at a size the
    package, which builds a units × values × values array, can still handle)."""
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(7)
    base = rng.normal(5.0, 1.0, size=(200, 1))
    data = np.round(base + rng.normal(0.0, 0.5, size=(200, 3)), 2)
    data[rng.random(data.shape) < 0.2] = np.nan
    assert len(np.unique(data[~np.isnan(data)])) > 8 * 3
    expected = krippendorff.alpha(reliability_data=data.T, level_of_measurement=level)
    assert stats.krippendorff_alpha(data, level=level) == pytest.approx(expected, abs=1e-9)


def test_alpha_many_distinct_values_large():
    """50,000 scores with 2 decimals: no units × values table is built."""
    rng = np.random.default_rng(8)
    base = rng.normal(size=(20000, 1))
    data = np.round(base + rng.normal(0.0, 0.3, size=(20000, 3)), 3)
    assert abs(stats.krippendorff_alpha(data, level="nominal")) < 0.05
    for level in ("ordinal", "interval"):
        assert 0.8 < stats.krippendorff_alpha(data, level=level) < 1.0


def test_alpha_text_nominal_equals_package():
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(3)
    data = random_ratings(rng, 80, 3, 4, 0.25)
    text = np.where(np.isnan(data), None, np.array(list("abcd"), dtype=object)[
        np.nan_to_num(data).astype(int)])
    expected = krippendorff.alpha(reliability_data=data.T, level_of_measurement="nominal")
    assert stats.krippendorff_alpha(text.tolist(), level="nominal") == pytest.approx(expected)


# --- scikit-learn's cohen_kappa_score -----------------------------------------------------

@pytest.mark.parametrize("weights,sk_weights", [("identity", None), ("linear", "linear"),
                                                ("quadratic", "quadratic")])
@pytest.mark.parametrize("seed", range(5))
def test_cohen_kappa_equals_sklearn(weights, sk_weights, seed):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(100 + seed)
    n_values = 2 + seed
    data = random_ratings(rng, 300, 2, n_values, 0.2)
    both = ~np.isnan(data).any(axis=1)
    labels = np.unique(data[~np.isnan(data)])
    assert labels.tolist() == list(range(n_values))  # positions (sklearn) == values (Gwet)
    expected = metrics.cohen_kappa_score(data[both, 0], data[both, 1], labels=labels,
                                         weights=sk_weights)
    assert stats.cohen_kappa(data, weights=weights) == pytest.approx(expected, abs=1e-12)


def test_cohen_kappa_uses_units_both_coders_rated():
    data = [[1, 1], [2, 2], [1, 2], [2, None], [None, 1], [None, None]]
    complete = [[1, 1], [2, 2], [1, 2]]
    for fn in (stats.cohen_kappa, stats.scott_pi, stats.percent_agreement):
        assert fn(data) == pytest.approx(fn(complete))


# --- the Gwet family: identities and declared categories ----------------------------------

def test_two_complete_coders_identities():
    rng = np.random.default_rng(11)
    data = random_ratings(rng, 150, 2, 4, 0.0)
    for weights in WEIGHTS[:4]:
        assert stats.conger_kappa(data, weights) == pytest.approx(
            stats.cohen_kappa(data, weights), abs=1e-12)
        assert stats.fleiss_kappa(data, weights) == pytest.approx(
            stats.scott_pi(data, weights), abs=1e-12)


def test_percent_agreement_of_two_coders_is_the_share_of_agreeing_units():
    data = [[0, 0], [1, 1], [1, 0], [2, 2]]
    assert stats.percent_agreement(data) == pytest.approx(0.75)


def test_declared_categories_change_bp_and_ac1():
    data = [[1, 1], [1, 2], [2, 2], [2, 2], [1, 1]]
    pa = stats.percent_agreement(data)
    assert stats.brennan_prediger(data) == pytest.approx((pa - 1 / 2) / (1 - 1 / 2))
    assert stats.brennan_prediger(data, categories=[1, 2, 3, 4]) == pytest.approx(
        (pa - 1 / 4) / (1 - 1 / 4))
    assert stats.gwet_ac1(data, categories=[1, 2, 3]) != pytest.approx(stats.gwet_ac1(data))
    # declaring unused categories changes neither kappa nor alpha-like coefficients
    assert stats.fleiss_kappa(data, categories=[1, 2, 3]) == pytest.approx(
        stats.fleiss_kappa(data))


def test_undeclared_value_is_an_error():
    with pytest.raises(ValueError, match="not among the declared categories"):
        stats.gwet_ac1([[1, 2], [3, 3]], categories=[1, 2])
    with pytest.raises(ValueError, match="not among the declared categories"):
        stats.gwet_ac1([["a", "b"]], categories=["a"])


def test_text_categories_keep_the_declared_order_for_weights():
    words = [["low", "mid"], ["mid", "high"], ["low", "low"], ["high", "high"]]
    numbers = [[1, 2], [2, 3], [1, 1], [3, 3]]
    ordered = ["low", "mid", "high"]
    for weights in ("linear", "quadratic", "ordinal"):
        assert stats.cohen_kappa(words, weights, categories=ordered) == pytest.approx(
            stats.cohen_kappa(numbers, weights))


# --- undefined statistics are NaN, never 1.0 ----------------------------------------------

ALL_SCALAR = [
    lambda d: stats.krippendorff_alpha(d),
    lambda d: stats.fleiss_kappa(d),
    lambda d: stats.conger_kappa(d),
    lambda d: stats.brennan_prediger(d),
    lambda d: stats.gwet_ac1(d),
    lambda d: stats.gwet_ac2(d),
]


@pytest.mark.parametrize("fn", ALL_SCALAR)
def test_single_category_is_undefined(fn):
    assert math.isnan(fn([["x", "x"], ["x", "x"], ["x", None]]))
    assert math.isnan(fn([[0, 0, 0], [0, 0, np.nan]]))


@pytest.mark.parametrize("fn", ALL_SCALAR + [lambda d: stats.percent_agreement(d)])
def test_no_pairable_unit_is_undefined(fn):
    assert math.isnan(fn([[1, None], [None, 2], [3, None]]))
    assert math.isnan(fn([]))
    assert math.isnan(fn([[None, None]]))


def test_two_coder_undefined():
    for fn in (stats.cohen_kappa, stats.scott_pi):
        assert math.isnan(fn([[1, None], [None, 1]]))
        assert math.isnan(fn([[1, 1], [1, 1]]))


def test_percent_agreement_of_one_category_is_one():
    assert stats.percent_agreement([["x", "x"], ["x", "x"]]) == 1.0


# --- inputs -------------------------------------------------------------------------------

RAW4 = next(c["data"] for c in CASES if c["id"] == "kripp2011_canonical_nominal")


def test_list_ndarray_dataframe_and_text_agree():
    array = np.array([[np.nan if v is None else v for v in row] for row in RAW4], dtype=float)
    frame = pd.DataFrame(array, columns=list("ABCD"))
    letters = dict(zip(range(1, 6), "abcde"))
    text = [[None if v is None else letters[v] for v in row] for row in RAW4]
    text_frame = pd.DataFrame(text, columns=list("ABCD"))
    nullable = frame.astype("Int64")
    for fn in (stats.krippendorff_alpha, stats.fleiss_kappa, stats.gwet_ac1,
               stats.conger_kappa, stats.percent_agreement, stats.brennan_prediger):
        expected = fn(RAW4)
        for form in (array, frame, text, text_frame, nullable, array.astype(object)):
            assert fn(form) == pytest.approx(expected, abs=1e-12), (fn.__name__, type(form))


def test_numpy_text_array_values_named_none_or_nan_are_categories():
    # A NumPy text array cannot hold a missing value: "None" and "nan" in it are category
    # names (a coder may well have rated "None"). Missing ratings are None in an object array.
    data = np.array([["None", "None"], ["nan", "None"], ["nan", "nan"], ["None", "nan"]])
    assert data.dtype.kind == "U"
    renamed = [["x", "x"], ["y", "x"], ["y", "y"], ["x", "y"]]
    assert stats.krippendorff_alpha(data) == pytest.approx(stats.krippendorff_alpha(renamed))
    assert stats.percent_agreement(data) == pytest.approx(0.5)
    missing = np.array([["a", "a"], ["b", None], ["b", "b"], ["a", "b"]], dtype=object)
    assert stats.krippendorff_alpha(missing) == pytest.approx(
        krippendorff.alpha(reliability_data=[[1, 2, 2, 1], [1, np.nan, 2, 2]],
                           level_of_measurement="nominal"))


def test_ordinal_alpha_on_text_labels_uses_the_declared_order():
    words = [["low", "medium"], ["medium", "high"], ["high", "high"], ["low", "low"],
             ["medium", "medium"], ["low", "medium"], ["high", "medium"], ["low", "low"]]
    order = ["low", "medium", "high"]
    as_numbers = [[order.index(a) + 1, order.index(b) + 1] for a, b in words]
    expected = krippendorff.alpha(reliability_data=np.array(as_numbers, float).T,
                                  level_of_measurement="ordinal")
    got = stats.krippendorff_alpha(words, level="ordinal", categories=order)
    assert got == pytest.approx(expected, abs=1e-12)
    # alphabetical order (high < low < medium) is another scale and gives another alpha
    assert stats.krippendorff_alpha(words, level="ordinal") != pytest.approx(expected)
    with pytest.raises(ValueError, match="not among the declared categories"):
        stats.krippendorff_alpha(words, level="ordinal", categories=["low", "high"])


def test_thousands_of_categories_raise_the_documented_error_before_allocating():
    # 20,000 distinct values: a q × q weight matrix would need 3.2 GB
    data = np.arange(40_000, dtype=float).reshape(20_000, 2)
    for fn in (stats.cohen_kappa, stats.scott_pi, stats.fleiss_kappa, stats.conger_kappa,
               stats.gwet_ac1, stats.gwet_ac2, stats.brennan_prediger, stats.percent_agreement):
        with pytest.raises(stats.AgreementInputError, match="too many categories"):
            fn(data)
    text = np.array([f"c{i}" for i in range(40_000)]).reshape(20_000, 2)
    with pytest.raises(stats.AgreementInputError, match=r"at most 1000"):
        stats.gwet_ac1(text)
    # alpha needs no k × k table: it still answers (every pair differs: no agreement, 0)
    assert stats.krippendorff_alpha(data) == pytest.approx(0.0, abs=1e-3)
    assert stats.MAX_CATEGORIES == 1000


def test_results_are_python_floats():
    for fn in (stats.krippendorff_alpha, stats.fleiss_kappa, stats.percent_agreement):
        assert type(fn(RAW4)) is float
    assert type(stats.cohen_kappa([[1, 1], [1, 2], [2, 2]])) is float


@pytest.mark.parametrize("name", list(GWET_FAMILY))
def test_unknown_weights_raise_value_error(name):
    with pytest.raises(ValueError, match="unknown weights 'cubic'"):
        GWET_FAMILY[name]([[1, 1], [2, 2]], weights="cubic")


def test_unknown_level_raises_value_error():
    with pytest.raises(ValueError, match="unknown level"):
        stats.krippendorff_alpha(RAW4, level="quadratic")


def test_input_errors_are_coder_errors_and_value_errors():
    with pytest.raises(CoderError):
        stats.krippendorff_alpha([[1, "a"]])
    with pytest.raises(ValueError, match="exactly two coders"):
        stats.cohen_kappa(RAW4)
    with pytest.raises(ValueError, match="needs numeric ratings"):
        stats.krippendorff_alpha([["a", "b"], ["a", "a"]], level="interval")
    with pytest.raises(ValueError, match="2 dimensions"):
        stats.krippendorff_alpha([1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        stats.gwet_ac2([[-1, 1], [1, 1]], weights="ratio")


# --- converters ---------------------------------------------------------------------------

def test_from_contingency():
    m = stats.from_contingency([[2, 1], [0, 3]])
    assert m.shape == (6, 2)
    assert sorted(map(tuple, m.tolist())) == [(0, 0)] * 2 + [(0, 1)] + [(1, 1)] * 3
    with pytest.raises(ValueError, match="square"):
        stats.from_contingency([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="non-negative whole counts"):
        stats.from_contingency([[1, -1], [0, 2]])


def test_from_counts():
    m = stats.from_counts([[2, 0, 1], [0, 0, 0], [0, 1, 0]])
    assert m.shape == (3, 3)
    assert np.array_equal(m[0], [0, 0, 2])
    assert np.isnan(m[1]).all()
    assert m[2, 0] == 1 and np.isnan(m[2, 1:]).all()


def test_from_counts_matches_fleiss_on_counts():
    """Fleiss (1971) from the count table directly: P̄ and P̄_e of the Wikipedia example."""
    case = next(c for c in CASES if c["id"] == "wikipedia_fleiss_kappa")
    t = np.asarray(case["data"], dtype=float)
    n = t.sum(axis=1)[0]
    p_bar = ((t * (t - 1)).sum(axis=1) / (n * (n - 1))).mean()
    p_e = ((t.sum(axis=0) / t.sum()) ** 2).sum()
    assert stats.fleiss_kappa(stats.from_counts(t)) == pytest.approx((p_bar - p_e) / (1 - p_e))


# --- bootstrap interval -------------------------------------------------------------------

def test_alpha_ci_brackets_alpha_and_is_reproducible():
    rng = np.random.default_rng(5)
    data = random_ratings(rng, 400, 3, 3, 0.1)
    for level in LEVELS:
        shifted = data + 1.0
        alpha = stats.krippendorff_alpha(shifted, level=level)
        low, high = stats.krippendorff_alpha_ci(shifted, level=level, n_boot=400, seed=1)
        assert low < alpha < high
        assert high - low < 0.3
        assert (low, high) == stats.krippendorff_alpha_ci(shifted, level=level, n_boot=400,
                                                          seed=1)


def test_alpha_ci_narrows_with_more_units():
    rng = np.random.default_rng(6)
    big = random_ratings(rng, 4000, 3, 2, 0.1)
    small = big[:200]
    lo_s, hi_s = stats.krippendorff_alpha_ci(small, n_boot=300, seed=2)
    lo_b, hi_b = stats.krippendorff_alpha_ci(big, n_boot=300, seed=2)
    assert hi_b - lo_b < (hi_s - lo_s) / 2


def test_alpha_ci_unit_bootstrap_matches_naive_resampling():
    """The vectorized pattern bootstrap has the distribution of resampling units one by one."""
    rng = np.random.default_rng(8)
    data = random_ratings(rng, 120, 3, 3, 0.2)
    pairable = data[(~np.isnan(data)).sum(axis=1) >= 2]
    naive = [stats.krippendorff_alpha(pairable[rng.integers(0, len(pairable), len(pairable))])
             for _ in range(1500)]
    low, high = stats.krippendorff_alpha_ci(data, n_boot=1500, seed=3)
    assert low == pytest.approx(np.nanquantile(naive, 0.025), abs=0.03)
    assert high == pytest.approx(np.nanquantile(naive, 0.975), abs=0.03)


def test_alpha_ci_many_distinct_values_path():
    rng = np.random.default_rng(9)
    base = rng.normal(size=(600, 1))
    data = np.round(base + rng.normal(0, 0.5, size=(600, 3)), 3)
    for level in ("interval", "ordinal"):
        alpha = stats.krippendorff_alpha(data, level=level)
        low, high = stats.krippendorff_alpha_ci(data, level=level, n_boot=200, seed=4)
        assert low < alpha < high


def test_alpha_ci_undefined_and_bad_options():
    assert all(math.isnan(v) for v in stats.krippendorff_alpha_ci([[1, 1], [1, 1]]))
    assert all(math.isnan(v) for v in stats.krippendorff_alpha_ci([[1, None]]))
    with pytest.raises(ValueError, match="n_boot"):
        stats.krippendorff_alpha_ci(RAW4, n_boot=0)
    with pytest.raises(ValueError, match="coverage"):
        stats.krippendorff_alpha_ci(RAW4, ci=95)


# --- batched binary -----------------------------------------------------------------------

def binary_codes(seed, n_codes=6, n_units=300, n_coders=3, missing=0.15):
    rng = np.random.default_rng(seed)
    truth = rng.random((n_codes, n_units, 1)) < rng.uniform(0.05, 0.6, size=(n_codes, 1, 1))
    v = np.where(rng.random((n_codes, n_units, n_coders)) < 0.85, truth, ~truth).astype(float)
    v[rng.random(v.shape) < missing] = np.nan
    v[1] = np.where(np.isnan(v[1]), np.nan, 0.0)  # a code nobody applied
    v[2, :, 1:] = np.nan  # a code only one coder reviewed
    return v


SCALAR_OF = {
    "krippendorff_alpha": lambda v, cats: stats.krippendorff_alpha(v),
    "fleiss_kappa": lambda v, cats: stats.fleiss_kappa(v, categories=cats),
    "gwet_ac1": lambda v, cats: stats.gwet_ac1(v, categories=cats),
    "brennan_prediger": lambda v, cats: stats.brennan_prediger(v, categories=cats),
    "percent_agreement": lambda v, cats: stats.percent_agreement(v, categories=cats),
}


@pytest.mark.parametrize("categories", [None, (0, 1)])
@pytest.mark.parametrize("seed", range(3))
def test_binary_stats_many_equal_scalar_functions(seed, categories):
    values = binary_codes(seed)
    result = stats.binary_stats_many(values, categories=categories)
    for name, scalar in SCALAR_OF.items():
        expected = np.array([scalar(v, categories) for v in values])
        np.testing.assert_allclose(result[name], expected, rtol=0, atol=1e-12, err_msg=name)
    n_units = [int(((~np.isnan(v)).sum(axis=1) >= 2).sum()) for v in values]
    assert result["n_units"].tolist() == n_units
    np.testing.assert_allclose(stats.binary_alpha_many(values), result["krippendorff_alpha"])


def test_binary_alpha_many_pooled_overall():
    values = binary_codes(4)
    pooled = values.reshape(1, -1, values.shape[2])
    assert stats.binary_alpha_many(pooled)[0] == pytest.approx(
        stats.krippendorff_alpha(pooled[0]), abs=1e-12)


def test_binary_batch_rejects_other_values():
    values = binary_codes(5)
    values[0, 0, 0] = 2.0
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        stats.binary_alpha_many(values)
    with pytest.raises(ValueError, match="3 dimensions"):
        stats.binary_alpha_many(values[0])


def test_importing_the_package_does_not_load_numpy():
    """SPEC §10: modules next to the statistics stay importable without NumPy."""
    code = ("import sys, coder.agreement as a; assert 'numpy' not in sys.modules; "
            "a.krippendorff_alpha; assert 'numpy' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bootstrap_distribution_gives_the_interval_and_krippendorffs_q():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, size=60).astype(float)
    data = np.stack([truth, np.where(rng.random(60) < 0.15, 1 - truth, truth),
                     np.where(rng.random(60) < 0.15, 1 - truth, truth)], axis=1)
    alphas = stats.krippendorff_alpha_bootstrap(data, n_boot=500, seed=7)
    assert alphas.shape == (500,)
    low, high = stats.krippendorff_alpha_ci(data, n_boot=500, seed=7)
    assert (low, high) == tuple(np.quantile(alphas, [0.025, 0.975]))
    q = stats.alpha_below(alphas, 0.667)
    assert q == pytest.approx(np.mean(alphas < 0.667))
    assert stats.alpha_below(alphas, -1.0) == 0.0 and stats.alpha_below(alphas, 1.01) == 1.0
    # undefined alpha (one category): an empty distribution, q undefined
    assert stats.krippendorff_alpha_bootstrap([[1, 1], [1, 1]], n_boot=10).size == 0
    assert math.isnan(stats.alpha_below(np.zeros(0), 0.8))
