"""The identifiers (key) file: the names to find, their pseudonyms, and names that are public.

The team keeps this file **outside the project**: it is read for a scan or a pseudonymization
and never stored in the database. Two shapes are accepted.

YAML, a mapping ``name: pseudonym`` or a list of entries::

    Daulet K. Serikbayev: Expert A        # flagged, replaced by "Expert A"
    Tokayev: ""                          # empty pseudonym: an allowed (public) name
    Anna Maria Petrova:
      pseudonym: Expert B
      variants: [Анна Петрова]           # extra spellings, matched as written
    Dana Sultan: {allow: false}          # flagged; replaced by a generated [PERSON-n]
    - name: …                            # (or the same fields as a list)

CSV with a header row ``name,pseudonym[,allow][,variants]`` (variants separated by ``;``), or
two columns ``name,pseudonym`` without a header. ``allow`` accepts yes/true/1/public/allowed.

Each entry matches, word-bounded and case-insensitively (:meth:`Identifiers.pattern`):

- the name as written and its declared variants;
- the surname alone (the last word, or ``surname:``), with initials (``D. K. Serikbayev``,
  ``D.K. Serikbayev``, ``D. Serikbayev``), first name + surname, and surname-first forms
  (``Serikbayev Daulet``, ``Serikbayev D.K.``);
- Russian/Kazakh-style case endings on the surname stem (:data:`SUFFIXES`: Serikbayeva,
  Serikbayevym, Petrovoy…) and the English possessive ``'s``. A feminine ``-ova/-eva/-ina``
  surname's stem drops the final ``a``, so Petrova, Petrov and Petrovoy are one person.
  Stems shorter than :data:`MIN_STEM` letters take no endings (``Li`` must not match ``Lie``).

The variants of every entry go into one regular expression built as a prefix trie of word
tokens, so matching costs about the same for 5 names as for 500 and the longest name at a
position wins ("Anna Maria Petrova" over "Anna").
"""

from __future__ import annotations

import csv
import io
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

from coder.errors import InputError

#: Case endings accepted after a surname stem (Latin transliteration, then Cyrillic).
SUFFIXES = (
    "a u y e i om em ym im oy oj oi ey ei oyu oju ykh ikh ymi imi ova ovoy ovu ovym eva evoy "
    "evu evym aya uyu ogo omu "
    "а у ы е и ом ем ым им ой ою ей ых их ыми ими ова овой ову овым ева евой еву евым ая ую "
    "ого ому"
).split()
MIN_STEM = 4
_FEMININE = re.compile(r"(?:ov|ev|yov|in|yn|ёв|ов|ев|ин|ын)[aа]$", re.IGNORECASE)
_TOKEN = re.compile(r"[^\s.]+\.?")
# Punctuation → space, so that str.split() yields the words a name can be (fast prefilter).
_PUNCT = str.maketrans({c: " " for c in string.punctuation + "‘’‚‛“”„«»‹›–—…·"})
_TRUE = {"yes", "y", "true", "1", "public", "allowed", "allow", "x"}


@dataclass(frozen=True)
class Identifier:
    """One person (or place, organisation…) to find, as listed in the identifiers file."""

    name: str
    pseudonym: str = ""            # "" → generated ([PERSON-n]) when not allowed
    allowed: bool = False          # a public name: matched, never flagged
    surname: str | None = None     # default: the name's last word
    variants: tuple[str, ...] = ()
    line: int | None = None        # in the identifiers file, for messages


