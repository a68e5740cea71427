"""Copying a whole project between databases (SQLite ⇄ PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, func, insert, select
from sqlmodel import SQLModel

from coder.db import models  # noqa: F401 - registers the tables
from coder.db.engine import open_project
from coder.errors import ConflictError

BATCH = 5000


def copy_project(source: str, dest: str) -> dict[str, int]:
    """Copy every row of ``source`` into the empty project ``dest``; returns rows per table.

    One read transaction on the source and one write transaction on the destination: a failed
    copy leaves the destination as it was. The audit log is copied as it was (the entries the
    copy's own inserts triggered are dropped); team members are not copied, as logins and
    grants belong to a server (``coder team add`` them again).
    """
    src = open_project(source)
    dst = open_project(dest, create=True)
    skip = {"schema_migration", "team_member", "audit_context"}
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in skip]
    tables.sort(key=lambda t: t.name == "audit_log")  # last, after the triggers have fired
    counts: dict[str, int] = {}
    with src.read() as s, dst.write() as d:
        busy = [t.name for t in tables
                if d.execute(select(func.count()).select_from(t)).scalar_one()]
        if busy:
            raise ConflictError(f"{dst.label}: the destination project is not empty "
                                f"({', '.join(busy)}) — copy into a new database")
        for table in tables:
            counts[table.name] = 0
            if table.name == "audit_log":
                d.execute(delete(table))
            result = s.execute(select(table).order_by(*table.primary_key.columns))
            while batch := result.mappings().fetchmany(BATCH):
                d.execute(insert(table), [_portable(row) for row in batch])
                counts[table.name] += len(batch)
        if d.dialect.name == "postgresql":
            for table in tables:
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and pk[0].autoincrement is not False and \
                        pk[0].type.python_type is int:
                    d.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                        f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 1), "
                        f"(SELECT MAX({pk[0].name}) FROM {table.name}) IS NOT NULL)")
    src.close()
    dst.close()
    return counts


def _portable(row) -> dict:
    """SQLite hands back naive datetimes (stored as UTC); make them aware for PostgreSQL."""
    return {k: (v.replace(tzinfo=timezone.utc) if isinstance(v, datetime) and v.tzinfo is None
                else v) for k, v in row.items()}
