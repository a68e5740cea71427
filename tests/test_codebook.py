"""Codebook: file format and validation, versions in the project, diff, exports, CLI.

Golden files live in tests/golden/; regenerate them with ``UPDATE_GOLDEN=1 pytest
tests/test_codebook.py`` after an intended change, and review the diff.
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from conftest import CODEBOOK, check_golden, dump_db

from coder.codebook import (
    CodebookInvalid, current_codebook, diff_codebooks, load_codebook, load_codebook_file,
    parse_codebook, render_diff, require_codebook, theme_of,
)
from coder.codebook.export import export_latex, export_markdown, export_yaml, latex_escape
from coder.db.models import Coder, Coding, Segment, Transcript
from coder.errors import ConflictError, NotFoundError

HERE = Path(__file__).parent
SMALL = HERE / "fixtures" / "codebooks" / "small.yaml"
GOLDEN = HERE / "golden"

CSTO_THEMES = ["power_transfer", "reforms", "foreign_policy", "csto_efficacy",
               "security_community"]


def write(tmp_path: Path, text: str, name: str = "codebook.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_file(project, path: Path, *, drop: bool = False):
    spec = load_codebook_file(path)
    with project.write() as conn:
        return load_codebook(conn, spec, spec.source, drop=drop)


def fields(code) -> tuple:
    return (code.key, code.parent, code.label, code.definition, code.include, code.exclude,
            code.examples, code.keywords, code.colour, code.renamed_from, code.position)


NOW = datetime.now(timezone.utc)


def add_codings(project, codings: list[tuple[str, int, str]]) -> None:
    """Insert ``(coder, segment n, code key)`` codings on a one-transcript corpus (6 segments),
    made under the current codebook."""
    with project.write() as conn:
        book = current_codebook(conn)
        if conn.execute(select(Transcript.__table__.c.id)).first() is None:
            conn.execute(insert(Transcript.__table__).values(
                id="KZ-01", source="kz01.txt", format="text", sha256="0", text="x" * 60,
                imported_at=NOW))
            conn.execute(insert(Segment.__table__), [
                {"transcript_id": "KZ-01", "n": n, "speaker": "P", "role": "participant",
                 "text": "x" * 10, "char_start": 10 * (n - 1), "char_end": 10 * n}
                for n in range(1, 7)])
        coders = {name for name, _, _ in codings}
        known = set(conn.execute(select(Coder.__table__.c.name)).scalars())
        for name in coders - known:
            conn.execute(insert(Coder.__table__).values(name=name, kind="human",
                                                        created_at=NOW))
        coder_ids = dict(conn.execute(select(Coder.__table__.c.name, Coder.__table__.c.id)).all())
        seg_ids = dict(conn.execute(select(Segment.__table__.c.n, Segment.__table__.c.id)).all())
        conn.execute(insert(Coding.__table__), [
            {"coder_id": coder_ids[name], "segment_id": seg_ids[n], "code_key": key,
             "codebook_id": book.id, "created_at": NOW} for name, n, key in codings])


def codings_in(project) -> list[tuple[int, str, int]]:
    """``(segment id, code key, codebook version)`` of every coding, sorted."""
    from coder.db.models import Codebook

    c, b = Coding.__table__, Codebook.__table__
    with project.read() as conn:
        rows = conn.execute(select(c.c.segment_id, c.c.code_key, b.c.version)
                            .join(b, b.c.id == c.c.codebook_id)).all()
    return sorted(tuple(r) for r in rows)


# --- the default codebook ---------------------------------------------------------------------

needs_csto = pytest.mark.skipif(not CODEBOOK.exists(), reason="codebooks/csto-2022.yaml missing")


@needs_csto
def test_default_codebook_validates_and_loads(project):
    spec = load_codebook_file(CODEBOOK)
    assert [t.key for t in spec.themes] == CSTO_THEMES
    assert "csto_efficacy.rapid_deployment" in spec.keys
    assert {"security_community.established", "security_community.not_yet_formed"} <= spec.keys
    assert all(c.parent is None or c.parent in spec.keys for c in spec.codes)
    result = load_file(project, CODEBOOK)
    assert (result.status, result.version) == ("created", 1)
    with project.read() as conn:
        info = require_codebook(conn)
    assert [t.key for t in info.themes] == CSTO_THEMES
    assert [fields(c) for c in info.codes] == [fields(c) for c in spec.codes]


@needs_csto
def test_default_codebook_markdown_golden(project):
    load_file(project, CODEBOOK)
    with project.read() as conn:
        check_golden(GOLDEN / "codebook-csto-2022.md", export_markdown(require_codebook(conn)))


@needs_csto
def test_default_codebook_latex_golden(project):
    load_file(project, CODEBOOK)
    with project.read() as conn:
        check_golden(GOLDEN / "codebook-csto-2022.tex", export_latex(require_codebook(conn)))


@pytest.mark.parametrize("path", [SMALL, CODEBOOK], ids=["small", "csto-2022"])
def test_yaml_export_round_trips(project, path):
    if not path.exists():
        pytest.skip(f"{path} missing")
    load_file(project, path)
    with project.read() as conn:
        info = require_codebook(conn)
    again = parse_codebook(export_yaml(info), "exported.yaml")
    assert again.name == info.name
    assert [fields(c) for c in again.codes] == [fields(c) for c in info.codes]
    # Loading the export into the same project changes no code: a new version, empty diff.
    with project.write() as conn:
        result = load_codebook(conn, again, export_yaml(info))
    assert result.diff is not None and result.diff.is_empty


# --- file format --------------------------------------------------------------------------------

def test_spec_flattens_codes_with_full_keys_and_lines():
    spec = load_codebook_file(SMALL)
    assert spec.name == "Small test codebook" and spec.version == 1
    assert [(c.key, c.parent, c.position, c.line) for c in spec.codes] == [
        ("efficacy", None, 0, 5),
        ("efficacy.rapid_deployment", "efficacy", 1, 16),
        ("efficacy.limits", "efficacy", 2, 20),
        ("efficacy.limits.mandate", "efficacy.limits", 3, 23),
        ("community", None, 4, 25),
    ]
    top = spec.get("efficacy")
    assert top.keywords == ["rapid", "/deploy(ed|ment)/"]
    assert top.exclude == ["general remarks on Russia"] and top.colour == "#1f77b4"
    assert [p.search("They DEPLOYED fast") is not None for p in top.patterns()] == [False, True]
    assert [t.key for t in spec.themes] == ["efficacy", "community"]
    assert [c.key for c in spec.descendants("efficacy")] == [
        "efficacy.rapid_deployment", "efficacy.limits", "efficacy.limits.mandate"]
    assert theme_of("efficacy.limits.mandate") == "efficacy"
    assert theme_of("community") == "community"


def test_several_problems_are_all_reported(tmp_path):
    path = write(tmp_path, """
        name: X
        themes:
          - key: a
            labl: A
          - key: Bad
            label: B
    """)
    with pytest.raises(CodebookInvalid) as info:
        load_codebook_file(path)
    assert [(e.line, e.problem) for e in info.value.errors] == [
        (3, "code a has no label"),
        (4, "unknown field 'labl' in code a"),
        (5, "bad key 'Bad'"),
    ]


# --- versions in the project --------------------------------------------------------------------

def test_versions_created_only_when_the_file_changes(project, tmp_path):
    first = load_file(project, SMALL)
    assert (first.status, first.version, first.diff) == ("created", 1, None)
    assert load_file(project, SMALL).status == "unchanged"
    changed = write(tmp_path, SMALL.read_text().replace("label: Narrow mandate",
                                                       "label: A narrow mandate"))
    second = load_file(project, changed)
    assert (second.status, second.version) == ("created", 2)
    assert second.diff.changed == {"efficacy.limits.mandate": ["label"]}
    assert (second.diff.added, second.diff.removed, second.diff.renamed) == ([], [], [])
    again = load_file(project, changed)
    assert (again.status, again.version) == ("unchanged", 2)
    with project.read() as conn:
        assert current_codebook(conn).get("efficacy.limits.mandate").label == "A narrow mandate"


def test_require_codebook_without_one(project):
    with project.read() as conn:
        assert current_codebook(conn) is None
        with pytest.raises(NotFoundError, match=re.escape(
                "no codebook loaded — run `coder codebook load codebooks/csto-2022.yaml`")):
            require_codebook(conn)


def test_renamed_from_carries_codings_over(project, tmp_path):
    load_file(project, SMALL)
    add_codings(project, [("alice", 1, "efficacy.rapid_deployment"),
                          ("bob", 2, "efficacy.rapid_deployment"),
                          ("alice", 3, "efficacy.limits.mandate"),
                          ("alice", 4, "community")])
    renamed = write(tmp_path, SMALL.read_text()
                    .replace("  - key: efficacy\n", "  - key: csto_efficacy\n"
                             "    renamed_from: efficacy\n")
                    .replace("key: rapid_deployment", "key: quick_deployment\n"
                             "        renamed_from: efficacy.rapid_deployment"))
    result = load_file(project, renamed)
    assert result.version == 2
    assert result.carried == {("efficacy.rapid_deployment", "csto_efficacy.quick_deployment"): 2,
                              ("efficacy.limits.mandate", "csto_efficacy.limits.mandate"): 1}
    assert sorted(result.diff.renamed) == [
        ("efficacy", "csto_efficacy"), ("efficacy.limits", "csto_efficacy.limits"),
        ("efficacy.limits.mandate", "csto_efficacy.limits.mandate"),
        ("efficacy.rapid_deployment", "csto_efficacy.quick_deployment")]
    # Codings keep the codebook version they were made under.
    assert [(key, version) for _, key, version in codings_in(project)] == [
        ("csto_efficacy.quick_deployment", 1), ("csto_efficacy.quick_deployment", 1),
        ("csto_efficacy.limits.mandate", 1), ("community", 1)]


def test_rename_into_an_existing_code_merges(project, tmp_path):
    book = write(tmp_path, """
        name: M
        themes:
          - key: a
            label: A
          - key: b
            label: B
    """, "v1.yaml")
    load_file(project, book)
    add_codings(project, [("alice", 1, "a"), ("alice", 1, "b"), ("alice", 2, "a")])
    merged = write(tmp_path, """
        name: M
        themes:
          - key: b
            label: B
            renamed_from: a
    """, "v2.yaml")
    result = load_file(project, merged)
    assert result.carried == {("a", "b"): 1}
    assert [key for _, key, _ in codings_in(project)] == ["b", "b"]


def test_removing_a_coded_code_is_refused(project, tmp_path, db_path):
    load_file(project, SMALL)
    add_codings(project, [("alice", 1, "community"), ("bob", 1, "community"),
                          ("alice", 2, "efficacy")])
    without = write(tmp_path, SMALL.read_text().split("  - key: community")[0])
    before = dump_db(db_path)
    with pytest.raises(ConflictError) as info:
        load_file(project, without)
    assert str(info.value) == (
        "the new codebook removes a code that codings use: community (2 codings) — add "
        "`renamed_from: OLD_KEY` to the code that replaces it, or rerun with --drop to delete "
        "those codings")
    assert dump_db(db_path) == before


def test_removing_a_coded_code_with_drop(project, tmp_path):
    load_file(project, SMALL)
    add_codings(project, [("alice", 1, "community"), ("alice", 2, "efficacy")])
    without = write(tmp_path, SMALL.read_text().split("  - key: community")[0])
    result = load_file(project, without, drop=True)
    assert (result.version, result.dropped, result.diff.removed) == (2, {"community": 1},
                                                                     ["community"])
    assert [key for _, key, _ in codings_in(project)] == ["efficacy"]


def test_removing_an_uncoded_code_needs_no_drop(project, tmp_path):
    load_file(project, SMALL)
    without = write(tmp_path, SMALL.read_text().replace(
        "      - key: rapid_deployment\n        label: Rapid deployment\n"
        "        definition: Speed of the 2022 deployment.\n"
        "        keywords: [within days]\n", ""))
    result = load_file(project, without)
    assert result.diff.removed == ["efficacy.rapid_deployment"] and result.version == 2


# --- diff -----------------------------------------------------------------------------------------

def test_diff_of_two_files(tmp_path):
    new = write(tmp_path, SMALL.read_text()
                .replace("key: limits", "key: constraints\n        renamed_from: efficacy.limits")
                .replace("definition: Speed of the 2022 deployment.",
                         "definition: Speed of the January 2022 deployment.")
                + "  - key: reforms\n    label: Reforms\n")
    old_spec, new_spec = load_codebook_file(SMALL), load_codebook_file(new)
    diff = diff_codebooks(old_spec, new_spec)
    assert diff.added == ["reforms"] and diff.removed == []
    assert diff.renamed == [("efficacy.limits", "efficacy.constraints"),
                            ("efficacy.limits.mandate", "efficacy.constraints.mandate")]
    assert diff.changed == {"efficacy.rapid_deployment": ["definition"]}
    assert render_diff(diff, old_spec, new_spec) == textwrap.dedent("""\
        + added    reforms  Reforms
        > renamed  efficacy.limits -> efficacy.constraints
        > renamed  efficacy.limits.mandate -> efficacy.constraints.mandate
        ~ changed  efficacy.rapid_deployment: definition
        1 added, 2 renamed, 1 changed
    """)


def test_cli_diff(cli, tmp_path):
    new = write(tmp_path, SMALL.read_text().split("  - key: community")[0])
    result = cli("codebook", "diff", SMALL, new)
    assert result.exit_code == 0, result.output
    assert result.stdout == "- removed  community  Security community\n1 removed\n"
    as_json = cli("codebook", "diff", SMALL, new, "--format", "json")
    assert json.loads(as_json.stdout) == {"added": [], "removed": ["community"], "renamed": [],
                                          "changed": {}}


# --- exports --------------------------------------------------------------------------------------

def test_latex_escapes_special_characters():
    assert latex_escape(r"50% & $x_1$ #2 {a} ~b ^c \d") == (
        r"50\% \& \$x\_1\$ \#2 \{a\} \textasciitilde{}b \textasciicircum{}c \textbackslash{}d")


def test_small_codebook_exports_golden(project):
    load_file(project, SMALL)
    with project.read() as conn:
        info = require_codebook(conn)
    check_golden(GOLDEN / "codebook-small.md", export_markdown(info))
    check_golden(GOLDEN / "codebook-small.tex", export_latex(info))
    check_golden(GOLDEN / "codebook-small.yaml", export_yaml(info))


def test_cli_export_matches_library(cli, project, tmp_path):
    load_file(project, SMALL)
    with project.read() as conn:
        info = require_codebook(conn)
    result = cli("codebook", "export", "--format", "latex")
    assert result.exit_code == 0 and result.stdout == export_latex(info)
    out = tmp_path / "codebook.md"
    result = cli("codebook", "export", "-f", "md", "-o", out)
    assert result.exit_code == 0 and out.read_text() == export_markdown(info)
    assert result.stderr == f"wrote {out}\n"


# --- CLI ------------------------------------------------------------------------------------------

def test_cli_load_validate_show(cli, tmp_path):
    result = cli("codebook", "validate", SMALL)
    assert (result.exit_code, result.stderr) == (0, "ok: 2 themes, 5 codes\n")
    result = cli("codebook", "load", SMALL)
    assert result.exit_code == 0
    assert result.stderr == "loaded codebook version 1: Small test codebook (2 themes, 5 codes)\n"
    result = cli("codebook", "load", SMALL)
    assert result.stderr == (f"unchanged: {SMALL} is already the current codebook (version 1, "
                             "2 themes, 5 codes)\n")
    changed = write(tmp_path, SMALL.read_text() + "  - key: reforms\n    label: Reforms\n")
    result = cli("codebook", "load", changed)
    assert result.stderr == ("loaded codebook version 2: Small test codebook (3 themes, 6 codes)\n"
                             "+ added    reforms  Reforms\n1 added\n")
    shown = cli("codebook", "show", "--format", "json")
    data = json.loads(shown.stdout)
    assert data["version"] == 2 and [c["key"] for c in data["codes"]][-1] == "reforms"
    table = cli("codebook", "show")
    assert table.exit_code == 0
    assert "efficacy.limits.mandate  Narrow mandate  0" in table.stdout


def test_cli_show_counts_codings(cli, project):
    load_file(project, SMALL)
    add_codings(project, [("alice", 1, "efficacy"), ("alice", 2, "efficacy.limits.mandate"),
                          ("bob", 2, "efficacy.limits.mandate")])
    data = json.loads(cli("codebook", "show", "-f", "json").stdout)
    counts = {c["key"]: (c["codings"], c["codings_total"]) for c in data["codes"]}
    assert counts == {"efficacy": (1, 3), "efficacy.rapid_deployment": (0, 0),
                      "efficacy.limits": (0, 2), "efficacy.limits.mandate": (2, 2),
                      "community": (0, 0)}
    table = cli("codebook", "show").stdout
    assert "efficacy  CSTO efficacy  1 (total 3)" in table


def test_cli_show_without_codebook(cli, project):
    result = cli("codebook", "show")
    assert result.exit_code == 1
    assert result.stderr == ("error: no codebook loaded — run `coder codebook load "
                             "codebooks/csto-2022.yaml`\n")


def test_cli_load_refused_removal_and_drop(cli, project, tmp_path, db_path):
    load_file(project, SMALL)
    add_codings(project, [("alice", 1, "community")])
    without = write(tmp_path, SMALL.read_text().split("  - key: community")[0])
    before = dump_db(db_path)
    result = cli("codebook", "load", without)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the new codebook removes a code that codings use: "
                                    "community (1 coding) — ")
    assert dump_db(db_path) == before
    result = cli("codebook", "load", without, "--drop")
    assert result.exit_code == 0
    assert "deleted 1 coding of removed code community\n" in result.stderr
    assert codings_in(project) == []


BASE = """\
name: Broken
version: 1
themes:
  - key: efficacy
    label: Efficacy
    codes:
      - key: rapid
        label: Rapid
