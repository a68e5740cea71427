"""Stored models and applying them: the learned coder codes segments (see :mod:`.model`).

:func:`apply_model` codes the participant segments the machine coder has not reviewed yet,
storing each code with its probability (``coding.probability``) and a review with source
``auto``; it refuses a model trained under another codebook version. Training segments get
their stored out-of-fold prediction (the module docstring of :mod:`.model` says why).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from coder.autocode.keywords import machine_coder_name
from coder.autocode.model import (
    _BATCH, CB, DEFAULT_THRESHOLD, MODEL_CODER, M, _text_key,
)
from coder.codebook import require_codebook
from coder.coding.store import C, K, R, S, get_or_create_coder
from coder.db.engine import Project
from coder.db.models import utcnow
from coder.errors import CoderError, NotFoundError


# --- stored models -----------------------------------------------------------------------

@dataclass
class StoredModel:
    """A row of ``autocode_model`` (``metrics`` parsed; ``blob`` not read yet)."""

    name: str
    codebook_id: int
    codebook_version: int | None
    trained_from: str
    data_sha256: str
    metrics: dict
    created_at: object
    blob: bytes = field(repr=False, default=b"")
    blob_sha256: str | None = None

    def load(self):
        """The model as a :class:`coder.autocode.storage.LinearModel`, after its SHA-256 and
        format are checked; an old pickled model is refused, never unpickled."""
        from coder.autocode.storage import unpack

        return unpack(self.blob, self.blob_sha256, name=self.name,
                      retrain=f"coder autocode train --from {self.trained_from} --as {self.name}")


def stored_models(conn: Connection, name: str | None = None, *, blob: bool = False
                  ) -> list[StoredModel]:
    """Stored models (all, or the one named), by name; ``blob`` reads the blobs too."""
    columns = [M.c.name, M.c.codebook_id, CB.c.version, M.c.trained_from, M.c.data_sha256,
               M.c.metrics, M.c.created_at] + ([M.c.blob, M.c.blob_sha256] if blob else [])
    query = select(*columns).join(CB, CB.c.id == M.c.codebook_id, isouter=True).order_by(M.c.name)
    if name is not None:
        query = query.where(M.c.name == name)
    return [StoredModel(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6],
                        r[7] if blob else b"", r[8] if blob else None)
            for r in conn.execute(query)]


def require_model(conn: Connection, name: str) -> StoredModel:
    """The stored model ``name``, checked against the current codebook version."""
    found = stored_models(conn, name, blob=True)
    if not found:
        names = [m.name for m in stored_models(conn)]
        raise NotFoundError(f"no trained model {name!r} (models: "
                            f"{', '.join(names) or 'none yet'}) — train one with "
                            f"`coder autocode train --from CODER --as {name}`")
    model = found[0]
    current = require_codebook(conn)
    if model.codebook_id != current.id:
        trained = model.codebook_version if model.codebook_version is not None else "?"
        raise CoderError(
            f"model {name} was trained with codebook version {trained}, but the project's "
            f"codebook is now version {current.version} — retrain it: coder autocode train "
            f"--from {model.trained_from} --as {name}")
    return model


# --- applying ----------------------------------------------------------------------------

@dataclass
class ApplyReport:
    """What :func:`apply_model` did: ``segments`` newly coded, ``coded`` of them with at least
    one code, ``codings`` stored, ``replaced`` previous codings removed (``--all``);
    ``out_of_fold`` segments were training segments given their cross-validated prediction."""

    model: str
    coder: str
    threshold: float
    out_of_fold: int = 0
    segments: int = 0
    coded: int = 0
    codings: int = 0
    replaced: int = 0
    by_code: dict[str, int] = field(default_factory=dict)


def predict(model: StoredModel, texts: list[str]) -> tuple[list[str], np.ndarray]:
    """``(labels, probabilities rows × labels)`` of the fitted model on ``texts``."""
    return _predict(model.load(), texts)


def _predict(loaded, texts: list[str]) -> tuple[list[str], np.ndarray]:
    labels = loaded.labels
    if not texts:
        return labels, np.zeros((0, len(labels)))
    parts = [loaded.predict_proba(texts[i:i + _BATCH]) for i in range(0, len(texts), _BATCH)]
    return labels, np.vstack(parts)


def segment_probabilities(loaded, rows, languages: dict[str, str] | None = None
                          ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Probabilities for ``rows`` (with ``transcript_id``, ``n``, ``text``): the out-of-fold
    ones for training segments whose text is unchanged, the fitted model's for the others.

    Returns ``(labels, probabilities rows × labels, out-of-fold flag per row)``.
    """
    labels = loaded.labels
    oof = loaded.out_of_fold
    proba = np.zeros((len(rows), len(labels)))
    fresh = []
    for i, row in enumerate(rows):
        stored = oof.get((row.transcript_id, row.n))
        if stored is not None and stored[0] == _text_key(row.text):
            proba[i] = stored[1]
        else:
            fresh.append(i)
    if fresh:
        from coder.lang import model_text

        languages = languages or {}
        proba[fresh] = _predict(loaded, [model_text(rows[i].text,
                                                    languages.get(rows[i].transcript_id, "en"))
                                         for i in fresh])[1]
    from_oof = np.ones(len(rows), dtype=bool)
    from_oof[fresh] = False
    return labels, proba, from_oof


