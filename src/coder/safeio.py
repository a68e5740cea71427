"""Bounds on untrusted input, checked before a parser gets to build anything big.

Everything a user gives us (a codebook, a transcript, a spreadsheet, a participants file) may
come from someone else's computer, so its size is never trusted:

- **YAML** (codebooks, front matter, key files) is scanned as an event stream first — the
  parser's events are produced iteratively and cost memory in proportion to the text, not to
  what aliases expand to. :func:`check_yaml` refuses nesting deeper than :data:`MAX_YAML_DEPTH`
  (the composer and our validators recurse), aliases that would add more than
  :data:`MAX_ALIAS_NODES` nodes when expanded ("billion laughs" builds 10^9 nodes from a few
  lines), and scalars holding lone surrogates (``"\\ud800"``, which no database can store).
- **Office files** (.docx, .xlsx) are ZIP archives of XML: :func:`check_office_zip` reads only
  the central directory and refuses too many members, a member declaring more than
  :data:`MAX_OFFICE_MEMBER` bytes, a compression ratio above :data:`MAX_RATIO` (a zip bomb), or
  more than :data:`MAX_OFFICE_TOTAL` bytes in all, before anything is inflated. CPython's
  ``zipfile`` never returns more than a member's declared size (it fails on the CRC instead),
  so a header that lies cannot get past these checks. The checks are those of
  :mod:`coder.refi.safe`, with limits and messages for office files.
- **Names** shown in messages are escaped (:func:`printable`), so a file named with a newline
  cannot print a second ``error:`` line, and ids holding control characters are refused
  (:func:`check_id`).

Every refusal is an :class:`~coder.errors.InputError` naming the file (and line).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from coder.errors import InputError

MAX_YAML_BYTES = 32 * 2**20   # a codebook, front matter or key file
MAX_YAML_DEPTH = 64           # nested mappings/lists: codes may nest about 30 levels deep
MAX_CODE_DEPTH = 30           # levels of sub-codes in a REFI-QDA codebook
MAX_ALIAS_NODES = 100_000     # nodes that aliases may add when expanded
MAX_RATIO = 100               # declared / compressed size of one office member
RATIO_FLOOR = 2**20           # smaller members are not ratio-checked
MAX_OFFICE_MEMBER = 64 * 2**20
MAX_OFFICE_TOTAL = 256 * 2**20
MAX_OFFICE_MEMBERS = 10_000

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(text: object) -> str:
    """``text`` with control characters (newline, tab, ESC…) and lone surrogates escaped as
    ``\\n``, ``\\x1b``, ``\\udcff``, so that it prints on one line as what it is."""
    value = str(text)
    if not _CONTROL.search(value):
        return value
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)


def check_id(path: str | Path | None, value: str, what: str = "transcript id",
             line: int | None = None) -> str:
    """``value`` unchanged, or an InputError when it holds control characters or surrogates
    (an id is typed on command lines and printed in tables)."""
    if _CONTROL.search(value):
        raise InputError(path, f"the {what} {printable(value)!s} holds control characters",
                         "rename the file, or give a plain `id:` in its front matter",
                         line=line)
    return value


def check_path_name(path: Path) -> None:
    """Refuse a file name that is not valid Unicode (bytes Python kept as surrogates)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(printable(path), "the file name is not valid UTF-8",
                         "rename the file (e.g. with your file manager)") from None


# ------------------------------------------------------------------------------------ YAML

