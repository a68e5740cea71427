"""The interactive coding session of ``coder code``, as a state machine without a terminal.

A :class:`CodingSession` walks the participant segments in scope (one transcript or all, in
transcript id, segment ``n`` order) that the coder has not reviewed yet. It is fed one input
line at a time (:meth:`CodingSession.handle`) and answers with a :class:`Step` saying what to
show; the command line only draws it. Every decision is written at once, in its own write
transaction, through :func:`coder.coding.store.record_decision` — so a session that is killed
keeps every confirmed decision and nothing unconfirmed.

Speed (SPEC §10: one decision under 20 ms with 100,000 segments): the ordered ids of the
segments in scope and the set of reviewed ones are loaded once; a cursor moves over that list
in memory, each step fetches one segment (and its previous turn) by key, and progress is
counted incrementally.

The command language is :data:`HELP`; :data:`KEY_LINE` is its one-line reminder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, select
from sqlalchemy.engine import Connection

from coder.db.engine import Project, fetch_all
from coder.db import tables
from coder.coding.store import (
    check_coder_name, coding_spans, decisions, forget_decision, get_or_create_coder,
    record_decision,
)
from coder.errors import ConflictError, NotFoundError

S = tables.segment
A = tables.attribute
T = tables.transcript
K = tables.coding
C = tables.coder
R = tables.review

PARTICIPANT = "participant"
MODEL_CODER = "auto:model"
NO_CODE = ("-", "0", "n")

# Built once: a step runs these by primary key or unique index (see the module docstring).
_COLUMNS = (S.c.n, S.c.speaker, S.c.role, S.c.start, S.c.end, S.c.text)
_SEGMENT = select(S.c.transcript_id, *_COLUMNS).where(S.c.id == bindparam("sid"))
_TURN = select(*_COLUMNS).where(and_(S.c.transcript_id == bindparam("tid"),
                                     S.c.n == bindparam("n")))
_ATTRIBUTES = select(A.c.name, A.c.value).where(A.c.transcript_id == bindparam("tid"))
_SUGGESTIONS = (select(K.c.code_key, K.c.probability)
                .where(and_(K.c.coder_id == bindparam("coder"), K.c.segment_id == bindparam("sid"),
                            K.c.probability.is_not(None)))
                .order_by(K.c.probability.desc()))

HELP = """\
Commands (type one and press Enter):
  3   3 7   csto.rapid   toggle codes in the selection, by number or by key prefix: a
                         prefix of each part of the full key (csto.rapid) or of its last
                         part (rapid); several at once, separated by spaces or commas
  Enter (empty line)     save the selection as this segment's decision, go to the next
                         unreviewed segment. With nothing selected, Enter saves nothing
                         (so a stray Enter never marks "no code"): use -
  -   (or 0, n)          save "reviewed, no code" and go on
  m TEXT                 memo for this segment, saved with the decision (m alone clears it)
  b                      back to the previous participant segment: its saved decision is
                         the selection, change it and press Enter to save again
  f                      forward to the next participant segment, reviewed or not
  s                      skip: leave this segment as it is (unreviewed stays unreviewed)
  j N   j ID:N   j ID    jump to segment N of this transcript, to segment N of transcript
                         ID, or to the first unreviewed segment of transcript ID
  / TEXT                 search: the next participant segment containing TEXT
  a                      accept the model's suggestions (probability 0.5 or more)
  u                      undo the last decision saved in this session
  d KEY   (or ? KEY)     a code's definition, include/exclude criteria and examples
  h   (or ?)             this help
  q   (or Ctrl-D)        quit. Every saved decision is already in the project; with an
                         unsaved selection, q asks first (q again quits without saving
                         it). Ctrl-C quits at once (exit code 130).
