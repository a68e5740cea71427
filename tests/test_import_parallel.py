"""Parsing on several cores (coder.parallel): the same project, the same errors, the same
personal-data findings as parsing in one process, in the same order; a dead worker loses
nothing."""

from __future__ import annotations

import os
import threading

import pytest

from conftest import q
from coder import parallel
from coder.anonymize import PiiFound
from coder.db.engine import open_project
from coder.errors import InputError
from coder.transcripts import import_transcripts, parse_transcripts

needs_cores = pytest.mark.skipif(parallel.cpus() < 2 or "fork" not in __import__(
    "multiprocessing").get_all_start_methods(), reason="parsing in parallel needs 2 cores and fork")

COUNTRIES = ("KZ", "RU", "AM", "BY", "KG", "TJ")


def corpus(folder, n=90):
    """``n`` small speaker-labelled transcripts and their participants file."""
    folder.mkdir()
    rows = ["transcript,country"]
    for i in range(n):
        tid = f"{COUNTRIES[i % 6]}-{i:02d}"
        turns = []
        for t in range(6):
            turns.append(f"Interviewer: Question {t} about the January events, part {i}?")
            turns.append(f"{tid}: Answer {t}: the alliance acted within days.\n"
                         f"A second line of answer {t}.")
        (folder / f"{tid}.txt").write_text("\n\n".join(turns) + "\n", encoding="utf-8")
        rows.append(f"{tid},{COUNTRIES[i % 6]}")
    meta = folder.parent / "participants.csv"
    meta.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return meta


def dump(db) -> dict:
    return {table: q(db, f"SELECT {cols} FROM {table} ORDER BY {order}")
            for table, cols, order in (
                ("transcript", "id, participant_id, source, format, sha256, interviewer, text",
                 "id"),
                ("segment", "transcript_id, n, speaker, role, start, \"end\", text, "
                 "char_start, char_end", "transcript_id, n"),
                ("attribute", "transcript_id, name, value", "transcript_id, name"))}


def import_with(jobs, monkeypatch, tmp_path, folder, meta, name):
    monkeypatch.setenv("CODER_JOBS", str(jobs))
    db = tmp_path / f"{name}.db"
    project = open_project(str(db), create=True)
    try:
        report = import_transcripts(project, [folder], meta=meta)
    finally:
        project.close()
    return db, report


@needs_cores
def test_the_workers_run_in_other_processes_and_keep_the_order():
    items = list(range(200))
    import time

    waited = []  # what the caller does meanwhile, while the worker starts on the items
    results = list(parallel.ordered_map(lambda i: (i * i, os.getpid()), items, jobs=2,
                                        meanwhile=lambda: waited.append(time.sleep(0.3))))
    assert waited == [None]
    assert [r[0] for r in results] == [i * i for i in items]
    assert {r[1] for r in results} - {os.getpid()}, "no worker process did any of the work"


def test_few_items_or_one_job_or_a_live_thread_mean_one_process():
    assert parallel.jobs_for(parallel.MIN_ITEMS - 1, 4) == 1
    assert parallel.jobs_for(1000, 1) == 1
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:  # forking beside another thread could copy a lock it holds
        assert parallel.jobs_for(1000, 4) == 1
    finally:
        stop.set()
        thread.join()


@needs_cores
def test_a_dead_worker_loses_no_item():
    parent = os.getpid()

    def work(i):
        if i == 37 and os.getpid() != parent:
            os._exit(3)  # as if killed by the out-of-memory killer
        return i + 1

    import time

    assert list(parallel.ordered_map(work, list(range(150)), jobs=2,
                                     meanwhile=lambda: time.sleep(0.3))) == \
        [i + 1 for i in range(150)]


@needs_cores
def test_parallel_import_writes_the_same_project(tmp_path, monkeypatch):
    folder = tmp_path / "transcripts"
    meta = corpus(folder)
    one, report_one = import_with(1, monkeypatch, tmp_path, folder, meta, "one")
    two, report_two = import_with(2, monkeypatch, tmp_path, folder, meta, "two")
    assert parallel.jobs_for(90, 2) == 2  # this process and one worker
    assert dump(one) == dump(two)
    assert len(dump(two)["transcript"]) == 90 and len(dump(two)["segment"]) == 90 * 12
    assert [t.id for t in report_one.transcripts] == [t.id for t in report_two.transcripts]
    assert report_one.warnings == report_two.warnings


@needs_cores
def test_a_bad_file_stops_the_import_with_the_same_message(tmp_path, monkeypatch):
    folder = tmp_path / "transcripts"
    meta = corpus(folder)
    (folder / "KG-40.txt").write_bytes(b"Interviewer: \xff\xfe broken\n\nKG-40: yes\n")
    (folder / "RU-70.txt").write_bytes(b"")  # a later bad file: the first one is reported
    messages = []
    for jobs in (1, 2):
        monkeypatch.setenv("CODER_JOBS", str(jobs))
        with pytest.raises(InputError) as caught:
            parse_transcripts([folder], meta=meta)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "KG-40.txt" in messages[1] and "undecodable byte" in messages[1]


