"""Categories: codes that only group their sub-codes (REFI-QDA ``isCodable="false"``,
``codable: false`` in a codebook file). QualCoder exports its categories so; they come back to
it as categories, never as codes, and nobody can apply one."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from conftest import q, run, write
from test_refi_exchange import QUALCODER

CATEGORY_BOOK = """\
name: Two themes, one a category
version: 1
themes:
  - key: efficacy
    label: CSTO efficacy
    codable: false
    codes:
      - key: rapid
        label: Rapid deployment
      - key: limits
        label: Limits of the mandate
  - key: reforms
    label: Reforms
"""

TRANSCRIPT = "Interviewer: How fast?\n\nKZ-01: Within days.\n\nInterviewer: And then?\n\n" \
             "KZ-01: They left.\n"


def codable_false_count(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return len(re.findall(r'isCodable="false"', archive.read("project.qde").decode()))


def small_project(tmp_path: Path) -> Path:
    db = tmp_path / "p.db"
    run(db, "import", write(tmp_path / "KZ-01.txt", TRANSCRIPT))
    run(db, "codebook", "load", write(tmp_path / "book.yaml", CATEGORY_BOOK))
    return db


def test_a_category_is_stored_shown_and_written_back(tmp_path):
    db = small_project(tmp_path)
    assert q(db, "SELECT key, codable FROM code ORDER BY position") == [
        ("efficacy", 0), ("efficacy.rapid", 1), ("efficacy.limits", 1), ("reforms", 1)]
    out = tmp_path / "again.yaml"
    run(db, "codebook", "export", "--format", "yaml", "-o", out)
    text = out.read_text(encoding="utf-8")
    assert text.count("codable: false") == 1
    shown = run(db, "codebook", "show", "--format", "json")
    import json

    assert [c["codable"] for c in json.loads(shown.stdout)["codes"]] == [False, True, True, True]
    again = tmp_path / "again.db"
    run(again, "init")
    run(again, "codebook", "load", out)
    assert q(again, "SELECT key, codable FROM code ORDER BY position") == \
        q(db, "SELECT key, codable FROM code ORDER BY position")


def test_codable_must_be_true_or_false(tmp_path):
    book = write(tmp_path / "bad.yaml", CATEGORY_BOOK.replace("codable: false", "codable: no way"))
    done = run(tmp_path / "p.db", "codebook", "load", book, expect=1)
    assert f"{book}:6" in done.output and "not true or false" in done.output


def test_a_category_cannot_be_applied(tmp_path):
    db = small_project(tmp_path)
    sheet = write(tmp_path / "alice.csv", "transcript,segment,code\nKZ-01,2,efficacy\n")
    done = run(db, "codings", "import", sheet, "--coder", "alice", "--new-coder", expect=1)
    assert f"{sheet}:2" in done.output and "'efficacy' is a category" in done.output
    assert "efficacy.rapid" in done.output or "efficacy.limits" in done.output
    assert q(db, "SELECT count(*) FROM coding") == [(0,)]
    ok = write(tmp_path / "bob.csv", "transcript,segment,code\nKZ-01,2,efficacy.rapid\n")
    run(db, "codings", "import", ok, "--coder", "bob", "--new-coder")
    # the theme counts for agreement and reports through its sub-codes, as ever
    assert q(db, "SELECT code_key FROM coding") == [("efficacy.rapid",)]


def test_the_coding_session_offers_no_category(tmp_path):
    from coder.coding.session import CodingSession
    from coder.db.engine import open_project

    project = open_project(str(small_project(tmp_path)))
    try:
        session = CodingSession.open(project, "alice", new_coder=True)
        assert [c.key for c in session.codes] == ["efficacy.rapid", "efficacy.limits",
                                                  "reforms"]
    finally:
        project.close()


def test_qualcoder_categories_go_back_to_it_as_categories(tmp_path):
    """The 55 categories of QualCoder's own export stay categories through coder and are
    written back with isCodable="false"; every coded code stays codable."""
    db = tmp_path / "p.db"
    run(db, "import", QUALCODER, "--allow-pii")
    assert codable_false_count(QUALCODER) == 55
    assert q(db, "SELECT count(*) FROM code WHERE NOT codable") == [(55,)]
    assert q(db, "SELECT count(*) FROM coding k JOIN code c ON c.key = k.code_key "
                 "WHERE NOT c.codable") == [(0,)]
    out = tmp_path / "out.qdpx"
    run(db, "export", "qdpx", out)
    assert codable_false_count(out) == 55


def test_a_category_with_codings_is_imported_as_a_code(tmp_path):
    """A writer that marks a coded code isCodable="false" loses nothing: it becomes a code,
    and the import says so."""
    db = small_project(tmp_path)
    sheet = write(tmp_path / "bob.csv", "transcript,segment,code\nKZ-01,2,reforms\n")
    run(db, "codings", "import", sheet, "--coder", "bob", "--new-coder")
    exported = tmp_path / "p.qdpx"
    run(db, "export", "qdpx", exported)
    flipped = tmp_path / "flipped.qdpx"
    with zipfile.ZipFile(exported) as src, zipfile.ZipFile(flipped, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "project.qde":
                text = data.decode("utf-8")
                text = re.sub(r'(<Code [^>]*name="Reforms"[^>]*)isCodable="true"',
                              r'\1isCodable="false"', text)
                assert text.count('isCodable="false"') == 2  # efficacy, and now reforms
                data = text.encode("utf-8")
            dst.writestr(item, data)
    other = tmp_path / "other.db"
    done = run(other, "import", flipped)
    assert "'Reforms' is marked not codable (a category) but has codings" in done.output
    assert q(other, "SELECT key, codable FROM code WHERE key = 'reforms'") == [("reforms", 1)]
    assert q(other, "SELECT code_key FROM coding") == [("reforms",)]


def test_the_keyword_coder_never_applies_a_category(tmp_path):
    """Keywords written on a category (a mistake a file can make) apply nothing; the
    sub-codes' keywords do."""
    db = tmp_path / "p.db"
    run(db, "import", write(tmp_path / "KZ-01.txt", TRANSCRIPT))
    book = CATEGORY_BOOK.replace("    codable: false\n", "    codable: false\n"
                                 "    keywords: [days]\n").replace(
        "        label: Rapid deployment\n",
        "        label: Rapid deployment\n        keywords: [days]\n")
    run(db, "codebook", "load", write(tmp_path / "book.yaml", book))
    run(db, "autocode", "keywords")
    assert q(db, "SELECT DISTINCT code_key FROM coding") == [("efficacy.rapid",)]


def test_a_coded_code_cannot_become_a_category(tmp_path):
    db = small_project(tmp_path)
    sheet = write(tmp_path / "bob.csv", "transcript,segment,code\nKZ-01,2,reforms\n")
    run(db, "codings", "import", sheet, "--coder", "bob", "--new-coder")
    before = q(db, "SELECT count(*) FROM codebook")
    book = CATEGORY_BOOK.replace("    label: Reforms\n", "    label: Reforms\n    codable: false\n")
    done = run(db, "codebook", "load", write(tmp_path / "v2.yaml", book), expect=1)
    assert "reforms (1 coding)" in done.output and "category" in done.output
    assert q(db, "SELECT count(*) FROM codebook") == before
