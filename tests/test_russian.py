"""Studies in Russian: keyword coding by lemma, the personal-data gate on Cyrillic names,
names across scripts, the learned coder's lemmas, and fewer false alarms in English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coder.anonymize import scan_text
from coder.anonymize.identifiers import Identifier, Identifiers

from conftest import run

# «бумажный тигр» and «миротворческая операция» in the six cases, singular and plural
PAPER_TIGER = [
    "бумажный тигр", "бумажного тигра", "бумажному тигру", "бумажного тигра",
    "бумажным тигром", "бумажном тигре",
    "бумажные тигры", "бумажных тигров", "бумажным тиграм", "бумажных тигров",
    "бумажными тиграми", "бумажных тиграх",
]
OPERATION = [
    "миротворческая операция", "миротворческой операции", "миротворческой операции",
    "миротворческую операцию", "миротворческой операцией", "миротворческой операции",
    "миротворческие операции", "миротворческих операций", "миротворческим операциям",
    "миротворческие операции", "миротворческими операциями", "миротворческих операциях",
]
UNRELATED = [
    "тигровая шкура", "бумага и тигрёнок", "операционная система", "тигр из бумаги",
    "миротворец провёл операцию",
]

CODEBOOK = """\
name: Russian test
version: 1
themes:
  - key: csto_efficacy
    label: CSTO efficacy
    keywords:
      any: [/ОДКБ/]
      ru: [бумажный тигр, миротворческая операция]
      en: [paper tiger]
  - key: reforms
    label: Reforms
    keywords: [реформа, reform]