@dataclass
class Identifiers:
    """The entries of an identifiers file and the matcher built from them."""

    entries: list[Identifier] = field(default_factory=list)
    source: Path | None = None
    _compiled: _Matcher | None = field(default=None, init=False, repr=False)

    @property
    def pseudonyms(self) -> set[str]:
        return {e.pseudonym.casefold() for e in self.entries if e.pseudonym}

    def pattern(self) -> re.Pattern | None:
        """One compiled regex: group ``stem`` (a listed form), ``suffix``, ``poss`` ('s)."""
        return self._matcher().pattern

    def finditer(self, text: str):
        """Matches of :meth:`pattern` in ``text``, in order, found quickly.

        A regex over a whole transcript would cost more than parsing it, so the words of the
        text are first checked against the set of words every listed form must contain (a
        surname stem and its endings); the regex then runs only in short windows around them.
        """
        matcher = self._matcher()
        if matcher.pattern is None:
            return
        lowered = text.lower()
        if len(lowered) != len(text):  # a rare letter whose lower case is longer
            yield from matcher.pattern.finditer(text)
            return
        if len(matcher.margins) <= 40:  # a few str.find beat splitting the text into words
            required = [r for r in matcher.margins if r in lowered]
        else:
            words = lowered.translate(_PUNCT).split()
            if matcher.forms.keys().isdisjoint(words):
                return
            required = {matcher.forms[w] for w in set(words).intersection(matcher.forms)}
        windows = []
        for token in required:
            before, after = matcher.margins[token]
            pos = lowered.find(token)
            while pos != -1:
                windows.append((max(0, pos - before), pos + len(token) + after))
                pos = lowered.find(token, pos + 1)
        windows.sort()
        merged: list[list[int]] = []
        for a, b in windows:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        size = len(text)
        for a, b in merged:
            while b < size and not text[b].isspace():  # the regex must see where words end
                b += 1
            yield from matcher.pattern.finditer(text, a, min(b, size))

    def lookup(self, stem: str, suffix: str = "") -> Identifier | None:
        """The entry a matched ``stem`` (+ case ``suffix``) belongs to.

        Precedence: the whole word (with its ending) as listed, then as derived (the surname
        alone, with initials…), then the stem as listed and as derived — so with "Tokayev"
        allowed and "Dana Tokayeva" listed, "Tokayeva" is Dana and "Tokayevym" the public
        figure. Within a level a flagged entry beats an allowed one, so a public namesake
        never hides a participant; otherwise the first listed wins.
        """
        matcher = self._matcher()
        key, full = _key(stem), _key(stem + suffix)
        for table, k in ((matcher.explicit, full), (matcher.derived, full),
                         (matcher.explicit, key), (matcher.derived, key)):
            if k in table:
                return table[k]
        return None

    def cross_script_matches(self, text: str) -> list[tuple[int, int, Identifier]]:
        """Listed surnames written in the other script (Latin key, Cyrillic text, or back):
        see :mod:`coder.anonymize.translit`."""
        matcher = self._matcher()
        if matcher.cross is None:
            from coder.anonymize.translit import CrossScriptNames

            matcher.cross = CrossScriptNames.of(self.entries, SUFFIXES, stem_of, MIN_STEM)
        return matcher.cross.matches(text)

    def _matcher(self) -> _Matcher:
        if self._compiled is None:
            self._compiled = _Matcher(self.entries)
        return self._compiled


class _Matcher:
    """The compiled form of an identifiers list (see :meth:`Identifiers.finditer`).

    ``forms`` maps every word that can signal a listed name (a required token of a form, plain
    or with a case ending) to that token; ``margins`` gives, per token, how far before and
    after it a form can reach, for the regex window.
    """

    SLACK = 8  # characters allowed per gap between two words of a name

    def __init__(self, entries: list[Identifier]):
        self.cross = None  # built on first use (coder.anonymize.translit)
        self.explicit: dict[tuple[str, ...], Identifier] = {}
        self.derived: dict[tuple[str, ...], Identifier] = {}
        stems: set[str] = set()
        for entry in entries:
            for form in (entry.name, *entry.variants):
                _put(self.explicit, _key(form), entry)
            for form in _derived_forms(entry):
                _put(self.derived, form, entry)
            surname = _key(entry.surname or entry.name)[-1:]
            stems.update(stem_of(w).lower().translate(_PUNCT).strip() for w in surname)
        keys = set(self.explicit) | set(self.derived)
        self.pattern = None
        self.forms: dict[str, str] = {}
        self.margins: dict[str, tuple[int, int]] = {}
        if not keys:
            return
        suffixes = sorted(SUFFIXES, key=len, reverse=True)
        self.pattern = re.compile(
            rf"(?<!\w)(?P<stem>{_trie_regex(keys)})"
            rf"(?P<suffix>{'|'.join(map(re.escape, suffixes))})?"
            r"(?P<poss>['’]s)?(?!\w)", re.IGNORECASE)
        longest_suffix = max(map(len, SUFFIXES)) + 2
        for key in keys:
            words = " ".join(key).lower().translate(_PUNCT).split()
            if not words:
                continue
            # The word to look for: a surname stem when the form has one, else its longest.
            required = next((w for w in words if w in stems), max(words, key=len))
            at = words.index(required)
            before = sum(len(w) + self.SLACK for w in words[:at])
            after = sum(len(w) + self.SLACK for w in words[at + 1:]) + longest_suffix
            old = self.margins.get(required, (0, 0))
            self.margins[required] = (max(old[0], before), max(old[1], after))
            self.forms[required] = required
            for suffix in SUFFIXES:
                self.forms.setdefault(required + suffix, required)


