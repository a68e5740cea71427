"""The performance budgets of SPEC §10, measured in one command.

    .venv/bin/python benchmarks/run.py [--quick] [--json benchmarks/results.json]
                                       [--no-postgres] [--strict] [--keep DIR] [--autocode]

Sections (sizes of the full run; ``--quick`` is a smoke run with small ones). Whole-process
budgets compare a ``coder …`` child process with a plain-Python floor process
(:mod:`bench_floors`) timed in the same run, alternating, best of N; wall and CPU time of each
are recorded (the CPU ratio tells the work apart from waiting on a busy machine).

1. **import**: a synthetic corpus of 1,000 speaker-labelled transcripts (60 turns, ~80 words
   per participant turn; :mod:`generate`): ``coder import`` (personal-data gate included,
   parsing on the machine's cores as it does by default) ÷ a plain Python process that reads
   the files, splits them into turns and ``executemany``-s them, both into an empty migrated
   project (budget 1.5×); the same import in one process (``CODER_JOBS=1``), for
   information; then the phases in this process (one process) —
   parse, personal-data scan, insert — and the insert against a bare ``executemany`` of the
   same rows. Peak memory is the ``ru_maxrss`` of a child running ``coder import``. On
   PostgreSQL (a temporary database ``coder_bench_<random>``, dropped afterwards) the library
   import against a bare psycopg ``executemany``, for information.
2. **read commands** on a project of 50,000 participant segments × 3 coders × 20 codes (rows
   inserted with Core, codebook loaded and codings imported with the library): ``coder
   status``, ``disagreements``, ``report themes`` and ``agreement``, all ``--format json``,
   each ÷ a sqlite3 process reading and counting every segment, review and coding row
   (budget 3×); ``coder codings import`` of one coder's CSV ÷ csv + ``executemany`` (for
   information); the metric kernels against the ``krippendorff`` package
   (:mod:`bench_kernels`).
3. **decision**: one decision of ``coder code`` with 100,000 segments in the project
   (:mod:`bench_decision`): p95 latency of 500 decisions, the better of two rounds (a fresh
   coder each), with its CPU time and a bare single-row INSERT + COMMIT for scale; on SQLite
   and on PostgreSQL (``CODER_BENCH_PG``, default ``postgresql://postgres@127.0.0.1:5432/test``,
   names the server; it is skipped with a note when unreachable). On SQLite also ``coder
   code`` start-up (to the first segment drawn) ÷ a sqlite3 process reading what it needs.
4. **start-up**: ``coder --help`` (best of 5 subprocess runs), and the modules it imports:
   none of pandas, NumPy, scikit-learn, matplotlib (nor for ``coder transcripts list`` and
   ``coder status``).

``--autocode`` adds :mod:`bench_autocode` (no budget; minutes at full size).

Prints a Markdown table (figure, measured, budget, status) and writes every figure as JSON.
Exit code 0 however the figures come out, unless ``--strict`` (then 1 when a budget is
missed). The machine may be shared: budgets on ratios compare runs made in the same process,
and each timing is the best of several runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_decision  # noqa: E402
import bench_floors  # noqa: E402
import bench_kernels  # noqa: E402
import generate  # noqa: E402

PG_ADMIN = os.environ.get("CODER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
FORBIDDEN = ("pandas", "numpy", "sklearn", "matplotlib")


@dataclass
class Sizes:
    transcripts: int = 1000
    turns: int = 60
    words: int = 80
    import_repeat: int = 6
    agreement_segments: int = 50_000
    agreement_turns: int = 40          # 20 participant segments per transcript
    coders: tuple[str, ...] = ("alice", "bob", "carol")
    codes: int = 20
    agreement: float = 0.8
    cli_repeat: int = 5
    kernel_repeat: int = 3
    session_segments: int = 100_000
    decisions: int = 500
    decision_rounds: int = 2
    help_repeat: int = 5


QUICK = Sizes(transcripts=100, import_repeat=1, agreement_segments=5_000, cli_repeat=1,
              kernel_repeat=1, session_segments=10_000, decisions=100, decision_rounds=1,
              help_repeat=3)


@dataclass
class Figure:
    key: str
    name: str
    measured: str
    budget: str = "—"
    status: str = "info"      # pass | FAIL | info | skipped
    value: float | None = None


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)
    sections: dict = field(default_factory=dict)

    def add(self, *args, **kwargs) -> None:
        self.figures.append(Figure(*args, **kwargs))


# ---------------------------------------------------------------------------- helpers

def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def coder_command() -> list[str]:
    script = Path(sys.executable).with_name("coder")
    return [str(script)] if script.exists() else [sys.executable, "-m", "coder"]


def run_cli(args: list[str], db: str | Path, *, check: bool = True) -> tuple[float, str]:
    """Run ``coder ARGS`` with ``CODER_DB=db``; (wall seconds, stdout)."""
    env = dict(os.environ, CODER_DB=str(db))
    start = time.perf_counter()
    done = subprocess.run(coder_command() + args, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if check and done.returncode != 0:
        raise RuntimeError(f"coder {' '.join(args)} failed ({done.returncode}): "
                           f"{done.stderr.strip()[-2000:]}")
    return wall, done.stdout


def status(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def note(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def temporary_pg_database(admin_url: str = PG_ADMIN):
    """A fresh PostgreSQL database ``coder_bench_<random>`` (its URL), dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    admin = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    name = f"coder_bench_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_available(admin_url: str = PG_ADMIN) -> str | None:
    """None when the server answers, else why not."""
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        engine = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"),
                               connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


