"""`coder autocode keywords|train|apply|models`: machine coders measured like people.

The sample project (11 interviews, the study codebook, alice/bob/carol) is built once per module
and copied for each test with SQLite's backup API; the model is trained once too.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import conftest
from conftest import CODEBOOK, CODINGS, CORPUS, copy_db, q

CODERS = ["alice", "bob", "carol"]
THEMES = ["power_transfer", "reforms", "foreign_policy", "csto_efficacy", "security_community"]


# wide tables (COLUMNS=200): tests read the commands' tables
run = partial(conftest.run, env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    """Corpus with metadata, codebook version 1 and the three coders' codings."""
    db = tmp_path_factory.mktemp("sample") / "sample.db"
    run(db, "import", CORPUS, "--meta", CORPUS / "participants.csv")
    run(db, "codebook", "load", CODEBOOK)
    for name in CODERS:
        run(db, "codings", "import", "--new-coder", CODINGS / f"{name}.csv", "--coder", name)
    return db


@pytest.fixture(scope="module")
def trained_db(sample_db, tmp_path_factory) -> tuple[Path, dict]:
    """The sample project with auto:model trained from alice (seed 0) and applied."""
    db = copy_db(sample_db, tmp_path_factory.mktemp("trained") / "trained.db")
    metrics = json.loads(run(db, "autocode", "train", "--from", "alice", "--seed", "0",
                             "--format", "json").stdout)
    run(db, "autocode", "apply")
    return db, metrics


@pytest.fixture
def sample(sample_db, tmp_path) -> Path:
    return copy_db(sample_db, tmp_path / "project.db")


@pytest.fixture
def trained(trained_db, tmp_path) -> tuple[Path, dict]:
    db, metrics = trained_db
    return copy_db(db, tmp_path / "trained.db"), metrics


def codings_of(db: Path, coder: str) -> list[tuple]:
    return q(db, "SELECT s.transcript_id, s.n, k.code_key, k.probability FROM coding k "
                 "JOIN segment s ON s.id = k.segment_id JOIN coder c ON c.id = k.coder_id "
                 "WHERE c.name = ? ORDER BY 1, 2, 3", coder)


# --- keyword coder ---------------------------------------------------------------------------

def test_inflections_of_plain_keywords():
    from coder.autocode.keywords import keyword_pattern

    cases = {
        "reform": (["reform", "Reforms", "reformed", "reforming"], ["reformist", "preform"]),
        "consolidate": (["consolidates", "consolidated", "consolidating"], ["consolidator"]),
        "early election": (["early elections", "Early  election", "early\nelections"],
                           ["early electioneering"]),
        "reforms": (["reform", "reforms"], ["reformation"]),
        "parties": (["party", "parties"], ["partisan"]),
        "process": (["processes", "processed"], ["procession"]),
        "deployed": (["deployed"], ["deploy"]),
        "csto": (["CSTO", "csto's"], ["cstoic"]),
    }
    for keyword, (hits, misses) in cases.items():
        pattern = keyword_pattern(keyword)
        for text in hits:
            assert pattern.search(f"the {text} here"), (keyword, text)
        for text in misses:
            assert not pattern.search(f"the {text} here"), (keyword, text)
    # a regex keyword is used as written: no stemming added
    assert keyword_pattern(r"/\bcoup\b/").search("a Coup attempt")
    assert not keyword_pattern(r"/\bcoup\b/").search("two coups")


