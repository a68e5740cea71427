"""Malformed and hostile input: one clear ``error:`` line, exit 1, the project unchanged, in
bounded time and memory (issue 21).

Every input is generated here (nothing large is in the repository). Each case runs ``coder`` in
a subprocess under a memory cap (RLIMIT_AS, :data:`MEMORY_CAP`) and a time limit
(:data:`TIME_LIMIT`), so a bomb that gets through fails its test instead of the machine.
"""

from __future__ import annotations

import io
import os
import resource
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# preparatory commands run in-process with conftest.run; only the case under test runs in
# the capped subprocess (coder below)
from conftest import CODEBOOK, copy_db, dump_url, query, run

MEMORY_CAP = 1 << 30   # bytes of address space for one coder process
TIME_LIMIT = 30        # seconds

TRANSCRIPT = ("Interviewer: What happened in January?\n\n"
              "KZ-01: Power passed on and the dual power ended.\n\n"
              "Interviewer: And the CSTO?\n\n"
              "KZ-01: Troops arrived within days and left soon after.\n")


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def coder(*args, cwd: Path, db: Path | str, env: dict | None = None,
          timeout: float = TIME_LIMIT) -> subprocess.CompletedProcess:
    """``coder ARGS`` in a capped subprocess; a blown limit fails the test."""
    environ = {**os.environ, "CODER_DB": str(db), "COLUMNS": "200", **(env or {})}
    environ.pop("CODER_DEBUG", None)
    try:
        return subprocess.run([sys.executable, "-m", "coder", *map(os.fsdecode, args)],
                              cwd=cwd, env=environ, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=_cap)
    except subprocess.TimeoutExpired:
        pytest.fail(f"coder {' '.join(map(str, args))} ran past {timeout} s")


