"""The reliability appendix says which coders are programs, and how they were run: a language
model (model, endpoint, prompt template, settings, requests), a trained classifier (whose
codings it learned from), the keyword coder."""

from __future__ import annotations

from conftest import CODEBOOK, CODINGS, CORPUS, q, run as invoke
from llm_server import FakeLLM


def test_machine_coders_are_named_and_described(tmp_path):
    db = tmp_path / "p.db"
    invoke(db, "import", CORPUS, "--meta", CORPUS / "participants.csv")
    invoke(db, "codebook", "load", CODEBOOK)
    for name in ("alice", "bob"):
        invoke(db, "codings", "import", "--new-coder", CODINGS / f"{name}.csv", "--coder", name)
    invoke(db, "autocode", "keywords", "--themes")
    first = q(db, "SELECT count(*) FROM segment WHERE role = 'participant' AND "
                  "transcript_id = 'KZ-01'")[0][0]

    def nothing(_request, _index):
        return {"codes": []}

    with FakeLLM(nothing) as server:
        invoke(db, "autocode", "llm", "--model", "fake:1b", "--endpoint", server.endpoint,
               "--transcript", "KZ-01", "--backoff", "0.01")
    report = tmp_path / "reliability.md"
    invoke(db, "agreement", "--coders", "alice,bob,auto:keywords,auto:llm:fake:1b",
           "--bootstrap", "50", "--report", report)
    text = report.read_text(encoding="utf-8")
    section = text.split("## 3.")[1].split("## 4.")[0]
    assert "“auto:llm:fake:1b” is not a person: a language model (fake:1b" in section
    assert f"served at {server.endpoint}" in section
    assert "prompt template sha256" in section and "temperature 0" in section
    assert f"coded {first} segments in {first} requests (0 answered from the record" in section
    assert "“auto:keywords” is not a person: it applies a code wherever one of the codebook's " \
           "keywords" in section
    assert "“alice” is not a person" not in section
    human = tmp_path / "humans.md"
    invoke(db, "agreement", "--coders", "alice,bob", "--bootstrap", "50", "--report", human)
    assert "is not a person" not in human.read_text(encoding="utf-8")
