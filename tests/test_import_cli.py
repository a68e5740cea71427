"""`coder import` and `coder transcripts` end to end: formats, metadata, idempotence, errors."""

from __future__ import annotations

import json
import sqlite3

import jsonschema
import pytest

from conftest import CORPUS, SHARED, dump_db, dump_url, q, write

GOOD = "Interviewer: What happened in January?\n\nKZ-01: Power changed hands.\n\n" \
       "Interviewer: And then?\n\nKZ-01: Reforms followed.\n"


def test_sample_corpus_imports_with_attributes(cli, db_path):
    result = cli("import", CORPUS, "--meta", CORPUS / "participants.csv")
    assert result.exit_code == 0, result.output
    ids = [r[0] for r in q(db_path, "SELECT id FROM transcript ORDER BY id")]
    assert ids == ["AM-01", "BY-01", "KG-01", "KZ-01", "KZ-02", "KZ-03",
                   "RU-01", "RU-02", "RU-03", "RU-04", "TJ-01"]
    countries = dict(q(db_path, "SELECT transcript_id, value FROM attribute "
                                "WHERE name = 'country'"))
    assert sorted(countries.values()).count("Kazakhstan") == 3
    assert sorted(countries.values()).count("Russia") == 4
    # strictly alternating interviews: odd segments interviewer, even segments the expert
    bad = q(db_path, "SELECT transcript_id, n, role FROM segment WHERE "
                     "(n % 2 = 1 AND role != 'interviewer') OR (n % 2 = 0 AND role != 'participant')")
    assert bad == []
    counts = q(db_path, "SELECT transcript_id, count(*) FROM segment GROUP BY transcript_id")
    assert all(8 <= n <= 20 for _, n in counts)


def test_reimport_is_idempotent_and_says_so(cli, backend, db_url, tmp_path):
    f = write(tmp_path / "in" / "KZ-01.txt", GOOD)
    assert cli("import", f).exit_code == 0
    before = dump_url(db_url)
    result = cli("import", f)
    assert result.exit_code == 0
    assert "unchanged: KZ-01" in result.output
    assert dump_url(db_url) == before


def test_changed_content_needs_replace_and_no_codings(cli, db_path, tmp_path):
    f = write(tmp_path / "in" / "KZ-01.txt", GOOD)
    assert cli("import", f).exit_code == 0
    write(f, GOOD + "\nInterviewer: Thanks.\n")
    before = dump_db(db_path)
    result = cli("import", f)
    assert result.exit_code == 1
    assert "already exists with different content — pass --replace" in result.output
    assert dump_db(db_path) == before
    result = cli("import", f, "--replace")
    assert result.exit_code == 0, result.output
    assert q(db_path, "SELECT count(*) FROM segment")[0][0] == 5
    # with a coding, --replace is refused
    con = sqlite3.connect(db_path)
    con.execute("INSERT INTO coder (name, kind, created_at) VALUES ('alice', 'human', '2026-01-01')")
    con.execute("INSERT INTO review (coder_id, segment_id, source, reviewed_at) "
                "VALUES (1, (SELECT id FROM segment WHERE n = 2), 'import', '2026-01-01')")
    con.commit()
    con.close()
    write(f, GOOD)
    before = dump_db(db_path)
    result = cli("import", f, "--replace")
    assert result.exit_code == 1
    assert "reviewed segments" in result.output
    assert dump_db(db_path) == before


def test_dry_run_writes_nothing(cli, db_path, tmp_path):
    f = write(tmp_path / "in" / "KZ-01.txt", GOOD)
    assert cli("init").exit_code == 0
    before = dump_db(db_path)
    result = cli("import", f, "--dry-run")
    assert result.exit_code == 0
    assert "would import: KZ-01 (text, 4 turns, 2 by the participant)" in result.output
    assert dump_db(db_path) == before


def test_metadata_warnings_and_front_matter_wins(cli, db_path, tmp_path):
    write(tmp_path / "in" / "KZ-01.txt", GOOD)
    write(tmp_path / "in" / "AM-01.md", "---\ncountry: Armenia\n---\n\n**Interviewer:** Hi?\n\n"
          "**AM-01:** Hello.\n")
    meta = write(tmp_path / "p.csv", "transcript,country,mode\nKZ-01,Kazakhstan,online\n"
                 "AM-01,Georgia,offline\nXX-99,Nowhere,online\n")
    result = cli("import", tmp_path / "in", "--meta", meta)
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "'XX-99' matches no transcript" in result.output
    attrs = dict(((t, n), v) for t, n, v in q(db_path, "SELECT * FROM attribute"))
    assert attrs[("AM-01", "country")] == "Armenia"      # front matter wins
    assert attrs[("AM-01", "mode")] == "offline"         # the CSV fills the rest
    assert attrs[("KZ-01", "country")] == "Kazakhstan"


