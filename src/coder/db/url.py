"""Which database a command works on: ``--db``, else ``CODER_DB``, else ``./coder.db``.

Kept apart from :mod:`coder.db.engine` so that a command can tell where its project is
without importing SQLAlchemy (a third of a second of start-up).
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "coder.db"


def resolve_url(db: str | None = None) -> str:
    """Turn ``--db``/``CODER_DB``/default into a SQLAlchemy URL."""
    value = db or os.environ.get("CODER_DB") or DEFAULT_DB
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser()}"
    if value.startswith(("postgresql://", "postgres://")):
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def sqlite_file(db: str | None = None) -> Path | None:
    """The project's file when it is a SQLite file given as a path (the default), else None."""
    value = db or os.environ.get("CODER_DB") or DEFAULT_DB
    if "://" in value:
        return None
    return Path(value).expanduser()


__all__ = ["DEFAULT_DB", "resolve_url", "sqlite_file"]
