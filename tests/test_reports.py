"""Reports: theme frequencies per group, co-occurrence, saturation, quotes, exports, figures.

Expected numbers are computed here, independently of the library, from the sample codings
CSVs and participants.csv with the csv module. Golden files (tests/golden/reports/) come from a
small synthetic project built in the tests; regenerate them with ``UPDATE_GOLDEN=1 pytest
tests/test_reports.py`` after an intended change, and review the diff. Provenance lines that
depend on the software version or on hashes are normalized before comparing.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import defaultdict
from functools import partial
from itertools import combinations
from pathlib import Path

import jsonschema
import pytest

from conftest import CODEBOOK, CODINGS, CORPUS, SHARED, check_golden, run

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "reports"
SCHEMA = SHARED / "contract" / "themes-report.schema.json"
CODERS = ("alice", "bob", "carol")
THEMES = ["power_transfer", "reforms", "foreign_policy", "csto_efficacy", "security_community"]

needs_sample = pytest.mark.skipif(
    not (CODEBOOK.exists() and all((CODINGS / f"{c}.csv").exists() for c in CODERS)
         and (CORPUS / "participants.csv").exists()),
    reason="the sample corpus, codebook or codings are not there yet")


# --- independent hand computation from the CSV files ---------------------------------------

def read_codings(name: str) -> dict[tuple[str, int], set[str]]:
    """(transcript, segment) → codes; a row with an empty code is a reviewed segment."""
    out: dict[tuple[str, int], set[str]] = defaultdict(set)
    with open(CODINGS / f"{name}.csv", newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            unit = (row["transcript"].strip(), int(row["segment"]))
            out[unit]  # noqa: B018 - reviewed even without a code
            if row["code"].strip():
                out[unit].add(row["code"].strip())
    return dict(out)


def read_meta() -> dict[str, dict[str, str]]:
    with open(CORPUS / "participants.csv", newline="", encoding="utf-8-sig") as f:
        return {row["transcript"]: row for row in csv.DictReader(f)}


def majority_units(level: str) -> dict[tuple[str, int], set[str]]:
    """Keys kept by at least two of the three coders: themes (any code of the theme counts)
    or, at code level, each code key exactly."""
    per_coder = [read_codings(c) for c in CODERS]
    units = set.intersection(*(set(d) for d in per_coder))
    out = {}
    for unit in units:
        votes: dict[str, int] = defaultdict(int)
        for data in per_coder:
            keys = {k.split(".")[0] for k in data[unit]} if level == "themes" else data[unit]
            for k in keys:
                votes[k] += 1
        out[unit] = {k for k, v in votes.items() if v >= 2}
    return out


def theme_units(units: dict[tuple[str, int], set[str]]) -> dict[tuple[str, int], set[str]]:
    return {u: {k.split(".")[0] for k in codes} for u, codes in units.items()}


def expected_groups(units: dict[tuple[str, int], set[str]], unit: str, keys: list[str],
                    by: str = "country") -> dict:
    """The ``groups`` object of the report, computed by hand. ``units`` maps segments to the
    keys they count for."""
    meta = read_meta()
    people: dict[str, set[str]] = defaultdict(set)
    segs: dict[str, int] = defaultdict(int)
    kp: dict[tuple[str, str], set[str]] = defaultdict(set)
    ks: dict[tuple[str, str], int] = defaultdict(int)
    for (t, _n), codes in units.items():
        group, person = meta[t][by], meta[t]["participant"]
        people[group].add(person)
        segs[group] += 1
        for k in codes:
            kp[(group, k)].add(person)
            ks[(group, k)] += 1
    out = {}
    for g in people:
        themes = {}
        for k in keys:
            p, s = len(kp[(g, k)]), ks[(g, k)]
            share = p / len(people[g]) if unit == "participants" else s / segs[g]
            themes[k] = {"participants": p, "segments": s, "share": share}
        out[g] = {"participants": len(people[g]), "segments": segs[g], "themes": themes}
    return out


def strip_groups(report: dict) -> dict:
    return {g: {"participants": v["participants"], "segments": v["segments"],
                "themes": v["themes"]} for g, v in report["groups"].items()}


def assert_groups_equal(actual: dict, expected: dict) -> None:
    assert set(actual) == set(expected)
    for g, block in expected.items():
        assert actual[g]["participants"] == block["participants"], g
        assert actual[g]["segments"] == block["segments"], g
        for k, cell in block["themes"].items():
            got = actual[g]["themes"][k]
            assert got["participants"] == cell["participants"], (g, k)
            assert got["segments"] == cell["segments"], (g, k)
            assert got["share"] == pytest.approx(cell["share"]), (g, k)


def validate(report: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)


# --- the sample project, built once --------------------------------------------------------

# ``coder ARGS`` with ``sys.argv`` set as a shell would (provenance records the command);
# the exit code is left to the caller
_invoke = partial(run, expect=None, argv=True)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The sample corpus with the codebook, three coders and their majority consensus."""
    if not (CODEBOOK.exists() and (CORPUS / "participants.csv").exists()):
        pytest.skip("the sample corpus is not there yet")
    db = tmp_path_factory.mktemp("sample") / "sample.db"
    steps = [("import", CORPUS, "--meta", CORPUS / "participants.csv"),
             ("codebook", "load", CODEBOOK),
             *[("codings", "import", "--new-coder", CODINGS / f"{c}.csv", "--coder", c) for c in CODERS],
             ("reconcile", "--coders", ",".join(CODERS), "--rule", "majority",
              "--as", "consensus")]
    for step in steps:
        result = _invoke(db, *step)
        assert result.exit_code == 0, (step, result.output)
    return db


