"""Reshaping layer: a units × coders table (list, ndarray, DataFrame) to category codes.

Values are mapped once to codes 0…k−1 (missing = k); the count kernels in
:mod:`coder.agreement.kernels` work on those codes. Also the two converters of SPEC §7 that turn
published count tables into units × coders matrices.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from coder.errors import CoderError


class AgreementInputError(CoderError, ValueError):
    """Data or options the statistics cannot use (also a ``ValueError``, as SPEC §7 promises)."""


MAX_CATEGORIES = 1000
"""Statistics built on q × q agreement weights or k × k tables (the kappas, Gwet's AC1/AC2,
Brennan-Prediger, percent agreement) accept at most this many categories and raise
:class:`AgreementInputError` ("… too many categories …") before allocating anything that large.
Krippendorff's alpha has no such limit (its pairs kernel needs no k × k table)."""


def check_categories(k: int, statistic: str = "this statistic") -> None:
    """Refuse ``k`` categories above :data:`MAX_CATEGORIES` (see there)."""
    if k > MAX_CATEGORIES:
        raise AgreementInputError(
            f"{k} distinct values are too many categories for {statistic} (at most "
            f"{MAX_CATEGORIES}) — it is meant for categorical ratings; use krippendorff_alpha "
            "with level='interval' or 'ratio' for scores")


@dataclass(frozen=True)
class Encoded:
    """A units × coders matrix mapped to category codes.

    ``codes`` is N × R (intp) with values 0…k−1 and ``k`` for a missing rating; ``labels`` are
    the k categories in order; ``scores`` their numeric scores (the values themselves when
    ``numeric``, else the positions 1…k) for weights and difference functions.
    """

    codes: np.ndarray
    labels: list
    scores: np.ndarray
    numeric: bool

    @property
    def k(self) -> int:
        return len(self.labels)


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):
        return True  # pandas.NA refuses to be a bool


def as_matrix(data) -> np.ndarray:
    """``data`` (list of lists, ndarray, DataFrame) as a 2-D float array (NaN = missing) when
    every value is a number, else as a 2-D object array."""
    if hasattr(data, "to_numpy") and not isinstance(data, np.ndarray):  # pandas
        try:
            arr = data.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            arr = data.to_numpy(dtype=object)
    elif isinstance(data, np.ndarray) and data.dtype.kind in "fiub":
        arr = data.astype(float, copy=False)
    elif isinstance(data, np.ndarray) and data.dtype.kind in "US":
        # A NumPy text array cannot hold a missing value: every string in it, "None" and "nan"
        # included, is a category. Mark missing ratings with None in an object array.
        arr = data.astype(str).astype(object)
    else:
        try:
            arr = np.asarray(data, dtype=float)
        except (TypeError, ValueError):
            arr = np.asarray(data, dtype=object)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 0)  # [] is a table without units
    if arr.ndim != 2:
        raise AgreementInputError(
            f"expected a units × coders table (2 dimensions), got {arr.ndim} dimension(s)"
            " — pass one row per unit and one column per coder")
    return arr


def encode(data, categories=None) -> Encoded:
    """Map a units × coders matrix to category codes (see :class:`Encoded`).

    ``categories`` declares the possible categories, used or not: numbers are sorted, text keeps
    the order given (so text categories can carry an order for weighted statistics).
    """
    arr = as_matrix(data)
    if arr.dtype == object:
        flat = arr.ravel()
        miss = np.fromiter((_is_missing(v) for v in flat), dtype=bool, count=flat.size)
        present = flat[~miss]
        if all(isinstance(v, numbers.Number) for v in present):
            num = np.full(flat.shape, np.nan)
            num[~miss] = present.astype(float)
            return _encode_numeric(num.reshape(arr.shape), categories)
        if all(isinstance(v, str) for v in present):
            return _encode_text(arr, miss.reshape(arr.shape), present, categories)
        raise AgreementInputError(
            "ratings mix numbers and text — use one kind of value for every category")
    return _encode_numeric(arr, categories)


