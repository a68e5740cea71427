"""Auto-coding on a large synthetic corpus: keyword coding, training and applying the model.

Builds a temporary project of ``--transcripts`` synthetic interviews (``--turns`` turns, the
participant on even turns with ``--words`` words) directly with Core ``executemany``, using
the deterministic pieces of ``benchmarks/generate.py`` (transcript ids, filler sentences and
per-segment code values drawn with the codebook's base rates). ``generate.py``'s text is
independent of its codes, so here each theme also gets its own small vocabulary, sprinkled into
the segments that have the theme (and, rarely, into others): the model has a signal to learn,
the way real themes have their own words. Coder ``alice`` has reviewed the first
``--train-share`` of the transcripts; the rest are new to the model.

Timed, with wall-clock and CPU seconds (CPU tells the code's own cost apart from a busy
machine):

- ``coder autocode keywords`` (:func:`coder.autocode.keywords.keyword_code`) on every
  participant segment;
- ``coder autocode train --from alice`` (:func:`coder.autocode.model.train_model`): 5-fold
  cross-validation grouped by transcript plus the final fit, stored in the project;
- ``coder autocode apply`` (:func:`coder.autocode.model.apply_model`): the unreviewed segments
  get the model's prediction, alice's segments their stored out-of-fold one.

    .venv/bin/python benchmarks/bench_autocode.py [--transcripts 1000] [--quick]
        [--turns 60] [--words 80] [--themes 10] [--train-share 0.5] [--json FILE]

``--quick`` is ``--transcripts 100``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402  (benchmarks/generate.py, the shared synthetic corpus)

THEME_WORDS = [
    "succession dynasty nomenklatura clan patronage loyalty",
    "referendum amendment ballot electoral chamber mandate",
    "multivector pipeline sanctions tariff investors corridor",
    "airlift contingent paratroopers battalions garrison withdrawal",
    "commonwealth fellowship kinship fraternity partnership cohesion",
    "oligarchs monopoly privatisation assets tycoons redistribution",
    "internet blackout censorship journalists broadcasting telegram",
    "unemployment migrants remittances youth villages poverty",
    "terrorists radicals extremists insurgents militants looters",
    "courts prosecutors amnesty investigation verdict tribunal",
    "gasoline liquefied diesel petrol subsidies refinery",
    "diaspora language schools textbooks curriculum bilingual",
]
SIGNAL = 0.85      # a segment with a theme mentions its words with this probability
CONFUSION = 0.04   # a segment without the theme mentions one of its words with this one


def codebook_yaml(themes: int) -> str:
    lines = [f"name: Synthetic autocode benchmark ({themes} themes)", "version: 1", "themes:"]
    for i in range(themes):
        words = THEME_WORDS[i].split()
        lines += [f"  - key: theme_{i + 1:02d}", f"    label: Theme {i + 1}",
                  f"    definition: Segments about {words[0]}.",
                  f"    keywords: [{', '.join(words[:4])}]"]
    return "\n".join(lines) + "\n"


def segment_text(rng: random.Random, words: int, applied: list[bool]) -> str:
    tokens = generate.sentences(rng, words).split()
    for k, on in enumerate(applied):
        vocabulary = THEME_WORDS[k].split()
        if on and rng.random() < SIGNAL:
            picks = rng.choices(vocabulary, k=rng.randint(2, 5))
        elif not on and rng.random() < CONFUSION:
            picks = [rng.choice(vocabulary)]
        else:
            continue
        for word in picks:
            tokens.insert(rng.randrange(len(tokens) + 1), word)
    return " ".join(tokens)


def build_project(path: Path, n: int, turns: int, words: int, themes: int,
                  train_share: float, seed: int = 2022):
    """A migrated project with the corpus, the codebook and alice's codings on a share."""
    from sqlalchemy import insert, select

    from coder.codebook import load_codebook, parse_codebook
    from coder.db.engine import open_project
    from coder.db.models import (
        Attribute, Coder, Coding, Participant, Review, Segment, Transcript, utcnow,
    )

    project = open_project(str(path), create=True)
    source = codebook_yaml(themes)
    keys = [f"theme_{i + 1:02d}" for i in range(themes)]
    ids = generate.transcript_ids(n)
    per_transcript = turns // 2
    values = generate.coding_values(n * per_transcript, keys, coders=("alice",),
                                    agreement=1.0, seed=seed)["alice"].tolist()
    coded_transcripts = int(round(n * train_share))
    now = utcnow()
    people, transcripts, attributes, segments = [], [], [], []
    alice: list[tuple[int, list[bool]]] = []  # (segment index, values)
    for t, (tid, country) in enumerate(ids):
        rng = random.Random(f"{seed}:{tid}")
        people.append({"id": tid})
        transcripts.append({"id": tid, "participant_id": tid, "source": f"{tid}.txt",
                            "format": "text", "sha256": hashlib.sha256(tid.encode()).hexdigest(),
                            "interviewer": generate.INTERVIEWER, "text": "",
                            "imported_at": now})
        attributes.append({"transcript_id": tid, "name": "country", "value": country})
        for n_turn in range(1, turns + 1):
            if n_turn % 2:
                text = generate.sentences(rng, max(4, words // 4))
                speaker, role = generate.INTERVIEWER, "interviewer"
            else:
                row = values[t * per_transcript + n_turn // 2 - 1]
                text = segment_text(rng, words, row)
                speaker, role = tid, "participant"
                if t < coded_transcripts:
                    alice.append((len(segments), row))
            segments.append({"transcript_id": tid, "n": n_turn, "speaker": speaker,
                             "role": role, "start": None, "end": None, "text": text,
                             "char_start": 0, "char_end": len(text)})
    with project.write() as conn:
        conn.execute(insert(Participant.__table__), people)
        conn.execute(insert(Transcript.__table__), transcripts)
        conn.execute(insert(Attribute.__table__), attributes)
        conn.execute(insert(Segment.__table__), segments)
        result = load_codebook(conn, parse_codebook(source), source)
        S = Segment.__table__
        segment_ids = list(conn.execute(select(S.c.id).order_by(S.c.id)).scalars())
        coder = conn.execute(insert(Coder.__table__).values(
            name="alice", kind="human", created_at=now)).inserted_primary_key[0]
        conn.execute(insert(Review.__table__), [
            {"coder_id": coder, "segment_id": segment_ids[i], "memo": None,
             "source": "import", "reviewed_at": now} for i, _ in alice])
        codings = [{"coder_id": coder, "segment_id": segment_ids[i], "code_key": keys[k],
                    "codebook_id": result.codebook_id, "memo": None, "created_at": now}
                   for i, row in alice for k, on in enumerate(row) if on]
        conn.execute(insert(Coding.__table__), codings)
    return project, len(segments), len(segments) // 2, len(alice), len(codings)


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transcripts", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="100 transcripts")
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--words", type=int, default=80)
    parser.add_argument("--themes", type=int, default=10, choices=range(1, len(THEME_WORDS) + 1),
                        metavar=f"1-{len(THEME_WORDS)}")
    parser.add_argument("--train-share", type=float, default=0.5,
                        help="share of the transcripts alice has coded (training data)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures here")
    args = parser.parse_args(argv)
    n = 100 if args.quick else args.transcripts

    from coder.autocode.keywords import keyword_code
    from coder.autocode.apply import apply_model
    from coder.autocode.model import train_model

    with tempfile.TemporaryDirectory(prefix="bench-autocode-") as tmp:
        with Timer() as built:
            project, n_segments, n_participant, n_training, n_codings = build_project(
                Path(tmp) / "bench.db", n, args.turns, args.words, args.themes,
                args.train_share)
        try:
            with Timer() as kw, project.write() as conn:
                keywords = keyword_code(conn)
            with Timer() as trained:
                model = train_model(project, "alice", folds=args.folds, seed=0)
            with Timer() as applied:
                report = apply_model(project)
        finally:
            project.close()

    o = model.metrics["overall"]
    fresh = report.segments - report.out_of_fold
    figures = {
        "transcripts": n, "segments": n_segments, "participant_segments": n_participant,
        "themes": args.themes, "training_segments": n_training, "training_codings": n_codings,
        "folds": args.folds, "build_s": round(built.wall, 2),
        "keywords_s": round(kw.wall, 2), "keywords_cpu_s": round(kw.cpu, 2),
        "keywords_segments_coded": keywords.coded,
        "train_s": round(trained.wall, 2), "train_cpu_s": round(trained.cpu, 2),
        "apply_s": round(applied.wall, 2), "apply_cpu_s": round(applied.cpu, 2),
        "apply_segments": report.segments, "apply_predicted": fresh,
        "apply_out_of_fold": report.out_of_fold,
        "apply_segments_per_s": round(report.segments / applied.wall, 1),
        "cv_micro_f1": o["f1"], "cv_macro_f1": o["macro_f1"],
        "cv_alpha_pooled": o["krippendorff_alpha"], "cv_mean_alpha": o["mean_alpha"],
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print(f"project: {n:,} transcripts, {n_segments:,} segments ({n_participant:,} participant; "
          f"{n_training:,} coded by alice with {n_codings:,} codings, {args.themes} themes), "
          f"built in {built.wall:.1f} s")
    print(f"keywords: {kw.wall:.2f} s (CPU {kw.cpu:.2f} s) for {n_participant:,} segments, "
          f"{keywords.coded:,} got codes")
    print(f"train: {trained.wall:.2f} s (CPU {trained.cpu:.2f} s) on {n_training:,} segments, "
          f"{args.folds}-fold grouped CV + final fit; CV micro F1 {o['f1']:.3f}, macro F1 "
          f"{o['macro_f1']:.3f}, alpha pooled {o['krippendorff_alpha']:.3f}")
    print(f"apply: {applied.wall:.2f} s (CPU {applied.cpu:.2f} s) for {report.segments:,} "
          f"segments ({fresh:,} predicted, {report.out_of_fold:,} out-of-fold), "
          f"{figures['apply_segments_per_s']:,.0f} segments/s")
    print(f"peak memory (RSS): {figures['peak_rss_mb']:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
