"""Reading the files users name and writing outputs whole.

Every command that writes a file goes through :func:`atomic_write`, so a failed or interrupted
command never leaves a half-written table, figure or transcript behind (SPEC §9).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from coder.errors import InputError


def read_input(path: Path, what: str = "file", hint: str = "check the path") -> bytes:
    """The bytes of a file the user named, or an InputError that says what is wrong with it.

    ``what`` names the expected file in messages ("codebook file", "identifiers file", …).
    """
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(path, f"no such {what}", hint) from None
    except IsADirectoryError:
        raise InputError(path, f"is a folder, not a {what}", hint) from None
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})",
                         "check the file's permissions") from None


def atomic_write(path: Path, content: bytes | Callable[[Path], None]) -> None:
    """Write ``content`` (bytes, or a function that writes a given path) to ``path`` whole or
    not at all: into a hidden temporary file beside it, then renamed over it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if callable(content):
            content(tmp)
        else:
            tmp.write_bytes(content)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(path, f"cannot write ({exc.strerror})",
                         "check the folder exists and is writable") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
