"""Codes both ways between coder's codebook and REFI-QDA ``Code`` elements, and ``.qdc`` files.

**coder → REFI.** A code becomes ``<Code guid name isCodable="true" color>``, nested under its
parent; ``name`` is the label. Its ``Description`` carries the definition, then the criteria as
plain-text sections other programs show as they are, and the key, so that coder reads the same
codebook back::

    How the January crisis changed who holds power …

    Include:
    - statements about the relationship between …

    Exclude:
    - constitutional amendments … (use reforms)

    Examples:
    - "After January there was only one centre of power left …"

    Keywords:
    - transfer of power

    Key: power_transfer

**REFI → coder** (:func:`codebook_from_refi`): the label is the code's ``name`` (the last part
of an ATLAS.ti 8 ``Parent::Child`` name, whose parents are created when missing). The key is
the ``Key:`` line when there is one, else derived from the name: accents dropped, Cyrillic
transliterated, lower-cased, every run of other characters → ``_``, a ``c`` in front when it
does not start with a letter (``1. Oltás típusa`` → ``c1_oltas_tipusa``), and ``_2``, ``_3``
… against a sibling with the same key. The sections above, where present, become definition,
include, exclude, examples and keywords; otherwise the whole description is the definition.
Colours ``#RRGGBB`` are kept, ``#RGB`` expanded, others dropped with a warning.
``isCodable="false"`` codes become categories (``codable: false``): they group their sub-codes
and are never applied themselves (one that the project codes all the same stays a code).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from coder.codebook.model import KEY_RE, CodebookSpec, CodeSpec, CodeTree, compile_keyword
from coder.errors import InputError
from coder.fileio import read_input
from coder.refi.model import RefiCode, norm_guid
from coder.refi.safe import SafeArchive, child, children, local, parse_xml, text_of

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
SECTIONS = (("include", "Include"), ("exclude", "Exclude"), ("examples", "Examples"),
            ("keywords", "Keywords"))
_HEADER = {title.lower() + ":": name for name, title in SECTIONS}
_KEY_LINE = re.compile(r"^key:\s*([a-z][a-z0-9_]*)\s*$", re.IGNORECASE)
KEY_MAX = 48

# ------------------------------------------------------------------------------ descriptions


def describe(code: CodeSpec) -> str:
    """The ``Description`` text of a code: definition, criteria sections, key line."""
    parts = [code.definition.strip()] if code.definition.strip() else []
    sections = [(title, getattr(code, name)) for name, title in SECTIONS]
    sections += [(f"Keywords ({language})", items)
                 for language, items in code.keywords_by_language.items()]
    for title, items in sections:
        if items:
            lines = [f"{title}:"]
            for item in items:
                first, *rest = item.split("\n")
                lines.append(f"- {first}")
                lines.extend(f"  {more}" for more in rest)
            parts.append("\n".join(lines))
    parts.append(f"Key: {code.name}")
    return "\n\n".join(parts)


def parse_description(text: str) -> dict:
    """A description → ``{"definition", "include", "exclude", "examples", "keywords", "key"}``.

    Lines ``Include:``, ``Exclude:``, ``Examples:``, ``Keywords:`` (alone on their line) open a
    section of ``- item`` lines (an indented line continues the item); ``Key: name`` gives the
    key. Everything before the first of these is the definition.
    """
    result: dict = {"definition": "", "key": None, **{name: [] for name, _ in SECTIONS},
                    "keywords_by_language": {}}
    definition: list[str] = []
    section: str | None = None
    started = False
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        header = line.strip().lower()
        key = _KEY_LINE.match(line.strip())
        by_language = _KEYWORDS_LANGUAGE.fullmatch(header)
        if by_language:  # "Keywords (ru):" — one language's keywords
            section, started = f"keywords:{by_language.group(1)}", True
            result["keywords_by_language"].setdefault(by_language.group(1), [])
        elif header in _HEADER:
            section, started = _HEADER[header], True
        elif key:
            result["key"], section, started = key.group(1).lower(), None, True
        elif not started:
            definition.append(line)
        elif section and line.startswith("- "):
            _section(result, section).append(line[2:].strip())
        elif section and line.startswith("  ") and _section(result, section) and line.strip():
            _section(result, section)[-1] += "\n" + line.strip()
        elif line.strip():  # text after the sections: keep it in the definition
            definition.append(line)
            section = None
    result["definition"] = "\n".join(definition).strip()
    return result


_KEYWORDS_LANGUAGE = re.compile(r"keywords \(([a-z]{2,3})\):")


def _section(result: dict, section: str) -> list[str]:
    if section.startswith("keywords:"):
        return result["keywords_by_language"][section.split(":", 1)[1]]
    return result[section]


# ------------------------------------------------------------------------------ keys

_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґқңүұһөә",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "i",
     "i", "ye", "g", "q", "ng", "u", "u", "h", "o", "a"]))


def ascii_fold(text: str) -> str:
    """Accents dropped (NFKD without combining marks) and Cyrillic transliterated."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(_CYRILLIC.get(ch.lower(), ch) if ch.lower() in _CYRILLIC else ch
                   for ch in plain)