def assert_refused(result, *, names: str, line: int | None = None, says: str = "",
                   before=None, db=None) -> str:
    """Exit 1, exactly one ``error:`` line naming ``names`` (and ``:line``), no traceback, no
    internal error, the database as ``before``. Returns the error line."""
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "internal error" not in result.stderr, result.stderr
    errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1, result.stderr
    error = errors[0]
    where = names + (f":{line}:" if line is not None else "")
    assert where in error, (where, error)
    assert says in error, (says, error)
    if before is not None:
        assert dump_url(str(db)) == before
    return error


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A project with one transcript (participant segments 2 and 4) and the study codebook,
    built once in-process."""
    folder = tmp_path_factory.mktemp("template")
    db = folder / "project.db"
    t = folder / "KZ-01.txt"
    t.write_text(TRANSCRIPT, encoding="utf-8")
    run(db, "import", t)
    run(db, "codebook", "load", CODEBOOK)
    return db


@pytest.fixture
def proj(template, tmp_path) -> Path:
    """A copy of the template project for one test."""
    return copy_db(template, tmp_path / "project.db")


# ------------------------------------------------------------------------------ YAML bombs

def alias_bomb(levels: int = 9, key: str = "a") -> str:
    lines = [f'{key}0: &{key}0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*{key}{i - 1}"] * 9)
        lines.append(f"{key}{i}: &{key}{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_codebook_alias_bomb(proj, tmp_path):
    book = tmp_path / "bomb.yaml"
    book.write_text("name: bomb\nversion: 1\n" + alias_bomb() +
                    "themes:\n  - key: t\n    label: T\n    examples: *a8\n", encoding="utf-8")
    assert len(book.read_bytes()) < 2000
    before = dump_url(str(proj))
    result = coder("codebook", "load", book, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(book), says="alias bomb", before=before, db=proj)


def test_front_matter_alias_bomb(proj, tmp_path):
    md = tmp_path / "KZ-02.md"
    md.write_text("---\ncountry: Kazakhstan\n" + alias_bomb(key="b") + "---\n\n"
                  + TRANSCRIPT, encoding="utf-8")
    before = dump_url(str(proj))
    result = coder("import", md, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(md), says="alias bomb", before=before, db=proj)


def test_alias_to_itself_is_refused(proj, tmp_path):
    md = tmp_path / "KZ-02.md"
    md.write_text("---\nloop: &x [1, *x]\n---\n\n" + TRANSCRIPT, encoding="utf-8")
    result = coder("import", md, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(md), line=2, says="refers to the value that holds it")


def nested_codebook(depth: int) -> str:
    """Codes nested ``depth`` deep, in YAML's flow style (block style would need ~depth²
    bytes of indentation)."""
    inner = "{key: leaf, label: Leaf}"
    for level in reversed(range(depth)):
        inner = f"{{key: c{level}, label: C{level}, codes: [{inner}]}}"
    return f"name: deep\nversion: 1\nthemes:\n  - {inner}\n"


@pytest.mark.parametrize("depth", [200, 10_000])
def test_codes_nested_too_deep(proj, tmp_path, depth):
    book = tmp_path / "deep.yaml"
    book.write_text(nested_codebook(depth), encoding="utf-8")
    before = dump_url(str(proj))
    result = coder("codebook", "load", book, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(book), says="nested more than 64 levels deep",
                   before=before, db=proj)


def test_codes_nested_twenty_deep_load(proj, tmp_path):
    book = tmp_path / "deep.yaml"
    book.write_text(nested_codebook(20), encoding="utf-8")
    run(proj, "codebook", "load", book)


def test_lone_surrogate_in_codebook(proj, tmp_path):
    book = tmp_path / "s.yaml"
    book.write_text('name: s\nversion: 1\nthemes:\n  - key: t\n    label: "bad \\ud800"\n',
                    encoding="utf-8")
    before = dump_url(str(proj))
    result = coder("codebook", "load", book, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(book), line=5, says="lone surrogate", before=before,
                   db=proj)


def test_lone_surrogate_in_front_matter(proj, tmp_path):
    md = tmp_path / "KZ-02.md"
    md.write_text('---\ncountry: "\\udcff"\n---\n\n' + TRANSCRIPT, encoding="utf-8")
    before = dump_url(str(proj))
    result = coder("import", md, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(md), line=2, says="lone surrogate", before=before,
                   db=proj)


# ------------------------------------------------------------------------------ ZIP bombs

def docx_bytes(document: bytes, *, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"/>')
        z.writestr("word/document.xml", document)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_docx_zip_bomb(proj, tmp_path):
    path = tmp_path / "KZ-02.docx"
    path.write_bytes(docx_bytes(b"<w:document>" + b" " * (200 * 2**20) + b"</w:document>"))
    assert path.stat().st_size < 2**20
    before = dump_url(str(proj))
    result = coder("import", path, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), says="possible zip bomb", before=before, db=proj)


def test_docx_lying_about_its_size(proj, tmp_path):
    """A central directory that declares a small part: zipfile stops at the declared size."""
    data = bytearray(docx_bytes(b"<w:document>" + b" " * (8 * 2**20) + b"</w:document>"))
    declared = (8 * 2**20 + 25).to_bytes(4, "little")
    small = (1000).to_bytes(4, "little")
    assert data.count(declared) == 2  # local header and central directory
    data = data.replace(declared, small)
    path = tmp_path / "KZ-02.docx"
    path.write_bytes(bytes(data))
    before = dump_url(str(proj))
    result = coder("import", path, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), says="not a valid Word file", before=before,
                   db=proj)


def xlsx_bytes(sheet: str, strings: list[str] | None = None) -> bytes:
    buffer = io.BytesIO()
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="xml" ContentType='
                   '"application/xml"/><Default Extension="rels" ContentType="application/'
                   'vnd.openxmlformats-package.relationships+xml"/><Override PartName='
                   '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
                   'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas'
                   '.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                   f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}">'
                   '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns='
                   '"http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{rel}/worksheet" '
                   'Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml",
                   f'<?xml version="1.0"?><worksheet {ns}>{sheet}</worksheet>')
    return buffer.getvalue()


def inline_row(n: int, values: list[str]) -> str:
    cells = "".join(f'<c r="{chr(65 + i)}{n}" t="inlineStr"><is><t>{v}</t></is></c>'
                    for i, v in enumerate(values))
    return f'<row r="{n}">{cells}</row>'


def test_xlsx_declaring_the_whole_grid_is_read_by_its_cells(proj, tmp_path):
    """A1:XFD1048576 declared, four rows written: read in bounded time, rows checked."""
    rows = [["transcript", "segment", "code", "memo"], ["KZ-01", "2", "power_transfer", ""],
            ["KZ-01", "99", "power_transfer", ""]]
    sheet = ('<dimension ref="A1:XFD1048576"/><sheetData>'
             + "".join(inline_row(n, r) for n, r in enumerate(rows, start=1))
             + "</sheetData>")
    path = tmp_path / "codings.xlsx"
    path.write_bytes(xlsx_bytes(sheet))
    assert path.stat().st_size < 2000
    before = dump_url(str(proj))
    result = coder("codings", "import", "--new-coder", path, "--coder", "alice", cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), line=3, says="segment 99 out of range",
                   before=before, db=proj)


def test_xlsx_spanning_too_many_cells(proj, tmp_path):
    sheet = ("<sheetData>" + inline_row(1, ["transcript", "segment", "code"])
             + '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
             + "</sheetData>")
    path = tmp_path / "codings.xlsx"
    path.write_bytes(xlsx_bytes(sheet))
    before = dump_url(str(proj))
    result = coder("codings", "import", "--new-coder", path, "--coder", "alice", cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), says="cells), refused", before=before, db=proj)


def test_xlsx_sheet_too_large_to_inflate(proj, tmp_path):
    """Millions of real cells in a small file: refused from the ZIP directory."""
    row = "".join(f'<c r="{c}1"><v>1</v></c>' for c in "ABCD")
    sheet = "<sheetData>" + "<row>" + row * 400_000 + "</row></sheetData>"
    path = tmp_path / "codings.xlsx"
    path.write_bytes(xlsx_bytes(sheet))
    before = dump_url(str(proj))
    result = coder("codings", "import", "--new-coder", path, "--coder", "alice", cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), says="refused", before=before, db=proj)


# ------------------------------------------------------------------------------ regexes

def _keyword_project(proj, tmp_path, keyword: str, turn: str) -> None:
    book = tmp_path / "re.yaml"
    book.write_text("name: re\nversion: 1\nthemes:\n  - key: t\n    label: T\n"
                    f"    keywords:\n      - power\n      - {keyword}\n", encoding="utf-8")
    t = tmp_path / "KZ-03.txt"
    t.write_text(f"Interviewer: Tell me.\n\nKZ-03: {turn}\n", encoding="utf-8")
    run(proj, "import", t)
    run(proj, "codebook", "load", book)


def test_catastrophic_keyword_regex_stops(proj, tmp_path):
    _keyword_project(proj, tmp_path, "/(\\w|\\w\\w)*(?=#)/", "word" * 40)
    before = dump_url(str(proj))
    result = coder("autocode", "keywords", cwd=tmp_path, db=proj)
    assert_refused(result, names="codebook version 2, line 8", says="(\\w|\\w\\w)*(?=#)",
                   before=before, db=proj)
    assert "catastrophic backtracking" in result.stderr


def test_nested_repetition_keyword_regex_finishes(proj, tmp_path):
    """The issue's /(\\w+\\s?)*#/: the regex engine answers it at once."""
    _keyword_project(proj, tmp_path, "/(\\w+\\s?)*#/", "word " * 60)
    result = coder("autocode", "keywords", cwd=tmp_path, db=proj)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------ CSV/TSV