def report(db: Path, *args) -> dict:
    result = _invoke(db, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- theme frequencies on the sample corpus ------------------------------------------------

@needs_sample
@pytest.mark.parametrize("unit", ["participants", "segments"])
def test_themes_by_country_for_one_coder_match_hand_counts(sample, unit):
    data = report(sample, "report", "themes", "--by", "country", "--coder", "alice",
                  "--unit", unit)
    validate(data)
    assert (data["by"], data["coder"], data["unit"]) == ("country", "alice", unit)
    expected = expected_groups(theme_units(read_codings("alice")), unit, THEMES)
    assert_groups_equal(strip_groups(data), expected)
    assert list(data["groups"]["Kazakhstan"]["themes"]) == THEMES  # codebook order


@needs_sample
@pytest.mark.parametrize("unit", ["participants", "segments"])
@pytest.mark.parametrize("coder", ["consensus", "majority"])
def test_themes_for_consensus_and_majority_match_hand_counts(sample, unit, coder):
    data = report(sample, "report", "themes", "--by", "country", "--coder", coder,
                  "--unit", unit)
    validate(data)
    assert data["coder"] == coder
    assert_groups_equal(strip_groups(data),
                        expected_groups(majority_units("themes"), unit, THEMES))


@needs_sample
def test_sample_design_eleven_experts_in_six_countries(sample):
    data = report(sample, "report", "themes")  # defaults: --by country, consensus
    assert data["coder"] == "consensus"
    sizes = {g: v["participants"] for g, v in data["groups"].items()}
    assert sizes == {"Armenia": 1, "Belarus": 1, "Kazakhstan": 3, "Kyrgyzstan": 1,
                     "Russia": 4, "Tajikistan": 1}
    assert data["total"]["participants"] == 11
    assert data["total"]["segments"] == len(read_codings("alice"))


@needs_sample
@pytest.mark.parametrize("coder", ["consensus", "majority", "alice", "bob", "carol"])
def test_security_community_count_of_the_paper(sample, coder):
    """Footnote 14: two of eleven experts see an established security community, nine not."""
    data = report(sample, "report", "themes", "--by", "country", "--codes", "--coder", coder)
    validate(data)
    total = data["total"]
    assert total["participants"] == 11
    assert total["themes"]["security_community.established"]["participants"] == 2
    assert total["themes"]["security_community.not_yet_formed"]["participants"] == 9
    established = {g for g, v in data["groups"].items()
                   if v["themes"]["security_community.established"]["participants"]}
    assert established == {"Kazakhstan", "Russia"}


@needs_sample
def test_code_level_counts_match_hand_counts(sample):
    codes_units = majority_units("codes")
    keys = sorted({k for codes in codes_units.values() for k in codes if "." in k})
    data = report(sample, "report", "themes", "--codes", "--coder", "consensus")
    assert data["level"] == "codes"
    expected = expected_groups(codes_units, "participants", keys)
    assert_groups_equal(strip_groups(data), expected)
    # a theme row at code level counts its sub-codes: it equals the theme-level row
    themes = report(sample, "report", "themes", "--coder", "consensus")
    for g, block in themes["groups"].items():
        for t in THEMES:
            assert data["groups"][g]["themes"][t] == block["themes"][t]


@needs_sample
def test_majority_equals_the_stored_majority_consensus(sample):
    from coder.reports import theme_frequencies

    a = theme_frequencies(str(sample), coder="majority", codes=True).to_json_dict(
        provenance=False)
    b = theme_frequencies(str(sample), coder="consensus", codes=True).to_json_dict(
        provenance=False)
    assert a["groups"] == b["groups"] and a["total"] == b["total"]


@needs_sample
def test_cli_json_equals_the_library_result(sample):
    from coder.reports import theme_frequencies

    args = ["report", "themes", "--by", "mode", "--unit", "segments", "--coder", "bob",
            "--format", "json"]
    cli_data = json.loads(_invoke(sample, *args).stdout)
    lib = theme_frequencies(str(sample), by="mode", unit="segments", coder="bob",
                            command="coder " + " ".join(args))
    assert cli_data == lib.to_json_dict()
    assert set(cli_data["groups"]) == {"online", "offline"}


@needs_sample
def test_library_frames(sample):
    from coder.reports import load_codings, theme_frequencies
    from coder.db.engine import open_project

    table = theme_frequencies(str(sample), by="country")
    frame = table.to_frame()
    assert list(frame.index) == THEMES
    assert frame.loc["security_community", ("Russia", "participants")] == 4
    assert frame.loc["reforms", ("Total", "share")] == pytest.approx(
        table.cell("Total", "reforms").share)
    assert table.sizes_frame().loc["Total", "participants"] == 11
    project = open_project(str(sample))
    try:
        with project.read() as conn:
            codings = load_codings(conn, "alice").to_frame()
    finally:
        project.close()
    alice = read_codings("alice")
    assert codings["code"].notna().sum() == sum(len(c) for c in alice.values())
    assert codings[["transcript", "segment"]].drop_duplicates().shape[0] == len(alice)
    assert codings.columns.is_unique and "country" in codings.columns


# --- options and errors --------------------------------------------------------------------

@needs_sample
def test_min_cell_suppresses_small_cells(sample):
    data = report(sample, "report", "themes", "--min-cell", "2")
    validate(data)
    assert data["min_cell"] == 2
    armenia = data["groups"]["Armenia"]
    assert armenia["participants"] == 1 and armenia["themes"] == {}
    assert armenia["suppressed"] == THEMES
    assert set(data["groups"]["Russia"]["themes"]) <= set(THEMES)
    assert all(c["participants"] >= 2 for c in data["groups"]["Russia"]["themes"].values())
    table = _invoke(sample, "report", "themes", "--min-cell", "2", "--format", "md").stdout
    armenia_col = [line.split("|")[2].strip() for line in table.splitlines()
                   if line.startswith("| Security community")]
    assert armenia_col == ["[c]"]
    assert "_Note._ " in table and "[c]: not shown — fewer than 2 participants" in table


@needs_sample
def test_flag_small_flags_instead(sample):
    data = report(sample, "report", "themes", "--min-cell", "3", "--flag-small")
    validate(data)
    assert data["groups"]["Armenia"]["themes"]["csto_efficacy"]["small"] is True
    assert "small" not in data["groups"]["Kazakhstan"]["themes"]["csto_efficacy"]
    result = _invoke(sample, "report", "themes", "--flag-small")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: --flag-small needs the threshold: add --min-cell K "
                                     "(e.g. --min-cell 3)")


