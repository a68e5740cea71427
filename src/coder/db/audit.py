"""What the database itself enforces and records: audit triggers, and on PostgreSQL the
row-level security of a team project.

**Audit.** Every INSERT, UPDATE and DELETE of a ``coder``, ``review``, ``coding`` or
``decision`` row is written to ``audit_log`` by a trigger — who, when, which table, the
operation, and the row before and after as JSON. On PostgreSQL *who* is the login
(``session_user``); the trigger functions are ``SECURITY DEFINER`` and team members may only
read ``audit_log``, so nobody but the project owner can add, change or erase entries. On
SQLite there are no logins: coder names the operating-system user in ``audit_context`` for
the length of each write transaction (:func:`set_actor`), and a change made to the file by
another program is logged as ``unknown (outside coder)`` — one person's file cannot stop its
owner from editing it.

**Row-level security** (PostgreSQL). ``review``, ``coding``, ``decision`` and ``coder`` have
RLS enabled; everyone with access may read every row, but a row may be written only when
:sql:`coder_may_write(coder_id)` holds: the coder *is* the login, or the login is a
supervisor and the coder is a consensus or machine coder. Decisions (how a consensus was
settled) may be written only by supervisors, in their own name. The project owner (who
created the tables) is not subject to RLS; roles and grants are set by :mod:`coder.team`.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # light to import: coder import names the actor without SQLAlchemy
    from sqlalchemy.engine import Connection

OUTSIDE = "unknown (outside coder)"


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in this environment (some containers)
        return "unknown"


def create_audit_triggers(conn: Connection, tables: tuple[str, ...]) -> None:
    if conn.dialect.name == "postgresql":
        _postgres(conn, tables)
    elif conn.dialect.name == "sqlite":
        _sqlite(conn, tables)


def _sqlite(conn: Connection, tables: tuple[str, ...]) -> None:
    from sqlalchemy import inspect

    # SQLAlchemy's text format for DateTime on SQLite (microseconds: SQLite has milliseconds)
    now = ("strftime('%Y-%m-%d %H:%M:%S', 'now') || '.' || "
           "substr(strftime('%f', 'now'), 4, 3) || '000'")
    actor = f"COALESCE((SELECT actor FROM audit_context LIMIT 1), '{OUTSIDE}')"
    for table in tables:
        columns = [c["name"] for c in inspect(conn).get_columns(table)]

        def row(ref: str) -> str:
            return "json_object(" + ", ".join(f"'{c}', {ref}.\"{c}\"" for c in columns) + ")"

        for op, before, after in (("INSERT", "NULL", row("NEW")),
                                  ("UPDATE", row("OLD"), row("NEW")),
                                  ("DELETE", row("OLD"), "NULL")):
            conn.exec_driver_sql(
                f"CREATE TRIGGER audit_{table}_{op.lower()} AFTER {op} ON \"{table}\" BEGIN "
                "INSERT INTO audit_log (at, actor, table_name, operation, before, after) "
                f"VALUES ({now}, {actor}, '{table}', '{op}', {before}, {after}); END")


_PG_FUNCTIONS = """
CREATE FUNCTION coder_audit_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO audit_log (at, actor, table_name, operation, before, after)
  VALUES (clock_timestamp(), session_user, TG_TABLE_NAME, TG_OP,
          to_jsonb(OLD)::text, to_jsonb(NEW)::text);
  RETURN NULL;
END $$;
CREATE FUNCTION coder_audit_inserted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO audit_log (at, actor, table_name, operation, before, after)
  SELECT clock_timestamp(), session_user, TG_TABLE_NAME, 'INSERT', NULL, to_jsonb(n)::text
  FROM audit_new n;
  RETURN NULL;
END $$;
CREATE FUNCTION coder_audit_deleted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO audit_log (at, actor, table_name, operation, before, after)
  SELECT clock_timestamp(), session_user, TG_TABLE_NAME, 'DELETE', to_jsonb(o)::text, NULL
  FROM audit_old o;
  RETURN NULL;
END $$;
CREATE FUNCTION coder_may_write(cid integer) RETURNS boolean LANGUAGE sql STABLE
SET search_path FROM CURRENT AS $$
  SELECT EXISTS (
    SELECT 1 FROM coder c JOIN team_member m ON m.name = current_user
    WHERE c.id = cid AND m.role IN ('coder', 'supervisor')
      AND (c.name = current_user OR (m.role = 'supervisor' AND c.kind <> 'human')))
$$;
CREATE FUNCTION coder_is_supervisor() RETURNS boolean LANGUAGE sql STABLE
SET search_path FROM CURRENT AS $$
  SELECT EXISTS (SELECT 1 FROM team_member WHERE name = current_user AND role = 'supervisor')
$$;
"""


def _postgres(conn: Connection, tables: tuple[str, ...]) -> None:
    conn.exec_driver_sql(_PG_FUNCTIONS)
    for table in tables:
        conn.exec_driver_sql(
            f"CREATE TRIGGER audit_{table}_insert AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS audit_new FOR EACH STATEMENT "
            "EXECUTE FUNCTION coder_audit_inserted();"
            f"CREATE TRIGGER audit_{table}_update AFTER UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION coder_audit_row();"
            f"CREATE TRIGGER audit_{table}_delete AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS audit_old FOR EACH STATEMENT "
            "EXECUTE FUNCTION coder_audit_deleted();")
    # Row-level security: read everything, write only what coder_may_write allows.
    writable = {"review": "coder_may_write(coder_id)", "coding": "coder_may_write(coder_id)",
                "decision": "coder_may_write(coder_id) AND coder_is_supervisor()",
                "coder": "name = current_user OR (coder_is_supervisor() AND kind <> 'human')"}
    for table, check in writable.items():
        extra = " AND settled_by = current_user" if table == "decision" else ""
        conn.exec_driver_sql(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY read_all ON {table} FOR SELECT USING (true);"
            f"CREATE POLICY add_own ON {table} FOR INSERT WITH CHECK ({check}{extra});"
            f"CREATE POLICY change_own ON {table} FOR UPDATE USING ({check}) "
            f"WITH CHECK ({check}{extra});"
            f"CREATE POLICY remove_own ON {table} FOR DELETE USING ({check});")


# --- the actor on SQLite -------------------------------------------------------------------

def set_actor(conn: Connection, actor: str) -> None:
    """Name ``actor`` for the triggers until :func:`clear_actor` (same transaction)."""
    conn.exec_driver_sql("DELETE FROM audit_context")
    conn.exec_driver_sql("INSERT INTO audit_context (actor) VALUES (?)", (actor,))


def clear_actor(conn: Connection) -> None:
    conn.exec_driver_sql("DELETE FROM audit_context")