"""


def matcher(language: str = "ru"):
    from coder.autocode.keywords import matchers, match_codes
    from coder.codebook.loader import parse_codebook

    book = parse_codebook(CODEBOOK)
    ms = matchers(book, language)
    return lambda text: match_codes(text, ms, codes=True, language=language)


@pytest.mark.parametrize("phrase", PAPER_TIGER + OPERATION)
def test_every_case_and_number_of_a_russian_keyword_is_found(phrase):
    match = matcher()
    sentence = f"Эксперт сказал, что {phrase.upper() if len(phrase) % 2 else phrase} — это так."
    assert match(sentence) == {"csto_efficacy"}


@pytest.mark.parametrize("text", UNRELATED)
def test_unrelated_words_are_not_keywords(text):
    assert matcher()(f"Он говорил: {text}.") == set()


def test_yo_is_read_as_ye_and_words_must_be_in_order():
    match = matcher()
    assert match("реформы шли, реформ было много") == {"reforms"}
    assert match("тигр бумажный") == set()          # wrong order
    assert match("бумажный, как тигр") == set()     # not next to each other
    from coder.lang import normalizer

    assert normalizer("ru").forms("Ещё") == normalizer("ru").forms("еще")


def test_per_language_keywords_and_regexes_apply_by_language():
    assert matcher("ru")("Это ОДКБ") == {"csto_efficacy"}       # regex, any language
    assert matcher("en")("a paper tiger indeed") == {"csto_efficacy"}
    assert matcher("ru")("a paper tiger indeed") == set()       # en keyword, ru text
    assert matcher("en")("бумажный тигр") == set()              # ru keyword, en text
    assert matcher("en")("the reforms") == {"reforms"}          # common keywords, en rules


def test_the_keyword_coder_on_a_russian_transcript_says_how_it_matched(tmp_path):
    db = tmp_path / "p.db"
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "RU-09.txt").write_text(
        "Интервьюер: Как вы оцениваете ОДКБ?\n\n"
        "RU-09: Многие называли организацию бумажным тигром до января.\n\n"
        "Интервьюер: А реформы?\n\nRU-09: Реформы идут медленно.\n", encoding="utf-8")
    (tmp_path / "EN-01.txt").write_text(
        "Interviewer: And the CSTO?\n\nEN-01: Some called it a paper tiger.\n",
        encoding="utf-8")
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    run(db, "import", folder, "--interviewer", "Интервьюер")
    run(db, "import", tmp_path / "EN-01.txt")
    run(db, "codebook", "load", tmp_path / "cb.yaml")
    result = run(db, "autocode", "keywords")
    assert "en (1 segments): English suffix rules" in result.stderr
    assert "ru (2 segments): pymorphy3 lemmas (ё = е)" in result.stderr
    import sqlite3

    con = sqlite3.connect(db)
    got = sorted(con.execute("SELECT s.transcript_id, s.n, k.code_key FROM coding k JOIN "
                             "segment s ON s.id = k.segment_id").fetchall())
    con.close()
    assert got == [("EN-01", 2, "csto_efficacy"), ("RU-09", 2, "csto_efficacy"),
                   ("RU-09", 4, "reforms")]


def test_the_language_comes_from_metadata_then_the_project_setting(tmp_path):
    from coder.db.engine import open_project
    from coder.lang import transcript_languages

    db = tmp_path / "p.db"
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "A.txt").write_text("Interviewer: Hi?\n\nA: Hello there.\n", encoding="utf-8")
    (folder / "B.md").write_text("---\nlanguage: kk\n---\nInterviewer: Hi?\n\nB: Сәлем.\n",
                                 encoding="utf-8")
    (folder / "C.txt").write_text("Интервьюер: Привет?\n\nC: Здравствуйте, коллеги.\n",
                                  encoding="utf-8")
    run(db, "import", folder)
    proj = open_project(str(db))
    with proj.read() as conn:
        assert transcript_languages(conn) == {"A": "en", "B": "kk", "C": "ru"}
        assert transcript_languages(conn, "de") == {"A": "de", "B": "kk", "C": "de"}
    run(db, "config", "set", "language", "ru")
    with proj.read() as conn:
        assert transcript_languages(conn) == {"A": "ru", "B": "kk", "C": "ru"}
    proj.close()


# ---------------------------------------------------------------------------- the gate

KEY = Identifiers([Identifier("Yulia Nikitina", "Expert A"),
                   Identifier("Даулет Серикбаев", "Expert B"),
                   Identifier("Tokayev", "", allowed=True)])


@pytest.mark.parametrize("text, found", [
    ("Мы говорили с Никитиной вчера.", "Никитиной"),                 # genitive/instrumental
    ("Об этом писала Ю. Никитина.", "Ю. Никитина"),                  # nominative, initial
    ("Я передал Никитиной отчёт.", "Никитиной"),                      # dative
    ("Статья Никитиной и Серикбаева.", "Никитиной"),
    ("Интервью с Серикбаевым было долгим.", "Серикбаевым"),          # Cyrillic key, same script
    ("Daulet Serikbaev said so.", "Serikbaev"),                      # Cyrillic key, Latin text
    ("As D. Serikbayev put it.", "D. Serikbayev"),
    ("Yulia Nikitina wrote.", "Yulia Nikitina"),                     # Latin, as listed
])
def test_listed_names_are_found_across_scripts_and_cases(text, found):
    names = [f.text for f in scan_text(text, identifiers=KEY) if f.kind == "name"]
    assert found in names, names


def test_a_public_name_in_the_other_script_is_not_flagged():
    assert scan_text("Токаев объявил режим ЧП.", identifiers=KEY) == []


@pytest.mark.parametrize("text, name", [
    ("Вчера Алексей Смирнов выступил на конференции.", "Алексей Смирнов"),   # nominative
    ("Это книга Алексея Смирнова о безопасности.", "Алексея Смирнова"),      # genitive
    ("Я позвонил Алексею Смирнову утром.", "Алексею Смирнову"),              # dative
    ("Мы встретились с Алексеем Смирновым в Бишкеке.", "Алексеем Смирновым"),  # instrumental
])
def test_unlisted_russian_names_are_found_with_ner(text, name):
    found = [f.text for f in scan_text(text, ner=True) if f.kind == "entity"]
    assert any(name in f or f in name for f in found), found
    assert scan_text(text) == []  # without NER, only listed names count


@pytest.mark.parametrize("text", [
    "See pp. 1162-1192 and 233–241 of the 2019 volume.",
    "Between 2014–2022 the budget grew to 1 500 000 tenge, then $2,300,000.",
    "I keep it in skill.md; the survey is on nd.edu.",
    "Россия, Казахстан и ОДКБ: с 2022 года, 15 000 военных, стр. 45–67.",
])
def test_page_ranges_years_amounts_and_spoken_domains_are_not_flagged(text):
    assert scan_text(text) == []


def test_contact_details_in_russian_text_are_still_flagged():
    kinds = {f.kind for f in scan_text("Пишите на petrova@mail.kz или звоните +7 701 123 45 67, "
                                       "канал t.me/steppe_notes")}
    assert kinds == {"email", "phone", "url"}


def test_import_with_ner_refuses_an_unlisted_russian_name(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "RU-05.txt").write_text(
        "Интервьюер: Кто это сказал?\n\nRU-05: Это сказал Алексей Смирнов на совещании.\n",
        encoding="utf-8")
    db = tmp_path / "p.db"
    run(db, "import", folder, "--interviewer", "Интервьюер")       # listed-name rules only
    other = tmp_path / "q.db"
    result = run(other, "import", folder, "--interviewer", "Интервьюер", "--ner", expect=1)
    assert "entity 'Алексей Смирнов'" in result.stderr and not other.exists()
    run(db, "config", "set", "ner", "true")
    (folder / "RU-05.txt").write_text(
        "Интервьюер: Кто?\n\nRU-05: Это сказал Алексей Смирнов.\n", encoding="utf-8")
    result = run(db, "import", folder, "--interviewer", "Интервьюер", "--replace", expect=1)
    assert "entity 'Алексей Смирнов'" in result.stderr


def test_help_and_import_without_ner_stay_free_of_the_ner_model():
    code = ("import sys, coder.cli; from coder.anonymize import scan_text; "
            "scan_text('Алексей Смирнов'); "
            "print(sorted(m for m in ('natasha', 'pymorphy3', 'Stemmer', 'navec', 'slovnet') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- the learned coder

def test_the_learned_coder_reads_russian_as_lemmas():
    from coder.lang import normalizer

    norm = normalizer("ru")
    assert norm.text("Бумажным тиграми, реформы!") == "бумажный тигр, реформа!"
    assert normalizer("de").text("Reformen") == "reform"
    assert normalizer("kk").text("Сәлем ЁЛКА") == "сәлем елка"


def test_training_rows_are_featurized_by_language_and_scored_per_language():
    import numpy as np

    from coder.autocode.model import TrainingData, _by_language

    data = TrainingData(coder="alice", level="themes", codebook=None, candidates=["a"],
                        transcripts=["RU", "EN"], numbers=[2, 2],
                        texts=["Реформы шли медленно", "Reforms went slowly"],
                        targets=[("a",), ()], languages=["ru", "en"])
    assert data.features == ["реформа идти медленно", "Reforms went slowly"]
    y = np.array([[1], [0], [1], [0]])
    pred = np.array([[1], [0], [0], [0]])
    out = _by_language(["ru", "ru", "en", "en"], y, pred)
    assert set(out) == {"en", "ru"}
    assert out["ru"]["krippendorff_alpha"] == 1.0 and out["ru"]["words"].startswith("pymorphy3")
    assert out["en"]["recall"] == 0.0 and out["en"]["segments"] == 2
    assert _by_language(["en", "en"], y[:2], pred[:2]) == {}


def test_the_russian_keyword_benchmark_runs_and_lemmas_beat_exact_keywords():
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_russian_keywords.py"
    out = subprocess.run([sys.executable, str(script), "--json"], capture_output=True,
                         text=True, check=True)
    import json

    results = json.loads(out.stdout)
    for part in ("tuning sample", "held out"):
        lemmas, raw = results[part]["lemmatized (pymorphy3)"], results[part]["raw"]
        assert lemmas["recall"] > raw["recall"] and lemmas["f1"] > raw["f1"]


def test_the_bundled_codebook_labels_every_code_in_russian():
    """`--lang ru` on the sample study: every theme and code has its Russian label."""
    from conftest import CODEBOOK

    from coder.codebook import parse_codebook

    spec = parse_codebook(CODEBOOK.read_text(encoding="utf-8"))
    missing = [c.key for c in spec.codes if not c.labels.get("ru")]
    assert not missing, missing
    assert spec.label("csto_efficacy", "ru") == "Эффективность ОДКБ"
    assert all(any("а" <= ch.lower() <= "я" for ch in c.labels["ru"]) for c in spec.codes)
