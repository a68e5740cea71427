"""The learned coder: a text classifier trained on one coder's decisions, measured like a coder.

Training data (:func:`training_data`) are the participant segments a human or consensus coder
reviewed: the segment's text and its labels — the themes the coder applied (a sub-code counts
for its theme), or with ``level="codes"`` the full keys. A segment reviewed without codes is a
negative example for every label.

The model (:func:`build_pipeline`) is a scikit-learn pipeline::

    FeatureUnion(hashed word 1–2-gram counts, hashed char_wb 2–5-gram counts)
      → per block: n-grams of >= 1 (words) / 2 (characters) training segments, TF-IDF
      → OneVsRestClassifier(LogisticRegression(class_weight="balanced"))   # or
      → OneVsRestClassifier(CalibratedClassifierCV(LinearSVC(class_weight="balanced")))

one binary classifier per label (multi-label), balanced class weights because most themes are
rare. It is measured by cross-validation grouped by transcript (:func:`grouped_folds`,
scikit-learn's ``GroupKFold``), so that no interview has segments on both sides of a split
and the figures say how the model does on *new* interviews. From the out-of-fold predictions
(probability >= ``threshold``) we report, per label, precision, recall, F1 and Krippendorff's
alpha (nominal) of the 2-column matrix (human, model) — the same alpha ``coder agreement``
reports for two coders — and overall: micro-averaged precision/recall/F1, macro F1, alpha
pooled over all (segment, label) pairs and the mean of per-label alphas.

The model fitted on all the data is stored in the ``autocode_model`` table — as explicit
arrays that cannot run code when loaded, with their SHA-256 (:mod:`coder.autocode.storage`) —
with the codebook version it was trained under, the training coder, the SHA-256 of the
training rows and the metrics. :func:`apply_model` codes the participant
segments the machine coder has not reviewed yet, storing each code with its probability
(``coding.probability``) and a review with source ``auto``; it refuses a model trained under
another codebook version. Everything is deterministic given the seed.

**Training segments get their out-of-fold prediction.** A model fitted on all of alice's
segments reproduces her decisions on them almost perfectly, so ``coder agreement --coders
alice,auto:model`` on those segments would measure memory, not skill. The stored model keeps
the cross-validated probability of every training segment (keyed by transcript, segment number
and a hash of the text), and :func:`apply_model` uses it for those segments: the agreement
report of ``alice`` against ``auto:model`` then equals the cross-validated figures, and the
agreement with other coders on the same segments is that of a model that never saw the
interview. Segments outside the training data (or whose text changed) get the full model's
prediction.

NumPy and scikit-learn are imported here at module level: only the ``autocode train`` and
``autocode apply`` commands import this module.
"""

from __future__ import annotations

import functools
import hashlib
import json
import warnings
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import and_, delete, insert, select
from sqlalchemy.engine import Connection

from coder.autocode.keywords import machine_coder_name
from coder.codebook import CodebookInfo, require_codebook, theme_of
from coder.coding.store import C, K, R, S, coder_id
from coder.db.engine import Project
from coder.db.models import AutocodeModel, Codebook, utcnow
from coder.errors import CoderError

MODEL_CODER = "auto:model"
CLASSIFIERS = ("logreg", "svm")
LEVELS = ("themes", "codes")
DEFAULT_THRESHOLD = 0.5
_BATCH = 5000

M = AutocodeModel.__table__
CB = Codebook.__table__


# --- training data -----------------------------------------------------------------------

