"""The codings a report is made of: one coder's decisions on participant segments.

A report reads one *source coder*:

- a stored coder by name (``alice``, ``auto:model``, ``consensus``);
- ``majority``: computed on the fly, never stored, from **all human coders** with
  :func:`coder.coding.consensus.majority` (a code is kept when more than half of them applied
  it; a theme reached by a majority while none of its sub-codes is kept as the bare theme),
  over the participant segments that **every** human coder reviewed — the same rule as
  ``coder reconcile --rule majority``, without writing anything;
- nothing: ``consensus`` when the project has it, else an error listing the coders.

The *base* of a report is what the coder reviewed (SPEC §6): a participant segment enters
when the coder reviewed it, coded or not; a participant enters a group when the coder reviewed
at least one of their segments. Transcripts the coder has not reviewed are left out, with a
note (:attr:`CodingData.notes`) so that a share is never computed over unread interviews.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.engine import Connection

from coder.coding.store import K, R, S, coder_id, coder_names
from coder.db import tables
from coder.db.engine import fetch_all
from coder.errors import CoderError, NotFoundError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from coder.codebook import CodebookInfo

CONSENSUS = "consensus"
MAJORITY = "majority"
NONE_GROUP = "(none)"
SPECIAL_GROUPS = ("transcript", "participant")


@dataclass(frozen=True)
class TranscriptInfo:
    """A transcript: its participant pseudonym (the transcript id when it has none) and
    attributes."""

    id: str
    participant: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class CodedSegment:
    """A participant segment the coder reviewed, with the full code keys they applied."""

    segment_id: int
    transcript: str
    n: int
    speaker: str
    text: str
    codes: frozenset[str]


@dataclass
class CodingData:
    """One coder's reviewed participant segments, in (transcript, n) order.

    ``sources`` are the stored coders the data comes from (one, or the human coders of a
    ``majority``). ``transcripts`` holds every transcript of the project; ``attributes`` the
    attribute names present in the project.
    """

    coder: str
    sources: list[str]
    segments: list[CodedSegment]
    transcripts: dict[str, TranscriptInfo]
    codebook: "CodebookInfo"
    attributes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def coder_label(self) -> str:
        """The coder as provenance names it (``majority of alice, bob, carol``)."""
        if self.coder == MAJORITY:
            return f"majority of {', '.join(self.sources)} (segments reviewed by all)"
        return self.coder

    def participant(self, segment: CodedSegment) -> str:
        return self.transcripts[segment.transcript].participant

    def group(self, transcript: str, by: str) -> str:
        """The group of a transcript: its attribute value, ``(none)`` when it has none."""
        info = self.transcripts[transcript]
        if by == "transcript":
            return info.id
        if by == "participant":
            return info.participant
        return info.attributes.get(by) or NONE_GROUP

    def check_attribute(self, by: str) -> None:
        """Raise a :class:`CoderError` naming the known attributes when no transcript has ``by``."""
        if by in SPECIAL_GROUPS or by in self.attributes:
            return
        known = ", ".join([*SPECIAL_GROUPS,
                           *[a for a in self.attributes if a not in SPECIAL_GROUPS]])
        raise CoderError(f"no transcript has the attribute {by!r} — use one of: {known}")

    def to_frame(self) -> "pd.DataFrame":
        """One row per (segment, code); a reviewed segment without codes has ``code`` = None.

        Columns: ``transcript, segment, participant, speaker``, one per attribute (other than
        these names), then ``code, theme, text``.
        """
        import pandas as pd

        fixed = ("transcript", "segment", "participant", "speaker", "code", "theme", "text")
        attributes = [a for a in self.attributes if a not in fixed]
        rows = []
        for seg in self.segments:
            info = self.transcripts[seg.transcript]
            base = {"transcript": seg.transcript, "segment": seg.n,
                    "participant": info.participant, "speaker": seg.speaker}
            base.update({a: info.attributes.get(a) for a in attributes})
            for code in sorted(seg.codes) or [None]:
                rows.append({**base, "code": code,
                             "theme": code.split(".", 1)[0] if code else None,
                             "text": seg.text})
        columns = ["transcript", "segment", "participant", "speaker", *attributes,
                   "code", "theme", "text"]
        return pd.DataFrame(rows, columns=columns)


@contextmanager
def connection(source: Any) -> Iterator[Connection]:
    """A read connection from a Connection, a :class:`~coder.db.engine.Project`, or a database
    path/URL (opened and closed here)."""
    from coder.db.engine import Project, open_project

    if isinstance(source, Connection):
        yield source
    elif isinstance(source, Project):
        with source.read() as conn:
            yield conn
    elif isinstance(source, (str, Path)):
        project = open_project(str(source))
        try:
            with project.read() as conn:
                yield conn
        finally:
            project.close()
    else:
        raise TypeError(f"expected a Connection, Project or database path, not {type(source)!r}")


def human_coders(conn: Connection) -> list[str]:
    C = tables.coder
    return list(conn.execute(select(C.c.name).where(C.c.kind == "human")
                             .order_by(C.c.id)).scalars())


def resolve_coder(conn: Connection, coder: str | None) -> str:
    """The coder a report reads: ``coder`` as given, else ``consensus`` when it exists."""
    names = coder_names(conn)
    if coder:
        return coder
    if CONSENSUS in names:
        return CONSENSUS
    known = ", ".join(names) if names else "none yet"
    raise NotFoundError(
        f"no consensus coder in the project (coders: {known}) — pass --coder NAME or "
        "--coder majority, or settle one with `coder reconcile --coders A,B,…`")


def load_codings(conn: Connection, coder: str | None = None, *,
                 with_text: bool = True) -> CodingData:
    """Read the coder's reviewed participant segments and codes (see the module docstring).
    ``with_text=False`` leaves segment texts empty (counting reports do not need them)."""
    from coder.codebook import require_codebook

    codebook = require_codebook(conn)
    name = resolve_coder(conn, coder)
    transcripts, attributes = _transcripts(conn)
    if name == MAJORITY:
        sources, segments = _majority_segments(conn)
    else:
        sources, segments = [name], _stored_segments(conn, coder_id(conn, name), with_text)
    data = CodingData(name, sources, segments, transcripts, codebook, attributes)
    data.notes = _coverage_notes(conn, data)
    return data


def _transcripts(conn: Connection) -> tuple[dict[str, TranscriptInfo], list[str]]:
    T, A = tables.transcript, tables.attribute
    attrs: dict[str, dict[str, str]] = defaultdict(dict)
    for tid, name, value in conn.execute(select(A.c.transcript_id, A.c.name, A.c.value)):
        if value not in (None, ""):
            attrs[tid][name] = value
    infos = {tid: TranscriptInfo(tid, pid or tid, attrs.get(tid, {}))
             for tid, pid in conn.execute(select(T.c.id, T.c.participant_id))}
    names = sorted({n for a in attrs.values() for n in a})
    return infos, names


def _stored_segments(conn: Connection, cid: int, with_text: bool) -> list[CodedSegment]:
    """Two set-based queries, rows straight from the driver (SPEC §10: a report on 50,000
    segments costs about what reading them costs)."""
    codes: dict[int, set[str]] = {}
    get = codes.get
    for sid, key in fetch_all(conn, select(K.c.segment_id, K.c.code_key)
                              .where(K.c.coder_id == cid)):
        found = get(sid)
        if found is None:
            codes[sid] = {key}
        else:
            found.add(key)
    text = S.c.text if with_text else literal("")
    rows = fetch_all(conn, select(S.c.id, S.c.transcript_id, S.c.n, S.c.speaker, text)
                     .join(R, and_(R.c.segment_id == S.c.id, R.c.coder_id == cid))
                     .where(S.c.role == "participant"))
    rows.sort(key=itemgetter(1, 2))
    none: frozenset[str] = frozenset()
    return [CodedSegment(sid, tid, n, speaker, text,
                         frozenset(codes[sid]) if sid in codes else none)
            for sid, tid, n, speaker, text in rows]


def _majority_segments(conn: Connection) -> tuple[list[str], list[CodedSegment]]:
    from coder.coding.consensus import majority, segment_views

    humans = human_coders(conn)
    if len(humans) < 2:
        raise CoderError(f"--coder majority needs at least two human coders (have: "
                         f"{', '.join(humans) or 'none'}) — import another coder's codings "
                         "or name one coder with --coder NAME")
    segments = [CodedSegment(v.segment_id, v.transcript, v.n, v.speaker, v.text,
                             frozenset(majority(v))) for v in segment_views(conn, humans)]
    return humans, segments


def _coverage_notes(conn: Connection, data: CodingData) -> list[str]:
    """Say which transcripts the coder did not (fully) review: they are outside the base."""
    totals = dict(conn.execute(select(S.c.transcript_id, func.count())
                               .where(S.c.role == "participant")
                               .group_by(S.c.transcript_id)).all())
    reviewed: dict[str, int] = defaultdict(int)
    for seg in data.segments:
        reviewed[seg.transcript] += 1
    unread = sorted(t for t in totals if not reviewed.get(t))
    partial = sorted(t for t in totals if 0 < reviewed.get(t, 0) < totals[t])
    who = data.coder_label
    notes = []
    if not data.segments:
        notes.append(f"{who} has reviewed no participant segment — the report is empty")
    elif unread:
        notes.append(f"{len(unread)} transcript(s) not reviewed by {who} are left out: "
                     + _listing(unread))
    if partial:
        notes.append(f"{len(partial)} transcript(s) only partly reviewed by {who}; their "
                     "unreviewed segments are left out: " + _listing(partial))
    return notes


def _listing(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def keys_for(codes: frozenset[str], level_keys: set[str], codes_level: bool) -> set[str]:
    """The report keys a segment's codes count for.

    Theme level: the theme of each code. Code level: each code and every ancestor code (a
    sub-code counts for its parent). Keys outside ``level_keys`` (not in the codebook) are
    dropped.
    """
    found: set[str] = set()
    for code in codes:
        parts = code.split(".")
        if codes_level:
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        else:
            found.add(parts[0])
    return found & level_keys


def group_order(groups: set[str]) -> list[str]:
    """Groups sorted by name, ``(none)`` last."""
    return sorted(groups, key=lambda g: (g == NONE_GROUP, g))
