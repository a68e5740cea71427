"""The reliability appendix: the agreement report as a document a committee reads.

:func:`build_appendix` takes the agreement report that ``coder agreement --format json``
writes (:func:`coder.agreement.report.agreement_report`) and adds what the database knows
around it — how many transcripts and segments there are, each coder's reviews, the codebook's
labels, how a consensus was settled. Every number in the document, the methods paragraph
included, is read from that report, so the paragraph says what the JSON says by construction.
The renderers (HTML, Markdown, LaTeX, Word) are in :mod:`coder.reports.reliability_render`.

Sections follow what methods sections and ethics boards ask for (Krippendorff 2019, ch. 12;
O'Connor & Joffe 2020; McHugh 2012): units, codebook, coders and sample, a table per theme
(or code) with a verdict against the declared minimum, plain-language notes, groups, the
pairwise matrix, how disagreements were settled, a methods paragraph, provenance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from coder.agreement.report import RELIABLE, TENTATIVE, verdict

SAMPLING_SETTING = "agreement.sampling"
RARE = 0.10          # prevalence below this (or above 1 − this) makes a code "rare"
WIDE_INTERVAL = 0.30  # a 95% interval wider than this is called wide
NUMBERS = {2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight",
           9: "Nine", 10: "Ten"}
SMALL_NUMBERS = {k: v.lower() for k, v in NUMBERS.items()} | {1: "one"}

REFERENCES = [
    "Feinstein, A. R., & Cicchetti, D. V. (1990). High agreement but low kappa: I. The "
    "problems of two paradoxes. Journal of Clinical Epidemiology, 43(6), 543–549.",
    "Gwet, K. L. (2014). Handbook of Inter-Rater Reliability (4th ed.). Advanced Analytics.",
    "Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability "
    "measure for coding data. Communication Methods and Measures, 1(1), 77–89.",
    "Krippendorff, K. (2019). Content Analysis: An Introduction to Its Methodology (4th ed.), "
    "ch. 12. SAGE.",
    "McHugh, M. L. (2012). Interrater reliability: the kappa statistic. Biochemia Medica, "
    "22(3), 276–282.",
    "O'Connor, C., & Joffe, H. (2020). Intercoder reliability in qualitative research: debates "
    "and practical guidelines. International Journal of Qualitative Methods, 19, 1–13.",
]


def apa(x: float | None, digits: int = 2) -> str:
    """A coefficient as APA prints one that cannot exceed 1: no leading zero, a true minus
    sign (``.83``, ``−.12``, ``1.00``); ``n/a`` for None."""
    if x is None:
        return "n/a"
    text = f"{abs(x):.{digits}f}"
    if text.startswith("0."):
        text = text[1:]
    return ("−" if x < 0 and text.strip("0.") else "") + text


def percent(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f} %"


@dataclass
class Row:
    """One theme's (or code's) line of the agreement table, formatted for a document."""

    key: str
    label: str
    prevalence: str
    alpha: str
    ci: str
    q: str
    fleiss: str
    cohen: str
    ac1: str
    bp: str
    agreement: str
    n: int
    verdict: str
    tone: str  # reliable | tentative | unreliable | undefined (the colour)


@dataclass
class Group:
    name: str
    units: int
    small: bool
    rows: list[Row]


@dataclass
class Appendix:
    """Everything the templates show; the numbers are strings, formatted once here."""

    title: str
    report: dict
    level_word: str            # "theme" or "code"
    units_text: str
    codebook_text: str
    coders: list[dict]
    sampling: str
    thresholds: str
    rows: list[Row]
    overall: Row
    groups: list[Group]
    by: str | None
    pair_columns: list[str]
    pair_rows: list[list[str]]
    notes: list[str]
    consensus: list[str]
    methods: str
    provenance: list[str]
    machines: list[str] = field(default_factory=list)  # one sentence per machine coder
    references: list[str] = field(default_factory=lambda: list(REFERENCES))
    columns: list[str] = field(default_factory=lambda: [
        "prevalence", "α", "95 % CI", "q", "Fleiss κ", "Cohen κ (mean)", "AC1", "B-P",
        "% agreement", "n", "verdict"])


def _tone(alpha: float | None) -> str:
    if alpha is None:
        return "undefined"
    return "reliable" if alpha >= RELIABLE else "tentative" if alpha >= TENTATIVE else \
        "unreliable"


def _mean_cohen(s: dict) -> float | None:
    kappas = [p["cohen_kappa"] for p in s.get("pairs", {}).values()
              if p.get("cohen_kappa") is not None]
    return sum(kappas) / len(kappas) if kappas else None


def _row(key: str, label: str, s: dict, minimum: float | None) -> Row:
    ci = s.get("alpha_ci")
    return Row(
        key=key, label=label, prevalence=percent(s.get("prevalence")),
        alpha=apa(s["krippendorff_alpha"], 3),
        ci=f"[{apa(ci[0], 3)}, {apa(ci[1], 3)}]" if ci else "—",
        q=apa(s["alpha_q"], 3) if s.get("alpha_q") is not None else "—",
        fleiss=apa(s.get("fleiss_kappa"), 3), cohen=apa(_mean_cohen(s), 3),
        ac1=apa(s.get("gwet_ac1"), 3), bp=apa(s.get("brennan_prediger"), 3),
        agreement=percent(s.get("percent_agreement")), n=int(s.get("n_units", 0)),
        verdict=verdict(s["krippendorff_alpha"], minimum), tone=_tone(s["krippendorff_alpha"]))


def _listing(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def code_labels(conn) -> dict[str, str]:
    """Full key → label of the current codebook's codes."""
    from coder.coding.store import current_codebook_id
    from coder.db import tables

    C = tables.code
    cb = current_codebook_id(conn)
    if cb is None:
        return {}
    return dict(conn.execute(select(C.c.key, C.c.label).where(C.c.codebook_id == cb)).all())


