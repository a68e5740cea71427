"""Speakers and roles: --speakers, interviewer labels in the study's languages, the project's
own labels, re-splitting with --replace, `coder transcripts remove` and `relabel`."""

from __future__ import annotations

import json

import pytest

from conftest import CORPUS, dump_url, query, write

DIARIZED = ("1\n00:00:01,000 --> 00:00:03,000\n[SPEAKER_00]: Как вы оцениваете миссию?\n\n"
            "2\n00:00:03,500 --> 00:00:08,000\n[SPEAKER_01]: Она была успешной.\n\n"
            "3\n00:00:08,500 --> 00:00:09,000\n[SPEAKER_02]: И быстрой.\n\n"
            "4\n00:00:09,500 --> 00:00:11,000\n[SPEAKER_00]: Спасибо.\n")


def segments(cli, tid: str) -> list[tuple]:
    data = json.loads(cli("transcripts", "show", tid, "--format", "json").stdout)
    return [(s["speaker"], s["role"]) for s in data["segments"]]


def test_speakers_option_maps_diarized_labels_and_merges(cli, tmp_path):
    f = write(tmp_path / "KZ-04.srt", DIARIZED)
    result = cli("import", f, "--speakers", "SPEAKER_00=Интервьюер, SPEAKER_01=KZ-04,"
                 "SPEAKER_02=KZ-04")
    assert result.exit_code == 0, result.output
    assert segments(cli, "KZ-04") == [("Интервьюер", "interviewer"), ("KZ-04", "participant"),
                                      ("Интервьюер", "interviewer")]
    text = json.loads(cli("transcripts", "show", "KZ-04", "--format", "json").stdout)
    assert text["segments"][1]["text"] == "Она была успешной. И быстрой."


def test_speakers_metadata_column(cli, tmp_path):
    f = write(tmp_path / "KZ-04.srt", DIARIZED)
    meta = write(tmp_path / "meta" / "p.csv", "transcript,country,speakers\nKZ-04,Kazakhstan,"
                 "\"SPEAKER_00=Interviewer; SPEAKER_01=KZ-04; SPEAKER_02=Observer\"\n")
    assert cli("import", f, "--meta", meta).exit_code == 0
    assert segments(cli, "KZ-04") == [("Interviewer", "interviewer"), ("KZ-04", "participant"),
                                      ("Observer", "participant"), ("Interviewer", "interviewer")]


def test_speakers_option_errors_and_warnings(cli, tmp_path):
    f = write(tmp_path / "KZ-04.srt", DIARIZED)
    result = cli("import", f, "--speakers", "SPEAKER_00")
    assert result.exit_code == 1
    assert result.stderr == ("error: --speakers: cannot read the speaker mapping 'SPEAKER_00' — "
                             "write it as `SPEAKER_00=Interviewer, SPEAKER_01=KZ-04`\n")
    result = cli("import", f, "--speakers", "SPEAKER_09=Interviewer", "--dry-run")
    assert result.exit_code == 0
    assert (f"warning: {f}: the speaker mapping names SPEAKER_09, but the speakers are "
            "SPEAKER_00, SPEAKER_01, SPEAKER_02 — nothing renamed") in result.stderr


@pytest.mark.parametrize("interviewer, expert", [
    ("Интервьюер", "Эксперт"), ("Вопрос", "Ответ"), ("И", "Р"), ("Модератор", "KZ-04"),
    ("Moderator", "KZ-04"), ("Facilitator", "KZ-04"), ("интервьюер.", "Р")])
def test_interviewer_labels_in_the_study_languages(cli, tmp_path, interviewer, expert):
    f = write(tmp_path / "t.txt", f"{interviewer}: Первый вопрос?\n\n{expert}: Ответ.\n")
    result = cli("import", f)
    assert result.exit_code == 0 and "warning" not in result.stderr, result.output
    assert segments(cli, "t") == [(interviewer, "interviewer"), (expert, "participant")]


def test_project_interviewer_labels_and_replace_resplits_an_unchanged_file(cli, db_url,
                                                                         tmp_path):
    f = write(tmp_path / "t.txt", "Ведущая: Первый вопрос?\n\nKZ-04: Ответ.\n")
    result = cli("import", f)
    assert "no interviewer label found" in result.stderr
    assert segments(cli, "t") == [("Ведущая", "participant"), ("KZ-04", "participant")]
    assert cli("config", "set", "interviewer_labels", '["ведущая"]').exit_code == 0
    before = dump_url(db_url)
    result = cli("import", f)
    assert result.exit_code == 0
    assert (f"warning: {f}: 't' is unchanged, but with the current speaker and interviewer "
            "settings it splits differently — pass --replace to re-split it") in result.stderr
    assert dump_url(db_url) == before
    result = cli("import", f, "--replace")
    assert result.exit_code == 0 and "re-split: t (text, 2 turns, 1 by the participant)" in \
        result.stderr
    assert segments(cli, "t") == [("Ведущая", "interviewer"), ("KZ-04", "participant")]
    assert query(db_url, "SELECT interviewer FROM transcript") == [("Ведущая",)]
    result = cli("import", f, "--replace")
    assert "unchanged: t" in result.stderr


