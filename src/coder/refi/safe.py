"""Reading untrusted REFI-QDA files: the ZIP container of a ``.qdpx`` and the XML inside it.

A ``.qdpx`` or ``.qdc`` comes from someone else's computer, so nothing in it is trusted:

- **Member names** are checked before anything is read: an absolute path, a drive letter, a
  ``..`` component or a NUL byte (the "zip slip" of archive extractors) refuses the whole
  archive. Members are never extracted to disk; they are read into memory by name.
- **Decompression is bounded**: at most :data:`MAX_MEMBERS` members and
  :data:`MAX_TOTAL_BYTES` uncompressed in all; a member larger than :data:`RATIO_FLOOR` whose
  declared size is more than :data:`MAX_RATIO` times its compressed size is refused from the
  header, before it is inflated. Members are read in :data:`CHUNK`-sized pieces and reading
  stops as soon as a member grows past its declared size or the total past the cap, so a
  header that lies cannot make us inflate more.
- **XML** is parsed by lxml with entity resolution, DTD loading and network access off and
  libxml2's huge-tree limits on (``huge_tree=False``), and a resolver that fails the parse if
  libxml2 still tries to load anything external; a document whose DOCTYPE declares entities
  (XXE, "billion laughs") or names an external DTD is refused, checked on the raw bytes before
  parsing and on the parsed DTD after it (the checks of defusedxml's lxml module).

Every refusal is an :class:`~coder.errors.InputError` naming the archive (and member).
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path, PurePosixPath

from lxml import etree

from coder.errors import InputError

MAX_TOTAL_BYTES = 512 * 2**20   # uncompressed bytes read from one archive
MAX_RATIO = 100                 # declared uncompressed / compressed size of one member
RATIO_FLOOR = 2**20             # smaller members are not ratio-checked (XML compresses well)
MAX_MEMBERS = 10_000
CHUNK = 2**20

_FIX_EXPORT = "export the project again from your QDA software"


def member_problem(name: str) -> str | None:
    """Why the member name is unsafe to honour (zip slip), or ``None`` when it is fine."""
    if "\x00" in name:
        return "contains a NUL byte"
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        return "is an absolute path"
    if ".." in unified.split("/"):
        return "climbs out of the archive with '..'"
    return None


class SafeArchive:
    """A ZIP archive opened for bounded, in-memory reading of its members.

    Use as a context manager. :meth:`find` looks names up case-insensitively (NVivo writes
    ``Sources/``, others ``sources/``); :meth:`read` returns a member's bytes.
    """

    def __init__(self, path, *, label: str | None = None, limit: int = MAX_TOTAL_BYTES):
        """``path`` is a file path, or a binary file object named by ``label`` in messages;
        ``limit`` caps the bytes inflated in all (a nested archive gets what is left)."""
        self.path = Path(label) if label is not None else Path(path)
        self.limit = limit
        self.total = 0
        try:
            self.zip = zipfile.ZipFile(path if label is not None else self.path)
        except FileNotFoundError:
            raise InputError(self.path, "no such file", "check the path") from None
        except IsADirectoryError:
            raise InputError(self.path, "is a folder, not a .qdpx file",
                             "give the path of the exported .qdpx file") from None
        except (zipfile.BadZipFile, OSError, ValueError):
            raise InputError(self.path, "not a REFI-QDA project (.qdpx): not a ZIP archive",
                             _FIX_EXPORT) from None
        try:
            self._check_members()
        except Exception:
            self.zip.close()
            raise
        self._by_lower = {info.filename.replace("\\", "/").lower(): info
                          for info in self.zip.infolist() if not info.is_dir()}

    def _check_members(self) -> None:
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InputError(self.path, f"the archive has {len(infos)} members (more than "
                             f"{MAX_MEMBERS}) — refused", _FIX_EXPORT)
        declared = 0
        for info in infos:
            problem = member_problem(info.filename)
            if problem:
                raise InputError(self.path, f"unsafe member name {info.filename!r}: it "
                                 f"{problem} — refused", "this archive was not written by a "
                                 "QDA program; do not use it")
            if info.flag_bits & 0x1:
                raise InputError(self.path, f"member {info.filename!r} is encrypted",
                                 "export the project again without a password")
            if info.file_size > RATIO_FLOOR and \
                    info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputError(self.path, f"member {info.filename!r} would inflate from "
                                 f"{info.compress_size:,} to {info.file_size:,} bytes "
                                 f"(compression ratio above {MAX_RATIO}) — refused as a "
                                 "possible zip bomb", _FIX_EXPORT)
            declared += info.file_size
        if declared > self.limit:
            raise InputError(self.path, f"the archive would inflate to {declared:,} bytes "
                             f"(more than {self.limit // 2**20} MB) — refused",
                             "split the project, or export it without media files")

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()

    def label(self, info: zipfile.ZipInfo) -> str:
        """How messages name a member: ``ARCHIVE:MEMBER``."""
        return f"{self.path}:{info.filename}"

    def names(self) -> list[str]:
        return [info.filename for info in self.zip.infolist() if not info.is_dir()]

    def members(self) -> list[zipfile.ZipInfo]:
        return [info for info in self.zip.infolist() if not info.is_dir()]

    def find(self, *candidates: str) -> zipfile.ZipInfo | None:
        """The first member whose name equals one of ``candidates``, ignoring case."""
        for name in candidates:
            info = self._by_lower.get(name.replace("\\", "/").lower())
            if info is not None:
                return info
        return None

    def find_source(self, internal: str) -> zipfile.ZipInfo | None:
        """The member an ``internal://NAME`` path points at: ``sources/NAME`` in any case, or
        ``NAME`` at the top, or any member of that file name (some writers nest folders)."""
        name = str(PurePosixPath(internal.replace("\\", "/").lstrip("/")))
        found = self.find(f"sources/{name}", name)
        if found is not None:
            return found
        base = PurePosixPath(name).name.lower()
        matches = [info for low, info in self._by_lower.items()
                   if PurePosixPath(low).name == base]
        return matches[0] if len(matches) == 1 else None

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """The member's bytes, inflated in chunks within the size limits."""
        parts: list[bytes] = []
        size = 0
        try:
            with self.zip.open(info) as handle:
                while True:
                    chunk = handle.read(CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    self.total += len(chunk)
                    if size > info.file_size:
                        raise InputError(self.label(info), "the member inflates past its "
                                         "declared size — refused", _FIX_EXPORT)
                    if self.total > self.limit:
                        raise InputError(self.path, "the archive inflates to more than "
                                         f"{self.limit // 2**20} MB — refused", _FIX_EXPORT)
                    parts.append(chunk)
        except InputError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError,
                RuntimeError) as exc:
            raise InputError(self.label(info), f"cannot read the member ({exc})",
                             _FIX_EXPORT) from None
        except Exception as exc:  # zlib.error and friends
            raise InputError(self.label(info), f"corrupt compressed data ({exc})",
                             _FIX_EXPORT) from None
        return b"".join(parts)