@dataclass
class TrainingData:
    """One row per participant segment the coder reviewed, ordered by (transcript, n).

    ``candidates`` are the possible labels (themes, or every code with ``level="codes"``), in
    codebook order; ``targets[i]`` the labels of row ``i``.
    """

    coder: str
    level: str
    codebook: CodebookInfo
    candidates: list[str]
    transcripts: list[str]
    numbers: list[int]
    texts: list[str]
    targets: list[tuple[str, ...]]
    #: each row's language, and the text its features are built from (lemmas for Russian;
    #: see :func:`coder.lang.model_text`)
    languages: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.languages:
            self.languages = ["en"] * len(self.texts)
        if not self.features:
            from coder.lang import model_text

            self.features = [model_text(t, lang) for t, lang in zip(self.texts,
                                                                    self.languages)]

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def sha256(self) -> str:
        """SHA-256 of the JSON of the sorted ``[transcript, n, text, [labels…]]`` rows."""
        rows = sorted(zip(self.transcripts, self.numbers, self.texts,
                          (list(t) for t in self.targets)))
        blob = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def matrix(self, labels: list[str]) -> np.ndarray:
        """``Y[i, j]`` = 1 when row ``i`` has ``labels[j]`` (int8, rows × labels)."""
        index = {k: j for j, k in enumerate(labels)}
        y = np.zeros((len(self), len(labels)), dtype=np.int8)
        for i, target in enumerate(self.targets):
            for key in target:
                if key in index:
                    y[i, index[key]] = 1
        return y

    def counts(self) -> dict[str, tuple[int, int]]:
        """``{label: (positive segments, transcripts with a positive)}`` for every candidate."""
        segments = {k: 0 for k in self.candidates}
        transcripts: dict[str, set[str]] = {k: set() for k in self.candidates}
        for tid, target in zip(self.transcripts, self.targets):
            for key in target:
                segments[key] += 1
                transcripts[key].add(tid)
        return {k: (segments[k], len(transcripts[k])) for k in self.candidates}


def training_data(conn: Connection, coder: str, level: str = "themes") -> TrainingData:
    """The participant segments ``coder`` reviewed, with their labels at ``level``.

    Codings whose key is not in the current codebook are ignored.
    """
    if level not in LEVELS:
        raise CoderError(f"unknown level {level!r} — use themes or codes")
    codebook = require_codebook(conn)
    kind = conn.execute(select(C.c.kind).where(C.c.name == coder)).scalar()
    cid = coder_id(conn, coder)
    if kind == "machine":
        raise CoderError(f"{coder} is a machine coder — train from a person's or the "
                         "consensus's codings, e.g. --from alice or --from consensus")
    candidates = ([c.key for c in codebook.themes] if level == "themes"
                  else [c.key for c in codebook.codes if c.codable])
    known = set(candidates) if level == "codes" else set(codebook.keys)
    rows = conn.execute(
        select(S.c.id, S.c.transcript_id, S.c.n, S.c.text)
        .join(R, and_(R.c.segment_id == S.c.id, R.c.coder_id == cid))
        .where(S.c.role == "participant").order_by(S.c.transcript_id, S.c.n)).all()
    labels: dict[int, set[str]] = {}
    for sid, key in conn.execute(select(K.c.segment_id, K.c.code_key)
                                 .where(K.c.coder_id == cid)):
        if key in known:
            labels.setdefault(sid, set()).add(theme_of(key) if level == "themes" else key)
    if not rows:
        raise CoderError(f"{coder} has not reviewed any participant segment — import their "
                         "codings or code with `coder code` first")
    from coder.lang import transcript_languages

    languages = transcript_languages(conn)
    order = {k: i for i, k in enumerate(candidates)}
    return TrainingData(
        coder=coder, level=level, codebook=codebook, candidates=candidates,
        transcripts=[r.transcript_id for r in rows], numbers=[r.n for r in rows],
        texts=[r.text for r in rows],
        targets=[tuple(sorted(labels.get(r.id, ()), key=order.__getitem__)) for r in rows],
        languages=[languages.get(r.transcript_id, "en") for r in rows])


