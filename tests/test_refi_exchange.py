"""REFI-QDA exchange with other tools' conventions: NVivo's UTF-16 positions on export, the
position unit read from how selections fit the text, real QualCoder / qc / MAXQDA samples,
and re-imports that must map codings exactly or refuse."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conftest import CODEBOOK, dump_db, q

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "refi" / "samples"
QUALCODER = SAMPLES / "qualcoder-4.0beta_mannheimer.qdpx"
QC = SAMPLES / "qc-1.3.2_demo.qdpx"
MAXQDA = SAMPLES / "maxqda-24.7.0_icls-themes.qdpx"
NS = "urn:QDA-XML:project:1.0"

TURNS = ["Сначала 😀 было тихо, потом 🇰🇿 всё изменилось.",
         "Власть перешла к одному центру 🙂 за неделю.",
         "Да 👍 и миссия ушла быстро."]
EMOJI = (f"Interviewer: Что изменилось? 🤔\n\nUA-01: {TURNS[0]}\n\n"
         f"Interviewer: А дальше?\n\nUA-01: {TURNS[1]}\n\n"
         f"Interviewer: И ОДКБ?\n\nUA-01: {TURNS[2]}\n")


def selections(path: Path) -> list[dict]:
    """Every PlainTextSelection of an archive with its source's text."""
    from lxml import etree

    found = []
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("project.qde"))
        for source in root.iterfind(f".//{{{NS}}}TextSource"):
            name = source.get("plainTextPath").removeprefix("internal://")
            text = archive.read(f"sources/{name}").decode("utf-8")
            for sel in source.iterfind(f"{{{NS}}}PlainTextSelection"):
                found.append({"text": text, "start": int(sel.get("startPosition")),
                              "end": int(sel.get("endPosition")), "user": sel.get("creatingUser"),
                              "memo": sel.findtext(f"{{{NS}}}Description")})
    return found


@pytest.fixture
def emoji_project(cli, tmp_path) -> Path:
    transcript = tmp_path / "UA-01.txt"
    transcript.write_text(EMOJI, encoding="utf-8")
    codings = tmp_path / "codings.csv"
    codings.write_text("transcript,segment,code,memo\nUA-01,2,power_transfer,😤 memo\n"
                       "UA-01,4,power_transfer,\nUA-01,6,csto_efficacy,\n", encoding="utf-8")
    for args in (["import", transcript], ["codebook", "load", CODEBOOK],
                 ["codings", "import", "--new-coder", codings, "--coder", "alice"]):
        result = cli(*args)
        assert result.exit_code == 0, result.output
    return tmp_path


def nvivo_numbers(text: str, phrase: str) -> tuple[int, int]:
    """Where NVivo puts ``phrase``: UTF-16 code units from the start, end exclusive (measured
    on NVivo 12.6's own exports, ../shared/refi/NOTES.md §3)."""
    start = text.index(phrase)
    units = len(text[:start].encode("utf-16-le")) // 2
    return units, units + len(phrase.encode("utf-16-le")) // 2


def test_utf16_positions_are_nvivos_numbers(cli, emoji_project, tmp_path):
    out = tmp_path / "nvivo.qdpx"
    result = cli("export", "qdpx", out, "--positions", "utf16")
    assert result.exit_code == 0, result.output
    assert "Basic Multilingual Plane" not in result.output
    found = sorted(selections(out), key=lambda s: s["start"])
    assert [(s["start"], s["end"]) for s in found] == [nvivo_numbers(EMOJI, t) for t in TURNS]
    # the same positions by hand: 🤔 😀 🙂 and each of the flag's two regional indicators
    # are two units each, Cyrillic letters one
    assert found[0]["start"] == EMOJI.index(TURNS[0]) + 1
    assert found[2]["start"] == EMOJI.index(TURNS[2]) + 5
    assert found[0]["memo"] == "😤 memo"

    result = cli("export", "qdpx", tmp_path / "spec.qdpx")  # code points: the default
    assert result.exit_code == 0, result.output
    assert "export with --positions utf16 for NVivo" in result.output
    found = sorted(selections(tmp_path / "spec.qdpx"), key=lambda s: s["start"])
    assert [s["text"][s["start"]:s["end"]] for s in found] == TURNS