@needs_sample
def test_unknown_attribute_and_coder_are_clean_errors(sample):
    result = _invoke(sample, "report", "themes", "--by", "gender")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no transcript has the attribute 'gender' — use one of: transcript, "
        "participant, country, date, interviewer, language, mode")
    result = _invoke(sample, "report", "themes", "--coder", "dave")
    assert result.exit_code == 1
    assert "no coder 'dave' in the project (coders: alice, bob, carol, consensus)" in \
        result.stderr


def test_default_coder_needs_a_consensus(cli, tmp_path):
    small = build_small(cli, tmp_path, reconcile=False)
    assert small
    result = cli("report", "themes")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no consensus coder in the project (coders: alice, bob) — pass --coder NAME "
        "or --coder majority, or settle one with `coder reconcile --coders A,B,…`")


def test_majority_needs_two_human_coders(cli, tmp_path):
    build_small(cli, tmp_path, reconcile=False, coders=("alice",))
    result = cli("report", "themes", "--coder", "majority")
    assert result.exit_code == 1
    assert "--coder majority needs at least two human coders (have: alice)" in result.stderr


def test_partly_coded_projects_are_said(cli, tmp_path):
    build_small(cli, tmp_path, reconcile=False, coders=("alice",), skip=("ZZ-01",))
    result = cli("report", "themes", "--coder", "alice", "--format", "json")
    assert result.exit_code == 0
    assert "1 transcript(s) not reviewed by alice are left out: ZZ-01" in result.stderr
    assert "(none)" not in json.loads(result.stdout)["groups"]


