"""`coder code` and `coder reconcile --rule interactive` in a real terminal: tmux runs the
command at 80 columns, the test types keys with send-keys and reads the screen with
capture-pane."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import CODEBOOK, CODINGS, CORPUS, q, run

TMUX = shutil.which("tmux")
if TMUX is None and os.environ.get("CI"):
    raise RuntimeError("tmux is needed for the terminal tests (scripts/ensure-tmux)")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed "
                                "(scripts/ensure-tmux installs it; CI has it)")
CODER = str(Path(sys.executable).with_name("coder"))


class Terminal:
    def __init__(self, command: list[str], db: Path, width: int = 80, height: int = 24):
        self.socket = f"coder-test-{uuid.uuid4().hex[:8]}"
        env = [f"CODER_DB={db}", "TERM=xterm-256color", "COLUMNS=", "LINES="]
        cmd = " ".join(f"'{c}'" for c in command)
        subprocess.run([TMUX, "-L", self.socket, "new-session", "-d", "-x", str(width),
                        "-y", str(height), f"env {' '.join(env)} {cmd}; sleep 30"],
                       check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run([TMUX, "-L", self.socket, "send-keys", *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run([TMUX, "-L", self.socket, "send-keys", "-l", text], check=True)

    def screen(self, history: bool = False) -> str:
        args = [TMUX, "-L", self.socket, "capture-pane", "-p"] + (["-S", "-"] if history
                                                                   else [])
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout

    def wait_for(self, text: str, timeout: float = 30.0, history: bool = False) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            screen = self.screen(history)
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen(history)}")

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def sample(tmp_path) -> Path:
    db = tmp_path / "p.db"
    run(db, "import", CORPUS, "--meta", CORPUS / "participants.csv")
    run(db, "codebook", "load", CODEBOOK)
    for name in ("alice", "bob"):
        run(db, "codings", "import", "--new-coder", CODINGS / f"{name}.csv", "--coder", name)
    return db



def test_the_line_mode_wraps_at_word_boundaries_and_asks_before_dropping(sample):
    tid, n, text = q(sample, "SELECT transcript_id, n, text FROM segment WHERE role = "
                             "'participant' ORDER BY transcript_id, n LIMIT 1")[0]
    term = Terminal([CODER, "code", "--coder", "dora", "--plain", "--new-coder"], sample, height=50)
    try:
        screen = term.wait_for("selected: nothing")
        words = " ".join(text.split()[:40])
        assert words in " ".join(screen.split()), screen  # no word cut at the line end
        assert all(len(line) <= 80 for line in screen.splitlines())
        term.type("3")
        term.keys("Enter")
        term.wait_for("selected: 3")
        term.type("q")
        term.keys("Enter")
        term.wait_for("q again quits without saving")
        term.type("elite_confl")
        term.keys("Enter")
        term.type("xyzzy_conflict")
        term.keys("Enter")
        term.wait_for("did you mean")
        term.keys("Enter")
        term.wait_for("saved ")
        term.type("q")
        term.keys("Enter")
        time.sleep(1.0)
    finally:
        term.close()
    assert q(sample, "SELECT s.n FROM review r JOIN segment s ON s.id = r.segment_id JOIN "
                     "coder c ON c.id = r.coder_id WHERE c.name = 'dora'") == [(n,)]


def test_the_full_screen_app_runs_in_a_real_terminal(sample):
    term = Terminal([CODER, "code", "--coder", "erin", "--new-coder"], sample)
    try:
        term.wait_for("all 0/")
        term.type("3")
        term.keys("Enter")
        term.wait_for("all 1/")
        term.type("q")
        time.sleep(1.5)
    finally:
        term.close()
    rows = q(sample, "SELECT k.code_key FROM coding k JOIN coder c ON c.id = k.coder_id "
                     "WHERE c.name = 'erin'")
    assert rows == [("power_transfer.two_level_game",)]


def test_interactive_reconcile_shows_what_is_disputed_and_tells_the_truth(sample):
    term = Terminal([CODER, "reconcile", "--coders", "alice,bob", "--rule", "interactive",
                     "--as", "consensus"], sample, width=100, height=50)
    try:
        screen = term.wait_for("consensus>")
        assert "disagreement 1 of " in screen
        total = int(screen.split("disagreement 1 of ")[1].split()[0])
        differs = [line for line in screen.splitlines() if line.startswith("differs on:")]
        assert differs and differs[0].strip() != "differs on: —"
        assert "=1 alice" in screen and "=2 bob" in screen
        assert "many people asked" in " ".join(screen.split())  # wrapped at word boundaries
        term.type("h")
        term.keys("Enter")
        term.wait_for("stop: everything saved so far is kept")
        term.type("=1")
        term.keys("Enter")
        term.keys("Enter")
        term.wait_for("disagreement 2 of ")
        term.type("q")
        term.keys("Enter")
        screen = term.wait_for("still open", history=True)
    finally:
        term.close()
    assert f"{total - 1} of the {total} open at the start are still open" in screen
