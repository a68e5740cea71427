"""Reading a ``.qdpx`` archive into a :class:`~coder.refi.model.RefiProject` (no database).

Handles what the established tools actually write (``../shared/refi/NOTES.md`` §5):

- the project file is any single ``*.qde`` (ATLAS.ti names it after the project), any case;
- ``Sources/`` or ``sources/``, looked up case-insensitively; ``internal://`` paths, and bare
  file names of members (qc's writer) — ``relative://`` and ``absolute://`` sources are skipped
  with a warning, never read from disk;
- any namespace (``urn:QDA-XML:project:1.0``, ``…:0:4``, none): elements match by local name;
- text with or without BOM, CRLF or LF; positions converted per :mod:`coder.refi.positions`;
- an empty ``.txt`` next to a ``.docx`` (NVivo for Mac): the text is taken from the docx;
- schema-invalid but readable files (empty containers, odd GUIDs) are read, not refused.
"""

from __future__ import annotations

from pathlib import Path

from coder.errors import InputError
from coder.refi.codebook import read_codes
from coder.refi.model import (
    RefiCase, RefiCoding, RefiNote, RefiProject, RefiSelection, RefiSet, RefiSource, RefiUser,
    norm_guid,
)
from coder.refi.positions import PlainText, decide_units
from coder.refi.safe import SafeArchive, child, children, decode_text, local, parse_xml, text_of

_FIX = "export the project again from your QDA software"
_MEDIA = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


def find_qde(archive: SafeArchive):
    """The project file of a ``.qdpx``: ``project.qde``, else the only ``*.qde`` in it."""
    qdes = [info for info in archive.members() if info.filename.lower().endswith(".qde")]
    if not qdes:
        raise InputError(archive.path, "no project file (*.qde) in the archive — is this a "
                         "REFI-QDA project (.qdpx)?", _FIX)
    if len(qdes) > 1:
        named = [info for info in qdes if info.filename.lower() == "project.qde"]
        if len(named) != 1:
            raise InputError(archive.path, "several project files (*.qde) in the archive: "
                             + ", ".join(info.filename for info in qdes), _FIX)
        return named[0]
    return qdes[0]


def read_qdpx(path: str | Path) -> RefiProject:
    """Read, check and convert a ``.qdpx`` project. Raises :class:`InputError` for an unsafe
    or unreadable archive or XML; oddities that can be read around become warnings."""
    path = Path(path)
    with SafeArchive(path) as archive:
        info = find_qde(archive)
        label = archive.label(info)
        root = parse_xml(archive.read(info), label)
        if local(root) == "CodeBook":
            raise InputError(label, "this is a REFI-QDA codebook, not a project",
                             "import it with `coder codebook import FILE`")
        if local(root) != "Project":
            raise InputError(label, f"the root element is <{local(root)}>, not <Project>", _FIX)
        project = RefiProject(path=path, name=(root.get("name") or path.stem).strip(),
                              origin=(root.get("origin") or "").strip(),
                              creating_user=norm_guid(root.get("creatingUserGUID")))
        _read_users(root, project)
        book = child(root, "CodeBook")
        codes = child(book, "Codes") if book is not None else None
        project.codes = read_codes(codes, path) if codes is not None else []
        _read_variables(root, project)
        _read_cases(root, project)
        _read_notes(root, project)
        _read_sets(root, project)
        sources = child(root, "Sources")
        if sources is not None:
            _read_sources(sources, project, archive)
    _convert_positions(project)
    return project


def _read_users(root, project: RefiProject) -> None:
    users = child(root, "Users")
    for element in children(users, "User") if users is not None else []:
        guid = norm_guid(element.get("guid"))
        if guid:
            project.users.append(RefiUser(guid=guid, name=element.get("name"),
                                          id=element.get("id")))


def _value(element) -> str | None:
    """The value of a ``VariableValue`` of any type, as text."""
    for name in ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue",
                 "DateTimeValue"):
        value = text_of(element, name)
        if value is not None:
            return value.strip()
    return None


