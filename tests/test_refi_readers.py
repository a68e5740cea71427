"""The .qdpx export as real REFI-QDA readers see it: pyqdpx 0.1.8 and qualitative-coding (qc)
1.7.8 from PyPI, run in their own virtual environment (pyqdpx needs Python 3.12; coder runs
on 3.11). Every coding of a demo-like project (three coders, a consensus, a machine coder,
memos) must come back under the right user name, on the right text, with its memo.

The environment is built once into ``.venv-readers/`` at the repository root (gitignored) with
the Python 3.12 that ``scripts/ensure-python312`` finds. Where none can be had the tests skip
saying so — and fail under CI=true, where ``make test`` provides it.
"""

from __future__ import annotations

import collections
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READERS = ROOT / ".venv-readers"
PINS = ("pyqdpx==0.1.8", "qualitative-coding==1.7.8")
SUFFIX = {"machine": " (machine coder)", "consensus": " (reconciled consensus)"}

PYQDPX = """
import json, sys
from pyqdpx import QDPX
project = QDPX(sys.argv[1]).get_project()
found = []
for source in project.sources.values():
    for sel in source.coded_selections.values():
        # pyqdpx counts UTF-16 units as NVivo does: it pads astral characters with U+200B
        found.append({"source": source.name, "user": sel.user.name, "code": sel.code.name,
                      "text": sel.text.replace("\\u200b", ""), "memo": sel.description})
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    json.dump(found, handle)
"""

QC_READ = """
import json, sys
from pathlib import Path
from qualitative_coding.corpus import QCCorpus
corpus = QCCorpus(Path(sys.argv[1]) / "settings.yaml")
found = []
with corpus.session():
    for doc in corpus.get_documents():
        lines = (corpus.corpus_dir / doc.file_path).read_text(encoding="utf-8").split("\\n")
        for code, coder, line, path in corpus.get_coded_lines(file_list=[doc.file_path]):
            found.append({"source": path, "coder": coder, "code": code, "text": lines[line]})
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    json.dump(found, handle)
"""


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} — CI must provide it (make test runs scripts/ensure-python312)")
    pytest.skip(reason)


def _python312() -> str | None:
    found = subprocess.run(["bash", str(ROOT / "scripts" / "ensure-python312")],
                           capture_output=True, text=True, timeout=900)
    lines = found.stdout.strip().splitlines()
    return lines[-1] if found.returncode == 0 and lines else None


@pytest.fixture(scope="session")
def readers() -> Path:
    """The python of a virtual environment holding pyqdpx and qc, built once (under a lock,
    for parallel test workers) and reused while the pins are the same."""
    import fcntl

    python = READERS / "bin" / "python"
    stamp = READERS / ".pins"
    with open(ROOT / ".venv-readers.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and stamp.exists() and stamp.read_text() == "\n".join(PINS):
            return python
        base = _python312()
        if base is None:
            _missing("no Python 3.12 for the REFI-QDA readers (pyqdpx needs it)")
        subprocess.run([base, "-m", "venv", "--clear", str(READERS)], check=True, timeout=300)
        built = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PINS],
                               capture_output=True, text=True, timeout=1800)
        if built.returncode != 0:
            _missing(f"could not install {', '.join(PINS)}: {built.stderr.strip()[-300:]}")
        stamp.write_text("\n".join(PINS))
    return python


