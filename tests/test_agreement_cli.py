"""`coder agreement`, `disagreements` and `reconcile` end to end on the sample corpus.

Expected values are computed here independently from the coders' CSV files (csv module,
the `krippendorff` package, scikit-learn and textbook formulas), not through coder's code.
"""

from __future__ import annotations

import csv
import json
from itertools import combinations

import jsonschema
import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from conftest import CODEBOOK, CODINGS, CORPUS, SHARED, query

pytestmark = pytest.mark.usefixtures("backend")  # every test on SQLite and PostgreSQL

CODERS = ["alice", "bob", "carol"]
THEMES = ["power_transfer", "reforms", "foreign_policy", "csto_efficacy", "security_community"]


@pytest.fixture
def sample(cli):
    assert cli("import", CORPUS, "--meta", CORPUS / "participants.csv").exit_code == 0
    assert cli("codebook", "load", CODEBOOK).exit_code == 0
    for name in CODERS:
        result = cli("codings", "import", "--new-coder", CODINGS / f"{name}.csv", "--coder", name)
        assert result.exit_code == 0, result.output
    return cli


def csv_matrix(theme: str) -> np.ndarray:
    """units × coders 0/1 from the CSV files: 1 if the coder applied the theme or a sub-code."""
    applied: dict[str, set] = {}
    units: set = set()
    for name in CODERS:
        applied[name] = set()
        with (CODINGS / f"{name}.csv").open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                unit = (row["transcript"], int(row["segment"]))
                units.add(unit)
                if row["code"].split(".")[0] == theme:
                    applied[name].add(unit)
    ordered = sorted(units)
    return np.array([[1.0 if u in applied[c] else 0.0 for c in CODERS] for u in ordered])


def fleiss(m: np.ndarray) -> float:
    n, r = m.shape
    counts = np.stack([(m == 0).sum(1), (m == 1).sum(1)], axis=1)
    p_i = ((counts * (counts - 1)).sum(1)) / (r * (r - 1))
    pi = counts.sum(0) / (n * r)
    pe = (pi ** 2).sum()
    return (p_i.mean() - pe) / (1 - pe)


def gwet_ac1(m: np.ndarray) -> float:
    n, r = m.shape
    counts = np.stack([(m == 0).sum(1), (m == 1).sum(1)], axis=1)
    pa = ((counts * (counts - 1)).sum(1) / (r * (r - 1))).mean()
    pi = (counts / r).mean(0)
    pe = (pi * (1 - pi)).sum() / (2 - 1)
    return (pa - pe) / (1 - pe)


