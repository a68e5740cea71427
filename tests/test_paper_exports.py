"""Exports that go into a paper as they are: LaTeX that compiles and fits, XLSX and CSV that
read back as numbers, disclosure control that cannot be undone, figures, Guest et al.

Every LaTeX export is compiled with ``pdflatex`` (twice, for longtables) and its log is read:
no error, no overfull box over 1 pt, no float too large for the page. Without pdflatex the
tests skip — under ``CI=true`` they fail instead (CI installs TeX Live: scripts/ensure-texlive).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from conftest import run, write
from test_reports import _invoke, needs_sample, sample, small, small_db  # noqa: F401

HERE = Path(__file__).parent
SRC = HERE.parent / "src" / "coder"


def needs(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is not installed (CI installs it: scripts/ensure-texlive)")
        pytest.skip(f"{tool} is not installed — run scripts/ensure-texlive")
    return path


# ``coder ARGS`` with ``sys.argv`` set (as test_reports._invoke), exit code 0 asserted
run_ok = partial(run, argv=True)


# --- LaTeX ---------------------------------------------------------------------------------

def compile_latex(tmp_path: Path, *bodies: str) -> str:
    """Compile the bodies in one article (the packages their ``% requires`` lines name) and
    return the log; fail on errors, overfull boxes over 1 pt and floats too large."""
    needs("pdflatex")
    packages: list[str] = []
    for body in bodies:
        for match in re.finditer(r"% requires \\usepackage\{([^}]*)\}", body):
            packages += [p for p in match.group(1).split(",") if p not in packages]
    assert packages, "an export must say which packages it needs"
    doc = "\n".join([r"\documentclass{article}", r"\usepackage[T1]{fontenc}",
                     r"\usepackage{" + ",".join(packages) + "}", r"\begin{document}",
                     *[b + "\n\\clearpage" for b in bodies], r"\end{document}"])
    tex = tmp_path / "paper.tex"
    tex.write_text(doc, encoding="utf-8")
    for _ in range(2):
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                               tex.name], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
    log = (tmp_path / "paper.log").read_text(encoding="latin-1")
    assert proc.returncode == 0, log[-3000:]
    assert (tmp_path / "paper.pdf").exists()
    overfull = [float(m) for m in re.findall(r"Overfull \\[hv]box \(([\d.]+)pt too", log)]
    assert all(x <= 1.0 for x in overfull), [line for line in log.splitlines()
                                              if "Overfull" in line]
    assert "Float too large" not in log
    assert "multiply defined" not in log, "two tables share a \\label"
    return log


def test_small_latex_exports_compile(small, tmp_path):
    bodies = [small(*args).stdout for args in (
        ["report", "themes", "--coder", "alice", "-f", "latex"],
        ["report", "themes", "--coder", "alice", "--unit", "segments", "-f", "latex"],
        ["report", "themes", "--codes", "--coder", "alice", "-f", "latex"],
        ["report", "themes", "--min-cell", "2", "-c", "bob", "-f", "latex"],
        ["report", "cooccurrence", "--coder", "alice", "-f", "latex"],
        ["report", "saturation", "--coder", "alice", "-f", "latex"],
        ["quotes", "--theme", "costs", "--by", "country", "-c", "alice", "-f", "latex"],
        ["transcripts", "list", "-f", "latex"],
    )]
    compile_latex(tmp_path, *bodies)
    labels = [m for b in bodies for m in re.findall(r"\\label\{([^}]*)\}", b)]
    assert len(labels) == len(set(labels)), labels


@needs_sample
def test_sample_latex_exports_fit_the_page(sample, tmp_path):
    """The paper's tables: codes by country (participants and segments: two labels), with
    --min-cell 3, co-occurrence of codes, saturation — every one compiles and fits."""
    bodies = [run_ok(sample, *args).stdout for args in (
        ["report", "themes", "--by", "country", "-f", "latex"],
        ["report", "themes", "--by", "country", "--codes", "-f", "latex"],
        ["report", "themes", "--by", "country", "--codes", "--unit", "segments", "-f",
         "latex"],
        ["report", "themes", "--by", "country", "--codes", "--min-cell", "3", "-f", "latex"],
        ["report", "themes", "--by", "participant", "--codes", "-f", "latex"],
        ["report", "cooccurrence", "--codes", "-f", "latex"],
        ["report", "saturation", "-f", "latex"],
    )]
    compile_latex(tmp_path, *bodies)
    codes = bodies[1]
    assert r"\begin{longtable}" in codes and r"\endhead" in codes  # long: a longtable
    assert "& (N=3) &" in codes                                   # N on a second header row
    wide = bodies[4]                                              # 11 participants + Total
    assert r"\begin{landscape}" in wide or r"\resizebox" in wide


def test_latex_escapes_everything(small):
    from coder.reports.latex import escape, latex_table

    assert escape("<3 & 50% | a_b > #1 ~ ^ \\ {x} $") == (
        r"\textless{}3 \& 50\% \textbar{} a\_b \textgreater{} \#1 \textasciitilde{} "
        r"\textasciicircum{} \textbackslash{} \{x\} \$")
    tex = small("report", "themes", "--min-cell", "2", "-c", "bob", "-f", "latex").stdout
    body = "\n".join(line for line in tex.splitlines() if not line.startswith("%"))
    assert "<" not in body and "[c]" in body
    # the suppression note is printed under the table, not hidden in a comment
    note = body[body.index(r"\begin{minipage}"):]
    assert "[c]: not shown" in note and "complementary suppression" in note
    text = latex_table(["A", "B"], [["x", "1"]], caption="c", label="tab:x",
                       notes=["n < 3"])
    assert r"n \textless{} 3\par" in text


# --- CSV and XLSX --------------------------------------------------------------------------

def test_csv_is_data_only_with_a_provenance_sidecar(small, tmp_path):
    import pandas as pd

    out = tmp_path / "themes.csv"
    small("report", "themes", "--coder", "alice", "-f", "csv", "-o", out)
    frame = pd.read_csv(out)
    assert list(frame["key"]) == ["trust", "costs", "(any)"]
    assert frame["Alpha n"].tolist() == [2, 1, 2]
    assert frame["Alpha share"].tolist() == [1.0, 0.5, 1.0]
    assert all(pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns[2:])
    side = json.loads(out.with_name("themes.csv.provenance.json").read_text())
    assert side["groups"]["Alpha"] == {"participants": 2, "segments": 4}
    assert side["provenance"]["coder"] == "alice" and len(side["provenance"]["project_hash"]) == 64
    # the other CSV exports too: suppressed cells are empty, never text in a number column
    for args, name in ((["report", "themes", "--min-cell", "2", "-c", "bob"], "m.csv"),
                       (["report", "saturation", "-c", "alice"], "s.csv"),
                       (["report", "cooccurrence", "-c", "alice"], "c.csv"),
                       (["quotes", "--theme", "trust", "-c", "alice"], "q.csv"),
                       (["transcripts", "list"], "t.csv")):
        path = tmp_path / name
        small(*args, "-f", "csv", "-o", path)
        frame = pd.read_csv(path)
        assert not frame.empty
        assert not any(str(v).startswith("#") for v in frame.iloc[:, 0]), name
    frame = pd.read_csv(tmp_path / "m.csv")
    assert all(pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns[2:])


def test_xlsx_has_numbers_formats_and_provenance(small, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "themes.xlsx"
    small("report", "themes", "--by", "country", "--coder", "alice", "-f", "xlsx", "-o", path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Themes by country", "Groups", "Provenance"]
    ws = wb["Themes by country"]
    assert ws.freeze_panes == "C2"
    header = [c.value for c in ws[1]]
    assert header[:4] == ["key", "label", "Alpha n", "Alpha share"]
    assert all(c.font.bold for c in ws[1])
    share = ws.cell(row=2, column=4)
    assert share.value == 1.0 and share.number_format == "0.0%"
    assert ws.cell(row=3, column=4).value == 0.5
    assert ws.cell(row=2, column=3).number_format == "0"
    assert [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)] == [
        "trust", "costs", "(any)"]                                   # no (N) row in the data
    assert ws.column_dimensions["B"].width >= len("Costs & burdens")
    groups = wb["Groups"]
    assert [[c.value for c in row] for row in groups.iter_rows()][1] == ["Alpha", 2, 4]
    prov = {r[0]: r[1] for r in wb["Provenance"].iter_rows(min_row=2, values_only=True)}
    assert prov["coder"] == "alice" and len(prov["project_hash"]) == 64
    assert prov["command"].startswith("coder report themes")
    props = wb.properties
    assert props.title.startswith("Themes by country") and props.creator.startswith("coder ")
    assert "project: sha256 " in props.description and "sha256" in props.keywords
    for args in (["report", "saturation", "-c", "alice"], ["report", "cooccurrence"]):
        out = tmp_path / "x.xlsx"
        small(*args, "-f", "xlsx", "-o", out)
        book = load_workbook(out)
        assert "Provenance" in book.sheetnames
        assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in book.sheetnames)
        assert book.worksheets[0].freeze_panes in ("A2", "C2")


def test_sheet_names_are_clean_and_unique():
    from coder.render import sheet_name

    assert sheet_name("Themes by country: participants [x]") == "Themes by country participants"
    assert sheet_name("a" * 40) == "a" * 31
    assert sheet_name("Groups", ["groups"]) == "Groups (2)"


# --- disclosure control: an attacker who solves the published margins ----------------------

def attack(csv_path: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """Read a published theme table (the CSV and its sidecar) and, for every empty (hidden)
    cell, find the smallest and largest integer value that the published totals, group sizes
    and the table's structure allow — written here independently of the library."""
    import numpy as np
    import pandas as pd
    from scipy.optimize import Bounds, LinearConstraint, milp

    frame = pd.read_csv(csv_path, keep_default_na=False, na_values=[""])
    side = json.loads(csv_path.with_name(csv_path.name + ".provenance.json").read_text())
    groups = [c[:-2] for c in frame.columns if c.endswith(" n")]
    *parts, total = groups
    size = {g: side["groups"][g][side["unit"]] for g in groups}
    keys = list(frame["key"])
    value = {(g, k): frame.loc[i, f"{g} n"] for i, k in enumerate(keys) for g in groups}
    hidden = sorted(c for c, v in value.items() if pd.isna(v))
    at = {c: i for i, c in enumerate(hidden)}
    a_rows, lo, hi = [], [], []

    def relation(terms, low, high):
        row, const = np.zeros(len(hidden)), 0.0
        for coef, cell in terms:
            if cell in at:
                row[at[cell]] += coef
            else:
                const += coef * value[cell]
        if row.any():
            a_rows.append(row)
            lo.append(low - const)
            hi.append(high - const)

    for k in keys:                  # each expert is in one country: groups add up to Total
        relation([(1, (g, k)) for g in parts] + [(-1, (total, k))], 0, 0)
    for g in groups:                # "any" row at least each row, at most the themes' sum
        for k in keys[:-1]:
            relation([(1, (g, "(any)")), (-1, (g, k))], 0, np.inf)
            if "." in k:
                relation([(1, (g, k.rsplit(".", 1)[0])), (-1, (g, k))], 0, np.inf)
        relation([(1, (g, k)) for k in keys[:-1] if "." not in k] + [(-1, (g, "(any)"))],
                 0, np.inf)
    constraints = [LinearConstraint(np.array(a_rows), lo, hi)]
    bounds = Bounds(np.zeros(len(hidden)), [size[g] for g, _k in hidden])
    out = {}
    for cell in hidden:
        ends = []
        for sign in (1, -1):
            c = np.zeros(len(hidden))
            c[at[cell]] = sign
            res = milp(c, constraints=constraints, bounds=bounds,
                       integrality=np.ones(len(hidden)))
            assert res.status == 0, "the published table must be consistent"
            ends.append(round(sign * res.fun))
        out[cell] = (ends[0], ends[1])
    return out