@needs_cores
def test_personal_data_is_found_alike_in_order(tmp_path, monkeypatch):
    folder = tmp_path / "transcripts"
    meta = corpus(folder)
    for name, leak in (("AM-14.txt", "write to a.petrova@example.org"),
                       ("TJ-65.txt", "call +7 701 123 45 67 tonight")):
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8") + f"\nInterviewer: {leak}\n",
                        encoding="utf-8")
    found = []
    for jobs in (1, 2):
        monkeypatch.setenv("CODER_JOBS", str(jobs))
        with pytest.raises(PiiFound) as caught:
            parse_transcripts([folder], meta=meta)
        found.append([(f.file, f.line, f.column, f.kind, f.text, f.replacement)
                      for f in caught.value.findings])
    assert found[0] == found[1]
    assert [(f[0].rsplit("/", 1)[-1], f[3]) for f in found[1]] == \
        [("AM-14.txt", "email"), ("TJ-65.txt", "phone")]


@needs_cores
def test_a_folder_skips_what_is_no_transcript_alike(tmp_path, monkeypatch):
    folder = tmp_path / "transcripts"
    meta = corpus(folder)
    (folder / "zoom-chat.txt").write_text("00:21:14\tKZ-01:\tthanks\n00:21:20\tKZ-02:\tbye\n",
                                          encoding="utf-8")
    skipped = []
    for jobs in (1, 2):
        monkeypatch.setenv("CODER_JOBS", str(jobs))
        report = parse_transcripts([folder], meta=meta)
        skipped.append([(p.name, why) for p, why in report.skipped])
        assert len(report.transcripts) == 90
    assert skipped[0] == skipped[1] and skipped[1][0][0] == "zoom-chat.txt"


