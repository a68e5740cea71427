"""The language-model coder (``auto:llm:MODEL``): a chat model codes participant turns.

For every participant segment the model is sent the codebook, the interviewer's question
before the turn and the turn (:mod:`coder.autocode.llm_prompt`), through an OpenAI-compatible
chat server that runs on this machine by default (:mod:`coder.autocode.llm_client`). Its
answers are stored as the codings of a machine coder, with the rationale as each coding's memo,
so ``coder agreement`` and :mod:`coder.autocode.llm_eval` measure it like a person.

Audit and reproducibility: a run (``llm_run``) records the model, the digest the server gives,
the endpoint, every parameter and the prompt template's hash; every request and raw response is
an ``llm_call`` row with its tokens and time. A request is identified by the SHA-256 of its
exact body (model, messages, temperature, seed, schema…): when the project already holds the
final answer to the same request, that answer is replayed and nothing is sent, so a re-run with
the same settings reproduces the codings without the model.

Order of checks, all before the first byte is sent: the endpoint must be local unless
``allow_remote``; the personal-data gate scans every prompt that would be sent.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, delete, insert, select, update

from coder.autocode.keywords import machine_coder_name
from coder.autocode.llm_client import (
    DEFAULT_ENDPOINT, Attempt, ChatClient, backoff_delay, check_endpoint, retryable,
)
from coder.autocode.llm_prompt import (
    Answer, InvalidAnswer, Prompt, answer_schema, build_prompt, codebook_section, coded_keys,
    parse_answer, stored_keys, template_sha256,
)
from coder.codebook import require_codebook
from coder.coding.store import K, R, S, get_or_create_coder
from coder.db.models import LlmCall, LlmRun, utcnow
from coder.errors import CoderError

RUN = LlmRun.__table__
CALL = LlmCall.__table__


def llm_coder_name(model: str, run: int = 1) -> str:
    """``auto:llm:MODEL`` (characters a coder name cannot hold become ``-``); repeated runs
    for the consistency check are ``auto:llm:MODEL@run2``, ``@run3`` …"""
    name = "auto:llm:" + re.sub(r"[^A-Za-z0-9_.:@-]", "-", model)
    return name if run == 1 else f"{name}@run{run}"


@dataclass
class LlmSettings:
    """Everything that determines what is asked (and so what can be replayed)."""

    model: str
    endpoint: str = DEFAULT_ENDPOINT
    coder: str | None = None
    level: str = "themes"            # themes | codes
    temperature: float = 0.0
    seed: int = 0
    max_tokens: int = 1024
    timeout: float = 120.0
    retries: int = 3
    backoff: float = 1.0
    concurrency: int = 2
    transcripts: list[str] | None = None
    limit: int | None = None
    allow_remote: bool = False
    api_key: str | None = None

    @property
    def coder_name(self) -> str:
        return machine_coder_name(self.coder or llm_coder_name(self.model))

    def params(self) -> dict:
        return {"level": self.level, "temperature": self.temperature, "seed": self.seed,
                "max_tokens": self.max_tokens, "timeout": self.timeout,
                "retries": self.retries, "concurrency": self.concurrency,
                "transcripts": self.transcripts, "limit": self.limit}


@dataclass
class Job:
    segment_id: int
    label: str          # TRANSCRIPT:N, for messages
    turn: str
    prompt: Prompt
    body: dict
    sha256: str


@dataclass
class LlmReport:
    """What a run did (or, for a dry run, would do)."""

    coder: str
    model: str
    endpoint: str
    run_id: int | None = None
    segments: int = 0
    to_send: int = 0
    replayed: int = 0
    requests: int = 0
    coded: int = 0
    codings: int = 0
    failures: dict[str, str] = field(default_factory=dict)   # label -> why
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_prompt: list[dict] | None = None
    template_sha256: str = ""
    interrupted: bool = False
    answered: int = 0   # segments whose requests are done (answered or failed)

    @property
    def done(self) -> int:
        return self.replayed + self.answered


def request_body(settings: LlmSettings, prompt: Prompt, keys: list[str]) -> dict:
    return {
        "model": settings.model,
        "messages": prompt.messages,
        "temperature": settings.temperature,
        "seed": settings.seed,
        "max_tokens": settings.max_tokens,
        "stream": False,
        "response_format": {"type": "json_schema",
                            "json_schema": {"name": "coding", "strict": True,
                                            "schema": answer_schema(keys)}},
    }


def body_sha256(body: dict) -> str:
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def plan_jobs(conn, settings: LlmSettings) -> tuple[list[Job], list[str], object]:
    """One job per participant segment (in transcript order), with the question before it."""
    codebook = require_codebook(conn)
    if settings.level not in ("themes", "codes"):
        raise CoderError(f"--level {settings.level!r}: use themes or codes")
    keys = coded_keys(codebook, settings.level)
    section = codebook_section(codebook, settings.level)
    q = select(S.c.id, S.c.transcript_id, S.c.n, S.c.speaker, S.c.role, S.c.text) \
        .order_by(S.c.transcript_id, S.c.n)
    if settings.transcripts:
        known = set(conn.execute(select(S.c.transcript_id).where(
            S.c.transcript_id.in_(settings.transcripts))).scalars())
        missing = [t for t in settings.transcripts if t not in known]
        if missing:
            raise CoderError(f"no transcript {missing[0]!r} in the project — see `coder "
                             "transcripts list`")
        q = q.where(S.c.transcript_id.in_(settings.transcripts))
    jobs: list[Job] = []
    question, current = None, None
    for sid, tid, n, speaker, role, text in conn.execute(q):
        if tid != current:
            question, current = None, tid
        if role == "interviewer":
            question = text
            continue
        prompt = build_prompt(sid, section, question, speaker, text)
        body = request_body(settings, prompt, keys)
        jobs.append(Job(sid, f"{tid}:{n}", text, prompt, body, body_sha256(body)))
        if settings.limit and len(jobs) >= settings.limit:
            break
    return jobs, keys, codebook


def recorded_answers(conn, hashes: list[str]) -> dict[str, tuple[str, str | None, str | None]]:
    """request hash → (status, raw response, answer JSON) of its latest *final* outcome that
    came from the model (an answer, an invalid answer or a refusal — not a network error)."""
    found: dict[str, tuple[str, str | None, str | None]] = {}
    for i in range(0, len(hashes), 500):
        chunk = hashes[i:i + 500]
        rows = conn.execute(
            select(CALL.c.request_sha256, CALL.c.status, CALL.c.response, CALL.c.answer)
            .where(and_(CALL.c.request_sha256.in_(chunk), CALL.c.final.is_(True),
                        CALL.c.status != "error"))
            .order_by(CALL.c.id))
        for sha, status, response, answer in rows:
            found[sha] = (status, response, answer)
    return found


def gate_prompts(jobs: list[Job], identifiers) -> None:
    """The personal-data gate on every prompt that would be sent (PiiFound, nothing sent)."""
    from coder.anonymize import scan_text
    from coder.anonymize.detect import as_identifiers
    from coder.anonymize.gate import PiiFound

    idents = as_identifiers(identifiers)
    findings = []
    if jobs:  # the codebook part is the same in every prompt: scan it once
        findings += scan_text(jobs[0].prompt.messages[0]["content"], identifiers=idents,
                              source="the prompt's instructions")
    for job in jobs:
        user = job.prompt.messages[1]["content"]
        cut = 0 if job is jobs[0] else max(0, user.find("Interviewer's question before"))
        findings += scan_text(user[cut:], identifiers=idents, source=f"prompt for {job.label}")
        if len(findings) > PiiFound.LIMIT:
            break
    if findings:
        raise PiiFound(findings, "nothing was sent to the model — pseudonymize the transcripts "
                       "(coder anonymize), re-import them with --replace, then run again")


@dataclass
class Outcome:
    """The end of one job: every attempt, and the final status and answer."""

    job: Job
    attempts: list[tuple[Attempt, str, str | None, dict]]  # attempt, status, error, usage
    status: str                       # ok | invalid | refused | error
    answer: Answer | None = None
    error: str | None = None


def interpret(attempt: Attempt, keys: list[str], turn: str
              ) -> tuple[str, str | None, Answer | None, dict]:
    """A 200 response → (status, error, answer, usage): ok, invalid or refused."""
    try:
        data = json.loads(attempt.response or "")
        choice = data["choices"][0]
        message = choice["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "invalid", "the server's response is not a chat completion", None, {}
    usage = data.get("usage") or {}
    if message.get("refusal"):
        return "refused", f"the model refused: {str(message['refusal'])[:200]}", None, usage
    if choice.get("finish_reason") == "length":
        return "invalid", "the answer was cut off at max_tokens", None, usage
    try:
        return "ok", None, parse_answer(message.get("content"), keys, turn), usage
    except InvalidAnswer as exc:
        return "invalid", str(exc), None, usage


def run_job(client: ChatClient, job: Job, keys: list[str], settings: LlmSettings,
            sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Send one request, retrying transient errors and invalid answers ``settings.retries``
    times; a refusal or another HTTP error is final."""
    attempts = []
    for index in range(settings.retries + 1):
        attempt = client.chat(job.body)
        if attempt.status == "error":
            attempts.append((attempt, "error", attempt.error, {}))
            if retryable(attempt) and index < settings.retries:
                sleep(backoff_delay(index, settings.backoff))
                continue
            return Outcome(job, attempts, "error", error=attempt.error)
        status, error, answer, usage = interpret(attempt, keys, job.turn)
        attempts.append((attempt, status, error, usage))
        if status == "ok":
            return Outcome(job, attempts, "ok", answer=answer)
        if status == "refused" or index == settings.retries:
            return Outcome(job, attempts, status, error=error)
    raise AssertionError("unreachable")  # pragma: no cover