def test_keyword_coder_codes_every_segment_and_measures_like_a_person(sample):
    result = run(sample, "autocode", "keywords")
    assert "auto:keywords: " in result.stderr and "of 84 participant segments got codes" \
        in result.stderr
    # every participant segment is reviewed by the machine coder, with source "auto"
    assert q(sample, "SELECT r.source, count(*) FROM review r JOIN coder c ON c.id = r.coder_id "
                     "WHERE c.name = 'auto:keywords' GROUP BY 1") == [("auto", 84)]
    assert q(sample, "SELECT kind FROM coder WHERE name = 'auto:keywords'") == [("machine",)]
    keys = {row[2] for row in codings_of(sample, "auto:keywords")}
    from coder.codebook import load_codebook_file

    assert keys <= load_codebook_file(CODEBOOK).keys
    # known keywords: KZ-01 #4 speaks of the Security Council and the old circle (dual power),
    # #8 calls the organisation a paper tiger, #10 of a "New Kazakhstan"
    by_segment: dict[tuple, set] = {}
    for tid, n, key, probability in codings_of(sample, "auto:keywords"):
        assert probability is None
        by_segment.setdefault((tid, n), set()).add(key)
    assert "power_transfer.end_of_dual_power" in by_segment[("KZ-01", 4)]
    assert "csto_efficacy.paper_tiger_reversal" in by_segment[("KZ-01", 8)]
    assert "reforms.new_kazakhstan" in by_segment[("KZ-01", 10)]
    # a sub-code implies its theme: the bare theme is not stored next to it
    for keys_here in by_segment.values():
        for key in keys_here:
            assert not any(other.startswith(key + ".") for other in keys_here)

    report = json.loads(run(sample, "agreement", "--coders", "alice,auto:keywords",
                            "--format", "json").stdout)
    assert report["coders"] == ["alice", "auto:keywords"] and report["level"] == "themes"
    assert report["units"] == 84 and list(report["themes"]) == THEMES
    for theme, stats in report["themes"].items():
        assert stats["n_units"] == 84
        assert -1.0 <= stats["krippendorff_alpha"] <= 1.0
        assert 0.0 <= stats["pairs"]["alice~auto:keywords"]["percent_agreement"] <= 1.0
    # the keywords carry real signal: better than chance on the sample
    assert report["overall"]["krippendorff_alpha"] > 0.4


def test_keyword_coder_replaces_its_previous_run_and_theme_level(sample):
    run(sample, "autocode", "keywords")
    first = codings_of(sample, "auto:keywords")
    result = run(sample, "autocode", "keywords", "--themes")
    assert f"replaced {len(first)} previous codings" in result.stderr
    themes = codings_of(sample, "auto:keywords")
    assert {key for _, _, key, _ in themes} <= set(THEMES)
    assert {(t, n, k.split(".")[0]) for t, n, k, _ in first} == {(t, n, k) for t, n, k, _ in themes}
    assert q(sample, "SELECT count(*) FROM review r JOIN coder c ON c.id = r.coder_id "
                     "WHERE c.name = 'auto:keywords'") == [(84,)]


def test_auto_coders_refuse_a_persons_name(sample):
    before = codings_of(sample, "alice")
    result = run(sample, "autocode", "keywords", "--as", "alice", expect=1)
    assert result.stderr.startswith("error: 'alice' is not a machine coder name — auto-coding "
                                    "replaces the coder's codings, so name it auto:SOMETHING")
    assert codings_of(sample, "alice") == before


# --- learned coder ---------------------------------------------------------------------------

def test_train_reports_cross_validated_metrics_per_theme(trained):
    db, metrics = trained
    assert metrics["model"] == "auto:model" and metrics["trained_from"] == "alice"
    assert metrics["level"] == "themes" and metrics["codebook_version"] == 1
    assert metrics["folds"] == 5 and metrics["seed"] == 0 and metrics["segments"] == 84
    assert metrics["transcripts"] == 11 and metrics["skipped"] == {}
    assert list(metrics["themes"]) == THEMES
    alice = alice_theme_counts()
    for theme, m in metrics["themes"].items():
        assert m["positives"] == alice[theme]
        for name in ("precision", "recall", "f1"):
            assert 0.0 <= m[name] <= 1.0
        assert -1.0 <= m["krippendorff_alpha"] <= 1.0
    # the test folds partition the transcripts
    folds = metrics["test_transcripts"]
    assert len(folds) == 5 and sorted(sum(folds, [])) == sorted(p.stem for p in CORPUS.iterdir()
                                                             if p.suffix != ".csv")
    assert metrics["overall"]["f1"] > 0.5
    # the stored row: codebook id, source coder, sha256 of the training rows, the metrics
    (codebook_id, trained_from, sha, stored, blob), = q(
        db, "SELECT codebook_id, trained_from, data_sha256, metrics, length(blob) "
            "FROM autocode_model WHERE name = 'auto:model'")
    assert (codebook_id, trained_from, sha) == (1, "alice", metrics["data_sha256"])
    assert json.loads(stored) == metrics and blob > 1000


