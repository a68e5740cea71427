"""Finding personal data in transcript text: contact details, ID numbers and listed names.

Rules (precompiled regular expressions, then a few checks in Python):

- **email** ``name@domain.tld``;
- **url** ``http(s)://…``, ``www.…`` and bare lower-case domains with a common TLD and a path
  (``t.me/steppe_notes``); a bare domain alone (``nd.edu``, a spoken file name such as
  ``skill.md``) names a site, not a person, and is not flagged; trailing sentence punctuation is
  not part of a URL;
- **handle** ``@name`` (a letter or ``_`` first; not the ``@`` of an e-mail address);
- **phone** ``+`` and 8–15 digits in groups (``+7 701 123 45 67``, ``+44 (20) 7946-0958``);
  7–15 digits in groups separated by spaces, ``-``, ``.`` or parentheses (``8 (701) 123-45-67``,
  ``555-0199``, ``020 7946 0958``); or one run of 10–11 digits starting with 0 or 8. Never a
  date (``2023-01-20``, ``20.01.2023``), a year or a range of years, a timestamp
  (``00:01:02.500``, caption cue timings), a thousands-grouped amount (``1 000 000``), a
  decimal, a percentage, a page range (``1162-1192``), or numbers side by side in prose (``in 2022 15 people``, ``3.5 2010``:
  space-separated groups holding a year, or all of one or two digits, or mixing ``.`` and
  spaces, are not phones);
- **id_number** 8 or more digits in one run, or more than 15 in groups (passport, ID, card and
  account numbers); 1–4 capitals then 6 or more digits (``AB1234567``, ``N-1234567``); IBAN-like
  ``KZ86 125K ZT50 0410 0100``; other 10–34 character codes of capitals and at least 4 digits;
  ORCID iDs. Parts of UUIDs (Teams caption cue ids) are never flagged;
- **name** the names of an identifiers file and their variants
  (:mod:`coder.anonymize.identifiers`); names listed as allowed are never flagged;
- **entity** (only with ``ner=True``) person names nobody listed: natasha's Russian tagger on
  text with Cyrillic letters (its model ships in the wheel: it works offline), a spaCy model
  (if installed) on other text — both loaded on first use, never at start-up;
- **names across scripts**: a listed Latin name in Cyrillic text and back
  (:mod:`coder.anonymize.translit`).

Pseudonyms such as ``KZ-01``, speaker labels, dates, timestamps and ordinary capitalised words
(countries, organisations) are not flagged: without NER only listed names count as names.
Where two matches overlap, the one starting first wins, then the longer.

Speed matters because ``coder import`` scans everything it imports: Python's regex engine
spends ~17 ns on every character it tries, so only patterns with a literal first character
run over the whole text; phones and IDs are searched only around digits (found with
``bytes.translate``/``bytes.find`` in ASCII text) and names only around words that
:meth:`Identifiers.finditer` pre-selects.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from pathlib import Path

from coder.anonymize.identifiers import MIN_STEM, Identifier, Identifiers
from coder.errors import CoderError

KINDS = ("email", "url", "handle", "name", "entity", "phone", "id_number")
PLACEHOLDERS = {"email": "[EMAIL]", "url": "[URL]", "handle": "[HANDLE]", "phone": "[PHONE]",
                "id_number": "[ID]"}
_PRIORITY = {kind: n for n, kind in enumerate(KINDS)}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")
_HANDLE = re.compile(r"@(?<![\w@.+-]@)[A-Za-z_][A-Za-z0-9_.]{1,30}[A-Za-z0-9_]")
_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
_TLDS = ("com org net edu gov int mil info biz io me co app dev news online tv ru su kz kg by "
         "am tj uz az ge ua md tm mn cn tr uk de fr eu us ca au").split()
_DOMAIN_HINT = re.compile(r"\.(?:%s)(?![\w-])" % "|".join(_TLDS))
_DOMAIN = re.compile(r"[a-z0-9](?<![\w@./-][a-z0-9])(?:[a-z0-9-]*[a-z0-9])?\."
                     r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*(?:%s)(?![\w-])"
                     r"(?:/[^\s<>\"'()\[\]{}]*)?" % "|".join(_TLDS))
# One fast pass finds stretches that start with a digit (the regex engine skips to the next
# digit in C); the exact rules below run only around those stretches.
_CANDIDATE = re.compile(r"[0-9][0-9A-Z \u00a0()./\-]{3,}")
_ZERO_BYTES = bytes.maketrans(b"123456789", b"000000000")
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+(-")
# Digits with phone-like separators; classified by _classify_number.
_NUMBER = re.compile(r"(?:(?<![\w+])\+|(?<![\w+/.:\-–]))\(?[0-9][0-9 \u00a0()./\-]{5,}[0-9]"
                     r"(?![\w/]|[.,:][0-9])")
_ALNUM_ID = re.compile(
    r"(?<![\w-])(?:"
    r"[A-Z]{1,4}-?[0-9]{6,}[A-Z]?"                                   # AB1234567, N-1234567
    r"|[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?"   # IBAN, spaced
    r"|[A-Z0-9]{10,34})(?![\w-])")                                   # mixed codes
_ORCID = re.compile(r"(?<![\w-])[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X](?![\w-])")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                   re.IGNORECASE)
_DATE = re.compile(r"(?<!\d)(\d{1,4})([./-])(\d{1,2})\2(\d{2,4})(?!\d)")
_THOUSANDS = re.compile(r"\d{1,3}(?:[ \u00a0.,]\d{3})+")
_YEAR = re.compile(r"(?:19|20)\d\d")
_DIGITS = re.compile(r"\d+")
_SEPARATORS = re.compile(r"(?<=[\d)])[^\d()]+(?=[\d(])")


@dataclass
class Finding:
    """One piece of personal data: where it is, what kind, and what to replace it with."""

    file: str | None
    line: int | None          # 1-based; None for a file name
    column: int | None        # 1-based, in characters
    kind: str                 # email | phone | url | handle | id_number | name | entity
    text: str
    replacement: str
    offset: int = field(default=0, compare=False, repr=False)  # in the scanned text

    @property
    def end(self) -> int:
        return self.offset + len(self.text)

    def location(self, column: bool = True) -> str:
        where = self.file or "<text>"
        if self.line is None:
            return where
        return f"{where}:{self.line}" + (f":{self.column}" if column else "")

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("offset")
        return data


class Pseudonyms:
    """Generated pseudonyms (``[PERSON-1]``, ``[PERSON-2]`` …) for names without a mapping,
    stable for one run: the same name gets the same number in every file."""

    def __init__(self) -> None:
        self.numbers: dict[str, str] = {}

    def get(self, key: str) -> str:
        key = " ".join(key.casefold().split())
        if key not in self.numbers:
            self.numbers[key] = f"[PERSON-{len(self.numbers) + 1}]"
        return self.numbers[key]


# ---------------------------------------------------------------------------- scanning text

def scan_text(text: str, *, identifiers: Identifiers | None = None, source: str | None = None,
              ner: bool = False, pseudonyms: Pseudonyms | None = None,
              first_line: int = 1, numbers: bool = True) -> list[Finding]:
    """Every piece of personal data in ``text``, in order, as :class:`Finding` objects.

    ``source`` names the file in the findings; ``first_line`` is the line number of the text's
    first line. Overlapping matches are resolved (first start, then longest); allowed names
    are matched but not reported. ``ner=True`` adds spaCy PERSON entities
    (see :func:`ner_available`); ``numbers=False`` skips phones and ID numbers.
    """
    pseudonyms = pseudonyms or Pseudonyms()
    spans = _matches(text, identifiers, ner, pseudonyms, numbers)
    if not spans:
        return []
    starts = _line_starts(text)
    findings = []
    for start, end, kind, replacement in spans:
        if kind is None:  # an allowed name
            continue
        index = bisect_right(starts, start) - 1
        findings.append(Finding(source, first_line + index, start - starts[index] + 1, kind,
                                text[start:end], replacement, offset=start))
    return findings


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    pos = find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = find("\n", pos + 1)
    return starts


def _matches(text: str, identifiers: Identifiers | None, ner: bool, pseudonyms: Pseudonyms,
             numbers: bool = True) -> list[tuple[int, int, str | None, str]]:
    """Non-overlapping (start, end, kind, replacement); kind None marks an allowed name.

    ``numbers=False`` skips phones and ID numbers (for file names such as
    ``GMT20230120-101530_Recording``)."""
    found: list[tuple[int, int, str | None, str]] = []
    if "@" in text:
        found += [(m.start(), m.end(), "email", "[EMAIL]") for m in _EMAIL.finditer(text)]
        found += [(m.start(), m.end(), "handle", "[HANDLE]") for m in _HANDLE.finditer(text)]
    if "://" in text or "www." in text:
        for m in _URL.finditer(text):
            url = m.group().rstrip(".,;:!?")
            found.append((m.start(), m.start() + len(url), "url", "[URL]"))
    if _DOMAIN_HINT.search(text):
        for m in _DOMAIN.finditer(text):
            url = m.group().rstrip(".,;:!?")
            if "/" in url:  # a bare domain (nd.edu, skill.md) names a site, not a person
                found.append((m.start(), m.start() + len(url), "url", "[URL]"))
    if numbers:
        found += _number_matches(text)
    if identifiers is not None:
        found += _name_matches(text, identifiers, pseudonyms)
    if ner:
        found += _entity_matches(text, identifiers, pseudonyms, found)
    if len(found) > 1:
        found.sort(key=lambda s: (s[0], s[0] - s[1], _PRIORITY.get(s[2], 0)))
        kept, last_end = [], -1
        for span in found:
            if span[0] >= last_end:
                kept.append(span)
                last_end = span[1]
        found = kept
    return found


def _number_matches(text: str) -> list[tuple[int, int, str, str]]:
    """Phones and ID numbers: exact rules inside the stretches :data:`_CANDIDATE` finds."""
    numbers = []
    size = len(text)
    for candidate in _candidates(text):
        a, b = candidate.start(), candidate.end()
        if b - a < 6 and not (a and "A" <= text[a - 1] <= "Z"):
            continue  # too short for a phone or ID unless letters precede: a label, KZ-0001
        found = candidate.group()
        if sum(map(found.count, "0123456789")) < 4:
            continue
        b = min(size, b + 2)
        while a > 0 and (text[a - 1] in _TOKEN_CHARS or text[a - 1] == " " and a > 1
                         and text[a - 2] in _TOKEN_CHARS):
            a -= 1  # back to the start of "+7 …", "AB1234567", "KZ86 …"
        while b < size and (text[b].isalnum() or text[b] == "_"):
            b += 1  # let the look-aheads see what follows
        for m in _ORCID.finditer(text, a, b):
            numbers.append((m.start(), m.end(), "id_number", "[ID]"))
        for m in _NUMBER.finditer(text, a, b):
            kind = _classify_number(m.group())
            if kind:
                numbers.append((m.start(), m.end(), kind, PLACEHOLDERS[kind]))
        for m in _ALNUM_ID.finditer(text, a, b):
            if _is_alnum_id(m.group()):
                numbers.append((m.start(), m.end(), "id_number", "[ID]"))
    return [n for n in numbers if not _in_uuid(text, n[0], n[1])]


def _candidates(text: str):
    """:data:`_CANDIDATE` matches, in order.

    The regex engine tests every character (≈ 17 ns each); in ASCII text with few digits it is
    several times faster to map digits to ``0`` with ``bytes.translate`` and jump from one to the
    next with ``str.find``, trying the regex only there.
    """
    if text.isascii():
        # bytes.translate maps through a 256-byte table, many times faster than str.translate;
        # in ASCII text byte offsets are character offsets
        mapped = text.encode("ascii").translate(_ZERO_BYTES)
        if mapped.count(b"0") * 100 < len(text):
            match, find = _CANDIDATE.match, mapped.find
            pos = find(b"0")
            while pos != -1:
                m = match(text, pos)
                if m is not None:
                    yield m
                    pos = m.end()
                else:
                    pos += 1
                pos = find(b"0", pos)
            return
    yield from _CANDIDATE.finditer(text)


def _in_uuid(text: str, start: int, end: int) -> bool:
    """Part of a UUID such as a Teams caption cue id ``f310ec31-cb50-…/73-0``."""
    a = text.rfind(" ", 0, start) + 1
    b = min(x for x in (text.find(" ", end), text.find("\n", end), len(text)) if x != -1)
    a = max(a, text.rfind("\n", 0, start) + 1)
    return "-" in text[a:b] and _UUID.search(text, a, b) is not None


def _classify_number(candidate: str) -> str | None:
    """A digit sequence → "phone", "id_number", or None (date, year, amount, decimal, a run
    of numbers in prose such as "in 2022 15 people" or "3.5 2010")."""
    if candidate.startswith("+"):
        digits = sum(map(len, _DIGITS.findall(candidate)))
        return "phone" if 8 <= digits <= 15 else ("id_number" if digits > 15 else None)
    rest = _DATE.sub(lambda m: " " if _is_date(m) else m.group(), candidate).strip(" \u00a0.-")
    groups = _DIGITS.findall(rest)
    digits = sum(map(len, groups))
    if len(groups) <= 1:  # one run, no separators
        if 10 <= digits <= 11 and rest.lstrip("(")[:1] in ("0", "8"):
            return "phone"
        return "id_number" if digits >= 8 else None
    separators = {s.strip() or " " for s in _SEPARATORS.findall(rest)}
    if _is_range(groups, separators):
        return None
    spaced = separators == {" "}
    if (digits < 7 or max(map(len, groups)) < 2 or len(separators - {" "}) > 1
            or ("." in separators and " " in separators)
            or (separators == {"."} and len(groups) == 2)         # a decimal
            or _THOUSANDS.fullmatch(rest)
            or (spaced and "(" not in rest and max(map(len, groups)) <= 2)
            or (spaced and any(_YEAR.fullmatch(g) for g in groups))
            or all(_YEAR.fullmatch(g) for g in groups)):
        return None
    return "id_number" if digits > 15 else "phone"


def _is_range(groups: list[str], separators: set[str]) -> bool:
    """A page or number range such as ``1162-1192`` or ``pp. 233–241``: two numbers of the
    same length joined by a dash, the second larger by less than 1,000."""
    if len(groups) != 2 or not separators <= {"-", "–", "—"} or len(groups[0]) != len(groups[1]):
        return False
    low, high = int(groups[0]), int(groups[1])
    return low < high < low + 1000


def _is_date(m: re.Match) -> bool:
    a, b, c = m.group(1), m.group(3), m.group(4)
    if len(a) == 4:                    # 2023-01-20
        return 1 <= int(b) <= 12 and 1 <= int(c) <= 31
    day_month = {int(a), int(b)}       # 20.01.2023, 01/20/23
    return min(day_month) >= 1 and min(day_month) <= 12 and max(day_month) <= 31


def _is_alnum_id(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    letters = sum(c.isalpha() for c in candidate)
    if letters == 0:
        return False  # pure digits are _NUMBER's
    if "-" in candidate or " " in candidate or letters <= 4 and candidate[:letters].isalpha():
        return digits >= 6
    return digits >= 4 and len(candidate) >= 10


def _name_matches(text: str, identifiers: Identifiers, pseudonyms: Pseudonyms):
    spans = []
    for m in identifiers.finditer(text):
        stem, suffix, poss = m.group("stem"), m.group("suffix") or "", m.group("poss") or ""
        if suffix and len(stem.split()[-1]) < MIN_STEM:
            continue
        entry = identifiers.lookup(stem, suffix)
        if entry is None:
            continue
        if entry.allowed:
            spans.append((m.start(), m.end(), None, ""))
        else:
            spans.append((m.start(), m.end(), "name", _pseudonym(entry, pseudonyms) + poss))
    for start, end, entry in identifiers.cross_script_matches(text):
        spans.append((start, end, None, "") if entry.allowed
                     else (start, end, "name", _pseudonym(entry, pseudonyms)))
    return spans


def _pseudonym(entry: Identifier, pseudonyms: Pseudonyms) -> str:
    return entry.pseudonym or pseudonyms.get(entry.name)


# ---------------------------------------------------------------------------- optional NER

_NER_CACHE: list = []
NER_LABELS = frozenset({"PERSON", "PER"})


def ner_pipeline():
    """A loaded spaCy pipeline, or None when spaCy or a model is not installed.

    Looked up at run time (never imported at start-up): the model named by
    ``$CODER_SPACY_MODEL``, else ``en_core_web_sm``, ``xx_ent_wiki_sm``, ``ru_core_news_sm``.
    """
    if not _NER_CACHE:
        _NER_CACHE.append(_load_ner())
    return _NER_CACHE[0]


def _load_ner():
    import importlib
    import importlib.util
    import os

    if importlib.util.find_spec("spacy") is None:
        return None
    spacy = importlib.import_module("spacy")
    for model in (os.environ.get("CODER_SPACY_MODEL"), "en_core_web_sm", "xx_ent_wiki_sm",
                  "ru_core_news_sm"):
        if not model:
            continue
        try:
            return spacy.load(model)
        except (OSError, ImportError):
            continue
    return None


def ner_available() -> bool:
    """Whether ``--ner`` can tag names: natasha (Russian) or a spaCy model is installed."""
    return russian_ner() is not None or ner_pipeline() is not None


def russian_ner():
    """natasha's Russian named-entity tagger (its model ships in the PyPI wheels, so it works
    offline), loaded once on first use; None when natasha is not installed."""
    if not _NATASHA:
        try:
            from natasha import Doc, NewsEmbedding, NewsNERTagger, Segmenter
        except ImportError:
            _NATASHA.append(None)
        else:
            _NATASHA.append((Doc, Segmenter(), NewsNERTagger(NewsEmbedding())))
    return _NATASHA[0]


_NATASHA: list = []
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _persons(text: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of person names: natasha on text with Cyrillic, spaCy on the rest."""
    if _CYRILLIC.search(text):
        tagger = russian_ner()
        if tagger is None:
            raise CoderError("named-entity detection of Russian text needs natasha — "
                             "pip install natasha, or drop --ner")
        doc_type, segmenter, ner = tagger
        doc = doc_type(text)
        doc.segment(segmenter)
        doc.tag_ner(ner)
        return [(span.start, span.stop, span.text) for span in doc.spans if span.type == "PER"]
    nlp = ner_pipeline()
    if nlp is None:
        raise CoderError("named-entity detection of text in Latin script needs spaCy and a "
                         "model — install them (pip install spacy; python -m spacy download "
                         "en_core_web_sm) or drop --ner (Russian text uses natasha, included)")
    return [(e.start_char, e.start_char + len(e.text), e.text) for e in nlp(text).ents
            if e.label_ in NER_LABELS]


