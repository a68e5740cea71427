"""Team mode with identities (issue 20): real PostgreSQL logins, and the database — not the
program — keeps each person to their role. Logins belong to the whole server, so every test
makes its own (a random suffix) and drops them afterwards."""

from __future__ import annotations

import csv
import json
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conftest import CODEBOOK, query, run

TRANSCRIPT = ("Interviewer: What happened?\n\nKZ-01: Power passed on; the dual power ended.\n\n"
              "Interviewer: And the CSTO?\n\nKZ-01: Troops arrived within days.\n\n"
              "Interviewer: Anything else?\n\nKZ-01: Reforms and a referendum followed.\n")


def as_login(url: str, login: str) -> str:
    return make_url(url).set(username=login).render_as_string(hide_password=False)


@pytest.fixture
def team(pg_url, tmp_path):
    """A project on PostgreSQL (owned by the admin login) with two coders, a supervisor and
    a reader; yields ``{role name: url as that login}`` plus the owner's url."""
    suffix = uuid.uuid4().hex[:8]
    names = {"alice": f"alice_{suffix}", "bob": f"bob_{suffix}", "sup": f"sup_{suffix}",
             "reader": f"reader_{suffix}"}
    t = tmp_path / "KZ-01.txt"
    t.write_text(TRANSCRIPT, encoding="utf-8")
    run(pg_url, "import", t)
    run(pg_url, "codebook", "load", CODEBOOK)
    try:
        for key, role in (("alice", "coder"), ("bob", "coder"), ("sup", "supervisor"),
                          ("reader", "reader")):
            result = run(pg_url, "team", "add", names[key], "--role", role)
            assert f"{names[key]} (new login) added as {role}" in result.output
        yield {"owner": pg_url, "names": names,
               **{key: as_login(pg_url, login) for key, login in names.items()}}
    finally:
        admin = create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for login in names.values():
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE usename = :n"), {"n": login})
                exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"),
                                      {"n": login}).first()
                if exists:
                    conn.execute(text(f'DROP OWNED BY "{login}"'))
                    conn.execute(text(f'DROP ROLE "{login}"'))
        admin.dispose()


def sheet(tmp_path, name: str, rows: list[list]) -> str:
    path = tmp_path / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["transcript", "segment", "code", "memo"], *rows])
    return str(path)


def codings_of(url: str, coder: str) -> list[tuple]:
    return query(url, "SELECT s.n, k.code_key FROM coding k JOIN segment s ON s.id = "
                      "k.segment_id JOIN coder c ON c.id = k.coder_id WHERE c.name = :c "
                      "ORDER BY 1, 2", c=coder)


def raw(url: str, sql: str, **params):
    """Run one statement as the URL's login, committed; returns rowcount or the DB error."""
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as conn:
            return conn.execute(text(sql), params).rowcount
    except DBAPIError as exc:
        return str(exc.orig).splitlines()[0]
    finally:
        engine.dispose()


def test_a_coder_cannot_change_another_coders_work_even_with_sql(team, tmp_path):
    alice, bob = team["names"]["alice"], team["names"]["bob"]
    # each codes as their login: no --coder needed, and another's name is refused
    run(team["alice"], "codings", "import",
        sheet(tmp_path, "a", [["KZ-01", 2, "power_transfer", "mine"]]))
    run(team["bob"], "codings", "import",
        sheet(tmp_path, "b", [["KZ-01", 4, "csto_efficacy", ""]]))
    run(team["bob"], "code", input="1\n\nq\n")
    bobs = codings_of(team["owner"], bob)
    assert codings_of(team["owner"], alice) == [(2, "power_transfer")]
    assert (4, "csto_efficacy") in bobs
    result = run(team["alice"], "codings", "import",
                 sheet(tmp_path, "c", [["KZ-01", 2, "reforms", ""]]), "--coder", bob,
                 expect=1)
    assert result.stderr.strip() == (
        f"error: --coder {bob}: you are logged in as {alice}, and in a team project everyone "
        f"writes as themselves — leave out --coder (it is your login) or ask {bob} to do this")
    # raw SQL as alice: bob's rows are invisible to UPDATE and DELETE, INSERT is refused
    bob_id = query(team["owner"], "SELECT id FROM coder WHERE name = :n", n=bob)[0][0]
    seg = query(team["owner"], "SELECT id FROM segment WHERE n = 6")[0][0]
    assert raw(team["alice"], "UPDATE coding SET code_key = 'reforms' WHERE coder_id = :c",
               c=bob_id) == 0
    assert raw(team["alice"], "DELETE FROM coding WHERE coder_id = :c", c=bob_id) == 0
    assert raw(team["alice"], "DELETE FROM review WHERE coder_id = :c", c=bob_id) == 0
    refused = raw(team["alice"], "INSERT INTO coding (coder_id, segment_id, code_key, "
                  "created_at) VALUES (:c, :s, 'reforms', now())", c=bob_id, s=seg)
    assert refused == 'new row violates row-level security policy for table "coding"'
    assert raw(team["alice"], "UPDATE coder SET name = 'x' WHERE id = :c", c=bob_id) == \
        "permission denied for table coder"
    assert raw(team["alice"], "UPDATE coding SET coder_id = :c", c=bob_id) == \
        'new row violates row-level security policy for table "coding"'
    assert codings_of(team["owner"], bob) == bobs
    # nor can she forge or erase the audit log
    assert raw(team["alice"], "DELETE FROM audit_log") == "permission denied for table audit_log"
    assert raw(team["alice"], "INSERT INTO audit_log (at, actor, table_name, operation) "
               "VALUES (now(), 'x', 'x', 'x')") == "permission denied for table audit_log"
    # the reader reads, and writes nothing
    assert json.loads(run(team["reader"], "status", "--format", "json").stdout)
    result = run(team["reader"], "codings", "import", "--new-coder",
                 sheet(tmp_path, "r", [["KZ-01", 2, "reforms", ""]]), expect=1)
    assert result.stderr.startswith(
        f"error: the database refused the change for {team['names']['reader']} (permission "
        "denied for table coder)")
    # every change is in the audit log under its login
    entries = json.loads(run(team["owner"], "audit", "--table", "coding", "--limit",
                             "100", "--format", "json").stdout)
    by = {(e["actor"], json.loads(e["after"] or e["before"])["code_key"]) for e in entries}
    assert (alice, "power_transfer") in by and (bob, "csto_efficacy") in by
    assert {e["actor"] for e in entries} == {alice, bob}


