"""Project-wide settings (``project_setting``): small JSON values keyed by name.

Settings are what a project decides once for every command (its ``language``, extra
``interviewer_labels``, whether the named-entity tagger runs on import…). Values are stored as
JSON text so that the schema is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from coder.db.tables import utcnow


def get_setting(conn: Connection, key: str, default: Any = None) -> Any:
    """The value of setting ``key``, or ``default`` when it was never set."""
    row = conn.execute(text("SELECT value FROM project_setting WHERE key = :k"), {"k": key}).first()
    return default if row is None else json.loads(row[0])


def all_settings(conn: Connection) -> dict[str, Any]:
    rows = conn.execute(text("SELECT key, value FROM project_setting ORDER BY key")).all()
    return {k: json.loads(v) for k, v in rows}


def set_setting(conn: Connection, key: str, value: Any) -> None:
    """Set ``key`` to ``value`` (any JSON-serializable value); ``None`` removes it."""
    conn.execute(text("DELETE FROM project_setting WHERE key = :k"), {"k": key})
    if value is not None:
        conn.execute(text("INSERT INTO project_setting (key, value, updated_at) "
                          "VALUES (:k, :v, :t)"),
                     {"k": key, "v": json.dumps(value, ensure_ascii=False), "t": utcnow()})
