"""Checks that keep a REFI-QDA archive from misfiling or overwriting anyone's work.

- :func:`check_guids`: every source, code and user of an archive has its own GUID. Two
  objects sharing one would send codings to the wrong source or code, so the archive is
  refused, naming the GUID.
- :func:`archive_coder`: an archive's user becomes a coder of the same name, but never a
  coder this project already has — a user called ``alice`` in an NVivo project is not
  necessarily our ``alice``, and importing would replace her codings. Such a user must be
  mapped (``--coder-map alice=alice_nvivo``, or ``alice=alice`` when it really is her). A
  user whose GUID is the one coder's own export gives that name (a project exported by coder
  and imported again) is the same coder.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from coder.errors import CoderError, ConflictError, InputError

FIX = "each source, code and user needs its own GUID — export the project again from the " \
      "other program, or fix the GUIDs in project.qde"


def check_guids(refi) -> None:
    """Refuse an archive in which two sources, codes or users share a GUID."""
    seen: dict[str, str] = {}

    def claim(guid: str | None, what: str) -> None:
        if not guid:
            return
        if guid in seen:
            raise InputError(refi.path, f"GUID {guid} is used twice: by {seen[guid]} and by "
                             f"{what}", FIX)
        seen[guid] = what

    for user in refi.users:
        claim(user.guid, f"user {user.name or user.id or '?'!r}")
    stack = list(refi.codes)
    while stack:
        code = stack.pop(0)
        claim(code.guid, f"code {code.name!r}")
        stack[:0] = code.children
    for source in refi.sources:
        claim(source.guid, f"source {source.name!r}")


def parse_coder_map(values: list[str] | None) -> dict[str, str]:
    """``["alice=alice_nvivo", "bob=bob2,carol=c"]`` → ``{"alice": "alice_nvivo", …}``."""
    from coder.coding.store import check_coder_name

    mapping: dict[str, str] = {}
    for value in values or []:
        for item in filter(None, (part.strip() for part in value.split(","))):
            archive, sep, local = (s.strip() for s in item.partition("="))
            if not sep or not archive or not local:
                raise CoderError(f"--coder-map {item}: give ARCHIVE_USER=CODER, e.g. "
                                 "--coder-map alice=alice_nvivo")
            mapping[archive] = check_coder_name(local)
    return mapping


def archive_coder(conn, path, user, name: str, coder_map: dict[str, str]) -> str:
    """The coder an archive ``user`` (proposed coder ``name``) is imported as."""
    from coder.coding.store import C, K
    from coder.refi.export import guid

    for key in (name, user.name, user.id):
        if key and key in coder_map:
            return coder_map[key]
    row = conn.execute(select(C.c.id, C.c.kind).where(C.c.name == name)).first()
    if row is None or (row.kind == "human" and user.guid == guid("user", name)):
        return name
    codings = conn.execute(select(func.count()).select_from(K)
                           .where(K.c.coder_id == row.id)).scalar_one()
    raise ConflictError(f"{path}: the archive's user {user.name or name!r} has the name of this "
                        f"project's {row.kind} coder {name} ({codings} codings), whose work the "
                        f"import would replace — map the user to another coder with "
                        f"--coder-map {name}={name}_{_origin_tag(path)} (or --coder-map "
                        f"{name}={name} if it is the same person)")


def _origin_tag(path) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", Path(str(path)).stem).strip("_").lower()[:20] or "archive"