def test_interviewer_option_and_missing_interviewer_warning(cli, db_path, tmp_path):
    f = write(tmp_path / "a" / "T1.txt", "Moderator: Hi?\n\nExpert: Hello.\n")
    result = cli("import", f, "--interviewer", "Moderator")
    assert result.exit_code == 0
    assert q(db_path, "SELECT n, role FROM segment ORDER BY n") == [
        (1, "interviewer"), (2, "participant")]
    g = write(tmp_path / "b" / "T2.txt", "Alpha: Hi?\n\nBeta: Hello.\n")
    result = cli("import", g)
    assert result.exit_code == 0
    assert "no interviewer label found; every turn imported as participant" in result.output


def test_offsets_point_into_the_transcript_text(cli, db_path, tmp_path):
    f = write(tmp_path / "in" / "KZ-01.txt", GOOD)
    assert cli("import", f).exit_code == 0
    text = q(db_path, "SELECT text FROM transcript")[0][0]
    for seg_text, a, b in q(db_path, "SELECT text, char_start, char_end FROM segment"):
        assert text[a:b] == seg_text


def test_transcripts_show_json_matches_the_contract(cli, tmp_path):
    assert cli("import", CORPUS, "--meta", CORPUS / "participants.csv").exit_code == 0
    schema = json.loads((SHARED / "contract" / "transcript.schema.json").read_text())
    for tid in ("KZ-01", "RU-03", "AM-01"):
        result = cli("transcripts", "show", tid, "--format", "json")
        assert result.exit_code == 0
        data = json.loads(result.stdout)
        jsonschema.validate(data, schema)
        assert data["id"] == tid and data["attributes"]["country"]
    vtt = json.loads(cli("transcripts", "show", "RU-03", "--format", "json").stdout)
    assert all(isinstance(s["start"], float) for s in vtt["segments"])
    listing = json.loads(cli("transcripts", "list", "--format", "json").stdout)
    assert len(listing) == 11


BAD_CASES = {
    "empty": ("T.txt", b"", "T.txt: empty file"),
    "binary": ("T.txt", b"\x00\x01\x02PNG\x00" * 10, "T.txt: binary file"),
    "undecodable": ("T.txt", "Interviewer: Hi\n\nKZ-01: caf".encode() + b"\xe9\n",
                    "T.txt:3: undecodable byte 0xe9"),
    "no turns": ("T.txt", b"just some words without any speaker label\n", "T.txt: no turns"),
    "front matter": ("T.md", b"---\ncountry: [Armenia\n---\n**Interviewer:** Hi\n",
                     "T.md:"),
    "unknown format": ("T.xyz", b"lorem ipsum dolor sit amet\n", "T.xyz: unknown format"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_one_clear_error_and_leaves_the_database(case, cli, backend, db_url,
                                                              tmp_path):
    good = write(tmp_path / "in" / "KZ-01.txt", GOOD)
    assert cli("import", good).exit_code == 0
    before = dump_url(db_url)
    name, content, expected = BAD_CASES[case]
    other = write(tmp_path / "more" / "RU-01.txt", GOOD.replace("KZ-01", "RU-01"))
    bad = write(tmp_path / "more" / name, content)
    result = cli("import", other, bad)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ") and expected in lines[0] and " — " in lines[0]
    assert dump_url(db_url) == before


def test_duplicate_id_and_meta_without_transcript_column(cli, backend, db_url, tmp_path):
    assert cli("init").exit_code == 0
    before = dump_url(db_url)
    a = write(tmp_path / "a" / "KZ-01.txt", GOOD)
    b = write(tmp_path / "b" / "KZ-01.txt", GOOD + "\nInterviewer: Bye.\n")
    result = cli("import", a, b)
    assert result.exit_code == 1
    assert "duplicate transcript id 'KZ-01'" in result.output
    meta = write(tmp_path / "p.csv", "id,country\nKZ-01,Kazakhstan\n")
    result = cli("import", a, "--meta", meta)
    assert result.exit_code == 1
    assert (f"error: {meta}:1: no `transcript` column (the header row reads 2 column(s) "
            "separated by commas: 'id', 'country') — ") in result.output
    assert dump_url(db_url) == before


def test_missing_path_is_an_error(cli, tmp_path):
    result = cli("import", tmp_path / "nope.txt")
    assert result.exit_code == 1
    assert "nope.txt: no such file or folder — check the path" in result.output


def test_a_failed_first_import_creates_no_project(cli, db_path, tmp_path):
    bad = write(tmp_path / "T.txt", b"")
    assert cli("import", bad).exit_code == 1
    assert not db_path.exists()


def test_dry_run_without_a_project_creates_none(cli, db_path, tmp_path):
    f = write(tmp_path / "in" / "KZ-01.txt", GOOD)
    result = cli("import", f, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would import: KZ-01 (text, 4 turns, 2 by the participant)" in result.output
    assert not db_path.exists()