def level_labels(labels: dict[str, str], keys: list[str], level: str) -> dict[str, str]:
    """Labels as the table shows them: at code level a theme's own row counts only the bare
    theme, so it says so, and a sub-code names its theme."""
    if level == "themes":
        return labels
    out = {}
    for key in keys:
        label = labels.get(key, key)
        if "." not in key:
            out[key] = f"{label} (theme itself)"
        else:
            parent = key.rsplit(".", 1)[0]
            out[key] = f"{labels.get(parent, parent)}: {label}"
    return out


def _project_counts(conn, coders: list[str]) -> tuple[int, int, dict[str, int]]:
    """(transcripts, participant segments, participant segments each coder reviewed)."""
    from coder.db import tables

    S, R, C, T = tables.segment, tables.review, tables.coder, tables.transcript
    transcripts = conn.execute(select(func.count()).select_from(T)).scalar_one()
    segments = conn.execute(select(func.count()).select_from(S)
                            .where(S.c.role == "participant")).scalar_one()
    reviewed = dict(conn.execute(
        select(C.c.name, func.count()).select_from(R.join(C, C.c.id == R.c.coder_id)
                                                   .join(S, S.c.id == R.c.segment_id))
        .where(S.c.role == "participant", C.c.name.in_(coders)).group_by(C.c.name)).all())
    return transcripts, segments, {c: int(reviewed.get(c, 0)) for c in coders}


def consensus_summary(conn) -> list[str]:
    """One sentence per consensus coder: rule, who settled, how many segments and disputes."""
    from coder.db import tables

    D, C = tables.decision, tables.coder
    rows = conn.execute(select(C.c.name, D.c.segment_id, D.c.rule, D.c.settled_by, D.c.sources)
                        .join(C, C.c.id == D.c.coder_id).order_by(C.c.name)).all()
    per: dict[str, dict[str, Any]] = {}
    for name, segment, rule, who, sources in rows:
        entry = per.setdefault(name, {"segments": set(), "disputed": set(), "rules": set(),
                                      "who": set(), "coders": set()})
        entry["segments"].add(segment)
        entry["rules"].add(rule)
        entry["who"].add(who)
        try:
            values = json.loads(sources) if len(sources) < 10_000 else {}
        except ValueError:
            values = {}
        if isinstance(values, dict):
            entry["coders"] |= set(values)
            if len(set(values.values())) > 1:
                entry["disputed"].add(segment)
    sentences = []
    for name, e in per.items():
        rules = _listing(sorted(e["rules"])) + (" rules" if len(e["rules"]) > 1 else " rule")
        sentences.append(
            f"Disagreements were settled under the {rules}"
            f" by {_listing(sorted(e['who']))}: of the {len(e['segments'])} segments decided "
            f"for the consensus coder “{name}” (from {_listing(sorted(e['coders']))}), "
            f"{len(e['disputed'])} had been coded differently.")
    return sentences