@needs_sample
@pytest.mark.parametrize("args", [["--min-cell", "3"], ["--min-cell", "2"],
                                  ["--min-cell", "3", "--codes"],
                                  ["--min-cell", "3", "--unit", "segments"]],
                         ids=["themes-3", "themes-2", "codes-3", "segments-3"])
def test_no_suppressed_cell_can_be_recovered(sample, tmp_path, args):
    out = tmp_path / "t.csv"
    run_ok(sample, "report", "themes", "--by", "country", *args, "-f", "csv", "-o", out)
    ranges = attack(out)
    assert len(ranges) >= 20                      # the single-expert countries, at least
    recovered = {c: r for c, r in ranges.items() if r[0] == r[1]}
    assert not recovered, recovered


@needs_sample
def test_primary_suppression_alone_would_be_undone(sample, tmp_path):
    """The issue's case: Total 11 = KZ 3 + RU 4 gives away the four single experts. Blanking
    only the small cells of that CSV lets the attacker recover them; ours does not."""
    import pandas as pd

    full = tmp_path / "full.csv"
    run_ok(sample, "report", "themes", "--by", "country", "-f", "csv", "-o", full)
    frame = pd.read_csv(full)
    groups = [c[:-2] for c in frame.columns if c.endswith(" n")]
    for g in groups:
        small_cells = frame[f"{g} n"] < 3
        frame.loc[small_cells, [f"{g} n", f"{g} share"]] = None
    naive = tmp_path / "naive.csv"
    frame.to_csv(naive, index=False)
    shutil.copy(full.with_name("full.csv.provenance.json"),
                naive.with_name("naive.csv.provenance.json"))
    ranges = attack(naive)
    assert ranges[("Armenia", "power_transfer")] == (1, 1)      # undone
    data = json.loads(run_ok(sample, "report", "themes", "--min-cell", "3", "-f",
                             "json").stdout)
    assert "power_transfer" in data["groups"]["Armenia"]["suppressed"]
    assert "power_transfer" in data["total"]["suppressed"]       # hidden with them