# ---------------------------------------------------------------------------- 1. import

def bare_rows(report) -> dict[str, list[tuple]]:
    """The rows ``coder import`` writes, as plain tuples (the bare baseline's input)."""
    from coder.db.models import utcnow

    now = utcnow().isoformat(sep=" ")
    people = sorted({t.participant for t in report.transcripts})
    return {
        "participant": [(p,) for p in people],
        "transcript": [(t.id, t.participant, str(t.path), t.format, t.sha256, t.interviewer,
                        t.text, now) for t in report.transcripts],
        "segment": [(t.id, s["n"], s["speaker"], s["role"], s["start"], s["end"], s["text"],
                     s["char_start"], s["char_end"]) for t in report.transcripts
                    for s in t.segments],
        "attribute": [(t.id, k, v) for t in report.transcripts for k, v in t.attributes.items()],
    }


BARE_SQL = {
    "participant": "INSERT INTO participant (id) VALUES ({})",
    "transcript": "INSERT INTO transcript (id, participant_id, source, format, sha256, "
                  "interviewer, text, imported_at) VALUES ({})",
    "segment": 'INSERT INTO segment (transcript_id, n, speaker, role, start, "end", text, '
               "char_start, char_end) VALUES ({})",
    "attribute": "INSERT INTO attribute (transcript_id, name, value) VALUES ({})",
}


def bare_sql(table: str, rows: list[tuple], mark: str) -> str:
    return BARE_SQL[table].format(", ".join([mark] * len(rows[0])))


def time_bare_sqlite(path: Path, rows: dict[str, list[tuple]]) -> tuple[float, float]:
    """(wall, CPU) seconds of a bare sqlite3 executemany of ``rows`` into a migrated project."""
    from coder.db.engine import open_project

    open_project(str(path), create=True).close()  # the same schema, indexes included
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("PRAGMA foreign_keys = ON")
    w0, c0 = clock()
    con.execute("BEGIN IMMEDIATE")
    for table, values in rows.items():
        if values:
            con.executemany(bare_sql(table, values, "?"), values)
    con.execute("COMMIT")
    w1, c1 = clock()
    con.close()
    return w1 - w0, c1 - c0


def time_import(db: str, corpus: generate.Corpus) -> tuple[float, float, int]:
    """(wall, CPU, segments) of open_project + import_transcripts, as ``coder import`` does."""
    from sqlalchemy import func, select

    from coder.db.engine import open_project
    from coder.db.models import Segment
    from coder.transcripts import import_transcripts

    w0, c0 = clock()
    project = open_project(db, create=True)
    import_transcripts(project, [corpus.folder], meta=corpus.meta)
    w1, c1 = clock()
    with project.read() as conn:
        segments = conn.execute(select(func.count()).select_from(Segment.__table__)).scalar_one()
    project.close()
    return w1 - w0, c1 - c0, segments


CHILD_IMPORT = r"""
import json, os, resource, sys, time
out, folder, meta = sys.argv[1:4]
sys.argv = ["coder", "import", folder, "--meta", meta]
start = time.perf_counter()
from coder.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rss_mb = rss / 2**20 if sys.platform == "darwin" else rss / 1024
with open(out, "w") as fh:
    json.dump({"exit_code": code, "wall_s": wall, "max_rss_mb": rss_mb}, fh)
"""


def import_memory(tmp: Path, corpus: generate.Corpus) -> dict:
    """``coder import`` in a child process: its peak resident set size and wall time."""
    db = tmp / "rss.db"
    out = tmp / "rss.json"
    env = dict(os.environ, CODER_DB=str(db))
    done = subprocess.run([sys.executable, "-c", CHILD_IMPORT, str(out), str(corpus.folder),
                           str(corpus.meta)], env=env, capture_output=True, text=True)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"coder import (child) failed: {done.stderr.strip()[-2000:]}")
    figures = json.loads(out.read_text())
    if figures["exit_code"] not in (0, None):
        raise RuntimeError(f"coder import exited {figures['exit_code']}: "
                           f"{done.stderr.strip()[-2000:]}")
    remove_db(db)
    return figures


def import_phases(db: Path, corpus: generate.Corpus) -> dict[str, float]:
    """CPU-free wall seconds of each phase of ``coder import``, in this process: parsing
    (files → turns → segments), the personal-data scan (the import gate) and the insert."""
    from coder.anonymize import ImportGate
    from coder.db.engine import open_project
    from coder.importers import parse_file
    from coder.transcripts import ImportReport, collect_paths, prepare, read_meta, \
        store_transcripts

    remove_db(db)
    project = open_project(str(db), create=True)  # the empty project, as for the floor
    t0 = time.perf_counter()
    files = collect_paths([corpus.folder])
    meta_rows = read_meta(corpus.meta)
    warnings: list[str] = []
    parsed = [parse_file(path) for path in files]
    items = [prepare(x, meta_rows, None, warnings) for x in parsed]
    t1 = time.perf_counter()
    gate = ImportGate(None, files=files, meta=corpus.meta)
    for x, item in zip(parsed, items):
        gate.check(x, item.id)
    gate.close()
    t2 = time.perf_counter()
    store_transcripts(project, ImportReport(transcripts=items, meta=corpus.meta,
                                            meta_rows=meta_rows))
    t3 = time.perf_counter()
    project.close()
    remove_db(db)
    return {"parse_s": t1 - t0, "scan_s": t2 - t1, "insert_s": t3 - t2}


