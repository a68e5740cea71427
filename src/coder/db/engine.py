"""Opening a project database: URL resolution, engine set-up, migrations on open.

A project is a SQLite file (the default, ``./coder.db``) or any SQLAlchemy URL
(``postgresql://user@host/db`` for teams). ``--db`` wins over ``CODER_DB``.

SQLite is opened with WAL, foreign keys on and a busy timeout. pysqlite's own transaction
handling is switched off so that SQLAlchemy's ``begin()`` really is ``BEGIN`` (DDL included),
and write transactions start with ``BEGIN IMMEDIATE`` so that two writers queue on the busy
timeout instead of failing with "database is locked" when one upgrades a read lock.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from coder.db.lite import BUSY_TIMEOUT_S, set_up
from coder.db.locks import (
    _locked, begin_sqlite_write, holders, is_locked_error, lock_postgres_write,
)
from coder.db.url import DEFAULT_DB, resolve_url  # noqa: F401  (re-exported)
from coder.errors import ConflictError, CoderError, NotFoundError


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CoderError(f"{url}: not a database path or URL — give a file path or "
                         "a URL such as postgresql://user@host/db") from exc
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # we issue BEGIN ourselves; WAL on disk
        set_up(dbapi_conn, on_disk=bool(parsed.database) and parsed.database != ":memory:")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        if conn.info.get("write"):  # waits for another writer, with a message (db/locks.py)
            begin_sqlite_write(conn.connection.dbapi_connection, parsed.database or "",
                               BUSY_TIMEOUT_S * 1000)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


@dataclass
class Project:
    """An open project: its URL and engine. Use :meth:`read` and :meth:`write` for transactions."""

    url: str
    engine: Engine
    _audited: bool | None = field(default=None, repr=False)  # SQLite: audit_context exists

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def label(self) -> str:
        """The database as the user would name it (a path for SQLite, URL without password)."""
        url = make_url(self.url)
        return url.database if self.is_sqlite else url.render_as_string(hide_password=True)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        from coder.db.audit import clear_actor, os_user, set_actor

        with self.engine.connect() as conn:
            conn.info["write"] = True
            try:
                with _lock_errors(self), conn.begin():
                    if not self.is_sqlite:  # writers queue, as on SQLite (db/locks.py)
                        lock_postgres_write(conn, self.label)
                    audited = self.is_sqlite and self._sqlite_audited(conn)
                    if audited:  # who writes, for the audit triggers (coder.db.audit)
                        set_actor(conn, os_user())
                    yield conn
                    if audited and conn.in_transaction():  # not rolled back by the caller
                        clear_actor(conn)
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) == "42501":  # insufficient privilege
                    from coder.team import denied

                    raise denied(self, exc) from exc
                raise
            finally:
                conn.info["write"] = False

    def _sqlite_audited(self, conn: Connection) -> bool:
        if self._audited is None:
            self._audited = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'audit_context'").first() is not None
        return self._audited

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            with _lock_errors(self), conn.begin():
                yield conn

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def _lock_errors(project: Project) -> Iterator[None]:
    """"database is locked" after SQLite's busy wait, or a unique key lost to a concurrent
    writer: one line (ProjectLocked / ConflictError) instead of an internal error."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    try:
        yield
    except OperationalError as exc:
        if project.is_sqlite and is_locked_error(exc):
            raise _locked(project.label, holders(project.label), BUSY_TIMEOUT_S) from None
        raise
    except IntegrityError as exc:
        if project.is_sqlite:
            raise
        raise ConflictError(f"{project.label}: another command changed the same rows at the "
                            f"same time ({str(exc.orig).splitlines()[0]}) — run this command "
                            "again") from None


