"""``coder agreement``, ``coder disagreements`` and ``coder reconcile``."""

from __future__ import annotations

from pathlib import Path
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
        "of a participant attribute such as country. Groups under 20 units are flagged small; "
        "--min-alpha checks every group too.")] = None,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", metavar="N", min=0, help="Bootstrap N resamples of the units for 95% "
        "confidence intervals of alpha and Krippendorff's q (the probability that alpha is "
        "below the minimum); 0 = none.")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the bootstrap.")] = 1,
    min_alpha: Annotated[Optional[float], typer.Option(
        "--min-alpha", metavar="X", help="The declared minimum, and a gate for scripts: exit 1 "
        "when any theme's alpha, overall or in a --by group, is below X (the report is still "
        "written). Without it, verdicts use .800 reliable / .667 tentative.")] = None,
    report_file: Annotated[Optional[Path], typer.Option(
        "--report", metavar="FILE.html|.md|.tex|.docx", help="Also write the reliability "
        "appendix for a thesis or paper: units, codebook, coders and sample, a table per "
        "theme with verdicts, notes, groups, the pairwise matrix, how disagreements were "
        "settled, a methods paragraph to paste, provenance. The format follows the suffix.",
        show_default=False)] = None,
    sampling: Annotated[Optional[str], typer.Option(
        "--sampling", metavar="TEXT", help="How the double-coded sample was chosen, for the "
        "appendix (e.g. \"All 11 interviews were coded by all three coders.\"); default: the "
        "project setting agreement.sampling.", show_default=False)] = None,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    db: DbOption = None,
) -> None:
    """Inter-coder agreement per theme, per pair, overall and per group.

    Krippendorff's alpha is coloured against Krippendorff's thresholds: >= .800 reliable,
    >= .667 tentative conclusions only, below that unreliable. Every format carries its
    provenance; --format html (and --report) is the whole reliability appendix.
    """
    from coder.agreement.render import render_agreement
    from coder.agreement.report import agreement_report, gate_failures, report_warnings
    from coder.cli.common import open_project
    from coder.errors import GateFailed

    document = None
    if report_file is not None:
        from coder.reports.reliability_render import report_format

        report_format(report_file)  # a bad suffix fails before any work
    project = open_project(db)
    with project.read() as conn:
        report = agreement_report(conn, _split(coders), codes=codes, by=by,
                                  bootstrap=bootstrap, seed=seed, minimum=min_alpha)
        from coder.reports.reliability import build_appendix, code_labels

        labels = code_labels(conn)
        if report_file is not None or format.value == "html":
            document = build_appendix(conn, report, sampling=sampling)
    appendix = None
    if report_file is not None:  # rendered before anything is written
        from coder.reports.reliability_render import report_bytes

        appendix = report_bytes(document, report_file)
    render_agreement(report, format.value, output, labels=labels, document=document)
    if appendix is not None:
        from coder.output import write_bytes

        write_bytes(appendix, report_file)
    for text in report_warnings(report):
        warn(text)
    if min_alpha is not None:
        failing = gate_failures(report, min_alpha)
        if failing:
            raise GateFailed(f"alpha below {min_alpha} for " + ", ".join(failing))
        message(f"gate passed: every defined alpha >= {min_alpha}"
                + (f", overall and in every {by} group" if by else ""))


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