def empty_project(db: Path) -> None:
    from coder.db.engine import open_project

    remove_db(db)
    open_project(str(db), create=True).close()


def bench_import(tmp: Path, sizes: Sizes, results: Results) -> generate.Corpus:
    """``coder import`` (whole process) against :data:`bench_floors.IMPORT_FLOOR`, both into
    an empty migrated project, alternating, best of N; then each phase in this process, and
    the insert against a bare ``executemany`` of the same rows."""
    from coder.transcripts import parse_transcripts

    note(f"import: writing {sizes.transcripts} transcripts")
    corpus = generate.write_corpus(tmp / "corpus", sizes.transcripts, sizes.turns, sizes.words)
    rows = bare_rows(parse_transcripts([corpus.folder], meta=corpus.meta))
    db = tmp / "import.db"
    command = coder_command()
    runs = bench_floors.Runs("import", "import1", "floor")
    bare_insert: list[float] = []
    phases: list[dict[str, float]] = []
    for i in range(sizes.import_repeat):
        note(f"import: run {i + 1}/{sizes.import_repeat}")
        order = ("import", "import1", "floor") if i % 2 == 0 else ("floor", "import1", "import")
        for what in order:
            empty_project(db)
            if what in ("import", "import1"):  # import1: one process (CODER_JOBS=1)
                wall, cpu, _out = bench_floors.run_coder(
                    command, ["import", str(corpus.folder), "--meta", str(corpus.meta)], db,
                    env={"CODER_JOBS": "1"} if what == "import1" else None)
                with sqlite3.connect(db) as con:
                    segments = con.execute("SELECT count(*) FROM segment").fetchone()[0]
                if segments != corpus.segments:
                    raise RuntimeError(f"imported {segments} segments, expected "
                                       f"{corpus.segments}")
            else:
                wall, cpu = bench_floors.run_floor(bench_floors.IMPORT_FLOOR, corpus.folder,
                                                   corpus.meta, db)
            runs.add(what, wall, cpu)
        remove_db(db)
        bare_insert.append(time_bare_sqlite(db, rows)[0])
        remove_db(db)
        phases.append(import_phases(db, corpus))
    from coder.parallel import jobs_for

    jobs = jobs_for(len(list(corpus.folder.iterdir())))
    best = {"import": runs.best("import"), "floor": runs.best("floor"),
            "bare_insert": min(bare_insert)}
    phase = {k: min(p[k] for p in phases) for k in phases[0]}
    ratio = runs.ratio("import")
    cpu_ratio = runs.cpu_ratio("import")
    ratio1 = runs.ratio("import1")
    cpu_ratio1 = runs.cpu_ratio("import1")
    note("import: peak memory (child process)")
    memory = import_memory(tmp, corpus)
    section = {
        "transcripts": sizes.transcripts, "turns": sizes.turns, "words": sizes.words,
        "segments": corpus.segments, "corpus_mb": round(corpus.bytes / 1e6, 2),
        "repeat": sizes.import_repeat,
        "import_s": round(best["import"], 3), "bare_s": round(best["floor"], 3),
        "ratio": round(ratio, 3), "cpu_ratio": round(cpu_ratio, 3), "budget_ratio": 1.5,
        "jobs": jobs, "one_process_s": round(runs.best("import1"), 3),
        "one_process_ratio": round(ratio1, 3), "one_process_cpu_ratio": round(cpu_ratio1, 3),
        "phases_s": {k: round(v, 3) for k, v in phase.items()},
        "bare_insert_s": round(best["bare_insert"], 3),
        "insert_ratio": round(phase["insert_s"] / best["bare_insert"], 3),
        "segments_per_s": round(corpus.segments / best["import"]),
        "runs": runs.rounded(),
        "cli_wall_s": round(memory["wall_s"], 3), "max_rss_mb": round(memory["max_rss_mb"], 1),
        "budget_rss_mb": 400,
    }
    results.sections["import"] = section
    n = f"{sizes.transcripts:,} transcripts"
    results.add("import_ratio", f"`coder import` of {n} ÷ plain Python read, split, "
                f"executemany (whole processes, SQLite; parsing on {jobs} cores)",
                f"{ratio:.2f}× ({section['import_s']:.2f} s vs {section['bare_s']:.2f} s; "
                f"CPU {cpu_ratio:.2f}×)", "≤ 1.5×", status(ratio <= 1.5), ratio)
    results.add("import_one_process", f"the same import in one process (CODER_JOBS=1) ÷ "
                "the same floor", f"{ratio1:.2f}× ({section['one_process_s']:.2f} s; CPU "
                f"{cpu_ratio1:.2f}×)", "— (for information)", "info", ratio1)
    results.add("import_phases", f"import phases in-process ({n}): parse, personal-data "
                "scan, insert (insert ÷ bare executemany)",
                f"parse {phase['parse_s']:.2f} s, scan {phase['scan_s']:.2f} s, insert "
                f"{phase['insert_s']:.2f} s ({section['insert_ratio']:.2f}× the bare "
                f"{section['bare_insert_s']:.2f} s)", "—", "info", section["insert_ratio"])
    results.add("import_rss", f"peak memory of `coder import` ({n})",
                f"{section['max_rss_mb']:.0f} MB", "< 400 MB",
                status(section["max_rss_mb"] < 400), section["max_rss_mb"])
    return corpus