def key_from_name(name: str) -> str:
    """A code key (``[a-z][a-z0-9_]*``) from a code name."""
    key = re.sub(r"[^a-z0-9]+", "_", ascii_fold(name).lower()).strip("_")
    if not key:
        key = "code"
    if not key[0].isalpha():
        key = "c" + key
    return key[:KEY_MAX].rstrip("_")


def _unique(key: str, taken: set[str]) -> str:
    if key not in taken:
        return key
    n = 2
    while f"{key}_{n}" in taken:
        n += 1
    return f"{key}_{n}"


def normalise_colour(value: str | None) -> str | None:
    """``#RRGGBB`` as given, ``#RGB`` expanded, ``#RRGGBBAA`` without alpha; else ``None``."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return value
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        return "#" + "".join(ch * 2 for ch in value[1:])
    if re.fullmatch(r"#[0-9a-fA-F]{8}", value):
        return value[:7]
    return None


# ------------------------------------------------------------------------------ reading

def read_codes(codes_element, label: str | Path | None = None, depth: int = 0
               ) -> list[RefiCode]:
    """``<Codes>`` (or a ``<Code>``'s children) → RefiCode trees, in document order.

    Codes nested more than :data:`coder.safeio.MAX_CODE_DEPTH` deep are refused (``label``
    names the file): the trees are walked recursively here and in the codebook's checks."""
    from coder.safeio import MAX_CODE_DEPTH

    found = []
    for element in children(codes_element, "Code"):
        if depth >= MAX_CODE_DEPTH:
            raise InputError(label or "the codebook", f"codes nested more than "
                             f"{MAX_CODE_DEPTH} levels deep", "flatten the code hierarchy in "
                             "your QDA software and export it again", line=element.sourceline)
        guid = norm_guid(element.get("guid")) or f"missing:{id(element)}"
        found.append(RefiCode(
            guid=guid, name=(element.get("name") or "").strip(),
            codable=(element.get("isCodable") or "true").strip().lower() not in ("false", "0"),
            colour=element.get("color"), description=text_of(element, "Description") or "",
            children=read_codes(element, label, depth + 1)))
    return found


@dataclass
class CodebookMapping:
    """A codebook built from REFI codes: the spec, ``{GUID: full key}``, and what was odd."""

    spec: CodebookSpec
    keys: dict[str, str]
    warnings: list[str] = field(default_factory=list)


def codebook_from_refi(codes: list[RefiCode], name: str, label: str) -> CodebookMapping:
    """Turn REFI code trees into a :class:`CodebookSpec` (see the module docstring for rules).

    ``label`` names the file in warnings.
    """
    out: list[CodeSpec] = []
    keys: dict[str, str] = {}
    warnings: list[str] = []
    taken: dict[str | None, set[str]] = {}
    by_label: dict[tuple[str | None, str], CodeSpec] = {}  # for "::" parents
    placeholders: set[str] = set()  # parents made up from "A::B" names, not (yet) seen as codes

    def fill(spec: CodeSpec, code: RefiCode) -> None:
        fields = parse_description(code.description)
        spec.definition = fields["definition"]
        for section, _title in SECTIONS:
            setattr(spec, section, fields[section])
        spec.keywords = []
        spec.keywords_by_language = {}
        for language, keyword in [(None, k) for k in fields["keywords"]] + [
                (lang, k) for lang, ks in fields["keywords_by_language"].items() for k in ks]:
            try:
                compile_keyword(keyword)
                (spec.keywords if language is None else
                 spec.keywords_by_language.setdefault(language, [])).append(keyword)
            except re.error:
                warnings.append(f"{label}: keyword {keyword} of code {spec.label!r} is not a "
                                "valid regular expression; left out")
        spec.codable = code.codable
        spec.colour = normalise_colour(code.colour)
        if code.colour and spec.colour is None:
            warnings.append(f"{label}: colour {code.colour!r} of code {spec.label!r} is not "
                            "#RRGGBB; left out")

    def add(code: RefiCode | None, label_text: str, parent: str | None) -> CodeSpec:
        wanted = parse_description(code.description)["key"] if code else None
        siblings = taken.setdefault(parent, set())
        short = _unique(wanted if wanted and KEY_RE.fullmatch(wanted)
                        else key_from_name(label_text), siblings)
        siblings.add(short)
        spec = CodeSpec(key=f"{parent}.{short}" if parent else short,
                        label=label_text or short, parent=parent, position=len(out))
        if code is None:
            placeholders.add(spec.key)
        else:
            fill(spec, code)
        out.append(spec)
        by_label.setdefault((parent, label_text), spec)
        return spec

    def walk(code: RefiCode, parent: str | None) -> None:
        parts = [p.strip() for p in code.name.split("::")] if "::" in code.name else [code.name]
        for part in parts[:-1]:  # ATLAS.ti 8 flattens the tree as Parent::Child
            found = by_label.get((parent, part))
            parent = (found or add(None, part, parent)).key
        found = by_label.get((parent, parts[-1]))
        if found is not None and found.key in placeholders:
            placeholders.discard(found.key)  # the parent named by "A::B" turns up itself
            fill(found, code)
            spec = found
        else:
            spec = add(code, parts[-1], parent)
        keys[code.guid] = spec.key
        for sub in code.children:
            walk(sub, spec.key)

    for code in codes:
        walk(code, None)
    spec = CodebookSpec(name=name, version=None, codes=out, path=label)
    return CodebookMapping(spec=spec, keys=keys, warnings=warnings)


def _starts_with(path: Path, magic: bytes) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(magic)) == magic