def apply_model(project: Project, name: str = MODEL_CODER, *, coder: str | None = None,
                threshold: float = DEFAULT_THRESHOLD, recode: bool = False) -> ApplyReport:
    """Code with model ``name`` the participant segments ``coder`` (default: the model's
    name) has not reviewed; ``recode`` replaces the coder's codings on every segment.

    A code is applied when its probability is >= ``threshold``; the coding keeps the
    probability. Every segment coded gets a review (source ``auto``). Training segments get
    their out-of-fold probabilities (see the module docstring).
    """
    if not 0.0 < threshold <= 1.0:
        raise CoderError(f"--threshold {threshold}: give a probability in (0, 1], e.g. 0.5")
    coder = machine_coder_name(coder or name)
    with project.read() as conn:
        model = require_model(conn, name)
        done = set() if recode else _reviewed(conn, coder)
        rows = [r for r in conn.execute(
            select(S.c.id, S.c.transcript_id, S.c.n, S.c.text).where(S.c.role == "participant")
            .order_by(S.c.transcript_id, S.c.n)) if r.id not in done]
        from coder.lang import transcript_languages

        languages = transcript_languages(conn)
    labels, proba, from_oof = segment_probabilities(model.load(), rows, languages)
    report = ApplyReport(name, coder, threshold)
    with project.write() as conn:
        if model.codebook_id != require_codebook(conn).id:
            raise CoderError("the codebook changed while the model was applied — run "
                             "`coder autocode apply` again")
        cid = get_or_create_coder(conn, coder)
        if recode:
            report.replaced = conn.execute(delete(K).where(K.c.coder_id == cid)).rowcount
            conn.execute(delete(R).where(R.c.coder_id == cid))
            done = set()
        else:
            done = _reviewed(conn, coder)  # another run may have coded some meanwhile
        now = utcnow()
        reviews, codings = [], []
        for i, row in enumerate(rows):
            if row.id in done:
                continue
            reviews.append({"coder_id": cid, "segment_id": row.id, "memo": None,
                            "source": "auto", "reviewed_at": now})
            hits = [(labels[j], float(proba[i, j]))
                    for j in np.flatnonzero(proba[i] >= threshold)]
            codings += [{"coder_id": cid, "segment_id": row.id, "code_key": key,
                         "codebook_id": model.codebook_id, "memo": None,
                         "probability": round(p, 6), "created_at": now} for key, p in hits]
            report.coded += bool(hits)
            report.out_of_fold += bool(from_oof[i])
            for key, _ in hits:
                report.by_code[key] = report.by_code.get(key, 0) + 1
        for i in range(0, len(reviews), _BATCH):
            conn.execute(insert(R), reviews[i:i + _BATCH])
        for i in range(0, len(codings), _BATCH):
            conn.execute(insert(K), codings[i:i + _BATCH])
        report.segments, report.codings = len(reviews), len(codings)
    report.by_code = {k: report.by_code[k] for k in labels if k in report.by_code}
    return report


def _reviewed(conn: Connection, coder: str) -> set[int]:
    cid = conn.execute(select(C.c.id).where(C.c.name == coder)).scalar()
    if cid is None:
        return set()
    return set(conn.execute(select(R.c.segment_id).where(R.c.coder_id == cid)).scalars())