def time_bare_postgres(url: str, rows: dict[str, list[tuple]]) -> tuple[float, float]:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                         dbname=u.database) as con:
        w0, c0 = clock()
        with con.transaction(), con.cursor() as cur:
            for table, values in rows.items():
                if values:
                    cur.executemany(bare_sql(table, values, "%s"), values)
        w1, c1 = clock()
    return w1 - w0, c1 - c0


def truncate_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE segment, attribute, transcript, participant CASCADE"))
    engine.dispose()


def bench_import_postgres(corpus: generate.Corpus, sizes: Sizes, results: Results) -> None:
    from coder.transcripts import parse_transcripts

    rows = bare_rows(parse_transcripts([corpus.folder], meta=corpus.meta))
    runs = {"import": [], "bare": []}
    with temporary_pg_database() as url:
        for i in range(max(1, sizes.import_repeat - 1)):
            note(f"import (PostgreSQL): run {i + 1}")
            for what in ("import", "bare"):
                if i or what == "bare":
                    truncate_postgres(url)
                if what == "import":
                    wall, cpu, segments = time_import(url, corpus)
                    if segments != corpus.segments:
                        raise RuntimeError(f"imported {segments} segments into PostgreSQL")
                else:
                    wall, cpu = time_bare_postgres(url, rows)
                runs[what].append((wall, cpu))
    best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in runs.items()}
    ratio = best["import"][0] / best["bare"][0]
    results.sections["import_postgres"] = {
        "transcripts": sizes.transcripts, "segments": corpus.segments,
        "import_s": round(best["import"][0], 3), "bare_s": round(best["bare"][0], 3),
        "import_cpu_s": round(best["import"][1], 3), "bare_cpu_s": round(best["bare"][1], 3),
        "ratio": round(ratio, 3), "segments_per_s": round(corpus.segments / best["import"][0]),
    }
    results.add("import_ratio_postgres",
                f"import of {sizes.transcripts:,} transcripts ÷ bare psycopg executemany "
                "(PostgreSQL)",
                f"{ratio:.2f}× ({best['import'][0]:.2f} s vs {best['bare'][0]:.2f} s)",
                "— (SQLite's: ≤ 3×)", "info", ratio)


# ---------------------------------------------------------------------------- 2. agreement