@dataclass
class QdcCodebook:
    mapping: CodebookMapping
    origin: str


def read_qdc(path: str | Path) -> QdcCodebook:
    """Read a codebook from a ``.qdc`` file (or the ``CodeBook`` of a ``.qdpx`` project)."""
    path = Path(path)
    if path.is_file() and _starts_with(path, b"PK\x03\x04"):
        from coder.refi.read import find_qde  # here: coder.refi.read imports this module

        with SafeArchive(path) as archive:
            info = find_qde(archive)
            root = parse_xml(archive.read(info), archive.label(info))
        if local(root) != "Project":
            raise InputError(path, f"the project file's root is <{local(root)}>, not <Project>",
                             "export the project again from your QDA software")
        book = child(root, "CodeBook")
        codes = child(book, "Codes") if book is not None else None
        name, origin = root.get("name") or path.stem, root.get("origin") or ""
    else:
        data = read_input(path, ".qdc file", "give the path of the exported .qdc codebook")
        root = parse_xml(data, path)
        if local(root) == "Project":
            raise InputError(path, "this is a REFI-QDA project, not a codebook",
                             "import projects with `coder import FILE.qdpx`")
        if local(root) != "CodeBook":
            raise InputError(path, f"not a REFI-QDA codebook: the root element is "
                             f"<{local(root)}>, not <CodeBook>",
                             "give a .qdc file exported by a QDA program")
        codes, name, origin = child(root, "Codes"), path.stem, root.get("origin") or ""
    found = read_codes(codes, path) if codes is not None else []
    if not found:
        raise InputError(path, "the codebook has no codes", "export a codebook with codes")
    mapping = codebook_from_refi(found, name, str(path))
    code_sets = child(root, "Sets") if local(root) == "CodeBook" else None
    if code_sets is not None and (n := len(children(code_sets, "Set"))):
        mapping.warnings.append(f"{path}: {n} code set(s) (code groups) not imported — coder "
                                "groups codes by their hierarchy only")
    return QdcCodebook(mapping=mapping, origin=origin)


def load_refi_codebook(conn, spec: CodebookSpec, *, drop: bool = False):
    """Make ``spec`` the current codebook unless its codes equal the current ones.

    Returns :class:`coder.codebook.LoadResult` (``status`` created | unchanged). The stored
    source of a new version is the codebook as YAML, so ``coder codebook export`` and a later
    ``coder codebook load`` of it behave as for any codebook.
    """
    from coder.codebook import LoadResult, current_codebook, diff_codebooks, load_codebook
    from coder.codebook.export import export_yaml

    current = current_codebook(conn)
    if current is not None and diff_codebooks(current, spec).is_empty:
        return LoadResult("unchanged", current.version, current.id, codebook=current)
    return load_codebook(conn, spec, export_yaml(spec), drop=drop)


def load_qdc(project, book: QdcCodebook, *, drop: bool = False):
    """Load a codebook read by :func:`read_qdc` into ``project`` in one transaction.

    Returns the :class:`coder.codebook.LoadResult`.
    """
    with project.write() as conn:
        return load_refi_codebook(conn, book.mapping.spec, drop=drop)


# ------------------------------------------------------------------------------ writing

def code_elements(maker, book: CodeTree, guid_of) -> list:
    """``<Code>`` elements for the themes of ``book``, sub-codes nested; ``maker`` is an lxml
    ElementMaker in the target namespace, ``guid_of(key)`` the code's GUID."""

    def element(code: CodeSpec):
        attrs = {"guid": guid_of(code.key), "name": code.label or code.name,
                 "isCodable": "true" if code.codable else "false"}
        if code.colour:
            attrs["color"] = code.colour
        return maker.Code(maker.Description(describe(code)),
                          *[element(sub) for sub in book.children(code.key)], **attrs)

    return [element(theme) for theme in book.themes]