def alice_theme_counts() -> dict[str, int]:
    segments: dict[str, set] = {t: set() for t in THEMES}
    with (CODINGS / "alice.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["code"]:
                segments[row["code"].split(".")[0]].add((row["transcript"], row["segment"]))
    return {t: len(s) for t, s in segments.items()}


def test_apply_codes_with_probabilities_and_agreement_equals_cross_validation(trained):
    db, metrics = trained
    rows = codings_of(db, "auto:model")
    assert rows and all(0.5 <= p <= 1.0 for *_, p in rows)
    assert {key for _, _, key, _ in rows} <= set(THEMES)
    assert q(db, "SELECT r.source, count(*) FROM review r JOIN coder c ON c.id = r.coder_id "
                 "WHERE c.name = 'auto:model' GROUP BY 1") == [("auto", 84)]
    # alice vs the model works like any pair, and on the training segments the model's
    # codings are its out-of-fold predictions: the report equals the cross-validated alphas
    report = json.loads(run(db, "agreement", "--coders", "alice,auto:model",
                            "--format", "json").stdout)
    assert report["units"] == 84
    for theme in THEMES:
        assert report["themes"][theme]["krippendorff_alpha"] == pytest.approx(
            metrics["themes"][theme]["krippendorff_alpha"], abs=1e-6)
    assert report["overall"]["krippendorff_alpha"] == pytest.approx(
        metrics["overall"]["krippendorff_alpha"], abs=1e-6)
    three = json.loads(run(db, "agreement", "--coders", "alice,bob,auto:model",
                           "--format", "json").stdout)
    assert set(three["themes"]["reforms"]["pairs"]) == {
        "alice~bob", "alice~auto:model", "bob~auto:model"}
    # nothing left to code: a second apply changes nothing
    result = run(db, "autocode", "apply")
    assert "coded 0 participant segments" in result.stderr
    assert codings_of(db, "auto:model") == rows


def test_training_and_applying_are_deterministic(trained):
    db, metrics = trained
    first = codings_of(db, "auto:model")
    again = json.loads(run(db, "autocode", "train", "--from", "alice", "--seed", "0",
                           "--format", "json").stdout)
    assert again == metrics
    run(db, "autocode", "apply", "--all")
    assert codings_of(db, "auto:model") == first


def test_grouped_folds_never_split_a_transcript():
    from coder.autocode.model import grouped_folds

    rng = np.random.default_rng(7)
    groups = np.repeat([f"T{i:02d}" for i in range(13)], rng.integers(1, 12, size=13))
    rng.shuffle(groups)
    for seed in (0, 1, 2):
        folds = grouped_folds(groups, 5, seed)
        assert len(folds) == 5
        seen = []
        for train, test in folds:
            assert set(groups[train]).isdisjoint(groups[test])
            assert len(train) + len(test) == len(groups)
            seen += list(test)
        assert sorted(seen) == list(range(len(groups)))  # each row tested exactly once
        assert grouped_folds(groups, 5, seed)[0][1].tolist() == folds[0][1].tolist()
    from coder.errors import CoderError

    with pytest.raises(CoderError, match="only 3 transcript"):
        grouped_folds(["a", "a", "b", "c"], 5)


def test_too_few_examples_of_a_theme_is_a_clear_error(sample, tmp_path):
    """dave codes like alice but applied reforms only once."""
    rows, kept = [], False
    with (CODINGS / "alice.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["code"].startswith("reforms"):
                if kept:
                    row["code"] = ""
                kept = True
            rows.append(row)
    sheet = tmp_path / "dave.csv"
    with sheet.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["transcript", "segment", "code", "memo"])
        writer.writeheader()
        writer.writerows(rows)
    run(sample, "codings", "import", "--new-coder", sheet, "--coder", "dave")
    result = run(sample, "autocode", "train", "--from", "dave", expect=1)
    assert result.stderr.startswith(
        "error: too few examples by dave to train and cross-validate with 5 folds — reforms: "
        "1 positive segment(s) in 1 transcript(s); each theme needs at least 5 positive "
        "segments in at least 5 transcripts (and 5 negatives): code more segments, use fewer "
        "--folds, or pass --skip-rare to leave these out")
    assert "Traceback" not in result.output
    assert q(sample, "SELECT count(*) FROM autocode_model") == [(0,)]

    result = run(sample, "autocode", "train", "--from", "dave", "--skip-rare", "--folds", "3",
                 "--format", "json")
    metrics = json.loads(result.stdout)
    assert "reforms" not in metrics["themes"] and len(metrics["themes"]) == 4
    assert metrics["skipped"] == {"reforms": {"positives": 1, "transcripts": 1,
                                              "negatives": 83}}
    assert "warning: left out as too rare (--skip-rare): reforms (1 positive segment(s) in " \
           "1 transcript(s))" in result.stderr


def test_train_refuses_too_few_transcripts_and_machine_coders(trained):
    db, _ = trained
    result = run(db, "autocode", "train", "--from", "alice", "--folds", "12", expect=1)
    assert "error: alice reviewed segments of only 11 transcript(s), fewer than the 12 folds " \
           "(cross-validation groups by transcript) — use --folds 11" in result.stderr
    result = run(db, "autocode", "train", "--from", "auto:model", expect=1)
    assert "error: auto:model is a machine coder — train from a person's or the consensus's " \
           "codings" in result.stderr
    result = run(db, "autocode", "train", "--from", "nobody", expect=1)
    assert "error: no coder 'nobody' in the project" in result.stderr


def test_apply_refuses_a_model_of_another_codebook_version(trained, tmp_path):
    db, _ = trained
    changed = tmp_path / "csto-2022-v2.yaml"
    changed.write_text(CODEBOOK.read_text(encoding="utf-8").replace(
        "        - transit\n", "        - transit\n        - succession\n", 1), encoding="utf-8")
    run(db, "codebook", "load", changed)
    before = codings_of(db, "auto:model")
    result = run(db, "autocode", "apply", "--all", expect=1)
    assert result.stderr.strip() == (
        "error: model auto:model was trained with codebook version 1, but the project's "
        "codebook is now version 2 — retrain it: coder autocode train --from alice "
        "--as auto:model")
    assert codings_of(db, "auto:model") == before
    # retraining (here with the table output, to a file) under version 2 makes apply work
    result = run(db, "autocode", "train", "--from", "alice", "--folds", "3",
                 "-o", tmp_path / "cv.txt")
    table = (tmp_path / "cv.txt").read_text(encoding="utf-8")
    assert "3-fold cross-validation grouped by transcript" in table
    assert all(theme in table for theme in THEMES) and "macro F1" in table
    assert "saved model auto:model (codebook version 2, trained from alice on 84 segments of " \
           "11 transcripts)" in result.stderr
    run(db, "autocode", "apply", "--all")
    assert q(db, "SELECT DISTINCT k.codebook_id FROM coding k JOIN coder c ON c.id = "
                 "k.coder_id WHERE c.name = 'auto:model'") == [(2,)]


def test_apply_without_a_model_and_models_listing(sample, trained, tmp_path):
    result = run(sample, "autocode", "apply", expect=1)
    assert result.stderr.startswith("error: no trained model 'auto:model' (models: none yet) — "
                                    "train one with `coder autocode train --from CODER "
                                    "--as auto:model`")
    db, metrics = trained
    listing = json.loads(run(db, "autocode", "models", "--format", "json").stdout)
    assert listing == [metrics]
    run(db, "autocode", "models", "-o", tmp_path / "models.txt")
    table = (tmp_path / "models.txt").read_text(encoding="utf-8")
    assert "auto:model" in table and "alice" in table and "themes" in table


def test_cli_modules_do_not_import_scikit_learn():
    import subprocess
    import sys

    code = ("import sys, coder.cli, coder.cli.autocode, coder.autocode, coder.autocode.keywords; "
            "print(sorted(m for m in ('sklearn', 'numpy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- stored models cannot run code (issue 20) -------------------------------------------------

class _Planted:
    """Unpickling this creates the marker file: what an attacker's blob would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("with_hash", [True, False])
def test_a_planted_pickle_is_refused_and_never_runs(trained, tmp_path, with_hash):
    import hashlib
    import pickle

    db, _ = trained
    # the payload is live: unpickling it elsewhere does create its marker
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Planted(probe)))
    assert probe.exists()
    marker = tmp_path / "pwned"
    blob = pickle.dumps({"pipeline": _Planted(marker), "labels": THEMES})
    digest = hashlib.sha256(blob).hexdigest() if with_hash else None
    con = sqlite3.connect(db)
    con.execute("UPDATE autocode_model SET blob = ?, blob_sha256 = ?", (blob, digest))
    con.commit()
    con.close()
    before = codings_of(db, "auto:model")
    result = run(db, "autocode", "apply", "--all", expect=1)
    assert result.stderr.strip() == (
        "error: model auto:model is stored in an old format (a pickle, which could run code "
        "when loaded) that coder no longer reads — retrain it: coder autocode train --from "
        "alice --as auto:model")
    assert not marker.exists()
    assert codings_of(db, "auto:model") == before


def test_a_changed_model_blob_is_refused_by_its_hash(trained):
    db, _ = trained
    (blob,), = q(db, "SELECT blob FROM autocode_model")
    con = sqlite3.connect(db)
    con.execute("UPDATE autocode_model SET blob = ?", (blob[:-1] + bytes([blob[-1] ^ 1]),))
    con.commit()
    con.close()
    result = run(db, "autocode", "apply", "--all", expect=1)
    assert "error: model auto:model does not match its stored SHA-256" in result.stderr


def test_the_stored_blob_is_a_plain_array_archive(trained):
    import io
    import zipfile

    db, _ = trained
    (blob, digest), = q(db, "SELECT blob, blob_sha256 FROM autocode_model")
    import hashlib

    assert hashlib.sha256(blob).hexdigest() == digest
    names = zipfile.ZipFile(io.BytesIO(blob)).namelist()
    assert all(n.endswith(".npy") for n in names) and "coef.npy" in names
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:  # no object arrays
        assert all(npz[n.removesuffix(".npy")].dtype != object for n in names)


@pytest.mark.parametrize("classifier", ["logreg", "svm"])
def test_stored_arrays_predict_exactly_like_the_fitted_pipeline(classifier):
    from coder.autocode.model import _fit, _proba, build_pipeline
    from coder.autocode.storage import blob_sha256, pack, unpack

    rng = np.random.default_rng(3)
    words = ["troops", "reform", "power", "treaty", "border", "market", "election", "union"]
    texts = [" ".join(rng.choice(words, size=12)) for _ in range(80)]
    y = np.column_stack([[int("troops" in t and "border" in t) for t in texts],
                         [int("reform" in t) for t in texts],
                         np.ones(len(texts), dtype=int)])  # a label constant in training
    pipeline = _fit(build_pipeline(classifier, seed=0), texts, y)
    blob = pack(pipeline, ["a", "b", "c"], "themes", classifier, {("T", 1): ("k", (0.1,) * 3)})
    model = unpack(blob, blob_sha256(blob), name="auto:x", retrain="…")
    new = [" ".join(rng.choice(words, size=9)) for _ in range(30)] + ["unseen words only"]
    expected = _proba(pipeline, new, 3)
    assert np.allclose(model.predict_proba(new), expected, atol=1e-6)
    assert model.out_of_fold == {("T", 1): ("k", (0.1, 0.1, 0.1))}