def codings_file(tmp_path: Path, text: str | bytes, name: str = "codings.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_stray_quote_in_a_long_csv(proj, tmp_path):
    lines = ["transcript,segment,code,memo"] + ["KZ-01,2,power_transfer,fine"] * 50_000
    lines[30_000] = 'KZ-01,2,power_transfer,"an unclosed memo'
    path = codings_file(tmp_path, "\n".join(lines) + "\n")
    before = dump_url(str(proj))
    result = coder("codings", "import", "--new-coder", path, "--coder", "alice", cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), line=30_001, says="never closed", before=before,
                   db=proj)


def test_segment_inf(proj, tmp_path):
    path = codings_file(tmp_path, "transcript,segment,code\nKZ-01,inf,power_transfer\n")
    before = dump_url(str(proj))
    result = coder("codings", "import", "--new-coder", path, "--coder", "alice", cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), line=2, says="'inf' is not a segment number",
                   before=before, db=proj)


def test_nul_byte_in_csv(proj, tmp_path):
    path = codings_file(tmp_path, b"transcript,segment,code\nKZ-01,2,power\x00_transfer\n")
    before = dump_url(str(proj))
    result = coder("codings", "import", "--new-coder", path, "--coder", "alice", cwd=tmp_path, db=proj)
    error = assert_refused(result, names=str(path), line=2, says="not a CSV or TSV codings "
                           "file", before=before, db=proj)
    assert "transcript" not in error.split(" — ")[0].split(":")[-1]


