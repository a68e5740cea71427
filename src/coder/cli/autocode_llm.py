"""``coder autocode llm`` and ``coder autocode evaluate``: the language-model coder."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from coder.cli.common import (
    DbOption, Format, FormatOption, IdentifiersOption, OutputOption, dump_json, err, message,
    open_project, warn, write_text,
)

ENDPOINT_HELP = ("OpenAI-compatible API of the model server. Default: Ollama on this machine. "
                 "llama.cpp server: http://127.0.0.1:8080/v1; LM Studio: "
                 "http://127.0.0.1:1234/v1; vLLM: http://127.0.0.1:8000/v1.")


def llm(
    model: Annotated[str, typer.Option("--model", metavar="NAME", help="Model name as the "
                                       "server knows it, e.g. qwen2.5:7b-instruct.",
                                       show_default=False)],
    endpoint: Annotated[str, typer.Option("--endpoint", metavar="URL", help=ENDPOINT_HELP)]
    = "http://127.0.0.1:11434/v1",
    as_name: Annotated[Optional[str], typer.Option(
        "--as", metavar="NAME", help="Machine coder to store codings as (default "
        "auto:llm:MODEL).", show_default=False)] = None,
    codes: Annotated[bool, typer.Option("--codes/--themes", help="Ask for every code of the "
                                        "codebook, or for themes only.")] = False,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, max=2.0)] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed sent to the server "
                                      "(repeated runs use seed, seed+1, …).")] = 0,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=16)] = 1024,
    repeat: Annotated[int, typer.Option(
        "--repeat", min=1, max=20, help="Run K times (seeds seed … seed+K−1, coders "
        "auto:llm:MODEL, …@run2, …) to measure run-to-run consistency.")] = 1,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64,
                                             help="Requests in flight at once.")] = 2,
    timeout: Annotated[float, typer.Option("--timeout", min=1.0,
                                           help="Seconds to wait for one answer.")] = 120.0,
    retries: Annotated[int, typer.Option(
        "--retries", min=0, max=10, help="Retries of a timed-out, failed (429/5xx) or invalid "
        "answer, with exponential back-off; then the segment is recorded as failed.")] = 3,
    backoff: Annotated[float, typer.Option(
        "--backoff", min=0.0, metavar="SECONDS", help="First back-off delay; doubled after "
        "each retry, at most 30 s.")] = 1.0,
    transcript: Annotated[Optional[list[str]], typer.Option(
        "--transcript", metavar="ID", help="Only this transcript (repeatable).",
        show_default=False)] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, metavar="N",
                                                 help="Only the first N participant segments.",
                                                 show_default=False)] = None,
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote", help="Allow an endpoint that is not on this machine (interview "
        "text leaves it: check your ethics approval first).")] = False,
    api_key_env: Annotated[str, typer.Option(
        "--api-key-env", metavar="VAR", help="Environment variable holding the API key, for "
        "servers that want one.")] = "CODER_LLM_API_KEY",
    identifiers: IdentifiersOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the first prompt and how "
                                          "many requests would be sent; send nothing.")] = False,
    db: DbOption = None,
) -> None:
    """Code participant segments with a language model, audited like a person.

    Each turn is sent with the codebook (labels, definitions, include/exclude criteria,
    examples) and the interviewer's question before it; the answer must be JSON naming
    codebook keys, each with a rationale (stored as the coding's memo) and a verbatim
    quote. Invalid answers are retried, then recorded as failures — never guessed. Every
    request and raw response is stored in the project; a re-run with the same settings
    replays the recorded answers and sends nothing. The endpoint must be on this machine
    unless --allow-remote, and every prompt passes the personal-data gate before it is
    sent. Compare the result with the humans: `coder autocode evaluate auto:llm:MODEL`.
    """
    from coder.autocode.llm import LlmSettings, llm_coder_name, read_identifiers, run_llm

    proj = open_project(db)
    idents = read_identifiers(identifiers)
    api_key = os.environ.get(api_key_env) or None
    for run in range(1, repeat + 1):
        name = as_name if run == 1 or as_name is None else f"{as_name}@run{run}"
        settings = LlmSettings(model=model, endpoint=endpoint,
                               coder=name or llm_coder_name(model, run),
                               level="codes" if codes else "themes", temperature=temperature,
                               seed=seed + run - 1, max_tokens=max_tokens, timeout=timeout,
                               retries=retries, backoff=backoff, concurrency=concurrency,
                               transcripts=transcript, limit=limit, allow_remote=allow_remote,
                               api_key=api_key)
        with _Progress(settings.coder_name) as bar:
            report = run_llm(proj, settings, identifiers=idents, dry_run=dry_run,
                             progress=bar.update)
        _summary(report, dry_run)


def _summary(report, dry_run: bool) -> None:
    if dry_run:
        import json

        typer.echo(json.dumps(report.first_prompt, ensure_ascii=False, indent=2))
        message(f"dry run: {report.segments} participant segments for {report.coder}; "
                f"{report.to_send} request(s) would be sent to {report.endpoint} "
                f"({report.segments - report.to_send} answer(s) are recorded and would be "
                "replayed); nothing was sent")
        return
    message(f"{report.coder}: {report.segments} participant segments, {report.coded} got "
            f"codes ({report.codings} codings); {report.requests} request(s) sent, "
            f"{report.replayed} recorded answer(s) replayed; tokens {report.prompt_tokens} in, "
            f"{report.completion_tokens} out (run {report.run_id})")
    if report.failures:
        shown = "; ".join(f"{k}: {v}" for k, v in list(report.failures.items())[:5])
        more = len(report.failures) - 5
        warn(f"{len(report.failures)} segment(s) failed and stay uncoded by {report.coder} "
             f"(missing in agreement, not 'no code'): {shown}"
             + (f"; … and {more} more" if more > 0 else "")
             + " — see `coder autocode calls`")


class _Progress:
    """A progress bar on stderr with segments, tokens and the estimated time left."""

    def __init__(self, label: str):
        self.label, self.bar, self.task = label, None, None

    def __enter__(self):
        if err.is_terminal:
            from rich.progress import (
                BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("{task.fields[tokens]} tokens"),
                                TimeRemainingColumn(), console=err, transient=True)
            self.bar.start()
        return self

    def update(self, report, total: int) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task(self.label, total=total, tokens=0)
        self.bar.update(self.task, completed=report.done,
                        tokens=report.prompt_tokens + report.completion_tokens)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


def evaluate(
    coder: Annotated[str, typer.Argument(metavar="CODER", help="The machine coder, e.g. "
                                         "auto:llm:qwen2.5:7b-instruct or auto:model.")],
    humans: Annotated[Optional[str], typer.Option(
        "--humans", metavar="A,B", help="Human coders to compare with (default: all).",
        show_default=False)] = None,
    consensus: Annotated[Optional[str], typer.Option(
        "--consensus", metavar="NAME", help="Consensus coder (default: consensus, if any).",
        show_default=False)] = None,
    codes: Annotated[bool, typer.Option("--codes/--themes")] = False,
    margin: Annotated[float, typer.Option(
        "--margin", help="Equivalence margin: the largest difference in alpha from the "
        "humans' own agreement that still counts as 'as good as a human coder'.")] = 0.1,
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, metavar="N",
                                           help="Bootstrap replicates (units resampled).")]
    = 1000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    db: DbOption = None,
) -> None:
    """Measure a machine coder like a person: its alpha with each human and the consensus,
    against the humans' alpha with each other on the same segments, with an equivalence test
    (90 % bootstrap interval of the difference inside ±margin) and, for repeated runs, its
    run-to-run consistency."""
    from coder.autocode.llm_eval import evaluate_machine_coder
    from coder.render import render_rows

    with open_project(db).read() as conn:
        result = evaluate_machine_coder(
            conn, coder, humans=[h.strip() for h in humans.split(",")] if humans else None,
            consensus=consensus, codes=codes, margin=margin, bootstrap=bootstrap, seed=seed)
    if format == Format.json:
        return write_text(dump_json(result), output)
    rows = [[key, *[r["alpha_with"].get(h) for h in result["humans"]],
             r["alpha_with_consensus"], r["human_human"], r["difference"],
             _ci(r["ci"]), r["verdict"]]
            for key, r in [*result["keys"].items(), ("overall (pooled)", result["overall"])]]
    columns = [result["level"][:-1], *[f"α with {h}" for h in result["humans"]],
               "α with consensus", "α human–human", "difference", "90% CI", "verdict"]
    footer = (f"{result['units']} segments reviewed by {coder} and every human; equivalent = "
              f"the interval lies inside ±{margin}")
    cons = result["consistency"]
    if cons:
        footer += (f"; run-to-run consistency over {len(cons['runs'])} runs: alpha "
                   f"{_fmt(cons['overall'])} on {cons['units']} segments")
    render_rows(columns, rows, format.value, output,
                title=f"{coder} measured against the human coders", footer=footer)


def calls(
    coder: Annotated[Optional[str], typer.Option("--coder", metavar="NAME",
                                                 help="Only this machine coder's runs.",
                                                 show_default=False)] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only failed attempts.")] = False,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    db: DbOption = None,
) -> None:
    """The recorded requests of the language-model coder: status, tokens, time, error."""
    from coder.autocode.llm_records import list_calls
    from coder.render import render_rows

    with open_project(db).read() as conn:
        rows = list_calls(conn, coder=coder, failed=failed)
    if format == Format.json:
        return write_text(dump_json(rows), output)
    columns = ["run", "coder", "segment", "attempt", "status", "replayed", "prompt_tokens",
               "completion_tokens", "seconds", "error"]
    render_rows(columns, [[r[c] for c in columns] for r in rows], format.value, output,
                title="Language-model requests")


def _ci(ci) -> str:
    return "n/a" if not ci else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def register(app: typer.Typer) -> None:
    app.command("llm")(llm)
    app.command("evaluate")(evaluate)
    app.command("calls")(calls)

