"""A look into a SQLite project without SQLAlchemy, for what a command needs before it opens
the project properly (``coder import`` starts parsing on other cores meanwhile).

Read-only and forgiving: anything unexpected (no file, a file that is no project, an older
schema without the table) gives None, and the caller opens the project the ordinary way.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any


def read_only(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to the SQLite file at ``path``, or None when it cannot be had."""
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except (sqlite3.Error, ValueError, OSError):
        return None


def sqlite_settings(path: Path) -> dict[str, Any] | None:
    """The ``project_setting`` values of the SQLite project at ``path``; ``{}`` when there is
    no file yet (a first import); None when they cannot be read this way."""
    if not path.exists():
        return {} if path.parent.is_dir() else None
    con = read_only(path)
    if con is None:
        return None
    try:
        rows = con.execute("SELECT key, value FROM project_setting").fetchall()
        return {key: json.loads(value) for key, value in rows}
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        con.close()


__all__ = ["read_only", "sqlite_settings"]