def test_complementary_suppression_unit():
    """A hand-made table: row r = (1, 1, 5 | 7) with groups of N = (1, 1, 6). Hiding the two
    ones leaves them recoverable (7 - 5 = 2 = 1 + 1); a third cell is hidden with them."""
    from coder.reports.disclosure import Layout, cell_ranges, protect

    groups = ["A", "B", "C"]
    value = {("A", "r"): 1, ("B", "r"): 1, ("C", "r"): 5, ("T", "r"): 7,
             ("A", "*"): 1, ("B", "*"): 1, ("C", "*"): 6, ("T", "*"): 8}
    layout = Layout(groups=groups, total="T", keys=["r"], any_key="*",
                    base={"A": 1, "B": 1, "C": 6, "T": 8}, value=value, parents={},
                    top=["r"])
    primary = {("A", "r"), ("B", "r"), ("A", "*"), ("B", "*")}
    assert cell_ranges(layout, primary)[("A", "r")] == (1, 1)
    hidden = protect(layout, primary)
    assert hidden > primary
    assert all(a < b for a, b in cell_ranges(layout, hidden).values())


# --- saturation: Guest, Namey & Chen (2020) ------------------------------------------------

def guest_by_hand(new: list[int], base: int, run: int, threshold: float) -> int | None:
    base_codes = sum(new[:base])
    for start in range(base, len(new) - run + 1):      # 0-based first interview of the run
        if base_codes and sum(new[start:start + run]) / base_codes <= threshold:
            return start
    return None