def run_reader(python: Path, script: str, *args, cwd: Path | None = None) -> None:
    # qc 1.7.8's importer calls breakpoint(); PYTHONBREAKPOINT=0 makes that a no-op
    env = {**os.environ, "PYTHONBREAKPOINT": "0"}
    done = subprocess.run([str(python), "-c", script, *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Path]:
    """A demo-like project (alice, bob, carol, their consensus, auto:keywords, 61 memos) and
    its .qdpx export, made through the CLI."""
    from conftest import CODEBOOK, CODINGS, CORPUS, run

    folder = tmp_path_factory.mktemp("demo")
    db, out = folder / "demo.db", folder / "demo.qdpx"
    for args in (["import", CORPUS, "--meta", CORPUS / "participants.csv"],
                 ["codebook", "load", CODEBOOK],
                 *[["codings", "import", "--new-coder", CODINGS / f"{c}.csv", "--coder", c]
                   for c in ("alice", "bob", "carol")],
                 ["reconcile", "--coders", "alice,bob,carol", "--rule", "majority",
                  "--as", "consensus"],
                 ["autocode", "keywords"],
                 ["export", "qdpx", out]):
        run(None, *args, "--db", db)
    return db, out


def expected(db: Path) -> collections.Counter:
    """Every coding as (user name, transcript, code label, segment text, memo): the memo is
    the coding's own, else its coder's memo on the segment."""
    con = sqlite3.connect(db)
    try:
        found = con.execute(
            "SELECT c.name, c.kind, s.transcript_id, d.label, s.text, "
            "coalesce(k.memo, r.memo) FROM coding k JOIN coder c ON c.id = k.coder_id "
            "JOIN segment s ON s.id = k.segment_id JOIN code d ON d.key = k.code_key "
            "AND d.codebook_id = k.codebook_id LEFT JOIN review r ON "
            "r.coder_id = k.coder_id AND r.segment_id = k.segment_id").fetchall()
    finally:
        con.close()
    return collections.Counter((name + SUFFIX.get(kind, ""), tid, label, text, memo or None)
                               for name, kind, tid, label, text, memo in found)


def test_pyqdpx_reads_every_coding_with_coder_text_and_memo(readers, demo, tmp_path):
    db, out = demo
    want = expected(db)
    assert sum(want.values()) == 709 and len({w[0] for w in want}) == 5
    assert sum(1 for w in want.elements() if w[4]) > 100  # memos are part of the check
    run_reader(readers, PYQDPX, out, tmp_path / "read.json")
    read = json.loads((tmp_path / "read.json").read_text(encoding="utf-8"))
    got = collections.Counter((r["user"], r["source"], r["code"], r["text"], r["memo"])
                              for r in read)
    assert got == want


def test_qc_imports_every_coding_on_its_line_by_its_coder(readers, demo, tmp_path):
    """qc codes lines and imports no memos: each coding must be on the first line of its
    segment, by its coder."""
    db, out = demo
    project = tmp_path / "qc"
    project.mkdir()
    qc = readers.parent / "qc"
    done = subprocess.run([str(qc), "init", "-i", str(out)], cwd=project, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONBREAKPOINT": "0"})
    assert done.returncode == 0, done.stderr[-2000:]
    run_reader(readers, QC_READ, project, tmp_path / "read.json", cwd=project)
    read = json.loads((tmp_path / "read.json").read_text(encoding="utf-8"))
    got = collections.Counter((r["coder"], r["source"].removesuffix(".txt"), r["code"],
                               r["text"].split(": ", 1)[1]) for r in read)
    want = collections.Counter()
    for (user, tid, label, text, _memo), n in expected(db).items():
        want[(user, tid, label, text.split("\n")[0])] += n
    assert sum(got.values()) == 709
    assert got == want


def test_pyqdpx_reads_utf16_positions_after_emoji(readers, cli, tmp_path):
    """pyqdpx counts positions as NVivo does (UTF-16 units): with `--positions utf16` every
    selection after an emoji lands on its text; with code points it would not."""
    transcript = tmp_path / "UA-01.txt"
    transcript.write_text(EMOJI, encoding="utf-8")
    codings = tmp_path / "codings.csv"
    codings.write_text("transcript,segment,code,memo\nUA-01,2,power_transfer,😤 memo\n"
                       "UA-01,4,power_transfer,\nUA-01,6,power_transfer,\n", encoding="utf-8")
    from conftest import CODEBOOK

    for args in (["import", transcript], ["codebook", "load", CODEBOOK],
                 ["codings", "import", "--new-coder", codings, "--coder", "alice"]):
        result = cli(*args)
        assert result.exit_code == 0, result.output
    texts = {}
    for unit in ("utf16", "codepoints"):
        out = tmp_path / f"{unit}.qdpx"
        assert cli("export", "qdpx", out, "--positions", unit).exit_code == 0
        run_reader(readers, PYQDPX, out, tmp_path / f"{unit}.json")
        texts[unit] = sorted(r["text"] for r in json.loads(
            (tmp_path / f"{unit}.json").read_text(encoding="utf-8")))
    assert texts["utf16"] == sorted(EMOJI_TURNS)
    assert texts["codepoints"] != sorted(EMOJI_TURNS)


EMOJI_TURNS = ["Сначала 😀 было тихо, потом 🇰🇿 всё изменилось.",
               "Власть перешла к одному центру 🙂 за неделю.",
               "Да 👍 и миссия ушла быстро."]
EMOJI = (f"Interviewer: Что изменилось? 🤔\n\nUA-01: {EMOJI_TURNS[0]}\n\n"
         f"Interviewer: А дальше?\n\nUA-01: {EMOJI_TURNS[1]}\n\n"
         f"Interviewer: И ОДКБ?\n\nUA-01: {EMOJI_TURNS[2]}\n")
