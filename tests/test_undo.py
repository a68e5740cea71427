"""Undoing coding work: coder codings delete, coder coders list|rename|remove, and the
count of segments an import marks "reviewed, no code"."""

from __future__ import annotations

import json

import pytest
from conftest import CODEBOOK, CODINGS, CORPUS, dump_url, query

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def coded(cli, db_url):
    for args in (("import", CORPUS, "--meta", CORPUS / "participants.csv"),
                 ("codebook", "load", CODEBOOK),
                 ("codings", "import", "--new-coder", CODINGS / "alice.csv", "--coder", "alice"),
                 ("codings", "import", "--new-coder", CODINGS / "bob.csv", "--coder", "bob")):
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
    return db_url


def counts(url: str, coder: str, transcript: str | None = None) -> tuple[int, int]:
    where = "c.name = :c" + (" AND s.transcript_id = :t" if transcript else "")
    params = {"c": coder, "t": transcript}
    n = []
    for table in ("review", "coding"):
        n.append(query(url, f"SELECT count(*) FROM {table} x JOIN coder c ON c.id = x.coder_id "
                            f"JOIN segment s ON s.id = x.segment_id WHERE {where}", **params)[0][0])
    return tuple(n)


def test_delete_a_transcript_asks_and_deletes(cli, coded):
    reviews, codings = counts(coded, "alice", "KZ-01")
    assert reviews and codings
    other = counts(coded, "bob")
    result = cli("codings", "delete", "--coder", "alice", "--transcript", "KZ-01", input="y\n")
    assert result.exit_code == 0, result.stderr
    assert f"delete {reviews} review(s), {codings} coding(s) by alice in KZ-01? [y/N]" in \
        result.stderr
    assert f"deleted {reviews} review(s), {codings} coding(s) by alice in KZ-01" in result.stderr
    assert counts(coded, "alice", "KZ-01") == (0, 0)
    assert counts(coded, "alice")[0] > 0      # other transcripts are kept
    assert counts(coded, "bob") == other      # and other coders


def test_delete_declined_or_unanswered_changes_nothing(cli, coded):
    before = dump_url(coded)
    result = cli("codings", "delete", "--coder", "alice", input="n\n")
    assert result.exit_code == 0
    assert result.stderr.endswith("nothing deleted\n")
    result = cli("codings", "delete", "--coder", "alice")  # no one to answer
    assert result.exit_code == 1
    assert result.stderr.endswith("error: nothing deleted — pass --yes to delete without "
                                  "asking\n")
    assert dump_url(coded) == before


def test_delete_some_segments_with_yes(cli, coded):
    rows = query(coded, "SELECT s.n FROM review r JOIN coder c ON c.id = r.coder_id JOIN "
                        "segment s ON s.id = r.segment_id WHERE c.name = 'alice' AND "
                        "s.transcript_id = 'KZ-01' ORDER BY s.n")
    first, second = rows[0][0], rows[1][0]
    result = cli("codings", "delete", "--coder", "alice", "--transcript", "KZ-01",
                 "--segments", f"{first},{second}", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "deleted 2 review(s)" in result.stderr
    assert counts(coded, "alice", "KZ-01")[0] == len(rows) - 2
    # the segments count as unreviewed again: status shows fewer reviewed
    status = json.loads(cli("status", "--by", "transcript", "--format", "json").stdout)
    kz = [r for r in status if r["coder"] == "alice" and r["transcript"] == "KZ-01"][0]
    assert kz["reviewed"] == len(rows) - 2


def test_delete_errors(cli, coded):
    before = dump_url(coded)
    cases = {
        ("--coder", "zed"): "error: no coder 'zed' in the project (coders: alice, bob) — check "
                            "the spelling or import their codings first\n",
        ("--coder", "alice", "--segments", "3"): "error: --segments needs --transcript ID "
                                                 "(segment numbers count within one transcript)\n",
        ("--coder", "alice", "--transcript", "XX-09"): "error: no transcript 'XX-09' — see "
                                                       "coder transcripts list\n",
        ("--coder", "alice", "--transcript", "KZ-01", "--segments", "x"):
            "error: --segments: 'x' is not a segment number or range — give numbers and "
            "ranges such as 3,5-7\n",
    }
    for args, message in cases.items():
        result = cli("codings", "delete", *args, "--yes")
        assert result.exit_code == 1
        assert result.stderr == message
    result = cli("codings", "delete", "--coder", "alice", "--transcript", "KZ-01",
                 "--segments", "999", "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: KZ-01 has no segment 999 (1–")
    assert dump_url(coded) == before


def test_coders_list_rename_remove(cli, coded):
    listing = json.loads(cli("coders", "list", "--format", "json").stdout)
    assert [(r["coder"], r["kind"]) for r in listing] == [("alice", "human"), ("bob", "human")]
    alice = counts(coded, "alice")
    assert (listing[0]["reviewed"], listing[0]["codings"]) == alice

    result = cli("coders", "rename", "alice", "alicia")
    assert result.exit_code == 0 and result.stderr == "renamed coder alice to alicia\n"
    assert counts(coded, "alicia") == alice
    result = cli("coders", "rename", "alicia", "bob")
    assert result.exit_code == 1
    assert result.stderr == ("error: there is already a coder 'bob' — pick another name, or "
                             "remove one of them first (coder coders remove bob)\n")
    result = cli("coders", "rename", "alicia", "a b")
    assert result.exit_code == 1 and "is not allowed" in result.stderr

    bob = counts(coded, "bob")
    result = cli("coders", "remove", "bob", input="y\n")
    assert result.exit_code == 0, result.stderr
    assert f"remove coder bob with {bob[0]} review(s), {bob[1]} coding(s)? [y/N]" in \
        result.stderr
    assert query(coded, "SELECT name FROM coder") == [("alicia",)]
    assert query(coded, "SELECT count(*) FROM review")[0][0] == alice[0]
    result = cli("coders", "remove", "bob", "--yes")
    assert result.exit_code == 1 and result.stderr.startswith("error: no coder 'bob'")


def test_import_says_how_many_segments_it_marked_reviewed_no_code(cli, coded, tmp_path):
    sheet = tmp_path / "one-row.csv"
    sheet.write_text("transcript,segment,code\nKZ-01,2,power_transfer\n", encoding="utf-8")
    participant = query(coded, "SELECT count(*) FROM segment WHERE transcript_id = 'KZ-01' "
                               "AND role = 'participant'")[0][0]
    result = cli("codings", "import", "--new-coder", sheet, "--coder", "dora")
    assert result.exit_code == 0, result.stderr
    assert (f"{participant - 1} participant segment(s) of these transcripts had no row and were "
            "marked 'reviewed, no code' — pass --partial to count only the rows' segments; undo "
            "with `coder codings delete --coder dora --transcript ID`") in result.stderr
    result = cli("codings", "import", "--new-coder", sheet, "--coder", "erin", "--partial")
    assert result.exit_code == 0
    assert "had no row" not in result.stderr