def run_llm(project, settings: LlmSettings, *, identifiers=None, dry_run: bool = False,
            progress: Callable[[LlmReport, int], None] | None = None,
            client_factory: Callable[..., ChatClient] = ChatClient) -> LlmReport:
    """Code every participant segment with the model (see the module docstring).

    ``progress(report, total)`` is called after each segment. Each segment's outcome is
    committed on its own, so an interrupted run keeps what is done and a re-run replays it.
    """
    endpoint = check_endpoint(settings.endpoint, allow_remote=settings.allow_remote)
    coder = settings.coder_name
    with project.read() as conn:
        jobs, keys, codebook = plan_jobs(conn, settings)
        recorded = recorded_answers(conn, [j.sha256 for j in jobs])
    report = LlmReport(coder, settings.model, endpoint, segments=len(jobs),
                       template_sha256=template_sha256())
    to_send = [j for j in jobs if j.sha256 not in recorded]
    report.to_send = len(to_send)
    report.first_prompt = jobs[0].prompt.messages if jobs else None
    if not jobs:
        raise CoderError("no participant segments to code — import transcripts first")
    gate_prompts(to_send, identifiers)
    if dry_run:
        report.replayed = len(jobs) - len(to_send)
        return report

    client = client_factory(endpoint, timeout=settings.timeout, api_key=settings.api_key) \
        if to_send else None
    digest = client.model_digest(settings.model) if client else _last_digest(project, settings)
    with project.write() as conn:
        cid = get_or_create_coder(conn, coder)
        report.run_id = conn.execute(insert(RUN).values(
            coder=coder, model=settings.model, model_digest=digest, endpoint=endpoint,
            params=json.dumps(settings.params(), sort_keys=True),
            template_sha256=report.template_sha256, codebook_id=codebook.id,
            started_at=utcnow(), segments=len(jobs), requests=0, replayed=0, failures=0)
        ).inserted_primary_key[0]
    try:
        for job in jobs:
            if job.sha256 in recorded:
                _store_replay(project, report, cid, codebook.id, job, recorded[job.sha256], keys)
                if progress:
                    progress(report, len(jobs))
        if to_send:
            _send_all(project, report, cid, codebook.id, to_send, keys, settings, client,
                      progress, len(jobs))
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    finally:
        if client is not None:
            client.close()
        with project.write() as conn:
            conn.execute(update(RUN).where(RUN.c.id == report.run_id).values(
                finished_at=None if report.interrupted else utcnow(),
                requests=report.requests, replayed=report.replayed,
                failures=len(report.failures)))
    return report


