"""Reading and validating a codebook file (SPEC §4).

The file is YAML, parsed with ruamel.yaml's round-trip loader because it remembers the line of
every mapping, key and list item, so each problem is reported as ``FILE:LINE: what — how to fix``.

Validation **collects every problem** it can find in one pass (a YAML syntax error stops the pass,
as nothing after it can be read) and raises one :class:`CodebookInvalid` holding them in file
order; the CLI prints each as its own ``error:`` line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from coder.codebook.model import (
    COLOUR_RE, FULL_KEY_RE, KEY_RE, CodebookSpec, CodeSpec, compile_keyword, is_regex_keyword,
)
from coder.errors import InputError
from coder.fileio import read_input
from coder.safeio import check_yaml
from coder.lang import LANGUAGE_RE

TOP_FIELDS = ("name", "version", "description", "themes")
CODE_FIELDS = ("key", "label", "labels", "definition", "include", "exclude", "examples",
               "keywords", "colour", "codes", "renamed_from", "codable")
LANG_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
LIST_FIELDS = ("include", "exclude", "examples", "keywords")


class CodebookInvalid(InputError):
    """One or more problems in a codebook file; ``errors`` holds each as an :class:`InputError`.

    ``str()`` gives the first problem, then each further one on its own ``error: …`` line, so the
    CLI's single ``error: `` prefix yields one ``error:`` line per problem.
    """

    def __init__(self, errors: list[InputError]):
        self.errors = errors
        first = errors[0]
        super().__init__(first.path, first.problem, first.fix, line=first.line)

    def __reduce__(self):
        return self.__class__, (self.errors,)

    def render(self) -> str:
        return "\nerror: ".join(e.render() for e in self.errors)


def load_codebook_file(path: str | Path, encoding: str | None = None) -> CodebookSpec:
    """Read and validate the codebook file at ``path`` (UTF-8, or ``encoding``); raise
    :class:`CodebookInvalid` or :class:`InputError` (unreadable file) naming the file and line
    of each problem."""
    path = Path(path)
    data = read_input(path, "codebook file", "give the path of the codebook's .yaml file")
    if b"\x00" in data and not encoding:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise InputError(path, "a NUL byte: a binary file, not a codebook (YAML text)",
                         "give the codebook's .yaml file (UTF-8 text)", line=line)
    try:
        text = data.decode(encoding or "utf-8-sig")
    except LookupError:
        raise InputError(path, f"unknown encoding {encoding!r}",
                         "give a codec name such as cp1252 or cp1251") from None
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(path, f"not {encoding or 'UTF-8'} text",
                         "save the codebook as UTF-8, or pass --encoding (e.g. cp1251)",
                         line=line) from None
    text = text.lstrip("\ufeff")
    return parse_codebook(text, path)


def parse_codebook(text: str, path: str | Path | None = None) -> CodebookSpec:
    """Parse and validate codebook YAML ``text``; ``path`` only names it in errors."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    label = str(path) if path is not None else "<codebook>"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        check_yaml(text, label, fix="fix the codebook")
    except InputError as exc:
        raise CodebookInvalid([exc]) from None
    try:
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        raise CodebookInvalid([_syntax_error(label, exc)]) from None
    except YAMLError as exc:  # unmarked: rare (e.g. a bad directive)
        raise CodebookInvalid([InputError(label, f"not valid YAML ({exc})",
                                          "check the file's syntax")]) from None
    checker = _Checker(label)
    spec = checker.codebook(doc)
    if checker.errors:
        raise CodebookInvalid(sorted(checker.errors, key=lambda e: e.line or 0))
    spec.source = text
    spec.path = str(path) if path is not None else None
    return spec


def _syntax_error(label: str, exc: Any) -> InputError:
    problem = exc.problem or "invalid YAML"
    mark = exc.problem_mark
    if "duplicate key" in problem:
        m = re.search(r'duplicate key "(.*?)"', problem)
        name = m.group(1) if m else "?"
        first = exc.context_mark
        where = ""
        if first is not None:
            where = f" (the mapping starts on line {first.line + 1})"
        return InputError(label, f"duplicate field '{name}' in one mapping{where}",
                          "remove one of them or merge their values",
                          line=mark.line + 1 if mark else None)
    # An unclosed bracket or quote is only noticed at the end of the file: point at its start.
    if ("stream end" in problem or "end of stream" in problem) and exc.context_mark is not None:
        mark = exc.context_mark
    detail = f"{exc.context}: {problem}" if exc.context else problem
    context = exc.context_mark
    if context is not None and mark is not None and context.line != mark.line:
        detail += f" (the construct starts on line {context.line + 1})"
    return InputError(label, f"YAML syntax error: {detail}",
                      "check indentation, colons, quotes and brackets on this line",
                      line=mark.line + 1 if mark else None)


def _line(node: Any, default: int | None = None) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else default


def _key_line(mapping: Any, key: str) -> int | None:
    try:
        return mapping.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return _line(mapping)


