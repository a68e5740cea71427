"""Markdown: optional YAML front matter between ``---`` lines, then speaker-labelled turns.

Turns are ``**Label:** text``, ``**Label**: text`` or ``Label: text`` (the label rule of
:mod:`coder.importers.text`), also with a list bullet and a time before the label
(``- [00:02.07 - 00:02.51] **Speaker 1**: text``) or a time after a bold label
(``**Emma** [0:18] text``). HTML entities in the text are decoded. Headings (``# …``) and thematic breaks (``---``) separate
paragraphs and are otherwise ignored. Front matter is read with ruamel.yaml's safe loader;
values become strings (lists joined with ", ", dates as ISO 8601, booleans as true/false).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

from coder.errors import InputError
from coder.importers.base import Turn
from coder.importers.text import paragraphs, turns_from_paragraphs
from coder.safeio import check_yaml

_FENCE = "---"
_IGNORED = re.compile(r"^\s{0,3}(#{1,6}(\s|$)|([-*_]\s*){3,}$)")


def parse(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """Markdown → (unmerged turns, front matter as str → str)."""
    lines = text.split("\n")
    meta: dict[str, str] = {}
    body_start = 0
    if lines and lines[0].strip() == _FENCE:
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in (_FENCE, "...")), None)
        if end is None:
            raise InputError(path, "front matter is not closed",
                             "end it with a line holding only `---`", line=1)
        meta = front_matter(path, "\n".join(lines[1:end]), first_line=2)
        body_start = end + 1
    # Markdown written for the web often carries HTML entities (&#39;, &quot;) in its text.
    body = ["" if _IGNORED.match(line) else (html.unescape(line) if "&" in line else line)
            for line in lines[body_start:]]
    blocks = paragraphs("\n".join(body), first_line=body_start + 1)
    return turns_from_paragraphs(blocks), meta


def front_matter(path: Path, source: str, first_line: int) -> dict[str, str]:
    """YAML mapping → flat dict of strings; errors carry the file line."""
    from ruamel.yaml import YAML, YAMLError

    check_yaml(source, path, first_line=first_line, fix="fix the front matter")
    try:
        data = YAML(typ="safe", pure=True).load(source)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line - 1
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        raise InputError(path, f"malformed front matter: {problem}",
                         "fix the YAML between the `---` lines (`key: value` per line)",
                         line=line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(path, "front matter is not a mapping",
                         "write it as `key: value` lines", line=first_line)
    meta: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            at = next((n for n, text in enumerate(source.split("\n"), start=first_line)
                       if text.startswith(f"{key}:")), first_line - 1)
            raise InputError(path, f"front matter key {key!r} holds a nested mapping",
                             "give each attribute as a plain `key: value` line", line=at)
        meta[str(key)] = _as_string(value)
    return meta


def _as_string(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(_as_string(v) for v in value)
    return str(value)
