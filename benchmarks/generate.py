"""A deterministic synthetic corpus for the benchmarks (SPEC §10): transcripts, metadata, a
codebook and three coders' codings with a chosen level of agreement.

Everything is a function of the arguments and ``seed``: the same call writes the same bytes.

* **Transcripts**: ``n`` interviews of ``turns`` turns of about ``words`` words each, the
  interviewer on odd turns (1, 3, 5 …) and the expert on even ones, so a transcript has
  ``turns // 2`` participant segments. Ids are ``CC-0001`` (CC the country code), which is also
  the participant's pseudonym and speaker label. The words come from a fixed vocabulary with no
  digits, names or addresses, so the personal-data gate of ``coder import`` finds nothing.
  Speaker-labelled ``.txt`` by default; with ``mix=True`` the files cycle through every format
  of SPEC §3 (labelled text, Otter.ai, Markdown with front matter, Word, Zoom and Teams WebVTT,
  SubRip).
* **participants.csv**: ``transcript, participant, country, mode, date, interviewer``.
* **Codebook**: :func:`codebook_yaml` writes K flat themes ``theme_01`` …; or use
  ``codebooks/csto-2022.yaml`` (its 21 codes) with ``--codebook``.
* **Codings**: a hidden true value per (segment, code), drawn with the code's base rate p_k
  (rarer codes later in the codebook, about 1.5 codes per segment in all). Each coder copies the
  true value with probability q = √agreement and otherwise draws it afresh with the same base
  rate, independently. Two coders' ratings then correlate by q², so Krippendorff's alpha of
  every code is ``agreement`` in expectation (sampling error aside).

As a script::

    .venv/bin/python benchmarks/generate.py OUT [-n 1000] [--turns 60] [--words 80]
        [--countries 6] [--seed 2022] [--mix] [--codes 20 | --codebook FILE]
        [--agreement 0.8] [--coders alice,bob,carol]

writes ``OUT/transcripts/``, ``OUT/participants.csv``, ``OUT/codebook.yaml`` (unless
``--codebook``) and ``OUT/codings/CODER.csv``.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

COUNTRIES = [("KZ", "Kazakhstan"), ("RU", "Russia"), ("AM", "Armenia"), ("BY", "Belarus"),
             ("KG", "Kyrgyzstan"), ("TJ", "Tajikistan"), ("UZ", "Uzbekistan"),
             ("AZ", "Azerbaijan"), ("GE", "Georgia"), ("MD", "Moldova"), ("UA", "Ukraine"),
             ("TM", "Turkmenistan")]
FORMATS = ("text", "otter", "markdown", "docx", "zoom", "teams", "srt")
SUFFIX = {"text": ".txt", "otter": ".txt", "markdown": ".md", "docx": ".docx", "zoom": ".vtt",
          "teams": ".vtt", "srt": ".srt"}
CODERS = ("alice", "bob", "carol")
INTERVIEWER = "Interviewer"

VOCABULARY = """
    the of and to in a that is was it for on as with by this be are from at not but have
    which or had they their were been has more one all would there when who will can also
    about into than other some could only what its them these many over such very after
    security community organisation collective treaty mission deployment peacekeepers troops
    alliance member states government president elite power transfer transition protest
    protesters crisis january capital airport forces region regional integration sovereignty
    legitimacy request council decision summit declaration army officers soldiers borders
    economy prices gas fuel wages inequality reforms constitution parliament referendum
    elections parties society public opinion media trust partners neighbours influence
    interests balance policy foreign domestic internal external threat violence order stability
    institutions cooperation exercises commitment solidarity expectations identity belonging
    history memory generation students experts observers analysts commentators diplomats
    question answer view perspective position argument evidence example reason consequence
    important serious limited quick rapid slow careful cautious positive negative symbolic
    practical political military economic social cultural historical legal formal informal
    """.split()


# ---------------------------------------------------------------------------- transcripts

@dataclass
class SyntheticTranscript:
    """One generated interview: ``turns`` are (speaker, text), interviewer first."""

    id: str
    participant: str
    country: str
    mode: str
    date: str
    format: str
    turns: list[tuple[str, str]] = field(default_factory=list)

    @property
    def suffix(self) -> str:
        return SUFFIX[self.format]


def transcript_ids(n: int, countries: int = 6) -> list[tuple[str, str]]:
    """(id, country name) of the ``n`` transcripts, cycling through ``countries`` countries."""
    if not 1 <= countries <= len(COUNTRIES):
        raise ValueError(f"countries must be 1–{len(COUNTRIES)}")
    width = max(4, len(str(n)))
    out = []
    for i in range(n):
        code, name = COUNTRIES[i % countries]
        out.append((f"{code}-{i + 1:0{width}d}", name))
    return out


def sentences(rng: random.Random, words: int) -> str:
    """About ``words`` vocabulary words as capitalized sentences of 6–16 words."""
    picked = rng.choices(VOCABULARY, k=max(words, 1))
    parts, i = [], 0
    while i < len(picked):
        size = rng.randint(6, 16)
        chunk = picked[i:i + size]
        i += size
        text = " ".join(chunk)
        parts.append(text[0].upper() + text[1:] + ".")
    return " ".join(parts)


def generate_transcripts(n: int, turns: int = 60, words: int = 80, countries: int = 6,
                         seed: int = 2022, mix: bool = False) -> Iterator[SyntheticTranscript]:
    """The ``n`` transcripts, one at a time (a 1,000-interview corpus is ~30 MB of text)."""
    for i, (tid, country) in enumerate(transcript_ids(n, countries)):
        rng = random.Random(f"{seed}:{tid}")
        t = SyntheticTranscript(
            id=tid, participant=tid, country=country,
            mode="online" if rng.random() < 0.6 else "offline",
            date=f"2022-{rng.randint(2, 12):02d}-{rng.randint(1, 28):02d}",
            format=FORMATS[i % len(FORMATS)] if mix else "text")
        for n_turn in range(1, turns + 1):
            interviewer = n_turn % 2 == 1
            size = max(4, words // 4) if interviewer else words
            t.turns.append((INTERVIEWER if interviewer else tid, sentences(rng, size)))
        yield t


def participant_segments(n: int, turns: int = 60, countries: int = 6) -> list[tuple[str, int]]:
    """(transcript id, segment number) of every participant segment, in order."""
    return [(tid, k) for tid, _ in transcript_ids(n, countries) for k in range(2, turns + 1, 2)]


def render(t: SyntheticTranscript) -> bytes:
    """The file bytes of a transcript in its format."""
    if t.format == "docx":
        return _docx(t)
    writer = {"text": _text, "otter": _otter, "markdown": _markdown, "zoom": _zoom,
              "teams": _teams, "srt": _srt}[t.format]
    return writer(t).encode("utf-8")


def _text(t: SyntheticTranscript) -> str:
    return "".join(f"{speaker}: {text}\n\n" for speaker, text in t.turns)


def _markdown(t: SyntheticTranscript) -> str:
    head = (f"---\nparticipant: {t.participant}\ncountry: {t.country}\nmode: {t.mode}\n"
            f"date: {t.date}\n---\n\n")
    return head + "".join(f"**{speaker}:** {text}\n\n" for speaker, text in t.turns)


def _timeline(t: SyntheticTranscript) -> Iterator[tuple[str, list[tuple[float, float, str]]]]:
    """Per turn: (speaker, cues (start, end, text)), one cue per sentence, 2.5 words/second."""
    clock = 1.0
    for speaker, text in t.turns:
        cues = []
        for sentence in _split_sentences(text):
            length = max(1.0, len(sentence.split()) / 2.5)
            cues.append((clock, clock + length, sentence))
            clock += length + 0.2
        clock += 1.0
        yield speaker, cues


def _split_sentences(text: str) -> list[str]:
    return [s + "." for s in text.rstrip(".").split(". ")]


def _stamp(seconds: float, sep: str = ".") -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _otter(t: SyntheticTranscript) -> str:
    out = []
    for speaker, cues in _timeline(t):
        start = int(cues[0][0])
        h, rest = divmod(start, 3600)
        clock = f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"
        out.append(f"{speaker}  {clock}\n{' '.join(c[2] for c in cues)}\n\n")
    return "".join(out)


def _zoom(t: SyntheticTranscript) -> str:
    out, number = ["WEBVTT\n\n"], 0
    for speaker, cues in _timeline(t):
        for start, end, text in cues:
            number += 1
            out.append(f"{number}\n{_stamp(start)} --> {_stamp(end)}\n{speaker}: {text}\n\n")
    return "".join(out)


def _teams(t: SyntheticTranscript) -> str:
    out, number = ["WEBVTT\n\n"], 0
    for speaker, cues in _timeline(t):
        for start, end, text in cues:
            number += 1
            out.append(f"cue-{number}\n{_stamp(start)} --> {_stamp(end)}\n"
                       f"<v {speaker}>{text}</v>\n\n")
    return "".join(out)


def _srt(t: SyntheticTranscript) -> str:
    out, number = [], 0
    for speaker, cues in _timeline(t):
        for start, end, text in cues:
            number += 1
            out.append(f"{number}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n"
                       f"{speaker}: {text}\n\n")
    return "".join(out)


def _docx(t: SyntheticTranscript) -> bytes:
    import docx

    document = docx.Document()
    for speaker, text in t.turns:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{speaker}:").bold = True
        paragraph.add_run(f" {text}")
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip_times(buffer.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """Re-pack a .docx with a fixed timestamp and core properties, so the bytes are stable."""
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2022-01-01T00:00:00Z", body)
            dst.writestr(zipfile.ZipInfo(info.filename, (2022, 1, 1, 0, 0, 0)), body,
                         zipfile.ZIP_DEFLATED)
    return out.getvalue()


@dataclass
class Corpus:
    """What :func:`write_corpus` wrote."""

    folder: Path
    meta: Path
    files: list[Path]
    segments: int
    participant_segments: int
    bytes: int


def write_corpus(out: Path, n: int = 1000, turns: int = 60, words: int = 80,
                 countries: int = 6, seed: int = 2022, mix: bool = False) -> Corpus:
    """Write ``out/transcripts/ID.SUFFIX`` and ``out/participants.csv``."""
    out = Path(out)
    folder = out / "transcripts"
    folder.mkdir(parents=True, exist_ok=True)
    files, size, rows = [], 0, []
    for t in generate_transcripts(n, turns, words, countries, seed, mix):
        path = folder / f"{t.id}{t.suffix}"
        data = render(t)
        path.write_bytes(data)
        files.append(path)
        size += len(data)
        rows.append([t.id, t.participant, t.country, t.mode, t.date, INTERVIEWER])
    meta = out / "participants.csv"
    with meta.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["transcript", "participant", "country", "mode", "date", "interviewer"])
        writer.writerows(rows)
    return Corpus(folder, meta, files, n * turns, n * (turns // 2), size)


# ---------------------------------------------------------------------------- codebook, codings

def codebook_yaml(k: int = 20) -> str:
    """A flat codebook of ``k`` themes ``theme_01`` … with a label, definition and keywords."""
    width = max(2, len(str(k)))
    lines = [f"name: Synthetic benchmark codebook ({k} themes)", "version: 1", "themes:"]
    for i in range(1, k + 1):
        word = VOCABULARY[(37 + 7 * i) % len(VOCABULARY)]
        lines += [f"  - key: theme_{i:0{width}d}",
                  f"    label: Theme {i}",
                  f"    definition: Segments about {word}.",
                  f"    keywords: [{word}]"]
    return "\n".join(lines) + "\n"


def codebook_keys(source: str | Path | int) -> list[str]:
    """Full code keys, in codebook order, of a codebook file or of ``codebook_yaml(k)``."""
    from coder.codebook.loader import load_codebook_file, parse_codebook

    spec = (parse_codebook(codebook_yaml(source)) if isinstance(source, int)
            else load_codebook_file(source))
    return [c.key for c in spec.codes]


def base_rates(k: int, per_segment: float = 1.5) -> list[float]:
    """p_k falling linearly from 3× to 1× a floor, summing to ``per_segment`` (capped at 0.5)."""
    weights = [3.0 - 2.0 * i / max(k - 1, 1) for i in range(k)]
    scale = per_segment / sum(weights)
    return [min(0.5, w * scale) for w in weights]


def coding_values(n_segments: int, keys: list[str], coders=CODERS, agreement: float = 0.8,
                  seed: int = 2022):
    """Each coder's segments × codes boolean array (NumPy), per the module docstring."""
    import numpy as np

    if not 0.0 <= agreement <= 1.0:
        raise ValueError("agreement must be between 0 and 1")
    rng = np.random.default_rng(seed)
    p = np.array(base_rates(len(keys)))
    truth = rng.random((n_segments, len(keys))) < p
    q = math.sqrt(agreement)
    values = {}
    for coder in coders:
        copy = rng.random((n_segments, len(keys))) < q
        fresh = rng.random((n_segments, len(keys))) < p
        values[coder] = np.where(copy, truth, fresh)
    return values