@needs_sample
def test_guest_saturation_both_settings(sample):
    data = json.loads(run_ok(sample, "report", "saturation", "--coder", "alice", "-f",
                             "json").stdout)
    new = [i["new"] for i in data["interviews"]]
    settings = [(g["base"], g["run"]) for g in data["guest"]]
    assert settings == [(4, 2), (6, 3)]
    for g in data["guest"]:
        assert g["threshold"] == 0.05
        assert g["base_codes"] == sum(new[:g["base"]])
        assert g["saturation"] == guest_by_hand(new, g["base"], g["run"], 0.05)
        for r in g["runs"]:
            assert r["new"] == sum(new[r["start"] - 1:r["end"]])
            assert r["ratio"] == pytest.approx(r["new"] / g["base_codes"])
    md = run_ok(sample, "report", "saturation", "--coder", "alice", "-f", "md").stdout
    assert "Guest, Namey & Chen (2020), base 4, run 2, threshold 5%:" in md


def test_guest_saturation_unit_and_per_group(small_db):
    from coder.reports.saturation import Interview, guest_saturation, saturation_by_group

    new = [5, 3, 2, 1, 1, 0, 0, 0, 1]
    interviews, total = [], 0
    for i, n in enumerate(new, start=1):
        total += n
        interviews.append(Interview(i, f"T{i}", f"P{i}", None, n,
                                    tuple(f"c{total - k}" for k in range(n)), total))
    four = guest_saturation(interviews, 4, 2, 0.05)
    assert four.base_codes == 11
    assert [(r.start, r.end, r.new) for r in four.runs][:3] == [(5, 6, 1), (6, 7, 0),
                                                                 (7, 8, 0)]
    assert four.point == 5                                   # run 6–7 adds 0% of 11
    assert guest_saturation(interviews, 4, 2, 0.10).point == 4   # 1/11 = 9% <= 10%
    six = guest_saturation(interviews, 6, 3, 0.05)
    assert six.base_codes == 12 and six.point is None        # run 7–9 adds 1/12 = 8%
    curves = saturation_by_group(str(small_db), by="country", order="id", coder="alice")
    assert list(curves) == ["Alpha", "Beta & Co", "(none)"]
    assert [i.transcript for i in curves["Alpha"].interviews] == ["AA-01", "AA-02"]
    assert curves["Alpha"].guest[0].summary().endswith("needs at least 6 interviews")


