"""Resolving the names a researcher types: coders, themes and codes.

One place for every command, so that a typo is an error everywhere, never a silent empty
result or a new coder: ``disagreements --theme security_comunity`` says "did you mean
security_community", ``agreement --coders alcie`` says "did you mean alice", and ``coder code
--coder alcie`` announces that it would create a new coder next to the existing ones.
Light: no NumPy or pandas (used on the ``--help`` path of light commands).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection

from coder.errors import CoderError, NotFoundError


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """`` — did you mean X?`` for the closest of ``choices`` (or the one that extends the
    name, e.g. a theme for a sub-code's last part), else an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    if not close:
        close = [c for c in choices if c.endswith("." + name)][:1]
    return f" — did you mean {close[0]}?" if close else ""


def _listing(names: Sequence[str], limit: int = 12) -> str:
    if not names:
        return "none yet"
    shown = ", ".join(names[:limit])
    return shown + (f" … ({len(names)} in all)" if len(names) > limit else "")


def existing_coders(conn: Connection) -> list[str]:
    """Every coder's name, in order of creation."""
    from coder.db.tables import coder as coder_table

    C = coder_table
    return list(conn.execute(select(C.c.name).order_by(C.c.id)).scalars())


def unknown_coder(conn: Connection, name: str) -> NotFoundError:
    """The error for a coder a read command does not find."""
    names = existing_coders(conn)
    hint = did_you_mean(name, names) or " — check the spelling or import their codings first"
    return NotFoundError(f"no coder {name!r} in the project (coders: {_listing(names)}){hint}")


def new_coder_refusal(conn: Connection, name: str, option: str = "--new-coder") -> CoderError:
    """The error for a coder name that does not exist yet in a command that would create it."""
    names = existing_coders(conn)
    hint = did_you_mean(name, names)
    if hint:
        hint = hint.rstrip("?") + f"? If {name!r} really is a new person, pass {option}"
    else:
        hint = f" — to add a new coder called {name!r}, pass {option}"
    return CoderError(f"{name!r} is not a coder of this project yet (coders: "
                      f"{_listing(names)}){hint}")


def needs_confirmation(conn: Connection, name: str) -> bool:
    """True when coding as ``name`` would create a coder next to existing people's names
    (the first coder of a project cannot be a typo of another, so it needs none)."""
    from coder.coding.store import coder_kind

    names = existing_coders(conn)
    return name not in names and coder_kind(name) == "human" and any(
        coder_kind(n) == "human" for n in names)


def code_key(conn: Connection, key: str, *, themes_only: bool = False,
             option: str = "--theme") -> str:
    """``key`` if it is a theme (or, unless ``themes_only``, a code) of the current codebook,
    else a :class:`NotFoundError` naming the closest key."""
    from coder.coding.store import code_keys

    keys = code_keys(conn)
    if not keys:
        raise NotFoundError("no codebook loaded — run `coder codebook load FILE.yaml` first")
    allowed = [k for k in keys if "." not in k] if themes_only else keys
    if key in allowed:
        return key
    what = "theme" if themes_only else "theme or code"
    hint = did_you_mean(key, allowed) or did_you_mean(key, keys)
    if not hint:
        hint = f" — use one of: {_listing([k for k in keys if '.' not in k])}"
    raise NotFoundError(f"{option} {key!r} is not a {what} of the current codebook{hint}")
