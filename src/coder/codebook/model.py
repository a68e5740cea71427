"""The codebook as data: codes in document order, and the questions other modules ask of it.

A codebook is a forest of codes. Top-level codes are **themes**; any code may have sub-codes.
A code is named by its **full key**, the dotted path of keys from its theme
(``csto_efficacy.rapid_deployment``). Codes are kept flattened, parents before children, in the
order of the file; ``position`` is that order (0, 1, 2 …).

Both a codebook read from a file (:class:`CodebookSpec`) and one read from the project
(:class:`CodebookInfo`) are :class:`CodeTree` objects, so exporters and the diff take either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
FULL_KEY_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")


def theme_of(key: str) -> str:
    """The theme a code belongs to: the first component of its full key (a theme is its own)."""
    return key.split(".", 1)[0]


def parent_of(key: str) -> str | None:
    """The full key of a code's parent, ``None`` for a theme."""
    return key.rsplit(".", 1)[0] if "." in key else None


def short_key(key: str) -> str:
    """The last component of a full key: what the YAML file writes as ``key:``."""
    return key.rsplit(".", 1)[-1]


def depth_of(key: str) -> int:
    """0 for a theme, 1 for its sub-codes, and so on."""
    return key.count(".")


def is_regex_keyword(keyword: str) -> bool:
    """A keyword written ``/…/`` is a regular expression; anything else is a literal phrase."""
    return len(keyword) >= 2 and keyword.startswith("/") and keyword.endswith("/")


def compile_keyword(keyword: str) -> re.Pattern[str]:
    """The pattern a keyword matches, case-insensitively.

    ``/…/`` is a Python regular expression (``re`` syntax) searched as written; any other keyword
    is a literal phrase matched as whole words (``\\b`` at word-character edges). Raises
    ``re.error`` for a regex that does not compile; the loader reports that with its line.
    """
    if is_regex_keyword(keyword):
        return re.compile(keyword[1:-1], re.IGNORECASE)
    phrase = re.escape(keyword.strip())
    start = r"\b" if keyword.strip()[:1].isalnum() else ""
    end = r"\b" if keyword.strip()[-1:].isalnum() else ""
    return re.compile(start + phrase + end, re.IGNORECASE)


@dataclass
class CodeSpec:
    """One code (a theme or a sub-code).

    ``key`` is the full key; ``parent`` the parent's full key (``None`` for a theme).
    ``labels`` holds the label in other languages (``{"ru": …}``, optional in the file:
    ``labels: {en: …, ru: …}``).
    ``include``/``exclude`` are the inclusion and exclusion criteria; ``keywords`` feed keyword
    auto-coding (see :func:`compile_keyword`). ``renamed_from`` is the full key this code had in
    the previous codebook version. ``line`` is the 1-based line of the code in its file
    (``None`` for codes read from the project).
    """

    key: str
    label: str
    parent: str | None = None
    definition: str = ""
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    colour: str | None = None
    #: False for a category (REFI-QDA ``isCodable="false"``, ``codable: false`` in the file):
    #: it groups its sub-codes and is never applied itself; its theme counts as ever
    codable: bool = True
    #: keywords for one language only (``keywords: {ru: […], en: […]}`` in the file);
    #: ``keywords`` holds those for every language (a plain list, or the key ``any``)
    keywords_by_language: dict[str, list[str]] = field(default_factory=dict)
    renamed_from: str | None = None
    position: int = 0
    line: int | None = None
    labels: dict[str, str] = field(default_factory=dict)   # the label in other languages

    @property
    def name(self) -> str:
        """The code's own key, without its parents' (``rapid_deployment``)."""
        return short_key(self.key)

    @property
    def theme(self) -> str:
        return theme_of(self.key)

    @property
    def depth(self) -> int:
        return depth_of(self.key)

    @property
    def is_theme(self) -> bool:
        return self.parent is None

    def keywords_for(self, language: str) -> list[str]:
        """The keywords that apply to text in ``language``: the common ones, then its own."""
        return self.keywords + self.keywords_by_language.get(language, [])

    @property
    def all_keywords(self) -> list[str]:
        return self.keywords + [k for ks in self.keywords_by_language.values() for k in ks]

    def stored_keywords(self) -> list[str] | dict[str, list[str]]:
        """The keywords as stored: a list, or ``{"any": […], LANG: […]}`` by language."""
        if not self.keywords_by_language:
            return self.keywords
        return {"any": self.keywords, **self.keywords_by_language}

    def patterns(self) -> list[re.Pattern[str]]:
        """The compiled keyword patterns of this code (see :func:`compile_keyword`)."""
        return [compile_keyword(k) for k in self.keywords]

    def content(self) -> dict:
        """The fields that make up the code's meaning (no position, line or rename marker)."""
        return {"label": self.label, "definition": self.definition, "include": self.include,
                "exclude": self.exclude, "examples": self.examples, "keywords": self.stored_keywords(),
                "colour": self.colour,
                **({} if self.codable else {"codable": False})}


CONTENT_FIELDS = ("label", "definition", "include", "exclude", "examples", "keywords", "colour",
                  "codable")


class CodeTree:
    """Lookups shared by file and project codebooks; subclasses provide ``codes`` and ``name``."""

    codes: list[CodeSpec]
    name: str

    @cached_property
    def _by_key(self) -> dict[str, CodeSpec]:
        return {code.key: code for code in self.codes}

    @property
    def themes(self) -> list[CodeSpec]:
        """The top-level codes, in order."""
        return [code for code in self.codes if code.parent is None]

    @property
    def keys(self) -> set[str]:
        """Every full key of the codebook."""
        return set(self._by_key)

    def get(self, key: str) -> CodeSpec | None:
        """The code with this full key, or ``None``."""
        return self._by_key.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def children(self, key: str | None) -> list[CodeSpec]:
        """Direct sub-codes of ``key`` in order; ``children(None)`` are the themes."""
        return [code for code in self.codes if code.parent == key]

    def descendants(self, key: str) -> list[CodeSpec]:
        """Every code below ``key`` (not ``key`` itself), in order."""
        prefix = key + "."
        return [code for code in self.codes if code.key.startswith(prefix)]

    def label(self, key: str, lang: str | None = None) -> str:
        """The label of ``key`` (in ``lang`` when the code has it, from the optional
        ``labels:`` field), or the key itself when the codebook does not have it."""
        code = self.get(key)
        if code is None:
            return key
        return code.labels.get(lang, code.label) if lang else code.label


@dataclass
class CodebookSpec(CodeTree):
    """A codebook as written in a file: ``version`` is the file's own ``version:`` field.

    ``source`` is the text it was parsed from, ``path`` the file (``None`` for a string).
    """

    name: str
    version: int | str | None
    codes: list[CodeSpec]
    description: str | None = None
    source: str = ""
    path: str | None = None


@dataclass
class CodebookInfo(CodeTree):
    """A codebook version stored in the project (``version`` counts loads: 1, 2, 3 …)."""

    id: int
    name: str
    version: int
    sha256: str
    source: str
    loaded_at: datetime | None
    codes: list[CodeSpec]
