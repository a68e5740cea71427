"""Team mode: every command on PostgreSQL as on SQLite, concurrent coders, project copies."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import CODEBOOK, CODINGS, CORPUS, dump_url, run

CODERS = ["alice", "bob", "carol"]


def scenario(url: str) -> dict:
    """import → code (spreadsheets and the terminal) → reconcile → agreement → reports."""
    run(url, "import", CORPUS, "--meta", CORPUS / "participants.csv")
    run(url, "codebook", "load", CODEBOOK)
    for name in CODERS:
        run(url, "codings", "import", "--new-coder", CODINGS / f"{name}.csv", "--coder", name)
    run(url, "code", "--coder", "dave", "--new-coder", "--transcript", "KZ-01",
        input="1\n\n-\n\nq\n")
    run(url, "reconcile", "--coders", "alice,bob,carol", "--settled-by", "sup")
    out = {
        "agreement": json.loads(run(url, "agreement", "--by", "country", "--bootstrap", "50",
                                    "--format", "json").stdout),
        "codes": json.loads(run(url, "agreement", "--codes", "--coders",
                                "alice,bob,carol,consensus", "--format", "json").stdout),
        "status": json.loads(run(url, "status", "--format", "json").stdout),
        "show": json.loads(run(url, "transcripts", "show", "RU-03", "--format", "json").stdout),
        "disagreements": json.loads(run(url, "disagreements", "--coders", "alice,bob",
                                        "--format", "json").stdout),
        "export": run(url, "codings", "export").stdout,
        "themes": json.loads(run(url, "report", "themes", "--by", "country", "--coder",
                                 "consensus", "--format", "json").stdout),
        "cooccurrence": json.loads(run(url, "report", "cooccurrence", "--coder", "consensus",
                                       "--format", "json").stdout),
        "saturation": json.loads(run(url, "report", "saturation", "--coder", "consensus",
                                     "--format", "json").stdout),
    }
    for report in ("themes", "cooccurrence", "saturation"):  # the command line differs
        out[report].get("provenance", {}).pop("command", None)
    return out


def test_same_scenario_gives_identical_json_on_sqlite_and_postgresql(tmp_path, pg_url):
    lite = scenario(str(tmp_path / "lite.db"))
    pg = scenario(pg_url)
    assert lite.keys() == pg.keys()
    for key in lite:
        assert lite[key] == pg[key], key
    assert lite["status"][-1]["coder"] == "dave"


WORKER = textwrap.dedent("""
    import sys
    from coder.db.engine import open_project
    from coder.coding.store import get_or_create_coder, record_decision
    from sqlalchemy import text

    url, coder, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    project = open_project(url)
    with project.read() as conn:
        segments = [r[0] for r in conn.execute(text(
            "SELECT id FROM segment WHERE role = 'participant' ORDER BY id"))][:n]
    for i, sid in enumerate(segments):
        with project.write() as conn:
            cid = get_or_create_coder(conn, coder)
            record_decision(conn, cid, sid, ["reforms"] if i % 2 else [], None)
    print("done", coder)
""")


def _synthetic_project(url: str, tmp_path, turns: int) -> None:
    lines = []
    for i in range(turns):
        lines += [f"Interviewer: Question {i}?", "", f"EX-01: Answer number {i}.", ""]
    path = tmp_path / "EX-01.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    run(url, "import", path)
    run(url, "codebook", "load", CODEBOOK)


@pytest.mark.parametrize("same_coder", [False, True], ids=["four-coders", "one-coder"])
def test_concurrent_coders_lose_and_duplicate_nothing(backend_url, tmp_path, same_coder):
    _synthetic_project(backend_url, tmp_path, 500)
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    names = ["same"] * 4 if same_coder else [f"coder{i}" for i in range(4)]
    procs = [subprocess.Popen([sys.executable, str(script), backend_url, name, "500"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in names]
    results = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    for out, err, code in results:
        assert code == 0, err
        assert out.startswith("done")
    rows = dump_url(backend_url)
    expected = 500 if same_coder else 2000
    assert len(rows["review"]) == expected
    assert len(rows["coding"]) == expected // 2
    assert len(rows["coder"]) == len(set(names))


def test_copy_sqlite_to_postgresql_and_back_is_lossless(tmp_path, pg_url):
    lite = str(tmp_path / "a.db")
    scenario(lite)
    run(lite, "db", "copy", lite, pg_url)
    back = str(tmp_path / "b.db")
    run(lite, "db", "copy", pg_url, back)
    original, returned = dump_url(lite), dump_url(back)
    original.pop("schema_migration"), returned.pop("schema_migration")
    assert original == returned
    assert len(original["coding"]) > 400
    # the copy on the server keeps working: new rows get fresh ids
    run(pg_url, "code", "--coder", "erin", "--new-coder", "--transcript", "KZ-02", input="2\n\nq\n")


def test_copy_refuses_a_non_empty_destination(tmp_path):
    a, b = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    run(a, "import", CORPUS / "KZ-01.txt")
    run(b, "import", CORPUS / "RU-01.txt")
    before = dump_url(b)
    result = run(None, "db", "copy", a, b, expect=None)
    assert result.exit_code == 1
    assert "the destination project is not empty" in result.output
    assert dump_url(b) == before


def test_two_people_settling_the_same_disagreement_get_a_conflict(backend_url):
    from coder.coding.consensus import reconcile
    from coder.db.engine import open_project

    run(backend_url, "import", CORPUS, "--meta", CORPUS / "participants.csv")
    run(backend_url, "codebook", "load", CODEBOOK)
    for name in ("alice", "bob"):
        run(backend_url, "codings", "import", "--new-coder", CODINGS / f"{name}.csv", "--coder", name)
    project = open_project(backend_url)
    seen = []

    def bob_first(view, proposal, keys):
        # while ann is still deciding on her first segment, ben settles it
        if not seen:
            seen.append(view.segment_id)
            reconcile(project, ["alice", "bob"], rule="interactive", settled_by="ben",
                      choose=lambda v, p, k: p if v.segment_id == view.segment_id else None)
            return {"reforms"}
        return None

    report = reconcile(project, ["alice", "bob"], rule="interactive", settled_by="ann",
                       choose=bob_first)
    assert len(report.conflicts) == 1
    assert "was settled by ben while you were deciding" in report.conflicts[0]
    rows = [r for r in dump_url(backend_url)["decision"] if r[2] == seen[0]]
    assert rows and {r[6] for r in rows} == {"ben"}   # ben's decision stands
    assert not any(r[3] == "reforms" and r[4] for r in rows if r[6] == "ann")
    project.close()
