"""Finding the files of ``coder import PATH...``: files as given, folders searched recursively.

- A path is taken as the user wrote it: ``../interviews`` and ``~/.study/interviews`` work;
  only **hidden entries inside** a given folder (``.git``, ``.DS_Store``, ``.~lock…``) are
  skipped, never a hidden folder the user named or one above it.
- The walk is iterative (a stack, not recursion), follows symbolic links to folders once
  (a link loop is skipped, not followed forever) and visits at most :data:`MAX_ENTRIES`
  entries.
- Nothing is skipped silently: every entry left out comes back as a :class:`Skipped`
  ``(path, reason)`` — hidden, not a transcript suffix, an unreadable folder, a name that is
  not valid UTF-8, a path too long for the system — for the command to print as warnings.
  Another reader can pass its own ``suffixes`` and get the same listing.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from coder.errors import InputError
from coder.safeio import check_path_name, printable

MAX_ENTRIES = 1_000_000


@dataclass(frozen=True)
class Skipped:
    """An entry the walk left out, and why (in words for the warning)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {printable(self.path)}: {self.reason}"


def find_files(paths: Iterable[str | Path], suffixes: frozenset[str] | set[str]
               ) -> tuple[list[Path], list[Skipped]]:
    """Files named in ``paths`` plus those under its folders with one of ``suffixes``
    (lower-case, with the dot), each folder's files in sorted order; and what was skipped.

    A path that does not exist, or a named file whose name is not valid UTF-8, raises
    :class:`InputError`.
    """
    found: list[Path] = []
    skipped: list[Skipped] = []
    for raw in paths:
        path = Path(raw)
        check_path_name(path)
        try:
            is_dir = path.is_dir()
            is_file = not is_dir and path.is_file()
        except OSError as exc:  # e.g. a name too long
            raise InputError(printable(path), f"cannot read ({exc.strerror})",
                             "check the path") from None
        if is_dir:
            files: list[Path] = []
            _walk(path, suffixes, files, skipped)
            found.extend(sorted(files))
        elif is_file:
            found.append(path)
        else:
            raise InputError(printable(path), "no such file or folder", "check the path")
    return found, skipped


def _walk(root: Path, suffixes, found: list[Path], skipped: list[Skipped]) -> None:
    seen: set[tuple[int, int]] = set()
    try:
        info = root.stat()
        seen.add((info.st_dev, info.st_ino))
    except OSError:
        pass
    stack = [root]
    visited = 0
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(folder, _why(exc, "folder")))
            continue
        subfolders = []
        for entry in entries:
            visited += 1
            if visited > MAX_ENTRIES:
                raise InputError(printable(root), f"more than {MAX_ENTRIES:,} entries in the "
                                 "folder, refused", "import a smaller folder")
            path = Path(folder, entry.name)
            if entry.name.startswith("."):
                skipped.append(Skipped(path, "hidden"))
                continue
            try:
                entry.name.encode("utf-8")
            except UnicodeEncodeError:
                skipped.append(Skipped(path, "the name is not valid UTF-8 — rename it"))
                continue
            try:
                is_dir = entry.is_dir()
                if is_dir:
                    info = entry.stat()
                    key = (info.st_dev, info.st_ino)
                    if key in seen:
                        skipped.append(Skipped(path, "a link to a folder already searched"))
                        continue
                    seen.add(key)
                    subfolders.append(path)
                    continue
                is_file = entry.is_file()
            except OSError as exc:
                skipped.append(Skipped(path, _why(exc, "entry")))
                continue
            if not is_file:
                skipped.append(Skipped(path, "not a regular file"))
            elif Path(entry.name).suffix.lower() in suffixes:
                found.append(path)
            else:
                suffix = Path(entry.name).suffix or "no suffix"
                skipped.append(Skipped(path, f"not a transcript file ({suffix})"))
        stack.extend(reversed(subfolders))  # depth first, in name order


def _why(exc: OSError, what: str) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"unreadable {what} (permission denied)"
    if exc.errno == errno.ENAMETOOLONG:
        return "the path is too long for the system"
    if exc.errno == errno.ELOOP:
        return "a loop of symbolic links"
    return f"unreadable {what} ({exc.strerror or exc})"