# ------------------------------------------------------------------------------- XML

_ENTITY_MARKS = tuple(mark for text in ("<!ENTITY",)
                      for mark in (text.encode("ascii"), text.encode("utf-16-le"),
                                   text.encode("utf-16-be")))


class _ExternalRefused(Exception):
    pass


class _RefuseExternal(etree.Resolver):
    """Last line of defence: any external load libxml2 still attempts fails the parse."""

    def resolve(self, url, pubid, context):
        raise _ExternalRefused(url or pubid)


def parse_xml(data: bytes, label: str | Path):
    """Parse untrusted XML bytes into an lxml root element, refusing entities and external DTDs.

    Raises :class:`InputError` naming ``label`` (and the line, for syntax errors).
    """
    if any(mark in data for mark in _ENTITY_MARKS):
        raise InputError(label, "the XML declares entities in a DOCTYPE (external entities "
                         "or entity expansion) — refused for safety", _FIX_EXPORT)
    # Not collect_ids=False: with it libxml2 loads an external DTD subset (a local file read).
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False)
    parser.resolvers.add(_RefuseExternal())
    try:
        root = etree.fromstring(data, parser)
    except _ExternalRefused as exc:
        raise InputError(label, f"the XML refers to an external resource ({exc}) — refused "
                         "for safety", _FIX_EXPORT) from None
    except etree.XMLSyntaxError as exc:
        raise InputError(label, f"not well-formed XML ({exc.msg})", _FIX_EXPORT,
                         line=exc.lineno or None) from None
    except ValueError as exc:  # e.g. an unsupported encoding declaration
        raise InputError(label, f"not readable XML ({exc})", _FIX_EXPORT) from None
    docinfo = root.getroottree().docinfo
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise InputError(label, "the XML declares entities in a DOCTYPE — refused for safety",
                         _FIX_EXPORT)
    if docinfo.system_url or docinfo.public_id:
        raise InputError(label, "the XML refers to an external DTD "
                         f"({docinfo.system_url or docinfo.public_id}) — refused for safety",
                         _FIX_EXPORT)
    return root


def local(element) -> str:
    """The local name of an element (REFI files differ in namespace: 1.0, 0:4, none…)."""
    tag = element.tag
    if not isinstance(tag, str):  # comment or processing instruction
        return ""
    return tag.rsplit("}", 1)[-1]


def children(element, name: str) -> list:
    """Child elements with local name ``name``, in document order."""
    return [child for child in element if local(child) == name]


def child(element, name: str):
    """The first child element with local name ``name``, or ``None``."""
    for item in element:
        if local(item) == name:
            return item
    return None


def text_of(element, name: str) -> str | None:
    """The text of the first child ``name`` (``""`` for an empty one), or ``None``."""
    found = child(element, name)
    if found is None:
        return None
    return "".join(found.itertext())


def decode_text(data: bytes, label: str) -> str:
    """A plain-text source as stored: UTF-8 (BOM stripped) or UTF-16 with BOM; CR kept, since
    positions may count it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(label, "broken UTF-16 text", _FIX_EXPORT) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(label, f"undecodable byte 0x{data[exc.start]:02x} (REFI-QDA text "
                         "must be UTF-8)", _FIX_EXPORT, line=line) from None