@pytest.mark.parametrize("unit", ["utf16", "codepoints"])
def test_either_unit_reimports_exactly(cli, emoji_project, tmp_path, unit):
    """coder's own file says nothing about its unit: the import finds it by how the
    selections fit the text, and lands every coding where it was."""
    out = tmp_path / f"{unit}.qdpx"
    assert cli("export", "qdpx", out, "--positions", unit).exit_code == 0
    fresh = tmp_path / "fresh.db"
    result = cli("import", out, "--db", fresh)
    assert result.exit_code == 0, result.output
    expected = "UTF-16 code units" if unit == "utf16" else "code points"
    assert f"positions read as {expected}, CRLF counted as two" in result.output
    assert q(fresh, "SELECT s.text, k.code_key FROM coding k JOIN segment s ON "
                    "s.id = k.segment_id ORDER BY s.n") == [
        (TURNS[0], "power_transfer"), (TURNS[1], "power_transfer"),
        (TURNS[2], "csto_efficacy")]


def build(path: Path, origin: str, text: str, spans: list[tuple[int, int]]) -> Path:
    """A one-source project from another tool: ``spans`` are the positions it wrote."""
    guid = "0d0c0000-0000-0000-0000-000000000001"
    sels = "".join(
        f'<PlainTextSelection guid="5e1ec700-0000-0000-0000-00000000000{i}" '
        f'startPosition="{a}" endPosition="{b}" creatingUser="aaaaaaaa-0000-0000-0000-'
        f'00000000000a"><Coding guid="c0d10000-0000-0000-0000-00000000000{i}" creatingUser='
        f'"aaaaaaaa-0000-0000-0000-00000000000a"><CodeRef targetGUID="c1000000-0000-0000-0000-'
        '000000000000"/></Coding></PlainTextSelection>' for i, (a, b) in enumerate(spans))
    qde = (f'<Project xmlns="{NS}" name="p" origin="{origin}"><Users><User guid="aaaaaaaa-'
           '0000-0000-0000-00000000000a" name="Ann"/></Users><CodeBook><Codes><Code guid='
           '"c1000000-0000-0000-0000-000000000000" name="Power" isCodable="true"/></Codes>'
           f'</CodeBook><Sources><TextSource guid="{guid}" name="doc" plainTextPath='
           f'"internal://{guid}.txt">{sels}</TextSource></Sources></Project>')
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde)
        archive.writestr(f"sources/{guid}.txt", text)
    return path


def test_the_unit_follows_the_text_not_the_origin(project, db_path, tmp_path):
    from coder.refi import import_qdpx

    words = ["слово", "🙂", "word", "мир", "😀", "peace", "дом", "🏠", "home", "конец"]
    text = " ".join(words * 3)
    phrases = ["word", "peace", "home", "конец"]
    spans, at = [], 0
    for i in range(3):  # code points, as QualCoder writes them, under a misleading origin
        for phrase in phrases:
            start = text.index(phrase, at)
            spans.append((start, start + len(phrase)))
            at = start + 1
    report = import_qdpx(project, build(tmp_path / "x.qdpx", "NVivo 14", text, spans))
    assert report.units == "code points, CRLF counted as two"
    assert not [w for w in report.warnings if "weak evidence" in w]
    got = [text[p.char_start:p.char_end] for p in report.selections]
    assert got == phrases * 3


def test_weak_evidence_is_said(project, tmp_path):
    from coder.refi import import_qdpx

    text = "ab 😀 cdef ghij"
    start = text.index("ghij")  # one disputed selection: as code points it is "ghij",
    report = import_qdpx(project, build(tmp_path / "w.qdpx", "SomeTool", text,
                                        [(start, start + 3)]))  # as UTF-16 "hij": both odd
    assert any("weak evidence" in w and "check a few codings" in w for w in report.warnings)


