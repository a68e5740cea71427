"""Shared fixtures: fresh projects, the CLI runner, paths to the shared contract and corpus;
and plain helpers the test modules import (``from conftest import run, q, ...``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "transcripts"
CODEBOOK = ROOT / "codebooks" / "csto-2022.yaml"
CODINGS = ROOT / "codings"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "project.db"


@pytest.fixture
def project(db_path: Path):
    """A fresh, migrated SQLite project."""
    from coder.db.engine import open_project

    proj = open_project(str(db_path), create=True)
    yield proj
    proj.close()


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    monkeypatch.delenv("CODER_DB", raising=False)
    return CliRunner()


def pytest_generate_tests(metafunc):
    """Modules marked ``pytestmark = pytest.mark.usefixtures("backend")`` run every test on
    SQLite and on PostgreSQL (team mode: the same commands must behave the same)."""
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", ["sqlite", "postgresql"])


@pytest.fixture
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(request, db_path: Path) -> str:
    """The test project: the SQLite file, or a fresh PostgreSQL database for the postgresql
    run of a module that uses the ``backend`` fixture."""
    if "backend" in request.fixturenames and request.getfixturevalue("backend") == "postgresql":
        return request.getfixturevalue("pg_url")
    return str(db_path)


@pytest.fixture
def cli(runner: CliRunner, db_url: str):
    """Run ``coder ARGS`` against the test project; returns the click Result."""
    from coder.cli import app

    def invoke(*args, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input,
                             env={"CODER_DB": db_url})

    return invoke


def run(db: Path | str | None, *args, expect: int | None = 0, input: str | None = None,
        env: dict[str, str] | None = None, argv: bool = False):
    """Run ``coder ARGS`` in-process (typer's CliRunner) against the project ``db`` (a path or
    URL, passed as ``CODER_DB``; ``None`` unsets it, for commands that name their ``--db``).

    The exit code must be ``expect`` (``None``: not checked — the test looks at it itself).
    ``env`` adds variables (e.g. ``{"COLUMNS": "200"}`` for wide tables); ``argv=True`` also
    sets ``sys.argv`` to the command line, which reports record as their provenance.
    Returns the click Result."""
    import sys

    from coder.cli import app

    argv_was = sys.argv
    if argv:
        sys.argv = ["coder", *[str(a) for a in args]]
    try:
        result = CliRunner().invoke(app, [str(a) for a in args], input=input,
                                    env={"CODER_DB": None if db is None else str(db),
                                         **(env or {})})
    finally:
        sys.argv = argv_was
    if expect is not None:
        assert result.exit_code == expect, (args, result.output)
    return result


def q(db: Path | str, sql: str, *params) -> list[tuple]:
    """Rows of one SQL query (``?`` placeholders) on the SQLite project file ``db``."""
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def copy_db(source: Path, target: Path) -> Path:
    """Copy the SQLite project ``source`` to ``target`` with SQLite's backup API."""
    import sqlite3

    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def write(path: Path, content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8, bytes as they are, newlines untouched) to ``path``,
    making its folder; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def check_golden(path: Path, actual: str) -> None:
    """``actual`` must equal the golden file at ``path``; ``UPDATE_GOLDEN=1`` (re)writes it."""
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} missing — run with UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8")


def query(url: str, sql: str, **params) -> list[tuple]:
    """Rows of one SQL query on the project at ``url`` (a path or URL), any back end."""
    from sqlalchemy import create_engine, text

    from coder.db.engine import resolve_url

    engine = create_engine(resolve_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def dump_db(path: Path) -> str:
    """Every row of every table, for 'the database is unchanged' assertions."""
    import sqlite3

    if not path.exists():
        return "<no file>"
    con = sqlite3.connect(path)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


PG_ADMIN = os.environ.get("CODER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(PG_ADMIN).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"coder_t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a missing server is a failure, never a skip
        pytest.fail(f"PostgreSQL is needed for team-mode tests ({PG_ADMIN}): {exc}. "
                    "`make test` starts it via scripts/ensure-postgres; or set CODER_TEST_PG.")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    yield url.replace("postgresql+psycopg://", "postgresql://")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request, tmp_path):
    """The project database URL on each back end in turn."""
    if request.param == "sqlite":
        return str(tmp_path / "backend.db")
    return request.getfixturevalue("pg_url")


def dump_url(url: str) -> dict:
    """Every table's rows (sorted, ids and timestamps included) through SQLAlchemy, any back end."""
    from datetime import datetime

    from sqlalchemy import MetaData, create_engine, select

    from coder.db.engine import resolve_url

    engine = create_engine(resolve_url(url))
    md = MetaData()
    md.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in sorted(md.tables.items()):
            rows = []
            for row in conn.execute(select(table)):
                rows.append(tuple(v.replace(tzinfo=None).isoformat() if isinstance(v, datetime)
                                  else v for v in row))
            out[name] = sorted(rows, key=repr)
    engine.dispose()
    return out