def _values(element) -> dict[str, str]:
    found = {}
    for item in children(element, "VariableValue"):
        ref = child(item, "VariableRef")
        guid = norm_guid(ref.get("targetGUID")) if ref is not None else None
        value = _value(item)
        if guid and value not in (None, ""):
            found[guid] = value
    return found


def _read_variables(root, project: RefiProject) -> None:
    variables = child(root, "Variables")
    for element in children(variables, "Variable") if variables is not None else []:
        guid, name = norm_guid(element.get("guid")), (element.get("name") or "").strip()
        if guid and name:
            project.variables[guid] = name


def _read_cases(root, project: RefiProject) -> None:
    cases = child(root, "Cases")
    for element in children(cases, "Case") if cases is not None else []:
        guid = norm_guid(element.get("guid")) or ""
        project.cases.append(RefiCase(
            guid=guid, name=(element.get("name") or "").strip() or None,
            values=_values(element),
            sources=[g for ref in children(element, "SourceRef")
                     if (g := norm_guid(ref.get("targetGUID")))]))


def _read_notes(root, project: RefiProject) -> None:
    notes = child(root, "Notes")
    for element in children(notes, "Note") if notes is not None else []:
        guid = norm_guid(element.get("guid"))
        if not guid:
            continue
        text = text_of(element, "PlainTextContent")
        if text is None:
            text = text_of(element, "Description") or ""
        project.notes[guid] = RefiNote(guid=guid, name=element.get("name") or "",
                                       text=text.strip(),
                                       user=norm_guid(element.get("creatingUser")))
        if element.get("plainTextPath") and not text:
            project.warnings.append(f"{project.path}: note {element.get('name')!r} keeps its "
                                    "text in a file; only inline note text is imported")


def _read_sets(root, project: RefiProject) -> None:
    sets = child(root, "Sets")
    for element in children(sets, "Set") if sets is not None else []:
        project.sets.append(RefiSet(
            guid=norm_guid(element.get("guid")) or "", name=(element.get("name") or "").strip(),
            sources=[g for ref in children(element, "MemberSource")
                     if (g := norm_guid(ref.get("targetGUID")))],
            codes=[g for ref in children(element, "MemberCode")
                   if (g := norm_guid(ref.get("targetGUID") or ref.get("guid")))]))


def _codings(element) -> list[RefiCoding]:
    found = []
    for coding in children(element, "Coding"):
        ref = child(coding, "CodeRef")
        found.append(RefiCoding(
            guid=norm_guid(coding.get("guid")),
            code=norm_guid(ref.get("targetGUID")) if ref is not None else None,
            user=norm_guid(coding.get("creatingUser")), notes=_note_refs(coding)))
    return found


def _note_refs(element) -> list[str]:
    return [g for ref in children(element, "NoteRef") if (g := norm_guid(ref.get("targetGUID")))]


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def _read_sources(sources, project: RefiProject, archive: SafeArchive) -> None:
    media: dict[str, int] = {}
    for element in sources:
        kind = local(element)
        if kind in _MEDIA:
            media[kind] = media.get(kind, 0) + 1
            continue
        if kind != "TextSource":
            continue
        guid = norm_guid(element.get("guid")) or f"source-{len(project.sources) + 1}"
        source = RefiSource(guid=guid, name=(element.get("name") or "").strip() or guid,
                            codings=_codings(element), notes=_note_refs(element),
                            values=_values(element))
        _read_plain_text(element, source, archive)
        for sel in children(element, "PlainTextSelection"):
            start, end = _int(sel.get("startPosition")), _int(sel.get("endPosition"))
            if start is None or end is None:
                project.warnings.append(f"{project.path}: a selection in {source.name!r} has "
                                        "no valid start/end position; skipped")
                continue
            source.selections.append(RefiSelection(
                guid=norm_guid(sel.get("guid")), name=sel.get("name") or "",
                raw_start=start, raw_end=end, user=norm_guid(sel.get("creatingUser")),
                description=(text_of(sel, "Description") or "").strip(),
                codings=_codings(sel), notes=_note_refs(sel)))
        if source.skipped:
            project.warnings.append(f"{project.path}: source {source.name!r} skipped — "
                                    f"{source.skipped}")
        project.sources.append(source)
    if media:
        listing = ", ".join(f"{n} {kind}" for kind, n in sorted(media.items()))
        project.warnings.append(f"{project.path}: {listing} not imported — coder works on "
                                "text transcripts only")