def machine_coders(conn, coders: list[str]) -> list[str]:
    """One sentence per machine coder among ``coders``: what it is and how it was run (an
    ethics board asks which "coders" were programs, and with what settings)."""
    from coder.db import tables

    kinds = dict(conn.execute(select(tables.coder.c.name, tables.coder.c.kind)
                              .where(tables.coder.c.name.in_(coders))).all())
    machines = [c for c in coders if kinds.get(c) == "machine"]
    if not machines:
        return []
    runs: dict[str, Any] = {}
    R = tables.llm_run
    for row in conn.execute(select(R).where(R.c.coder.in_(machines)).order_by(R.c.id)).mappings():
        runs[row["coder"]] = row  # the latest run of each
    M = tables.autocode_model
    models = {row["name"]: row for row in conn.execute(
        select(M.c.name, M.c.trained_from, M.c.data_sha256, M.c.metrics, M.c.created_at)
        .where(M.c.name.in_(machines))).mappings()}
    out = []
    for name in machines:
        if name in runs:
            run = runs[name]
            try:
                params = json.loads(run["params"])
            except ValueError:
                params = {}
            settings = ", ".join(f"{k} {params[k]}" for k in ("temperature", "seed", "level")
                                 if k in params)
            digest = f", digest {str(run['model_digest'])[:12]}…" if run["model_digest"] else ""
            out.append(
                f"“{name}” is not a person: a language model ({run['model']}{digest}, served at "
                f"{run['endpoint']}) prompted with the codebook (prompt template sha256 "
                f"{str(run['template_sha256'])[:12]}…" + (f"; {settings}" if settings else "")
                + f"). Its latest run, started {str(run['started_at'])[:16]}, coded "
                f"{run['segments']} segments in {run['requests']} requests ({run['replayed']} "
                f"answered from the record of earlier requests, {run['failures']} failed); "
                "every request and answer is kept in the project (coder autocode calls).")
        elif name in models:
            model = models[name]
            out.append(
                f"“{name}” is not a person: a text classifier trained on the codings of "
                f"“{model['trained_from']}” ({str(model['created_at'])[:16]}; training data "
                f"sha256 {str(model['data_sha256'])[:12]}…); the segments it was trained on "
                "carry out-of-fold predictions, so its agreement is not measured on its own "
                "training answers.")
        elif "keyword" in name:  # auto:keywords, as `coder autocode keywords` names it
            out.append(f"“{name}” is not a person: it applies a code wherever one of the "
                       "codebook's keywords for that code occurs in a segment (no judgement "
                       "of context).")
        else:
            out.append(f"“{name}” is not a person: a machine coder.")
    out.append("Machine coders are reported as any coder is; their agreement with the people "
               "says how far they could stand in for one, not that the coding is reliable.")
    return out


def build_appendix(conn, report: dict, *, sampling: str | None = None) -> Appendix:
    """The document for ``report`` (an :func:`~coder.agreement.report.agreement_report`
    result), with the project facts read from ``conn``."""
    from coder.db.settings import get_setting
    from coder.reports.provenance import Provenance

    level = report["level"]
    word = "theme" if level == "themes" else "code"
    labels = level_labels(code_labels(conn), list(report[level]), level)
    coders = report["coders"]
    minimum = report.get("minimum_alpha") if report.get("minimum_declared") else None
    transcripts, segments, reviewed = _project_counts(conn, coders)
    prov = report.get("provenance")
    sampling = sampling or get_setting(conn, SAMPLING_SETTING)
    consensus = consensus_summary(conn)
    rows = [_row(k, labels.get(k, k), s, minimum) for k, s in report[level].items()]
    overall = _row("overall", f"All {level} pooled", {**report["overall"], "n_units":
                                                        report["units"]}, minimum)
    for name in ("prevalence", "fleiss", "ac1", "bp", "agreement"):  # per key only
        setattr(overall, name, "")
    groups = [Group(name, g["units"], g.get("small", False),
                    [_row(k, labels.get(k, k), s, minimum) for k, s in g[level].items()])
              for name, g in report.get("groups", {}).items()]
    units_text = (
        f"The unit of analysis is the participant segment: one uninterrupted speaker turn of "
        f"the interviewee, as the transcript's speaker labels split it (interviewer turns are "
        f"not coded). The project holds {transcripts} transcripts with {segments} participant "
        f"segments; {report['units']} of them, from {report.get('transcripts', transcripts)} "
        f"transcripts, were reviewed by at least two of the coders and enter the statistics. "
        + ("For each theme, a coder's value on a segment is 1 when they applied the theme or "
           "one of its sub-codes, 0 when they reviewed the segment without applying it, and "
           "missing when they did not review it." if level == "themes" else
           "For each code, a coder's value on a segment is 1 when they applied the code (or "
           "one of its sub-codes), 0 when they reviewed the segment without applying it, and "
           "missing when they did not review it."))
    if prov and prov.get("codebook"):
        codebook_text = (f"Codebook “{prov['codebook']}”, version {prov['codebook_version']} "
                         f"({len(report[level])} {level}; sha256 "
                         f"{str(prov['codebook_sha256'])[:12]}…).")
    else:
        codebook_text = "No codebook recorded."
    coder_rows = [{"name": c, "reviewed": reviewed[c],
                   "in_sample": report.get("reviewed", {}).get(c, 0)} for c in coders]
    if minimum is not None:
        thresholds = (f"The declared minimum is α ≥ {apa(minimum, 3)}: a {word} meets it or "
                      "falls below it. ")
    else:
        thresholds = ""
    thresholds += ("Krippendorff (2019, §12.4) accepts α ≥ .800 as reliable and "
                   ".667 ≤ α < .800 for tentative conclusions only; below .667 the data do "
                   "not support conclusions. Colours: green reliable, amber tentative, red "
                   "unreliable, grey undefined. q is the probability, from the bootstrap, "
                   f"that α is below {apa(report.get('minimum_alpha', TENTATIVE), 3)}. Kappas "
                   "follow McHugh's (2012) reading (≥ .80 strong, .60–.79 moderate).")
    pair_columns, pair_rows = _pairwise(report)
    return Appendix(
        title=f"Inter-coder reliability: {_listing(coders)}",
        report=report, level_word=word, units_text=units_text, codebook_text=codebook_text,
        coders=coder_rows, thresholds=thresholds, rows=rows,
        sampling=sampling or (
            "How the double-coded sample was chosen was not recorded — state it with "
            "--sampling TEXT or coder config set agreement.sampling TEXT."),
        overall=overall, groups=groups, by=report.get("by"), pair_columns=pair_columns,
        pair_rows=pair_rows, notes=notes(report, labels), consensus=consensus,
        methods=methods_paragraph(report, labels, sampling=sampling, consensus=consensus,
                                  transcripts=report.get("transcripts", transcripts)),
        provenance=Provenance(**prov).lines() if prov else ["no provenance recorded"],
        machines=machine_coders(conn, coders))


