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
    """Inter-coder agreement per theme, per pair, overall and per group (SPEC §6).

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


def register(app: typer.Typer) -> None:
    app.command("agreement")(agreement)
