"""Transcript parsers: one test group per format, then every bad input's error message."""

from __future__ import annotations

import codecs
import hashlib
import shutil
from pathlib import Path

import pytest

from coder.errors import InputError
from coder.importers import SUFFIXES, parse_file
from coder.importers.text import split_label

from conftest import write

FORMATS = Path(__file__).parent / "fixtures" / "formats"


def speakers(parsed) -> list[str]:
    return [t.speaker for t in parsed.turns]


def error_text(path: Path, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        parse_file(path, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------- registry

def test_suffixes():
    assert SUFFIXES == {".txt", ".md", ".markdown", ".docx", ".vtt", ".srt", ".json", ".csv",
                        ".tsv", ".html", ".htm"}


def test_sha256_of_bytes():
    path = FORMATS / "labelled.txt"
    assert parse_file(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("fixture, suffix, fmt", [
    ("zoom.vtt", ".txt", "vtt"),
    ("interview.srt", ".txt", "srt"),
    ("otter.txt", ".dat", "otter"),
    ("interview.md", ".txt", "markdown"),
    ("labelled.txt", ".transcript", "text"),
])
def test_detected_by_content_not_suffix(tmp_path, fixture, suffix, fmt):
    path = tmp_path / ("renamed" + suffix)
    shutil.copy(FORMATS / fixture, path)
    assert parse_file(path).format == fmt


# ---------------------------------------------------------------------------- speaker labels

@pytest.mark.parametrize("line, expected", [
    ("Interviewer: Hello", ("Interviewer", "Hello")),
    ("KZ-01: Yes.", ("KZ-01", "Yes.")),
    ("Q: Why?", ("Q", "Why?")),
    ("Dr. Smith: Indeed", ("Dr. Smith", "Indeed")),
    ("**Interviewer:** Hello", ("Interviewer", "Hello")),
    ("**RU-02**: Hello", ("RU-02", "Hello")),
    ("Speaker 2:", ("Speaker 2", "")),
    ("Maria de Souza: Hi", ("Maria de Souza", "Hi")),
    ("Note: this is not a speaker", None),
    ("In my view: yes", None),
    ("Well, as I said: no", None),
    ("See https://example.org: it says", None),
    ("10:30 we met", None),
    ("A very long label that is clearly not a name at all: x", None),
])
def test_label_rule(line, expected):
    assert split_label(line) == expected


# ---------------------------------------------------------------------------- text

def test_text_turns_and_continuation():
    parsed = parse_file(FORMATS / "labelled.txt")
    assert parsed.format == "text"
    assert speakers(parsed) == ["Interviewer", "KZ-01", "Interviewer", "Dr. Smith", "Q", "KZ-01"]
    kz = parsed.turns[1]
    # a label-less paragraph ("Note: …" is not a label) continues the turn after a blank line
    assert kz.text == ("It was, first of all, a domestic crisis.\nThe protests began over gas "
                       "prices.\n\nNote: the participant asked that the names of officials "
                       "stay out of the record.")
    assert kz.line == 6
    assert parsed.turns[-1].text == "In my view: yes, it was."
    assert all(t.start is None and t.end is None for t in parsed.turns)
    assert parsed.meta == {}


def test_same_speaker_paragraphs_merge(tmp_path):
    path = write(tmp_path / "t.txt", "Q: One?\n\nA: First.\n\nA: Second.\n\nQ: Two?\n")
    parsed = parse_file(path)
    assert speakers(parsed) == ["Q", "A", "Q"]
    assert parsed.turns[1].text == "First.\n\nSecond."


@pytest.mark.parametrize("encode", [
    lambda s: codecs.BOM_UTF8 + s.encode("utf-8"),
    lambda s: s.replace("\n", "\r\n").encode("utf-8"),
    lambda s: codecs.BOM_UTF16_LE + s.replace("\n", "\r\n").encode("utf-16-le"),
], ids=["utf8-bom", "crlf", "utf16le-bom"])
def test_encodings_and_line_ends(tmp_path, encode):
    source = (FORMATS / "labelled.txt").read_text(encoding="utf-8")
    plain = parse_file(FORMATS / "labelled.txt")
    parsed = parse_file(write(tmp_path / "t.txt", encode(source)))
    assert [(t.speaker, t.text, t.line) for t in parsed.turns] == \
           [(t.speaker, t.text, t.line) for t in plain.turns]
    assert not any("\r" in t.text or "\ufeff" in t.text for t in parsed.turns)
    assert parsed.turns[0].speaker == "Interviewer"  # no BOM glued to the first label


def test_text_is_nfc(tmp_path):
    parsed = parse_file(write(tmp_path / "t.txt", "Q: Cafe\u0301?\n\nA: Oui.\n"))
    assert parsed.turns[0].text == "Caf\u00e9?"


def test_explicit_encoding(tmp_path):
    path = write(tmp_path / "t.txt", "Q: Привет?\n\nA: Да.\n".encode("cp1251"))
    assert parse_file(path, encoding="cp1251").turns[0].text == "Привет?"


# ---------------------------------------------------------------------------- otter

def test_otter():
    parsed = parse_file(FORMATS / "otter.txt")
    assert parsed.format == "otter"
    assert speakers(parsed) == ["Interviewer", "Aigerim Sadykova", "Interviewer",
                                "Aigerim Sadykova"]
    assert [t.start for t in parsed.turns] == [2.0, 23.0, 3598.0, 3723.0]  # 1:02:03 = 3723 s
    assert all(t.end is None for t in parsed.turns)
    # a text line ending in a time is not a header; the Otter footer is dropped
    assert parsed.turns[1].text == "Yes, perfectly.\nWe met at 10:30\nthat day."
    assert parsed.turns[3].text == "The mission ended quickly.\n\nThat is all from me."
    assert [t.line for t in parsed.turns] == [1, 4, 9, 12]


# ---------------------------------------------------------------------------- markdown

def test_markdown_front_matter_and_turns():
    parsed = parse_file(FORMATS / "interview.md")
    assert parsed.format == "markdown"
    assert parsed.meta == {"id": "RU-02", "participant": "RU-02", "interviewer": "Interviewer",
                           "country": "Russia", "date": "2022-04-11", "languages": "ru, en",
                           "anonymized": "true"}
    assert speakers(parsed) == ["Interviewer", "RU-02", "Interviewer", "RU-02"]
    assert parsed.turns[1].text == "Collective defence, on paper.\n\nIn practice it is a club of regimes."
    assert not any("#" in t.text or "**" in t.text for t in parsed.turns)
    assert [t.line for t in parsed.turns] == [13, 15, 21, 23]


def test_markdown_without_front_matter(tmp_path):
    parsed = parse_file(write(tmp_path / "x.md", "# Title\n\n**Q:** Hi?\n\n**A:** Hello.\n"))
    assert parsed.meta == {}
    assert [(t.speaker, t.text) for t in parsed.turns] == [("Q", "Hi?"), ("A", "Hello.")]


# ---------------------------------------------------------------------------- docx

def make_docx(path: Path, paragraphs: list[tuple[str, str]]) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Interview KZ-03", level=1)
    for label, text in paragraphs:
        paragraph = document.add_paragraph()
        if label:
            paragraph.add_run(label).bold = True
        paragraph.add_run(text)
    document.save(path)
    return path


def test_docx(tmp_path):
    path = make_docx(tmp_path / "kz.docx", [
        ("Interviewer:", " What happened on 5 January?"),
        ("KZ-03:", " The president asked for help."),
        ("", "It came within a day."),
        ("KZ-03", " Nobody expected that."),     # bold label without a colon
        ("Interviewer: ", "Thank you."),
    ])
    parsed = parse_file(path)
    assert parsed.format == "docx"
    assert speakers(parsed) == ["Interviewer", "KZ-03", "Interviewer"]
    assert parsed.turns[1].text == ("The president asked for help.\n\nIt came within a day."
                                    "\n\nNobody expected that.")
    assert [t.line for t in parsed.turns] == [2, 3, 6]  # paragraph index + 1 (heading is 1)


def test_docx_detected_without_suffix(tmp_path):
    path = make_docx(tmp_path / "kz.bin", [("Q: ", "Hi?"), ("A: ", "Hello.")])
    assert parse_file(path).format == "docx"


# ---------------------------------------------------------------------------- captions

def test_zoom_vtt_cues_merge():
    parsed = parse_file(FORMATS / "zoom.vtt")
    assert parsed.format == "vtt"
    assert speakers(parsed) == ["Interviewer", "KZ-02", "Interviewer"]
    first, second = parsed.turns[:2]
    # cue 2 has no label: it continues cue 1; first start, last end
    assert (first.start, first.end) == (1.0, 6.25)
    assert first.text == "Welcome, and thank you for taking the time today."
    # two labelled cues by the same speaker form one turn
    assert (second.start, second.end) == (7.0, 12.8)
    assert second.text == "Glad to be here. The request came on the fifth of January."
    assert isinstance(first.start, float) and first.line == 5


def test_teams_vtt_voice_spans():
    parsed = parse_file(FORMATS / "teams.vtt")
    assert speakers(parsed) == ["Interviewer", "Smith, Anna", "Interviewer"]
    anna = parsed.turns[1]
    assert anna.text == "Yes. I think the mission was symbolic above all."
    assert (anna.start, anna.end) == (3.2, 7.75)
    assert parsed.turns[2].start == 62.0


def test_srt():
    parsed = parse_file(FORMATS / "interview.srt")
    assert parsed.format == "srt"
    assert speakers(parsed) == ["Interviewer", "BY-01", "Interviewer"]
    assert parsed.turns[1].text == "About two weeks. Less than that, in fact."  # tags dropped
    assert [(t.start, t.end) for t in parsed.turns] == [(1.0, 3.0), (3.5, 8.4), (3600.0, 3602.5)]


def test_caption_without_any_label(tmp_path):
    path = write(tmp_path / "c.srt", "1\n00:00:01,000 --> 00:00:02,000\nhello\n")
    assert error_text(path) == (f"{path}:3: no cue has a speaker label — give the cues speaker "
                                "labels: `Name: text` (Zoom), `<v Name>text</v>` (Teams) or "
                                "`[SPEAKER_00]: text` (WhisperX with --diarize)")


# ---------------------------------------------------------------------------- bad input

def test_empty_file(tmp_path):
    path = write(tmp_path / "e.txt", "  \n\n")
    assert error_text(path) == f"{path}: empty file — export the transcript again, or remove the file"


def test_binary_file(tmp_path):
    path = write(tmp_path / "b.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    assert error_text(path) == (f"{path}: binary file, not a transcript — give a .txt, .md, "
                                ".docx, .vtt or .srt transcript")


def test_utf16_without_bom(tmp_path):
    path = write(tmp_path / "u.txt", "Q: Hi?\n\nA: Hello.\n".encode("utf-16-le"))
    assert "UTF-16 text without a byte-order mark" in error_text(path)
    assert "--encoding utf-16-le" in error_text(path)


def test_undecodable_bytes_name_the_line_and_the_likely_codec(tmp_path):
    answer = "Интервьюер: Расскажите о событиях января."
    path = write(tmp_path / "c.txt", "Q: Hi?\n\n".encode() + answer.encode("cp1251") + b"\n")
    assert error_text(path) == (f"{path}:3: undecodable byte 0xc8 (not UTF-8) — it looks like "
                                "cp1251: pass --encoding cp1251, or re-save the file as UTF-8")
    assert parse_file(path, encoding="cp1251").turns[1].speaker == "Интервьюер"


def test_undecodable_bytes_without_a_guess(tmp_path):
    path = write(tmp_path / "c.txt", b"Q: Hi?\n\nA: \xff\xfe\xfa\n")
    assert error_text(path).startswith(f"{path}:3: undecodable byte 0xff (not UTF-8) — ")


def test_no_turns_found(tmp_path):
    path = write(tmp_path / "n.txt", "Just some prose without any speaker.\n\nMore prose.\n")
    assert error_text(path) == (f"{path}: no turns found (read as text) — start each turn with a "
                                "speaker label, e.g. `Interviewer: …` and `KZ-01: …`")


def test_malformed_front_matter_names_line(tmp_path):
    path = write(tmp_path / "m.md", "---\nid: RU-03\ncountry: [Russia\n---\n\nQ: Hi?\n")
    message = error_text(path)
    assert message.startswith(f"{path}:3: malformed front matter: ")  # the `[Russia` line
    assert message.endswith("— fix the YAML between the `---` lines (`key: value` per line)")


def test_duplicate_front_matter_key(tmp_path):
    path = write(tmp_path / "m.md", "---\nid: RU-03\ncountry: Russia\nid: RU-04\n---\nQ: Hi?\n")
    assert error_text(path).startswith(f"{path}:4: malformed front matter: found duplicate key")


def test_unclosed_front_matter(tmp_path):
    path = write(tmp_path / "m.md", "---\nid: RU-03\n\nQ: Hi?\n")
    assert error_text(path) == (f"{path}:1: front matter is not closed — end it with a line "
                                "holding only `---`")


def test_unknown_format(tmp_path):
    path = write(tmp_path / "notes.rtf", "{\\rtf1\\ansi Some text}\n")
    assert error_text(path) == (f"{path}: unknown format — give a .txt, .md, .docx, .vtt, .srt, "
                                ".json, .csv or .html transcript with speaker labels "
                                "(`Name: text`)")


def test_corrupt_docx(tmp_path):
    path = write(tmp_path / "broken.docx", b"PK\x03\x04 this is not really a zip file")
    assert error_text(path) == (f"{path}: not a valid Word file — open it in Word or LibreOffice "
                                "and save it again as .docx")


def test_malformed_vtt_timing(tmp_path):
    path = write(tmp_path / "z.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nQ: Hi?\n")
    message = error_text(path)
    assert message.startswith(f"{path}:3: malformed cue timing — ")
    assert "00:00:01.000 --> 00:00:04.000" in message


def test_vtt_suffix_without_header(tmp_path):
    path = write(tmp_path / "z.vtt", "Q: Hi?\n")
    assert error_text(path).startswith(f"{path}: not a valid WebVTT file — start the file with")


def test_pdf_is_binary(tmp_path):
    path = write(tmp_path / "paper.txt", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    assert error_text(path) == (f"{path}: binary file, not a transcript — export it as .docx or "
                                "plain text (.txt) and import that")


def test_nested_front_matter_names_its_line(tmp_path):
    path = write(tmp_path / "m.md", "---\nid: X\nmeta:\n  a: 1\n---\nQ: Hi?\n")
    assert error_text(path) == (f"{path}:3: front matter key 'meta' holds a nested mapping — "
                                "give each attribute as a plain `key: value` line")


LINE_FORMS = ["Interviewer: Why did it happen?", "KZ-01: Because of the transfer.",
              "Speaker 1 (00:03:18): Rev's turn", "S01: [00:00:12] noScribe's turn",
              "**Emma** [0:00] bold without a colon", "**Anna:** bold label",
              "[SPEAKER_00]: WhisperX", "- [00:02.07 - 00:02.51] **Speaker 1**: bullet",
              "00:00:11", "[00:01:02] Name: timed", "(12 seconds pause)", "{END}",
              "Note: not a speaker", "In my view: not a label either", "just a line",
              "  indented continuation", "- Note: a list item", "Q: short label",
              "Интервьюер: по-русски", "1. numbered line", "Dr. Smith: Hello", "", "   ",
              "KZ-01:", "a line with [00:10] a time mark", "Name:no space after colon"]


def test_the_one_pass_text_reader_gives_the_turns_of_the_paragraph_reader():
    """`turns_from_text` (the fast path of plain-text import) and
    `turns_from_paragraphs(paragraphs(…))` (shared with Word and HTML) agree on every line
    form the readers know, in any order, and on every real plain-text export."""
    from hypothesis import given, settings, strategies as st

    from coder.importers import text as reader

    def same(content: str) -> None:
        assert reader.turns_from_text(content) == \
            reader.turns_from_paragraphs(reader.paragraphs(content)), content

    @settings(max_examples=400, deadline=None)
    @given(st.lists(st.sampled_from(LINE_FORMS), max_size=30))
    def check(lines):
        same("\n".join(lines))

    check()
    real = Path(__file__).resolve().parents[1].parent / "shared" / "real-transcripts" / "files"
    texts = [p for p in real.rglob("*") if p.suffix.lower() in (".txt", ".md")]
    assert texts, f"no real plain-text transcripts under {real}"
    for path in texts:
        same(path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n"))
