"""Every file of ../shared/real-transcripts/ imports as its expected.json says (or is refused).

The files are what Teams, Meet, Zoom, Otter, WhisperX, noScribe, Rev, Amberscript and others
really wrote; they are read where they are, never copied into the repository. Each is imported
through the CLI into a fresh project and read back with ``coder transcripts show --format
json``: the number of turns, the speakers, the first speaker, start times (present on every
turn, or on none) and the words of speech within 2 %. A refusal is exit 1 with exactly one
``error:`` line and no traceback, and leaves no project behind.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import SHARED

REAL = SHARED / "real-transcripts"
EXPECTED = REAL / "expected.json"
if not EXPECTED.exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"{EXPECTED} is missing: CI must provide ../shared/real-transcripts")
    pytest.skip(f"{EXPECTED} is missing (the shared test data is not checked out)",
                allow_module_level=True)

CASES = json.loads(EXPECTED.read_text(encoding="utf-8"))["files"]
# What must never be left in a turn's text: a bracketed or bare clock time at its start, a
# speaker label at its start, tool footers and headers.
LEFTOVERS = re.compile(r"^\s*(\[\d{1,2}:\d{2}|\d{1,2}:\d{2}:\d{2}\b)|\[\d{1,2}:\d{2}(:\d{2})?\]"
                       r"|Transcribed (by|with)|started transcription|stopped transcription"
                       r"|This editable transcript|&#\d+;|&quot;|&amp;")


def _words(segments) -> int:
    return sum(len(s["text"].split()) for s in segments)


@pytest.mark.parametrize("name", sorted(CASES))
def test_real_file_imports_as_expected(name, tmp_path, runner):
    from coder.cli import app

    expected = CASES[name]
    path = REAL / "files" / name
    db = tmp_path / "project.db"
    env = {"CODER_DB": str(db)}
    result = runner.invoke(app, ["import", str(path), "--allow-pii"], env=env)
    if not expected["import"]:
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), result.stderr
        assert "Traceback" not in result.output
        assert not db.exists()
        return
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["transcripts", "show", path.stem, "--format", "json"], env=env)
    segments = json.loads(shown.stdout)["segments"]
    low, high = expected.get("turns_range", [expected["turns"], expected["turns"]])
    assert low <= len(segments) <= high
    assert sorted({s["speaker"] for s in segments}) == sorted(expected["speakers"])
    assert segments[0]["speaker"] == expected["first_speaker"]
    starts = [s["start"] for s in segments]
    if expected["timestamps"]:
        assert all(isinstance(t, float) for t in starts)
    else:
        assert all(t is None for t in starts)
    words = _words(segments)
    assert any(abs(words - w) <= 0.02 * w for w in [expected["words"]]
               + expected.get("words_also", [])), (words, expected["words"])
    for s in segments:
        assert not LEFTOVERS.search(s["text"]), (s["n"], s["text"][:200])
        assert not s["text"].startswith(s["speaker"] + ":"), (s["n"], s["text"][:200])


def test_consecutive_turns_never_share_a_speaker(tmp_path):
    from coder.importers import parse_file

    for name, expected in CASES.items():
        if expected["import"]:
            turns = parse_file(REAL / "files" / name).turns
            assert all(a.speaker != b.speaker for a, b in zip(turns, turns[1:])), name


def test_no_word_lost_or_duplicated_in_a_caption_file():
    """Every word of every cue of a Teams WebVTT is in exactly one turn, in order."""
    import html

    import webvtt

    from coder.importers import parse_file

    path = REAL / "files" / "teams_vtt_real_excerpt_es_entities.vtt"
    cue_words = " ".join(html.unescape(c.text) for c in webvtt.read(str(path))).split()
    turn_words = " ".join(t.text for t in parse_file(path).turns).split()
    assert turn_words == cue_words


def test_the_windows_1252_subtitles_name_the_codec_and_then_the_missing_speakers(runner,
                                                                                 tmp_path):
    from coder.cli import app

    path = REAL / "files" / "pysrt_windows1252_film.srt"
    env = {"CODER_DB": str(tmp_path / "p.db")}
    result = runner.invoke(app, ["import", str(path)], env=env)
    assert "it looks like cp1252: pass --encoding cp1252" in result.stderr
    result = runner.invoke(app, ["import", str(path), "--encoding", "cp1252", "--allow-pii"],
                           env=env)
    assert result.exit_code == 1 and "cues have a speaker label (the first: \"J'ai dit\")" \
        in result.stderr, result.stderr


def test_a_folder_of_real_files_lists_what_it_skipped(runner, tmp_path):
    """Named alone, a chat log or a .doc is an error; in a folder it is skipped and listed."""
    import shutil

    from coder.cli import app

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("zoom_chat_zoomgroupstats_meeting001.txt", "oralhistory_unix_ritchie.doc",
                 "teams_vtt_guid_example.vtt"):
        shutil.copy(REAL / "files" / name, folder / name)
    result = runner.invoke(app, ["import", str(folder), "--allow-pii"],
                           env={"CODER_DB": str(tmp_path / "p.db")})
    assert result.exit_code == 0, result.output
    assert (f"warning: skipped {folder / 'oralhistory_unix_ritchie.doc'}: .doc is not read: "
            "save it as .docx or .txt") in result.stderr
    assert (f"warning: skipped {folder / 'zoom_chat_zoomgroupstats_meeting001.txt'}: a Zoom "
            "chat log, not an interview transcript") in result.stderr
    assert "imported 1 transcript(s), 0 unchanged, 2 file(s) skipped" in result.stderr