def _last_digest(project, settings: LlmSettings) -> str | None:
    with project.read() as conn:
        return conn.execute(select(RUN.c.model_digest).where(RUN.c.model == settings.model)
                            .order_by(RUN.c.id.desc()).limit(1)).scalar()


def _send_all(project, report, cid, codebook_id, jobs, keys, settings, client, progress,
              total) -> None:
    from concurrent.futures import ThreadPoolExecutor, as_completed

    pool = ThreadPoolExecutor(max_workers=max(1, settings.concurrency))
    try:
        futures = [pool.submit(run_job, client, job, keys, settings) for job in jobs]
        for future in as_completed(futures):
            _store_outcome(project, report, cid, codebook_id, future.result())
            if progress:
                progress(report, total)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        client.close()  # in-flight requests end at once instead of at their timeout
        raise
    pool.shutdown(wait=True)


def _store_outcome(project, report: LlmReport, cid: int, codebook_id: int,
                   outcome: Outcome) -> None:
    job = outcome.job
    request = json.dumps(job.body, ensure_ascii=False, sort_keys=True)
    now = utcnow()
    rows = []
    for i, (attempt, status, error, usage) in enumerate(outcome.attempts, start=1):
        final = i == len(outcome.attempts)
        rows.append({"run_id": report.run_id, "segment_id": job.segment_id,
                     "request_sha256": job.sha256, "attempt": i, "final": final,
                     "replayed": False, "request": request, "response": attempt.response,
                     "status": status, "error": error,
                     "answer": json.dumps(outcome.answer.as_json(), ensure_ascii=False)
                     if final and outcome.answer else None,
                     "prompt_tokens": usage.get("prompt_tokens"),
                     "completion_tokens": usage.get("completion_tokens"),
                     "seconds": round(attempt.seconds, 4), "created_at": now})
        report.prompt_tokens += usage.get("prompt_tokens") or 0
        report.completion_tokens += usage.get("completion_tokens") or 0
    report.requests += len(rows)
    report.answered += 1
    with project.write() as conn:
        conn.execute(insert(CALL), rows)
        _store_codings(conn, report, cid, codebook_id, job,
                       outcome.answer if outcome.status == "ok" else None,
                       outcome.error or outcome.status)