def open_project(db: str | None = None, *, create: bool = False) -> Project:
    """Open (and migrate) a project. Without ``create``, a missing SQLite file is an error."""
    from coder.db.migrations import migrate

    url = resolve_url(db)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.exists():
            if not create:
                raise NotFoundError(f"{path}: no project here — run `coder init` or "
                                    "`coder import FILES` to create it, or pass --db PATH")
            if not path.parent.exists():
                raise NotFoundError(f"{path}: folder {path.parent} does not exist — "
                                    "create it or choose another --db path")
    engine = make_engine(url)
    try:
        migrate(engine)
    except CoderError:
        raise
    except Exception as exc:  # connection refused, not a database, …
        engine.dispose()
        raise CoderError(f"{parsed.render_as_string(hide_password=True)}: cannot open the "
                         f"project ({type(exc).__name__}: {str(exc).splitlines()[0]}) — check "
                         "the path or URL and that the server is running") from exc
    return Project(url=url, engine=engine)


def fetch_all(conn: Connection, statement) -> list[tuple]:
    """Every row of a Core SELECT as plain tuples, through the driver's own cursor.

    A large project has hundreds of thousands of review and coding rows; making SQLAlchemy
    Row objects of them costs more than the query itself (SPEC §10). Only for statements whose
    columns no SQLAlchemy type converts (integers, floats, text) and whose values can be
    rendered inline (ids, fixed words, names: rendered as quoted literals).
    """
    sql = statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    cursor = conn.connection.cursor()  # the DBAPI connection of this transaction
    try:
        cursor.execute(str(sql))
        return cursor.fetchall()
    finally:
        cursor.close()


def insert_ignore(conn: Connection, table, rows: list[dict]) -> None:
    """INSERT rows, skipping those that collide with an existing key (``ON CONFLICT DO
    NOTHING`` on SQLite and PostgreSQL), so concurrent writers never fail on a duplicate."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other back ends fall back to a plain insert
        from sqlalchemy import insert

        conn.execute(insert(table), rows)
        return
    conn.execute(insert(table).on_conflict_do_nothing(), rows)


def insert_rows(conn: Connection, table, columns: Sequence[str], rows: list[tuple], *,
                ignore_conflicts: bool = False) -> None:
    """INSERT many rows given as tuples of plain values in ``columns`` order (with
    ``ignore_conflicts``, rows colliding with an existing key are skipped, as
    :func:`insert_ignore` does).

    On SQLite the tuples go straight to the driver's ``executemany``, with only the columns'
    own type conversions (e.g. datetimes to text) applied: SQLAlchemy's generic per-row
    parameter processing costs as much as SQLite's own work on a large import (SPEC §10).
    Other back ends take the ordinary Core path (batched multi-row INSERTs on PostgreSQL).
    """
    from sqlalchemy import bindparam, insert

    if not rows:
        return
    if conn.dialect.name != "sqlite":
        dicts = [dict(zip(columns, row)) for row in rows]
        if ignore_conflicts:
            insert_ignore(conn, table, dicts)
        else:
            conn.execute(insert(table), dicts)
        return
    columns = list(columns)
    if ignore_conflicts:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).on_conflict_do_nothing()
    else:
        statement = insert(table)
    compiled = statement.values({c: bindparam(c) for c in columns}).compile(
        dialect=conn.dialect)
    position = [columns.index(name) for name in compiled.positiontup]
    convert = [table.c[columns[i]].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
               for i in position]
    # The cyclic garbage collector would walk every live object again and again while the
    # new tuples pile up (half the time of a large import); nothing here makes cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        if position != list(range(len(columns))) or any(convert):  # column by column, in C
            rows = list(zip(*[map(f, map(itemgetter(i), rows)) if f else map(itemgetter(i), rows)
                              for i, f in zip(position, convert)]))
        conn.exec_driver_sql(compiled.string, rows)
    finally:
        if enabled:
            gc.enable()


def upsert(conn: Connection, table, row: dict, *, keys: tuple[str, ...],
           update: tuple[str, ...]) -> None:
    """INSERT ``row``, or UPDATE the ``update`` columns of the row with the same ``keys``:
    one statement (``ON CONFLICT … DO UPDATE``) on SQLite and PostgreSQL."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(**row)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}))
