"""Keypress to committed row in the full-screen coding app, with 100,000 segments.

Builds the same synthetic project as ``bench_decision.py``, runs :class:`coder.coding.app.
CodingApp` headless (Textual's pilot, 120×40) and times ``--decisions`` decisions: a code
number pressed, then Enter, up to the committed review row *and* the next segment drawn (the
pilot waits until the app has processed the keys and refreshed). As a floor it times the same
key presses on a Textual app that does nothing, so the ratio shows what coding adds.

    .venv/bin/python benchmarks/bench_app.py [--segments 100000] [--decisions 100] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

BUDGET_MS = 20.0


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


async def _time_app(app, decisions: int, check=None) -> list[float]:
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for i in range(decisions):
            started = time.perf_counter()
            await pilot.press(str(1 + i % 7), "enter")
            await pilot.pause()
            times.append((time.perf_counter() - started) * 1000)
            if check is not None:
                check(i)
        app.exit()
    return times


def main(argv: list[str] | None = None) -> int:
    from textual.app import App

    from bench_decision import build_project
    from coder.coding.app import CodingApp
    from coder.coding.session import CodingSession

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        project = build_project(path, args.segments)
        session = CodingSession.open(project, "bench", new_coder=True)

        def committed(i: int) -> None:  # the decision is in the file before the next key
            con = sqlite3.connect(path)
            n = con.execute("SELECT count(*) FROM review").fetchone()[0]
            con.close()
            assert n == i + 1, (n, i)

        times = asyncio.run(_time_app(CodingApp(session), args.decisions, committed))

        class Idle(App):
            pass

        floor = asyncio.run(_time_app(Idle(), args.decisions))
        project.close()
    result = {"segments": args.segments, "decisions": args.decisions,
              "median_ms": round(statistics.median(times), 2), "p95_ms": round(p95(times), 2),
              "floor_median_ms": round(statistics.median(floor), 2),
              "floor_p95_ms": round(p95(floor), 2),
              "ratio_median": round(statistics.median(times) / statistics.median(floor), 2)}
    print(f"coding app, {args.segments} segments, {args.decisions} decisions (a code key + "
          f"Enter, to the committed row and the next segment drawn): median "
          f"{result['median_ms']} ms, p95 {result['p95_ms']} ms; the same keys on an idle "
          f"Textual app: median {result['floor_median_ms']} ms (ratio "
          f"{result['ratio_median']}×)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