def _put(table: dict, key: tuple[str, ...], entry: Identifier) -> None:
    if key and (key not in table or (table[key].allowed and not entry.allowed)):
        table[key] = entry


def _key(text: str) -> tuple[str, ...]:
    return tuple(t.casefold() for t in _TOKEN.findall(text))


def stem_of(surname: str) -> str:
    """Petrova → Petrov (feminine -ova/-eva/-ina lose the final a); others unchanged."""
    return surname[:-1] if _FEMININE.search(surname) else surname


def _derived_forms(entry: Identifier) -> set[tuple[str, ...]]:
    tokens = _key(entry.name)
    if not tokens:
        return set()
    surname = _key(entry.surname)[-1] if entry.surname else tokens[-1]
    given = [t for t in tokens if t != surname and not t.endswith(".")]
    initials = [t[0] + "." for t in tokens if t != surname]
    stems = {surname, stem_of(surname)}
    forms: set[tuple[str, ...]] = set()
    for s in stems:
        forms.add((s,))
        if given:
            forms.add((given[0], s))
            forms.add((s, given[0]))
            forms.add((s, *given))
        if initials:
            forms.add((*initials, s))
            forms.add((initials[0], s))
            forms.add((s, *initials))
            forms.add((s, initials[0]))
    return forms


def _trie_regex(keys: set[tuple[str, ...]]) -> str:
    """A regex for a set of token tuples, as a prefix trie: longest alternatives first.

    Tokens are joined by whitespace (``\\s+``), or optional whitespace after an initial
    (``A.T.`` and ``A. T.`` are the same key).
    """
    trie: dict = {}
    for key in keys:
        node = trie
        for token in key:
            node = node.setdefault(token, {})
        node[""] = {}  # end of a key

    def build(node: dict, after: str | None) -> str:
        joiner = "" if after is None else (r"\s*" if after.endswith(".") else r"\s+")
        branches = [joiner + re.escape(t) + build(child, t)
                    for t, child in sorted(node.items(), key=lambda kv: (-len(kv[0]), kv[0]))
                    if t]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie, None)


# ---------------------------------------------------------------------------- loading

def load_identifiers(path: str | Path) -> Identifiers:
    """Read a YAML or CSV identifiers file (see the module docstring).

    Raises :class:`~coder.errors.InputError` naming the file and line of a bad entry.
    """
    path = Path(path)
    from coder.fileio import read_input
    from coder.importers.base import decode

    data = read_input(path, "identifiers file",
                      "give the --identifiers path of a .yaml or .csv file of name → pseudonym")

    text = decode(path, data)
    if path.suffix.lower() in (".csv", ".tsv") or (
            path.suffix.lower() not in (".yaml", ".yml") and _looks_csv(text)):
        entries = _read_csv(path, text)
    else:
        entries = _read_yaml(path, text)
    _check_duplicates(path, entries)
    return Identifiers(entries, source=path)


