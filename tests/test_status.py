"""`coder status`: a per-coder summary, --by transcript, --coder, and transcripts nobody started."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import CODEBOOK

pytestmark = pytest.mark.usefixtures("backend")  # every test on SQLite and PostgreSQL


def turns(tid: str, k: int) -> str:
    """A transcript of ``k`` participant turns (segments 2, 4, …, 2k)."""
    return "".join(f"Interviewer: Question {i}?\n\n{tid}: Answer number {i}.\n\n"
                   for i in range(1, k + 1))


@pytest.fixture
def project(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for tid, k in (("KZ-01", 3), ("KZ-02", 2), ("RU-01", 2)):
        (folder / f"{tid}.txt").write_text(turns(tid, k), encoding="utf-8")
    assert cli("import", folder).exit_code == 0
    assert cli("codebook", "load", CODEBOOK).exit_code == 0
    return cli


def sheet(tmp_path: Path, name: str, rows: list[list]) -> Path:
    path = tmp_path / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["transcript", "segment", "code"], *rows])
    return path


def status(cli, *args):
    result = cli("status", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def test_summary_per_coder_over_all_transcripts(project, tmp_path):
    # alice: KZ-01 whole (segments 2 coded, 4 and 6 reviewed without code), KZ-02 segment 2 only
    alice = sheet(tmp_path, "alice", [["KZ-01", 2, "reforms"], ["KZ-01", 4, ""],
                                      ["KZ-01", 6, ""], ["KZ-02", 2, "reforms"]])
    assert project("codings", "import", "--new-coder", alice, "--coder", "alice", "--partial").exit_code == 0
    bob = sheet(tmp_path, "bob", [["KZ-01", 2, ""]])
    assert project("codings", "import", "--new-coder", bob, "--coder", "bob").exit_code == 0  # all of KZ-01

    rows, messages = status(project)
    assert rows == [
        {"coder": "alice", "kind": "human", "reviewed": 4, "coded": 2, "segments": 7,
         "done": 1, "in_progress": 1, "not_started": 1},
        {"coder": "bob", "kind": "human", "reviewed": 3, "coded": 0, "segments": 7,
         "done": 1, "in_progress": 0, "not_started": 2},
    ]
    assert "1 of 3 transcript(s) not started by anyone: RU-01" in " ".join(messages.split())

    detail, _ = status(project, "--by", "transcript", "--coder", "alice")
    assert detail == [
        {"coder": "alice", "transcript": "KZ-01", "segments": 3, "reviewed": 3, "coded": 1,
         "state": "done"},
        {"coder": "alice", "transcript": "KZ-02", "segments": 2, "reviewed": 1, "coded": 1,
         "state": "in progress"},
        {"coder": "alice", "transcript": "RU-01", "segments": 2, "reviewed": 0, "coded": 0,
         "state": "not started"},
    ]
    _, messages = status(project, "--coder", "bob")
    assert "2 of 3 transcript(s) not started by bob: KZ-02, RU-01" in " ".join(messages.split())

    table = project("status", "--by", "transcript")
    assert table.exit_code == 0
    assert table.stdout.count("not started") == 3  # alice RU-01, bob KZ-02 and RU-01


def test_no_coder_yet_and_unknown_coder(project):
    rows, messages = status(project)
    assert rows == []
    assert "no coder has reviewed anything yet" in messages
    result = project("status", "--coder", "zoe")
    assert result.exit_code == 1
    assert "no coder 'zoe'" in result.output