def _read_plain_text(element, source: RefiSource, archive: SafeArchive) -> None:
    inline = text_of(element, "PlainTextContent")
    if inline is not None and inline.strip():
        source.raw = inline
        return
    path = (element.get("plainTextPath") or "").strip()
    if not path:
        source.skipped = "it has neither PlainTextContent nor a plainTextPath"
        return
    internal = path[len("internal://"):] if path.lower().startswith("internal://") else None
    if internal is None and "://" not in path:  # qc writes the bare name of a file it packed
        internal = path if archive.find_source(path) is not None else None
    if internal is None:
        source.skipped = (f"its text is an external file ({path}); only files inside the "
                          "archive are read")
        return
    info = archive.find_source(internal)
    if info is None:
        source.skipped = f"{path} is not in the archive"
        return
    raw = decode_text(archive.read(info), archive.label(info))
    if not raw.strip():  # NVivo for Mac writes an empty .txt and keeps the text in the docx
        rich = (element.get("richTextPath") or "").strip()
        if rich.lower().startswith("internal://") and rich.lower().endswith(".docx"):
            docx_info = archive.find_source(rich[len("internal://"):])
            if docx_info is not None:
                raw = docx_text(archive.read(docx_info), archive.label(docx_info),
                                limit=archive.limit - archive.total)
    if not raw.strip():
        source.skipped = "its plain text is empty"
        return
    source.raw = raw


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_text(data: bytes, label: str, limit: int) -> str:
    """Paragraph text of a .docx held in memory, read with the same hardening and at most
    ``limit`` bytes inflated (python-docx would inflate the nested archive without bounds)."""
    import io

    with SafeArchive(io.BytesIO(data), label=label, limit=limit) as inner:
        info = inner.find("word/document.xml")
        if info is None:
            raise InputError(label, "not a Word document (no word/document.xml)", _FIX)
        root = parse_xml(inner.read(info), f"{label}:word/document.xml")
    breaks = {f"{_W}tab": "\t", f"{_W}br": "\n"}
    return "\n".join(
        "".join(breaks.get(node.tag, node.text or "")
                for node in para.iter(f"{_W}t", f"{_W}tab", f"{_W}br"))
        for para in root.iter(f"{_W}p"))


def _convert_positions(project: RefiProject) -> None:
    """Pick the position convention and convert every selection to text offsets."""
    texts = []
    for source in project.sources:
        if source.raw is None:
            continue
        plain = PlainText(source.raw)
        source.text = plain.text
        texts.append((source, plain))
    choice = decide_units(project.origin, [
        (plain, [(s.name, s.raw_start, s.raw_end) for s in source.selections])
        for source, plain in texts])
    units = choice.units
    project.units = units.describe()
    if choice.weak:
        project.warnings.append(f"{project.path}: {choice.weak}")
    for source, plain in texts:
        for sel in source.selections:
            span = plain.convert(sel.raw_start, sel.raw_end, units)
            if span is None or span[0] == span[1]:
                why = "is empty" if span else (f"lies outside the text (positions "
                                               f"{sel.raw_start}–{sel.raw_end}, text length "
                                               f"{plain.length(units)})")
                project.warnings.append(f"{project.path}: selection {sel.name or sel.guid!r} "
                                        f"in {source.name!r} {why}; skipped")
                continue
            sel.start, sel.end = span
