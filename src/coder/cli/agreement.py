"""``coder agreement``, ``coder disagreements`` and ``coder reconcile``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from coder.cli.common import DbOption, Format, FormatOption, OutputOption, message, warn

CodersOption = Annotated[Optional[str], typer.Option(
    "--coders", metavar="A,B,…", help="Comma-separated coders to compare (default: every "
    "human coder). Machine coders and consensus take part only when named.",
    show_default=False)]


def _split(coders: str | None) -> list[str] | None:
    if coders is None:
        return None
    names = [c.strip() for c in coders.split(",") if c.strip()]
    return names


def agreement(
    coders: CodersOption = None,
    codes: Annotated[bool, typer.Option(
        "--codes", help="Compare at code level (sub-codes separately) instead of themes.")]
    = False,
    by: Annotated[Optional[str], typer.Option(
        "--by", metavar="transcript|ATTRIBUTE", help="Also report per transcript or per value "
        "of a participant attribute such as country.")] = None,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", metavar="N", min=0, help="Bootstrap N resamples for 95% confidence "
        "intervals of alpha (Hayes & Krippendorff 2007); 0 = none.")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the bootstrap.")] = 1,
    min_alpha: Annotated[Optional[float], typer.Option(
        "--min-alpha", metavar="X", help="Gate for scripts: exit 1 when any theme's alpha is "
        "below X (the report is still written).")] = None,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    db: DbOption = None,
) -> None:
    """Inter-coder agreement per theme, per pair, overall and per group.

    Krippendorff's alpha is coloured against Krippendorff's thresholds: >= .800 reliable,
    >= .667 tentative conclusions only, below that unreliable.
    """
    from coder.agreement.render import render_agreement
    from coder.agreement.report import agreement_report, failing_keys
    from coder.cli.common import open_project
    from coder.errors import GateFailed

    project = open_project(db)
    with project.read() as conn:
        report = agreement_report(conn, _split(coders), codes=codes, by=by,
                                  bootstrap=bootstrap, seed=seed)
    render_agreement(report, format.value, output)
    level = report["level"]
    undefined = [k for k, s in report[level].items() if s["krippendorff_alpha"] is None]
    if undefined:
        warn(f"alpha undefined (n/a) for {', '.join(undefined)}: "
             + report[level][undefined[0]]["reason"])
    if min_alpha is not None:
        failing = failing_keys(report, min_alpha)
        if failing:
            raise GateFailed(f"alpha below {min_alpha} for " + ", ".join(
                f"{k} ({report[level][k]['krippendorff_alpha']:.3f})" for k in failing))
        message(f"gate passed: every defined alpha >= {min_alpha}")


def disagreements(
    coders: Annotated[str, typer.Option(
        "--coders", metavar="A,B,…", help="The coders to compare (two or more).",
        show_default=False)],
    theme: Annotated[Optional[str], typer.Option(
        "--theme", metavar="KEY", help="Only this theme (and its sub-codes).")] = None,
    codes: Annotated[bool, typer.Option(
        "--codes", help="Differences at code level (default: theme level).")] = False,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    db: DbOption = None,
) -> None:
    """The segments where coders differ, with each coder's codes and memos.

    The agenda of a reconciliation meeting: text, codes and memos side by side.
    """
    from coder.cli.common import open_project
    from coder.coding.consensus import disagreements as find
    from coder.render import render_rows

    names = _split(coders) or []
    with open_project(db).read() as conn:
        views = find(conn, names, theme=theme, codes=codes)
    columns = ["transcript", "segment", "speaker", "differs on"]
    for name in names:
        columns += [f"{name} codes", f"{name} memo"]
    columns.append("text")
    rows = []
    for v in views:
        row = [v.transcript, v.n, v.speaker, ", ".join(v.differs)]
        for name in names:
            row += [", ".join(sorted(v.codes[name])) or "(none)", v.memos[name] or ""]
        rows.append(row + [v.text])
    render_rows(columns, rows, format.value, output,
                title=f"Disagreements between {', '.join(names)}: {len(rows)} segment(s)")


def reconcile(
    coders: Annotated[str, typer.Option(
        "--coders", metavar="A,B,…", help="The coders to reconcile (two or more).",
        show_default=False)],
    rule: Annotated[str, typer.Option(
        "--rule", help="majority: codes applied by more than half of the coders; unanimous: "
        "by all; interactive: you settle each disagreement not settled before (agreed "
        "segments are taken as they are; each answer is saved at once).")] = "majority",
    as_name: Annotated[str, typer.Option(
        "--as", metavar="NAME", help="Name of the consensus coder.")] = "consensus",
    settled_by: Annotated[Optional[str], typer.Option(
        "--settled-by", metavar="NAME", help="Who settles (recorded with every decision; "
        "default: your login name).")] = None,
    db: DbOption = None,
) -> None:
    """Build the consensus coder from several coders.

    Every decision records who settled it, under which rule, and each coder's value.
    """
    from coder.cli.common import open_project
    from coder.coding.consensus import reconcile as run

    project = open_project(db)
    choose = _interactive_chooser(project) if rule == "interactive" else None
    report = run(project, _split(coders) or [], rule=rule, as_name=as_name,
                 settled_by=settled_by, choose=choose)
    for conflict in report.conflicts:
        warn(conflict)
    if rule == "interactive":
        from coder.cli.reconcile_prompt import summary

        return message(summary(report))
    message(f"{report.consensus}: {report.segments} segments written under the {report.rule} "
            f"rule, {report.settled} disagreements settled, {report.codings} codings"
            + (f", {report.skipped} left for later" if report.skipped else ""))


def _interactive_chooser(project):
    """The line-mode chooser of :mod:`coder.cli.reconcile_prompt`, numbered as coder code."""
    from coder.cli.common import err
    from coder.cli.reconcile_prompt import make_chooser
    from coder.codebook import require_codebook
    from coder.coding.session import code_options

    with project.read() as conn:
        options = code_options(require_codebook(conn))
    return make_chooser(options, err)


def register(app: typer.Typer) -> None:
    app.command("agreement")(agreement)
    app.command("disagreements")(disagreements)
    app.command("reconcile")(reconcile)
