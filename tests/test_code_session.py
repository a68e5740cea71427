"""`coder code`: the interactive session, driven end to end with scripted input.

Every test runs the real command (CliRunner, or a subprocess for the kill test) and checks the
database afterwards: codings and reviews exactly as decided, nothing for what was not.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import insert

from conftest import ROOT, dump_db, q

KZ01 = """\
Interviewer: Thank you for joining. How did you see the events of January?

KZ-01: The CSTO deployed within days, which surprised everyone.

Interviewer: Was it a transfer of power?

KZ-01: Yes, the elites split and Tokayev consolidated his position.

Interviewer: Anything else?

KZ-01: Nothing more to add.
"""

RU01 = """\
Interviewer: Let us start with the CSTO.

RU-01: The peacekeepers left quickly.

Interviewer: And inside Kazakhstan?

RU-01: A struggle among the elite.
"""

META = "transcript,participant,country\nkz01,KZ-01,Kazakhstan\nru01,RU-01,Russia\n"

CODES = [  # key, parent, label
    ("csto_efficacy", None, "CSTO efficacy"),
    ("csto_efficacy.rapid_deployment", "csto_efficacy", "Rapid deployment"),
    ("csto_efficacy.peacekeeping", "csto_efficacy", "Peacekeeping"),
    ("power_transfer", None, "Power transfer"),
    ("power_transfer.elite_split", "power_transfer", "Elite split"),
]
# numbers in the session: 1 csto_efficacy, 2 .rapid_deployment, 3 .peacekeeping,
#                         4 power_transfer, 5 .elite_split
# participant segments: kz01:2, kz01:4, kz01:6, ru01:2, ru01:4


def insert_codebook(project) -> None:
    from coder.db.models import Code, Codebook, utcnow

    with project.write() as conn:
        cb = conn.execute(insert(Codebook.__table__).values(
            name="test", version=1, sha256="0" * 64, source="", loaded_at=utcnow())
        ).inserted_primary_key[0]
        conn.execute(insert(Code.__table__), [
            {"codebook_id": cb, "key": key, "parent": parent, "label": label,
             "definition": f"Definition of {label}.", "include": f'["{label} is said"]',
             "exclude": '["mere mention"]', "examples": f'["an example of {label}"]',
             "keywords": "[]", "position": i}
            for i, (key, parent, label) in enumerate(CODES)])


def import_corpus(project, tmp_path: Path) -> None:
    from coder.transcripts import import_transcripts

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "kz01.txt").write_text(KZ01, encoding="utf-8")
    (folder / "ru01.txt").write_text(RU01, encoding="utf-8")
    (tmp_path / "participants.csv").write_text(META, encoding="utf-8")
    import_transcripts(project, [folder], meta=tmp_path / "participants.csv")


@pytest.fixture(autouse=True)
def wide_screen(monkeypatch):
    """The session word-wraps to the terminal width; keep each asserted line on one line."""
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def coded(project, tmp_path):
    """A project with two transcripts (5 participant segments) and a codebook."""
    import_corpus(project, tmp_path)
    insert_codebook(project)
    return project


def codings(db_path: Path, coder: str = "alice") -> dict[str, set[str]]:
    """'transcript:n' → codes of the coder."""
    found: dict[str, set[str]] = {}
    for tid, n, key in q(db_path, """
            SELECT s.transcript_id, s.n, k.code_key FROM coding k
            JOIN segment s ON s.id = k.segment_id JOIN coder c ON c.id = k.coder_id
            WHERE c.name = ?""", coder):
        found.setdefault(f"{tid}:{n}", set()).add(key)
    return found


def reviews(db_path: Path, coder: str = "alice") -> dict[str, str | None]:
    """'transcript:n' → memo of every segment the coder reviewed."""
    return {f"{tid}:{n}": memo for tid, n, memo in q(db_path, """
            SELECT s.transcript_id, s.n, r.memo FROM review r
            JOIN segment s ON s.id = r.segment_id JOIN coder c ON c.id = r.coder_id
            WHERE c.name = ?""", coder)}


# ---------------------------------------------------------------------------- deciding

def test_codings_and_reviews_exactly_as_decided(coded, cli, db_path):
    result = cli("code", "--coder", "alice", input="1\n\n2 5\n\ncsto.peace,po\n\nq\n")
    assert result.exit_code == 0, result.output
    assert codings(db_path) == {
        "kz01:2": {"csto_efficacy"},
        "kz01:4": {"csto_efficacy.rapid_deployment", "power_transfer.elite_split"},
        "kz01:6": {"csto_efficacy.peacekeeping", "power_transfer"},
    }
    assert reviews(db_path) == {"kz01:2": None, "kz01:4": None, "kz01:6": None}
    assert q(db_path, "SELECT name, kind FROM coder") == [("alice", "human")]
    assert "saved kz01:2 — csto_efficacy" in result.output
    assert "alice 0/5 reviewed (0%)" in result.output
    assert "alice 3/5 reviewed (60%)" in result.output
    assert "country=Kazakhstan" in result.output
    assert "Interviewer (3): Was it a transfer of power?" in result.output  # context


def test_quit_and_resume_at_first_unreviewed(coded, cli, db_path):
    assert cli("code", "--coder", "alice", input="4\n\nq\n").exit_code == 0
    result = cli("code", "--coder", "alice", input="-\nq\n")
    assert result.exit_code == 0
    assert "kz01 · segment 4 · alice 1/5 reviewed" in result.output
    assert "segment 2 ·" not in result.output
    assert reviews(db_path) == {"kz01:2": None, "kz01:4": None}
    assert codings(db_path) == {"kz01:2": {"power_transfer"}}


def test_back_shows_and_replaces_the_saved_decision(coded, cli, db_path):
    result = cli("code", "--coder", "alice", input="1 2\n\nb\n1 5\n\nq\n")
    assert result.exit_code == 0
    assert "saved: csto_efficacy, csto_efficacy.rapid_deployment" in result.output
    assert codings(db_path) == {"kz01:2": {"csto_efficacy.rapid_deployment",
                                           "power_transfer.elite_split"}}
    assert set(reviews(db_path)) == {"kz01:2"}
    # after saving the revisited segment, the session goes on to the next unreviewed one
    assert result.output.count("kz01 · segment 4 ·") == 2


def test_no_code_needs_a_dash_not_a_stray_enter(coded, cli, db_path):
    result = cli("code", "--coder", "alice", input="\n-\nq\n")
    assert result.exit_code == 0
    assert ("nothing selected — type code numbers or keys, - for 'reviewed, no code', "
            "or s to skip") in result.output
    assert reviews(db_path) == {"kz01:2": None}
    assert codings(db_path) == {}


def test_dash_after_a_selection_saves_no_code(coded, cli, db_path):
    assert cli("code", "--coder", "alice", input="1 2\n-\nq\n").exit_code == 0
    assert reviews(db_path) == {"kz01:2": None}
    assert codings(db_path) == {}


def test_memo_is_saved_with_the_decision(coded, cli, db_path):
    result = cli("code", "--coder", "alice",
                 input="m speaks as a former official\n2\n\nm\n-\nq\n")
    assert result.exit_code == 0
    assert reviews(db_path) == {"kz01:2": "speaks as a former official", "kz01:4": None}
    assert codings(db_path) == {"kz01:2": {"csto_efficacy.rapid_deployment"}}


def test_skip_leaves_the_segment_unreviewed(coded, cli, db_path):
    result = cli("code", "--coder", "alice", input="s\n4\n\nq\n")
    assert result.exit_code == 0
    assert reviews(db_path) == {"kz01:4": None}
    assert codings(db_path) == {"kz01:4": {"power_transfer"}}
    # the next session starts at the skipped segment
    assert "kz01 · segment 2 · alice 1/5" in cli("code", "--coder", "alice", input="q\n").output


def test_skipped_segments_are_not_offered_again_in_the_same_session(coded, cli, db_path):
    result = cli("code", "--coder", "alice", input="s\n-\n-\n-\n-\n")
    assert result.exit_code == 0
    assert set(reviews(db_path)) == {"kz01:4", "kz01:6", "ru01:2", "ru01:4"}
    assert ("alice: 4/5 reviewed; the 1 left were skipped in this session — run `coder code` "
            "again to review them") in result.output


def test_theme_mode_keeps_other_themes_codings(coded, cli, db_path):
    assert cli("code", "--coder", "alice", input="5\n\nq\n").exit_code == 0
    result = cli("code", "--coder", "alice", "--theme", "csto_efficacy",
                 input="j 2\npower\n1 2\n\nq\n")
    assert result.exit_code == 0
    assert "1 csto_efficacy: 2 .rapid_deployment 3 .peacekeeping" in result.output
    assert "4 power_transfer" not in result.output  # only the theme's codes are offered
    assert "unknown code or command 'power'" in result.output
    assert "kept: power_transfer.elite_split" in result.output
    assert codings(db_path) == {"kz01:2": {"csto_efficacy", "csto_efficacy.rapid_deployment",
                                           "power_transfer.elite_split"}}
    # clearing the theme's codes with - keeps the other theme's code
    assert cli("code", "--coder", "alice", "--theme", "csto_efficacy",
               input="j 2\n-\nq\n").exit_code == 0
    assert codings(db_path) == {"kz01:2": {"power_transfer.elite_split"}}


def test_unknown_input_gives_a_message_and_changes_nothing(coded, cli, db_path):
    before = dump_db(db_path)
    result = cli("code", "--coder", "alice", input="xyz\n42\n1 xyz\np\nb now\n\nq\n")
    assert result.exit_code == 0
    out = result.output
    assert ("unknown code or command 'xyz' — type a code number or key prefix, or h for help"
            in out)
    assert "no code 42 — codes are numbered 1–5" in out
    assert ("'p' is ambiguous: 3 csto_efficacy.peacekeeping, 4 power_transfer — type more "
            "of the key or the number") in out
    assert "b takes no argument — type h for help" in out
    assert "selected: 1" not in out  # "1 xyz" toggled nothing
    assert "nothing selected" in out
    assert dump_db(db_path) == before  # not even the coder was created


def test_definition_and_help(coded, cli, db_path):
    result = cli("code", "--coder", "alice", input="d rapid\n? 5\nh\nq\n")
    assert result.exit_code == 0
    out = result.output
    assert "2 csto_efficacy.rapid_deployment — Rapid deployment" in out
    assert "Definition of Rapid deployment." in out
    assert "include: Rapid deployment is said" in out
    assert "exclude: mere mention" in out
    assert "examples: an example of Rapid deployment" in out
    assert "5 power_transfer.elite_split — Elite split" in out
    assert "Commands (type one and press Enter):" in out
    assert reviews(db_path) == {}


def test_jump_within_and_across_transcripts(coded, cli, db_path):
    result = cli("code", "--coder", "alice",
                 input="j 3\n4\n\nj ru01:4\n5\n\nj ru01\n1\n\nj nope\nq\n")
    assert result.exit_code == 0
    assert "segment 3 of kz01 is not a participant turn — showing segment 4" in result.output
    assert "no transcript 'nope' — see `coder transcripts list`" in result.output
    assert codings(db_path) == {"kz01:4": {"power_transfer"},
                                "ru01:4": {"power_transfer.elite_split"},
                                "ru01:2": {"csto_efficacy"}}


def test_transcript_scope_and_forward(coded, cli, db_path):
    result = cli("code", "--coder", "alice", "--transcript", "ru01", input="f\n-\nj kz01\nq\n")
    assert result.exit_code == 0
    assert "ru01 · segment 2 · alice 0/2 reviewed" in result.output
    assert "kz01 is outside this session (--transcript ru01)" in result.output
    assert reviews(db_path) == {"ru01:4": None}


def test_nothing_left_says_so(coded, cli, db_path):
    assert cli("code", "--coder", "alice", input="-\n-\n-\n-\n-\n").exit_code == 0
    result = cli("code", "--coder", "alice", input="")
    assert result.exit_code == 0
    assert result.output.strip() == ("nothing left to code for alice: 5/5 participant "
                                     "segments reviewed")


def test_model_suggestions_are_shown(coded, cli, db_path):
    from coder.coding.store import get_or_create_coder
    from coder.db.models import Coding, utcnow

    with coded.write() as conn:
        model = get_or_create_coder(conn, "auto:model")
        seg = conn.exec_driver_sql("SELECT id FROM segment WHERE transcript_id = 'kz01' "
                                   "AND n = 2").scalar()
        conn.execute(insert(Coding.__table__), [
            {"coder_id": model, "segment_id": seg, "code_key": key, "probability": p,
             "created_at": utcnow()}
            for key, p in (("csto_efficacy.rapid_deployment", 0.87), ("power_transfer", 0.2))])
    result = cli("code", "--coder", "alice", input="q\n")
    assert ("model suggests: 2 csto_efficacy.rapid_deployment 0.87 · 4 power_transfer 0.20"
            in result.output)
    assert codings(db_path) == {}


# ---------------------------------------------------------------------------- leaving

def test_eof_quits_without_writing_the_pending_selection(coded, cli, db_path):
    result = cli("code", "--coder", "alice", input="1\n\n2")  # no newline, then EOF
    assert result.exit_code == 0
    assert codings(db_path) == {"kz01:2": {"csto_efficacy"}}
    assert set(reviews(db_path)) == {"kz01:2"}


def test_ctrl_c_exits_130_keeping_confirmed_decisions(coded, cli, db_path, monkeypatch):
    from coder.cli.common import out

    lines = iter(["1", "", "2"])

    def typed(prompt=""):
        try:
            return next(lines)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr(out, "input", typed)
    result = cli("code", "--coder", "alice")
    assert result.exit_code == 130
    assert "interrupted — everything confirmed before the interrupt is saved" in result.stderr
    assert codings(db_path) == {"kz01:2": {"csto_efficacy"}}
    assert set(reviews(db_path)) == {"kz01:2"}


def test_kill_9_keeps_exactly_the_committed_decisions(coded, db_path):
    env = dict(os.environ, CODER_DB=str(db_path))
    proc = subprocess.Popen([sys.executable, "-m", "coder", "code", "--coder", "alice"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    try:
        proc.stdin.write(b"1 2\n\n5\n\n4\n")  # two decisions, then an unconfirmed toggle
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while len(reviews(db_path)) < 2:
            assert proc.poll() is None, "the session ended early"
            assert time.monotonic() < deadline, "decisions were not committed in time"
            time.sleep(0.05)
        time.sleep(0.3)  # let the pending toggle be read too
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert reviews(db_path) == {"kz01:2": None, "kz01:4": None}
    assert codings(db_path) == {"kz01:2": {"csto_efficacy", "csto_efficacy.rapid_deployment"},
                                "kz01:4": {"power_transfer.elite_split"}}


# ---------------------------------------------------------------------------- errors

def test_no_codebook_is_an_error(project, tmp_path, cli, db_path):
    import_corpus(project, tmp_path)
    result = cli("code", "--coder", "alice", input="q\n")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: no codebook loaded — run `coder codebook load "
                                     "codebooks/csto-2022.yaml`")


def test_bad_options_are_errors(coded, cli, db_path):
    before = dump_db(db_path)
    result = cli("code", "--coder", "", input="q\n")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: the coder name is empty — pass --coder NAME "
                                     "(e.g. --coder alice)")
    result = cli("code", "--coder", "alice", "--theme", "power", input="q\n")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: no theme 'power' in the codebook (themes: "
                                     "csto_efficacy, power_transfer) — pass one of them to "
                                     "--theme")
    result = cli("code", "--coder", "alice", "--transcript", "xx01", input="q\n")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: no transcript 'xx01' (have: kz01, ru01…) — see "
                                     "`coder transcripts list`")
    # --coder may be left out only in a team project (it is the login); here it is needed
    result = cli("code", input="q\n")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: the coder name is empty — pass --coder NAME "
                                     "(e.g. --coder alice)")
    assert dump_db(db_path) == before
