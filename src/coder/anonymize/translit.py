"""Names across scripts: a key-file name in Latin letters found in Cyrillic text, and back.

A team's key file says "Yulia Nikitina"; the Russian transcript says «Никитиной» or
«Ю. Никитина». Transliteration schemes disagree (Yuliya, Iuliia, Julija; Serikbayev,
Serikbaev), so instead of generating every spelling, each word is reduced to a loose Latin
*skeleton* (:func:`skeleton`): Cyrillic letters (Russian, Kazakh, Kyrgyz, Tajik, Belarusian,
Ukrainian) to Latin, then the spelling variants of the common schemes (ISO 9, ICAO, BGN/PCGN,
GOST, the Wikipedia and scientific systems) folded together — ``shch``/``sch``/``sh``, ``kh``/
``h``, ``ts``/``tz``, ``yo``/``ё``, ``y``/``j``/``i``, doubled letters. A word of the text
matches a listed surname when its skeleton is the surname stem's skeleton plus the skeleton of
a case ending (:data:`coder.anonymize.identifiers.SUFFIXES`). Initials before it (``Ю.``,
``Yu. V.``) are part of the match.

Only words in the *other* script than the listed name are checked this way (the same script is
the job of :mod:`coder.anonymize.identifiers`), and only when a key file is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Kazakh, Kyrgyz, Tajik, Belarusian, Ukrainian
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
    "ї": "yi", "є": "ye", "ў": "u", "ґ": "g", "ҳ": "h", "ҷ": "j", "ӣ": "i", "ӯ": "u",
}
_TABLE = str.maketrans(_CYRILLIC)
# Applied in order, after the Cyrillic letters are Latin: each folds one family of variants.
_FOLDS = [
    ("shch", "s"), ("sch", "s"), ("sh", "s"), ("dzh", "j"), ("dj", "j"), ("zh", "z"),
    ("kh", "h"), ("gh", "g"), ("ph", "f"), ("tch", "c"), ("ch", "c"), ("tz", "c"), ("ts", "c"),
    ("cz", "c"), ("x", "ks"), ("w", "v"), ("q", "k"), ("yo", "e"), ("jo", "e"), ("ye", "e"),
    ("je", "e"), ("j", "i"), ("y", "i"), ("ie", "e"),
]
_DOUBLE = re.compile(r"(.)\1+")
_WORD = re.compile(r"[^\W\d_]+")
_INITIALS = re.compile(r"(?:(?<![^\W\d_])[^\W\d_]{1,2}\.\s*){1,2}$")
_CYR = re.compile(r"[\u0400-\u04ff]")


def skeleton(word: str) -> str:
    """The loose Latin skeleton of one word (see the module docstring)."""
    s = word.casefold().translate(_TABLE)
    for a, b in _FOLDS:
        if a in s:
            s = s.replace(a, b)
    return _DOUBLE.sub(r"\1", s)


def script(word: str) -> str:
    return "cyrillic" if _CYR.search(word) else "latin"


@dataclass
class CrossScriptNames:
    """Listed surnames by skeleton, for :meth:`matches`."""

    stems: dict[tuple[str, str], object]   # (script of the listed name, stem skeleton) → entry
    suffixes: list[str]                    # skeletons of the case endings, longest first
    min_stem: int

    @classmethod
    def of(cls, entries, suffixes, stem_of, min_stem: int) -> "CrossScriptNames":
        stems: dict[tuple[str, str], object] = {}
        for entry in entries:
            words = _WORD.findall(entry.surname or entry.name)
            if not words:
                continue
            surname = words[-1]
            for form in {surname, stem_of(surname)}:
                if len(form) >= min_stem:
                    key = (script(surname), skeleton(form))
                    if key not in stems or (getattr(stems[key], "allowed", False)
                                            and not entry.allowed):
                        stems[key] = entry
        folded = sorted({skeleton(s) for s in suffixes} | {""}, key=len, reverse=True)
        return cls(stems, folded, min_stem)

    def matches(self, text: str) -> list[tuple[int, int, object]]:
        """(start, end, entry) of words in ``text`` written in the other script than a listed
        surname whose skeleton they share (with a case ending), initials before them
        included."""
        if not self.stems:
            return []
        scripts = {s for s, _ in self.stems}
        if scripts == {"latin"} and not _CYR.search(text):
            return []  # Latin names are looked for in Cyrillic words only
        found = []
        for m in _WORD.finditer(text):
            word = m.group()
            if len(word) < self.min_stem:
                continue
            other = "latin" if script(word) == "cyrillic" else "cyrillic"
            if other not in scripts:
                continue
            sk = skeleton(word)
            entry = None
            for suffix in self.suffixes:
                if sk.endswith(suffix):
                    entry = self.stems.get((other, sk[:len(sk) - len(suffix)] if suffix else sk))
                    if entry is not None:
                        break
            if entry is None:
                continue
            start = m.start()
            initials = _INITIALS.search(text, max(0, start - 12), start)
            if initials and initials.group().strip():
                start = initials.start()
            found.append((start, m.end(), entry))
        return found
