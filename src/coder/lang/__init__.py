"""Languages: which language a transcript is in, and how its words are normalized.

A transcript's language is, in order: its ``language`` attribute (front matter or the
``--meta`` file), the project setting ``language`` (``coder config set language ru``), and
otherwise a guess from its script (mostly Cyrillic: ``ru``; else ``en``). Commands that read
words (keyword coding, the learned coder) take ``--language`` to override the project default.

Word normalizers (:func:`normalizer`), by language:

- ``ru``: lemmas from pymorphy3 and its Russian dictionaries (``бумажным тигром`` →
  ``бумажный тигр``); an ambiguous word keeps every lemma of probability ≥ :data:`MIN_SCORE`
  (``выборы``: выборы, выбор), and ё is read as е;
- languages with a Snowball stemmer (German, French, Spanish, Armenian, Turkish … see
  :data:`SNOWBALL`): PyStemmer's stems;
- ``en``: the keyword coder keeps its English suffix rules (:func:`coder.autocode.keywords.
  inflections`); the learned coder leaves English text as it is;
- other languages (Kazakh, Kyrgyz, Tajik, Belarusian have no stemmer): whole words, case and
  ё/е folded.

Heavy libraries are imported only when a normalizer of theirs is first used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from coder.errors import CoderError

DEFAULT_LANGUAGE = "en"
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")

#: ISO 639-1 code → Snowball algorithm name (as PyStemmer knows it).
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish",
    "nl": "dutch", "fi": "finnish", "fr": "french", "de": "german", "el": "greek",
    "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian",
    "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "pt": "portuguese", "ro": "romanian", "sr": "serbian", "es": "spanish", "sv": "swedish",
    "ta": "tamil", "tr": "turkish", "yi": "yiddish", "en": "english",
}

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LETTER = re.compile(r"[^\W\d_]")


def check_language(code: str | None) -> str | None:
    """A language code as given (``ru``, ``en``…) checked and lower-cased; None stays None."""
    if code is None:
        return None
    value = str(code).strip().lower()
    if not LANGUAGE_RE.fullmatch(value):
        raise CoderError(f"language {code!r} is not an ISO 639 code — write two or three "
                         "letters, e.g. ru, en, kk")
    return value


def guess_language(text: str) -> str:
    """``ru`` when most letters of ``text`` are Cyrillic, else ``en``."""
    sample = text[:20000]
    letters = len(_LETTER.findall(sample))
    cyrillic = len(_CYRILLIC.findall(sample))
    return "ru" if letters and cyrillic * 2 > letters else DEFAULT_LANGUAGE


def words(text: str) -> Iterator[re.Match]:
    """The words of ``text`` (letters, with inner hyphens and apostrophes), as matches."""
    return _WORD.finditer(text)


def fold(word: str) -> str:
    return word.lower().replace("ё", "е")


class Normalizer:
    """Maps a word to the set of forms it may stand for (lemmas, a stem, or itself)."""

    name = "whole words (no stemmer for this language)"
    language = ""

    def forms(self, word: str) -> frozenset[str]:
        return frozenset((fold(word),))

    def text(self, text: str) -> str:
        """``text`` with every word replaced by its first form (for the learned coder)."""
        out, last = [], 0
        for m in words(text):
            out.append(text[last:m.start()])
            out.append(min(self.forms(m.group())))
            last = m.end()
        out.append(text[last:])
        return "".join(out)


#: A lemma of an ambiguous Russian word counts when pymorphy3 gives its readings at least this
#: probability together (the most likely lemma always counts).
MIN_SCORE = 0.1


class RussianLemmatizer(Normalizer):
    name = "pymorphy3 lemmas (ё = е)"
    language = "ru"

    def __init__(self) -> None:
        import pymorphy3

        self._morph = pymorphy3.MorphAnalyzer(lang="ru")
        self.forms = lru_cache(maxsize=200_000)(self._forms)  # type: ignore[method-assign]

    def _forms(self, word: str) -> frozenset[str]:
        lowered = fold(word)
        if not _CYRILLIC.search(lowered):
            return frozenset((lowered,))
        scores: dict[str, float] = {}
        for parse in self._morph.parse(lowered):
            form = fold(parse.normal_form)
            scores[form] = scores.get(form, 0.0) + parse.score
        best = max(scores, key=scores.__getitem__)
        # the readings pymorphy3 finds likely: «уже» is "already", not "narrower" (узкий)
        return frozenset({best} | {f for f, score in scores.items() if score >= MIN_SCORE})

    def text(self, text: str) -> str:
        out, last = [], 0
        for m in words(text):
            out.append(text[last:m.start()])
            lowered = fold(m.group())
            parses = self._morph.parse(lowered) if _CYRILLIC.search(lowered) else None
            out.append(fold(parses[0].normal_form) if parses else lowered)
            last = m.end()
        out.append(text[last:])
        return "".join(out)


class SnowballStemmer(Normalizer):
    def __init__(self, language: str, algorithm: str) -> None:
        import Stemmer

        self.language = language
        self.name = f"Snowball stemmer ({algorithm})"
        self._stem = Stemmer.Stemmer(algorithm).stemWord
        self.forms = lru_cache(maxsize=200_000)(self._forms)  # type: ignore[method-assign]

    def _forms(self, word: str) -> frozenset[str]:
        return frozenset((self._stem(fold(word)),))


@lru_cache(maxsize=None)
def normalizer(language: str) -> Normalizer:
    """The word normalizer of ``language`` (see the module docstring)."""
    if language == "ru":
        return RussianLemmatizer()
    if language in SNOWBALL:
        return SnowballStemmer(language, SNOWBALL[language])
    plain = Normalizer()
    plain.language = language
    return plain


def model_text(text: str, language: str) -> str:
    """The text the learned coder's features are built from: Russian as lemmas, languages
    with a Snowball stemmer (other than English) as stems, anything else as written."""
    if language == "en" or (language != "ru" and language not in SNOWBALL):
        return text
    return normalizer(language).text(text)


def normalizer_name(language: str) -> str:
    """How words of ``language`` are matched by the keyword coder, for messages."""
    if language == "en":
        return "English suffix rules"
    if language == "ru":
        return RussianLemmatizer.name
    if language in SNOWBALL:
        return f"Snowball stemmer ({SNOWBALL[language]})"
    return Normalizer.name


def transcript_languages(conn, default: str | None = None) -> dict[str, str]:
    """Transcript id → language: its ``language`` attribute, else ``default`` (a command's
    ``--language``), else the project setting ``language``, else a guess from its text."""
    from sqlalchemy import func, select

    from coder.db import tables
    from coder.db.settings import get_setting

    A, T = tables.attribute, tables.transcript
    given = {tid: check_language(value) for tid, value in conn.execute(
        select(A.c.transcript_id, A.c.value).where(A.c.name == "language")) if value}
    fallback = check_language(default) or check_language(get_setting(conn, "language"))
    if fallback:
        return {tid: given.get(tid) or fallback for tid in conn.execute(select(T.c.id)).scalars()}
    out = {}
    for tid, head in conn.execute(select(T.c.id, func.substr(T.c.text, 1, 20000))):
        out[tid] = given.get(tid) or guess_language(head)
    return out
