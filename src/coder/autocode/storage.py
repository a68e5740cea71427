"""Storing a trained model as plain arrays that cannot run code when they are loaded.

A model read from a project is data someone else may have written (a colleague's project
file, a shared team database), so it is never unpickled. :func:`pack` turns the fitted
scikit-learn pipeline of :mod:`coder.autocode.model` into explicit arrays, and
:func:`unpack` reads them back into a :class:`LinearModel` that predicts with NumPy alone:

1. per block (words, characters): the hashed n-gram counts of ``HashingVectorizer`` (rebuilt
   from its few checked parameters — hashing is stateless), the kept columns of the
   ``NgramSelector``, the TF-IDF weights ``idf`` (``sublinear_tf``: ``1 + log(tf)``, then an
   l2 norm per block), as ``TfidfTransformer`` computes them;
2. per label, one or more linear *members* ``(w, c, a, b)`` whose probabilities are averaged:
   ``p = expit(-(a · (x·w + c) + b))``. Logistic regression is one member with ``a = -1,
   b = 0`` (``p = expit(x·w + c)``); the calibrated linear SVM is one member per calibration
   fold (Platt's sigmoid, ``a_`` and ``b_`` of scikit-learn's ``_SigmoidCalibration``). A
   label that was constant in training has a constant probability instead.

The blob is a NumPy ``.npz`` archive read with ``allow_pickle=False`` after its members'
names and declared sizes are checked; the project stores its SHA-256 next to it, checked
before anything is read. A blob in the old pickle format (or anything else) is refused with
the command that retrains the model.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np

from coder.errors import CoderError

FORMAT = "coder-linear-model"
VERSION = 1
MAX_UNPACKED = 2 ** 31  # bytes the arrays of one model may declare (a few hundred MB is usual)
_HASHING_KEYS = {"analyzer": str, "ngram_range": list, "n_features": int}
_ARRAYS = {"meta", "columns_0", "idf_0", "columns_1", "idf_1", "coef", "intercept", "calib_a",
           "calib_b", "member_label", "oof_transcript", "oof_n", "oof_key", "oof_proba"}


def blob_sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


# --- writing -------------------------------------------------------------------------------

def pack(pipeline, labels: list[str], level: str, classifier: str,
         out_of_fold: dict[tuple[str, int], tuple[str, tuple[float, ...]]]) -> bytes:
    """The arrays of a fitted :func:`coder.autocode.model.build_pipeline` as ``.npz`` bytes."""
    counts, tfidf, classify = pipeline[0], pipeline[1], pipeline[2]
    hashing = []
    for _, vec in counts.transformer_list:
        hashing.append({"analyzer": vec.analyzer, "ngram_range": list(vec.ngram_range),
                        "n_features": int(vec.n_features)})
    arrays: dict[str, np.ndarray] = {}
    for i, (_, block) in enumerate(tfidf.transformer_list):
        selector, transformer = block[0], block[1]
        arrays[f"columns_{i}"] = np.asarray(selector.columns_ - selector.block[0], dtype=np.int64)
        arrays[f"idf_{i}"] = np.asarray(transformer.idf_, dtype=np.float64)
    width = sum(len(arrays[f"columns_{i}"]) for i in range(len(hashing)))
    coef, intercept, calib_a, calib_b, member_label = [], [], [], [], []
    constant: list[float | None] = []
    for j, estimator in enumerate(classify.estimators_):
        members = _members(estimator)
        if members is None:
            constant.append(float(np.ravel(estimator.y_)[0]))
            continue
        constant.append(None)
        for w, c, a, b in members:
            coef.append(np.asarray(w, dtype=np.float64).ravel())
            intercept.append(float(c))
            calib_a.append(float(a))
            calib_b.append(float(b))
            member_label.append(j)
    arrays["coef"] = np.vstack(coef) if coef else np.zeros((0, width))
    arrays["intercept"] = np.asarray(intercept, dtype=np.float64)
    arrays["calib_a"] = np.asarray(calib_a, dtype=np.float64)
    arrays["calib_b"] = np.asarray(calib_b, dtype=np.float64)
    arrays["member_label"] = np.asarray(member_label, dtype=np.int64)
    keys = sorted(out_of_fold)
    arrays["oof_transcript"] = np.asarray([t for t, _ in keys], dtype=str).reshape(len(keys))
    arrays["oof_n"] = np.asarray([n for _, n in keys], dtype=np.int64)
    arrays["oof_key"] = np.asarray([out_of_fold[k][0] for k in keys], dtype=str).reshape(len(keys))
    arrays["oof_proba"] = np.asarray([out_of_fold[k][1] for k in keys],
                                     dtype=np.float64).reshape(len(keys), len(labels))
    meta = {"format": FORMAT, "version": VERSION, "labels": list(labels), "level": level,
            "classifier": classifier, "hashing": hashing, "constant": constant}
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"),
                                   dtype=np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _members(estimator) -> list[tuple] | None:
    """``[(w, c, a, b), …]`` of one label's binary estimator; None for a constant label."""
    if hasattr(estimator, "y_") and not hasattr(estimator, "coef_") \
            and not hasattr(estimator, "calibrated_classifiers_"):
        return None  # scikit-learn's _ConstantPredictor
    if hasattr(estimator, "calibrated_classifiers_"):
        members = []
        for calibrated in estimator.calibrated_classifiers_:
            (calibrator,) = calibrated.calibrators
            svm = calibrated.estimator
            members.append((svm.coef_, svm.intercept_[0], calibrator.a_, calibrator.b_))
        return members
    return [(estimator.coef_, estimator.intercept_[0], -1.0, 0.0)]