def test_bad_plot_suffix_writes_nothing(cli, tmp_path):
    build_small(cli, tmp_path)
    out = tmp_path / "t.csv"
    result = cli("report", "themes", "--format", "csv", "-o", out, "--plot", tmp_path / "x.gif")
    assert result.exit_code == 1
    assert "a figure must be .pdf, .png or .svg" in result.stderr
    assert not out.exists()


# --- co-occurrence and saturation on the sample corpus -------------------------------------

@needs_sample
def test_cooccurrence_matches_hand_counts(sample):
    units = theme_units(read_codings("carol"))
    pair: dict[tuple[str, str], int] = defaultdict(int)
    for codes in units.values():
        for k in codes:
            pair[(k, k)] += 1
        for a, b in combinations(sorted(codes), 2):
            pair[(a, b)] += 1
            pair[(b, a)] += 1
    data = report(sample, "report", "cooccurrence", "--coder", "carol")
    assert data["keys"] == THEMES and data["segments"] == len(units)
    for a in THEMES:
        for b in THEMES:
            assert data["counts"][a][b] == pair[(a, b)], (a, b)
            union = pair[(a, a)] + pair[(b, b)] - pair[(a, b)]
            if union:
                assert data["jaccard"][a][b] == pytest.approx(pair[(a, b)] / union)
            else:
                assert data["jaccard"][a][b] is None
    table = _invoke(sample, "report", "cooccurrence", "--coder", "carol", "--format", "csv")
    first = next(csv.reader(table.stdout.splitlines()[1:2]))
    assert first[0] == "power_transfer"
    assert [int(x) for x in first[2:]] == [pair[("power_transfer", b)] for b in THEMES]


def expected_saturation(name: str, order: str) -> tuple[list[tuple[str, int, int]], str | None]:
    codings = read_codings(name)
    meta = read_meta()
    per: dict[str, set[str]] = defaultdict(set)
    for (t, _n), codes in codings.items():
        per[t] |= codes
    ids = sorted(per, key=(lambda t: (meta[t]["date"], t)) if order == "date" else None)
    seen: set[str] = set()
    rows = []
    for t in ids:
        new = per[t] - seen
        seen |= per[t]
        rows.append((t, len(new), len(seen)))
    last = max(i for i, r in enumerate(rows) if r[1]) if seen else None
    point = rows[last][0] if last is not None and last < len(rows) - 1 else None
    return rows, point


@needs_sample
@pytest.mark.parametrize("order", ["date", "id"])
def test_saturation_matches_hand_counts(sample, order):
    rows, point = expected_saturation("alice", order)
    data = report(sample, "report", "saturation", "--coder", "alice", "--order", order)
    got = [(i["transcript"], i["new"], i["cumulative"]) for i in data["interviews"]]
    assert got == rows
    assert (data["saturation"] or {}).get("transcript") == point
    assert data["total_codes"] == rows[-1][2]
    assert [i["position"] for i in data["interviews"]] == list(range(1, len(rows) + 1))


# --- quotes on the sample corpus -----------------------------------------------------------

@needs_sample
def test_quotes_for_established_security_community(sample):
    result = _invoke(sample, "quotes", "--theme", "security_community.established")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.count("\n> — ") == 2
    assert "> — Expert KZ-02, Kazakhstan" in text and "> — Expert RU-02, Russia" in text
    assert text.startswith("## Illustrative quotes: Already established")