def _value_line(mapping: Any, key: str) -> int | None:
    try:
        return mapping.lc.value(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return _key_line(mapping, key)


def _item_line(seq: Any, index: int, default: int | None) -> int | None:
    try:
        return seq.lc.item(index)[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return default


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return "text"


class _Checker:
    """One validation pass: builds the spec and records every problem it meets."""

    def __init__(self, label: str):
        self.label = label
        self.errors: list[InputError] = []
        self.codes: list[CodeSpec] = []
        self.seen: dict[str, int | None] = {}

    def error(self, line: int | None, problem: str, fix: str) -> None:
        self.errors.append(InputError(self.label, problem, fix, line=line))

    def codebook(self, doc: Any) -> CodebookSpec:
        if not isinstance(doc, dict):
            self.error(_line(doc, 1), f"the file is {_type_name(doc)}, not a codebook",
                       "write a mapping with name, version and themes (see SPEC §4)")
            return CodebookSpec(name="", version=None, codes=[])
        self.unknown_fields(doc, TOP_FIELDS, "the codebook")
        name = self.text(doc, "name", required=True, what="the codebook") or ""
        version = doc.get("version")
        if version is not None and (isinstance(version, bool)
                                    or not isinstance(version, (int, str))):
            self.error(_value_line(doc, "version"),
                       f"version is {_type_name(version)}, not a number or text",
                       "write e.g. `version: 1`")
            version = None
        description = self.text(doc, "description", what="the codebook")
        if "themes" not in doc:
            self.error(_line(doc, 1), "missing `themes` list",
                       "add `themes:` with one `- key: …` entry per theme")
        else:
            themes = doc["themes"]
            if not isinstance(themes, list) or not themes:
                self.error(_value_line(doc, "themes"),
                           f"`themes` is {_type_name(themes)}, not a list of themes",
                           "write one `- key: …` entry per theme under `themes:`")
            else:
                self.code_list(themes, None, _key_line(doc, "themes"))
        self.check_renames()
        return CodebookSpec(name=name, version=version, codes=self.codes,
                            description=description)

    def unknown_fields(self, mapping: dict, allowed: tuple[str, ...], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.error(_key_line(mapping, key), f"unknown field '{key}' in {what}",
                           "allowed fields: " + ", ".join(allowed))

    def text(self, mapping: dict, field: str, *, what: str, required: bool = False) -> str | None:
        if field not in mapping or mapping[field] is None:
            if required:
                self.error(_line(mapping), f"{what} has no {field}",
                           f"add `{field}: …`")
            return None
        value = mapping[field]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(_value_line(mapping, field),
                       f"{field} of {what} is {_type_name(value)}, not text",
                       f"write `{field}:` followed by text")
            return None
        value = str(value).strip()
        if required and not value:
            self.error(_value_line(mapping, field), f"{what} has an empty {field}",
                       f"write the {field} after `{field}:`")
        return value

    def labels(self, node: dict, what: str) -> dict[str, str]:
        """The optional ``labels: {en: …, ru: …}``: the label in other languages."""
        value = node.get("labels")
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(_value_line(node, "labels"), f"labels of {what} is "
                       f"{_type_name(value)}, not a mapping",
                       "write one `LANG: label` line per language, e.g. `ru: Реформы`")
            return {}
        out = {}
        for lang in value:
            if not isinstance(lang, str) or not LANG_RE.fullmatch(lang):
                self.error(_key_line(value, lang), f"bad language code '{lang}' in labels of "
                           f"{what}", "use a language code such as en, ru or kk")
                continue
            text = self.text(value, lang, what=f"{what}, labels", required=True)
            if text:
                out[lang] = text
        return out

    def text_list(self, mapping: dict, field: str, what: str) -> list[str]:
        if field not in mapping or mapping[field] is None:
            return []
        value = mapping[field]
        if isinstance(value, str):
            value = [value]
        elif not isinstance(value, list):
            self.error(_value_line(mapping, field),
                       f"{field} of {what} is {_type_name(value)}, not a list",
                       f"write `{field}: [first, second]` or one `- item` per line")
            return []
        items = []
        for i, item in enumerate(value):
            line = _item_line(value, i, _value_line(mapping, field))
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                self.error(line, f"item {i + 1} of {field} of {what} is {_type_name(item)}, "
                           "not text", "write each item as text (quote it if needed)")
                continue
            item = str(item).strip()
            if not item:
                self.error(line, f"item {i + 1} of {field} of {what} is empty",
                           "remove it or write the text")
                continue
            items.append(item)
        return items

    def code_list(self, seq: list, parent: str | None, line: int | None) -> None:
        for i, node in enumerate(seq):
            item_line = _item_line(seq, i, line)
            if not isinstance(node, dict):
                where = "theme" if parent is None else f"sub-code of {parent}"
                self.error(item_line, f"{where} {i + 1} is {_type_name(node)}, not a mapping",
                           "write each code as `- key: …` followed by `label: …` and its "
                           "other fields")
                continue
            self.code(node, parent)

    def code(self, node: dict, parent: str | None) -> None:
        line = _line(node)
        raw_key = node.get("key")
        key_ok = True
        if raw_key is None:
            self.error(line, "code has no key", "add `key: …` ([a-z][a-z0-9_]*)")
            raw_key, key_ok = f"?{line}", False
        elif not isinstance(raw_key, str) or not KEY_RE.fullmatch(raw_key):
            self.error(_value_line(node, "key"), f"bad key '{raw_key}'",
                       "a key is lower-case letters, digits and _, starting with a letter "
                       "(e.g. rapid_deployment)")
            raw_key, key_ok = str(raw_key), False
        full = f"{parent}.{raw_key}" if parent else raw_key
        what = f"code {full}" if key_ok else "this code"
        if key_ok:
            if full in self.seen:
                self.error(_value_line(node, "key"), f"duplicate code key '{full}' "
                           f"(first on line {self.seen[full]})",
                           "give each code a different key")
            else:
                self.seen[full] = _value_line(node, "key")
        self.unknown_fields(node, CODE_FIELDS, what)
        label = self.text(node, "label", what=what, required=True)
        labels = self.labels(node, what)
        definition = self.text(node, "definition", what=what) or ""
        lists = {field: self.text_list(node, field, what) for field in LIST_FIELDS
                 if field != "keywords"}
        lists["keywords"], by_language = self.keyword_lists(node, what)
        colour = self.text(node, "colour", what=what)
        if colour is not None and not COLOUR_RE.fullmatch(colour):
            self.error(_value_line(node, "colour"), f"colour '{colour}' of {what} is not "
                       "#rrggbb", "write a hex colour in quotes, e.g. colour: \"#1f77b4\"")
            colour = None
        codable = node.get("codable", True)
        if not isinstance(codable, bool):
            self.error(_value_line(node, "codable"), f"codable of {what} is "
                       f"{_type_name(codable)}, not true or false",
                       "write codable: false for a category that only groups its sub-codes")
            codable = True
        renamed = self.text(node, "renamed_from", what=what)
        if renamed is not None and not FULL_KEY_RE.fullmatch(renamed):
            self.error(_value_line(node, "renamed_from"),
                       f"renamed_from '{renamed}' of {what} is not a full code key",
                       "write the old full key, e.g. renamed_from: csto_efficacy.old_name")
            renamed = None
        if key_ok and full not in {c.key for c in self.codes}:
            self.codes.append(CodeSpec(
                key=full, label=label or "", parent=parent, definition=definition,
                colour=colour, renamed_from=renamed, position=len(self.codes), line=line,
                codable=codable,
                labels=labels, keywords_by_language=by_language, **lists))
        sub = node.get("codes")
        if sub is not None:
            if not isinstance(sub, list):
                self.error(_value_line(node, "codes"),
                           f"codes of {what} is {_type_name(sub)}, not a list of codes",
                           "write one `- key: …` entry per sub-code under `codes:`")
            elif key_ok:
                self.code_list(sub, full, _key_line(node, "codes"))

    def keyword_lists(self, node: dict, what: str) -> tuple[list[str], dict[str, list[str]]]:
        """``keywords:`` as a list (every language) or a mapping ``{any: […], ru: […], …}``
        of language codes to lists; every regex checked."""
        value = node.get("keywords")
        if not isinstance(value, dict):
            keywords = self.text_list(node, "keywords", what)
            self.check_keywords(node, keywords, what)
            return keywords, {}
        common: list[str] = []
        by_language: dict[str, list[str]] = {}
        for language in value:
            if not isinstance(language, str) or not (language == "any"
                                                     or LANGUAGE_RE.fullmatch(language)):
                self.error(_key_line(value, language), f"keywords of {what}: {language!r} is "
                           "not a language code", "use two or three letters (en, ru, kk) or "
                           "any for every language")
                continue
            items = self.text_list(value, language, f"{what} ({language})")
            self.check_keywords(value, items, what, field=language)
            if language == "any":
                common = items
            elif items:
                by_language[language] = items
        return common, by_language

    def check_keywords(self, node: dict, keywords: list[str], what: str,
                       field: str = "keywords") -> None:
        seq = node.get(field)
        for i, keyword in enumerate(keywords):
            if not is_regex_keyword(keyword):
                continue
            line = _item_line(seq, i, _value_line(node, field))
            if keyword == "//":
                self.error(line, f"empty regular expression in keywords of {what}",
                           "write a pattern between the slashes, or remove it")
                continue
            try:
                compile_keyword(keyword)
            except re.error as exc:
                self.error(line, f"keyword {keyword} of {what} is not a valid regular "
                           f"expression ({exc})", "fix the pattern between the slashes "
                           "(Python `re` syntax)")

    def check_renames(self) -> None:
        sources: dict[str, str] = {}
        for code in self.codes:
            old = code.renamed_from
            if old is None:
                continue
            if old == code.key:
                self.error(code.line, f"code {code.key} is renamed from itself",
                           "remove renamed_from or give the old key")
            elif old in self.seen:
                self.error(code.line, f"code {code.key} is renamed from {old}, which is "
                           "still in the codebook", "remove renamed_from, or remove or "
                           f"rename {old}")
            elif old in sources:
                self.error(code.line, f"codes {sources[old]} and {code.key} are both "
                           f"renamed from {old}", "keep renamed_from on one of them")
            else:
                sources[old] = code.key
