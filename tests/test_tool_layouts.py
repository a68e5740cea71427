"""Layouts of the same producers that ../shared/real-transcripts/ does not hold.

Each file here is written in the test from the producer's documented format (WhisperX's
``write_*`` writers, Rev's API JSON, Teams/Meet/Otter Word exports, noScribe's text, Zoom's
VTT, ELAN-style tables, Word's HTML), so that the readers are checked against the formats and
not only against the shared fixtures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coder.errors import InputError
from coder.importers import parse_file
from coder.importers.base import NotATranscript

from conftest import write


def turns(path: Path, **kwargs) -> list[tuple]:
    return [(t.speaker, t.text, t.start) for t in parse_file(path, **kwargs).turns]


# ---------------------------------------------------------------------------- JSON

def test_whisperx_json_speaker_from_words_and_unlabelled_segments(tmp_path):
    segments = [
        {"start": 0.5, "end": 2.0, "text": " Здравствуйте.",
         "words": [{"word": "Здравствуйте.", "speaker": "SPEAKER_01"}]},
        {"start": 2.1, "end": 5.0, "text": " Добрый день.", "speaker": "SPEAKER_00"},
        {"start": 5.1, "end": 6.0, "text": " Да."},  # WhisperX leaves some unassigned
        {"start": 6.5, "end": 9.0, "text": " Расскажите.", "speaker": "SPEAKER_01"},
    ]
    path = write(tmp_path / "call.json", json.dumps({"segments": segments,
                                                    "language": "ru"}, ensure_ascii=False))
    parsed = parse_file(path)
    assert [(t.speaker, t.text, t.start, t.end) for t in parsed.turns] == [
        ("SPEAKER_01", "Здравствуйте.", 0.5, 2.0), ("SPEAKER_00", "Добрый день. Да.", 2.1, 6.0),
        ("SPEAKER_01", "Расскажите.", 6.5, 9.0)]
    assert parsed.format == "json"
    assert parsed.warnings == [f"{path}: 1 cue(s) without a speaker label given to the speaker "
                               "before them (or after, at the start) — check them with "
                               "`coder transcripts show`"]


def test_bare_segment_list_and_decomposed_cyrillic_become_nfc(tmp_path):
    import unicodedata

    name, text = unicodedata.normalize("NFD", "Йоргу"), unicodedata.normalize("NFD", "Ещё й")
    data = [{"start": 0, "end": 1, "text": text, "speaker": name},
            {"start": 1, "end": 2, "text": "Да.", "speaker": "SPEAKER_01"}]
    path = write(tmp_path / "seg.json", json.dumps(data))  # \u escapes: NFD after decoding
    assert turns(path) == [("Йоргу", "Ещё й", 0.0), ("SPEAKER_01", "Да.", 1.0)]


def test_rev_api_json_elements_and_speaker_numbers(tmp_path):
    data = {"monologues": [
        {"speaker": 0, "elements": [
            {"type": "text", "value": "Hello", "ts": 0.5, "end_ts": 0.9},
            {"type": "punct", "value": ","}, {"type": "punct", "value": " "},
            {"type": "text", "value": "Anna", "ts": 1.0, "end_ts": 1.4},
            {"type": "punct", "value": "."}]},
        {"speaker": 1, "speaker_name": "Interviewee", "elements": [
            {"type": "text", "value": "Hi", "ts": 2.0, "end_ts": 2.2},
            {"type": "punct", "value": "."}]}]}
    path = write(tmp_path / "rev.txt", json.dumps(data))  # recognized by content
    assert turns(path) == [("Speaker 0", "Hello, Anna.", 0.5), ("Interviewee", "Hi.", 2.0)]


def test_amberscript_json(tmp_path):
    data = {"speakers": [{"spkid": "spk1", "name": "Модератор"}, {"spkid": "spk2",
                                                                   "name": "KZ-04"}],
            "segments": [{"speaker": "spk1", "words": [{"text": "Начнём.", "start": 1.0,
                                                        "end": 1.5}]},
                         {"speaker": "spk2", "words": [{"text": "Да,", "start": 2.0, "end": 2.2},
                                                       {"text": "конечно.", "start": 2.2,
                                                        "end": 2.9}]}]}
    path = write(tmp_path / "a.json", json.dumps(data, ensure_ascii=False))
    assert turns(path) == [("Модератор", "Начнём.", 1.0), ("KZ-04", "Да, конечно.", 2.0)]


def test_json_of_another_shape_is_not_a_transcript(tmp_path):
    path = write(tmp_path / "config.json", '{"name": "x", "items": [1, 2]}')
    with pytest.raises(NotATranscript) as info:
        parse_file(path)
    assert str(info.value) == (f"{path}: JSON of an unknown shape — give WhisperX, Rev.com or "
                               "Amberscript JSON, or export the transcript as text")


# ---------------------------------------------------------------------------- captions

def test_whisperx_vtt_and_srt_writers(tmp_path):
    """WhisperX's WriteVTT/WriteSRT put ``[SPEAKER_NN]: `` before each cue's text."""
    vtt = ("WEBVTT\n\n00:01.000 --> 00:03.000\n[SPEAKER_00]: Как вы оцениваете миссию?\n\n"
           "00:03.500 --> 00:08.000\n[SPEAKER_01]: Она была успешной.\n\n"
           "01:00:08.000 --> 01:00:09.000\n[SPEAKER_01]: Вот.\n")
    srt = ("1\n00:00:01,000 --> 00:00:03,000\n[SPEAKER_00]: Как вы оцениваете миссию?\n\n"
           "2\n00:00:03,500 --> 00:00:08,000\n[SPEAKER_01]: Она была успешной.\n")
    assert turns(write(tmp_path / "a.vtt", vtt)) == [
        ("SPEAKER_00", "Как вы оцениваете миссию?", 1.0),
        ("SPEAKER_01", "Она была успешной. Вот.", 3.5)]
    assert turns(write(tmp_path / "a.srt", srt))[1] == ("SPEAKER_01", "Она была успешной.", 3.5)


def test_teams_vtt_cyrillic_entities_multiline_voice_and_legacy_timings(tmp_path):
    vtt = ("WEBVTT\n\nab12/1-0\n0:0:1.5 --> 0:0:4.25\n<v &#1048;&#1074;&#1072;&#1085;>Добрый\n"
           "день &amp; привет</v>\n\nab12/2-0\n0:0:5.0 --> 0:0:6.0\n<v Мария>Да.</v>\n")
    assert turns(write(tmp_path / "t.vtt", vtt)) == [("Иван", "Добрый день & привет", 1.5),
                                                  ("Мария", "Да.", 5.0)]


def test_zoom_vtt_first_cue_without_label_goes_to_the_first_speaker(tmp_path):
    vtt = ("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nso we are recording\n\n"
           "2\n00:00:02.500 --> 00:00:04.000\nAnna Smith: Welcome everyone.\n\n"
           "3\n00:00:04.500 --> 00:00:06.000\nKZ-04: Thank you.\n")
    parsed = parse_file(write(tmp_path / "z.vtt", vtt))
    assert [(t.speaker, t.text) for t in parsed.turns] == [
        ("Anna Smith", "so we are recording Welcome everyone."), ("KZ-04", "Thank you.")]
    assert "1 cue(s) without a speaker label" in parsed.warnings[0]


def test_noscribe_vtt_pause_cue_and_overlap_voice(tmp_path):
    vtt = ("WEBVTT Interview\n\nNOTE\nTranscribed with noScribe\n\n1\n00:00:00.000 --> "
           "00:00:05.000\n(5 seconds pause)\n\n2\n00:00:05.000 --> 00:00:09.000\n<v S00>Ja, "
           "genau. //S01: Mhm. // Weiter.\n\n3\n00:00:09.000 --> 00:00:10.000\n<v //S01>Gut.\n")
    assert turns(write(tmp_path / "n.vtt", vtt)) == [
        ("S00", "Ja, genau. //S01: Mhm. // Weiter.", 5.0), ("S01", "Gut.", 9.0)]


# ---------------------------------------------------------------------------- text layouts

def test_noscribe_text_header_pause_line_and_time_marks_inside(tmp_path):
    text = ("Interview 3\n\nTranscribed with noScribe vers. 0.6\nAudio file: x.mp3\n\n"
            "(3 seconds pause)\n\nS00: [00:00:03] Erste Frage? (..)\n\n(10 seconds pause)\n\n"
            "S01: [00:00:20] Antwort eins. [00:05:00] Antwort zwei.\n")
    assert turns(write(tmp_path / "n.txt", text)) == [
        ("S00", "Erste Frage? (..)", 3.0), ("S01", "Antwort eins. Antwort zwei.", 20.0)]


def test_rev_text_with_names_and_inline_layout(tmp_path):
    text = ("Jane Doe (00:00):\nWelcome to the call.\n\nKZ-04 (01:02:03):\nThank you.\n\n"
            "Jane Doe (01:02:10): Shall we start?\n")
    assert turns(write(tmp_path / "rev.txt", text)) == [
        ("Jane Doe", "Welcome to the call.", 0.0), ("KZ-04", "Thank you.", 3723.0),
        ("Jane Doe", "Shall we start?", 3730.0)]


@pytest.mark.parametrize("line", [
    "- [00:01:02] **Интервьюер**: Вопрос первый.",
    "* 00:01:02 Интервьюер: Вопрос первый.",
    "[00:01:02] **Интервьюер:** Вопрос первый.",
    "**[00:01:02] Интервьюер:** Вопрос первый.",
    "**Интервьюер** [1:02] Вопрос первый.",
    "- [01:02.00 - 01:05.50] **Интервьюер**: Вопрос первый.",
])
def test_markdown_bullets_and_time_prefixes_before_the_label(tmp_path, line):
    text = f"# Транскрипт\n\n- **Язык**: ru-RU\n- **Дата**: 2023-01-12\n\n{line}\n" \
           "- [01:10.00 - 01:20.00] **KG-01**: Ответ &quot;да&quot;.\n- [01:21.00 - 01:22.00] Ещё.\n"
    assert turns(write(tmp_path / "s.md", text)) == [
        ("Интервьюер", "Вопрос первый.", 62.0), ("KG-01", 'Ответ "да".\nЕщё.', 70.0)]


def test_text_with_time_only_lines_gives_starts(tmp_path):
    text = "00:00:05\n\nИ: Вопрос?\n\nР: Ответ.\n\n00:10:00\n\nИ: Второй вопрос?\n"
    assert turns(write(tmp_path / "t.txt", text)) == [
        ("И", "Вопрос?", 5.0), ("Р", "Ответ.", None), ("И", "Второй вопрос?", 600.0)]


def test_timestamped_lines_without_labels_are_refused(tmp_path):
    path = write(tmp_path / "t.txt", "00:00:01 Welcome to the show.\n\n00:00:04 Today we talk.\n")
    with pytest.raises(InputError, match="no turns found"):
        parse_file(path)


def test_zoom_chat_in_the_newer_layout_is_not_a_transcript(tmp_path):
    chat = ("10:02:11 From  Anna Smith  to  Everyone:\n\tHello all\n"
            "10:02:30 From  KZ-04  to  Everyone:\n\tHi\n")
    with pytest.raises(NotATranscript, match="a Zoom chat log"):
        parse_file(write(tmp_path / "chat.txt", chat))


# ---------------------------------------------------------------------------- tables

def test_csv_speaker_table_with_clock_times_and_pause_rows(tmp_path):
    text = ("Speaker,Start,End,Text\nМодератор,00:00:01.5,00:00:03,Начнём?\n"
            "Модератор,00:00:03,00:00:04,(pause 1.00)\nRU-05,0:00:05,0:00:09,\"Да, начнём.\"\n")
    assert turns(write(tmp_path / "t.csv", text)) == [("Модератор", "Начнём?", 1.5),
                                                   ("RU-05", "Да, начнём.", 5.0)]


def test_elan_tab_delimited_export_in_milliseconds(tmp_path):
    text = ("Tier\tBegin Time - msec\tEnd Time - msec\tAnnotation\n"
            "Interviewer\t1200\t3400\tWhere were you?\nKZ-04\t3500\t9000\tIn Almaty.\n")
    assert turns(write(tmp_path / "elan.txt", text)) == [("Interviewer", "Where were you?", 1.2),
                                                      ("KZ-04", "In Almaty.", 3.5)]


def test_table_without_speakers_is_refused(tmp_path):
    path = write(tmp_path / "w.tsv", "start\tend\ttext\n100\t900\tHello.\n")
    with pytest.raises(InputError, match="the table has no speaker column"):
        parse_file(path)


# ---------------------------------------------------------------------------- HTML

def test_word_html_in_a_declared_cyrillic_charset(tmp_path):
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; '
            'charset=windows-1251"><title>Интервью</title><style>p {margin:0}</style></head>'
            '<body><p class=MsoNormal><b>Интервью с KG-02</b></p>'
            '<p class=MsoNormal><b>Интервьюер:</b> Как\nвы считаете?</p>'
            '<p class=MsoNormal><b>KG-02:</b>&nbsp;Я&nbsp;считаю<br>что да.</p></body></html>')
    path = write(tmp_path / "i.htm", page.encode("cp1251"))
    assert turns(path) == [("Интервьюер", "Как вы считаете?", None),
                           ("KG-02", "Я считаю\nчто да.", None)]
    # --encoding wins over the declaration
    assert turns(path, encoding="cp1251")[0][0] == "Интервьюер"


# ---------------------------------------------------------------------------- Word

def _docx(tmp_path: Path, name: str, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    for text in paragraphs:
        paragraph = document.add_paragraph()
        for i, line in enumerate(text.split("\n")):
            run = paragraph.add_run(line)
            if i < text.count("\n"):
                run.add_break()
    path = tmp_path / name
    document.save(str(path))
    return path


def test_teams_docx_one_paragraph_per_turn(tmp_path):
    path = _docx(tmp_path, "teams.docx", [
        "Interview KG-02-20230112_100000-Meeting Recording", "12 January 2023, 10:00am",
        "Anna Smith started transcription",
        "Anna Smith   0:04\nWelcome.\nShall we begin?", "KG-02   1:02:03\nYes.",
        "Anna Smith stopped transcription"])
    assert turns(path) == [("Anna Smith", "Welcome.\nShall we begin?", 4.0),
                           ("KG-02", "Yes.", 3723.0)]


def test_otter_docx_header_and_text_paragraphs(tmp_path):
    path = _docx(tmp_path, "otter.docx", [
        "Interview", "Интервьюер  0:00", "Добрый день.", "Второй абзац.", "RU-05  0:15",
        "Здравствуйте.", "Transcribed by https://otter.ai"])
    assert turns(path) == [("Интервьюер", "Добрый день.\n\nВторой абзац.", 0.0),
                           ("RU-05", "Здравствуйте.", 15.0)]


def test_google_meet_docx_notes_tab_time_marks_and_footer(tmp_path):
    path = _docx(tmp_path, "meet.docx", [
        "📝 Notes", "Summary", "Anna Smith: proposed to meet again.", "📖 Transcript",
        "Interview - Transcript", "00:00:00", "Anna Smith: Hello.", "KZ-04: Hi.",
        "00:05:00", "Anna Smith: Next question.", "Transcription ended after 00:07:12",
        "This editable transcript was computer generated and might contain errors."])
    assert turns(path) == [("Anna Smith", "Hello.", 0.0), ("KZ-04", "Hi.", None),
                           ("Anna Smith", "Next question.", 300.0)]


@pytest.mark.parametrize("line, dropped", [
    ("(12 seconds pause)", True), ("(пауза 3 сек)", True), ("{END}", True),
    ("Anna Smith stopped transcription", True), ("Transcribed by https://otter.ai", True),
    ("The end.", False), ("We stopped transcription.", False), ("(Shuffling of papers)", False)])
def test_what_is_not_speech(tmp_path, line, dropped):
    path = write(tmp_path / "t.txt", f"Interviewer: Hello.\n\n{line}\n")
    text = parse_file(path).turns[0].text
    assert text == ("Hello." if dropped else f"Hello.\n\n{line}")
