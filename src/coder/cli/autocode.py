"""``coder autocode keywords|train|apply|models``: machine coders."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from coder.cli.common import (
    DbOption, Format, FormatOption, OutputOption, dump_json, message, open_project, warn,
    write_text,
)

autocode_app = typer.Typer(
    help="Machine coders: keyword rules and a learned model, stored and measured like any "
         "other coder (compare them with `coder agreement --coders alice,auto:model`).",
    no_args_is_help=True)


LanguageOption = Annotated[Optional[str], typer.Option(
    "--language", metavar="CODE", help="Language of transcripts that do not say theirs "
    "(ISO code: ru, en, kk…). Default: the project setting `language`, else a guess from "
    "the script.", show_default=False)]


class Level(str, Enum):
    themes = "themes"
    codes = "codes"


class Classifier(str, Enum):
    logreg = "logreg"
    svm = "svm"


@autocode_app.command("keywords")
def keywords(
    as_name: Annotated[str, typer.Option(
        "--as", metavar="NAME", help="The machine coder to store the codings as (its previous "
        "codings are replaced).")] = "auto:keywords",
    codes: Annotated[bool, typer.Option(
        "--codes/--themes", help="Store the matching codes' full keys (a sub-code implies its "
        "theme), or only their themes.")] = True,
    language: LanguageOption = None,
    db: DbOption = None,
) -> None:
    """Code every participant segment with the codebook's keywords and /regexes/.

    Whole words, case-insensitive, in each transcript's language: Russian by lemma
    (pymorphy3: «бумажный тигр» finds «бумажным тигром», «бумажные тигры»), languages with a
    Snowball stemmer by stem, English with -s, -es, -ed and -ing forms of a phrase's last
    word (reform: reforms, reformed, reforming). A codebook may give keywords per language
    (`keywords: {any: […], ru: […]}`). Every segment is marked reviewed, so segments
    without a match count as "no code" in `coder agreement`.
    """
    from coder.autocode.keywords import keyword_code

    with open_project(db).write() as conn:
        report = keyword_code(conn, as_name, codes=codes, language=language)
    message(f"{report.coder}: {report.coded} of {report.segments} participant segments got "
            f"codes ({report.codings} codings, {report.level} level, codebook version "
            f"{report.codebook_version})" + (f"; replaced {report.replaced} previous codings"
                                              if report.replaced else ""))
    message("words matched by language: " + "; ".join(
        f"{lang} ({n} segments): {how}" for lang, (n, how) in report.languages.items()))


@autocode_app.command("train")
def train(
    source: Annotated[str, typer.Option(
        "--from", metavar="CODER", help="The coder to learn from: a person or consensus; "
        "their reviewed participant segments are the training data.", show_default=False)],
    as_name: Annotated[str, typer.Option(
        "--as", metavar="NAME", help="Name of the model (and of the coder `apply` codes as); "
        "a model of that name is replaced.")] = "auto:model",
    folds: Annotated[int, typer.Option(
        "--folds", min=2, help="Cross-validation folds, grouped by transcript.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (fold assignment, "
                                      "classifier); same seed, same model.")] = 0,
    level: Annotated[Level, typer.Option(
        "--level", help="Learn themes (a sub-code counts for its theme) or every code.")]
    = Level.themes,
    classifier: Annotated[Classifier, typer.Option(
        "--classifier", help="logreg: logistic regression; svm: linear SVM calibrated to "
        "probabilities.")] = Classifier.logreg,
    skip_rare: Annotated[bool, typer.Option(
        "--skip-rare", help="Leave out themes with too few examples for the folds (listed) "
        "instead of stopping.")] = False,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    db: DbOption = None,
) -> None:
    """Train a model on a coder's decisions and report its cross-validated quality.

    TF-IDF word 1-2-grams and character 2-5-grams, one balanced classifier per theme.
    Precision, recall, F1 and Krippendorff's alpha against the coder come from
    cross-validation grouped by transcript: each interview is predicted by a model that
    never saw it. The model is saved in the project with the codebook version.
    """
    from coder.autocode.model import train_model

    model = train_model(open_project(db), source, name=as_name, level=level.value,
                        folds=folds, seed=seed, classifier=classifier.value,
                        skip_rare=skip_rare)
    _render_metrics(model.metrics, format, output)
    m = model.metrics
    for lang, by in m.get("by_language", {}).items():
        message(f"{lang}: {by['segments']} segments (words {by['words']}): alpha "
                f"{_fmt(by['krippendorff_alpha'])}, F1 {_fmt(by['f1'])} (cross-validated)")
    if m["skipped"]:
        warn("left out as too rare (--skip-rare): " + ", ".join(
            f"{k} ({c['positives']} positive segment(s) in {c['transcripts']} transcript(s))"
            for k, c in m["skipped"].items()))
    message(f"saved model {m['model']} (codebook version {m['codebook_version']}, trained "
            f"from {m['trained_from']} on {m['segments']} segments of {m['transcripts']} "
            f"transcripts) — code with `coder autocode apply --model {m['model']}`")


@autocode_app.command("apply")
def apply(
    model: Annotated[str, typer.Option(
        "--model", metavar="NAME", help="The trained model to use.")] = "auto:model",
    as_name: Annotated[str | None, typer.Option(
        "--as", metavar="NAME", help="The machine coder to store codings as (default: the "
        "model's name).", show_default=False)] = None,
    threshold: Annotated[float, typer.Option(
        "--threshold", metavar="P", help="Apply a code when its probability is at least P.")]
    = 0.5,
    recode: Annotated[bool, typer.Option(
        "--all", help="Recode every participant segment, replacing the coder's previous "
        "codings (e.g. after retraining).")] = False,
    db: DbOption = None,
) -> None:
    """Code the segments the machine coder has not reviewed yet with a trained model.

    Codings keep their probability (shown as suggestions in `coder code`). Segments the
    model was trained on get their cross-validated (out-of-fold) prediction, so `coder
    agreement` against the training coder shows honest figures. Refuses a model trained
    under another codebook version: retrain it first.
    """
    from coder.autocode.apply import apply_model

    report = apply_model(open_project(db), model, coder=as_name, threshold=threshold,
                         recode=recode)
    message(f"{report.coder}: coded {report.segments} participant segments with model "
            f"{report.model} (threshold {report.threshold}), {report.coded} got codes "
            f"({report.codings} codings)" + (f"; replaced {report.replaced} previous codings"
                                              if report.replaced else ""))
    if report.out_of_fold:
        message(f"{report.out_of_fold} of them are training segments: they got their "
                "cross-validated prediction, so agreement with the training coder is not "
                "inflated by the model having seen them")
    if report.segments == 0 and not recode:
        message("every participant segment was already coded — use --all to recode them")


@autocode_app.command("models")
def models(
    format: FormatOption = Format.table,
    output: OutputOption = None,
    db: DbOption = None,
) -> None:
    """The machine coders: trained models (source coder, codebook version, cross-validated
    quality) and language-model runs (model, digest, requests, failures, agreement with the
    humans and the equivalence verdict; details in `coder autocode evaluate`)."""
    from coder.autocode.apply import stored_models
    from coder.autocode.llm_records import llm_summaries
    from coder.render import render_rows

    with open_project(db).read() as conn:
        found = stored_models(conn)
        llm_rows = llm_summaries(conn)
    if format == Format.json:
        return write_text(dump_json([m.metrics for m in found] + llm_rows), output)
    if llm_rows:
        _render_llm(llm_rows, format, output if not found else None)
    rows = [[m.name, m.trained_from, m.metrics.get("level"), m.codebook_version,
             m.metrics.get("segments"), m.metrics["overall"].get("macro_f1"),
             m.metrics["overall"].get("krippendorff_alpha"), str(m.created_at)[:19]]
            for m in found]
    render_rows(["model", "trained from", "level", "codebook version", "segments",
                 "macro F1", "alpha (pooled)", "trained at"], rows, format.value, output,
                title="Trained models (figures from grouped cross-validation)")


def _render_llm(rows: list[dict], format: Format, output) -> None:
    from coder.render import render_rows

    table = [[r["model"], r["llm_model"], (r["model_digest"] or "n/a")[:19], r["endpoint"],
              r["segments"], r["requests"], r["replayed"], r["failures"],
              r["evaluation"]["machine_human"] if r["evaluation"] else None,
              r["evaluation"]["human_human"] if r["evaluation"] else None,
              r["evaluation"]["verdict"] if r["evaluation"] else "n/a",
              r["consistency"]] for r in rows]
    render_rows(["coder", "model", "digest", "endpoint", "segments", "requests", "replayed",
                 "failures", "alpha vs humans", "alpha humans", "equivalence (±0.1)",
                 "run-to-run alpha"], table, format.value, output,
                title="Language-model coders (latest run; `coder autocode evaluate CODER` "
                      "for every code)")


def _render_metrics(metrics: dict, format: Format, output) -> None:
    from coder.render import render_rows

    if format == Format.json:
        return write_text(dump_json(metrics), output)
    level = metrics["level"]
    rows = [[key, m["positives"], m["transcripts"], m["predicted"], m["precision"],
             m["recall"], m["f1"], m["krippendorff_alpha"]]
            for key, m in metrics[level].items()]
    o = metrics["overall"]
    rows.append(["overall (micro; pooled alpha)", sum(r[1] for r in rows), None,
                 sum(r[3] for r in rows), o["precision"], o["recall"], o["f1"],
                 o["krippendorff_alpha"]])
    title = (f"{metrics['model']} vs {metrics['trained_from']}: {metrics['folds']}-fold "
             f"cross-validation grouped by transcript ({metrics['segments']} segments, "
             f"{metrics['transcripts']} transcripts, threshold {metrics['threshold']})")
    render_rows([level[:-1], "positives", "transcripts", "predicted", "precision", "recall",
                 "F1", "alpha"], rows, format.value, output, title=title,
                footer=f"macro F1 {_fmt(o['macro_f1'])}, mean alpha {_fmt(o['mean_alpha'])}")


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def register(app: typer.Typer) -> None:
    from coder.cli import autocode_llm

    autocode_llm.register(autocode_app)
    app.add_typer(autocode_app, name="autocode")
