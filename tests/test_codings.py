"""`coder codings import|export` and `coder status`: SPEC §5 and the review semantics of §6."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import CODEBOOK, dump_url, query

pytestmark = pytest.mark.usefixtures("backend")  # every test on SQLite and PostgreSQL

TRANSCRIPT = ("Interviewer: What happened?\n\nKZ-01: Power passed on; the dual power ended.\n\n"
              "Interviewer: And the CSTO?\n\nKZ-01: Troops arrived within days.\n\n"
              "Interviewer: Anything else?\n\nKZ-01: Reforms and a referendum followed.\n")


@pytest.fixture
def coded(cli, tmp_path):
    """A project with one transcript (participant segments 2, 4, 6) and the study codebook."""
    t = tmp_path / "in" / "KZ-01.txt"
    t.parent.mkdir()
    t.write_text(TRANSCRIPT, encoding="utf-8")
    assert cli("import", t).exit_code == 0
    assert cli("codebook", "load", CODEBOOK).exit_code == 0
    return cli


def sheet(tmp_path: Path, rows: list[list], name="codings.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["transcript", "segment", "code", "memo"], *rows])
    return path


def test_import_stores_codings_and_covers_every_participant_segment(coded, db_url, tmp_path):
    f = sheet(tmp_path, [["KZ-01", 2, "power_transfer.end_of_dual_power", "clear case"],
                         ["KZ-01", 4, "csto_efficacy.rapid_deployment", ""],
                         ["KZ-01", 4, "csto_efficacy", ""]])
    result = coded("codings", "import", "--new-coder", f, "--coder", "alice")
    assert result.exit_code == 0, result.output
    assert sorted(query(db_url, "SELECT s.n, c.code_key FROM coding c JOIN segment s ON "
                                 "s.id = c.segment_id")) == [
        (2, "power_transfer.end_of_dual_power"), (4, "csto_efficacy"),
        (4, "csto_efficacy.rapid_deployment")]
    # segment 6 is not in the file but the import covers the whole transcript (SPEC §6)
    assert sorted(query(db_url, "SELECT s.n FROM review r JOIN segment s ON s.id = r.segment_id")) \
        == [(2,), (4,), (6,)]
    assert query(db_url, "SELECT memo FROM review WHERE memo IS NOT NULL") == [("clear case",)]
    versions = query(db_url, "SELECT DISTINCT codebook_id FROM coding")
    assert versions == [(1,)]


def test_partial_import_covers_only_the_rows_segments(coded, db_url, tmp_path):
    f = sheet(tmp_path, [["KZ-01", 4, "", ""]])
    assert coded("codings", "import", "--new-coder", f, "--coder", "bob", "--partial").exit_code == 0
    assert query(db_url, "SELECT s.n FROM review r JOIN segment s ON s.id = r.segment_id") == [(4,)]
    assert query(db_url, "SELECT count(*) FROM coding") == [(0,)]


def test_reimport_replaces_and_is_idempotent(coded, db_url, tmp_path):
    f = sheet(tmp_path, [["KZ-01", 2, "power_transfer", ""], ["KZ-01", 6, "reforms", ""]])
    assert coded("codings", "import", "--new-coder", f, "--coder", "alice").exit_code == 0
    before = query(db_url, "SELECT coder_id, segment_id, code_key FROM coding ORDER BY 1, 2, 3")
    assert coded("codings", "import", "--new-coder", f, "--coder", "alice").exit_code == 0
    assert query(db_url, "SELECT coder_id, segment_id, code_key FROM coding ORDER BY 1, 2, 3") \
        == before
    g = sheet(tmp_path, [["KZ-01", 2, "reforms", ""]], name="second.csv")
    assert coded("codings", "import", "--new-coder", g, "--coder", "alice").exit_code == 0
    assert query(db_url, "SELECT code_key FROM coding") == [("reforms",)]


BAD_ROWS = {
    "unknown transcript": ([["XX-01", 2, "reforms", ""]], ":2: unknown transcript 'XX-01'"),
    "segment out of range": ([["KZ-01", 2, "reforms", ""], ["KZ-01", 99, "reforms", ""]],
                             ":3: segment 99 out of range for KZ-01 (1–6)"),
    "interviewer segment": ([["KZ-01", 3, "reforms", ""]],
                            ":2: segment 3 of KZ-01 is an interviewer turn"),
    "unknown code": ([["KZ-01", 2, "reform", ""]], ":2: unknown code 'reform'"),
    "bad segment number": ([["KZ-01", "two", "reforms", ""]],
                           ":2: segment 'two' is not a segment number"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_rows_name_the_row_and_write_nothing(case, coded, db_url, tmp_path):
    ok = sheet(tmp_path, [["KZ-01", 2, "reforms", ""]], name="ok.csv")
    assert coded("codings", "import", "--new-coder", ok, "--coder", "alice").exit_code == 0
    before = dump_url(db_url)
    rows, expected = BAD_ROWS[case]
    f = sheet(tmp_path, rows)
    result = coded("codings", "import", "--new-coder", f, "--coder", "bob")
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {f}{expected} — ")
    assert dump_url(db_url) == before


def test_empty_coder_name_and_non_spreadsheet_are_errors(coded, db_url, tmp_path):
    before = dump_url(db_url)
    f = sheet(tmp_path, [["KZ-01", 2, "reforms", ""]])
    result = coded("codings", "import", "--new-coder", f, "--coder", " ")
    assert result.exit_code == 1 and "the coder name is empty" in result.output
    pdf = tmp_path / "codings.pdf"
    pdf.write_bytes(b"%PDF-1.4 binary")
    result = coded("codings", "import", "--new-coder", pdf, "--coder", "alice")
    assert result.exit_code == 1 and "not a CSV or XLSX file" in result.output
    missing = tmp_path / "bad.csv"
    missing.write_text("transcript,code\nKZ-01,reforms\n", encoding="utf-8")
    result = coded("codings", "import", "--new-coder", missing, "--coder", "alice")
    assert result.exit_code == 1 and ":1: missing column(s) segment" in result.output
    assert dump_url(db_url) == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_import_round_trip(fmt, coded, db_url, tmp_path, runner):
    f = sheet(tmp_path, [["KZ-01", 2, "power_transfer.end_of_dual_power", "memo one"],
                         ["KZ-01", 2, "reforms", ""], ["KZ-01", 4, "", "nothing here"]])
    assert coded("codings", "import", "--new-coder", f, "--coder", "alice").exit_code == 0
    out = tmp_path / f"export.{fmt}"
    result = coded("codings", "export", "--coder", "alice", "--format", fmt, "-o", out)
    assert result.exit_code == 0, result.output

    def state(url):
        return (sorted(query(url, "SELECT s.transcript_id, s.n, c.code_key FROM coding c "
                                  "JOIN segment s ON s.id = c.segment_id")),
                sorted(query(url, "SELECT s.transcript_id, s.n, r.memo FROM review r "
                                  "JOIN segment s ON s.id = r.segment_id")))

    original = state(db_url)
    # a fresh project gets the exported file back
    from coder.cli import app

    other = tmp_path / "other.db"
    env = {"CODER_DB": str(other)}
    assert runner.invoke(app, ["import", str(tmp_path / "in" / "KZ-01.txt")], env=env).exit_code == 0
    assert runner.invoke(app, ["codebook", "load", str(CODEBOOK)], env=env).exit_code == 0
    result = runner.invoke(app, ["codings", "import", "--new-coder", str(out), "--coder", "alice"], env=env)
    assert result.exit_code == 0, result.output
    assert state(str(other)) == original