def _pairwise(report: dict) -> tuple[list[str], list[list[str]]]:
    """Coder × coder: Cohen's κ pooled over every (unit, theme) pair, with % agreement."""
    coders, pairs = report["coders"], report["overall"]["pairs"]
    rows = []
    for a in coders:
        row = [a]
        for b in coders:
            p = pairs.get(f"{a}~{b}") or pairs.get(f"{b}~{a}")
            row.append("—" if a == b or p is None else
                       f"κ {apa(p['cohen_kappa'], 3)} ({percent(p['percent_agreement'])}, "
                       f"n = {p['n']})")
        rows.append(row)
    return [""] + coders, rows


def notes(report: dict, labels: dict[str, str]) -> list[str]:
    """Plain-language notes where the numbers need them."""
    level = report["level"]
    minimum = report.get("minimum_alpha", TENTATIVE)
    out = []
    for key, s in report[level].items():
        out += _key_notes(labels.get(key, key), s, minimum)
    for name, g in report.get("groups", {}).items():
        where = f"{report['by']} = {name}"
        if g.get("small"):
            out.append(f"{where} is a group of {g['units']} segments: its statistics rest on "
                       "few units and can swing with one decision; read them as descriptive "
                       "only.")
        undefined = [labels.get(k, k) for k, s in g[level].items()
                     if s["krippendorff_alpha"] is None]
        if undefined:
            out.append(f"{where}: α undefined for {_listing(undefined)} (no variation within "
                       "the group: nobody, or everybody, applied it).")
        for key, s in g[level].items():
            if s["krippendorff_alpha"] is not None and _rare(s):
                out.append(f"{where}: " + _rare_note(labels.get(key, key), s))
    return out


def _rare(s: dict) -> bool:
    """A rare (or near-universal) key whose agreement is high but alpha is not."""
    prev, pa, alpha = s.get("prevalence"), s["percent_agreement"], s["krippendorff_alpha"]
    return (prev is not None and (prev < RARE or prev > 1 - RARE) and pa is not None
            and pa >= 0.85 and alpha is not None and alpha < TENTATIVE)


def _rare_note(label: str, s: dict) -> str:
    return (f"{label} is rare: it was applied in {percent(s['prevalence'])} of the ratings, so "
            f"the coders agree on most segments simply by not applying it "
            f"({percent(s['percent_agreement'])} agreement) while α "
            f"({apa(s['krippendorff_alpha'])}) and Fleiss' κ ({apa(s['fleiss_kappa'])}) stay "
            "low — the high-agreement, low-kappa paradox (Feinstein & Cicchetti 1990). Gwet's "
            f"AC1 ({apa(s['gwet_ac1'])}) is less sensitive to it; judge it on the "
            "segments where it occurs.")