def _store_replay(project, report: LlmReport, cid: int, codebook_id: int, job: Job,
                  recorded: tuple[str, str | None, str | None], keys: list[str]) -> None:
    status, response, answer_json = recorded
    answer = None
    error = status
    if status == "ok":
        # re-validate the recorded response: the turn and the codebook it is checked against
        # are the same (they are part of the request hash), so the result is the same answer
        status, error, answer, _usage = interpret(Attempt("answer", response, None, 0.0),
                                                  keys, job.turn)
    report.replayed += 1
    with project.write() as conn:
        conn.execute(insert(CALL).values(
            run_id=report.run_id, segment_id=job.segment_id, request_sha256=job.sha256,
            attempt=1, final=True, replayed=True,
            request=json.dumps(job.body, ensure_ascii=False, sort_keys=True),
            response=response, status=status, error=None if status == "ok" else error,
            answer=json.dumps(answer.as_json(), ensure_ascii=False) if answer else None,
            created_at=utcnow()))
        _store_codings(conn, report, cid, codebook_id, job, answer, error)


def _store_codings(conn, report: LlmReport, cid: int, codebook_id: int, job: Job,
                   answer: Answer | None, why: str | None) -> None:
    """The segment's decision: exactly the answer's codes with their rationales as memos; a
    failure leaves the segment unreviewed (missing in agreement), never "no code"."""
    mine = and_(K.c.coder_id == cid, K.c.segment_id == job.segment_id)
    conn.execute(delete(K).where(mine))
    conn.execute(delete(R).where(and_(R.c.coder_id == cid, R.c.segment_id == job.segment_id)))
    if answer is None:
        report.failures[job.label] = why or "failed"
        return
    now = utcnow()
    rationale = {c.code: c.rationale for c in answer.codes}
    keys = stored_keys(answer.keys)
    conn.execute(insert(R).values(coder_id=cid, segment_id=job.segment_id, memo=None,
                                  source="auto", reviewed_at=now))
    if keys:
        conn.execute(insert(K), [{"coder_id": cid, "segment_id": job.segment_id,
                                  "code_key": key, "codebook_id": codebook_id,
                                  "memo": rationale.get(key), "probability": None,
                                  "created_at": now} for key in keys])
    report.coded += bool(keys)
    report.codings += len(keys)


def read_identifiers(path: str | Path | None):
    if path is None:
        return None
    from coder.anonymize import load_identifiers

    return load_identifiers(path)
