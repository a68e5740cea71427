"""Floors for the whole-process budgets of SPEC §10: plain Python processes doing the least
work a command must do, timed in the same run as the command itself.

Every floor is a child process (``python -c FLOOR``), as the command is (``coder …``): both
pay the interpreter's start-up, and the ratio command ÷ floor is what the budgets bound.

- :data:`READ_FLOOR`: read every segment, review and coding row with ``sqlite3`` and count
  them (the floor of ``status``, ``disagreements``, ``report themes``, ``agreement``);
- :data:`IMPORT_FLOOR`: read the transcript files, split them into speaker turns with one
  regular expression, and ``executemany`` participants, transcripts, segments and attributes
  into an empty project with the same schema (the floor of ``coder import``);
- :data:`CODINGS_FLOOR`: read a codings CSV, look up the segments, ``executemany`` the review
  and coding rows (the floor of ``coder codings import``);
- :data:`SESSION_FLOOR`: what ``coder code`` must read before it can draw the first segment:
  the ordered participant segment ids, the coder's reviews, the codebook, the first segment,
  its previous turn and attributes (the floor of ``coder code`` start-up).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

READ_FLOOR = r"""
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
n = 0
for table in ("segment", "review", "coding"):
    n += len(con.execute(f"SELECT * FROM {table}").fetchall())
print(n)
"""

IMPORT_FLOOR = r"""
import csv, hashlib, re, sqlite3, sys
from datetime import datetime, timezone
from pathlib import Path
folder, meta, db = sys.argv[1:4]
LABEL = re.compile(r"^([^:\n]{1,60}):[ \t]*", re.M)
now = datetime.now(timezone.utc).isoformat(sep=" ")
attrs = {r["transcript"]: r for r in csv.DictReader(open(meta, encoding="utf-8"))}
people, transcripts, segments, attributes = [], [], [], []
for path in sorted(Path(folder).iterdir()):
    data = path.read_bytes()
    raw = data.decode("utf-8")
    tid = path.stem
    turns = []
    for block in raw.split("\n\n"):
        m = LABEL.match(block)
        if m:
            turns.append((m.group(1), " ".join(block[m.end():].split())))
    parts, offset = [], 0
    for n, (speaker, text) in enumerate(turns, start=1):
        start = offset + len(speaker) + 2
        segments.append((tid, n, speaker, "interviewer" if speaker == "Interviewer"
                         else "participant", None, None, text, start, start + len(text)))
        parts.append(f"{speaker}: {text}")
        offset = start + len(text) + 2
    people.append((tid,))
    transcripts.append((tid, tid, str(path), "text", hashlib.sha256(data).hexdigest(),
                        "Interviewer", "\n\n".join(parts), now))
    attributes += [(tid, k, v) for k, v in attrs.get(tid, {}).items() if k != "transcript"]
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA journal_mode = WAL")
con.execute("PRAGMA synchronous = NORMAL")
con.execute("PRAGMA foreign_keys = ON")
con.execute("BEGIN IMMEDIATE")
con.executemany("INSERT INTO participant (id) VALUES (?)", people)
con.executemany("INSERT INTO transcript (id, participant_id, source, format, sha256, "
                "interviewer, text, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", transcripts)
con.executemany('INSERT INTO segment (transcript_id, n, speaker, role, start, "end", text, '
                "char_start, char_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", segments)
con.executemany("INSERT INTO attribute (transcript_id, name, value) VALUES (?, ?, ?)",
                attributes)
con.execute("COMMIT")
print(len(segments))
"""

CODINGS_FLOOR = r"""
import csv, sqlite3, sys
from datetime import datetime, timezone
db, path, coder = sys.argv[1:4]
now = datetime.now(timezone.utc).isoformat(sep=" ")
rows = list(csv.reader(open(path, encoding="utf-8")))[1:]
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA journal_mode = WAL")
con.execute("PRAGMA synchronous = NORMAL")
con.execute("PRAGMA foreign_keys = ON")
con.execute("BEGIN IMMEDIATE")
segs = {(t, n): (i, r) for i, t, n, r in con.execute(
    "SELECT id, transcript_id, n, role FROM segment")}
