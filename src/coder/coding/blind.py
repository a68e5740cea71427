"""Blind copies: a project for one coder, with the transcripts and codebook but no one else's
codings, so that coding stays blind; :func:`coder.coding.merge.merge_project` brings it back.

What a copy holds: every table of the project except the trained auto-coders (they learnt from
other coders' codings); rows that belong to a coder (every table with a ``coder_id`` column:
reviews, codings, consensus decisions, and any such table a later migration adds) only for the
chosen coder, and of the coder table only that coder. Everything else (participants,
transcripts, attributes, segments, every codebook version, project settings) is copied whole,
ids included, so the copy is this project minus the others' work.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, insert, select
from sqlmodel import SQLModel

from coder.db import models  # noqa: F401 - registers the tables
from coder.db.engine import Project, open_project
from coder.errors import ConflictError, NotFoundError

BATCH = 5000
# Not handed over: the schema's own bookkeeping, trained models, and each project's own audit
# trail and team logins (the copy starts its own).
_NEVER = {"schema_migration", "autocode_model", "audit_log", "audit_context", "team_member",
          "llm_run", "llm_call"}


def blind_copy(project: Project, dest: str, *, coder: str | None) -> dict[str, int]:
    """Copy ``project`` into the new, empty project ``dest`` (a path or URL) without any
    coder's work but ``coder``'s (none when ``None``); returns rows copied per table."""
    from coder.coding.store import check_coder_name
    from coder.db.copy import _portable

    if coder is not None:
        coder = check_coder_name(coder)
    _refuse_existing_file(dest)
    target = open_project(dest, create=True)
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in _NEVER]
    counts: dict[str, int] = {}
    try:
        with project.read() as src, target.write() as dst:
            busy = [t.name for t in tables
                    if dst.execute(select(func.count()).select_from(t)).scalar_one()]
            if busy:
                raise ConflictError(f"{target.label}: not an empty project ({', '.join(busy)})"
                                    " — give a new file or an empty database")
            coder_table = models.Coder.__table__
            cid = None
            if coder is not None:
                cid = src.execute(select(coder_table.c.id)
                                  .where(coder_table.c.name == coder)).scalar()
            for table in tables:
                query = select(table).order_by(*table.primary_key.columns)
                if table is coder_table:
                    query = query.where(table.c.id == cid)
                elif "coder_id" in table.c:
                    query = query.where(table.c.coder_id == cid)
                result = src.execute(query)
                counts[table.name] = 0
                while batch := result.mappings().fetchmany(BATCH):
                    dst.execute(insert(table), [_portable(row) for row in batch])
                    counts[table.name] += len(batch)
            if dst.dialect.name == "postgresql":
                _reset_sequences(dst, tables)
    except BaseException:
        target.close()
        _remove_new_file(dest)
        raise
    target.close()
    return counts


def split_project(project: Project, folder: Path, coders: list[str]) -> dict[str, Path]:
    """One blind copy per coder, ``FOLDER/NAME.db``; returns coder → file."""
    from coder.coding.store import check_coder_name

    folder = Path(folder)
    if not folder.is_dir():
        raise NotFoundError(f"{folder}: no such folder — create it first (mkdir {folder})")
    names = [check_coder_name(n) for n in dict.fromkeys(coders)]
    paths = {name: folder / f"{name.replace(':', '_')}.db" for name in names}
    for path in paths.values():
        _refuse_existing_file(str(path))
    done: dict[str, Path] = {}
    try:
        for name, path in paths.items():
            blind_copy(project, str(path), coder=name)
            done[name] = path
    except BaseException:
        for path in done.values():
            _remove_new_file(str(path))
        raise
    return done


def _refuse_existing_file(dest: str) -> None:
    if "://" not in dest and Path(dest).expanduser().exists():
        raise ConflictError(f"{dest}: already exists — give a new file name (a blind copy "
                            "never overwrites a project)")


def _remove_new_file(dest: str) -> None:
    if "://" in dest:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(Path(dest).expanduser()) + suffix).unlink(missing_ok=True)


def _reset_sequences(conn, tables) -> None:
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement is not False and pk[0].type.python_type is int:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 1), "
                f"(SELECT MAX({pk[0].name}) FROM {table.name}) IS NOT NULL)")
