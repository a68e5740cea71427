"""One decision in `coder code` (SPEC §10): under 20 ms with 100,000 segments in the project.

Builds a project of synthetic transcripts (``--segments`` rows, half of them participant turns)
with Core ``executemany`` and a small codebook inserted directly, opens a
:class:`coder.coding.session.CodingSession` and drives it through ``--decisions`` decisions.
One decision is what the coder types for a segment — toggling codes (or ``-``, or a memo
first) and Enter — up to the committed row and the next segment drawn by the real renderer
into an in-memory terminal. As a baseline, the same run times a bare single-row
``sqlite3`` INSERT + COMMIT on the same file with the same pragmas (WAL, synchronous=NORMAL).

    .venv/bin/python benchmarks/bench_decision.py [--segments 100000] [--decisions 500]
                                                  [--json FILE]

Exit code 1 when the p95 decision latency is over the budget.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

BUDGET_MS = 20.0
TURNS_PER_TRANSCRIPT = 100
WORDS = ("security community collective organisation deployment Kazakhstan Russia January "
         "peacekeepers elite transfer power president treaty alliance mission rapid order "
         "protest airport government legitimacy sovereignty regional integration").split()
CODES = [  # key, parent
    ("csto_efficacy", None), ("csto_efficacy.rapid_deployment", "csto_efficacy"),
    ("csto_efficacy.limited_mandate", "csto_efficacy"), ("power_transfer", None),
    ("power_transfer.elite_split", "power_transfer"), ("security_community", None),
    ("security_community.not_formed", "security_community"), ("russia_role", None),
]


def build_project(target: str | Path, segments: int):
    """A migrated project with ``segments`` segments (alternating interviewer/participant).

    ``target`` is a SQLite file path or a database URL (``postgresql://…``)."""
    from sqlalchemy import insert

    from coder.db.engine import open_project
    from coder.db.models import (
        Attribute, Code, Codebook, Participant, Segment, Transcript, utcnow,
    )

    rng = random.Random(2022)
    project = open_project(str(target), create=True)
    now = utcnow()
    n_transcripts = -(-segments // TURNS_PER_TRANSCRIPT)
    transcripts, attributes, people, rows = [], [], [], []
    texts = [" ".join(rng.choice(WORDS) for _ in range(80)) for _ in range(997)]
    for t in range(n_transcripts):
        tid = f"t{t:05d}"
        people.append({"id": f"P-{t:05d}"})
        transcripts.append({"id": tid, "participant_id": f"P-{t:05d}", "source": f"{tid}.txt",
                            "format": "text", "sha256": f"{t:064x}", "interviewer": "Interviewer",
                            "text": "", "imported_at": now})
        attributes.append({"transcript_id": tid, "name": "country",
                           "value": rng.choice(["Kazakhstan", "Russia", "Armenia"])})
        for n in range(1, min(TURNS_PER_TRANSCRIPT, segments - len(rows)) + 1):
            text = texts[len(rows) % len(texts)]
            rows.append({"transcript_id": tid, "n": n,
                         "speaker": "Interviewer" if n % 2 else "P",
                         "role": "interviewer" if n % 2 else "participant", "start": None,
                         "end": None, "text": text, "char_start": 0, "char_end": len(text)})
    with project.write() as conn:
        conn.execute(insert(Participant.__table__), people)
        conn.execute(insert(Transcript.__table__), transcripts)
        conn.execute(insert(Attribute.__table__), attributes)
        conn.execute(insert(Segment.__table__), rows)
        cb = conn.execute(insert(Codebook.__table__).values(
            name="bench", version=1, sha256="0" * 64, source="", loaded_at=now)
        ).inserted_primary_key[0]
        conn.execute(insert(Code.__table__), [
            {"codebook_id": cb, "key": key, "parent": parent, "label": key, "definition": "",
             "include": "[]", "exclude": "[]", "examples": "[]", "keywords": "[]",
             "position": i} for i, (key, parent) in enumerate(CODES)])
    return project


def time_decisions(project, decisions: int, coder: str = "bench"
                   ) -> tuple[list[float], list[float], float]:
    """Per-decision latencies and CPU times (ms), and the session's opening time (ms) of a
    ``coder`` with no decisions yet.

    The CPU time tells the code's own cost apart from waiting on a busy machine.
    """
    from rich.console import Console

    from coder.cli.code import draw_segment, draw_step
    from coder.coding.session import CodingSession

    screen = Console(file=io.StringIO(), width=100, force_terminal=True,
                     color_system="truecolor")
    rng = random.Random(7)
    start = time.perf_counter()
    session = CodingSession.open(project, coder, new_coder=True)
    opened = (time.perf_counter() - start) * 1000
    draw_segment(screen, session)
    latencies, cpu = [], []
    for i in range(decisions):
        if i % 10 == 9:
            lines = ["-"]
        elif i % 7 == 6:
            lines = ["m quoted in the paper", str(rng.randint(1, len(CODES))), ""]
        else:
            lines = [" ".join(str(rng.randint(1, len(CODES))) for _ in range(2)), ""]
            if lines[0].split()[0] == lines[0].split()[1]:
                lines[0] = lines[0].split()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        for line in lines:
            step = session.handle(line)
            draw_step(screen, session, step)
        latencies.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert step.moved, f"decision {i} did not move on: {step.notes}"
        screen.file.seek(0)
        screen.file.truncate()
    done, _total = session.progress
    assert done == decisions, (done, decisions)
    return latencies, cpu, opened


def time_bare_insert(path: Path, count: int) -> list[float]:
    """Single-row INSERT + COMMIT with the stdlib driver, same file and pragmas."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY, a INTEGER, b TEXT)")
    latencies = []
    for i in range(count):
        t0 = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO bench_baseline (a, b) VALUES (?, ?)", (i, "x"))
        con.execute("COMMIT")
        latencies.append((time.perf_counter() - t0) * 1000)
    con.close()
    return latencies


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=500)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-decision-") as tmp:
        path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        project = build_project(path, args.segments)
        built = time.perf_counter() - t0
        try:
            latencies, cpu, opened = time_decisions(project, args.decisions)
        finally:
            project.close()
        baseline = time_bare_insert(path, args.decisions)

    figures = {
        "segments": args.segments, "decisions": args.decisions, "build_s": round(built, 2),
        "session_open_ms": round(opened, 1),
        "decision_median_ms": round(statistics.median(latencies), 3),
        "decision_p95_ms": round(p95(latencies), 3),
        "decision_max_ms": round(max(latencies), 3),
        "decision_cpu_median_ms": round(statistics.median(cpu), 3),
        "decision_cpu_p95_ms": round(p95(cpu), 3),
        "bare_insert_commit_median_ms": round(statistics.median(baseline), 3),
        "bare_insert_commit_p95_ms": round(p95(baseline), 3),
        "budget_ms": BUDGET_MS,
    }
    figures["within_budget"] = figures["decision_p95_ms"] < BUDGET_MS
    print(f"project: {args.segments:,} segments (built in {built:.1f} s); "
          f"session opened in {opened:.0f} ms")
    print(f"decision ({args.decisions}): median {figures['decision_median_ms']:.2f} ms, "
          f"p95 {figures['decision_p95_ms']:.2f} ms, max {figures['decision_max_ms']:.2f} ms "
          f"(budget {BUDGET_MS:.0f} ms: {'ok' if figures['within_budget'] else 'OVER'}); "
          f"CPU median {figures['decision_cpu_median_ms']:.2f} ms, "
          f"p95 {figures['decision_cpu_p95_ms']:.2f} ms")
    print(f"baseline, bare sqlite3 INSERT+COMMIT: median "
          f"{figures['bare_insert_commit_median_ms']:.3f} ms, "
          f"p95 {figures['bare_insert_commit_p95_ms']:.3f} ms")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if figures["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