def test_cp1252_csv_names_the_encoding_option(proj, tmp_path):
    path = codings_file(tmp_path, "transcript,segment,code,memo\nKZ-01,2,power_transfer,"
                        "café\n".encode("cp1252"))
    before = dump_url(str(proj))
    result = coder("codings", "import", "--new-coder", path, "--coder", "alice", cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), line=2, says="not UTF-8", before=before, db=proj)
    assert "--encoding cp1252" in result.stderr
    run(proj, "codings", "import", "--new-coder", path, "--coder", "alice", "--encoding", "cp1252")
    assert _memos(proj) == ["café"]


def _memos(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [m for (m,) in con.execute("SELECT memo FROM review WHERE memo IS NOT NULL")]
    finally:
        con.close()


@pytest.mark.parametrize("encoded", [
    pytest.param(lambda t: "\ufeff".encode("utf-16-le") + t.replace(",", "\t")
                 .encode("utf-16-le"), id="excel-unicode-text"),
    pytest.param(lambda t: t.replace(",", ";").encode("utf-8"), id="semicolons"),
])
def test_spreadsheet_dialects_import(proj, tmp_path, encoded):
    text = "transcript,segment,code,memo\r\nKZ-01,2,power_transfer,a note\r\n"
    path = codings_file(tmp_path, encoded(text), name="codings.txt")
    run(proj, "codings", "import", "--new-coder", path, "--coder", "alice")
    assert _memos(proj) == ["a note"]


def test_unreadable_header_says_what_it_saw(proj, tmp_path):
    path = codings_file(tmp_path, "transcript:segment:code\nKZ-01:2:power_transfer\n")
    result = coder("codings", "import", "--new-coder", path, "--coder", "alice", cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), line=1, says="'transcript:segment:code'")


def test_duplicate_rows_do_not_double_the_memo(proj, tmp_path):
    row = "KZ-01,2,power_transfer,same note\n"
    path = codings_file(tmp_path, "transcript,segment,code,memo\n" + row + row)
    run(proj, "codings", "import", "--new-coder", path, "--coder", "alice")
    assert _memos(proj) == ["same note"]


def test_duplicate_metadata_column(proj, tmp_path):
    meta = codings_file(tmp_path, "transcript,country,country\nKZ-02,Kazakhstan,Russia\n",
                        name="participants.csv")
    t = tmp_path / "in" / "KZ-02.txt"
    t.parent.mkdir()
    t.write_text(TRANSCRIPT, encoding="utf-8")
    before = dump_url(str(proj))
    result = coder("import", t, "--meta", meta, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(meta), line=1, says="'country' appears twice",
                   before=before, db=proj)


# ------------------------------------------------------------------------------ names, paths

def test_file_name_with_newline_cannot_spoof_an_error_line(proj, tmp_path):
    bad = tmp_path / "x\nerror: spoofed.txt"
    bad.write_bytes(b"")
    before = dump_url(str(proj))
    result = coder("import", bad, cwd=tmp_path, db=proj)
    error = assert_refused(result, names="x\\nerror: spoofed.txt", says="empty file",
                           before=before, db=proj)
    assert error.startswith("error: ")


