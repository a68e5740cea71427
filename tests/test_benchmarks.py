"""The benchmark command runs end to end (SPEC §10 budgets are checked by benchmarks/, never by
timed tests: nothing here looks at a timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SECTIONS = ("import", "import_postgres", "agreement", "reads", "codings_import", "kernels",
            "decision", "decision_postgres", "report_themes", "startup")
FIGURE_KEYS = {"key", "name", "measured", "budget", "status", "value"}


def test_quick_benchmark_writes_every_figure(tmp_path: Path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--json", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["quick"] is True
    for section in SECTIONS:
        assert section in results, section
    assert {"transcripts", "import_s", "bare_s", "ratio", "max_rss_mb", "phases_s"} \
        <= set(results["import"])
    assert set(results["import"]["phases_s"]) == {"parse_s", "scan_s", "insert_s"}
    for command in ("status", "disagreements", "report_themes", "agreement"):
        assert results["reads"][command]["ratio"] > 0
    assert results["codings_import"]["ratio"] > 0
    assert results["decision"]["startup"]["ratio"] > 0
    assert {"cli_s", "participant_segments", "overall_alpha"} <= set(results["agreement"])
    assert {"p95_ms", "median_ms", "segments"} <= set(results["decision"])
    assert {"help_s", "modules", "forbidden_imported"} <= set(results["startup"])
    keys = {f["key"] for f in results["figures"]}
    assert {"import_ratio", "import_phases", "import_rss", "agreement_s", "kernels_ratio",
            "decision", "startup_s", "startup_modules", "status_ratio", "disagreements_ratio",
            "report_themes_ratio", "agreement_ratio", "codings_import_ratio",
            "code_startup_ratio"} <= keys
    for figure in results["figures"]:
        assert set(figure) == FIGURE_KEYS
        assert figure["status"] in ("pass", "FAIL", "info", "skipped")
    assert "| figure | measured | budget | status |" in done.stdout


def _generate_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_generate",
                                                  ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_generator_is_deterministic(tmp_path: Path):
    generate = _generate_module()
    first = generate.write_corpus(tmp_path / "a", n=14, turns=6, words=12, seed=7, mix=True)
    second = generate.write_corpus(tmp_path / "b", n=14, turns=6, words=12, seed=7, mix=True)
    assert [p.read_bytes() for p in first.files] == [p.read_bytes() for p in second.files]
    assert {p.suffix for p in first.files} == {".txt", ".md", ".docx", ".vtt", ".srt"}
    keys = generate.codebook_keys(4)
    segments = generate.participant_segments(14, 6)
    values = generate.coding_values(len(segments), keys, agreement=0.8, seed=7)
    again = generate.coding_values(len(segments), keys, agreement=0.8, seed=7)
    assert all((values[c] == again[c]).all() for c in values)


def test_merge_benchmark_runs_end_to_end():
    """benchmarks/bench_merge.py at a small size: the merge of three blind copies and the
    second merge that changes nothing (it once broke unseen when new coders needed
    --new-coder)."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_merge.py"),
                           "--segments", "600", "--codes", "6"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["coders"] == 3 and figures["participant_segments"] >= 600
    assert figures["ratio"] > 0