def check_yaml(text: str, label: str | Path, *, first_line: int = 1,
               fix: str = "fix the YAML") -> None:
    """Refuse YAML ``text`` that would be too deep, expand too far, or hold lone surrogates.

    Runs the (iterative) parser only, never the composer: time and memory are linear in the
    text. Syntax errors are left for the real load to report. ``first_line`` is the file line
    of the text's first line (front matter starts on line 2).
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import (
        AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent,
    )

    if len(text) > MAX_YAML_BYTES:
        raise InputError(label, f"{len(text):,} characters of YAML (more than "
                         f"{MAX_YAML_BYTES // 2**20} MB), refused", f"{fix}: is this the "
                         "right file?")
    # Each open collection: [anchor, expanded size so far]; anchors: name -> expanded size.
    stack: list[list] = []
    anchors: dict[str, int] = {}
    added = 0

    def at(event) -> int:
        return first_line + event.start_mark.line

    def grow(size: int) -> None:
        if stack:
            stack[-1][1] += size

    try:
        for event in YAML(typ="safe", pure=True).parse(text):
            if isinstance(event, ScalarEvent):
                if _SURROGATE.search(event.value):
                    raise InputError(label, "a value holds a lone surrogate escape "
                                     "(such as \\ud800), which is not a character",
                                     "write the character itself, or remove the escape",
                                     line=at(event))
                if event.anchor is not None:
                    anchors[str(event.anchor)] = 1
                grow(1)
            elif isinstance(event, CollectionStartEvent):
                if len(stack) >= MAX_YAML_DEPTH:
                    raise InputError(label, f"nested more than {MAX_YAML_DEPTH} levels deep",
                                     f"{fix}: flatten the structure (a codebook rarely needs "
                                     "more than a few levels of sub-codes)", line=at(event))
                stack.append([event.anchor, 1])
            elif isinstance(event, CollectionEndEvent):
                anchor, size = stack.pop()
                if anchor is not None:
                    anchors[str(anchor)] = size
                grow(size)
            elif isinstance(event, AliasEvent):
                if str(event.anchor) not in anchors:
                    open_ = any(str(a) == str(event.anchor) for a, _ in stack if a is not None)
                    raise InputError(label, f"alias *{event.anchor} "
                                     + ("refers to the value that holds it" if open_
                                        else "has no anchor before it"),
                                     f"{fix}: write the values out instead", line=at(event))
                size = anchors[str(event.anchor)]
                added += size
                if added > MAX_ALIAS_NODES:
                    raise InputError(label, f"aliases (*{event.anchor}) expand to more than "
                                     f"{MAX_ALIAS_NODES:,} values, refused as a possible "
                                     "alias bomb", f"{fix}: write the values out instead of "
                                     "repeating anchors", line=at(event))
                grow(size)
    except YAMLError:
        return  # the real load reports syntax errors with their line


_SURROGATE = re.compile(r"[\ud800-\udfff]")


# --------------------------------------------------------------------------- office ZIPs

def check_office_zip(path: str | Path, data: bytes, kind: str, fix: str) -> None:
    """Refuse a .docx/.xlsx (``kind`` names it in messages) whose ZIP directory declares too
    much: checked from the headers, before any member is inflated."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a ZIP at all: the format's own reader says what it expected
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_OFFICE_MEMBERS:
            raise InputError(path, f"the {kind} holds {len(infos):,} parts (more than "
                             f"{MAX_OFFICE_MEMBERS:,}), refused", fix)
        total = 0
        for info in infos:
            name = printable(info.filename)
            if info.flag_bits & 0x1:
                raise InputError(path, f"the {kind} is encrypted ({name})",
                                 "save it again without a password")
            if info.file_size > RATIO_FLOOR and \
                    info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputError(path, f"part {name} would inflate from "
                                 f"{info.compress_size:,} to {info.file_size:,} bytes "
                                 f"(compression ratio above {MAX_RATIO}), refused as a "
                                 "possible zip bomb", fix)
            if info.file_size > MAX_OFFICE_MEMBER:
                raise InputError(path, f"part {name} would inflate to {info.file_size:,} "
                                 f"bytes (more than {MAX_OFFICE_MEMBER // 2**20} MB), refused",
                                 fix)
            total += info.file_size
        if total > MAX_OFFICE_TOTAL:
            raise InputError(path, f"the {kind} would inflate to {total:,} bytes (more than "
                             f"{MAX_OFFICE_TOTAL // 2**20} MB), refused", fix)