def _key_notes(label: str, s: dict, minimum: float) -> list[str]:
    alpha = s["krippendorff_alpha"]
    if alpha is None:
        return [f"{label}: α and the kappas are undefined — {s['reason']}. This says nothing "
                "about the coders' reliability; it is not a failure."]
    out = [_rare_note(label, s)] if _rare(s) else []
    ci = s.get("alpha_ci")
    if ci and ci[1] - ci[0] > WIDE_INTERVAL:
        out.append(f"{label}: the 95 % interval [{apa(ci[0])}, {apa(ci[1])}] is wide — α rests "
                   f"on {s['n_units']} segments; more double-coded segments would narrow it.")
    q = s.get("alpha_q")
    if q is not None and alpha >= minimum and q > 0.05:
        out.append(f"{label}: α ({apa(alpha)}) reaches the minimum {apa(minimum, 3)}, but "
                   f"q = {apa(q, 3)}: in {q * 100:.1f} % of the bootstrap resamples it fell "
                   "below.")
    return out


def methods_paragraph(report: dict, labels: dict[str, str], *, transcripts: int,
                      sampling: str | None = None, consensus: list[str] | None = None) -> str:
    """The paragraph an author pastes into a methods section; every number is the report's,
    rounded to two decimals as APA prints coefficients."""
    level = report["level"]
    word = "theme" if level == "themes" else "code"
    coders = report["coders"]
    n = len(coders)
    ov = report["overall"]
    prov = report.get("provenance") or {}
    keys = report[level]
    count = len(keys)
    counted = SMALL_NUMBERS.get(count, str(count))
    text = (f"{NUMBERS.get(n, str(n))} coders ({_listing(coders)}) independently coded "
            f"{report['units']} participant segments (speaker turns) from {transcripts} "
            f"interview transcripts, deciding for each of the {counted} {level} of the "
            + (f"codebook “{prov['codebook']}” (version {prov['codebook_version']})"
               if prov.get("codebook") else "codebook")
            + f" whether it applied.")
    if sampling:
        text += " " + sampling.strip() + ("" if sampling.strip().endswith(".") else ".")
    boot = report.get("bootstrap") or 0
    text += (" Reliability was assessed with Krippendorff's α for nominal data"
             + (f", with 95 % confidence intervals from {boot:,} bootstrap resamples of the "
                "segments" if boot else "") + ".")
    pooled = f"α = {apa(ov['krippendorff_alpha'])}"
    if ov.get("alpha_ci"):
        pooled += f", 95 % CI [{apa(ov['alpha_ci'][0])}, {apa(ov['alpha_ci'][1])}]"
    text += f" Pooled over all segment–{word} pairs, {pooled}"
    defined = [(k, s) for k, s in keys.items() if s["krippendorff_alpha"] is not None]
    if defined:
        lo = min(defined, key=lambda kv: kv[1]["krippendorff_alpha"])
        hi = max(defined, key=lambda kv: kv[1]["krippendorff_alpha"])
        minimum = report.get("minimum_alpha", TENTATIVE)
        standard = (f"the declared minimum of {apa(minimum, 3)}" if report.get(
            "minimum_declared") else f"Krippendorff's {apa(RELIABLE, 3)} standard")
        floor = minimum if report.get("minimum_declared") else RELIABLE
        met = sum(1 for _k, s in defined if s["krippendorff_alpha"] >= floor)
        text += (f"; per {word}, α ranged from {apa(lo[1]['krippendorff_alpha'])} "
                 f"({labels.get(lo[0], lo[0])}) to {apa(hi[1]['krippendorff_alpha'])} "
                 f"({labels.get(hi[0], hi[0])}), and {met} of {len(defined)} {level} reached "
                 f"{standard}.")
    else:
        text += "."
    undefined = [labels.get(k, k) for k, s in keys.items() if s["krippendorff_alpha"] is None]
    if undefined:
        text += (f" α was undefined for {_listing(undefined)}, which showed no variation "
                 "(a single category).")
    pairs = [p["cohen_kappa"] for p in ov["pairs"].values() if p["cohen_kappa"] is not None]
    if pairs:
        text += (f" Pairwise Cohen's κ, pooled over {level}, ranged from {apa(min(pairs))} to "
                 f"{apa(max(pairs))}.")
    for sentence in consensus or []:
        text += " " + sentence
    return text
