"""How long `coder merge` takes to bring three coders' blind copies together, as a ratio to
`coder codings import` of the same coders' spreadsheets into one project (the floor: the same
rows written by the path researchers already use), both measured in this run.

    .venv/bin/python benchmarks/bench_merge.py [--segments 50000] [--codes 20]

Builds a project of synthetic transcripts (Core inserts, as benchmarks/run.py does), one blind
copy per coder with that coder's codings imported, then times (1) importing the three CSVs
into a fresh copy and (2) merging the three blind copies into another; then a second merge of
the same copies (a no-op). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402


def build(db: Path, segments: int, codes: int, turns: int = 60) -> tuple[int, list[str]]:
    import random

    from sqlalchemy import insert

    from coder.codebook.loader import parse_codebook
    from coder.codebook.store import load_codebook
    from coder.db.engine import open_project
    from coder.db.models import Participant, Segment, Transcript, utcnow

    per = turns // 2
    n = -(-segments // per)
    rng = random.Random(2022)
    texts = [generate.sentences(rng, 12) for _ in range(1009)]
    now = utcnow()
    people, transcripts, rows = [], [], []
    for t, (tid, _country) in enumerate(generate.transcript_ids(n)):
        people.append({"id": tid})
        transcripts.append({"id": tid, "participant_id": tid, "source": f"{tid}.txt",
                            "format": "text", "sha256": f"{t:064x}", "text": f"text {tid}",
                            "interviewer": generate.INTERVIEWER, "imported_at": now})
        for k in range(1, turns + 1):
            text = texts[len(rows) % len(texts)]
            rows.append({"transcript_id": tid, "n": k, "text": text, "char_start": 0,
                         "speaker": generate.INTERVIEWER if k % 2 else tid, "start": None,
                         "role": "interviewer" if k % 2 else "participant", "end": None,
                         "char_end": len(text)})
    project = open_project(str(db), create=True)
    source = generate.codebook_yaml(codes)
    with project.write() as conn:
        conn.execute(insert(Participant.__table__), people)
        conn.execute(insert(Transcript.__table__), transcripts)
        conn.execute(insert(Segment.__table__), rows)
        load_codebook(conn, parse_codebook(source), source)
    project.close()
    return n, generate.codebook_keys(codes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=50_000)
    parser.add_argument("--codes", type=int, default=20)
    args = parser.parse_args(argv)

    from coder.coding.files import import_codings
    from coder.coding.merge import merge_project
    from coder.db.engine import open_project

    with tempfile.TemporaryDirectory(prefix="bench-merge-") as tmp:
        tmp = Path(tmp)
        base = tmp / "base.db"
        n, keys = build(base, args.segments, args.codes)
        units = generate.participant_segments(n, 60)
        sheets = generate.write_codings(tmp / "codings", units, keys)
        copies = {}
        for coder, sheet in sheets.items():
            copies[coder] = tmp / f"{coder}.db"
            shutil.copy(base, copies[coder])
            project = open_project(str(copies[coder]))
            import_codings(project, sheet, coder, new_coder=True)
            project.close()
        for name in ("floor.db", "merged.db"):
            shutil.copy(base, tmp / name)

        project = open_project(str(tmp / "floor.db"))
        start = time.perf_counter()
        for coder, sheet in sheets.items():
            import_codings(project, sheet, coder, new_coder=True)
        floor = time.perf_counter() - start
        project.close()

        project = open_project(str(tmp / "merged.db"))
        start = time.perf_counter()
        for path in copies.values():
            merge_project(project, str(path))
        merge = time.perf_counter() - start
        start = time.perf_counter()
        again = [merge_project(project, str(path)) for path in copies.values()]
        noop = time.perf_counter() - start
        project.close()
        assert not any(r.changed for r in again)
    print(json.dumps({"participant_segments": len(units), "coders": len(sheets),
                      "codings_import_s": round(floor, 2), "merge_s": round(merge, 2),
                      "ratio": round(merge / floor, 2), "second_merge_s": round(noop, 2)},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
