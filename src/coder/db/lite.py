"""A write transaction on a SQLite project with the ``sqlite3`` module alone.

``coder import`` writes the transcripts into an existing project while the files are still
being parsed on other cores; loading SQLAlchemy (an eighth of a second) and compiling its
statements would be this process's largest cost then (SPEC §10). :func:`open_current` gives
a :class:`LiteProject` for a SQLite project whose schema is current, and its
:meth:`~LiteProject.write` behaves as :meth:`coder.db.engine.Project.write` does on SQLite:
the same pragmas, ``BEGIN IMMEDIATE`` waiting for another writer with the same message, the
operating-system user named for the audit triggers, committed on success and rolled back on
any exception. Anything else (no file, an older schema that needs migrating, a file that is
no project) gives None, and the caller opens the project the ordinary way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# The migrations a current schema has applied (coder.db.migrations.MIGRATIONS; a test keeps
# the two equal).
SCHEMA_VERSIONS = frozenset(range(1, 7))
BUSY_TIMEOUT_S = 60  # how long a connection waits on a lock it needs (coder.db.locks)


@dataclass(frozen=True)
class LiteProject:
    """A SQLite project with a current schema, written through ``sqlite3``."""

    path: Path

    @property
    def label(self) -> str:
        return str(self.path)

    @contextmanager
    def write(self) -> Iterator[Statements]:
        from coder.db.audit import os_user
        from coder.db.locks import begin_sqlite_write, holders, is_locked_error, _locked

        con = _connect(self.path)
        try:
            begin_sqlite_write(con, str(self.path), BUSY_TIMEOUT_S * 1000)
            try:
                audited = con.execute("SELECT 1 FROM sqlite_master "
                                      "WHERE name = 'audit_context'").fetchone() is not None
                if audited:  # who writes, for the audit triggers (coder.db.audit)
                    con.execute("DELETE FROM audit_context")
                    con.execute("INSERT INTO audit_context (actor) VALUES (?)", (os_user(),))
                yield Statements(con)
                if audited:
                    con.execute("DELETE FROM audit_context")
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if is_locked_error(exc):
                raise _locked(self.label, holders(self.label), BUSY_TIMEOUT_S) from None
            raise
        finally:
            con.close()


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    set_up(con, on_disk=True)
    return con


def set_up(con: sqlite3.Connection, *, on_disk: bool) -> None:
    """Every SQLite connection of a project (here and :func:`coder.db.engine.make_engine`):
    transactions begun by coder itself, foreign keys enforced, a busy timeout, and on disk
    write-ahead logging."""
    con.isolation_level = None
    cur = con.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    if on_disk:
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def open_current(path: Path | None) -> LiteProject | None:
    """The project at ``path`` when it is a SQLite file whose schema needs no migration."""
    from coder.db.peek import read_only

    if path is None or not path.is_file() or (con := read_only(path)) is None:
        return None
    try:
        versions = {row[0] for row in con.execute("SELECT version FROM schema_migration")}
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return LiteProject(path) if versions == SCHEMA_VERSIONS else None


class Statements:
    """The statements of a write, on a DB-API connection: ``?`` marks parameters (PostgreSQL's
    driver is given ``%s``), times are stored as SQLAlchemy stores them on this database."""

    def __init__(self, con, *, postgres: bool = False, run=None):
        self.postgres = postgres
        self._run = run or con.execute
        self._many = con.executemany if run is None else run

    @classmethod
    def of(cls, conn) -> Statements:
        """For a SQLAlchemy connection, through its driver (errors still wrapped as
        SQLAlchemy's, as :meth:`coder.db.engine.Project.write` expects)."""
        return cls(conn, postgres=conn.dialect.name == "postgresql", run=conn.exec_driver_sql)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        return [tuple(row) for row in self._run(self._sql(sql), params)]

    def run(self, sql: str, params: tuple = ()) -> None:
        self._run(self._sql(sql), params)

    def many(self, sql: str, rows: list[tuple]) -> None:
        if rows:
            self._many(self._sql(sql), rows)

    def time(self, value: datetime):
        """``value`` as a parameter: the text SQLAlchemy's DateTime writes on SQLite."""
        if self.postgres:
            return value
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def marks(count: int) -> str:
    """``?, ?, ?`` for ``count`` values."""
    return ", ".join("?" * count)


__all__ = ["LiteProject", "SCHEMA_VERSIONS", "Statements", "marks", "open_current"]
