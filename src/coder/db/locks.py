"""Writers wait for each other, say so, and give up with one line naming who holds the project.

- **SQLite**: a write transaction starts with ``BEGIN IMMEDIATE``. When another process holds
  the write lock, we retry every :data:`STEP_S` seconds; after the first failed try one message
  says we are waiting, and after :func:`wait_s` seconds (``CODER_LOCK_TIMEOUT``, default 60)
  :class:`ProjectLocked` names the processes that have the file open (read from ``/proc`` on
  Linux; "another program" elsewhere).
- **PostgreSQL**: write transactions take one transaction-scoped advisory lock first, so team
  writers are serialized as on SQLite: two ``codebook load`` or ``import`` commands racing on
  the same database run one after the other (the second sees the first's rows under READ
  COMMITTED) instead of failing on a unique key. The wait is bounded and reported the same way.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from coder.errors import ConflictError

STEP_S = 1.0
WRITE_LOCK_KEY = 735103  # pg advisory lock of write transactions (735102: migrations)


class ProjectLocked(ConflictError):
    """Another process held the project's write lock for longer than the wait."""


def wait_s() -> float:
    """Seconds a writer waits for the lock: ``CODER_LOCK_TIMEOUT``, default 60."""
    try:
        return max(0.0, float(os.environ.get("CODER_LOCK_TIMEOUT", "60")))
    except ValueError:
        return 60.0


def holders(database: str) -> str:
    """Who has the SQLite file open, for the message: ``pid 4711 (coder code …)``."""
    try:
        target = {str(Path(database).resolve()) + suffix for suffix in ("", "-wal", "-journal")}
    except OSError:
        return "another program"
    found = []
    me = os.getpid()
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me]
    except OSError:
        return "another program"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if not any(os.readlink(f"/proc/{pid}/fd/{fd}") in target for fd in fds):
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        command = " ".join(a.decode("utf-8", "replace") for a in argv if a)[:80]
        found.append(f"pid {pid} ({command})" if command else f"pid {pid}")
        if len(found) == 3:
            break
    return ", ".join(found) if found else "another program"


def _locked(label: str, who: str, waited: float) -> ProjectLocked:
    from coder.safeio import printable

    return ProjectLocked(f"{printable(label)}: the project is locked by {who}, still after "
                         f"{waited:.0f} s — let that command finish (or stop it), then run "
                         "this one again; CODER_LOCK_TIMEOUT=SECONDS waits longer")


def _waiting(label: str, who: str, limit: float) -> None:
    from coder.output import message

    message(f"waiting for {label}: another command is writing to it ({who}); waiting up to "
            f"{limit:.0f} s, Ctrl-C to stop")


def begin_sqlite_write(dbapi_conn, database: str, busy_ms: int) -> None:
    """``BEGIN IMMEDIATE`` on a raw sqlite3 connection, waiting as described above."""
    import sqlite3

    limit = wait_s()
    started = time.monotonic()
    told = False
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {int(min(STEP_S, limit) * 1000)}")
    try:
        while True:
            try:
                cur.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                waited = time.monotonic() - started
                if waited >= limit:
                    raise _locked(database, holders(database), waited) from None
                if not told:
                    _waiting(database, holders(database), limit)
                    told = True
    finally:
        cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cur.close()


def lock_postgres_write(conn, label: str) -> None:
    """Take the write lock of a PostgreSQL project inside the current transaction."""
    limit = wait_s()
    started = time.monotonic()
    told = False
    while not conn.exec_driver_sql(
            f"SELECT pg_try_advisory_xact_lock({WRITE_LOCK_KEY})").scalar():
        waited = time.monotonic() - started
        if waited >= limit:
            raise _locked(label, "another command", waited)
        if not told:
            _waiting(label, "another command", limit)
            told = True
        time.sleep(0.05 if waited < 1 else 0.25)


def is_locked_error(exc: BaseException) -> bool:
    """A SQLite "database is locked/busy" error surfacing outside ``BEGIN``."""
    text = str(getattr(exc, "orig", exc))
    return "database is locked" in text or "database is busy" in text
