"""Personal-data detection, pseudonymization, `coder scan|anonymize` and the import gate.

Every name here is invented (the key file lists one public figure, "Tokayev", as allowed).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CODEBOOK, CORPUS, dump_db

from coder.anonymize import (
    Identifier, Identifiers, PiiFound, anonymize_paths, check_output, load_identifiers,
    pseudonymize_text, scan_paths, scan_text,
)
from coder.errors import CoderError, InputError

PII = Path(__file__).parent / "fixtures" / "pii"
KEY = PII / "identifiers.yaml"

SEEDED_TXT = [  # (line, kind, text) of everything in seeded.txt
    (1, "name", "Kulanbayev"),
    (3, "email", "y.kulanbayev@example.kz"),
    (7, "phone", "+7 701 555 12 34"),
    (7, "phone", "8 (727) 250-12-34"),
    (11, "url", "https://blog.example.org/notes"),
    (11, "handle", "@steppe_notes"),
    (15, "id_number", "N12345678"),
    (15, "id_number", "870412300123"),
    (19, "name", "Y. T. Kulanbayev"),
    (19, "name", "Anna Maria Petrova"),
    (19, "name", "Anna"),
    (20, "name", "Marat Oskenbayev"),
]


def seeded(tmp_path: Path, name: str = "KZ-07.txt", source: str = "seeded.txt") -> Path:
    folder = tmp_path / "raw"
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(PII / source, folder / name))


def triples(findings):
    return [(f.line, f.kind, f.text) for f in findings]


# ---------------------------------------------------------------------------- detection

def test_every_seeded_item_is_found_on_its_line():
    findings = scan_paths([PII / "seeded.txt"], KEY)
    assert triples(findings) == SEEDED_TXT
    assert all(f.file == str(PII / "seeded.txt") for f in findings)
    assert [f.column for f in findings[:3]] == [31, 45, 24]
    assert [f.replacement for f in findings if f.kind == "name"] == [
        "KZ-07", "KZ-07", "RU-05", "RU-06", "[PERSON-1]"]


def test_captions_timestamps_and_cue_ids_are_not_flagged_but_cue_text_is():
    findings = scan_paths([PII / "seeded.vtt"], KEY)
    assert triples(findings) == [(5, "name", "Petrova"), (9, "phone", "555-0199")]


def test_without_identifiers_only_contact_details_and_numbers_count():
    kinds = {f.kind for f in scan_paths([PII / "seeded.txt"])}
    assert kinds == {"email", "phone", "url", "handle", "id_number"}


@pytest.mark.parametrize("text, kind", [
    ("write to anna_p+work@mail.example.com please", "email"),
    ("ring +44 20 7946 0958 tomorrow", "phone"),
    ("ring 8-701-555-12-34 tomorrow", "phone"),
    ("ring 87015551234 tomorrow", "phone"),
    ("see www.example.net/page.", "url"),
    ("see t.me/steppe_notes", "url"),
    ("follow @steppe_notes", "handle"),
    ("passport AB1234567", "id_number"),
    ("IBAN KZ86 125K ZT50 0410 0100", "id_number"),
    ("card 4111 1111 1111 1111", "id_number"),
    ("ORCID 0000-0002-1825-009X", "id_number"),
])
def test_each_rule(text, kind):
    assert [f.kind for f in scan_text(text)] == [kind]


@pytest.mark.parametrize("text", [
    "In 2022 and 2023, between 1991-2022, on 2023-01-20 and 20.01.2023 or 01/20/2023.",
    "00:01:02.500 --> 00:01:09.250 and 00:00:01,894 --> 00:00:09,065 at 1:02:03",
    "Segments 12, 14 and 16; 95% agreed, 3.5 times more, 1 000 000 people, 2 500 troops.",
    "In 2022 15 people, 3.5 2010, 15 20 25 30, version 3.14159265.",
    "KZ-01, RU-03, AM-01, TJ-01: the CSTO, Kazakhstan, Russia, Eurasian integration, S-400.",
    "Teams cues f310ec31-cb50-4856-a98a-c996e6b1e7ad/73-0, 12345678-cb50-4856-a98a-c996e6b1e7ad/1-0",
    "e.g. the U.S. and i.e. a.m. p.m. etc. Dr. Smith: Interviewer: Q: I:",
])
def test_ordinary_transcript_content_is_not_flagged(text):
    assert scan_text(text, identifiers=load_identifiers(KEY)) == []


def test_the_sample_corpus_and_codebook_are_clean():
    key = load_identifiers(KEY)
    assert scan_paths([CORPUS], key) == []
    assert scan_text((CORPUS / "participants.csv").read_text(), identifiers=key) == []
    assert scan_text(CODEBOOK.read_text(encoding="utf-8"), identifiers=key) == []


def test_allowed_public_figure_is_never_flagged():
    key = load_identifiers(KEY)
    text = "Tokayev spoke; Tokayev's decree; President Tokayevym was quoted."
    assert scan_text(text, identifiers=key) == []
    # a listed participant who shares the public figure's stem still is
    key = Identifiers([Identifier("Tokayev", allowed=True), Identifier("Dana Tokayeva", "P-1")])
    assert triples(scan_text("Tokayev met Dana Tokayeva and Tokayeva left.", identifiers=key)
                   ) == [(1, "name", "Dana Tokayeva"), (1, "name", "Tokayeva")]


def test_overlapping_names_take_the_longest_match():
    new, made = pseudonymize_text("Anna Maria Petrova met Anna, then Petrova left.",
                                  load_identifiers(KEY))
    assert new == "RU-05 met RU-06, then RU-05 left."
    assert [r.text for r in made] == ["Anna Maria Petrova", "Anna", "Petrova"]


@pytest.mark.parametrize("text, expected", [
    ("Kulanbayeva", "KZ-07"), ("Kulanbayevym", "KZ-07"), ("Kulanbayevu", "KZ-07"),
    ("Kulanbayev's", "KZ-07's"), ("KULANBAYEV", "KZ-07"), ("Y.T. Kulanbayev", "KZ-07"),
    ("Y. T. Kulanbayev", "KZ-07"), ("Y. Kulanbayev", "KZ-07"), ("Yerlan Kulanbayev", "KZ-07"),
    ("Kulanbayev Yerlan", "KZ-07"), ("Petrovoy", "RU-05"), ("Petrovu", "RU-05"),
    ("Kulanbayevsky", "Kulanbayevsky"), ("Annabel", "Annabel"),
])
def test_variants_and_inflections(text, expected):
    new, _ = pseudonymize_text(f"I met {text} there.", load_identifiers(KEY))
    assert new == f"I met {expected} there."


def test_csv_key_file_with_variants_and_allowed_column():
    key = load_identifiers(PII / "identifiers.csv")
    assert [e.name for e in key.entries if e.allowed] == ["Tokayev"]
    new, _ = pseudonymize_text("Куланбаев и Куланбаевым; Tokayev.", key)
    assert new == "KZ-07 и KZ-07; Tokayev."


def test_bad_key_file_names_its_line(tmp_path):
    bad = tmp_path / "key.csv"
    bad.write_text("name,pseudonym\nAnna,RU-06\nAnna,RU-07\n")
    with pytest.raises(InputError) as info:
        load_identifiers(bad)
    assert str(info.value) == (f"{bad}:3: 'Anna' listed twice with different pseudonyms "
                               "(also line 2) — keep one entry per name")
    bad = tmp_path / "key.yaml"
    bad.write_text("Anna: RU-06\nPetrova: [RU-05]\n")
    with pytest.raises(InputError) as info:
        load_identifiers(bad)
    assert str(info.value).startswith(f"{bad}:2: 'Petrova': expected a pseudonym — ")
    with pytest.raises(InputError, match="no such identifiers file"):
        load_identifiers(tmp_path / "missing.yaml")


def test_check_output_raises_for_exports():
    check_output("KZ-01 said the CSTO acted quickly.", source="quotes.md")
    with pytest.raises(PiiFound) as info:
        check_output("Quote from Kulanbayev: call 555-0199", source="quotes.md", identifiers=KEY)
    lines = str(info.value).splitlines()
    assert lines[:2] == ["quotes.md:1: name 'Kulanbayev'", "quotes.md:1: phone '555-0199'"]


def test_named_entities_only_on_request(monkeypatch):
    from coder.anonymize import detect

    class Entity:
        def __init__(self, text, start, label="PERSON"):
            self.text, self.start_char, self.label_ = text, start, label

    class Doc:
        def __init__(self, text):
            at = text.find("Bolat Serikuly")
            self.ents = [Entity("Bolat Serikuly", at)] if at >= 0 else []

    text = "We met Bolat Serikuly in Astana."
    monkeypatch.setattr(detect, "_NER_CACHE", [Doc])
    assert scan_text(text) == []
    assert triples(scan_text(text, ner=True)) == [(1, "entity", "Bolat Serikuly")]
    assert pseudonymize_text(text, None, ner=True)[0] == "We met [PERSON-1] in Astana."
    monkeypatch.setattr(detect, "_NER_CACHE", [None])
    with pytest.raises(CoderError, match="needs spaCy and a model"):
        scan_text(text, ner=True)


def test_library_import_loads_no_heavy_or_optional_modules():
    code = ("import sys, coder.anonymize; "
            "print(sorted(m for m in ('spacy', 'docx', 'ruamel', 'pandas', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------- anonymize

def test_consistent_pseudonyms_across_files(tmp_path):
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    (raw / "KZ-07.txt").write_text("Interviewer: Hello Marat Oskenbayev and Mr Kulanbayev.\n\n"
                                   "KZ-07: Hello.\n")
    (raw / "sub" / "KZ-08.md").write_text("**Interviewer:** Did Oskenbayev call?\n\n"
                                          "**KZ-08:** Kulanbayeva did, from 555-0199.\n")
    report = anonymize_paths([raw], KEY, tmp_path / "anon")
    assert (tmp_path / "anon" / "KZ-07.txt").read_text() == (
        "Interviewer: Hello [PERSON-1] and Mr KZ-07.\n\nKZ-07: Hello.\n")
    assert (tmp_path / "anon" / "sub" / "KZ-08.md").read_text() == (
        "**Interviewer:** Did [PERSON-1] call?\n\n**KZ-08:** KZ-07 did, from [PHONE].\n")
    assert report.remaining == []
    assert [(Path(r.file).name, r.line, r.text) for r in report.replacements] == [
        ("KZ-07.txt", 1, "Marat Oskenbayev"), ("KZ-07.txt", 1, "Kulanbayev"),
        ("KZ-08.md", 1, "Oskenbayev"), ("KZ-08.md", 3, "Kulanbayeva"), ("KZ-08.md", 3, "555-0199")]


def test_anonymize_cli_then_import_passes_the_gate(cli, db_path, tmp_path):
    src = seeded(tmp_path)
    shutil.copy(PII / "seeded.vtt", src.parent / "RU-05.vtt")
    out, report = tmp_path / "anon", tmp_path / "replacements.csv"
    result = cli("anonymize", src.parent, "--identifiers", KEY, "--out", out, "--report", report)
    assert result.exit_code == 0, result.output
    assert f"{src}:7:24: phone: '+7 701 555 12 34' -> '[PHONE]'" in result.stdout
    assert "wrote 2 file(s) to" in result.output
    rows = list(csv.DictReader(io.StringIO(report.read_text())))
    assert len(rows) == len(SEEDED_TXT) + 2
    assert rows[0] == {"file": str(src), "line": "1", "column": "31", "kind": "name",
                       "text": "Kulanbayev", "replacement": "KZ-07"}
    vtt = (out / "RU-05.vtt").read_text()
    assert "00:00:05.000 --> 00:00:09.250" in vtt and "Ms RU-05?" in vtt
    assert (src.read_bytes() == (PII / "seeded.txt").read_bytes())  # originals untouched
    result = cli("import", out, "--identifiers", KEY)
    assert result.exit_code == 0, result.output
    assert cli("scan", out, "--identifiers", KEY).exit_code == 0


def test_anonymize_refuses_to_write_into_an_input_folder(cli, tmp_path):
    src = seeded(tmp_path)
    for out in (src.parent, src.parent / "anon"):
        result = cli("anonymize", src.parent, "--identifiers", KEY, "--out", out)
        assert result.exit_code == 1
        assert "the input folder" in result.output and "choose an output folder" in result.output
    result = cli("anonymize", src, "--identifiers", KEY, "--out", src.parent)
    assert result.exit_code == 1
    out = tmp_path / "anon"
    result = cli("anonymize", src, "--identifiers", KEY, "--out", out, "--report",
                 out / "r.csv")
    assert result.exit_code == 1 and "keep the replacement report" in result.output
    assert not out.exists()
    assert sorted(p.name for p in src.parent.iterdir()) == ["KZ-07.txt"]


def test_names_in_file_names(cli, tmp_path):
    src = seeded(tmp_path, name="Kulanbayev interview.txt")
    result = cli("import", src, "--identifiers", KEY)
    assert result.exit_code == 1
    assert f"{src}: name 'Kulanbayev' (in the file name)" in result.output
    result = cli("anonymize", src, "--identifiers", KEY, "--out", tmp_path / "anon")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "anon" / "KZ-07 interview.txt").exists()


def test_word_files_keep_their_formatting(cli, tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    first = document.add_paragraph()
    first.add_run("Interviewer:").bold = True
    first.add_run(" Good morning, Mr Kulan")
    first.add_run("bayev").italic = True
    first.add_run(", is y.kulanbayev@example.kz still yours?")
    second = document.add_paragraph()
    second.add_run("KZ-07:").bold = True
    second.add_run(" It is.")
    raw = tmp_path / "raw"
    raw.mkdir()
    document.save(raw / "KZ-07.docx")
    assert triples(scan_paths([raw], KEY)) == [
        (1, "name", "Kulanbayev"), (1, "email", "y.kulanbayev@example.kz")]
    anonymize_paths([raw], KEY, tmp_path / "anon")
    copy = docx.Document(tmp_path / "anon" / "KZ-07.docx")
    paragraph = copy.paragraphs[0]
    assert paragraph.text == "Interviewer: Good morning, Mr KZ-07, is [EMAIL] still yours?"
    assert paragraph.runs[0].bold and paragraph.runs[0].text == "Interviewer:"
    assert cli("import", tmp_path / "anon", "--identifiers", KEY).exit_code == 0


# ---------------------------------------------------------------------------- import gate

def test_import_of_a_seeded_transcript_fails_and_leaves_the_database(cli, db_path, tmp_path):
    good = tmp_path / "good" / "KZ-01.txt"
    good.parent.mkdir()
    good.write_text("Interviewer: What happened in January?\n\nKZ-01: Power changed hands.\n")
    assert cli("import", good).exit_code == 0
    before = dump_db(db_path)
    src = seeded(tmp_path)
    result = cli("import", good, src, "--identifiers", KEY)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"error: {src}:1: name 'Kulanbayev'"
    assert lines[1:len(SEEDED_TXT)] == [f"{src}:{line}: {kind} {text!r}"
                                        for line, kind, text in SEEDED_TXT[1:]]
    assert lines[-1].startswith(f"personal data found ({len(SEEDED_TXT)} item(s) in 1 file(s))")
    assert "coder anonymize" in lines[-1] and "--allow-pii" in lines[-1]
    assert dump_db(db_path) == before
    # without the key file, the contact details alone still stop it
    result = cli("import", src)
    assert result.exit_code == 1 and f"error: {src}:3: email 'y.kulanbayev@example.kz'" in (
        result.output)
    assert dump_db(db_path) == before
    result = cli("import", src, "--allow-pii")
    assert result.exit_code == 0, result.output
    assert "imported: KZ-07" in result.output


def test_import_gate_scans_metadata_and_keeps_the_key_file_out(cli, db_path, tmp_path):
    src = seeded(tmp_path, source="seeded.vtt", name="RU-05.vtt")
    anonymize_paths([src], KEY, tmp_path / "anon")
    meta = tmp_path / "participants.csv"
    meta.write_text("transcript,country,phone\nRU-05,Russia,+7 495 555 01 99\n")
    result = cli("import", tmp_path / "anon", "--meta", meta)
    assert result.exit_code == 1
    assert f"error: {meta}:2: phone '+7 495 555 01 99'" in result.output
    key_inside = tmp_path / "anon" / "key.txt"
    key_inside.write_text("Anna: RU-06\n")
    result = cli("import", tmp_path / "anon", "--identifiers", key_inside)
    assert result.exit_code == 1
    assert "the identifiers file is among the files to import" in result.output
    assert not db_path.exists()


def test_import_transcripts_library_gate(project, tmp_path):
    from coder.transcripts import import_transcripts

    src = seeded(tmp_path)
    with pytest.raises(PiiFound) as info:
        import_transcripts(project, [src], identifiers=KEY)
    assert triples(info.value.findings) == SEEDED_TXT
    report = import_transcripts(project, [src], allow_pii=True)
    assert [t.id for t in report.transcripts] == ["KZ-07"]


# ---------------------------------------------------------------------------- coder scan

def test_scan_cli_table_json_and_exit_codes(cli, tmp_path):
    src = seeded(tmp_path)
    result = cli("scan", src, "--identifiers", KEY)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{src}:{f.line}:{f.column}: {f.kind}: {f.text!r}"
                                          for f in scan_paths([src], KEY)]
    assert "error: personal data found: 12 item(s) in 1 of 1 file(s) — " in result.output
    result = cli("scan", src, "--identifiers", KEY, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data == {"files": 1, "findings": [f.to_dict() for f in scan_paths([src], KEY)]}
    result = cli("scan", CORPUS, "--identifiers", KEY)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    # the 11 transcripts and participants.csv (.csv may hold a speaker table)
    assert "no personal data found in 12 file(s)" in result.output