def test_only_a_supervisor_reconciles_even_with_sql(team, tmp_path):
    alice, bob, sup = (team["names"][k] for k in ("alice", "bob", "sup"))
    run(team["alice"], "codings", "import",
        sheet(tmp_path, "a", [["KZ-01", 2, "power_transfer", ""]]))
    run(team["bob"], "codings", "import", "--new-coder", sheet(tmp_path, "b", [["KZ-01", 2, "reforms", ""]]))
    result = run(team["alice"], "reconcile", "--coders", f"{alice},{bob}", expect=1)
    assert result.stderr.startswith(f"error: the database refused the change for {alice} (")
    assert query(team["owner"], "SELECT count(*) FROM decision") == [(0,)]
    assert query(team["owner"], "SELECT name FROM coder WHERE kind = 'consensus'") == []
    # with SQL: no consensus coder, no decisions, no consensus codings
    assert raw(team["alice"], "INSERT INTO coder (name, kind, created_at) "
               "VALUES ('consensus', 'consensus', now())") == \
        'new row violates row-level security policy for table "coder"'
    run(team["sup"], "reconcile", "--coders", f"{alice},{bob}", "--rule", "unanimous")
    (target,), = query(team["owner"], "SELECT id FROM coder WHERE name = 'consensus'")
    seg = query(team["owner"], "SELECT id FROM segment WHERE n = 2")[0][0]
    assert query(team["owner"], "SELECT DISTINCT settled_by FROM decision") == [(sup,)]
    assert raw(team["alice"], "INSERT INTO decision (coder_id, segment_id, code_key, applied, "
               "rule, settled_by, sources, decided_at) VALUES (:c, :s, 'reforms', true, "
               "'majority', :me, '{}', now())", c=target, s=seg, me=alice) == \
        "permission denied for table decision"
    assert raw(team["alice"], "INSERT INTO coding (coder_id, segment_id, code_key, "
               "created_at) VALUES (:c, :s, 'reforms', now())", c=target, s=seg) == \
        'new row violates row-level security policy for table "coding"'
    assert raw(team["alice"], "DELETE FROM coding WHERE coder_id = :c", c=target) == 0
    # a supervisor settles in their own name only, and never writes as a person
    result = run(team["sup"], "reconcile", "--coders", f"{alice},{bob}",
                 "--settled-by", alice, expect=1)
    assert result.stderr.startswith(f"error: --settled-by {alice}: you are logged in as {sup}")
    assert raw(team["sup"], "DELETE FROM coding WHERE coder_id = (SELECT id FROM coder "
               "WHERE name = :n)", n=alice) == 0
    assert codings_of(team["owner"], alice) == [(2, "power_transfer")]
    decisions = json.loads(run(team["owner"], "audit", "--table", "decision",
                               "--format", "json").stdout)
    assert decisions and {e["actor"] for e in decisions} == {sup}


def test_team_list_and_role_changes(team):
    listing = json.loads(run(team["owner"], "team", "list", "--format", "json").stdout)
    assert {(m["name"], m["role"], m["login"]) for m in listing} == {
        (team["names"]["alice"], "coder", "yes"), (team["names"]["bob"], "coder", "yes"),
        (team["names"]["sup"], "supervisor", "yes"), (team["names"]["reader"], "reader", "yes")}
    alice = team["names"]["alice"]
    result = run(team["owner"], "team", "add", alice, "--role", "reader")
    assert f"{alice} (existing login) is now reader (was coder)" in result.output
    seg = query(team["owner"], "SELECT id FROM segment WHERE n = 2")[0][0]
    (me,), = query(team["owner"], "SELECT id FROM coder WHERE name = :n", n=alice)
    assert raw(team["alice"], "INSERT INTO review (coder_id, segment_id, source, reviewed_at) "
               "VALUES (:c, :s, 'session', now())", c=me, s=seg) == \
        "permission denied for table review"
    # members do not manage the team
    result = run(team["sup"], "team", "add", "mallory", "--role", "supervisor", expect=1)
    assert result.stderr.strip() == ("error: only the project owner manages the team — run this "
                                     "as the login that created the project")
