"""Codebook versions in the project database.

Every load of a changed codebook adds a ``codebook`` row (version = previous + 1, with the file's
text and its SHA-256) and one ``code`` row per code; the highest version is the current codebook.
Codings keep the ``codebook_id`` they were made under, so old codings stay interpretable.

Carrying codings across versions (SPEC §4):

- ``renamed_from: OLD`` on a code moves the codings (and consensus decisions) of ``OLD`` to it;
  sub-codes follow a renamed parent (see :func:`coder.codebook.diff.rename_map`). When a coder
  already has the new code on a segment, the duplicate old coding is dropped (a merge).
- A code that disappears without a rename while codings use it is refused with a
  :class:`~coder.errors.ConflictError`, unless ``drop=True``, which deletes those codings.

All functions take a SQLAlchemy ``Connection`` inside the caller's transaction
(``Project.write()``/``read()``); :func:`load_codebook` checks everything before it writes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.engine import Connection

from coder.codebook.diff import CodebookDiff, diff_codebooks, rename_map
from coder.codebook.model import CodebookInfo, CodebookSpec, CodeSpec
from coder.db import tables
from coder.errors import ConflictError, NotFoundError

DEFAULT_CODEBOOK = "codebooks/csto-2022.yaml"

_codebook = tables.codebook
_code = tables.code
_coding = tables.coding
_decision = tables.decision


@dataclass
class LoadResult:
    """What :func:`load_codebook` did.

    ``status`` is ``"created"`` or ``"unchanged"``; ``version`` is the new (or current) version.
    ``diff`` compares with the previous version (``None`` for the first load). ``carried`` maps
    ``(old key, new key)`` to the number of codings moved; ``dropped`` maps a removed key to the
    number of codings deleted.
    """

    status: str
    version: int
    codebook_id: int
    codebook: CodebookInfo | None = None
    diff: CodebookDiff | None = None
    carried: dict[tuple[str, str], int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)


def source_sha256(source_text: str) -> str:
    return hashlib.sha256(source_text.encode("utf-8")).hexdigest()


def load_codebook(conn: Connection, spec: CodebookSpec, source_text: str, *,
                  drop: bool = False) -> LoadResult:
    """Make ``spec`` the current codebook, as a new version unless its source is unchanged.

    ``source_text`` is stored as the version's source and identifies it (SHA-256): loading the
    current codebook's text again writes nothing. Other sources (e.g. a REFI-QDA ``.qdc``
    importer) build a :class:`CodebookSpec` and pass their own text here.

    Raises :class:`ConflictError` (nothing written) when codes with codings would disappear and
    ``drop`` is false.
    """
    sha = source_sha256(source_text)
    current = current_codebook(conn)
    if current is not None and current.sha256 == sha:
        return LoadResult("unchanged", current.version, current.id, codebook=current)

    used = coding_counts(conn)
    old_keys = [code.key for code in current.codes] if current else []
    old_keys += sorted(k for k in used if k not in old_keys)  # codings outside the codebook
    renames = rename_map(old_keys, spec)
    removed = [k for k in old_keys if k not in spec and k not in renames]
    in_use = {k: used[k] for k in removed if used.get(k)}
    if in_use and not drop:
        listing = ", ".join(f"{k} ({_n(n, 'coding')})" for k, n in sorted(in_use.items()))
        raise ConflictError(
            f"the new codebook removes {'a code' if len(in_use) == 1 else 'codes'} that "
            f"codings use: {listing} — add `renamed_from: OLD_KEY` to the code that replaces "
            "it, or rerun with --drop to delete those codings")

    old_of = {new: old for old, new in renames.items()}
    coded = {code.key: used.get(old_of.get(code.key, code.key), 0) for code in spec.codes
             if not code.codable}
    coded = {k: n for k, n in coded.items() if n}
    if coded:
        listing = ", ".join(f"{k} ({_n(n, 'coding')})" for k, n in sorted(coded.items()))
        raise ConflictError(
            f"the new codebook makes {'a code' if len(coded) == 1 else 'codes'} that codings "
            f"use a category (codable: false): {listing} — keep it codable, or give the "
            "codings a sub-code first (rename the code with renamed_from into a new sub-code, "
            "and add the category above it)")

    version = (current.version if current else 0) + 1
    codebook_id = conn.execute(insert(_codebook).values(
        name=spec.name, version=version, sha256=sha, source=source_text,
        loaded_at=datetime.now(timezone.utc))).inserted_primary_key[0]
    if spec.codes:
        conn.execute(insert(_code), [_code_row(codebook_id, code) for code in spec.codes])

    carried = _carry(conn, renames, used)
    dropped = {}
    for key, n in in_use.items():
        conn.execute(delete(_coding).where(_coding.c.code_key == key))
        conn.execute(delete(_decision).where(_decision.c.code_key == key))
        dropped[key] = n
    info = get_codebook(conn, version)
    return LoadResult("created", version, codebook_id, codebook=info,
                      diff=diff_codebooks(current, spec) if current else None,
                      carried=carried, dropped=dropped)


def _carry(conn: Connection, renames: dict[str, str], used: dict[str, int]
           ) -> dict[tuple[str, str], int]:
    """Move codings and decisions of each old key to its new key.

    Two phases through unique placeholder keys, so that swaps and chains (a→b, b→c) move each
    coding exactly once; a coding whose coder already has the new code on that segment is
    dropped rather than duplicated.
    """
    placeholders = {}
    for i, old in enumerate(sorted(renames)):
        temp = f":renaming:{i}"  # not a valid key, so it cannot collide with one
        placeholders[temp] = renames[old]
        for table in (_coding, _decision):
            conn.execute(update(table).where(table.c.code_key == old).values(code_key=temp))
    other = _coding.alias("other")
    carried = {}
    for (temp, new), old in zip(placeholders.items(), sorted(renames)):
        conn.execute(delete(_coding).where(
            _coding.c.code_key == temp,
            exists().where(and_(other.c.coder_id == _coding.c.coder_id,
                                other.c.segment_id == _coding.c.segment_id,
                                other.c.code_key == new))))
        conn.execute(update(_decision).where(_decision.c.code_key == temp).values(code_key=new))
        moved = conn.execute(update(_coding).where(_coding.c.code_key == temp)
                             .values(code_key=new)).rowcount
        if used.get(old):
            carried[(old, new)] = moved
    return carried


def _code_row(codebook_id: int, code: CodeSpec) -> dict:
    def as_json(items: list[str]) -> str:
        return json.dumps(items, ensure_ascii=False)

    return {"codebook_id": codebook_id, "key": code.key, "parent": code.parent,
            "label": code.label, "definition": code.definition,
            "include": as_json(code.include), "exclude": as_json(code.exclude),
            "examples": as_json(code.examples),
            "keywords": json.dumps(code.stored_keywords(), ensure_ascii=False),
            "colour": code.colour, "codable": code.codable, "position": code.position,
            "renamed_from": code.renamed_from}


def _keywords(stored: str) -> dict:
    """The ``keywords`` column: a JSON list, or ``{"any": […], LANG: […]}`` by language."""
    value = json.loads(stored)
    if isinstance(value, dict):
        common = value.pop("any", [])
        return {"keywords": common, "keywords_by_language": value}
    return {"keywords": value}


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def get_codebook(conn: Connection, version: int | None = None) -> CodebookInfo | None:
    """Codebook ``version`` of the project (the current one when ``None``), or ``None``."""
    query = select(_codebook)
    if version is None:
        query = query.order_by(_codebook.c.version.desc()).limit(1)
    else:
        query = query.where(_codebook.c.version == version)
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    codes = [
        CodeSpec(key=r["key"], label=r["label"], parent=r["parent"], definition=r["definition"],
                 include=json.loads(r["include"]), exclude=json.loads(r["exclude"]),
                 examples=json.loads(r["examples"]), **_keywords(r["keywords"]),
                 colour=r["colour"], renamed_from=r["renamed_from"], position=r["position"],
                 codable=bool(r["codable"]))
        for r in conn.execute(select(_code).where(_code.c.codebook_id == row["id"])
                              .order_by(_code.c.position, _code.c.id)).mappings()
    ]
    return CodebookInfo(id=row["id"], name=row["name"], version=row["version"],
                        sha256=row["sha256"], source=row["source"],
                        loaded_at=row["loaded_at"], codes=codes)


def current_codebook(conn: Connection) -> CodebookInfo | None:
    """The current (highest version) codebook with its codes, or ``None`` if none is loaded."""
    return get_codebook(conn)


def require_codebook(conn: Connection) -> CodebookInfo:
    """The current codebook; :class:`NotFoundError` telling how to load one when there is none."""
    info = current_codebook(conn)
    if info is None:
        raise NotFoundError(f"no codebook loaded — run `coder codebook load {DEFAULT_CODEBOOK}`")
    return info


def codebook_versions(conn: Connection) -> list[dict]:
    """Every stored version, oldest first: ``{"version", "name", "sha256", "loaded_at",
    "codes"}`` (``codes`` is the number of codes)."""
    n_codes = (select(func.count()).where(_code.c.codebook_id == _codebook.c.id)
               .scalar_subquery())
    rows = conn.execute(select(_codebook.c.version, _codebook.c.name, _codebook.c.sha256,
                               _codebook.c.loaded_at, n_codes.label("codes"))
                        .order_by(_codebook.c.version)).mappings()
    return [dict(r) for r in rows]


def coding_counts(conn: Connection, coder_ids: list[int] | None = None) -> dict[str, int]:
    """``{code key: number of codings}`` over all coders (or the given coder ids)."""
    query = select(_coding.c.code_key, func.count()).group_by(_coding.c.code_key)
    if coder_ids is not None:
        query = query.where(_coding.c.coder_id.in_(coder_ids))
    return {key: n for key, n in conn.execute(query)}


def theme_totals(info: CodebookInfo, counts: dict[str, int]) -> dict[str, int]:
    """``{full key: codings of the code and all its sub-codes}`` for every code of ``info``."""
    totals = {code.key: counts.get(code.key, 0) for code in info.codes}
    for code in info.codes:
        n = counts.get(code.key, 0)
        parts = code.key.split(".")
        for cut in range(1, len(parts)):
            ancestor = ".".join(parts[:cut])
            if ancestor in totals:
                totals[ancestor] += n
    return totals