def test_qualcoder_sample_splits_otter_transcripts_and_keeps_codings_on_their_text(
        project, db_path):
    """QualCoder 4.0's export of 30 Otter-style transcripts (preamble, then `Name  0:23`
    blocks): speaker turns with their timestamps, and every coding on its text (QualCoder
    counts code points)."""
    from coder.refi import import_qdpx

    report = import_qdpx(project, QUALCODER, allow_pii=True)
    turned = [s for s in report.sources if s.split == "speaker turns (otter)"]
    assert len(turned) >= 25
    assert sum(1 for sel in report.selections if sel.codings) == 753
    texts = dict(q(db_path, "SELECT id, text FROM transcript"))
    with zipfile.ZipFile(QUALCODER) as archive:
        from lxml import etree

        root = etree.fromstring(archive.read("project.qde"))
        raw = {}
        for source in root.iterfind(f".//{{{NS}}}TextSource"):
            member = "sources/" + source.get("plainTextPath").removeprefix("internal://")
            file_text = archive.read(member).decode("utf-8-sig")
            for sel in source.iterfind(f"{{{NS}}}PlainTextSelection"):
                a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
                raw[sel.get("guid").lower()] = file_text[a:b]
    for placed in report.selections:
        text = texts[placed.transcript]
        assert text[placed.char_start:placed.char_end] == raw[placed.guid]
        spans = q(db_path, "SELECT char_start, char_end FROM segment WHERE "
                           "transcript_id = ? AND n IN (%s)" % ",".join("?" * len(
                               placed.segments)), placed.transcript, *placed.segments)
        assert all(a < placed.char_end and b > placed.char_start for a, b in spans)
    first = q(db_path, "SELECT speaker, start, substr(text, 1, 30) FROM segment WHERE "
                       "transcript_id = 'BSR06_transcript_deidentified' ORDER BY n LIMIT 2")
    assert first == [("Sara Mannheimer", 0.0, "Right. Um, okay, so tell me ab"),
                     ("BSRO6", 9.0, "Yeah. So specifically around l")]
    assert any("cover only part of a speaker turn" in w and "apply to the whole turn" in w
               for w in report.warnings)


def test_qc_sample_reads_bare_plain_text_paths(project, db_path):
    from coder.refi import import_qdpx

    report = import_qdpx(project, QC, allow_pii=True)
    assert [s.status for s in report.sources] == ["new", "new"]
    assert report.codings > 150 and report.coders == ["cp"]


def test_maxqda_document_sets_become_attributes(project, db_path):
    from coder.refi import import_qdpx

    import_qdpx(project, MAXQDA, allow_pii=True)
    assert q(db_path, "SELECT value, count(*) FROM attribute WHERE name = 'set' "
                      "GROUP BY 1 ORDER BY 1") == [("ICLS 2024", 5), ("ICLS 2025", 5)]


def two_turns(cli, db_path, tmp_path) -> str:
    """Import a transcript with two participant turns ("First part. Second part." and "Third
    part. Fourth part."); returns its stored text."""
    transcript = tmp_path / "doc.txt"
    transcript.write_text("Interviewer: Why?\n\ndoc: First part. Second part.\n\n"
                          "Interviewer: And?\n\ndoc: Third part. Fourth part.\n",
                          encoding="utf-8")
    assert cli("import", transcript).exit_code == 0
    return q(db_path, "SELECT text FROM transcript")[0][0]


def test_reimport_onto_existing_turns_maps_exactly_or_refuses(cli, db_path, tmp_path):
    """A transcript already in the project keeps its turns: a selection of part of one turn
    becomes a coding of that turn with the stretch as its span; one over parts of two turns
    would widen its coding to both whole turns, so the import is refused, and nothing
    changes."""
    text = two_turns(cli, db_path, tmp_path)
    whole = (text.index("First"), text.index("Second part.") + len("Second part."))
    exact = build(tmp_path / "exact.qdpx", "QualCoder 4.0", text, [whole])
    result = cli("import", exact)
    assert result.exit_code == 0, result.output
    assert "mapped: doc onto its 4 existing segments (1 selections)" in result.output
    part = build(tmp_path / "part.qdpx", "QualCoder 4.0", text,
                 [(text.index("Second"), text.index("Second part.") + len("Second part."))])
    result = cli("import", part, "--coder-map", "Ann=Ann")  # the same person
    assert result.exit_code == 0, result.output
    assert "cover only part" not in result.output
    turn = "First part. Second part."
    assert q(db_path, "SELECT s.n, k.span_start, k.span_end FROM coding k JOIN segment s "
                         "ON s.id = k.segment_id") == \
        [(2, turn.index("Second"), len(turn))]
    before = dump_db(db_path)
    partial = build(tmp_path / "partial.qdpx", "QualCoder 4.0", text,
                    [(text.index("Second"), text.index("Third part.") + len("Third part."))])
    result = cli("import", partial, "--coder-map", "Ann=Ann")
    assert result.exit_code == 1
    assert (f"error: {partial}: 1 selection(s) in 'doc' cover only part of a segment of the "
            "transcript already in the project") in result.output
    assert "import the project into another database (--db)" in result.output
    assert dump_db(db_path) == before