@needs_sample
def test_quotes_spread_over_experts_and_are_deterministic(sample):
    data = report(sample, "quotes", "--theme", "security_community", "--limit", "11")
    people = [q["participant"] for q in data["quotes"]]
    assert len(people) == 11 and len(set(people)) == 11
    assert data == report(sample, "quotes", "--theme", "security_community", "--limit", "11")
    by = report(sample, "quotes", "--theme", "csto_efficacy", "--by", "country", "--limit", "2")
    per_country: dict[str, list[str]] = defaultdict(list)
    for q in by["quotes"]:
        per_country[q["group"]].append(q["participant"])
        assert q["attribution"] == f"Expert {q['participant']}, {q['group']}"
    assert all(len(v) <= 2 for v in per_country.values())
    assert len(per_country["Russia"]) == 2 and len(set(per_country["Russia"])) == 2
    assert per_country["Armenia"] == ["AM-01", "AM-01"]  # one expert: a second quote


@needs_sample
def test_quotes_unknown_theme_suggests(sample):
    result = _invoke(sample, "quotes", "--theme", "security_comunity")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith(
        "error: no theme or code 'security_comunity' in the codebook — did you mean "
        "security_community")


# --- a small synthetic project: golden files, formats, figures -----------------------------

SMALL_CODEBOOK = """\
name: Small reports codebook
version: 1
themes:
  - key: trust
    label: Trust
    definition: Trust between allies.
    codes:
      - key: high
        label: High trust
        definition: Allies trust each other.
      - key: low
        label: Low trust
        definition: Allies do not trust each other.
  - key: costs
    label: Costs & burdens
    definition: Costs of the mission (money, 100% of it).
"""

SMALL_TEXTS = {
    "AA-01": ["What is the state of trust?",
              "Trust between the allies is high: none of them would ever fight another, and "
              "everybody in the region knows it well enough to plan on it for the years ahead.",
              "And the costs?",
              "The mission cost 50% more than planned & the bill went to the #1 ally."],
    "AA-02": ["What is the state of trust?", "Trust is low.",
              "Anything else?", "No comment on that."],
    "BB-01": ["What is the state of trust?",
              "There is some trust, but the costs_total were high.",
              "Anything else?", "Nothing."],
    "ZZ-01": ["Costs?", "Costs, costs, costs.", "Trust?", "Hard to say."],
}
SMALL_META = [("AA-01", "AA-01", "Alpha", "2023-01-02"), ("AA-02", "AA-02", "Alpha", "2023-01-01"),
              ("BB-01", "BB-01", "Beta & Co", "2023-01-03"), ("ZZ-01", "ZZ-01", "", "")]
SMALL_CODINGS = {
    "alice": [("AA-01", 2, "trust.high"), ("AA-01", 4, "costs"), ("AA-02", 2, "trust.low"),
              ("AA-02", 4, ""), ("BB-01", 2, "trust"), ("BB-01", 2, "costs"), ("BB-01", 4, ""),
              ("ZZ-01", 2, "costs"), ("ZZ-01", 4, "")],
    "bob": [("AA-01", 2, "trust.high"), ("AA-01", 4, "costs"), ("AA-02", 2, "trust.low"),
            ("AA-02", 4, "trust.low"), ("BB-01", 2, "costs"), ("BB-01", 4, ""),
            ("ZZ-01", 2, "costs"), ("ZZ-01", 4, "")],
}