def _looks_csv(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    return "," in first and ":" not in first


def _read_csv(path: Path, text: str) -> list[Identifier]:
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    try:
        rows = list(csv.reader(io.StringIO(text), dialect=dialect))
    except csv.Error as exc:  # e.g. a field past the limit: an unclosed quote
        raise InputError(path, f"not readable as CSV ({exc})", "close the stray quote (\") "
                         "or save the file again as CSV UTF-8") from None
    entries: list[Identifier] = []
    header = [c.strip().casefold() for c in rows[0]] if rows else []
    if "name" in header:
        body = rows[1:]
        start = 2
    else:
        header, body, start = ["name", "pseudonym"], rows, 1
    for number, row in enumerate(body, start=start):
        if not any(c.strip() for c in row):
            continue
        cells = dict(zip(header, (c.strip() for c in row)))
        name = cells.get("name", "")
        if not name:
            raise InputError(path, "empty name", "give the name in the `name` column",
                             line=number)
        allow = _flag(path, cells.get("allow", ""), number)
        variants = tuple(v.strip() for v in cells.get("variants", "").split(";") if v.strip())
        entries.append(_entry(path, name, cells.get("pseudonym", ""), allow,
                              cells.get("surname") or None, variants, number))
    return entries


def _read_yaml(path: Path, text: str) -> list[Identifier]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from coder.safeio import check_yaml

    check_yaml(text, path, fix="write one `name: pseudonym` per line")
    try:
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise InputError(path, f"not valid YAML ({exc.problem})",
                         "write one `name: pseudonym` per line", line=line) from None
    except YAMLError as exc:
        raise InputError(path, f"not valid YAML ({exc})", "check the file's syntax") from None
    if doc is None:
        return []
    entries: list[Identifier] = []
    if isinstance(doc, dict):
        for index, (name, value) in enumerate(doc.items()):
            line = _line(doc, index)
            if isinstance(value, dict):
                entries.append(_from_mapping(path, value, line, name=str(name)))
            elif value is None or isinstance(value, (str, int, float)) and \
                    not isinstance(value, bool):
                entries.append(_entry(path, str(name), "" if value is None else str(value),
                                      None, None, (), line))
            else:
                raise InputError(path, f"{name!r}: expected a pseudonym", "write `name: "
                                 "pseudonym`, `name: \"\"` for a public name, or a mapping "
                                 "with pseudonym/allow/variants", line=line)
    elif isinstance(doc, list):
        for index, item in enumerate(doc):
            line = _line(doc, index)
            if not isinstance(item, dict):
                raise InputError(path, "a list item that is not a mapping",
                                 "write `- name: …` with `pseudonym:` or `allow: true`",
                                 line=line)
            entries.append(_from_mapping(path, item, line))
    else:
        raise InputError(path, "not a mapping or list of names",
                         "write one `name: pseudonym` per line", line=1)
    return entries


def _line(node, index: int) -> int | None:
    try:
        return node.lc.item(index)[0] + 1 if isinstance(node, list) else \
            node.lc.key(list(node.keys())[index])[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None


def _from_mapping(path: Path, item: dict, line: int | None, name: str | None = None):
    known = {"name", "pseudonym", "allow", "surname", "variants"}
    unknown = sorted(str(k) for k in item if k not in known)
    if unknown:
        raise InputError(path, f"unknown field {unknown[0]!r}",
                         "use name, pseudonym, allow, surname, variants", line=line)
    name = name if name is not None else str(item.get("name") or "").strip()
    if not name:
        raise InputError(path, "an entry without a name", "add `name: …`", line=line)
    variants = item.get("variants") or ()
    if isinstance(variants, str):
        variants = [variants]
    allow = item.get("allow")
    allow = None if allow is None else _flag(path, str(allow), line)
    pseudonym = item.get("pseudonym")
    return _entry(path, name, "" if pseudonym is None else str(pseudonym), allow,
                  item.get("surname"), tuple(str(v) for v in variants), line)


def _flag(path: Path, value: str, line: int | None) -> bool | None:
    value = value.strip().casefold()
    if value in _TRUE:
        return True
    if value in ("no", "n", "false", "0"):
        return False
    if value == "":
        return None
    raise InputError(path, f"allow must be yes or no, not {value!r}",
                     "write yes (a public name, never flagged) or no", line=line)


def _entry(path, name, pseudonym, allow, surname, variants, line) -> Identifier:
    name, pseudonym = str(name).strip(), str(pseudonym).strip()
    if not re.search(r"[^\W\d_]", name):
        raise InputError(path, f"{name!r} is not a name", "give a name with letters",
                         line=line)
    # An empty pseudonym means a public name, unless allow: no says otherwise.
    allowed = bool(allow) if allow is not None else not pseudonym
    if surname is not None and _key(str(surname)) == ():
        surname = None
    return Identifier(name=name, pseudonym="" if allowed else pseudonym, allowed=allowed,
                      surname=str(surname) if surname else None, variants=variants, line=line)


def _check_duplicates(path: Path, entries: list[Identifier]) -> None:
    seen: dict[tuple[str, ...], Identifier] = {}
    for entry in entries:
        key = _key(entry.name)
        first = seen.get(key)
        if first is not None and (first.pseudonym, first.allowed) != (entry.pseudonym,
                                                                        entry.allowed):
            raise InputError(path, f"{entry.name!r} listed twice with different pseudonyms "
                             f"(also line {first.line})", "keep one entry per name",
                             line=entry.line)
        seen.setdefault(key, entry)


__all__ = ["Identifier", "Identifiers", "MIN_STEM", "SUFFIXES", "load_identifiers", "stem_of"]