con.execute("INSERT INTO coder (name, kind, created_at) VALUES (?, 'human', ?)", (coder, now))
cid = con.execute("SELECT id FROM coder WHERE name = ?", (coder,)).fetchone()[0]
tids = {t for t, _n, _c in rows}
covered = [i for (t, _n), (i, r) in segs.items() if t in tids and r == "participant"]
codings = [(cid, segs[(t, int(n))][0], c, now) for t, n, c in rows if c]
con.executemany("INSERT INTO review (coder_id, segment_id, memo, source, reviewed_at) "
                "VALUES (?, ?, NULL, 'import', ?)", [(cid, i, now) for i in covered])
con.executemany("INSERT INTO coding (coder_id, segment_id, code_key, created_at) "
                "VALUES (?, ?, ?, ?)", codings)
con.execute("COMMIT")
print(len(codings))
"""

SESSION_FLOOR = r"""
import sqlite3, sys
db, coder = sys.argv[1:3]
con = sqlite3.connect(db)
codes = con.execute("SELECT key, label, parent FROM code WHERE codebook_id = "
                    "(SELECT id FROM codebook ORDER BY version DESC LIMIT 1) "
                    "ORDER BY position, id").fetchall()
ids = [r[0] for r in con.execute("SELECT id FROM segment WHERE role = 'participant' "
                                 "ORDER BY transcript_id, n")]
row = con.execute("SELECT id FROM coder WHERE name = ?", (coder,)).fetchone()
done = set()
if row:
    done = {r[0] for r in con.execute("SELECT segment_id FROM review WHERE coder_id = ?", row)}
first = next(i for i in ids if i not in done)
tid, n, text = con.execute("SELECT transcript_id, n, text FROM segment WHERE id = ?",
                           (first,)).fetchone()
previous = con.execute("SELECT text FROM segment WHERE transcript_id = ? AND n = ?",
                       (tid, n - 1)).fetchone()
attributes = con.execute("SELECT name, value FROM attribute WHERE transcript_id = ?",
                         (tid,)).fetchall()
print(len(ids), len(codes), tid, n)
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_floor(script: str, *args: str | Path) -> tuple[float, float]:
    """(wall, CPU) seconds of ``python -c script args`` (it must succeed). CPU time tells the
    work apart from waiting on a busy machine."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"floor process failed: {done.stderr.strip()[-2000:]}")
    return wall, _children_cpu() - cpu


def run_coder(command: list[str], args: list[str], db: str | Path, *,
              stdin: str | None = None,
              env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall, CPU) seconds and stdout of ``coder ARGS`` with ``CODER_DB=db`` and ``env`` (it
    must succeed). CPU time includes the worker processes the command waited for."""
    env = dict(os.environ, **(env or {}), CODER_DB=str(db))
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command + args, env=env, capture_output=True, text=True, input=stdin)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"coder {' '.join(args)} failed ({done.returncode}): "
                           f"{done.stderr.strip()[-2000:]}")
    return wall, _children_cpu() - cpu, done.stdout


class Runs:
    """Wall and CPU seconds of repeated runs, by name; ratios of the best runs."""

    def __init__(self, *names: str):
        self.wall: dict[str, list[float]] = {n: [] for n in names}
        self.cpu: dict[str, list[float]] = {n: [] for n in names}

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall[name].append(wall)
        self.cpu[name].append(cpu)

    def best(self, name: str) -> float:
        return min(self.wall[name])

    def ratio(self, name: str, floor: str = "floor") -> float:
        return min(self.wall[name]) / min(self.wall[floor])

    def cpu_ratio(self, name: str, floor: str = "floor") -> float:
        return min(self.cpu[name]) / max(min(self.cpu[floor]), 1e-9)

    def rounded(self) -> dict:
        return {"wall_s": {k: [round(w, 3) for w in v] for k, v in self.wall.items()},
                "cpu_s": {k: [round(c, 3) for c in v] for k, v in self.cpu.items()}}