Commands win over code prefixes: for a code starting with a, b, d, f, h, j, m, n, q, s or
u, type more of its key or its number."""

KEY_LINE = ("3 7 key toggle · Enter save · - no code · m memo · b f s j / · a accept · u undo "
            "· d · h help · q quit")


@dataclass(frozen=True)
class CodeOption:
    """A code offered in the session, numbered 1..N in codebook order."""

    number: int
    key: str
    label: str
    parent: str | None
    definition: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    @property
    def depth(self) -> int:
        return self.key.count(".")


@dataclass(frozen=True)
class Turn:
    n: int
    speaker: str
    role: str
    start: float | None
    end: float | None
    text: str


@dataclass
class SegmentView:
    """Everything shown for the current segment."""

    segment_id: int
    transcript: str
    turn: Turn
    previous: Turn | None
    attributes: dict[str, str]
    stored: tuple[set[str], str | None] | None  # the coder's saved decision (codes, memo)
    suggestions: list[tuple[str, float]]        # auto:model codes with probabilities


@dataclass
class Step:
    """The answer to one input line: what changed and what to show."""

    notes: list[str] = field(default_factory=list)
    moved: bool = False              # another segment is current: draw it whole
    selection: bool = False          # the selection or memo changed
    code: CodeOption | None = None   # describe this code
    help: bool = False
    end: str | None = None           # "quit" or "done": the session is over
    finished: str | None = None      # a transcript whose segments are now all reviewed


class _Unresolved(Exception):
    pass


class CodingSession:
    """One coder's pass over the participant segments in scope; see :data:`HELP`."""

    def __init__(self, project: Project, coder: str, codes: list[CodeOption], codebook_id: int,
                 ids: list[int], ranges: dict[str, tuple[int, int]], reviewed: set[int],
                 coder_id: int | None, model_id: int | None, transcript: str | None,
                 theme: str | None):
        self.project = project
        self.coder = coder
        self.codes = codes
        self.codebook_id = codebook_id
        self.transcript = transcript
        self.theme = theme
        self._ids = ids
        self._index = {sid: i for i, sid in enumerate(ids)}
        self._ranges = ranges
        self._reviewed = reviewed
        self._skipped: set[int] = set()
        self._low = 0  # every index below is reviewed or skipped (both sets only grow)
        self._coder_id = coder_id
        self._model_id = model_id
        self._by_key = {c.key: c for c in codes}
        self._attributes: dict[str, dict[str, str]] = {}
        self._cursor: int | None = None
        self.view: SegmentView | None = None  # the current segment; None when done
        self.selection: set[str] = set()
        self.memo: str | None = None
        self.spans: dict[str, tuple[int, int]] = {}  # code → marked span in the turn
        self._saved_spans: dict[str, tuple[int, int]] = {}
        self._history: list[tuple[int, bool, set[str], str | None,
                                  dict[str, tuple[int, int]]]] = []  # for undo
        self._quit_armed = False
        first = self._next_unreviewed(-1)
        if first is not None:
            self._show(first)

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, project: Project, coder: str, *, transcript: str | None = None,
             theme: str | None = None, new_coder: bool = False) -> CodingSession:
        """Load the codebook, the scope and the coder's reviews; raise CoderError on bad input.

        The coder is created with their first decision (not before, so a session that
        decides nothing writes nothing). A name the project does not know is refused unless
        ``new_coder`` (see :func:`coder.names.needs_confirmation`).
        """
        from coder import names
        from coder.codebook import require_codebook

        coder = check_coder_name(coder)
        with project.read() as conn:
            info = require_codebook(conn)
            themes = [c.key for c in info.codes if c.parent is None]
            if theme is not None and theme not in themes:
                raise NotFoundError(f"no theme {theme!r} in the codebook (themes: "
                                    f"{', '.join(themes)}) — pass one of them to --theme")
            specs = [c for c in info.codes if c.codable  # a category is never applied
                     and (theme is None or c.key == theme or c.key.startswith(theme + "."))]
            codes = [CodeOption(i, c.key, c.label, c.parent, c.definition or "",
                                tuple(c.include), tuple(c.exclude), tuple(c.examples))
                     for i, c in enumerate(specs, start=1)]
            if transcript is not None:
                _require_transcript(conn, transcript)
            query = select(S.c.id, S.c.transcript_id).where(S.c.role == PARTICIPANT)
            if transcript is not None:
                query = query.where(S.c.transcript_id == transcript)
            ranges: dict[str, tuple[int, int]] = {}  # transcript → its slice of ids
            # plain tuples from the driver: Row objects of 10⁵ segments cost more than the query
            rows = fetch_all(conn, query.order_by(S.c.transcript_id, S.c.n))
            ids = [sid for sid, _ in rows]
            for i, (_, tid) in enumerate(rows):
                ranges[tid] = (ranges.get(tid, (i, 0))[0], i + 1)
            coder_id = _coder_id(conn, coder)
            if coder_id is None and not new_coder and names.needs_confirmation(conn, coder):
                raise names.new_coder_refusal(conn, coder)
            in_scope = set(ids)
            reviewed = set()
            if coder_id is not None:
                reviewed = {sid for sid, in fetch_all(
                    conn, select(R.c.segment_id).where(R.c.coder_id == coder_id))
                    if sid in in_scope}
            model_id = _coder_id(conn, MODEL_CODER)
        return cls(project, coder, codes, info.id, ids, ranges, reviewed, coder_id, model_id,
                   transcript, theme)

    # ------------------------------------------------------------------ state

    @property
    def progress(self) -> tuple[int, int]:
        """(reviewed participant segments, all participant segments) in scope."""
        return len(self._reviewed), len(self._ids)

    def transcript_progress(self, transcript: str | None = None) -> tuple[int, int]:
        """(reviewed, all) participant segments in scope of one transcript (the current one)."""
        tid = transcript or (self.view.transcript if self.view else None)
        if tid not in self._ranges:
            return 0, 0
        lo, hi = self._ranges[tid]
        return sum(1 for i in range(lo, hi) if self._ids[i] in self._reviewed), hi - lo

    def context(self, *, before: int = 3, after: int = 2) -> tuple[list[Turn], list[Turn]]:
        """The turns around the current one: up to ``before`` turns before it (the question
        last) and ``after`` after it."""
        if self.view is None:
            return [], []
        n = self.view.turn.n
        with self.project.read() as conn:
            rows = conn.execute(select(*_COLUMNS).where(and_(
                S.c.transcript_id == self.view.transcript, S.c.n >= n - before,
                S.c.n <= n + after, S.c.n != n)).order_by(S.c.n)).all()
        turns = [Turn(*r) for r in rows]
        return [t for t in turns if t.n < n], [t for t in turns if t.n > n]

    @property
    def can_undo(self) -> bool:
        return bool(self._history)

    @property
    def kept(self) -> list[str]:
        """Saved codes on the current segment that the session does not offer (other themes,
        older codebooks): a decision keeps them."""
        if self.view is None or self.view.stored is None:
            return []
        return sorted(k for k in self.view.stored[0] if k not in self._by_key)

    @property
    def changed(self) -> bool:
        """Whether the selection or memo differs from what is saved for the segment."""
        if self.view is None:
            return False
        saved_codes, saved_memo = self._saved()
        return (self.selection != saved_codes or self.memo != saved_memo
                or self.spans != self._saved_spans)

    def selected(self) -> list[CodeOption]:
        return [c for c in self.codes if c.key in self.selection]

    def code(self, key: str) -> CodeOption | None:
        return self._by_key.get(key)

    def finished_text(self) -> str:
        done, total = self.progress
        if total == 0:
            where = f"transcript {self.transcript}" if self.transcript else "the project"
            return f"nothing to code: {where} has no participant segments"
        left = total - done
        if left == 0:
            return f"nothing left to code for {self.coder}: {done}/{total} participant " \
                   "segments reviewed"
        return (f"{self.coder}: {done}/{total} reviewed; the {left} left were skipped in this "
                "session — run `coder code` again to review them")

    # ------------------------------------------------------------------ input

    def set_span(self, key: str, span: tuple[int, int] | None) -> Step:
        """Mark (or, with None, unmark) the sentence(s) of the turn that carry code ``key``;
        marking selects the code. Offsets are characters of the current turn's text."""
        if self.view is None or key not in self._by_key:
            return Step(notes=[f"no code {key!r} here"])
        if span is None:
            self.spans.pop(key, None)
            return Step(selection=True, notes=[f"{key}: whole turn"])
        start, end = span
        if not 0 <= start < end <= len(self.view.turn.text):
            return Step(notes=["the marked span is outside the turn"])
        self.spans[key] = (start, end)
        self.selection.add(key)
        return Step(selection=True, notes=[f"{key}: marked {end - start} characters"])

    def handle(self, line: str) -> Step:
        """Apply one input line (see :data:`HELP`)."""
        if self.view is None:
            return Step(notes=[self.finished_text()], end="done")
        text = line.strip()
        armed, self._quit_armed = self._quit_armed, False
        if not text:
            return self._confirm()
        head, _, rest = text.partition(" ")
        command, rest = head.lower(), rest.strip()
        if command == "q" and not rest and self.changed and not armed:
            self._quit_armed = True
            return Step(notes=["the selection is not saved — Enter saves it; q again quits "
                               "without saving it"])
        if command == "u" and not rest:
            return self.undo()
        if command == "a" and not rest:
            return self._accept()
        if command == "/" or head.startswith("/"):
            return self._search((head[1:] + " " + rest).strip())
        if command in NO_CODE and not rest:
            self.selection = set()
            return self._save()
        if command == "m":
            self.memo = rest or None
            return Step(selection=True, notes=["memo set" if rest else "memo cleared"])
        if command in ("d", "?") and rest:
            try:
                return Step(code=self._resolve(rest))
            except _Unresolved as exc:
                return Step(notes=[str(exc)])
        if command == "j":
            return self._jump(rest)
        simple = {"b": self._back, "f": self._forward, "s": self._skip, "q": self._quit,
                  "h": lambda: Step(help=True), "?": lambda: Step(help=True),
                  "d": lambda: Step(notes=["d needs a code: d 3 or d KEY"])}
        if command in simple:
            if rest:
                return Step(notes=[f"{command} takes no argument — type h for help"])
            return simple[command]()
        return self._toggle(text)

    def _toggle(self, text: str) -> Step:
        try:
            picked = [self._resolve(token) for token in re.split(r"[\s,]+", text) if token]
        except _Unresolved as exc:
            return Step(notes=[str(exc)])
        for code in dict.fromkeys(picked):
            self.selection ^= {code.key}
        return Step(selection=True)

    def _resolve(self, token: str) -> CodeOption:
        """A code by number, full key, or prefix (see :data:`HELP`)."""
        try:
            return resolve_code(token, self.codes)
        except LookupError as exc:
            raise _Unresolved(str(exc)) from None

    # ------------------------------------------------------------------ decisions

    def _confirm(self) -> Step:
        unchanged = self.view.segment_id in self._reviewed and not self.changed
        if self.selection:
            return self._advance(["unchanged"]) if unchanged else self._save()
        if unchanged:
            return self._advance(["unchanged (reviewed, no code)"])
        return Step(notes=["nothing selected — type code numbers or keys, - for "
                           "'reviewed, no code', or s to skip"])

    def _save(self) -> Step:
        """Store the selection (plus codes the session does not offer) as the decision."""
        view = self.view
        sid = view.segment_id
        was_reviewed = sid in self._reviewed
        before = (self._cursor, was_reviewed, set(view.stored[0]) if view.stored else set(),
                  view.stored[1] if view.stored else None, dict(self._saved_spans))
        spans = {k: v for k, v in self.spans.items() if k in self.selection}
        try:
            with self.project.write() as conn:
                cid = self._coder_id or get_or_create_coder(conn, self.coder)
                record_decision(conn, cid, sid, set(self.kept) | self.selection, self.memo,
                                codebook_id=self.codebook_id, based_on=view.stored,
                                spans=spans if spans or self._saved_spans else None)
        except ConflictError as exc:
            # another session of this coder decided the segment meanwhile: show its decision
            self._coder_id = self._coder_id or self._lookup_coder()
            self._reviewed.add(sid)
            self._show(self._cursor)
            return Step(notes=[str(exc)], moved=True)
        self._coder_id = cid
        self._history.append(before)
        self._reviewed.add(sid)
        self._skipped.discard(sid)
        keys = [c.key + ("*" if c.key in spans else "") for c in self.selected()]
        note = f"saved {view.transcript}:{view.turn.n} — {', '.join(keys) or 'no code'}"
        done, total = self.transcript_progress(view.transcript)
        finished = None
        if not was_reviewed and done == total:
            finished = view.transcript
            note += (f" · transcript {view.transcript} is done: all {total} participant "
                     "segments reviewed")
        step = self._advance([note])
        step.finished = finished
        return step

    def undo(self) -> Step:
        """Put back the segment of the last decision saved in this session as it was before
        (unreviewed again, or its earlier decision) and show it."""
        if not self._history:
            return Step(notes=["nothing to undo in this session"])
        index, was_reviewed, codes, memo, spans = self._history.pop()
        sid = self._ids[index]
        with self.project.write() as conn:
            if was_reviewed:
                record_decision(conn, self._coder_id, sid, codes, memo,
                                codebook_id=self.codebook_id, spans=spans)
            else:
                forget_decision(conn, self._coder_id, sid)
        if not was_reviewed:
            self._reviewed.discard(sid)
        self._show(index)
        t = self.view
        return Step(notes=[f"undone: {t.transcript}:{t.turn.n} is "
                           + ("back to its earlier decision" if was_reviewed else
                              "unreviewed again")], moved=True)

    def _accept(self) -> Step:
        wanted = [k for k, p in self.view.suggestions if p >= 0.5 and k in self._by_key]
        if not wanted:
            return Step(notes=["no model suggestion of probability 0.5 or more here"])
        self.selection |= set(wanted)
        return Step(selection=True, notes=["accepted the model's " + ", ".join(wanted)])

    def _search(self, needle: str) -> Step:
        """Go to the next participant segment in scope whose text contains ``needle``
        (ignoring case), after the current one, wrapping around."""
        if not needle:
            return Step(notes=["/ needs the words to find: / paper tiger"])
        wanted = needle.casefold()
        query = select(S.c.id, S.c.text).where(S.c.role == PARTICIPANT)
        if self.transcript is not None:
            query = query.where(S.c.transcript_id == self.transcript)
        with self.project.read() as conn:
            hits = sorted(self._index[sid] for sid, text in conn.execute(query)
                          if wanted in text.casefold() and sid in self._index)
        if not hits:
            return Step(notes=[f"{needle!r} is in no participant segment in scope"])
        after = [i for i in hits if i > self._cursor]
        index = after[0] if after else hits[0]
        note = [f"found {needle!r} ({hits.index(index) + 1} of {len(hits)})"]
        return self._goto(index, note)

    # ------------------------------------------------------------------ moving

    def _advance(self, notes: list[str]) -> Step:
        nxt = self._next_unreviewed(self._cursor)
        if nxt is None:
            self.view = None
            return Step(notes=notes + [self.finished_text()], end="done")
        self._show(nxt)
        return Step(notes=notes, moved=True)

    def _skip(self) -> Step:
        if self.view.segment_id not in self._reviewed:
            self._skipped.add(self.view.segment_id)
        return self._advance(self._dropped())

    def _back(self) -> Step:
        if self._cursor == 0:
            return Step(notes=["this is the first participant segment in scope"])
        return self._goto(self._cursor - 1)

    def _forward(self) -> Step:
        if self._cursor == len(self._ids) - 1:
            return Step(notes=["this is the last participant segment in scope"])
        return self._goto(self._cursor + 1)

    def _quit(self) -> Step:
        return Step(notes=self._dropped(), end="quit")

    def _jump(self, target: str) -> Step:
        if not target:
            return Step(notes=["j needs a target: j N, j ID:N or j ID"])
        tid, n = target, None
        if target.isdigit():
            tid, n = self.view.transcript, int(target)
        elif ":" in target and target.rsplit(":", 1)[1].isdigit():
            tid, number = target.rsplit(":", 1)
            n = int(number)
        if tid not in self._ranges:
            return Step(notes=[self._no_such_transcript(tid)])
        lo, hi = self._ranges[tid]
        if n is None:
            index = next((i for i in range(lo, hi) if self._ids[i] not in self._reviewed), lo)
            return self._goto(index)
        with self.project.read() as conn:
            row = conn.execute(
                select(S.c.id, S.c.n).where(and_(S.c.transcript_id == tid, S.c.n >= n,
                                                 S.c.role == PARTICIPANT))
                .order_by(S.c.n).limit(1)).first()
        if row is None:
            return Step(notes=[f"no participant segment at or after {n} in {tid}"])
        notes = [] if row.n == n else [f"segment {n} of {tid} is not a participant turn — "
                                       f"showing segment {row.n}"]
        return self._goto(self._index[row.id], notes)

    def _no_such_transcript(self, tid: str) -> str:
        with self.project.read() as conn:
            exists = conn.execute(select(T.c.id).where(T.c.id == tid)).first() is not None
        if exists and self.transcript is not None:
            return f"{tid} is outside this session (--transcript {self.transcript})"
        if exists:
            return f"transcript {tid} has no participant segments"
        return f"no transcript {tid!r} — see `coder transcripts list`"

    def _goto(self, index: int, notes: list[str] | None = None) -> Step:
        notes = (notes or []) + self._dropped()
        self._show(index)
        return Step(notes=notes, moved=True)

    def _dropped(self) -> list[str]:
        return ["the unsaved selection was dropped"] if self.changed else []

    def _next_unreviewed(self, after: int | None) -> int | None:
        """The next index after ``after`` neither reviewed nor skipped, wrapping to the start."""
        ids, reviewed, skipped = self._ids, self._reviewed, self._skipped
        start = -1 if after is None else after
        for i in range(start + 1, len(ids)):
            if ids[i] not in reviewed and ids[i] not in skipped:
                return i
        while self._low < len(ids) and (ids[self._low] in reviewed or ids[self._low] in skipped):
            self._low += 1
        return self._low if self._low < len(ids) else None

    def _show(self, index: int) -> None:
        """Make ``ids[index]`` current: fetch it, its previous turn, attributes, decision."""
        sid = self._ids[index]
        with self.project.read() as conn:
            row = conn.execute(_SEGMENT, {"sid": sid}).one()
            tid = row.transcript_id
            prev = conn.execute(_TURN, {"tid": tid, "n": row.n - 1}).first()
            if tid not in self._attributes:
                self._attributes[tid] = dict(conn.execute(_ATTRIBUTES, {"tid": tid}).all())
            stored = None
            if sid in self._reviewed:
                stored = decisions(conn, self._coder_id, [sid]).get(sid)
            suggestions = []
            if self._model_id is not None:
                suggestions = [tuple(r) for r in conn.execute(
                    _SUGGESTIONS, {"coder": self._model_id, "sid": sid})]
            spans = coding_spans(conn, self._coder_id, sid) if stored is not None else {}
        self._cursor = index
        self.view = SegmentView(
            segment_id=sid, transcript=tid, turn=Turn(*row[1:]),
            previous=Turn(*prev) if prev else None, attributes=self._attributes[tid],
            stored=stored, suggestions=suggestions)
        self.selection, self.memo = self._saved()
        self._saved_spans = {k: v for k, v in spans.items() if k in self.selection}
        self.spans = dict(self._saved_spans)

    def _lookup_coder(self) -> int | None:
        with self.project.read() as conn:
            return _coder_id(conn, self.coder)

    def _saved(self) -> tuple[set[str], str | None]:
        """The saved decision restricted to the offered codes: the initial selection."""
        if self.view is None or self.view.stored is None:
            return set(), None
        codes, memo = self.view.stored
        return {k for k in codes if k in self._by_key}, memo