def _entity_matches(text, identifiers, pseudonyms, found):
    known = identifiers.pseudonyms if identifiers else set()
    spans = []
    for start, end, raw in _persons(text):
        if any(c.isdigit() for c in raw):
            continue
        name = raw.strip()
        if not name or name.casefold() in known or (identifiers and _is_allowed(identifiers,
                                                                                  name)):
            continue
        start += raw.index(name)
        spans.append((start, start + len(name), "entity", pseudonyms.get(name)))
    return spans


def _is_allowed(identifiers: Identifiers, name: str) -> bool:
    entry = identifiers.lookup(name)
    return entry is not None and entry.allowed


# ---------------------------------------------------------------------------- files

def scan_file(path: Path, *, identifiers: Identifiers | None = None, ner: bool = False,
              encoding: str | None = None, pseudonyms: Pseudonyms | None = None,
              label: str | None = None) -> list[Finding]:
    """Findings in one file: a text file line by line (its decoded text), a Word file by
    paragraph (line = paragraph number, as the importer counts), plus its file name."""
    from coder.errors import InputError
    from coder.importers.base import decode

    path = Path(path)
    label = label or str(path)
    pseudonyms = pseudonyms or Pseudonyms()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})", "check the path") from None
    findings = scan_name(path.stem, identifiers=identifiers, source=label, pseudonyms=pseudonyms)
    if is_docx(path, data):
        for number, text in docx_paragraphs(path, data):
            findings += scan_text(text, identifiers=identifiers, source=label, ner=ner,
                                  pseudonyms=pseudonyms, first_line=number)
        return findings
    text = decode(path, data, encoding)
    return findings + scan_text(text, identifiers=identifiers, source=label, ner=ner,
                                pseudonyms=pseudonyms)