def test_id_with_control_characters_is_refused(proj, tmp_path):
    md = tmp_path / "KZ-02.md"
    md.write_text('---\nid: "KZ\\t02"\n---\n\n' + TRANSCRIPT, encoding="utf-8")
    before = dump_url(str(proj))
    result = coder("import", md, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(md), says="control characters", before=before, db=proj)


def test_relative_parent_and_named_hidden_folders_import(tmp_path):
    study = tmp_path / ".study" / "interviews"
    (study / ".cache").mkdir(parents=True)
    (study / "KZ-01.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (study / ".cache" / "KZ-09.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (study / "notes.pdf").write_bytes(b"%PDF")
    work = tmp_path / ".study" / "work"
    work.mkdir()
    db = tmp_path / "p.db"
    result = coder("import", "../interviews", cwd=work, db=db)
    assert result.returncode == 0, result.stderr
    assert "imported 1 transcript(s)" in result.stderr
    assert "warning: skipped ../interviews/.cache: hidden" in result.stderr
    assert "warning: skipped ../interviews/notes.pdf: PDF is not read: export the transcript " \
        "as .docx or .txt" in result.stderr


def test_unreadable_folder_is_listed(tmp_path, monkeypatch):
    from coder.importers import SUFFIXES
    from coder.importers.walk import find_files

    (tmp_path / "a").mkdir()
    (tmp_path / "locked").mkdir()
    (tmp_path / "a" / "KZ-01.txt").write_text(TRANSCRIPT, encoding="utf-8")
    real = os.scandir

    def scandir(path):  # tests run as root, for whom chmod 000 changes nothing
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found, skipped = find_files([tmp_path], SUFFIXES)
    assert found == [tmp_path / "a" / "KZ-01.txt"]
    assert [str(s) for s in skipped] == [
        f"skipped {tmp_path / 'locked'}: unreadable folder (permission denied)"]


def _deep(root: Path, depth: int, name: str) -> None:
    """``depth`` nested folders called ``name`` under ``root``, a transcript at the bottom
    (created through directory descriptors: the full path may exceed PATH_MAX)."""
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            new = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        out = os.open("KZ-01.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, TRANSCRIPT.encode("utf-8"))
        os.close(out)
    finally:
        os.close(fd)


@pytest.fixture
def deep_cleanup(tmp_path):
    """Remove the nested folders afterwards with rm (iterative): pytest's own clean-up of old
    temporary folders recurses and would fail on them in a later run."""
    yield
    for name in ("d", "folder"):
        subprocess.run(["rm", "-rf", str(tmp_path / name)], check=False)


def test_folders_1200_deep_import(tmp_path, deep_cleanup):
    _deep(tmp_path, 1200, "d")
    db = tmp_path / "p.db"
    result = coder("import", "d", cwd=tmp_path, db=db)
    assert result.returncode == 0, result.stderr
    assert "imported 1 transcript(s)" in result.stderr


def test_path_too_long_for_the_system(tmp_path, deep_cleanup):
    _deep(tmp_path, 1200, "folder")
    db = tmp_path / "p.db"
    result = coder("import", "folder", cwd=tmp_path, db=db)
    assert_refused(result, names="folder", says="no transcript files found")
    assert "the path is too long for the system" in result.stderr
    assert not db.exists()


# ------------------------------------------------------------------------------ locks

def test_locked_sqlite_project_names_the_holder(proj, tmp_path):
    holder = sqlite3.connect(proj, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        before_text = tmp_path / "KZ-05.txt"
        before_text.write_text(TRANSCRIPT, encoding="utf-8")
        result = coder("import", before_text, cwd=tmp_path, db=proj,
                       env={"CODER_LOCK_TIMEOUT": "2"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    error = assert_refused(result, names=str(proj), says="the project is locked by pid "
                           f"{os.getpid()}")
    assert "waiting for" in result.stderr
    assert "CODER_LOCK_TIMEOUT" in error
    assert dump_url(str(proj))["transcript"] and len(dump_url(str(proj))["transcript"]) == 1


@pytest.mark.postgres
def test_postgres_codebook_loads_and_imports_race(pg_url, tmp_path):
    books = []
    for i in range(4):
        book = tmp_path / f"book{i}.yaml"
        book.write_text(f"name: race {i}\nversion: {i}\nthemes:\n  - key: t{i}\n"
                        f"    label: T{i}\n", encoding="utf-8")
        books.append(book)
    t = tmp_path / "KZ-01.txt"
    t.write_text(TRANSCRIPT, encoding="utf-8")
    environ = {**os.environ, "CODER_DB": pg_url}
    assert coder("init", cwd=tmp_path, db=pg_url).returncode == 0
    procs = [subprocess.Popen([sys.executable, "-m", "coder", "codebook", "load", str(b)],
                              cwd=tmp_path, env=environ, stderr=subprocess.PIPE, text=True)
             for b in books]
    procs += [subprocess.Popen([sys.executable, "-m", "coder", "import", str(t)],
                               cwd=tmp_path, env=environ, stderr=subprocess.PIPE, text=True)
              for _ in range(3)]
    results = [(p.wait(timeout=TIME_LIMIT * 2), p.stderr.read()) for p in procs]
    for code, stderr in results:
        assert code == 0, stderr
        assert "Traceback" not in stderr
    assert query(pg_url, "SELECT version FROM codebook ORDER BY version") == \
        [(1,), (2,), (3,), (4,)]
    assert query(pg_url, "SELECT id FROM transcript") == [("KZ-01",)]


def qdc(depth: int) -> str:
    inner = ""
    for i in reversed(range(depth)):
        inner = (f'<Code guid="{i:08d}-0000-4000-8000-000000000000" name="c{i}" '
                 f'isCodable="true">{inner}</Code>')
    return ('<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0" '
            f'origin="x"><Codes>{inner}</Codes></CodeBook>\n')


@pytest.mark.parametrize("depth", [200, 5_000])
def test_refi_codes_nested_too_deep(proj, tmp_path, depth):
    path = tmp_path / "deep.qdc"
    path.write_text(qdc(depth), encoding="utf-8")
    before = dump_url(str(proj))
    result = coder("codebook", "import", path, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), line=2, says="nested", before=before, db=proj)


def test_refi_codes_thirty_deep_load(proj, tmp_path):
    path = tmp_path / "deep.qdc"
    path.write_text(qdc(30), encoding="utf-8")
    run(proj, "codebook", "import", path)


def test_file_name_that_is_not_utf8(proj, tmp_path):
    bad = tmp_path / os.fsdecode(b"KZ-\xff.txt")
    bad.write_text(TRANSCRIPT, encoding="utf-8")
    before = dump_url(str(proj))
    result = coder("import", bad, cwd=tmp_path, db=proj)
    assert_refused(result, names="KZ-\\udcff.txt", says="not valid UTF-8", before=before,
                   db=proj)


def test_docx_entity_bomb_is_not_expanded(proj, tmp_path):
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
    document = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e0 "lol">{entities}]>'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
                'main"><w:body><w:p><w:r><w:t>&e9;</w:t></w:r></w:p></w:body></w:document>')
    path = tmp_path / "KZ-02.docx"
    path.write_bytes(docx_bytes(document.encode("utf-8")))
    before = dump_url(str(proj))
    result = coder("import", path, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(path), before=before, db=proj)


def test_codebook_in_another_encoding(proj, tmp_path):
    book = tmp_path / "ru.yaml"
    book.write_bytes("name: Кодбук\nversion: 1\nthemes:\n  - key: t\n    label: Тема\n"
                     .encode("cp1251"))
    before = dump_url(str(proj))
    result = coder("codebook", "load", book, cwd=tmp_path, db=proj)
    assert_refused(result, names=str(book), line=1, says="not UTF-8", before=before, db=proj)
    assert "--encoding" in result.stderr
    run(proj, "codebook", "load", book, "--encoding", "cp1251")