def build_small(cli, tmp_path: Path, *, reconcile: bool = True,
                coders: tuple[str, ...] = ("alice", "bob"), skip: tuple[str, ...] = ()) -> Path:
    """Four interviews (two in Alpha, one in 'Beta & Co', one without a country), a two-theme
    codebook and the coders' codings; with ``reconcile`` a consensus of alice and bob.
    ``cli(*args)`` runs a command on the project."""
    src = tmp_path / "small"
    src.mkdir()
    for tid, turns in SMALL_TEXTS.items():
        speakers = ["Interviewer", tid] * 2
        (src / f"{tid}.txt").write_text(
            "\n\n".join(f"{s}: {t}" for s, t in zip(speakers, turns)) + "\n", encoding="utf-8")
    with open(tmp_path / "participants.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["transcript", "participant", "country", "date", "interviewer"])
        writer.writerows([*row, "Interviewer"] for row in SMALL_META)
    (tmp_path / "codebook.yaml").write_text(SMALL_CODEBOOK, encoding="utf-8")
    steps = [("import", src, "--meta", tmp_path / "participants.csv"),
             ("codebook", "load", tmp_path / "codebook.yaml")]
    for name in coders:
        path = tmp_path / f"{name}.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["transcript", "segment", "code"])
            writer.writerows(r for r in SMALL_CODINGS[name] if r[0] not in skip)
        steps.append(("codings", "import", "--new-coder", path, "--coder", name))
    if reconcile:
        steps.append(("reconcile", "--coders", ",".join(coders), "--as", "consensus"))
    for step in steps:
        result = cli(*step)
        assert result.exit_code == 0, (step, result.output)
    return src


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    db = folder / "small.db"
    build_small(lambda *args: _invoke(db, *args), folder)
    return db


@pytest.fixture
def small(small_db):
    """Run ``coder ARGS`` on the small project (read only), ``sys.argv`` set as a shell
    would."""
    return partial(run, small_db, argv=True)


def normalize(text: str) -> str:
    text = re.sub(r"[0-9a-f]{64}", "<sha256>", text)
    return re.sub(r"generated by coder \S+", "generated by coder <version>", text)


GOLDEN_CASES = [
    ("themes.csv", ["report", "themes", "--by", "country", "--coder", "alice", "-f", "csv"]),
    ("themes.md", ["report", "themes", "--by", "country", "--coder", "alice", "-f", "md"]),
    ("themes.tex", ["report", "themes", "--by", "country", "--coder", "alice", "-f", "latex"]),
    ("codes-segments.md", ["report", "themes", "--codes", "--unit", "segments", "-f", "md"]),
    ("themes-min-cell.csv", ["report", "themes", "--min-cell", "2", "-c", "bob", "-f", "csv"]),
    ("cooccurrence.md", ["report", "cooccurrence", "--coder", "alice", "-f", "md"]),
    ("cooccurrence.tex", ["report", "cooccurrence", "--coder", "alice", "-f", "latex"]),
    ("saturation.csv", ["report", "saturation", "--coder", "alice", "-f", "csv"]),
    ("saturation.md", ["report", "saturation", "--coder", "alice", "--order", "id", "-f",
                       "md"]),
    ("quotes.md", ["quotes", "--theme", "trust", "--coder", "alice"]),
    ("quotes-by-country.md", ["quotes", "--theme", "costs", "--by", "country", "-c", "alice"]),
    ("quotes.tex", ["quotes", "--theme", "costs", "--coder", "alice", "-f", "latex"]),
    ("quotes.csv", ["quotes", "--theme", "trust", "--coder", "alice", "-f", "csv"]),
]


@pytest.mark.parametrize("name,args", GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_golden_exports(small, name, args):
    check_golden(GOLDEN / name, normalize(small(*args).stdout))


def test_small_project_counts(small):
    """Hand-checked: alice codes trust on AA-01, AA-02, BB-01; costs on AA-01, BB-01, ZZ-01."""
    data = json.loads(small("report", "themes", "-c", "alice", "-f", "json").stdout)
    validate(data)
    assert list(data["groups"]) == ["Alpha", "Beta & Co", "(none)"]
    alpha = data["groups"]["Alpha"]
    assert (alpha["participants"], alpha["segments"]) == (2, 4)
    assert alpha["themes"]["trust"] == {"participants": 2, "segments": 2, "share": 1.0}
    assert alpha["themes"]["costs"] == {"participants": 1, "segments": 1, "share": 0.5}
    assert data["groups"]["(none)"]["themes"]["trust"]["participants"] == 0
    seg = json.loads(small("report", "themes", "-c", "bob", "--unit", "segments",
                           "-f", "json").stdout)
    assert seg["groups"]["Alpha"]["themes"]["trust"] == {"participants": 2, "segments": 3,
                                                         "share": 0.75}


def test_provenance_in_every_export(small, tmp_path):
    md = small("report", "themes", "-f", "md").stdout
    assert "<!-- command: coder report themes -f md -->" in md
    assert "<!-- coder: consensus -->" in md
    assert "<!-- codebook: Small reports codebook, version 1 (sha256 " in md
    html = small("report", "themes", "-f", "html").stdout
    assert "<footer><pre>" in html and "project: sha256 " in html
    tex = small("report", "themes", "-f", "latex").stdout
    assert "% command: coder report themes -f latex" in tex and r"\caption{" in tex
    assert r"\toprule" in tex and r"Beta \& Co &" in tex and "& (N=1) &" in tex
    out = tmp_path / "themes.csv"
    csv_text = small("report", "themes", "-f", "csv", "-o", out)
    assert not any(line.startswith("#") for line in out.read_text().splitlines())
    sidecar = json.loads((tmp_path / "themes.csv.provenance.json").read_text())
    assert sidecar["provenance"]["command"] == f"coder report themes -f csv -o {out}"


def test_xlsx_opens_with_openpyxl(small, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "themes.xlsx"
    small("report", "themes", "--coder", "alice", "-f", "xlsx", "-o", path)
    wb = load_workbook(path)
    ws = wb.active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][:4] == ["key", "label", "Alpha n", "Alpha share"]
    by_key = {r[0]: r for r in rows[1:] if r and r[0]}
    assert "(N)" not in by_key
    assert by_key["trust"][2:4] == [2, 1.0] and by_key["costs"][2:4] == [1, 0.5]
    assert "project: sha256 " in wb.properties.description
    assert "coder: alice" in wb.properties.description


def test_project_hash_is_content_based(cli, tmp_path, db_path):
    """Same content loaded in another order → same hash; one coding more → another hash."""
    from coder.db.engine import open_project
    from coder.reports import project_hash

    def hash_of(db: Path) -> str:
        project = open_project(str(db))
        try:
            with project.read() as conn:
                return project_hash(conn)
        finally:
            project.close()

    build_small(cli, tmp_path, reconcile=False)
    first = hash_of(db_path)
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    other_db = tmp_path / "other.db"

    other = partial(run, other_db)

    other("init")
    other("codebook", "load", tmp_path / "codebook.yaml")
    other("import", tmp_path / "small", "--meta", tmp_path / "participants.csv")
    other("codings", "import", "--new-coder", tmp_path / "bob.csv", "--coder", "bob")
    other("codings", "import", "--new-coder", tmp_path / "alice.csv", "--coder", "alice")
    assert hash_of(other_db) == first
    extra = tmp_path / "extra.csv"
    extra.write_text("transcript,segment,code\nZZ-01,4,trust\n", encoding="utf-8")
    other("codings", "import", "--new-coder", extra, "--coder", "carol", "--partial")
    assert hash_of(other_db) != first


FIGURES = [("themes", ["report", "themes", "--coder", "alice"]),
           ("cooccurrence", ["report", "cooccurrence", "--coder", "bob"]),
           ("saturation", ["report", "saturation", "--coder", "alice"])]


@pytest.mark.parametrize("kind,args", FIGURES, ids=[f[0] for f in FIGURES])
def test_figures_png_and_svg(small, tmp_path, kind, args):
    import matplotlib.image as mpimg
    from PIL import Image

    png, svg = tmp_path / f"{kind}.png", tmp_path / f"{kind}.svg"
    small(*args, "--plot", png)
    small(*args, "--plot", svg)
    image = mpimg.imread(png)
    height, width = image.shape[:2]
    assert width >= 400 and height >= 250  # a journal-column heatmap of a small corpus
    assert image[..., :3].std() > 0.05  # not a blank canvas
    meta = Image.open(png).text
    assert "project: sha256 " in meta["Description"]
    assert meta["Comment"].startswith(f"coder {' '.join(args)}")
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text and len(text) > 2000
    assert "project: sha256 " in text and "<dc:date>" not in text


@needs_sample
def test_sample_heatmap(sample, tmp_path):
    import matplotlib.image as mpimg

    png = tmp_path / "themes-by-country.png"
    result = _invoke(sample, "report", "themes", "--by", "country", "--plot", png)
    assert result.exit_code == 0, result.output
    image = mpimg.imread(png)
    assert image.shape[1] > 800 and image[..., :3].std() > 0.05


def test_latex_quotes_are_escaped(small):
    tex = small("quotes", "--theme", "costs", "-c", "alice", "-f", "latex").stdout
    assert r"cost 50\% more than planned \& the bill went to the \#1 ally." in tex
    assert r"costs\_total" in tex
    assert tex.count(r"\begin{quote}") == tex.count(r"\end{quote}") == 3


def test_quotes_rank_specific_codes_first(small):
    data = json.loads(small("quotes", "--theme", "trust", "-c", "alice", "-f", "json").stdout)
    assert [(q["transcript"], q["codes"]) for q in data["quotes"]] == [
        ("AA-01", ["trust.high"]), ("AA-02", ["trust.low"]), ("BB-01", ["trust"])]
    assert data["quotes"][0]["attribution"] == "Expert AA-01, Alpha"


def test_cli_modules_do_not_import_heavy_libraries():
    code = ("import sys, coder.cli, coder.cli.reports, coder.reports, coder.reports.export, "
            "coder.reports.figures; heavy = [m for m in ('pandas', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_every_report_command_has_help(runner):
    from coder.cli import app

    for args in (["report", "--help"], ["report", "themes", "--help"],
                 ["report", "cooccurrence", "--help"], ["report", "saturation", "--help"],
                 ["quotes", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and len(result.stdout) > 200, args
    themes_help = runner.invoke(app, ["report", "themes", "--help"]).stdout
    assert "--min-cell" in themes_help and "identify" in themes_help


def test_library_api_returns_frames(small_db):
    from coder.reports import cooccurrence, quotes, saturation, theme_frequencies

    co = cooccurrence(str(small_db), coder="alice")
    counts, jaccard = co.to_frame("counts"), co.to_frame("jaccard")
    assert counts.loc["trust", "costs"] == 1 and counts.loc["trust", "trust"] == 3
    assert jaccard.loc["trust", "costs"] == pytest.approx(1 / 5)
    curve = saturation(str(small_db), coder="alice", order="date")
    frame = curve.to_frame()
    assert list(frame["transcript"]) == ["AA-02", "AA-01", "BB-01", "ZZ-01"]
    assert list(frame["cumulative"]) == [1, 3, 4, 4]
    assert curve.saturation.transcript == "BB-01"
    assert "1 interview(s) without a date are placed last: ZZ-01" in curve.notes
    qs = quotes(str(small_db), theme="trust.low", coder="bob")
    assert list(qs.to_frame()["transcript"]) == ["AA-02", "AA-02"]
    assert [q.segment for q in qs.quotes] == [4, 2]  # 4 words are nearer the ideal 25–120
    table = theme_frequencies(str(small_db), by="participant", coder="alice", codes=True)
    assert table.to_frame().loc["trust.high", ("AA-01", "participants")] == 1
    assert table.provenance.command  # recorded even from Python


def test_project_hash_from_rows_already_read_is_the_same(cli, tmp_path, db_path):
    """coder agreement hands the rows it has read to the project hash: the same hash as the
    hash reading them itself, and another as soon as one coding moves to another coder."""
    import sqlite3

    from coder.agreement.units import unit_matrix
    from coder.db.engine import open_project
    from coder.reports import project_hash

    build_small(cli, tmp_path, reconcile=False)

    def hashes() -> tuple[str, str]:
        project = open_project(str(db_path))
        try:
            with project.read() as conn:
                return project_hash(conn), project_hash(conn, unit_matrix(conn).rows)
        finally:
            project.close()

    own, handed = hashes()
    assert own == handed
    con = sqlite3.connect(db_path)
    with con:  # the same coding under the other coder: the same counts, another project
        first, other = con.execute("SELECT min(id), max(id) FROM coder").fetchone()
        changed = con.execute(
            "UPDATE coding SET coder_id = ? WHERE id = (SELECT min(k.id) FROM coding k "
            "WHERE k.coder_id = ? AND NOT EXISTS (SELECT 1 FROM coding j WHERE j.coder_id = ? "
            "AND j.segment_id = k.segment_id AND j.code_key = k.code_key))",
            (other, first, other)).rowcount
    assert changed == 1
    con.close()
    moved, moved_handed = hashes()
    assert moved == moved_handed and moved != own


@pytest.mark.postgres
def test_project_hash_is_the_same_on_sqlite_and_postgresql(tmp_path, pg_url):
    """The same content on both back ends (different row ids, a server's collation) gives one
    hash; it is what `coder agreement` reports on each."""
    from coder.db.engine import open_project
    from coder.reports import project_hash

    hashes, reported = [], []
    for i, url in enumerate((str(tmp_path / "p.db"), pg_url)):
        (tmp_path / str(i)).mkdir()
        build_small(partial(run, url), tmp_path / str(i), reconcile=False)
        project = open_project(url)
        try:
            with project.read() as conn:
                hashes.append(project_hash(conn))
        finally:
            project.close()
        done = run(url, "agreement", "--format", "json")
        reported.append(json.loads(done.stdout)["provenance"]["project_hash"])
    assert hashes[0] == hashes[1] == reported[0] == reported[1]
