"""The keyword coder: the codebook's keywords and regular expressions as a machine coder.

Every participant segment is matched against every code's keywords (SPEC §4): a keyword
written ``/…/`` is a Python regular expression, searched case-insensitively as written; any
other keyword is a literal phrase matched as whole words, case-insensitively, with light
stemming (:func:`keyword_pattern`). The matches are stored as the codings of a machine coder
(``auto:keywords`` by default) exactly like a person's: a review row per segment (source
``auto``, so segments without a match count as "reviewed, no code") and one coding per code.

Level: with ``codes=True`` (the default) the full keys of the matching codes are stored; a
sub-code's key implies its theme, so a theme whose sub-code matched is not stored again. With
``codes=False`` only themes are stored (a sub-code match stores its theme).

Each run replaces the coder's previous codings and reviews (the codebook may have changed).
Pure Python and SQLAlchemy Core: no NumPy, no scikit-learn.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from coder.autocode.regexes import UserRegex, keyword_line
from coder.codebook import CodebookInfo, CodeSpec, compile_keyword, require_codebook, theme_of
from coder.codebook.model import is_regex_keyword
from coder.coding.store import K, R, S, check_coder_name, get_or_create_coder
from coder.db.models import utcnow
from coder.errors import CoderError

KEYWORD_CODER = "auto:keywords"
_VOWELS = set("aeiou")
_BATCH = 5000


def inflections(word: str) -> str:
    """A regex (no groups) matching ``word`` and its simple English inflections.

    A small suffix rule instead of a stemmer (no NLTK data to download); it only ever *adds*
    forms, so a keyword still matches itself:

    - ``-e`` words: ``integrate`` → integrate, integrates, integrated, integrating;
    - consonant + ``y``: ``policy`` → policy, policies, policied, policying;
    - ``-s, -x, -z, -ch, -sh``: ``process`` → process, processes, processed, processing;
    - a plural keyword (``reforms``, ``parties``) also matches its singular's forms;
    - other words: ``reform`` → reform, reforms, reformes, reformed, reforming, and with a
      doubled final consonant (``plan`` → planned, planning);
    - words of fewer than three letters, words with non-letters and ``-ed``/``-ing`` forms
      (``deployed``, ``peacekeeping``) are taken literally.
    """
    w = word.lower()
    if len(w) < 3 or not w.isalpha() or w.endswith(("ed", "ing")):
        return re.escape(w)
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("e"):
        return re.escape(w[:-1]) + "(?:e|es|ed|ing)"
    if w.endswith("y") and len(w) > 1 and w[-2] not in _VOWELS:
        return re.escape(w[:-1]) + "(?:y|ies|ied|ying)"
    if w.endswith(("s", "x", "z", "ch", "sh")):
        return re.escape(w) + "(?:es|ed|ing)?"
    last = re.escape(w[-1])
    return re.escape(w) + f"(?:s|es|{last}?ed|{last}?ing)?"


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """The pattern of one keyword, case-insensitive.

    ``/…/``: the regular expression as written (:func:`coder.codebook.compile_keyword`).
    A phrase: its words in order, separated by any whitespace, whole words only (``\\b`` at
    word-character edges), the last word with :func:`inflections` (the head of most English
    noun phrases: ``early election`` → early elections).
    """
    if is_regex_keyword(keyword):
        return compile_keyword(keyword)
    words = keyword.split()
    if not words:
        return compile_keyword(keyword)
    parts = [re.escape(w) for w in words[:-1]] + [inflections(words[-1])]
    start = r"\b" if words[0][:1].isalnum() else ""
    end = r"\b" if words[-1][-1:].isalnum() else ""
    return re.compile(start + r"\s+".join(parts) + end, re.IGNORECASE)


def machine_coder_name(name: str) -> str:
    """``name`` checked as the name of a machine coder (``auto:…``).

    Auto-coders replace their coder's codings, so a person's or the consensus's name is
    refused rather than overwritten.
    """
    name = check_coder_name(name)
    if not name.startswith("auto:"):
        raise CoderError(f"{name!r} is not a machine coder name — auto-coding replaces the "
                         "coder's codings, so name it auto:SOMETHING (e.g. auto:keywords)")
    return name


class TokenIndex:
    """The words of one text normalized (lemmas or stems) and indexed by form, so that every
    phrase keyword of every code is looked up instead of searched for."""

    def __init__(self, text: str, normalizer) -> None:
        from coder.lang import words

        self.forms: list[frozenset[str]] = []
        self.positions: dict[str, list[int]] = {}
        for i, m in enumerate(words(text)):
            forms = normalizer.forms(m.group())
            self.forms.append(forms)
            for form in forms:
                self.positions.setdefault(form, []).append(i)

    def has(self, phrase: tuple[frozenset[str], ...]) -> bool:
        """Whether the words of ``phrase`` occur in order, next to each other."""
        first, rest = phrase[0], phrase[1:]
        starts = {i for form in first for i in self.positions.get(form, ())}
        size = len(self.forms)
        for i in starts:
            if i + len(rest) < size and all(not self.forms[i + 1 + j].isdisjoint(word)
                                            for j, word in enumerate(rest)):
                return True
        return False


@dataclass
class CodeMatcher:
    """The keywords of one code for one language, compiled once; ``search(text)`` says
    whether any matches.

    English phrases are regexes (:func:`keyword_pattern`). In other languages a phrase is a
    tuple of word forms (lemmas for Russian, Snowball stems…: :func:`coder.lang.normalizer`)
    matched against the :class:`TokenIndex` of the text. ``/regex/`` keywords are searched in
    the text as written, in every language.
    Plain-word phrases in English are ``re`` patterns; ``/…/`` regexes are
    :class:`~coder.autocode.regexes.UserRegex` objects, searched with a time limit (a user's
    pattern may backtrack without end).
    """

    key: str
    patterns: list[re.Pattern[str]]
    regexes: list[UserRegex] = field(default_factory=list)
    phrases: list[tuple[frozenset[str], ...]] = field(default_factory=list)

    @classmethod
    def of(cls, code: CodeSpec, language: str = "en", where=None) -> "CodeMatcher":
        keywords = code.keywords_for(language)
        regexes = [UserRegex.compile(k, code.key, where(k) if where else "")
                   for k in keywords if is_regex_keyword(k)]
        plain = [k for k in keywords if not is_regex_keyword(k)]
        phrases: list[tuple[frozenset[str], ...]] = []
        patterns: list[re.Pattern[str]] = []
        if language == "en":
            patterns = [keyword_pattern(k) for k in plain]
        else:
            from coder.lang import normalizer, words

            norm = normalizer(language)
            for k in plain:
                tokens = tuple(norm.forms(m.group()) for m in words(k))
                if tokens:
                    phrases.append(tokens)
        # One alternation per code is several times faster than one search per keyword.
        if len(patterns) > 1:
            patterns = [re.compile("|".join(f"(?:{p.pattern})" for p in patterns),
                                   re.IGNORECASE)]
        return cls(code.key, patterns, regexes, phrases)

    def search(self, text: str, index: TokenIndex | None = None) -> bool:
        if any(p.search(text) for p in self.patterns) or any(r.search(text)
                                                             for r in self.regexes):
            return True
        return index is not None and any(index.has(p) for p in self.phrases)


def matchers(codebook: CodebookInfo, language: str = "en") -> list[CodeMatcher]:
    """One matcher per code that has keywords for ``language``, in codebook order."""
    def where(keyword: str) -> str:
        line = keyword_line(codebook.source or "", keyword)
        return f"codebook version {codebook.version}" + (f", line {line}" if line else "")

    return [CodeMatcher.of(code, language, where) for code in codebook.codes
            if code.codable and code.keywords_for(language)]  # a category is never applied


def match_codes(text: str, code_matchers: Iterable[CodeMatcher], *, codes: bool = True,
                language: str = "en") -> set[str]:
    """The keys a segment's text gets: full keys (``codes=True``) or themes.

    At code level a code is dropped when one of its sub-codes also matched (the sub-code's
    key already implies it).
    """
    code_matchers = list(code_matchers)
    index = None
    if language != "en" and any(m.phrases for m in code_matchers):
        from coder.lang import normalizer

        index = TokenIndex(text, normalizer(language))
    hits = {m.key for m in code_matchers if m.search(text, index)}
    if not codes:
        return {theme_of(k) for k in hits}
    return {k for k in hits if not any(other.startswith(k + ".") for other in hits)}


@dataclass
class KeywordReport:
    """What :func:`keyword_code` stored: ``segments`` participant segments reviewed, ``coded``
    of them with at least one code, ``codings`` rows; ``by_code`` counts segments per key."""

    coder: str
    level: str
    codebook_version: int
    segments: int = 0
    coded: int = 0
    codings: int = 0
    replaced: int = 0
    by_code: dict[str, int] = field(default_factory=dict)
    #: language → segments of that language and how their words were matched
    languages: dict[str, tuple[int, str]] = field(default_factory=dict)


def keyword_code(conn: Connection, coder: str = KEYWORD_CODER, *, codes: bool = True,
                 language: str | None = None) -> KeywordReport:
    """Code every participant segment by keywords as ``coder`` (replacing its previous run).

    Runs inside the caller's write transaction; raises :class:`~coder.errors.NotFoundError`
    when no codebook is loaded.
    """
    from coder.lang import normalizer_name, transcript_languages

    codebook = require_codebook(conn)
    coder = machine_coder_name(coder)
    languages = transcript_languages(conn, language)
    by_language: dict[str, list[CodeMatcher]] = {}
    cid = get_or_create_coder(conn, coder)
    replaced = conn.execute(delete(K).where(K.c.coder_id == cid)).rowcount
    conn.execute(delete(R).where(R.c.coder_id == cid))

    report = KeywordReport(coder, "codes" if codes else "themes", codebook.version,
                           replaced=replaced)
    counts: Counter[str] = Counter()
    now = utcnow()
    rows = conn.execute(select(S.c.id, S.c.text, S.c.transcript_id)
                        .where(S.c.role == "participant")
                        .order_by(S.c.transcript_id, S.c.n)).all()
    seen: Counter[str] = Counter()
    for i in range(0, len(rows), _BATCH):
        reviews, codings = [], []
        for sid, text, tid in rows[i:i + _BATCH]:
            lang = languages.get(tid, "en")
            if lang not in by_language:
                by_language[lang] = matchers(codebook, lang)
            seen[lang] += 1
            keys = match_codes(text, by_language[lang], codes=codes, language=lang)
            reviews.append({"coder_id": cid, "segment_id": sid, "memo": None,
                            "source": "auto", "reviewed_at": now})
            codings += [{"coder_id": cid, "segment_id": sid, "code_key": key,
                         "codebook_id": codebook.id, "memo": None, "probability": None,
                         "created_at": now} for key in sorted(keys)]
            counts.update(keys)
            report.coded += bool(keys)
        conn.execute(insert(R), reviews)
        if codings:
            conn.execute(insert(K), codings)
        report.codings += len(codings)
    report.segments = len(rows)
    report.languages = {lang: (n, normalizer_name(lang)) for lang, n in sorted(seen.items())}
    report.by_code = {code.key: counts[code.key] for code in codebook.codes
                      if counts.get(code.key)}
    return report