def scan_name(stem: str, *, identifiers: Identifiers | None, source: str,
              pseudonyms: Pseudonyms | None = None) -> list[Finding]:
    """Personal data in a file's stem (which becomes the transcript id): names, e-mail
    addresses, handles and URLs — not numbers, which recorders put in file names."""
    found = scan_text(stem, identifiers=identifiers, source=source, pseudonyms=pseudonyms,
                      numbers=False)
    for finding in found:
        finding.line = finding.column = None
    return found


def is_docx(path: Path, data: bytes) -> bool:
    return path.suffix.lower() == ".docx" or (data[:2] == b"PK" and b"word/document.xml" in data)


def docx_paragraphs(path: Path, data: bytes) -> list[tuple[int, str]]:
    """(paragraph number, text) of a Word file's body, numbered as the importer does."""
    import io
    import unicodedata

    import docx

    from coder.errors import InputError

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - python-docx raises many kinds for a broken package
        raise InputError(path, "not a valid Word file",
                         "open it in Word or LibreOffice and save it again as .docx") from None
    return [(n, unicodedata.normalize("NFC", p.text)) for n, p in
            enumerate(document.paragraphs, start=1) if p.text.strip()]


def scan_paths(paths, identifiers: Identifiers | str | Path | None = None, *,
               ner: bool = False, encoding: str | None = None) -> list[Finding]:
    """Findings in files and folders (searched recursively for transcript files), in order.

    ``identifiers`` is an :class:`Identifiers` or the path of an identifiers file.
    """
    from coder.transcripts import collect_paths

    identifiers = as_identifiers(identifiers)
    pseudonyms = Pseudonyms()
    findings: list[Finding] = []
    for path in collect_paths(paths):
        findings += scan_file(path, identifiers=identifiers, ner=ner, encoding=encoding,
                              pseudonyms=pseudonyms)
    return findings


def as_identifiers(value) -> Identifiers | None:
    if value is None or isinstance(value, Identifiers):
        return value
    from coder.anonymize.identifiers import load_identifiers

    return load_identifiers(value)


__all__ = ["Finding", "KINDS", "PLACEHOLDERS", "Pseudonyms", "ner_available", "scan_file",
           "scan_name", "scan_paths", "scan_text"]
