"""`coder autocode llm|evaluate|calls`: the language-model coder, audited like a person.

Every test talks to :class:`llm_server.FakeLLM`, an OpenAI-compatible server on loopback that
checks what it is sent and answers from a script (no model is needed): like alice, with
malformed JSON, unknown codes, timeouts, server errors and refusals.
"""

from __future__ import annotations

import json
import socket
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import conftest
from conftest import CODEBOOK, CODINGS, CORPUS, copy_db, q
from llm_server import FakeLLM, Reply, turn_of

THEMES = ["power_transfer", "reforms", "foreign_policy", "csto_efficacy", "security_community"]
CODER = "auto:llm:fake:1b"


# wide tables (COLUMNS=200): tests read the commands' tables
run = partial(conftest.run, env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("llm") / "sample.db"
    run(db, "import", CORPUS, "--meta", CORPUS / "participants.csv")
    run(db, "codebook", "load", CODEBOOK)
    for name in ("alice", "bob", "carol"):
        run(db, "codings", "import", "--new-coder", CODINGS / f"{name}.csv", "--coder", name)
    return db


@pytest.fixture
def sample(sample_db, tmp_path) -> Path:
    return copy_db(sample_db, tmp_path / "project.db")


def themes_of(db: Path, coder: str) -> dict[str, set[str]]:
    """Turn text → the themes ``coder`` applied (theme level)."""
    out: dict[str, set[str]] = {}
    for text, key in q(db, "SELECT s.text, k.code_key FROM coding k JOIN segment s ON "
                           "s.id = k.segment_id JOIN coder c ON c.id = k.coder_id "
                           "WHERE c.name = ?", coder):
        out.setdefault(text.strip(), set()).add(key.split(".")[0])
    return out


def like(db: Path, coder: str = "alice"):
    """A script that answers as ``coder`` coded (quoting the turn's first words)."""
    truth = themes_of(db, coder)

    def answer(request, _index):
        turn = turn_of(request)
        words = " ".join(turn.split()[:6])
        return {"codes": [{"code": t, "rationale": f"The expert talks about {t}.",
                           "quote": words} for t in sorted(truth.get(turn.strip(), ()))]}
    return answer


def llm(db: Path, server: FakeLLM, *args, expect: int = 0):
    return run(db, "autocode", "llm", "--model", "fake:1b", "--endpoint", server.endpoint,
               "--backoff", "0.01", *args, expect=expect)


def test_requests_carry_the_codebook_the_question_and_a_schema_of_its_keys(sample):
    with FakeLLM(like(sample)) as server:
        llm(sample, server, "--limit", "3")
    assert len(server.requests) == 3
    body = server.requests[0]
    assert body["model"] == "fake:1b" and body["temperature"] == 0.0 and body["seed"] == 0
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert "qualitative" in system and "JSON" in system
    for field in ("label: CSTO efficacy", "definition:", "include when:", "exclude when:",
                  "examples:"):
        assert field in user, field
    assert "Interviewer's question before the turn:" in user
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["codes"]["items"]["properties"]["code"]["enum"] == THEMES
    # the question is the interviewer turn right before the coded one
    tid, n, text = q(sample, "SELECT transcript_id, n, text FROM segment WHERE role = "
                             "'participant' AND n > 1 ORDER BY transcript_id, n LIMIT 1")[0]
    question = q(sample, "SELECT text FROM segment WHERE transcript_id = ? AND n = ?",
                 tid, n - 1)[0][0]
    asked = [r for r in server.requests if turn_of(r).strip() == text.strip()]
    assert len(asked) == 1
    assert question.strip() in asked[0]["messages"][1]["content"]


def test_a_run_stores_codings_with_rationales_and_records_every_request(sample):
    with FakeLLM(like(sample)) as server:
        result = llm(sample, server)
    segments = q(sample, "SELECT count(*) FROM segment WHERE role = 'participant'")[0][0]
    assert len(server.requests) == segments
    assert f"{segments} request(s) sent, 0 recorded answer(s) replayed" in result.stderr
    # alice's theme-level decisions, exactly
    assert themes_of(sample, CODER) == {t: s for t, s in themes_of(sample, "alice").items()}
    memos = q(sample, "SELECT k.memo FROM coding k JOIN coder c ON c.id = k.coder_id "
                      "WHERE c.name = ?", CODER)
    assert memos and all(m[0].startswith("The expert talks about ") for m in memos)
    run_row = q(sample, "SELECT coder, model, model_digest, endpoint, params, template_sha256, "
                        "segments, requests, replayed, failures, finished_at FROM llm_run")
    assert len(run_row) == 1
    coder, model, digest, endpoint, params, template, segs, reqs, replayed, fails, done = \
        run_row[0]
    assert (coder, model, digest, endpoint) == (CODER, "fake:1b", "sha256:0123abcd",
                                                server.endpoint)
    assert json.loads(params)["temperature"] == 0.0 and len(template) == 64
    assert (segs, reqs, replayed, fails) == (segments, segments, 0, 0) and done
    calls = q(sample, "SELECT request, response, status, prompt_tokens, completion_tokens, "
                      "seconds, answer FROM llm_call")
    assert len(calls) == segments
    request, response, status, pt, ct, secs, answer = calls[0]
    assert json.loads(request)["model"] == "fake:1b"
    assert json.loads(response)["system_fingerprint"] == "fp_fake"
    assert status == "ok" and pt > 0 and ct == 12 and secs >= 0
    for code in json.loads(answer)["codes"]:  # the quote's span points into the turn
        assert code["span"][1] > code["span"][0]
    # measured like any coder: identical to alice at theme level
    agreement = json.loads(run(sample, "agreement", "--coders", f"alice,{CODER}",
                               "--format", "json").stdout)
    assert agreement["overall"]["krippendorff_alpha"] == pytest.approx(1.0)


def test_a_rerun_with_the_same_settings_replays_and_sends_nothing(sample):
    with FakeLLM(like(sample)) as server:
        llm(sample, server)
        sent = len(server.requests)
        before = q(sample, "SELECT s.id, k.code_key, k.memo FROM coding k JOIN segment s ON "
                           "s.id = k.segment_id JOIN coder c ON c.id = k.coder_id "
                           "WHERE c.name = ? ORDER BY 1, 2", CODER)
        result = llm(sample, server)
        assert len(server.requests) == sent  # not one request
        assert "0 request(s) sent" in result.stderr
        after = q(sample, "SELECT s.id, k.code_key, k.memo FROM coding k JOIN segment s ON "
                          "s.id = k.segment_id JOIN coder c ON c.id = k.coder_id "
                          "WHERE c.name = ? ORDER BY 1, 2", CODER)
        assert after == before
        assert q(sample, "SELECT count(*) FROM llm_call WHERE replayed")[0][0] == sent
        llm(sample, server, "--temperature", "0.2", "--limit", "2")   # other settings: asked
        assert len(server.requests) == sent + 2


def test_malformed_json_is_retried_and_then_accepted(sample):
    good = like(sample)

    def answer(request, index):
        return Reply(content="Sure! Here are the codes: power_transfer") if index == 1 \
            else good(request, index)

    with FakeLLM(answer) as server:
        llm(sample, server, "--limit", "1", "--concurrency", "1")
    assert len(server.requests) == 2
    rows = q(sample, "SELECT attempt, status, final, error FROM llm_call ORDER BY id")
    assert [r[:3] for r in rows] == [(1, "invalid", 0), (2, "ok", 1)]
    assert rows[0][3].startswith("not JSON")
    assert q(sample, "SELECT count(*) FROM review r JOIN coder c ON c.id = r.coder_id "
                     "WHERE c.name = ?", CODER) == [(1,)]


@pytest.mark.parametrize("reply, why", [
    ({"codes": [{"code": "not_a_code", "rationale": "x", "quote": ""}]},
     "'not_a_code' is not a key of the codebook"),
    ({"codes": [{"code": "reforms", "rationale": "x", "quote": "words nobody said here"}]},
     "the quote is not in the turn"),
    ({"answer": []}, 'not an object with exactly one field "codes"'),
    ("", "empty answer"),
])
def test_an_invalid_answer_is_retried_then_recorded_as_a_failure_never_guessed(
        sample, reply, why):
    with FakeLLM(lambda _r, _i: Reply(content=reply)) as server:
        result = llm(sample, server, "--limit", "1", "--retries", "2")
    assert len(server.requests) == 3
    assert "1 segment(s) failed and stay uncoded" in result.stderr and why in result.stderr
    rows = q(sample, "SELECT status, final FROM llm_call ORDER BY id")
    assert rows == [("invalid", 0), ("invalid", 0), ("invalid", 1)]
    # missing, not "reviewed, no code"
    assert q(sample, "SELECT count(*) FROM review r JOIN coder c ON c.id = r.coder_id "
                     "WHERE c.name = ?", CODER) == [(0,)]
    assert q(sample, "SELECT failures FROM llm_run") == [(1,)]


def test_a_timeout_and_a_server_error_are_retried_with_back_off(sample):
    good = like(sample)

    def answer(request, index):
        if index == 1:
            return Reply(delay=2.5)           # longer than --timeout 1
        if index == 2:
            return Reply(status=503)
        return good(request, index)

    with FakeLLM(answer) as server:
        llm(sample, server, "--limit", "1", "--timeout", "1", "--concurrency", "1")
    rows = q(sample, "SELECT attempt, status, error FROM llm_call ORDER BY id")
    assert [(a, s) for a, s, _e in rows] == [(1, "error"), (2, "error"), (3, "ok")]
    assert rows[0][2] == "timed out" and rows[1][2] == "HTTP 503"


def test_a_refusal_is_final_and_recorded(sample):
    with FakeLLM(lambda _r, _i: Reply(refusal="I cannot help with that.")) as server:
        result = llm(sample, server, "--limit", "1")
    assert len(server.requests) == 1
    assert "the model refused: I cannot help with that." in result.stderr
    assert q(sample, "SELECT status, final FROM llm_call") == [("refused", 1)]


def test_a_client_error_is_not_retried(sample):
    with FakeLLM(lambda _r, _i: Reply(status=400)) as server:
        result = llm(sample, server, "--limit", "1")
    assert len(server.requests) == 1 and "HTTP 400" in result.stderr


def test_a_remote_endpoint_is_refused_before_any_connection(sample, monkeypatch):
    connects = []
    real = socket.socket.connect

    def spy(self, address):
        connects.append(address)
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    before = q(sample, "SELECT count(*) FROM llm_run")
    result = run(sample, "autocode", "llm", "--model", "m", "--endpoint",
                 "http://192.0.2.10:11434/v1", expect=1)
    assert result.stderr.startswith("error: --endpoint http://192.0.2.10:11434/v1: "
                                    "192.0.2.10 is not this machine")
    assert "--allow-remote" in result.stderr and len(result.stderr.splitlines()) == 1
    assert connects == [] and q(sample, "SELECT count(*) FROM llm_run") == before


def test_a_prompt_with_personal_data_is_refused_before_any_request(sample, tmp_path):
    leaky = tmp_path / "leak"
    leaky.mkdir()
    (leaky / "XX-01.txt").write_text(
        "Interviewer: How did it go?\n\nXX-01: Write to me at petrova.anna@example.org "
        "about the CSTO deployment.\n", encoding="utf-8")
    run(sample, "import", leaky / "XX-01.txt", "--allow-pii")
    with FakeLLM(like(sample)) as server:
        result = llm(sample, server, "--transcript", "XX-01", expect=1)
    assert server.requests == []
    assert "petrova.anna@example.org" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error:") or \
        "nothing was sent to the model" in result.stderr
    assert q(sample, "SELECT count(*) FROM llm_run") == [(0,)]


def test_dry_run_shows_the_first_prompt_and_the_number_of_requests(sample):
    with FakeLLM(like(sample)) as server:
        result = llm(sample, server, "--dry-run")
        assert server.requests == []
        segments = q(sample, "SELECT count(*) FROM segment WHERE role = 'participant'")[0][0]
        messages = json.loads(result.stdout)
        assert messages[0]["role"] == "system" and "Turn to code" in messages[1]["content"]
        assert f"{segments} request(s) would be sent" in result.stderr
        llm(sample, server, "--limit", "4")
        result = llm(sample, server, "--dry-run", "--limit", "4")
        assert "0 request(s) would be sent" in result.stderr
        assert q(sample, "SELECT count(*) FROM llm_run") == [(1,)]


def test_evaluate_measures_against_each_human_with_an_equivalence_test(sample):
    with FakeLLM(like(sample, "alice")) as server:
        llm(sample, server)
    out = json.loads(run(sample, "autocode", "evaluate", CODER, "--format", "json",
                         "--bootstrap", "300").stdout)
    assert out["humans"] == ["alice", "bob", "carol"] and out["units"] > 0
    overall = out["overall"]
    assert overall["alpha_with"]["alice"] == pytest.approx(1.0)
    # the machine equals alice, so it agrees with bob and carol as alice does
    alpha = json.loads(run(sample, "agreement", "--coders", "alice,bob", "--format",
                           "json").stdout)["overall"]["krippendorff_alpha"]
    assert overall["alpha_with"]["bob"] == pytest.approx(alpha)
    low, high = overall["ci"]
    assert low <= overall["difference"] <= high
    assert overall["verdict"] in ("equivalent", "undecided", "above")
    table = run(sample, "autocode", "evaluate", CODER).stdout
    assert "α with alice" in table and "verdict" in table
    models = json.loads(run(sample, "autocode", "models", "--format", "json").stdout)
    entry = [m for m in models if m.get("kind") == "llm"][0]
    assert entry["model"] == CODER and entry["model_digest"] == "sha256:0123abcd"
    assert entry["evaluation"]["machine_human"] == pytest.approx(overall["machine_human"])


def test_repeated_runs_report_run_to_run_consistency(sample):
    with FakeLLM(like(sample)) as server:
        llm(sample, server, "--repeat", "2")
        segments = q(sample, "SELECT count(*) FROM segment WHERE role = 'participant'")[0][0]
        assert len(server.requests) == 2 * segments
        assert {r["seed"] for r in server.requests} == {0, 1}
    out = json.loads(run(sample, "autocode", "evaluate", CODER, "--format", "json",
                         "--bootstrap", "0").stdout)
    assert out["consistency"]["runs"] == [CODER, f"{CODER}@run2"]
    assert out["consistency"]["overall"] == pytest.approx(1.0)


def test_an_interrupted_run_keeps_what_is_done_and_the_rerun_replays_it(sample):
    from coder.autocode.llm import LlmSettings, run_llm
    from coder.db.engine import open_project

    calls = []

    def stop(report, _total):
        calls.append(report.done)
        if report.done >= 3:
            raise KeyboardInterrupt

    with FakeLLM(like(sample)) as server:
        proj = open_project(str(sample))
        settings = LlmSettings(model="fake:1b", endpoint=server.endpoint, concurrency=1)
        with pytest.raises(KeyboardInterrupt):
            run_llm(proj, settings, progress=stop)
        kept = q(sample, "SELECT count(*) FROM review r JOIN coder c ON c.id = r.coder_id "
                         "WHERE c.name = ?", CODER)[0][0]
        assert kept >= 3
        sent = len(server.requests)
        report = run_llm(proj, settings)
        proj.close()
    # every committed segment is replayed; the request in flight at the interrupt may reach
    # the server after ``sent`` was read, so the server can count one more than the re-run
    assert report.replayed == kept
    assert len(server.requests) - sent - report.requests in (0, 1)
    assert report.replayed + report.answered == report.segments


def test_the_two_coder_alpha_closed_form_equals_the_kernel():
    from coder.agreement import krippendorff_alpha
    from coder.autocode.llm_eval import _alpha_from, _alpha_parts

    rng = np.random.default_rng(7)
    for _ in range(50):
        units, keys = rng.integers(3, 40), rng.integers(1, 4)
        a = (rng.random((units, keys)) < rng.random()).astype(float)
        b = np.where(rng.random((units, keys)) < 0.8, a, 1 - a)
        closed = _alpha_from(_alpha_parts(a, b).sum(axis=0))
        pairs = np.stack([a.reshape(-1), b.reshape(-1)], axis=1)
        expected = krippendorff_alpha(pairs)
        assert (np.isnan(closed) and np.isnan(expected)) or closed == pytest.approx(expected)


def test_the_equivalence_verdict_follows_the_interval():
    from coder.autocode.llm_eval import _verdict

    assert _verdict(-0.05, 0.08, 0.1) == "equivalent"
    assert _verdict(-0.35, -0.15, 0.1) == "below"
    assert _verdict(-0.2, 0.05, 0.1) == "undecided"
    assert _verdict(None, None, 0.1) == "undefined"


def test_the_cli_path_stays_light():
    import subprocess
    import sys

    code = ("import sys, coder.cli, coder.cli.autocode_llm; print(sorted(m for m in "
            "('httpx', 'numpy', 'pandas', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
