"""Team projects on PostgreSQL: each person is a database login with a role.

The project owner (the login that created the project's tables) adds people with
:func:`add_member`: a PostgreSQL role of that name is created (or an existing one reused —
roles belong to the whole server), granted what its role needs, and recorded in
``team_member``; a coder or supervisor also gets a coder of the same name. The database then
enforces, by grants and row-level security (:mod:`coder.db.audit`):

========== ===================================================================================
reader     reads everything, writes nothing
coder      writes only their own reviews and codings (coder name = login)
supervisor as a coder, plus consensus and machine coders, settling decisions, trained models
========== ===================================================================================

In a team project a member's coder name is their login (:func:`acting_coder`): ``--coder``
defaults to it, and naming another person is refused before the database would refuse it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from coder.db.tables import utcnow
from coder.errors import CoderError, ConflictError

ROLES = ("coder", "supervisor", "reader")
LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_WRITE = ("review", "coding")
_SUPERVISE = ("decision", "autocode_model")


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    added_by: str
    added_at: object
    login: bool  # the PostgreSQL role exists and may log in


def team_login(conn: Connection) -> tuple[str, str] | None:
    """``(login, role)`` when this connection is a team member's, else None (SQLite, or the
    project owner and other logins outside the team)."""
    if conn.dialect.name != "postgresql":
        return None
    row = conn.execute(text("SELECT name, role FROM team_member WHERE name = current_user")
                       ).first()
    return (row[0], row[1]) if row else None


def acting_coder(conn: Connection, name: str | None, *, option: str = "--coder",
                 kind: str | None = None) -> str:
    """The coder a command writes as: ``name``, or in a team project the login.

    A team member may not write as another person; without a team, ``name`` is required.
    """
    member = team_login(conn)
    if member is None:
        return name or ""  # an empty name is refused by coder.coding.store.check_coder_name
    login, _role = member
    if name and name != login and _kind(conn, name, kind) == "human":
        raise CoderError(f"{option} {name}: you are logged in as {login}, and in a team project "
                         f"everyone writes as themselves — leave out {option} (it is your "
                         f"login) or ask {name} to do this")
    return name or login


def resolve_coder(project, name: str | None, *, option: str = "--coder") -> str:
    """:func:`acting_coder` in a read transaction of ``project``."""
    with project.read() as conn:
        return acting_coder(conn, name, option=option)


def _kind(conn: Connection, name: str, new: str | None = None) -> str:
    """The kind of coder ``name``: stored, else ``new``, else what the name says."""
    from coder.coding.store import coder_kind

    row = conn.execute(text("SELECT kind FROM coder WHERE name = :n"), {"n": name}).first()
    return row[0] if row else (new or coder_kind(name))


def denied(project, exc) -> CoderError:
    """The error for a change the database refused (SQLSTATE 42501)."""
    login = make_url(project.url).username or "this login"
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    return CoderError(f"the database refused the change for {login} ({reason}) — in a team "
                      "project coders write only their own reviews and codings, supervisors "
                      "also consensus and machine coders, readers nothing; the project owner "
                      "can change a role with `coder team add NAME --role ROLE`")


def _require_owner(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        raise CoderError("team roles need a PostgreSQL project — a SQLite file belongs to whoever "
                         "can open it; move it with `coder db copy FILE postgresql://…`")
    if team_login(conn) is not None:
        raise CoderError("only the project owner manages the team — run this as the login that "
                         "created the project")


def add_member(conn: Connection, name: str, role: str, *, password: str | None = None
               ) -> str:
    """Create (or update) team member ``name`` with ``role``; return what was done."""
    _require_owner(conn)
    if role not in ROLES:
        raise CoderError(f"--role {role}: use one of {', '.join(ROLES)}")
    if not LOGIN_NAME.match(name):
        raise CoderError(f"{name!r} cannot be a team login — use lower-case letters, digits "
                         "and _ (starting with a letter), at most 63 characters")
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
    if exists is None:
        conn.exec_driver_sql(conn.execute(text(
            "SELECT format('CREATE ROLE %I LOGIN' || "
            "CASE WHEN CAST(:p AS text) IS NULL THEN '' ELSE ' PASSWORD %L' END, "
            "CAST(:n AS text), CAST(:p AS text))"), {"n": name, "p": password}).scalar_one())
    elif password is not None:
        conn.exec_driver_sql(conn.execute(text("SELECT format('ALTER ROLE %I PASSWORD %L', "
                                               "CAST(:n AS text), CAST(:p AS text))"),
                                          {"n": name, "p": password}).scalar_one())
    coder = conn.execute(text("SELECT kind FROM coder WHERE name = :n"), {"n": name}).first()
    if coder is not None and coder[0] != "human":
        raise ConflictError(f"{name} is a {coder[0]} coder in this project — a person needs "
                            "another name")
    _grant(conn, name, role)
    previous = conn.execute(text("SELECT role FROM team_member WHERE name = :n"),
                            {"n": name}).scalar()
    conn.execute(text("DELETE FROM team_member WHERE name = :n"), {"n": name})
    conn.execute(text("INSERT INTO team_member (name, role, added_by, added_at) "
                      "VALUES (:n, :r, current_user, :t)"), {"n": name, "r": role, "t": utcnow()})
    if role != "reader" and coder is None:
        conn.execute(text("INSERT INTO coder (name, kind, created_at) VALUES (:n, 'human', :t)"),
                     {"n": name, "t": utcnow()})
    login = "new login" if exists is None else "existing login"
    if previous is None:
        return f"{name} ({login}) added as {role}"
    return f"{name} ({login}) is now {role} (was {previous})"


def _grant(conn: Connection, name: str, role: str) -> None:
    def run(template: str) -> None:  # %1$I schema, %2$I database, %3$I the login
        conn.exec_driver_sql(conn.execute(text(
            f"SELECT format('{template}', current_schema(), current_database(), "
            "CAST(:n AS text))"), {"n": name}).scalar_one())

    # start from nothing, so that a changed role loses what the old one had
    run("REVOKE ALL ON ALL TABLES IN SCHEMA %1$I FROM %3$I")
    run("REVOKE ALL ON ALL SEQUENCES IN SCHEMA %1$I FROM %3$I")
    run("GRANT CONNECT ON DATABASE %2$I TO %3$I")
    run("GRANT USAGE ON SCHEMA %1$I TO %3$I")
    run("GRANT SELECT ON ALL TABLES IN SCHEMA %1$I TO %3$I")
    # tables that later migrations create are readable too
    run("ALTER DEFAULT PRIVILEGES IN SCHEMA %1$I GRANT SELECT ON TABLES TO %3$I")
    if role in ("coder", "supervisor"):
        tables = list(_WRITE) + (list(_SUPERVISE) if role == "supervisor" else [])
        for table in tables:
            run(f"GRANT INSERT, UPDATE, DELETE ON %1$I.{table} TO %3$I")
        run("GRANT INSERT ON %1$I.coder TO %3$I")
        run("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %1$I TO %3$I")


def members(conn: Connection) -> list[Member]:
    """The team, by name (empty on SQLite)."""
    if conn.dialect.name != "postgresql":
        return []
    rows = conn.execute(text(
        "SELECT m.name, m.role, m.added_by, m.added_at, COALESCE(r.rolcanlogin, false) "
        "FROM team_member m LEFT JOIN pg_roles r ON r.rolname = m.name ORDER BY m.name"))
    return [Member(*row) for row in rows]


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: object
    actor: str
    table: str
    operation: str
    before: str | None
    after: str | None


def audit_entries(conn: Connection, *, table: str | None = None, actor: str | None = None,
                  limit: int = 50) -> list[AuditEntry]:
    """The latest ``limit`` audit entries (oldest first), optionally of one table or actor."""
    where, params = [], {"limit": limit}
    if table:
        where.append("table_name = :table")
        params["table"] = table
    if actor:
        where.append("actor = :actor")
        params["actor"] = actor
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    rows = conn.execute(text(
        "SELECT id, at, actor, table_name, operation, before, after FROM audit_log "
        f"{clause}ORDER BY id DESC LIMIT :limit"), params).all()
    return [AuditEntry(*row) for row in reversed(rows)]