@needs_cores
@pytest.mark.parametrize("existing", [False, True], ids=["new project", "existing project"])
def test_ctrl_c_while_parsing_stops_every_process_and_writes_nothing(tmp_path, existing):
    """Ctrl-C reaches the whole foreground process group, workers included: one message, exit
    130, no worker's traceback, no worker left running, no project made — or, into an
    existing project (written while the files parse), none of the transcripts kept."""
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "transcripts"
    meta = corpus(folder, n=600)
    db = tmp_path / "p.db"
    if existing:
        open_project(str(db), create=True).close()
        before = dump(db)
    script = ("import sys, coder.transcripts as t\n"
              "from coder.importers import registry\n"
              "slow = registry.parse_file\n"
              "def parse_file(*a, **k):\n"
              "    import time; time.sleep(0.02); return slow(*a, **k)\n"
              "import coder.importers; coder.importers.parse_file = parse_file\n"
              f"sys.argv = ['coder', 'import', {str(folder)!r}, '--meta', {str(meta)!r}, "
              f"'--db', {str(db)!r}]\n"
              "from coder.cli import main\nmain()\n")
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True,
                             start_new_session=True, env=dict(os.environ, CODER_JOBS="2"))
    time.sleep(3)  # well into the parsing (600 files at 20 ms each, on 2 workers: 6 s)
    os.killpg(child.pid, signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr
    if existing:
        assert dump(db) == before
    else:
        assert not db.exists()
    leftover = subprocess.run(["pgrep", "-g", str(child.pid)], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", "a worker outlived the command"


def cli_import(db, folder, meta, jobs):
    """`coder import` as a user runs it (the CLI writes while parsing into an existing
    project); returns the result."""
    from typer.testing import CliRunner

    from coder.cli import app

    return CliRunner().invoke(app, ["import", str(folder), "--meta", str(meta), "--db", str(db)],
                              env={"CODER_JOBS": str(jobs)})


@needs_cores
def test_writing_while_parsing_gives_the_same_project(tmp_path):
    from coder.transcript_store import StreamedStore

    folder = tmp_path / "transcripts"
    meta = corpus(folder, n=200)  # several batches
    assert 200 > 3 * StreamedStore.BATCH
    projects = []
    for jobs in (1, 2):
        db = tmp_path / f"p{jobs}.db"
        open_project(str(db), create=True).close()
        result = cli_import(db, folder, meta, jobs)
        assert result.exit_code == 0, result.output
        projects.append(dump(db))
    assert projects[0] == projects[1] and len(projects[1]["transcript"]) == 200


@needs_cores
@pytest.mark.parametrize("bad", ["undecodable", "personal data", "duplicate id"])
def test_a_late_error_rolls_back_what_was_written_meanwhile(tmp_path, bad, monkeypatch):
    """The first batches are already written when file 180 of 200 turns out bad: the project
    is left exactly as it was, and text the gate flagged never reaches the database file."""
    from coder.transcript_store import StreamedStore

    written = []
    flush = StreamedStore._flush

    def counted(self):
        written.append(len(self._pending))
        flush(self)

    monkeypatch.setattr(StreamedStore, "_flush", counted)
    folder = tmp_path / "transcripts"
    meta = corpus(folder, n=200)
    leak = "write to a.petrova@example.org"
    late = folder / "KZ-180.txt"
    if bad == "undecodable":
        late.write_bytes(b"Interviewer: \xff\xfe broken\n\nKZ-180: yes\n")
    elif bad == "personal data":
        late.write_text(late.read_text(encoding="utf-8") + f"\nInterviewer: {leak}\n",
                        encoding="utf-8")
    else:
        (folder / "zz").mkdir()
        (folder / "zz" / "KZ-180.txt").write_text("Interviewer: Hi?\n\nKZ-180: Hello.\n",
                                                 encoding="utf-8")
    db = tmp_path / "p.db"
    open_project(str(db), create=True).close()
    before = dump(db)
    result = cli_import(db, folder, meta, 2)
    assert result.exit_code == 1, result.output
    assert "KZ-180" in result.output
    assert sum(written) >= 3 * StreamedStore.BATCH  # written before the bad file came
    assert dump(db) == before
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("p.db*"))
    assert leak.encode() not in stored


# ------------------------------------------------------- writing through sqlite3 alone

def test_the_sqlite3_writer_keeps_to_the_schema_and_engine():
    """coder.db.lite restates what it must not drift from: the migrations a current schema has,
    and SQLAlchemy's text for a time on SQLite."""
    from coder.db import lite, migrations
    from coder.db.tables import transcript, utcnow
    from sqlalchemy.dialects import sqlite

    assert lite.SCHEMA_VERSIONS == {version for version, _ in migrations.MIGRATIONS}
    dialect = sqlite.dialect()
    stored = transcript.c.imported_at.type.dialect_impl(dialect).bind_processor(dialect)
    now = utcnow()
    assert lite.Statements(None, run=print).time(now) == stored(now)


def test_only_a_current_sqlite_project_is_written_through_sqlite3(tmp_path):
    import sqlite3

    from coder.db.lite import LiteProject, open_current

    db = tmp_path / "p.db"
    assert open_current(db) is None and open_current(None) is None  # not there yet
    open_project(str(db), create=True).close()
    assert open_current(db) == LiteProject(db)
    (tmp_path / "notes.db").write_bytes(b"not a database at all" * 100)
    assert open_current(tmp_path / "notes.db") is None
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM schema_migration WHERE version = (SELECT max(version) "
                    "FROM schema_migration)")
    con.close()
    assert open_current(db) is None  # an older schema: opened (and migrated) with SQLAlchemy


@needs_cores
def test_import_into_a_project_loads_no_sqlalchemy_and_names_the_writer(tmp_path):
    """While the files parse, the transcripts go in through sqlite3 alone (SQLAlchemy would be
    this process's largest cost): the same rows, the audit actor named and cleared, the
    imported time in SQLAlchemy's format."""
    import subprocess
    import sys

    folder = tmp_path / "transcripts"
    meta = corpus(folder, n=100)
    db, reference = tmp_path / "p.db", tmp_path / "reference.db"
    for path in (db, reference):
        open_project(str(path), create=True).close()
    code = ("import sys\n"
            f"sys.argv = ['coder', 'import', {str(folder)!r}, '--meta', {str(meta)!r}, "
            f"'--db', {str(db)!r}]\n"
            "from coder.cli import main\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    print('EXIT', exc.code)\n"
            "print('LOADED', [m for m in ('sqlalchemy', 'sqlmodel', 'pydantic') "
            "if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, CODER_JOBS="2"))
    assert "LOADED []" in done.stdout, done.stdout + done.stderr
    assert f"imported 100 transcript(s), 0 unchanged into {db}" in done.stderr, done.stderr
    result = cli_import(reference, folder, meta, 1)  # the library's own path, SQLAlchemy
    assert result.exit_code == 0, result.output
    assert dump(db) == dump(reference)
    assert q(db, "SELECT count(*) FROM audit_context") == [(0,)]
    stamp = q(db, "SELECT imported_at FROM transcript LIMIT 1")[0][0]
    assert len(stamp) == len("2026-12-03 10:20:52.500596") and stamp[10] == " ", stamp
    with open_project(str(db)).read() as conn:  # read back as SQLAlchemy reads it
        from sqlalchemy import select

        from coder.db.tables import transcript

        when = conn.execute(select(transcript.c.imported_at)).scalars().first()
    assert when.year >= 2026
    # a second run finds every transcript unchanged, through the same path
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=dict(os.environ, CODER_JOBS="2"))
    assert "imported 0 transcript(s), 100 unchanged" in again.stderr, again.stderr


@needs_cores
def test_the_sqlite3_writer_waits_for_another_writer_then_refuses(tmp_path):
    import sqlite3
    import subprocess
    import sys

    folder = tmp_path / "transcripts"
    meta = corpus(folder, n=100)
    db = tmp_path / "p.db"
    open_project(str(db), create=True).close()
    before = dump(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        done = subprocess.run([sys.executable, "-m", "coder", "import", str(folder), "--meta",
                               str(meta), "--db", str(db)], capture_output=True, text=True,
                              env=dict(os.environ, CODER_JOBS="2", CODER_LOCK_TIMEOUT="2"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 1, done.stderr
    assert "waiting for" in done.stderr
    assert f"the project is locked by pid {os.getpid()}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert dump(db) == before