def test_merging_a_copy_with_partial_selections_widens_them_and_says_so(cli, db_path, tmp_path):
    """`coder merge X.qdpx` brings a colleague's coding back even where their tool selected
    parts of two turns: the coding applies to both whole segments, and a warning says so (a
    plain re-import onto existing turns is refused instead, above); part of one turn keeps
    its stretch as the coding's span."""
    text = two_turns(cli, db_path, tmp_path)
    exact = build(tmp_path / "exact.qdpx", "QualCoder 4.0", text,
                  [(text.index("First"), text.index("Second part.") + len("Second part."))])
    assert cli("import", exact).exit_code == 0  # the codebook, and Ann's coding of turn 2
    partial = build(tmp_path / "partial.qdpx", "QualCoder 4.0", text,
                    [(text.index("Second"), text.index("Third part.") + len("Third part."))])
    result = cli("merge", partial, "--coder-map", "Ann=Bob")  # Bob coded the copy
    assert result.exit_code == 0, result.output
    assert "1 selection(s) in 'doc' cover only part of a segment" in result.output
    assert "apply to the whole segment" in result.output
    assert q(db_path, "SELECT c.name, s.n, k.span_start FROM coding k JOIN coder c ON "
                         "c.id = k.coder_id JOIN segment s ON s.id = k.segment_id "
                         "ORDER BY 1, 2") == [("Ann", 2, None), ("Bob", 2, None), ("Bob", 4, None)]
    again = cli("merge", partial, "--coder-map", "Ann=Bob")  # the same copy twice
    assert again.exit_code == 0 and "nothing new to merge" in again.output
    one = build(tmp_path / "one.qdpx", "QualCoder 4.0", text,
                [(text.index("Fourth"), text.index("Fourth part.") + len("Fourth part."))])
    result = cli("merge", one, "--coder-map", "Ann=Carol")
    assert result.exit_code == 0, result.output
    assert "cover only part" not in result.output
    turn = "Third part. Fourth part."
    assert q(db_path, "SELECT s.n, k.span_start, k.span_end FROM coding k JOIN coder c ON "
                         "c.id = k.coder_id JOIN segment s ON s.id = k.segment_id WHERE "
                         "c.name = 'Carol'") == [(4, turn.index("Fourth"), len(turn))]


def test_a_marked_span_is_exported_as_its_selection_and_read_back(cli, db_path, tmp_path):
    """A coding with a marked span (`m` in coder code) is exported as a selection of that
    stretch, so that QualCoder, NVivo and ATLAS.ti show the sentence; importing the archive
    again restores the span."""
    import re
    import sqlite3

    from coder.cli import app
    from typer.testing import CliRunner

    transcript = tmp_path / "doc.txt"
    transcript.write_text("Interviewer: Why?\n\ndoc: First part. Second part.\n",
                          encoding="utf-8")
    codebook = tmp_path / "codebook.yaml"
    codebook.write_text("name: spans\nthemes:\n  - key: power\n    label: Power\n",
                        encoding="utf-8")
    codings = tmp_path / "ann.csv"
    codings.write_text("transcript,segment,code\ndoc,2,power\n", encoding="utf-8")
    for args in (("import", transcript), ("codebook", "load", codebook),
                 ("codings", "import", codings, "--coder", "ann")):
        assert cli(*args).exit_code == 0, args
    turn = "First part. Second part."
    con = sqlite3.connect(db_path)
    with con:
        con.execute("UPDATE coding SET span_start = ?, span_end = ?",
                    (turn.index("Second"), len(turn)))
    con.close()
    text = q(db_path, "SELECT text FROM transcript")[0][0]
    out = tmp_path / "spans.qdpx"
    assert cli("export", "qdpx", out).exit_code == 0
    qde = zipfile.ZipFile(out).read("project.qde").decode("utf-8")
    coded = [(int(a), int(b)) for a, b in re.findall(
        r'<PlainTextSelection[^>]*startPosition="(\d+)" endPosition="(\d+)"', qde)]
    assert coded == [(text.index("Second"), text.index("Second") + len("Second part."))]
    again = tmp_path / "again.db"
    result = CliRunner().invoke(app, ["import", str(out), "--db", str(again)])
    assert result.exit_code == 0, result.output
    assert q(again, "SELECT s.n, k.span_start, k.span_end FROM coding k JOIN segment s ON "
                       "s.id = k.segment_id") == [(2, turn.index("Second"), len(turn))]
