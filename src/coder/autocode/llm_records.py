"""Reading back what the language-model coder recorded: its runs and its requests."""

from __future__ import annotations

import json

from sqlalchemy import select

from coder.autocode.llm import CALL, RUN
from coder.coding.store import S


def list_runs(conn) -> list[dict]:
    """Every run, oldest first, with its parameters decoded."""
    rows = conn.execute(select(RUN).order_by(RUN.c.id)).mappings().all()
    return [{"run": r["id"], "coder": r["coder"], "model": r["model"],
             "model_digest": r["model_digest"], "endpoint": r["endpoint"],
             "params": json.loads(r["params"]), "template_sha256": r["template_sha256"],
             "codebook_id": r["codebook_id"], "started_at": str(r["started_at"])[:19],
             "finished_at": str(r["finished_at"])[:19] if r["finished_at"] else None,
             "segments": r["segments"], "requests": r["requests"], "replayed": r["replayed"],
             "failures": r["failures"]} for r in rows]


def list_calls(conn, *, coder: str | None = None, failed: bool = False) -> list[dict]:
    q = (select(CALL.c.run_id, RUN.c.coder, S.c.transcript_id, S.c.n, CALL.c.attempt,
                CALL.c.status, CALL.c.replayed, CALL.c.prompt_tokens, CALL.c.completion_tokens,
                CALL.c.seconds, CALL.c.error)
         .join(RUN, RUN.c.id == CALL.c.run_id).join(S, S.c.id == CALL.c.segment_id)
         .order_by(CALL.c.id))
    if coder:
        q = q.where(RUN.c.coder == coder)
    if failed:
        q = q.where(CALL.c.status != "ok")
    return [{"run": run, "coder": name, "segment": f"{tid}:{n}", "attempt": attempt,
             "status": status, "replayed": bool(replayed), "prompt_tokens": pt,
             "completion_tokens": ct, "seconds": secs, "error": error}
            for run, name, tid, n, attempt, status, replayed, pt, ct, secs, error
            in conn.execute(q)]


def llm_summaries(conn, *, margin: float = 0.1, bootstrap: int = 200) -> list[dict]:
    """One entry per language-model coder (its latest run) for ``coder autocode models``:
    the run's audit fields and, where humans coded the same segments, the pooled evaluation
    of :func:`coder.autocode.llm_eval.evaluate_machine_coder`."""
    from coder.errors import CoderError

    latest: dict[str, dict] = {}
    for run in list_runs(conn):
        latest[run["coder"]] = run
    out = []
    for coder, run in latest.items():
        evaluation, consistency = None, None
        try:
            from coder.autocode.llm_eval import evaluate_machine_coder

            result = evaluate_machine_coder(conn, coder, margin=margin, bootstrap=bootstrap,
                                            codes=run["params"].get("level") == "codes")
            evaluation = {k: result["overall"][k] for k in
                          ("machine_human", "human_human", "difference", "ci", "verdict")}
            evaluation["units"] = result["units"]
            evaluation["margin"] = margin
            if result["consistency"]:
                consistency = result["consistency"]["overall"]
        except CoderError:
            pass  # no humans yet, or too few common segments: nothing to compare
        out.append({"model": coder, "kind": "llm", "llm_model": run["model"],
                    "model_digest": run["model_digest"], "endpoint": run["endpoint"],
                    "run": run["run"], "params": run["params"],
                    "template_sha256": run["template_sha256"], "segments": run["segments"],
                    "requests": run["requests"], "replayed": run["replayed"],
                    "failures": run["failures"], "started_at": run["started_at"],
                    "evaluation": evaluation, "consistency": consistency})
    return out
