"""What a REFI-QDA project holds once read, before it is mapped onto a coder project.

These are plain records of the parts coder uses; GUIDs are normalised (lower case, no braces)
so references match whatever case the writer used. Positions of selections are already
converted to code points of the LF-normalised text (:mod:`coder.refi.positions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def norm_guid(value: str | None) -> str | None:
    """``{ABC-…}`` / ``ABC-…`` → ``abc-…``: GUID case varies (ATLAS upper, NVivo lower)."""
    if value is None:
        return None
    value = value.strip().strip("{}").lower()
    return value or None


@dataclass
class RefiUser:
    guid: str
    name: str | None = None
    id: str | None = None


@dataclass
class RefiCode:
    guid: str
    name: str
    codable: bool = True
    colour: str | None = None
    description: str = ""
    children: list[RefiCode] = field(default_factory=list)


@dataclass
class RefiCoding:
    guid: str | None
    code: str | None          # CodeRef target GUID
    user: str | None          # creatingUser GUID
    notes: list[str] = field(default_factory=list)  # NoteRef target GUIDs


@dataclass
class RefiSelection:
    """A PlainTextSelection. ``raw_start``/``raw_end`` are the file's numbers; ``start``/``end``
    the converted code-point offsets into :attr:`RefiSource.text` (``None`` until converted, or
    when the selection falls outside the text)."""

    guid: str | None
    name: str
    raw_start: int
    raw_end: int
    user: str | None = None
    description: str = ""
    codings: list[RefiCoding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    start: int | None = None
    end: int | None = None


@dataclass
class RefiSource:
    """A TextSource. ``raw`` is the plain text as stored (BOM stripped, CR kept); ``text`` the
    LF-normalised text coder stores. ``text`` is ``None`` when no plain text could be read
    (``skipped`` says why)."""

    guid: str
    name: str
    raw: str | None = None
    text: str | None = None
    selections: list[RefiSelection] = field(default_factory=list)
    codings: list[RefiCoding] = field(default_factory=list)  # codings of the whole source
    notes: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)    # variable GUID → value
    skipped: str | None = None


@dataclass
class RefiNote:
    guid: str
    name: str
    text: str
    user: str | None = None


@dataclass
class RefiCase:
    guid: str
    name: str | None
    values: dict[str, str] = field(default_factory=dict)    # variable GUID → value
    sources: list[str] = field(default_factory=list)        # SourceRef GUIDs


@dataclass
class RefiSet:
    guid: str
    name: str
    sources: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


@dataclass
class RefiProject:
    path: Path
    name: str
    origin: str
    creating_user: str | None = None
    users: list[RefiUser] = field(default_factory=list)
    codes: list[RefiCode] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)  # GUID → name
    cases: list[RefiCase] = field(default_factory=list)
    sources: list[RefiSource] = field(default_factory=list)
    notes: dict[str, RefiNote] = field(default_factory=dict)
    sets: list[RefiSet] = field(default_factory=list)
    units: str = ""            # how positions were read, for the report
    warnings: list[str] = field(default_factory=list)
