"""The project store: migrations, schema, engine settings, --db/CODER_DB resolution."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from coder.db import models  # noqa: F401 - registers the tables
from coder.db.engine import open_project, resolve_url
from coder.db.migrations import MIGRATIONS, migrate


def _schema(engine) -> dict:
    insp = inspect(engine)
    out = {}
    for table in sorted(insp.get_table_names()):
        out[table] = {
            "columns": [(c["name"], type(c["type"]).__name__, c["nullable"])
                        for c in insp.get_columns(table)],
            "pk": sorted(insp.get_pk_constraint(table)["constrained_columns"]),
            "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                           tuple(f["referred_columns"]), (f.get("options") or {}).get("ondelete"))
                          for f in insp.get_foreign_keys(table)),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "indexes": sorted((tuple(i["column_names"]), bool(i["unique"]))
                              for i in insp.get_indexes(table)),
        }
    return out


def test_migrated_blank_database_equals_the_models(tmp_path):
    migrated = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    migrate(migrated)
    modelled = create_engine(f"sqlite:///{tmp_path / 'modelled.db'}")
    SQLModel.metadata.create_all(modelled)
    assert _schema(migrated) == _schema(modelled)


def test_core_tables_equal_the_models(tmp_path):
    """coder.db.tables (what the commands query, without SQLModel) is the models' schema."""
    from coder.db.tables import metadata

    core = create_engine(f"sqlite:///{tmp_path / 'core.db'}")
    metadata.create_all(core)
    modelled = create_engine(f"sqlite:///{tmp_path / 'modelled.db'}")
    SQLModel.metadata.create_all(modelled)
    assert _schema(core) == _schema(modelled)


def test_migrations_are_recorded_once_and_rerun_is_a_no_op(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'p.db'}")
    assert migrate(engine) == [fn.__name__ for _, fn in MIGRATIONS]
    assert migrate(engine) == []
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT version, name FROM schema_migration").all()
    assert [tuple(r) for r in rows] == [(v, fn.__name__) for v, fn in MIGRATIONS]


def test_a_failing_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    from coder.db import migrations

    def m002_broken(conn):
        conn.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("boom")

    from coder.db.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    migrate(engine)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, (2, m002_broken)])
    try:
        migrations.migrate(engine)
    except RuntimeError:
        pass
    assert not inspect(engine).has_table("half_done")
    assert migrations.applied_versions(engine) == {v for v, _ in MIGRATIONS}


def test_sqlite_is_opened_with_wal_foreign_keys_and_busy_timeout(db_path):
    project = open_project(str(db_path), create=True)
    with project.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    project.close()


def test_db_option_and_environment_choose_the_database(tmp_path, monkeypatch):
    monkeypatch.setenv("CODER_DB", str(tmp_path / "env.db"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'env.db'}"
    assert resolve_url(str(tmp_path / "opt.db")) == f"sqlite:///{tmp_path / 'opt.db'}"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv("CODER_DB")
    assert resolve_url(None) == "sqlite:///coder.db"


def test_init_creates_and_missing_project_is_a_clear_error(cli, db_path):
    result = cli("transcripts", "list")
    assert result.exit_code == 1
    assert f"error: {db_path}: no project here" in result.output
    assert not db_path.exists()
    result = cli("init")
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(db_path)
    assert con.execute("SELECT count(*) FROM schema_migration").fetchone()[0] == len(MIGRATIONS)


def test_help_imports_no_heavy_library():
    code = ("import sys; sys.argv = ['coder', '--help']\n"
            "from coder.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pandas', 'numpy', 'sklearn', 'matplotlib') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


def test_every_command_has_help_text():
    from typer.main import get_command

    from coder.cli import app

    def walk(cmd, path):
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    missing = [path for path, cmd in walk(get_command(app), "coder")
               if not (cmd.help or "").strip()]
    assert missing == []


def test_cli_reference_is_current():
    """docs/cli.md is generated from --help; regenerate it with scripts/cli-reference."""
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "cli-reference"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