"""

MALFORMED = {
    # name: (file text, line, message after "FILE:LINE: ")
    "duplicate code key": (
        BASE + "      - key: rapid\n        label: Again\n", 9,
        "duplicate code key 'efficacy.rapid' (first on line 7) — give each code a different key"),
    "duplicate mapping key": (
        BASE + "        label: Rapid again\n", 9,
        "duplicate field 'label' in one mapping (the mapping starts on line 7) — remove one of "
        "them or merge their values"),
    "bad key syntax": (
        BASE + "  - key: Security-Community\n    label: S\n", 9,
        "bad key 'Security-Community' — a key is lower-case letters, digits and _, starting "
        "with a letter (e.g. rapid_deployment)"),
    "missing label": (
        BASE + "  - key: reforms\n    definition: Reforms after January.\n", 9,
        "code reforms has no label — add `label: …`"),
    "unknown field": (
        BASE + "        colour_hex: '#ffffff'\n", 9,
        "unknown field 'colour_hex' in code efficacy.rapid — allowed fields: key, label, "
        "labels, definition, include, exclude, examples, keywords, colour, codes, renamed_from, "
        "codable"),
    "bad regex": (
        BASE + "        keywords:\n          - quick\n          - /deploy(ed/\n", 11,
        "keyword /deploy(ed/ of code efficacy.rapid is not a valid regular expression (missing "
        "), unterminated subpattern at position 6) — fix the pattern between the slashes "
        "(Python `re` syntax)"),
    "YAML syntax error": (
        BASE + "  - key: reforms\n    label: 'Reforms\n", 10,
        "YAML syntax error: while scanning a quoted scalar: found unexpected end of stream — "
        "check indentation, colons, quotes and brackets on this line"),
    "missing themes": (
        "name: Broken\nversion: 1\ncodes: []\n", 1,
        None),
    "wrong type": (
        BASE + "        include: 5\n", 9,
        "include of code efficacy.rapid is a number, not a list — write `include: [first, "
        "second]` or one `- item` per line"),
    "bad colour": (
        BASE + "        colour: red\n", 9,
        "colour 'red' of code efficacy.rapid is not #rrggbb — write a hex colour in quotes, "
        "e.g. colour: \"#1f77b4\""),
}


@pytest.mark.parametrize("case", [c for c in MALFORMED if c != "missing themes"])
def test_malformed_codebook_via_cli(case, cli, project, tmp_path, db_path):
    text, line, problem = MALFORMED[case]
    path = write(tmp_path, text)
    load_file(project, SMALL)
    before = dump_db(db_path)
    for command in ("load", "validate"):
        result = cli("codebook", command, path)
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr == f"error: {path}:{line}: {problem}\n"
    assert dump_db(db_path) == before


def test_missing_themes_reports_both_problems(cli, tmp_path):
    path = write(tmp_path, MALFORMED["missing themes"][0])
    result = cli("codebook", "validate", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {path}:1: missing `themes` list — add `themes:` with one `- key: …` entry per "
        "theme",
        f"error: {path}:3: unknown field 'codes' in the codebook — allowed fields: name, "
        "version, description, themes",
    ]


def test_missing_file(cli, tmp_path):
    result = cli("codebook", "validate", tmp_path / "nope.yaml")
    assert result.exit_code == 1
    assert result.stderr == (f"error: {tmp_path / 'nope.yaml'}: no such codebook file — give "
                             "the path of the codebook's .yaml file\n")


def test_every_codebook_command_and_option_has_help():
    from coder.cli import app
    from typer.main import get_command

    group = get_command(app).commands["codebook"]
    assert group.help
    for name, command in group.commands.items():
        assert command.help, name
        for param in command.params:
            assert getattr(param, "help", None), f"{name} {param.name}"


def test_cli_diff_against_the_current_codebook(cli, project, tmp_path):
    load_file(project, SMALL)
    new = write(tmp_path, SMALL.read_text().replace("label: Narrow mandate", "label: Mandate"))
    result = cli("codebook", "diff", new)
    assert result.exit_code == 0
    assert result.stdout == "~ changed  efficacy.limits.mandate: label\n1 changed\n"