def codings_rows(segments: list[tuple[str, int]], keys: list[str], applied) -> list[list]:
    """Rows ``transcript, segment, code`` for one coder: a row per applied code, or one row
    with an empty code ("reviewed, no code") for a segment without codes."""
    rows = []
    for (tid, n), row in zip(segments, applied.tolist()):
        codes = [keys[j] for j, on in enumerate(row) if on]
        if codes:
            rows.extend([tid, n, key] for key in codes)
        else:
            rows.append([tid, n, ""])
    return rows


def write_codings(out: Path, segments: list[tuple[str, int]], keys: list[str],
                  coders=CODERS, agreement: float = 0.8, seed: int = 2022) -> dict[str, Path]:
    """Write ``out/CODER.csv`` for each coder; returns coder → path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for coder, applied in coding_values(len(segments), keys, coders, agreement, seed).items():
        path = out / f"{coder}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["transcript", "segment", "code"])
            writer.writerows(codings_rows(segments, keys, applied))
        paths[coder] = path
    return paths


# ---------------------------------------------------------------------------- script

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("-n", "--transcripts", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=60, help="turns per transcript")
    parser.add_argument("--words", type=int, default=80, help="words per participant turn")
    parser.add_argument("--countries", type=int, default=6)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--mix", action="store_true", help="cycle through every format")
    parser.add_argument("--codes", type=int, default=20, help="themes of a synthetic codebook")
    parser.add_argument("--codebook", type=Path, help="use this codebook's codes instead "
                        "(e.g. codebooks/csto-2022.yaml)")
    parser.add_argument("--agreement", type=float, default=0.8,
                        help="expected Krippendorff's alpha between coders (0–1)")
    parser.add_argument("--coders", default=",".join(CODERS))
    args = parser.parse_args(argv)

    corpus = write_corpus(args.out, args.transcripts, args.turns, args.words, args.countries,
                          args.seed, args.mix)
    if args.codebook is None:
        codebook = args.out / "codebook.yaml"
        codebook.write_text(codebook_yaml(args.codes), encoding="utf-8")
    else:
        codebook = args.codebook
    keys = codebook_keys(codebook)
    segments = participant_segments(args.transcripts, args.turns, args.countries)
    coders = [c.strip() for c in args.coders.split(",") if c.strip()]
    paths = write_codings(args.out / "codings", segments, keys, coders, args.agreement,
                          args.seed)
    print(f"{len(corpus.files)} transcripts ({corpus.bytes / 1e6:.1f} MB, {corpus.segments} "
          f"segments, {corpus.participant_segments} by participants) in {corpus.folder}")
    print(f"metadata: {corpus.meta}; codebook: {codebook} ({len(keys)} codes)")
    print(f"codings ({args.agreement} expected alpha): "
          + ", ".join(str(p) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