def check_examples(data: TrainingData, folds: int, *, skip_rare: bool = False
                   ) -> tuple[list[str], dict[str, dict]]:
    """The labels to train and those skipped as too rare: ``(labels, {label: counts})``.

    Cross-validation with ``folds`` folds needs at least ``folds`` transcripts, and for every
    label at least ``folds`` positive segments spread over at least ``folds`` transcripts, and
    at least ``folds`` negative segments. A label below that is a :class:`CoderError` naming
    it with its counts, unless ``skip_rare`` (then it is left out and listed as skipped).
    """
    if folds < 2:
        raise CoderError(f"--folds {folds}: cross-validation needs at least 2 folds")
    n_transcripts = len(set(data.transcripts))
    if n_transcripts < folds:
        fix = (f"use --folds {n_transcripts} or code more transcripts" if n_transcripts >= 2
               else "code segments of more transcripts")
        raise CoderError(f"{data.coder} reviewed segments of only {n_transcripts} "
                         f"transcript(s), fewer than the {folds} folds (cross-validation "
                         f"groups by transcript) — {fix}")
    rare: dict[str, dict] = {}
    for key, (positives, transcripts) in data.counts().items():
        negatives = len(data) - positives
        if positives < folds or transcripts < folds or negatives < folds:
            rare[key] = {"positives": positives, "transcripts": transcripts,
                         "negatives": negatives}
    if rare and not skip_rare:
        what = "theme" if data.level == "themes" else "code"
        listing = "; ".join(
            f"{k}: {c['positives']} positive segment(s) in {c['transcripts']} transcript(s)"
            + (f", {c['negatives']} negative(s)" if c["negatives"] < folds else "")
            for k, c in rare.items())
        raise CoderError(
            f"too few examples by {data.coder} to train and cross-validate with {folds} "
            f"folds — {listing}; each {what} needs at least {folds} positive segments in at "
            f"least {folds} transcripts (and {folds} negatives): code more segments, use "
            "fewer --folds, or pass --skip-rare to leave these out")
    labels = [k for k in data.candidates if k not in rare]
    if not labels:
        raise CoderError(f"every {data.level[:-1]} is too rare in {data.coder}'s codings to "
                         f"train with {folds} folds — code more segments or use fewer --folds")
    return labels, rare


# --- model and cross-validation ----------------------------------------------------------