def build_agreement_project(db: Path, tmp: Path, sizes: Sizes) -> dict:
    """Transcripts and segments with Core, the codebook and codings with the library."""
    import random

    from sqlalchemy import insert

    from coder.codebook.loader import parse_codebook
    from coder.codebook.store import load_codebook
    from coder.coding.files import import_codings
    from coder.db.engine import open_project
    from coder.db.models import Attribute, Participant, Segment, Transcript, utcnow

    per = sizes.agreement_turns // 2
    n = -(-sizes.agreement_segments // per)
    ids = generate.transcript_ids(n)
    rng = random.Random(2022)
    texts = [generate.sentences(rng, 12) for _ in range(1009)]
    now = utcnow()
    people, transcripts, attributes, segments = [], [], [], []
    for t, (tid, country) in enumerate(ids):
        people.append({"id": tid})
        transcripts.append({"id": tid, "participant_id": tid, "source": f"{tid}.txt",
                            "format": "text", "sha256": f"{t:064x}",
                            "interviewer": generate.INTERVIEWER, "text": "", "imported_at": now})
        attributes += [{"transcript_id": tid, "name": "country", "value": country},
                       {"transcript_id": tid, "name": "participant", "value": tid}]
        for k in range(1, sizes.agreement_turns + 1):
            text = texts[len(segments) % len(texts)]
            segments.append({"transcript_id": tid, "n": k,
                             "speaker": generate.INTERVIEWER if k % 2 else tid,
                             "role": "interviewer" if k % 2 else "participant", "start": None,
                             "end": None, "text": text, "char_start": 0,
                             "char_end": len(text)})
    project = open_project(str(db), create=True)
    source = generate.codebook_yaml(sizes.codes)
    with project.write() as conn:
        conn.execute(insert(Participant.__table__), people)
        conn.execute(insert(Transcript.__table__), transcripts)
        conn.execute(insert(Attribute.__table__), attributes)
        conn.execute(insert(Segment.__table__), segments)
        load_codebook(conn, parse_codebook(source), source)
    keys = generate.codebook_keys(sizes.codes)
    units = generate.participant_segments(n, sizes.agreement_turns)
    paths = generate.write_codings(tmp / "codings", units, keys, sizes.coders, sizes.agreement)
    imports = {}
    for coder, path in paths.items():
        start = time.perf_counter()
        import_codings(project, path, coder, new_coder=True)
        imports[coder] = time.perf_counter() - start
    project.close()
    return {"transcripts": n, "participant_segments": len(units), "keys": len(keys),
            "codings_import_s": {k: round(v, 3) for k, v in imports.items()}}


READS = {  # figure key → the command (SPEC §10: every everyday read command)
    "status": ["status", "--format", "json"],
    "disagreements": ["disagreements", "--coders", "alice,bob", "--format", "json"],
    "report_themes": ["report", "themes", "--by", "country", "--coder", "alice",
                      "--format", "json"],
    "agreement": ["agreement", "--format", "json"],
}


def bench_agreement(tmp: Path, sizes: Sizes, results: Results) -> Path:
    db = tmp / "agreement.db"
    note(f"agreement: building {sizes.agreement_segments:,} segments × {len(sizes.coders)} "
         f"coders × {sizes.codes} codes")
    start = time.perf_counter()
    built = build_agreement_project(db, tmp, sizes)
    built["build_s"] = round(time.perf_counter() - start, 2)
    with sqlite3.connect(db) as con:  # a checkpointed file: copies of it are whole
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    outputs = bench_reads(db, sizes, results, built)
    report = json.loads(outputs["agreement"])
    if len(report["themes"]) != sizes.codes or report["units"] != built["participant_segments"]:
        raise RuntimeError(f"unexpected agreement report: {report['units']} units, "
                           f"{len(report['themes'])} themes")
    from coder.agreement.report import agreement_report
    from coder.db.engine import open_project

    project = open_project(str(db))
    w0, c0 = clock()
    with project.read() as conn:
        agreement_report(conn)
    w1, c1 = clock()
    project.close()
    reads = results.sections["reads"]
    section = {**built, "coders": list(sizes.coders), "codes": sizes.codes,
               "expected_alpha": sizes.agreement, "cli_s": reads["agreement"]["cli_s"],
               "cli_runs_s": reads["agreement"]["runs_s"], "budget_s": 5.0,
               "ratio": reads["agreement"]["ratio"],
               "in_process_s": round(w1 - w0, 3), "in_process_cpu_s": round(c1 - c0, 3),
               "overall_alpha": report["overall"]["krippendorff_alpha"],
               "mean_alpha": report["overall"]["mean_alpha"]}
    results.sections["agreement"] = section
    best = section["cli_s"]
    results.add("agreement_s",
                f"`coder agreement --format json`, {built['participant_segments']:,} segments × "
                f"{len(sizes.coders)} coders × {sizes.codes} codes",
                f"{best:.2f} s (report in-process {section['in_process_s']:.2f} s)", "< 5 s",
                status(best < 5.0), best)
    bench_codings_import(db, tmp, sizes, results, built)
    note("agreement: kernels against the krippendorff package")
    bench_kernels_section(db, sizes, results)
    return db


def bench_reads(db: Path, sizes: Sizes, results: Results, built: dict) -> dict[str, str]:
    """Every everyday read command (whole process) ÷ :data:`bench_floors.READ_FLOOR`, in
    rounds that alternate floor and commands; best of ``cli_repeat`` each. Returns the
    commands' outputs."""
    command = coder_command()
    runs = bench_floors.Runs("floor", *READS)
    outputs: dict[str, str] = {}
    for i in range(sizes.cli_repeat):
        note(f"read commands: round {i + 1}/{sizes.cli_repeat}")
        order = ["floor", *READS] if i % 2 == 0 else [*reversed(READS), "floor"]
        for what in order:
            if what == "floor":
                runs.add("floor", *bench_floors.run_floor(bench_floors.READ_FLOOR, db))
            else:
                wall, cpu, outputs[what] = bench_floors.run_coder(command, READS[what], db)
                runs.add(what, wall, cpu)
    floor = runs.best("floor")
    section: dict = {"floor_s": round(floor, 3), "floor_runs_s": runs.rounded()["wall_s"]["floor"],
                     "floor_cpu_s": runs.rounded()["cpu_s"]["floor"], "budget_ratio": 3.0}
    size = (f"{built['participant_segments']:,} segments × {len(sizes.coders)} coders × "
            f"{sizes.codes} codes")
    for what, args in READS.items():
        best, ratio, cpu_ratio = runs.best(what), runs.ratio(what), runs.cpu_ratio(what)
        section[what] = {"command": "coder " + " ".join(args), "cli_s": round(best, 3),
                         "runs_s": runs.rounded()["wall_s"][what],
                         "cpu_s": runs.rounded()["cpu_s"][what],
                         "ratio": round(ratio, 3), "cpu_ratio": round(cpu_ratio, 3)}
        results.add(f"{what}_ratio", f"`coder {' '.join(args)}` ÷ sqlite3 read of the rows "
                    f"({size}, whole processes)",
                    f"{ratio:.2f}× ({best:.2f} s vs {floor:.2f} s; CPU {cpu_ratio:.2f}×)",
                    "≤ 3×", status(ratio <= 3.0), ratio)
    results.sections["reads"] = section
    data = json.loads(outputs["report_themes"])
    results.sections["report_themes"] = {
        "command": section["report_themes"]["command"],
        "segments": sum(g["segments"] for g in data["groups"].values()),
        "groups": len(data["groups"]), "cli_s": section["report_themes"]["cli_s"],
        "cli_runs_s": section["report_themes"]["runs_s"],
        "ratio": section["report_themes"]["ratio"]}
    return outputs


def bench_codings_import(db: Path, tmp: Path, sizes: Sizes, results: Results,
                         built: dict) -> None:
    """``coder codings import`` of one coder's CSV (a new coder, on a fresh copy of the
    project each run) ÷ :data:`bench_floors.CODINGS_FLOOR` on another fresh copy."""
    sheet = tmp / "codings" / f"{sizes.coders[0]}.csv"
    copy = tmp / "codings-copy.db"
    command = coder_command()
    runs = bench_floors.Runs("import", "floor")
    for i in range(sizes.cli_repeat):
        note(f"codings import: run {i + 1}/{sizes.cli_repeat}")
        for what in (("import", "floor") if i % 2 == 0 else ("floor", "import")):
            remove_db(copy)
            shutil.copyfile(db, copy)
            if what == "import":
                wall, cpu, _ = bench_floors.run_coder(
                    command, ["codings", "import", str(sheet), "--coder", "dave", "--new-coder"], copy)
            else:
                wall, cpu = bench_floors.run_floor(bench_floors.CODINGS_FLOOR, copy, sheet,
                                                   "erin")
            runs.add(what, wall, cpu)
    remove_db(copy)
    with sheet.open(encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1
    best, floor = runs.best("import"), runs.best("floor")
    ratio, cpu_ratio = runs.ratio("import"), runs.cpu_ratio("import")
    results.sections["codings_import"] = {
        "rows": rows, "segments": built["participant_segments"], "cli_s": round(best, 3),
        "floor_s": round(floor, 3), "ratio": round(ratio, 3), "cpu_ratio": round(cpu_ratio, 3),
        "runs": runs.rounded(),
        "library_s": built["codings_import_s"]}
    results.add("codings_import_ratio", f"`coder codings import` of {rows:,} rows over "
                f"{built['participant_segments']:,} segments ÷ plain Python csv + executemany "
                "(whole processes)",
                f"{ratio:.2f}× ({best:.2f} s vs {floor:.2f} s; CPU {cpu_ratio:.2f}×)",
                "— (none in SPEC §10)", "info", ratio)


def bench_kernels_section(db: Path, sizes: Sizes, results: Results) -> None:
    from coder.agreement.units import unit_matrix
    from coder.db.engine import open_project

    project = open_project(str(db))
    with project.read() as conn:
        matrix = unit_matrix(conn)
    project.close()
    figures = bench_kernels.compare(matrix.values, repeat=sizes.kernel_repeat)
    figures["shape"] = list(matrix.values.shape)
    results.sections["kernels"] = figures
    ok = figures["loop_ratio"] <= 1.0 and figures["batched_ratio"] <= 1.0 \
        and figures["max_abs_difference"] <= 1e-9
    results.add("kernels_ratio",
                "Krippendorff's alpha of those matrices ÷ the `krippendorff` package",
                f"{figures['batched_ratio']:.3f}× batched, {figures['loop_ratio']:.3f}× per "
                f"code ({figures['package_s'] * 1000:.0f} ms for the package)",
                "≤ 1× (no slower)", status(ok), figures["batched_ratio"])


# ---------------------------------------------------------------------------- 3. decision

def decision_figures(project, decisions: int, rounds: int) -> dict:
    """The round (a fresh coder each) with the lowest p95 latency, best of ``rounds``."""
    best, p95s = None, []
    for i in range(rounds):
        latencies, cpu, opened = bench_decision.time_decisions(project, decisions,
                                                               coder=f"bench{i + 1}")
        figures = {"decisions": decisions, "rounds": rounds,
                   "session_open_ms": round(opened, 1),
                   "median_ms": round(statistics.median(latencies), 3),
                   "p95_ms": round(bench_decision.p95(latencies), 3),
                   "max_ms": round(max(latencies), 3),
                   "cpu_median_ms": round(statistics.median(cpu), 3),
                   "cpu_p95_ms": round(bench_decision.p95(cpu), 3)}
        p95s.append(figures["p95_ms"])
        if best is None or figures["p95_ms"] < best["p95_ms"]:
            best = figures
    return {**best, "p95_ms_rounds": p95s}


def time_bare_insert_postgres(url: str, count: int) -> list[float]:
    """Single-row INSERT + COMMIT with psycopg (the floor of a decision on PostgreSQL: each
    commit waits for the server's WAL flush)."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    latencies = []
    with psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                         dbname=u.database) as con:
        con.execute("CREATE TABLE bench_baseline (id serial PRIMARY KEY, a integer, b text)")
        con.commit()
        for i in range(count):
            start = time.perf_counter()
            con.execute("INSERT INTO bench_baseline (a, b) VALUES (%s, %s)", (i, "x"))
            con.commit()
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def session_startup(db: Path, sizes: Sizes) -> dict:
    """``coder code --coder NAME`` up to the first segment drawn (then ``q``), whole process,
    ÷ :data:`bench_floors.SESSION_FLOOR`; best of ``cli_repeat``, alternating."""
    command = coder_command()
    runs = bench_floors.Runs("cli", "floor")
    for i in range(sizes.cli_repeat):
        for what in (("cli", "floor") if i % 2 == 0 else ("floor", "cli")):
            if what == "cli":
                wall, cpu, out = bench_floors.run_coder(
                    command, ["code", "--coder", "newcomer", "--new-coder"], db, stdin="q\n")
                if "segment" not in out:
                    raise RuntimeError("coder code drew no segment")
            else:
                wall, cpu = bench_floors.run_floor(bench_floors.SESSION_FLOOR, db, "newcomer")
            runs.add(what, wall, cpu)
    return {"cli_s": round(runs.best("cli"), 3), "floor_s": round(runs.best("floor"), 3),
            "ratio": round(runs.ratio("cli"), 3), "cpu_ratio": round(runs.cpu_ratio("cli"), 3),
            "runs": runs.rounded()}


def bench_decisions(tmp: Path, sizes: Sizes, results: Results, postgres: str | None) -> None:
    budget = bench_decision.BUDGET_MS
    backends = [("sqlite", str(tmp / "decision.db"))]
    if postgres is None:
        backends.append(("postgresql", None))
    for backend, target in backends:
        key = "decision" if backend == "sqlite" else "decision_postgres"
        note(f"decision ({backend}): {sizes.session_segments:,} segments, "
             f"{sizes.decisions} decisions")
        with (temporary_pg_database() if target is None
              else contextlib.nullcontext(target)) as url:
            start = time.perf_counter()
            project = bench_decision.build_project(url, sizes.session_segments)
            built = time.perf_counter() - start
            try:
                figures = decision_figures(project, sizes.decisions, sizes.decision_rounds)
            finally:
                project.close()
            if backend == "sqlite":
                figures["startup"] = session_startup(Path(url), sizes)
                base = bench_decision.time_bare_insert(Path(url), sizes.decisions)
                remove_db(Path(url))
            else:
                base = time_bare_insert_postgres(url, sizes.decisions)
            figures["bare_insert_commit_median_ms"] = round(statistics.median(base), 3)
            figures["bare_insert_commit_p95_ms"] = round(bench_decision.p95(base), 3)
        figures.update(segments=sizes.session_segments, build_s=round(built, 2),
                       budget_ms=budget)
        results.sections[key] = figures
        if "startup" in figures:
            up = figures["startup"]
            results.add("code_startup_ratio", f"`coder code` start-up to the first segment "
                        f"drawn, {sizes.session_segments:,} segments ÷ sqlite3 read of what it "
                        "needs (whole processes)",
                        f"{up['ratio']:.2f}× ({up['cli_s']:.2f} s vs {up['floor_s']:.2f} s; "
                        f"CPU {up['cpu_ratio']:.2f}×)",
                        "— (none in SPEC §10)", "info", up["ratio"])
        results.add(key, f"one decision in `coder code`, {sizes.session_segments:,} segments "
                    f"({'SQLite' if backend == 'sqlite' else 'PostgreSQL'}), p95",
                    f"{figures['p95_ms']:.1f} ms (median {figures['median_ms']:.1f}; CPU p95 "
                    f"{figures['cpu_p95_ms']:.1f}; bare INSERT+COMMIT p95 "
                    f"{figures['bare_insert_commit_p95_ms']:.1f})",
                    f"< {budget:.0f} ms", status(figures["p95_ms"] < budget), figures["p95_ms"])


# ---------------------------------------------------------------------------- 5. start-up

CHILD_MODULES = r"""
import json, sys
out = sys.argv[1]
sys.argv = ["coder"] + sys.argv[2:]
from coder.cli import main
try:
    main()
except SystemExit:
    pass
with open(out, "w") as fh:
    json.dump(sorted(sys.modules), fh)
"""


def imported_modules(tmp: Path, args: list[str], db: Path | None = None) -> list[str]:
    out = tmp / "modules.json"
    env = dict(os.environ, CODER_DB=str(db)) if db else None
    done = subprocess.run([sys.executable, "-c", CHILD_MODULES, str(out), *args],
                          capture_output=True, text=True, env=env)
    if not out.exists():
        raise RuntimeError(f"coder {' '.join(args)} (child) failed: {done.stderr[-2000:]}")
    modules = json.loads(out.read_text())
    out.unlink()
    return modules


def bench_startup(tmp: Path, sizes: Sizes, results: Results, db: Path | None) -> None:
    walls = []
    for _ in range(sizes.help_repeat):
        wall, _out = run_cli(["--help"], tmp / "none.db")
        walls.append(wall)
    best = min(walls)
    modules = imported_modules(tmp, ["--help"])
    top = sorted({m.split(".")[0] for m in modules})
    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    third_party = [m for m in top if m not in stdlib and not m.startswith("_") and m != "coder"]
    per_package = {p: sum(1 for m in modules if m.split(".")[0] == p) for p in third_party}
    forbidden = [m for m in FORBIDDEN if m in top]
    commands = {"--help": forbidden}
    if db is not None:
        for args in (["transcripts", "list", "--format", "json"], ["status"]):
            mods = {m.split(".")[0] for m in imported_modules(tmp, args, db)}
            commands[" ".join(args)] = [m for m in FORBIDDEN if m in mods]
    bad = {c: f for c, f in commands.items() if f}
    results.sections["startup"] = {
        "help_s": round(best, 3), "help_runs_s": [round(w, 3) for w in walls],
        "modules": len(modules), "third_party_packages": per_package,
        "forbidden": FORBIDDEN, "forbidden_imported": commands,
    }
    results.add("startup_s", f"`coder --help` start-up (best of {sizes.help_repeat})",
                f"{best * 1000:.0f} ms", "— (\"instant\")", "info", best)
    heavy = ", ".join(f"{p} {n}" for p, n in sorted(per_package.items(),
                                                    key=lambda kv: -kv[1])[:6])
    results.add("startup_modules", "heavy modules imported by `coder --help` (and by "
                f"{', '.join(f'`coder {c}`' for c in commands if c != '--help')})",
                f"{'none' if not bad else bad} of pandas/numpy/sklearn/matplotlib; "
                f"{len(modules)} modules ({heavy})", "none of the four", status(not bad),
                len(modules))


# ---------------------------------------------------------------------------- autocode (opt-in)

def bench_autocode_section(tmp: Path, quick: bool, results: Results) -> None:
    """:mod:`bench_autocode` (keyword coding, training, applying the model), for information:
    SPEC §10 sets no budget for it."""
    out = tmp / "autocode.json"
    start = time.perf_counter()
    try:
        import bench_autocode

        with contextlib.redirect_stdout(sys.stderr):
            bench_autocode.main((["--quick"] if quick else []) + ["--json", str(out)])
        figures = json.loads(out.read_text(encoding="utf-8"))
    except Exception as exc:  # noqa: BLE001 - report, do not lose the other figures
        results.sections["autocode"] = {"skipped": f"{type(exc).__name__}: {exc}"}
        results.add("autocode", "auto-coding (bench_autocode.py)",
                    f"skipped ({type(exc).__name__}: {exc})", status="skipped")
        return
    wall = time.perf_counter() - start
    results.sections["autocode"] = figures
    results.add("autocode_s", "auto-coding: keywords, train, apply (bench_autocode.py"
                + (" --quick)" if quick else ")"), f"{wall:.1f} s in all (see JSON)",
                "— (none in SPEC §10)", "info", wall)


# ---------------------------------------------------------------------------- main

def render_table(results: Results) -> str:
    lines = ["| figure | measured | budget | status |", "|---|---|---|---|"]
    for f in results.figures:
        lines.append(f"| {f.name} | {f.measured} | {f.budget} | {f.status} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with small sizes")
    parser.add_argument("--json", type=Path, default=HERE / "results.json", metavar="FILE",
                        help="write the figures here (default: benchmarks/results.json)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a budget is missed")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR and keep the corpus and projects")
    parser.add_argument("--autocode", action="store_true",
                        help="also run bench_autocode.py (no budget; minutes at full size)")
    args = parser.parse_args(argv)
    # The commands run as installed code does, byte-compiled: where PYTHONDONTWRITEBYTECODE
    # is set (on some machines), every child would compile coder's sources again.
    import compileall

    compileall.compile_dir(str(HERE.parent / "src"), quiet=1)

    sizes = QUICK if args.quick else Sizes()
    results = Results()
    started = time.perf_counter()
    pg_problem = "--no-postgres" if args.no_postgres else postgres_available()
    with contextlib.ExitStack() as stack:
        if args.keep:
            tmp = args.keep
            tmp.mkdir(parents=True, exist_ok=True)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="coder-bench-")))
        corpus = bench_import(tmp, sizes, results)
        if pg_problem is None:
            bench_import_postgres(corpus, sizes, results)
        else:
            results.sections["import_postgres"] = {"skipped": pg_problem}
            results.add("import_ratio_postgres", "import on PostgreSQL",
                        f"skipped ({pg_problem})", status="skipped")
        if not args.keep:
            shutil.rmtree(corpus.folder)
        db = bench_agreement(tmp, sizes, results)
        bench_decisions(tmp, sizes, results, pg_problem)
        if pg_problem is not None:
            results.sections["decision_postgres"] = {"skipped": pg_problem}
            results.add("decision_postgres", "one decision in `coder code` (PostgreSQL)",
                        f"skipped ({pg_problem})", status="skipped")
        bench_startup(tmp, sizes, results, db)
        if args.autocode:
            bench_autocode_section(tmp, args.quick, results)

    total = time.perf_counter() - started
    failed = [f.key for f in results.figures if f.status == "FAIL"]
    output = {
        "quick": args.quick, "total_s": round(total, 1),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "load_average": list(os.getloadavg())},
        "postgres": pg_problem or "used",
        "figures": [vars(f) for f in results.figures],
        "failed": failed,
        **results.sections,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(output, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    print(render_table(results))
    print(f"\n{'quick run' if args.quick else 'full run'} in {total:.0f} s; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; figures in {args.json}")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