def test_replace_does_not_resplit_a_coded_transcript_but_relabel_does(cli, db_url, tmp_path):
    f = write(tmp_path / "t.txt", "Ведущая: Вопрос?\n\nKZ-04: Ответ.\n\nВедущая: Ещё?\n")
    codes = write(tmp_path / "codes.yaml", "name: T\nversion: 1\nthemes:\n  - key: trust\n    label: Trust\n"
                   "    definition: Trust between allies.\n")
    assert cli("import", f).exit_code == 0
    assert cli("codebook", "load", codes).exit_code == 0
    coded = write(tmp_path / "c.csv", "transcript,segment,code,memo\nt,2,trust,\n")
    assert cli("codings", "import", "--new-coder", coded, "--coder", "alice").exit_code == 0, \
        cli("codings", "import", "--new-coder", coded, "--coder", "alice").output
    cli("config", "set", "interviewer_labels", '["Ведущая"]')
    result = cli("import", f, "--replace")
    assert result.exit_code == 1
    assert "run `coder transcripts relabel t --interviewer LABEL` (codings stay valid)" in \
        result.stderr
    result = cli("transcripts", "relabel", "t", "--interviewer", "ведущая")
    assert result.exit_code == 0, result.output
    assert result.stderr == ("relabelled t: interviewer (none) → Ведущая; 2 segment(s) now "
                             "interviewer turns, 0 now participant turns\n")
    assert segments(cli, "t") == [("Ведущая", "interviewer"), ("KZ-04", "participant"),
                                  ("Ведущая", "interviewer")]
    assert query(db_url, "SELECT count(*) FROM coding") == [(1,)]
    result = cli("transcripts", "relabel", "t", "--interviewer", "Nobody")
    assert result.exit_code == 1
    assert result.stderr == ("error: transcript 't' has no speaker 'Nobody' — choose one of: "
                             "Ведущая, KZ-04\n")


def test_remove_refuses_codings_without_force_and_says_what_it_deletes(cli, db_url, tmp_path):
    f = write(tmp_path / "t.txt", "Interviewer: Вопрос?\n\nKZ-04: Ответ.\n")
    g = write(tmp_path / "u.txt", "Interviewer: Q?\n\nKZ-05: A.\n")
    codes = write(tmp_path / "codes.yaml", "name: T\nversion: 1\nthemes:\n  - key: trust\n    label: Trust\n"
                   "    definition: Trust between allies.\n")
    assert cli("import", f, g).exit_code == 0
    cli("codebook", "load", codes)
    coded = write(tmp_path / "c.csv", "transcript,segment,code,memo\nt,2,trust,\n")
    assert cli("codings", "import", "--new-coder", coded, "--coder", "alice").exit_code == 0
    before = dump_url(db_url)
    result = cli("transcripts", "remove", "t", "--yes")
    assert result.exit_code == 1
    assert result.stderr == ("error: transcript 't' has 1 codings, 1 reviews and 0 consensus "
                             "decisions (coders: alice) — export them first (`coder codings "
                             "export`), then pass --force to delete them with it\n")
    result = cli("transcripts", "remove", "t", "--force")  # not a terminal: needs --yes
    assert result.exit_code == 1 and "needs confirmation — pass --yes" in result.stderr
    assert dump_url(db_url) == before
    result = cli("transcripts", "remove", "t", "--force", "--yes")
    assert result.exit_code == 0
    assert result.stderr == ("removed t: 2 segments, 1 codings, 1 reviews and 0 consensus "
                             "decisions by alice\n")
    assert query(db_url, "SELECT id FROM transcript") == [("u",)]
    assert query(db_url, "SELECT count(*) FROM coding") == [(0,)]
    assert query(db_url, "SELECT count(*) FROM segment") == [(2,)]
    assert cli("transcripts", "remove", "u", "--yes").stderr == "removed u: 2 segments\n"
    result = cli("transcripts", "remove", "u", "--yes")
    assert result.exit_code == 1 and "no transcript 'u'" in result.stderr


def test_encoding_applies_to_the_metadata_file(cli, tmp_path):
    f = write(tmp_path / "t.txt", "Интервьюер: Вопрос?\n\nKZ-04: Ответ.\n".encode("cp1251"))
    meta = write(tmp_path / "m" / "p.csv", "transcript,country\nt,Казахстан\n".encode("cp1251"))
    result = cli("import", f, "--meta", meta, "--encoding", "cp1251")
    assert result.exit_code == 0, result.output
    data = json.loads(cli("transcripts", "show", "t", "--format", "json").stdout)
    assert data["attributes"]["country"] == "Казахстан"
    assert data["segments"][0]["role"] == "interviewer"


def test_sample_corpus_has_two_russian_interviews(cli):
    assert cli("import", CORPUS, "--meta", CORPUS / "participants.csv").exit_code == 0
    for tid in ("RU-02", "KG-01"):
        data = json.loads(cli("transcripts", "show", tid, "--format", "json").stdout)
        assert data["attributes"]["language"] == "ru"
        assert data["segments"][0]["speaker"] == "Интервьюер"
        assert data["segments"][0]["role"] == "interviewer"
        assert any("ОДКБ" in s["text"] for s in data["segments"])