def grouped_folds(groups, folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``folds`` (train indices, test indices) splits keeping each group on one side.

    scikit-learn's ``GroupKFold``: every group (transcript) is in exactly one test fold, and
    never in the training part of that fold. The groups are shuffled with ``seed`` and dealt
    into folds of (nearly) equal numbers of groups (scikit-learn 1.6+; older versions do not
    shuffle and balance the folds' rows instead).
    """
    from sklearn.model_selection import GroupKFold

    groups = np.asarray(groups, dtype=object)
    if len(set(groups.tolist())) < folds:
        raise CoderError(f"only {len(set(groups.tolist()))} transcript(s) for {folds} folds — "
                         "use fewer --folds")
    try:
        splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    except TypeError:  # scikit-learn < 1.6: no shuffling, still deterministic
        splitter = GroupKFold(n_splits=folds)
    dummy = np.zeros(len(groups))
    return [(train, test) for train, test in splitter.split(dummy, groups=groups)]


HASH_FEATURES = 2 ** 20  # hashed columns per block (words, characters)


def __getattr__(name: str):
    # NgramSelector subclasses scikit-learn's BaseEstimator, so it is built on first use (see
    # _ngram_selector); pickle finds it here when a stored model is loaded.
    if name == "NgramSelector":
        return _ngram_selector()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _ngram_selector() -> type:
    """The class ``NgramSelector``, defined when first needed so that importing this module
    (e.g. to list models) does not import scikit-learn."""
    from sklearn.base import BaseEstimator, TransformerMixin

    class NgramSelector(TransformerMixin, BaseEstimator):
        """One block of hashed n-gram counts, reduced to the n-grams of >= ``min_df`` rows.

        ``block`` is the ``(start, stop)`` column range of the block in the counts matrix.
        Fitted on the training rows, it keeps the columns at least ``min_df`` of them have —
        what ``TfidfVectorizer(min_df=…)`` does with its vocabulary, which
        ``HashingVectorizer`` has not — so the classifier's cost follows the n-grams actually
        seen, not the 2^20 hash buckets. (scikit-learn's ``ColumnTransformer`` would select
        the block too, but spends seconds validating two million column indices.) Output:
        the kept columns only.
        """

        def __init__(self, block: tuple[int, int] = (0, 0), min_df: int = 1):
            self.block = block
            self.min_df = min_df

        def fit(self, x, y=None):
            start, stop = self.block
            df = np.bincount(x[:, start:stop].tocsr().indices, minlength=stop - start)
            self.columns_ = start + np.flatnonzero(df >= self.min_df)
            return self

        def transform(self, x):
            return x.tocsr()[:, self.columns_]

    NgramSelector.__module__ = __name__
    NgramSelector.__qualname__ = "NgramSelector"
    return NgramSelector


def build_pipeline(classifier: str = "logreg", seed: int = 0):
    """The unfitted pipeline: word 1–2-gram + char_wb 2–5-gram TF-IDF → one-vs-rest classifier.

    Steps:

    1. ``counts``: a ``FeatureUnion`` of two ``HashingVectorizer`` (word 1–2-grams;
       ``char_wb`` 2–5-grams), raw counts, 2^20 columns each. Hashing is stateless, so
       cross-validation tokenizes every segment once for all folds (the costly part), and no
       vocabulary is learnt from test folds.
    2. ``tfidf``: a ``FeatureUnion`` of, per block, the n-grams of at least ``min_df``
       training segments (:class:`NgramSelector`; 1 for words, 2 for characters: one-off
       character n-grams are mostly noise) and their TF-IDF (``sublinear_tf``, l2 norm per
       block), fitted on the training rows — what a ``TfidfVectorizer`` per block joined by a
       ``FeatureUnion`` computes, up to hash collisions.
    3. ``classify``: one binary classifier per label. ``logreg``:
       ``LogisticRegression(class_weight="balanced")``; ``svm``: ``LinearSVC`` with balanced
       weights, calibrated to probabilities (Platt scaling, 3-fold).
    """
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline

    NgramSelector = _ngram_selector()
    if classifier not in CLASSIFIERS:
        raise CoderError(f"unknown classifier {classifier!r} — use logreg or svm")
    hashing = {"n_features": HASH_FEATURES, "alternate_sign": False, "norm": None,
               "strip_accents": "unicode", "dtype": np.float32}
    counts = FeatureUnion([
        ("words", HashingVectorizer(ngram_range=(1, 2), **hashing)),
        ("chars", HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), **hashing)),
    ])
    words, chars = (0, HASH_FEATURES), (HASH_FEATURES, 2 * HASH_FEATURES)
    tfidf = FeatureUnion([
        ("words", make_pipeline(NgramSelector(words, 1), TfidfTransformer(sublinear_tf=True))),
        ("chars", make_pipeline(NgramSelector(chars, 2), TfidfTransformer(sublinear_tf=True))),
    ])
    if classifier == "logreg":
        estimator = LogisticRegression(class_weight="balanced", max_iter=2000,
                                       random_state=seed)
    else:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        estimator = CalibratedClassifierCV(
            LinearSVC(class_weight="balanced", random_state=seed), method="sigmoid", cv=3)
    return Pipeline([("counts", counts), ("tfidf", tfidf),
                     ("classify", OneVsRestClassifier(estimator))])


def token_counts(texts: list[str]):
    """The stateless first step of :func:`build_pipeline` applied to ``texts`` (sparse)."""
    with _single_blas_thread():
        return build_pipeline()[0].transform(texts)


def _single_blas_thread():
    """BLAS limited to one thread: the per-label problems are small, and a multi-threaded
    BLAS spinning on a busy machine made fitting ten times slower in our measurements."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _fit(pipeline, x, y: np.ndarray):
    """Fit ``pipeline`` on texts or on their :func:`token_counts` (then pass ``pipeline[1:]``)."""
    with warnings.catch_warnings(), _single_blas_thread():
        # A label absent from a training fold gets a constant predictor; that is expected.
        warnings.filterwarnings("ignore", message="Label .* is present in all training",
                                category=UserWarning)
        try:
            return pipeline.fit(x, y[:, 0] if y.shape[1] == 1 else y)
        except ValueError as exc:
            raise CoderError(f"the classifier could not be fitted ({exc}) — with --classifier "
                             "svm every label needs a few more examples; try --classifier "
                             "logreg or --skip-rare") from exc


def _proba(pipeline, x, n_labels: int) -> np.ndarray:
    """Probability of each label (rows × labels) for texts (or counts, as in :func:`_fit`)."""
    with _single_blas_thread():
        p = np.asarray(pipeline.predict_proba(x), dtype=np.float64)
    return p[:, 1:] if n_labels == 1 else p


def label_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Precision, recall, F1 and Krippendorff's alpha (nominal) of one label.

    ``y_true``, ``y_pred``: 0/1 vectors over the same segments. precision = TP/(TP+FP),
    recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN) (= 2PR/(P+R)), each ``None`` when its
    denominator is 0; alpha of the segments × 2 matrix (human, model), ``None`` when
    undefined (no variation).
    """
    from coder.agreement import krippendorff_alpha

    tp = int(((y_true == 1) & (y_pred == 1)).sum())
    fp = int(((y_true == 0) & (y_pred == 1)).sum())
    fn = int(((y_true == 1) & (y_pred == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    alpha = krippendorff_alpha(np.column_stack([y_true, y_pred]).astype(float), "nominal")
    return {"positives": int(y_true.sum()), "predicted": int(y_pred.sum()),
            "precision": _round(precision), "recall": _round(recall), "f1": _round(f1),
            "krippendorff_alpha": _round(alpha)}


def _round(x) -> float | None:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return round(float(x), 6)


def cross_validate(data: TrainingData, labels: list[str], *, folds: int = 5, seed: int = 0,
                   classifier: str = "logreg", threshold: float = DEFAULT_THRESHOLD,
                   counts=None) -> dict:
    """Out-of-fold metrics of the pipeline, grouped by transcript (see the module docstring).

    Returns ``{"labels": {label: label_metrics + transcripts}, "overall": {…},
    "test_transcripts": [[ids of fold 1], …], "proba": out-of-fold probabilities (rows ×
    labels)}``. ``counts``: the :func:`token_counts` of ``data.texts``, if already computed.
    Each fold fits the pipeline after its stateless first step on the training rows only.
    """
    from coder.agreement import krippendorff_alpha

    y = data.matrix(labels)
    counts = token_counts(data.features) if counts is None else counts
    proba = np.zeros(y.shape, dtype=np.float64)
    test_transcripts = []
    for train, test in grouped_folds(data.transcripts, folds, seed):
        fitted = _fit(build_pipeline(classifier, seed)[1:], counts[train], y[train])
        proba[test] = _proba(fitted, counts[test], len(labels))
        test_transcripts.append(sorted({data.transcripts[i] for i in test}))
    pred = (proba >= threshold).astype(np.int8)
    counts = data.counts()
    per_label = {}
    for j, key in enumerate(labels):
        per_label[key] = label_metrics(y[:, j], pred[:, j])
        per_label[key]["transcripts"] = counts[key][1]
    tp = int(((y == 1) & (pred == 1)).sum())
    fp = int(((y == 0) & (pred == 1)).sum())
    fn = int(((y == 1) & (pred == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    f1s = [m["f1"] for m in per_label.values() if m["f1"] is not None]
    alphas = [m["krippendorff_alpha"] for m in per_label.values()
              if m["krippendorff_alpha"] is not None]
    pooled = krippendorff_alpha(np.column_stack([y.ravel(), pred.ravel()]).astype(float),
                                "nominal")
    overall = {"precision": _round(precision), "recall": _round(recall), "f1": _round(f1),
               "macro_f1": _round(float(np.mean(f1s))) if f1s else None,
               "krippendorff_alpha": _round(pooled),
               "mean_alpha": _round(float(np.mean(alphas))) if alphas else None}
    return {"labels": per_label, "overall": overall, "test_transcripts": test_transcripts,
            "proba": proba, "by_language": _by_language(data.languages, y, pred)}


def _by_language(languages: list[str], y: np.ndarray, pred: np.ndarray) -> dict:
    """Pooled out-of-fold alpha, precision, recall and F1 per language, where the data mixes
    languages (empty otherwise)."""
    from coder.agreement import krippendorff_alpha
    from coder.lang import normalizer_name

    if len(set(languages)) < 2:
        return {}
    langs = np.asarray(languages, dtype=object)
    out = {}
    for lang in sorted(set(languages)):
        rows = langs == lang
        yl, pl = y[rows], pred[rows]
        tp, fp = int(((yl == 1) & (pl == 1)).sum()), int(((yl == 0) & (pl == 1)).sum())
        fn = int(((yl == 1) & (pl == 0)).sum())
        alpha = krippendorff_alpha(np.column_stack([yl.ravel(), pl.ravel()]).astype(float),
                                   "nominal")
        out[lang] = {"segments": int(rows.sum()), "words": normalizer_name(lang)
                     if lang != "en" else "as written",
                     "precision": _round(tp / (tp + fp)) if tp + fp else None,
                     "recall": _round(tp / (tp + fn)) if tp + fn else None,
                     "f1": _round(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else None,
                     "krippendorff_alpha": _round(alpha)}
    return out


# --- training and storing ----------------------------------------------------------------

@dataclass
class TrainedModel:
    """A fitted model with its cross-validation report (``metrics``, JSON-able)."""

    name: str
    codebook_id: int
    trained_from: str
    data_sha256: str
    metrics: dict
    pipeline: object
    labels: list[str]
    out_of_fold: dict[tuple[str, int], tuple[str, tuple[float, ...]]] = field(
        default_factory=dict, repr=False)

    def blob(self) -> bytes:
        """The arrays stored in ``autocode_model.blob`` (:func:`coder.autocode.storage.pack`)."""
        from coder.autocode.storage import pack

        return pack(self.pipeline, self.labels, self.metrics["level"],
                    self.metrics["classifier"], self.out_of_fold)


def fit_model(data: TrainingData, *, name: str = MODEL_CODER, folds: int = 5, seed: int = 0,
              classifier: str = "logreg", skip_rare: bool = False,
              threshold: float = DEFAULT_THRESHOLD) -> TrainedModel:
    """Cross-validate, then fit on all of ``data``. Pure: reads and writes no database."""
    name = machine_coder_name(name)
    labels, skipped = check_examples(data, folds, skip_rare=skip_rare)
    counts = token_counts(data.features)
    cv = cross_validate(data, labels, folds=folds, seed=seed, classifier=classifier,
                        threshold=threshold, counts=counts)
    pipeline = build_pipeline(classifier, seed)
    _fit(pipeline[1:], counts, data.matrix(labels))  # the slice shares the fitted steps
    metrics = {
        "model": name, "trained_from": data.coder, "level": data.level,
        "codebook_version": data.codebook.version, "classifier": classifier,
        "folds": folds, "seed": seed, "threshold": threshold,
        "segments": len(data), "transcripts": len(set(data.transcripts)),
        "data_sha256": data.sha256,
        data.level: cv["labels"], "skipped": skipped, "overall": cv["overall"],
        "test_transcripts": cv["test_transcripts"],
    }
    if cv["by_language"]:
        metrics["by_language"] = cv["by_language"]
    out_of_fold = {(t, n): (_text_key(text), tuple(float(p) for p in row))
                   for t, n, text, row in zip(data.transcripts, data.numbers, data.texts,
                                              cv["proba"])}
    return TrainedModel(name, data.codebook.id, data.coder, data.sha256, metrics, pipeline,
                        labels, out_of_fold)


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def save_model(conn: Connection, model: TrainedModel) -> None:
    """Store ``model`` under its name, replacing a previous model of that name."""
    from coder.autocode.storage import blob_sha256

    blob = model.blob()
    conn.execute(delete(M).where(M.c.name == model.name))
    conn.execute(insert(M).values(
        name=model.name, codebook_id=model.codebook_id, trained_from=model.trained_from,
        data_sha256=model.data_sha256, metrics=json.dumps(model.metrics, ensure_ascii=False),
        blob=blob, blob_sha256=blob_sha256(blob), created_at=utcnow()))


def train_model(project: Project, source: str, *, name: str = MODEL_CODER,
                level: str = "themes", folds: int = 5, seed: int = 0,
                classifier: str = "logreg", skip_rare: bool = False) -> TrainedModel:
    """Read ``source``'s decisions, cross-validate and fit, store the model as ``name``.

    Reading and writing are two short transactions; fitting happens in between, so a long
    training never holds the project's write lock.
    """
    name = machine_coder_name(name)
    with project.read() as conn:
        data = training_data(conn, source, level)
    model = fit_model(data, name=name, folds=folds, seed=seed, classifier=classifier,
                      skip_rare=skip_rare)
    with project.write() as conn:
        current = require_codebook(conn)
        if current.id != model.codebook_id:
            raise CoderError("the codebook changed while the model was training — run "
                             "`coder autocode train` again")
        save_model(conn, model)
    return model
