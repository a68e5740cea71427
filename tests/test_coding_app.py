"""The full-screen coding app (Textual), driven headless with Textual's pilot: keys in, screen
and database out; snapshots of its screen at 80×24 and 120×40; spans from the app to quotes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from conftest import CODEBOOK, CORPUS, check_golden, q, run

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def sample(tmp_path) -> Path:
    db = tmp_path / "p.db"
    run(db, "import", CORPUS, "--meta", CORPUS / "participants.csv")
    run(db, "codebook", "load", CODEBOOK)
    return db


def drive(db: Path, keys: list, *, size=(100, 30), coder="dora", transcript=None):
    """Run the app on ``db`` headless, press ``keys`` (a string presses each of its
    characters; a list item is one key name, or a callable(app) run at that point), and
    return the app after it stopped."""
    from coder.coding.app import CodingApp
    from coder.coding.session import CodingSession
    from coder.db.engine import open_project

    project = open_project(str(db))
    session = CodingSession.open(project, coder, transcript=transcript, new_coder=True)
    app = CodingApp(session)

    async def main():
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            for key in keys:
                if callable(key):
                    key(app)
                else:
                    await pilot.press(key)
                await pilot.pause()
            app.screens_seen = [type(s).__name__ for s in app.screen_stack]
            if app.is_running:
                app.exit("test")
    asyncio.run(main())
    project.close()
    return app


def reviews(db: Path, coder: str = "dora"):
    return q(db, "SELECT s.transcript_id, s.n FROM review r JOIN segment s ON s.id = "
                 "r.segment_id JOIN coder c ON c.id = r.coder_id WHERE c.name = ? "
                 "ORDER BY 1, 2", coder)


def codings(db: Path, coder: str = "dora"):
    return q(db, "SELECT s.transcript_id, s.n, k.code_key, k.span_start, k.span_end FROM "
                 "coding k JOIN segment s ON s.id = k.segment_id JOIN coder c ON "
                 "c.id = k.coder_id WHERE c.name = ? ORDER BY 1, 2, 3", coder)


def first_participant(db: Path):
    return q(db, "SELECT transcript_id, n, text FROM segment WHERE role = 'participant' "
                 "ORDER BY transcript_id, n LIMIT 2")


def test_keys_toggle_codes_and_enter_commits_before_the_next_segment(sample):
    (tid, n, _), (tid2, n2, _) = first_participant(sample)
    seen = {}

    def after_save(app):  # the row is committed when the next segment is drawn
        seen["rows"] = codings(sample)
        seen["title"] = str(app.query_one("#title").render())

    app = drive(sample, ["3", "enter", after_save, "minus", "q"])
    assert seen["rows"][0][:3] == (tid, n, "power_transfer.two_level_game")
    assert f"segment {n2}" in seen["title"] and "1/" in seen["title"]
    assert reviews(sample)[:2] == [(tid, n), (tid2, n2)]
    assert app.result == "quit"


def test_two_digit_numbers_highlight_space_filter_and_undo(sample):
    (tid, n, _), _ = first_participant(sample)
    app = drive(sample, ["1", "2", "down", "space", "enter", "u"])
    keys = [c[2] for c in codings(sample)]
    assert keys == []  # undone: the segment is unreviewed again
    assert reviews(sample) == []
    assert app.session.view.turn.n == n
    app = drive(sample, ["slash", *"rapid", "enter", "enter"])
    assert [c[2] for c in codings(sample)] == ["csto_efficacy.rapid_deployment"]


def test_quitting_with_an_unsaved_selection_asks(sample):
    screens = []
    app = drive(sample, ["4", "q", lambda a: screens.append(type(a.screen).__name__),
                         "escape", lambda a: screens.append(type(a.screen).__name__)])
    assert screens == ["ConfirmQuit", "Screen"]
    assert app.result == "done" and reviews(sample) == []    # still coding, nothing saved
    app = drive(sample, ["4", "q", "q"])
    assert app.result == "quit" and reviews(sample) == []
    app = drive(sample, ["4", "q", "s"])
    assert app.result == "quit" and len(reviews(sample)) == 1


def test_a_marked_span_goes_to_the_database_quotes_and_the_export(sample, tmp_path):
    (tid, n, text), _ = first_participant(sample)
    from coder.coding.app import sentences

    parts = sentences(text)
    assert len(parts) >= 2, "the first sample turn should have several sentences"
    app = drive(sample, ["down", "v", "space", "enter", "enter", "q"])
    rows = codings(sample)
    assert rows[0][:3] == (tid, n, "power_transfer.end_of_dual_power")
    start, end = rows[0][3:]
    assert (start, end) == (parts[0][0], parts[0][1])
    quote = run(sample, "quotes", "--theme", "power_transfer.end_of_dual_power", "--coder",
                "dora", "--format", "json").stdout
    assert parts[0][2] in quote and parts[1][2] not in quote
    exported = run(sample, "codings", "export", "--coder", "dora", "--format", "csv").stdout
    assert parts[0][2].split()[0] in exported.splitlines()[1]
    assert app.result == "quit"


def test_the_search_and_the_transcript_done_notice(sample):
    tid = first_participant(sample)[0][0]
    count = q(sample, "SELECT count(*) FROM segment WHERE transcript_id = ? AND role = "
                      "'participant'", tid)[0][0]
    notes = []
    app = drive(sample, ["minus"] * count + [lambda a: notes.append(
        str(a.query_one("#status").render()))])
    assert f"transcript {tid} is done" in notes[0]
    target = q(sample, "SELECT text FROM segment WHERE role = 'participant' ORDER BY "
                       "transcript_id DESC, n DESC LIMIT 1")[0][0]
    needle = " ".join(target.split()[2:5])
    app = drive(sample, ["ctrl+f", *needle, "enter"])
    assert needle in app.session.view.turn.text


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_screen_snapshots(sample, size):
    """The screen at 80×24 and 120×40 matches its golden SVG (regenerate with
    UPDATE_GOLDEN=1 after a deliberate change of the layout)."""
    shots = {}

    def shot(app):
        shots["svg"] = app.export_screenshot(title="coder code")
        shots["turn"] = app.query_one("#turn").size
        shots["codes"] = app.query_one("#codes").size

    drive(sample, ["3", shot], size=size)
    svg = re.sub(r"terminal-\d+", "terminal", shots["svg"])
    check_golden(GOLDEN / f"coding-app-{size[0]}x{size[1]}.svg", svg)
    assert shots["turn"].width >= 40 and shots["codes"].width >= 28
