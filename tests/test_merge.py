"""Blind coding without a server: separately coded projects merged into one (coder merge),
blind copies for coders (coder project export|split)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

import conftest
from conftest import CODEBOOK, CODINGS, CORPUS, dump_url, query

HERE = Path(__file__).parent
SMALL_CODEBOOK = HERE / "fixtures" / "codebooks" / "small.yaml"
CODERS = ("alice", "bob", "carol")


# every command names its project (--db), with CODER_DB unset
ok = partial(conftest.run, None)                # exit code 0 asserted
run = partial(conftest.run, None, expect=None)  # the test looks at the exit code


def make_project(db: str, *coders: str, codings: dict[str, Path] | None = None) -> str:
    """A project made from the sample transcripts and codebook, with the coders' sample
    codings imported (``codings`` maps a coder to another file)."""
    ok("import", CORPUS, "--meta", CORPUS / "participants.csv", "--db", db)
    ok("codebook", "load", CODEBOOK, "--db", db)
    for name in coders:
        path = (codings or {}).get(name, CODINGS / f"{name}.csv")
        ok("codings", "import", "--new-coder", path, "--coder", name, "--db", db)
    return db


def agreement(db: str) -> dict:
    return json.loads(ok("agreement", "--coders", ",".join(CODERS), "--format", "json",
                         "--db", db).stdout)


@pytest.fixture(scope="module")
def coded(tmp_path_factory) -> dict[str, str]:
    """Three coders in three separate projects, and one project with all three."""
    base = tmp_path_factory.mktemp("coded")
    projects = {name: make_project(str(base / f"{name}.db"), name) for name in CODERS}
    projects["together"] = make_project(str(base / "together.db"), *CODERS)
    return projects


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_three_blind_projects_merge_to_the_agreement_of_one(coded, target, tmp_path, request):
    db = str(tmp_path / "merged.db") if target == "sqlite" else request.getfixturevalue("pg_url")
    make_project(db)
    for name in CODERS:
        result = ok("merge", coded[name], "--db", db)
        assert f"{name} (new): brought" in result.stderr
    assert agreement(db) == agreement(coded["together"])
    # each coder's codings are the same rows, with the same memos and times of review
    for name in CODERS:
        sql = ("SELECT t.id, s.n, k.code_key, k.memo FROM coding k JOIN coder c ON c.id = "
               "k.coder_id JOIN segment s ON s.id = k.segment_id JOIN transcript t ON "
               "t.id = s.transcript_id WHERE c.name = :name ORDER BY 1, 2, 3")
        assert query(db, sql, name=name) == query(coded[name], sql, name=name)
        sql = ("SELECT s.transcript_id, s.n, r.memo, r.source FROM review r JOIN coder c ON "
               "c.id = r.coder_id JOIN segment s ON s.id = r.segment_id WHERE c.name = :name "
               "ORDER BY 1, 2")
        assert query(db, sql, name=name) == query(coded[name], sql, name=name)
    # merging twice is a no-op
    before = dump_url(db)
    # a coder on both sides with other decisions is refused, on either back end
    result = run("merge", coded["together"], "--coders", "alice", "--coder-map", "alice=bob",
                 "--db", db)
    assert result.exit_code == 1
    assert "coder bob is in both projects with different decisions" in result.stderr
    assert dump_url(db) == before
    for name in CODERS:
        result = ok("merge", coded[name], "--db", db)
        assert "nothing new to merge — the project is unchanged" in result.stderr
    assert dump_url(db) == before


def test_review_times_come_in_as_they_were(coded, tmp_path):
    db = make_project(str(tmp_path / "merged.db"))
    ok("merge", coded["alice"], "--db", db)
    sql = ("SELECT s.transcript_id, s.n, r.reviewed_at FROM review r JOIN segment s "
           "ON s.id = r.segment_id ORDER BY 1, 2")
    assert query(db, sql) == query(coded["alice"], sql)


def test_dry_run_says_what_would_come_and_changes_nothing(coded, tmp_path):
    db = make_project(str(tmp_path / "merged.db"))
    before = dump_url(db)
    result = ok("merge", coded["bob"], "--dry-run", "--db", db)
    n = query(coded["bob"], "SELECT count(*) FROM review")[0][0]
    k = query(coded["bob"], "SELECT count(*) FROM coding")[0][0]
    assert f"bob (new): would bring {n} reviewed segment(s), {k} coding(s)" in result.stderr
    assert "the same codebook (version 1)" in result.stderr
    assert dump_url(db) == before


def test_a_coder_on_both_sides_with_the_same_decisions_is_a_no_op(coded, tmp_path):
    db = make_project(str(tmp_path / "merged.db"), "alice")
    before = dump_url(db)
    result = ok("merge", coded["together"], "--coders", "alice", "--db", db)
    assert "alice (existing): brought 0 reviewed segment(s), 0 coding(s)" in result.stderr
    assert dump_url(db) == before


def _refused(db: str, *args) -> str:
    before = dump_url(db)
    result = run("merge", *args, "--db", db)
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert dump_url(db) == before
    return result.stderr


def test_a_conflicting_coder_is_refused_unless_mapped(coded, tmp_path):
    db = make_project(str(tmp_path / "merged.db"), "alice")
    other = make_project(str(tmp_path / "other.db"), "alice",
                         codings={"alice": CODINGS / "bob.csv"})
    stderr = _refused(db, other)
    assert f"error: {other}: coder alice is in both projects with different decisions on " in \
        stderr
    assert "--coder-map alice=alice2" in stderr
    result = ok("merge", other, "--coder-map", "alice=alice2", "--db", db)
    assert "alice as alice2 (new): brought" in result.stderr
    sql = "SELECT count(*) FROM coding k JOIN coder c ON c.id = k.coder_id WHERE c.name = :n"
    assert query(db, sql, n="alice2") == query(coded["bob"], sql, n="bob")


def test_an_unrelated_project_is_refused(tmp_path):
    db = make_project(str(tmp_path / "merged.db"))
    folder = tmp_path / "other-study"
    folder.mkdir()
    (folder / "XX-01.txt").write_text("Interviewer: How are you?\n\nExpert: Fine, thanks.\n",
                                      encoding="utf-8")
    other = str(tmp_path / "other.db")
    ok("import", folder, "--db", other)
    ok("codebook", "load", CODEBOOK, "--db", other)
    sheet = tmp_path / "xx.csv"
    sheet.write_text("transcript,segment,code\nXX-01,2,power_transfer\n", encoding="utf-8")
    ok("codings", "import", "--new-coder", sheet, "--coder", "alice", "--db", other)
    stderr = _refused(db, other)
    assert stderr == (f"error: {other}: no transcript in common with this project — is it the "
                      "right project? Merge only copies of this project's transcripts (coder "
                      "project export)\n")


def test_a_transcript_with_other_text_is_refused(coded, tmp_path):
    db = make_project(str(tmp_path / "merged.db"))
    folder = tmp_path / "changed"
    folder.mkdir()
    for path in CORPUS.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    changed = folder / "KZ-01.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("the", "teh", 1),
                       encoding="utf-8")
    other = str(tmp_path / "other.db")
    ok("import", folder, "--meta", folder / "participants.csv", "--db", other)
    ok("codebook", "load", CODEBOOK, "--db", other)
    ok("codings", "import", "--new-coder", CODINGS / "alice.csv", "--coder", "alice", "--db", other)
    stderr = _refused(db, other)
    assert stderr.startswith(f"error: {other}: transcript KZ-01 has other text there than here")


def test_an_incompatible_codebook_is_refused(coded, tmp_path):
    db = make_project(str(tmp_path / "merged.db"))
    other = str(tmp_path / "other.db")
    ok("import", CORPUS, "--meta", CORPUS / "participants.csv", "--db", other)
    ok("codebook", "load", SMALL_CODEBOOK, "--db", other)
    key = query(other, "SELECT key FROM code ORDER BY position, id")[0][0]
    sheet = tmp_path / "small.csv"
    sheet.write_text(f"transcript,segment,code\nKZ-01,2,{key}\n", encoding="utf-8")
    ok("codings", "import", "--new-coder", sheet, "--coder", "dora", "--db", other)
    stderr = _refused(db, other)
    assert f"error: {other}: its codings use 1 code(s) this project's codebook (version 1) " \
           f"does not have: {key} — load the same codebook on both sides" in stderr


def test_a_renamed_code_is_carried_over(coded, tmp_path):
    """The supervisor renamed a code after handing out copies: codings follow the rename."""
    db = make_project(str(tmp_path / "merged.db"))
    text = CODEBOOK.read_text(encoding="utf-8")
    assert "  - key: power_transfer\n" in text
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(text.replace("  - key: power_transfer\n",
                                    "  - key: transfer_of_power\n"
                                    "    renamed_from: power_transfer\n", 1), encoding="utf-8")
    ok("codebook", "load", renamed, "--db", db)
    result = ok("merge", coded["alice"], "--db", db)
    assert "their codebook is version 1 here; codes carried to version 2" in result.stderr
    keys = {k for (k,) in query(db, "SELECT DISTINCT code_key FROM coding")}
    assert keys and not any(k.startswith("power_transfer") for k in keys)
    assert any(k.startswith("transfer_of_power.") for k in keys)


def test_bad_others_are_clear_errors(tmp_path):
    db = make_project(str(tmp_path / "merged.db"))
    assert _refused(db, tmp_path / "nope.db") == \
        f"error: {tmp_path / 'nope.db'}: no such project file — check the path\n"
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert _refused(db, junk).startswith(f"error: {junk}: cannot open it as a coder project")
    assert _refused(db, db) == (f"error: {db}: that is this project itself — give the other "
                                "coder's project file or URL\n")
    assert _refused(db, db, "--coders", "zed").startswith("error: ")


def test_unknown_coders_and_bad_maps(coded, tmp_path):
    db = make_project(str(tmp_path / "merged.db"))
    stderr = _refused(db, coded["alice"], "--coders", "zed")
    assert stderr == f"error: {coded['alice']}: no coder 'zed' there (coders: alice) — check " \
                     "--coders\n"
    assert _refused(db, coded["alice"], "--coder-map", "alice") == \
        "error: --coder-map 'alice': write OLD=NEW, e.g. --coder-map bob=bob2\n"
    assert "not a coder being merged" in _refused(db, coded["alice"], "--coder-map", "zed=z")


def test_copying_is_column_driven(coded, tmp_path):
    """A column a later migration adds to coding (e.g. a span) comes along unchanged."""
    import shutil

    from sqlalchemy import create_engine, text

    other = str(tmp_path / "other.db")
    shutil.copy(coded["alice"], other)
    db = make_project(str(tmp_path / "merged.db"))
    for path in (other, db):
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE coding ADD COLUMN extra_mark INTEGER"))
            if path == other:
                conn.execute(text("UPDATE coding SET extra_mark = id * 7"))
        engine.dispose()

    from sqlalchemy import Column, Integer

    from coder.db.models import Coding

    table = Coding.__table__
    table.append_column(Column("extra_mark", Integer))
    try:
        ok("merge", other, "--db", db)
    finally:
        table._columns.remove(table.c.extra_mark)
    sql = ("SELECT s.transcript_id, s.n, k.code_key, k.extra_mark FROM coding k JOIN segment s "
           "ON s.id = k.segment_id ORDER BY 1, 2, 3")
    merged = query(db, sql)
    assert merged == query(other, sql)
    assert all(row[3] is not None for row in merged)


# --- blind copies ---------------------------------------------------------------------------


def test_export_gives_a_coder_a_blind_copy(coded, tmp_path):
    copy = tmp_path / "for-bob.db"
    result = ok("project", "export", copy, "--coder", "bob", "--db", coded["together"])
    assert f"wrote {copy}: 11 transcript(s), 1 codebook version(s)" in result.stderr
    assert query(str(copy), "SELECT name FROM coder") == [("bob",)]
    assert query(str(copy), "SELECT DISTINCT coder_id FROM coding") == \
        query(str(copy), "SELECT id FROM coder")
    sql = "SELECT id, text FROM transcript ORDER BY id"
    assert query(str(copy), sql) == query(coded["together"], sql)
    sql = "SELECT transcript_id, name, value FROM attribute ORDER BY 1, 2"
    assert query(str(copy), sql) == query(coded["together"], sql)
    # a copy for a new coder holds no codings at all
    empty = tmp_path / "for-dora.db"
    ok("project", "export", empty, "--coder", "dora", "--db", coded["together"])
    assert query(str(empty), "SELECT count(*) FROM coding") == [(0,)]
    assert query(str(empty), "SELECT count(*) FROM review") == [(0,)]
    # never over an existing file
    result = run("project", "export", copy, "--db", coded["together"])
    assert result.exit_code == 1
    assert result.stderr == (f"error: {copy}: already exists — give a new file name (a blind "
                             "copy never overwrites a project)\n")


def test_split_code_and_merge_round_trip(coded, tmp_path):
    """The whole workflow: split a project for three coders, code, merge back."""
    master = make_project(str(tmp_path / "master.db"))
    folder = tmp_path / "copies"
    folder.mkdir()
    result = ok("project", "split", folder, "--coders", "alice,bob,carol", "--db", master)
    assert "wrote" in result.stderr
    for name in CODERS:
        copy = folder / f"{name}.db"
        ok("codings", "import", "--new-coder", CODINGS / f"{name}.csv", "--coder", name, "--db", copy)
        ok("merge", copy, "--db", master)
    assert agreement(master) == agreement(coded["together"])


def test_a_qdpx_project_merges_the_same_way(coded, tmp_path):
    qdpx = tmp_path / "alice.qdpx"
    ok("export", "qdpx", qdpx, "--db", coded["alice"])
    db = make_project(str(tmp_path / "merged.db"))
    result = ok("merge", qdpx, "--db", db)
    assert "alice (new): brought" in result.stderr
    sql = ("SELECT t.id, s.n, k.code_key FROM coding k JOIN segment s ON s.id = k.segment_id "
           "JOIN transcript t ON t.id = s.transcript_id ORDER BY 1, 2, 3")
    assert query(db, sql) == query(coded["alice"], sql)
    before = dump_url(db)
    ok("merge", qdpx, "--db", db)
    assert dump_url(db) == before


def test_a_server_project_merges_into_a_file(coded, tmp_path, pg_url):
    ok("db", "copy", coded["bob"], pg_url)
    db = make_project(str(tmp_path / "merged.db"), "alice", "carol")
    result = ok("merge", pg_url, "--db", db)
    assert "bob (new): brought" in result.stderr
    assert agreement(db) == agreement(coded["together"])


def test_an_empty_project_says_how_to_start(coded, tmp_path):
    db = str(tmp_path / "empty.db")
    ok("init", "--db", db)
    assert _refused(db, coded["alice"]) == (
        f"error: {coded['alice']}: this project has no transcripts yet — start it as a blind "
        "copy of the other (coder project export THIS --db OTHER) or import the same "
        "transcripts first\n")
