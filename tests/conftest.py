"""Shared fixtures: fresh projects, the CLI runner, paths to the shared contract and corpus."""

from __future__ import annotations

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


@pytest.fixture
def cli(runner: CliRunner, db_path: Path):
    """Run ``coder ARGS`` against the test project; returns the click Result."""
    from coder.cli import app

    def invoke(*args, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input,
                             env={"CODER_DB": str(db_path)})

    return invoke


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