# --- the layers ----------------------------------------------------------------------------

def test_nothing_below_the_cli_imports_it():
    offenders = []
    for path in SRC.rglob("*.py"):
        if "cli" in path.relative_to(SRC).parts or path.name == "__main__.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*(from coder\.cli\b|import coder\.cli\b)", text, re.M):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []


def test_report_modules_stay_light():
    code = ("import sys, coder.reports.latex, coder.reports.disclosure, coder.render; "
            "print([m for m in ('pandas', 'matplotlib', 'scipy', 'numpy') if m in "
            "sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# --- figures -------------------------------------------------------------------------------

def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_saturation_legend_never_covers_the_data(small_db):
    from coder.reports.figures import OKABE_ITO, saturation_figure
    from coder.reports.saturation import saturation

    curve = saturation(str(small_db), coder="alice", order="id")
    fig = saturation_figure(curve)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    ax = fig.axes[0]
    assert not _boxes_overlap(box, ax.get_window_extent(renderer))   # outside the data area
    for artist in [*ax.patches, *ax.lines, *ax.get_xticklabels(), ax.title, ax.xaxis.label]:
        assert not _boxes_overlap(box, artist.get_window_extent(renderer)), artist
    colours = {c.lower() for c in OKABE_ITO.values()}
    assert {p.get_facecolor()[:3] for p in ax.patches} and all(
        "#%02x%02x%02x" % tuple(round(v * 255) for v in p.get_facecolor()[:3]) in colours
        for p in ax.patches)
    assert all(line.get_color().lower() in colours for line in ax.lines)


def test_heatmap_has_a_total_column_and_theme_bands(small_db):
    from coder.reports import theme_frequencies
    from coder.reports.figures import DOUBLE_COLUMN, MIN_FONT, theme_heatmap_figure

    table = theme_frequencies(str(small_db), coder="alice", codes=True)
    fig = theme_heatmap_figure(table)
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[-1].startswith("Total") and "(N=4)" in ticks[-1]
    texts = [t.get_text() for t in ax.texts]
    assert "3\n75%" in texts                                  # trust, Total: 3 of 4
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["Trust", "Costs & burdens"]               # themes start the bands
    assert fig.get_figwidth() <= DOUBLE_COLUMN
    assert min(t.get_fontsize() for t in ax.texts) >= MIN_FONT
    renderer = fig.canvas.get_renderer()
    labels = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
    assert not any(_boxes_overlap(a, b) for a, b in zip(labels, labels[1:]))


def test_figures_as_pdf(small, tmp_path):
    for args in (["report", "themes", "-c", "alice"], ["report", "saturation", "-c", "alice"],
                 ["report", "cooccurrence", "-c", "bob"]):
        path = tmp_path / "figure.pdf"
        small(*args, "--plot", path)
        data = path.read_bytes()
        assert data.startswith(b"%PDF-") and b"/CreationDate" not in data
        assert b"sha256:" in data                            # provenance in the info dict


# --- labels in another language ------------------------------------------------------------

BILINGUAL = """\
name: Bilingual
version: 1
themes:
  - key: trust
    label: Trust
    labels: {en: Trust, ru: Доверие}
    codes:
      - key: high
        label: High trust
        labels: {ru: Высокое доверие}
      - key: low
        label: Low trust
  - key: costs
    label: Costs & burdens
    labels: {ru: Издержки}
"""


def test_codebook_labels_in_several_languages(tmp_path):
    from coder.codebook import CodebookInvalid, parse_codebook

    book = parse_codebook(BILINGUAL)
    assert book.get("trust").labels == {"en": "Trust", "ru": "Доверие"}
    assert book.label("trust.high", "ru") == "Высокое доверие"
    assert book.label("trust.low", "ru") == "Low trust"        # no translation: its label
    assert book.get("trust.low").labels == {}
    with pytest.raises(CodebookInvalid) as err:
        parse_codebook(BILINGUAL.replace("{ru: Издержки}", "Издержки"))
    assert "labels of code costs is text, not a mapping" in str(err.value)
    with pytest.raises(CodebookInvalid) as err:
        parse_codebook(BILINGUAL.replace("{ru: Издержки}", "{RUS!: Издержки}"))
    assert "bad language code 'RUS!'" in str(err.value)


def test_lang_labels_in_reports_and_figures(tmp_path):
    from test_reports import build_small

    small_db = tmp_path / "bi.db"
    build_small(lambda *args: _invoke(small_db, *args), tmp_path)
    run_ok(small_db, "codebook", "load", write(tmp_path / "bi.yaml", BILINGUAL))
    data = run_ok(small_db, "report", "themes", "--codes", "-c", "alice", "--lang", "ru",
                  "-f", "md")
    assert "| Доверие |" in data.stdout and "| – Высокое доверие |" in data.stdout
    assert "| – Low trust |" in data.stdout
    assert "have no label in 'ru'" in data.stderr
    png = tmp_path / "ru.png"
    run_ok(small_db, "report", "themes", "-c", "alice", "--lang", "ru", "--plot", png)
    assert png.stat().st_size > 10_000
    bad = _invoke(small_db, "report", "themes", "-c", "alice", "--lang", "kk")
    assert bad.exit_code == 1
    assert bad.stderr.strip().startswith("error: the codebook has no labels in 'kk' "
                                         "(languages: en, ru)")