def _encode_numeric(x: np.ndarray, categories) -> Encoded:
    miss = np.isnan(x)
    if categories is not None:
        try:
            cats = np.asarray(list(categories), dtype=float)
        except (TypeError, ValueError):
            if not miss.all():
                raise AgreementInputError(
                    "the ratings are numbers but the declared categories are not") from None
            return _encode_text(x.astype(object), miss, np.empty(0, dtype=object), categories)
        if np.isnan(cats).any():
            raise AgreementInputError("a declared category is missing (None/NaN)")
        cats = np.unique(cats)
        k = len(cats)
        codes = np.searchsorted(cats, x)  # NaN sorts last → k
        known = miss | (cats[np.minimum(codes, k - 1)] == x) if k else miss
        if not known.all():
            unknown = np.unique(x[~known])[:5]
            raise AgreementInputError(
                f"value(s) {', '.join(_fmt(v) for v in unknown)} not among the declared "
                "categories — add them to categories=")
        codes[miss] = k
        return Encoded(codes.astype(np.intp, copy=False), cats.tolist(), cats, True)
    if miss.all():
        return Encoded(np.zeros(x.shape, dtype=np.intp), [], np.empty(0), True)
    lo = float(np.fmin.reduce(x, axis=None))
    hi = float(np.fmax.reduce(x, axis=None))
    if np.isfinite(lo) and np.isfinite(hi) and hi - lo <= max(1024, x.size):
        # Small integer values (the usual case: 0/1 codes, rating scales): one O(n) pass with a
        # lookup table instead of a sort.
        shifted = np.where(miss, hi + 1.0, x) - lo
        ints = shifted.astype(np.intp)
        if np.array_equal(ints, shifted):
            span = int(hi - lo)
            present = np.bincount(ints.ravel(), minlength=span + 2)[: span + 1] > 0
            k = int(present.sum())
            lookup = np.full(span + 2, k, dtype=np.intp)
            lookup[: span + 1][present] = np.arange(k)
            scores = lo + np.flatnonzero(present).astype(float)
            return Encoded(lookup[ints], scores.tolist(), scores, True)
    scores, inverse = np.unique(x[~miss], return_inverse=True)
    codes = np.full(x.shape, len(scores), dtype=np.intp)
    codes[~miss] = inverse.ravel()
    return Encoded(codes, scores.tolist(), scores.astype(float), True)


def _encode_text(arr: np.ndarray, miss: np.ndarray, present: np.ndarray, categories) -> Encoded:
    if categories is None:
        labels, inverse = np.unique(present.astype(str), return_inverse=True)
        labels = labels.tolist()
    else:
        labels = list(categories)
        if not all(isinstance(c, str) for c in labels):
            raise AgreementInputError(
                "the ratings are text but the declared categories are not")
        if len(set(labels)) != len(labels):
            raise AgreementInputError("declared categories repeat a value")
        index = {c: i for i, c in enumerate(labels)}
        unknown = sorted({v for v in present if v not in index})
        if unknown:
            raise AgreementInputError(
                f"value(s) {', '.join(map(repr, unknown[:5]))} not among the declared "
                "categories — add them to categories=")
        inverse = np.fromiter((index[v] for v in present), dtype=np.intp, count=len(present))
    codes = np.full(arr.shape, len(labels), dtype=np.intp)
    codes[~miss] = inverse.ravel()
    return Encoded(codes, labels, np.arange(1.0, len(labels) + 1.0), False)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def from_contingency(table) -> np.ndarray:
    """A two-coder k × k count table (rows coder A, columns coder B) as an n × 2 matrix of
    categories 0…k−1 (float), one row per counted unit."""
    t = _count_table(table, "contingency table")
    if t.shape[0] != t.shape[1]:
        raise AgreementInputError(
            f"a contingency table is square (k × k), got {t.shape[0]} × {t.shape[1]}")
    k = t.shape[0]
    a, b = np.divmod(np.arange(k * k), k)
    reps = t.ravel()
    return np.column_stack([np.repeat(a, reps), np.repeat(b, reps)]).astype(float)


def from_counts(table) -> np.ndarray:
    """A subjects × categories count table (Fleiss style: cell = raters who chose the category)
    as a subjects × max(raters) matrix of categories 0…k−1 (float), NaN-padded."""
    t = _count_table(table, "count table")
    n_subj, k = t.shape
    per_subject = t.sum(axis=1)
    width = int(per_subject.max()) if n_subj else 0
    values = np.repeat(np.tile(np.arange(k), n_subj), t.ravel())
    rows = np.repeat(np.arange(n_subj), per_subject)
    starts = np.repeat(np.cumsum(per_subject) - per_subject, per_subject)
    out = np.full((n_subj, width), np.nan)
    out[rows, np.arange(len(values)) - starts] = values
    return out


def _count_table(table, what: str) -> np.ndarray:
    try:
        t = np.asarray(table.to_numpy() if hasattr(table, "to_numpy") else table, dtype=float)
    except (TypeError, ValueError):
        raise AgreementInputError(f"a {what} holds counts (numbers)") from None
    if t.ndim != 2:
        raise AgreementInputError(f"a {what} has 2 dimensions, got {t.ndim}")
    if np.isnan(t).any() or (t < 0).any() or (t != np.round(t)).any():
        raise AgreementInputError(f"a {what} holds non-negative whole counts")
    return t.astype(np.intp)