def resolve_code(token: str, codes: list[CodeOption]) -> CodeOption:
    """A code by number (1..N), full key, or prefix of each part of the key (``csto.rapid``)
    or of its last part (``rapid``); raises LookupError with a message (and a "did you mean"
    for a near miss) otherwise."""
    if token.isdigit():
        number = int(token)
        if 1 <= number <= len(codes):
            return codes[number - 1]
        raise LookupError(f"no code {number} — codes are numbered 1–{len(codes)}")
    wanted = token.lower()
    exact = [c for c in codes if wanted in (c.key, c.short)]
    if len(exact) == 1:
        return exact[0]
    parts = wanted.split(".")
    found = exact or [c for c in codes if _matches(parts, c.key.split("."))]
    if len(found) == 1:
        return found[0]
    if not found:
        import difflib

        names = {c.short: c for c in codes} | {c.key: c for c in codes}
        close = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.6)
        hint = (" — did you mean " + " or ".join(
            f"{names[n].number} {names[n].key}" for n in dict.fromkeys(close)) + "?"
                if close else " — type a code number or key prefix, or h for help")
        raise LookupError(f"unknown code or command {token!r}{hint}")
    listed = ", ".join(f"{c.number} {c.key}" for c in found[:8])
    more = f" and {len(found) - 8} more" if len(found) > 8 else ""
    raise LookupError(f"{token!r} is ambiguous: {listed}{more} — type more of the key or the "
                      "number")