# --- reading -------------------------------------------------------------------------------

class LinearModel:
    """A stored model: ``labels``, ``level``, ``out_of_fold`` and :meth:`predict_proba`."""

    def __init__(self, meta: dict, arrays: dict[str, np.ndarray]):
        self.labels: list[str] = meta["labels"]
        self.level: str = meta["level"]
        self.classifier: str = meta["classifier"]
        self._hashing = meta["hashing"]
        self._constant = meta["constant"]
        self._columns = [arrays["columns_0"], arrays["columns_1"]]
        self._idf = [arrays["idf_0"], arrays["idf_1"]]
        self._coef = arrays["coef"]
        self._intercept = arrays["intercept"]
        self._a, self._b = arrays["calib_a"], arrays["calib_b"]
        self._member_label = arrays["member_label"]
        self.out_of_fold = {
            (str(t), int(n)): (str(k), tuple(float(p) for p in row))
            for t, n, k, row in zip(arrays["oof_transcript"], arrays["oof_n"],
                                    arrays["oof_key"], arrays["oof_proba"])}
        self._vectorizers = None

    def features(self, texts: list[str]):
        """TF-IDF features (rows × kept columns, sparse CSR) of ``texts``."""
        from scipy import sparse
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.preprocessing import normalize

        if self._vectorizers is None:
            self._vectorizers = [
                HashingVectorizer(analyzer=h["analyzer"], ngram_range=tuple(h["ngram_range"]),
                                  n_features=h["n_features"], alternate_sign=False, norm=None,
                                  strip_accents="unicode", dtype=np.float32)
                for h in self._hashing]
        blocks = []
        for vec, columns, idf in zip(self._vectorizers, self._columns, self._idf):
            x = vec.transform(texts).tocsr()[:, columns].astype(np.float64)
            x.data = np.log(x.data) + 1.0
            x = x @ sparse.diags(idf)
            blocks.append(normalize(x, norm="l2"))
        return sparse.hstack(blocks, format="csr")

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probability of each label (rows × labels)."""
        from scipy.special import expit

        proba = np.zeros((len(texts), len(self.labels)))
        if not texts:
            return proba
        scores = np.asarray(self.features(texts) @ self._coef.T) + self._intercept
        member = expit(-(self._a * scores + self._b))
        for j, constant in enumerate(self._constant):
            if constant is not None:
                proba[:, j] = constant
                continue
            mine = self._member_label == j
            proba[:, j] = member[:, mine].mean(axis=1)
        return np.clip(proba, 0.0, 1.0)


def unpack(blob: bytes, sha256: str | None, *, name: str, retrain: str) -> LinearModel:
    """Check and read a stored model. ``retrain``: the command that rebuilds it (for errors).

    Refused without reading any array: a blob whose SHA-256 differs from the stored one, a
    blob that is not a coder model archive (an old pickled model included), members other than
    ours, or arrays declaring more than :data:`MAX_UNPACKED` bytes.
    """
    def refuse(problem: str) -> CoderError:
        return CoderError(f"model {name} {problem} — retrain it: {retrain}")

    if not blob.startswith(b"PK\x03\x04"):
        raise refuse("is stored in an old format (a pickle, which could run code when loaded) "
                     "that coder no longer reads")
    if sha256 is None:
        raise refuse("has no stored SHA-256 to check it against")
    if blob_sha256(blob) != sha256:
        raise refuse("does not match its stored SHA-256 (the project was changed outside coder "
                     "or is damaged)")
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            infos = archive.infolist()
            names = {info.filename.removesuffix(".npy") for info in infos}
            if len(infos) != len(names) or names != _ARRAYS:
                raise refuse("has unexpected members in its archive")
            if sum(info.file_size for info in infos) > MAX_UNPACKED:
                raise refuse("declares arrays larger than coder loads")
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in _ARRAYS}
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
        _check(meta, arrays)
    except CoderError:
        raise
    except Exception as exc:  # a damaged archive, object arrays (allow_pickle=False), …
        raise refuse(f"cannot be read ({type(exc).__name__}: {exc})") from exc
    return LinearModel(meta, arrays)


def _check(meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Shapes and types agree with each other (raises ValueError otherwise)."""
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ValueError(f"format {meta.get('format')!r} version {meta.get('version')!r}")
    labels, constant, hashing = meta["labels"], meta["constant"], meta["hashing"]
    if not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        raise ValueError("labels")
    if not (isinstance(constant, list) and len(constant) == len(labels)):
        raise ValueError("constant")
    if not (isinstance(hashing, list) and len(hashing) == 2):
        raise ValueError("hashing")
    for h in hashing:
        if set(h) != set(_HASHING_KEYS) or h["analyzer"] not in ("word", "char_wb") \
                or not (isinstance(h["n_features"], int) and 0 < h["n_features"] <= 2 ** 24) \
                or not (len(h["ngram_range"]) == 2
                        and all(isinstance(n, int) and 0 < n <= 10 for n in h["ngram_range"])):
            raise ValueError("hashing parameters")
    width = 0
    for i, h in enumerate(hashing):
        columns, idf = arrays[f"columns_{i}"], arrays[f"idf_{i}"]
        if columns.ndim != 1 or columns.dtype.kind != "i" or idf.shape != columns.shape:
            raise ValueError(f"block {i}")
        if len(columns) and (columns.min() < 0 or columns.max() >= h["n_features"]):
            raise ValueError(f"block {i} columns")
        width += len(columns)
    members = len(arrays["intercept"])
    if arrays["coef"].shape != (members, width) or arrays["calib_a"].shape != (members,) \
            or arrays["calib_b"].shape != (members,) \
            or arrays["member_label"].shape != (members,):
        raise ValueError("classifier shapes")
    for key in ("coef", "intercept", "calib_a", "calib_b", "idf_0", "idf_1", "oof_proba"):
        if arrays[key].dtype.kind != "f":
            raise ValueError(key)
    n = len(arrays["oof_n"])
    if arrays["oof_transcript"].shape != (n,) or arrays["oof_key"].shape != (n,) \
            or arrays["oof_proba"].shape != (n, len(labels)) \
            or arrays["oof_transcript"].dtype.kind != "U" or arrays["oof_key"].dtype.kind != "U":
        raise ValueError("out-of-fold shapes")