def test_agreement_json_matches_independent_computation(sample):
    result = sample("agreement", "--coders", "alice,bob,carol", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    schema = json.loads((SHARED / "contract" / "agreement.schema.json").read_text())
    jsonschema.validate(report, schema)
    assert report["coders"] == CODERS and report["level"] == "themes"
    assert list(report["themes"]) == THEMES
    pooled = []
    for theme in THEMES:
        m = csv_matrix(theme)
        pooled.append(m)
        got = report["themes"][theme]
        assert got["n_units"] == len(m) == report["units"]
        assert got["krippendorff_alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=m.T, level_of_measurement="nominal"), abs=1e-9)
        assert got["fleiss_kappa"] == pytest.approx(fleiss(m), abs=1e-9)
        assert got["gwet_ac1"] == pytest.approx(gwet_ac1(m), abs=1e-9)
        pa = np.mean([(row == row[0]).all() for row in m])  # 3 coders, 2 categories
        agree = np.mean([sum(a == b for a, b in combinations(row, 2)) / 3 for row in m])
        assert got["percent_agreement"] == pytest.approx(agree, abs=1e-9)
        assert got["brennan_prediger"] == pytest.approx((agree - 0.5) / 0.5, abs=1e-9)
        assert pa <= agree
        for a, b in combinations(range(3), 2):
            pair = got["pairs"][f"{CODERS[a]}~{CODERS[b]}"]
            assert pair["n"] == len(m)
            assert pair["cohen_kappa"] == pytest.approx(cohen_kappa_score(m[:, a], m[:, b]),
                                                        abs=1e-9)
            assert pair["percent_agreement"] == pytest.approx(np.mean(m[:, a] == m[:, b]),
                                                              abs=1e-9)
    stacked = np.concatenate(pooled)
    assert report["overall"]["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=stacked.T, level_of_measurement="nominal"), abs=1e-9)
    alphas = [report["themes"][t]["krippendorff_alpha"] for t in THEMES]
    assert report["overall"]["mean_alpha"] == pytest.approx(np.mean(alphas), abs=1e-12)


def test_bootstrap_interval_brackets_alpha_and_is_reproducible(sample):
    a = json.loads(sample("agreement", "--bootstrap", "300", "--format", "json").stdout)
    b = json.loads(sample("agreement", "--bootstrap", "300", "--format", "json").stdout)
    for theme in THEMES:
        low, high = a["themes"][theme]["alpha_ci"]
        assert low <= a["themes"][theme]["krippendorff_alpha"] <= high
        assert low < high
    assert a == b


def test_by_country_and_codes_level(sample):
    report = json.loads(sample("agreement", "--by", "country", "--codes", "--format",
                               "json").stdout)
    assert report["level"] == "codes" and "codes" in report
    assert set(report["groups"]) == {"Armenia", "Belarus", "Kazakhstan", "Kyrgyzstan",
                                     "Russia", "Tajikistan"}
    assert sum(g["units"] for g in report["groups"].values()) == report["units"]
    result = sample("agreement", "--by", "nationality")
    assert result.exit_code == 1 and "no transcript has the attribute 'nationality'" in result.output


def test_min_alpha_gate(sample):
    ok = sample("agreement", "--min-alpha", "0.5", "--format", "json")
    assert ok.exit_code == 0
    low = min(json.loads(ok.stdout)["themes"].values(), key=lambda s: s["krippendorff_alpha"])
    failed = sample("agreement", "--min-alpha", "0.99", "--format", "json")
    assert failed.exit_code == 1
    assert "error: alpha below 0.99 for" in failed.output
    assert json.loads(failed.stdout.split("error:")[0])["themes"]  # the report is still written
    assert low["krippendorff_alpha"] < 0.99


def test_undefined_alpha_is_null_with_a_reason(cli, tmp_path):
    t = tmp_path / "KZ-01.txt"
    t.write_text("Interviewer: Q?\n\nKZ-01: A.\n\nInterviewer: Q2?\n\nKZ-01: B.\n", "utf-8")
    assert cli("import", t).exit_code == 0
    assert cli("codebook", "load", CODEBOOK).exit_code == 0
    for name in ("alice", "bob"):
        f = tmp_path / f"{name}.csv"
        f.write_text("transcript,segment,code\nKZ-01,2,reforms\nKZ-01,4,reforms\n", "utf-8")
        assert cli("codings", "import", "--new-coder", f, "--coder", name).exit_code == 0
    report = json.loads(cli("agreement", "--format", "json").stdout)
    never = report["themes"]["power_transfer"]
    assert never["krippendorff_alpha"] is None and "no coder applied it" in never["reason"]
    # chance-corrected statistics are undefined with one category: null, never 1.0
    assert never["fleiss_kappa"] is None and never["gwet_ac1"] is None
    assert never["brennan_prediger"] is None
    assert never["pairs"]["alice~bob"]["cohen_kappa"] is None
    assert never["percent_agreement"] == 1.0  # they did agree on every unit
    always = report["themes"]["reforms"]
    assert always["krippendorff_alpha"] is None and "every coder applied it" in always["reason"]
    table = cli("agreement")
    assert "n/a" in table.output and "warning: alpha undefined" in table.output


def test_agreement_needs_two_coders(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert cli("codebook", "load", CODEBOOK).exit_code == 0
    result = cli("agreement")
    assert result.exit_code == 1 and "agreement needs at least two coders" in result.output


def test_disagreements_list_segments_where_coders_differ(sample):
    result = sample("disagreements", "--coders", "alice,bob", "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    expected = 0
    mats = {t: csv_matrix(t) for t in THEMES}
    n_units = len(mats[THEMES[0]])
    for u in range(n_units):
        if any(mats[t][u, 0] != mats[t][u, 1] for t in THEMES):
            expected += 1
    assert len(rows) == expected > 0
    assert all(r["differs on"] and r["text"] for r in rows)
    one = sample("disagreements", "--coders", "alice,bob", "--theme", "reforms", "-f", "json")
    assert all(r["differs on"] == "reforms" for r in json.loads(one.stdout))


def test_majority_reconcile_records_decisions(sample, db_url):
    result = sample("reconcile", "--coders", "alice,bob,carol", "--as", "consensus",
                    "--settled-by", "supervisor")
    assert result.exit_code == 0, result.output
    for theme in THEMES:
        m = csv_matrix(theme)
        want = int((m.sum(1) >= 2).sum())
        [(got,)] = query(
            db_url, "SELECT count(DISTINCT c.segment_id) FROM coding c JOIN coder k ON "
            "k.id = c.coder_id WHERE k.name = 'consensus' AND (c.code_key = :t OR c.code_key "
            "LIKE :sub)", t=theme, sub=theme + ".%")
        assert got == want, theme
    settled = query(db_url, "SELECT DISTINCT settled_by, rule FROM decision")
    assert settled == [("supervisor", "majority")]
    [(sources,)] = query(db_url, "SELECT sources FROM decision LIMIT 1")
    assert set(json.loads(sources)) == set(CODERS)
    assert query(db_url, "SELECT kind FROM coder WHERE name = 'consensus'") == [("consensus",)]
    # the consensus coder is not a default agreement coder
    report = json.loads(sample("agreement", "--format", "json").stdout)
    assert report["coders"] == CODERS


def test_interactive_reconcile_takes_answers(sample, db_url):
    views = json.loads(sample("disagreements", "--coders", "alice,bob", "--codes", "-f",
                              "json").stdout)
    # first disagreement: take bob's codes (=2) and save; second: a typo, then clear the
    # selection, toggle one code and save; then stop
    result = sample("reconcile", "--coders", "alice,bob", "--rule", "interactive", "--as",
                    "settled", input="=2\n\nnonsense\nc\nreforms\n\nq\n")
    assert result.exit_code == 0, result.output
    assert "unknown code or command 'nonsense'" in result.output
    first, second = views[0], views[1]

    def codes(t, n):
        return sorted(r[0] for r in query(
            db_url, "SELECT c.code_key FROM coding c JOIN segment s ON s.id = c.segment_id "
            "JOIN coder k ON k.id = c.coder_id WHERE k.name = 'settled' AND "
            "s.transcript_id = :t AND s.n = :n", t=t, n=n))

    bob = [] if first["bob codes"] == "(none)" else sorted(first["bob codes"].split(", "))
    assert codes(first["transcript"], first["segment"]) == bob
    assert codes(second["transcript"], second["segment"]) == ["reforms"]
    rules = {r[0] for r in query(db_url, "SELECT DISTINCT rule FROM decision")}
    assert rules == {"interactive"}


def test_document_formats_carry_the_pairwise_matrix(sample):
    report = json.loads(sample("agreement", "--format", "json").stdout)
    kappa = report["overall"]["pairs"]["alice~bob"]["cohen_kappa"]
    md = sample("agreement", "--format", "md").stdout
    assert "**Pairwise Cohen's kappa (pooled over all themes)**" in md
    assert f"| alice | — | {kappa:.3f} |" in md
    latex = sample("agreement", "--format", "latex").stdout
    assert latex.count(r"\begin{tabular}") == 2 and r"\toprule" in latex