def code_options(codebook) -> list[CodeOption]:
    """The codebook's codes numbered 1..N in codebook order, as ``coder code`` offers them."""
    return [CodeOption(i, c.key, c.label, c.parent, c.definition or "", tuple(c.include),
                       tuple(c.exclude), tuple(c.examples))
            for i, c in enumerate(codebook.codes, start=1)]


def _matches(token: list[str], key: list[str]) -> bool:
    """``csto.rapid`` matches ``csto_efficacy.rapid_deployment`` (each part a prefix);
    a one-part token also matches a prefix of the key's last part."""
    if len(token) == len(key) and all(k.startswith(t) for t, k in zip(token, key)):
        return True
    return len(token) == 1 and key[-1].startswith(token[0])


def _coder_id(conn: Connection, name: str) -> int | None:
    return conn.execute(select(C.c.id).where(C.c.name == name)).scalar()


def _require_transcript(conn: Connection, transcript: str) -> None:
    if conn.execute(select(T.c.id).where(T.c.id == transcript)).first() is None:
        ids = conn.execute(select(T.c.id).order_by(T.c.id).limit(8)).scalars().all()
        have = f" (have: {', '.join(ids)}…)" if ids else " (the project has none yet)"
        raise NotFoundError(f"no transcript {transcript!r}{have} — see `coder transcripts "
                            "list`")


__all__ = ["HELP", "KEY_LINE", "CodeOption", "CodingSession", "SegmentView", "Step", "Turn"]
