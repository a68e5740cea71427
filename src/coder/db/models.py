"""SQLModel models of a coder project (SPEC §2).

The schema is created and changed only by the numbered migrations in
:mod:`coder.db.migrations`; these models describe the schema the latest migration leaves,
and a test checks that the two agree.

Conventions: JSON-valued columns (criteria, examples, keywords, sources) hold a JSON array as
text, so the schema is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import (
    Boolean, Column, DateTime, Index, LargeBinary, Text, UniqueConstraint, true,
)
from sqlmodel import Field, SQLModel

from coder.db.tables import utcnow  # noqa: F401 - re-exported


class SchemaMigration(SQLModel, table=True):
    __tablename__ = "schema_migration"
    version: int = Field(primary_key=True)
    name: str
    applied_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Participant(SQLModel, table=True):
    """An anonymized interviewee, known only by pseudonym (``KZ-01``)."""

    id: str = Field(primary_key=True)


class Transcript(SQLModel, table=True):
    """One interview. ``text`` is the normalized full text that segment offsets point into."""

    id: str = Field(primary_key=True)
    participant_id: Optional[str] = Field(default=None, foreign_key="participant.id", index=True)
    source: str
    format: str
    sha256: str
    interviewer: Optional[str] = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    imported_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Attribute(SQLModel, table=True):
    """A participant or interview attribute (``country``, ``mode``, ``date``…) of a transcript."""

    transcript_id: str = Field(primary_key=True, foreign_key="transcript.id", ondelete="CASCADE")
    name: str = Field(primary_key=True)
    value: Optional[str] = None


class Segment(SQLModel, table=True):
    """One speaker turn. ``n`` counts from 1 within the transcript, interviewer turns included."""

    __table_args__ = (UniqueConstraint("transcript_id", "n", name="uq_segment_transcript_n"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    transcript_id: str = Field(foreign_key="transcript.id", ondelete="CASCADE")
    n: int
    speaker: str
    role: str  # "interviewer" | "participant"
    start: Optional[float] = None
    end: Optional[float] = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    char_start: int
    char_end: int


class Codebook(SQLModel, table=True):
    """One version of the project's codebook; the highest version is the current one."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    version: int = Field(unique=True)
    sha256: str
    source: str = Field(sa_column=Column(Text, nullable=False))
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Code(SQLModel, table=True):
    """A theme (``parent`` is None) or sub-code of one codebook version; ``key`` is the full path."""

    __table_args__ = (UniqueConstraint("codebook_id", "key", name="uq_code_codebook_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    codebook_id: int = Field(foreign_key="codebook.id", ondelete="CASCADE")
    key: str
    parent: Optional[str] = None
    label: str
    definition: str = Field(default="", sa_column=Column(Text, nullable=False))
    include: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    exclude: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    examples: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    keywords: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    colour: Optional[str] = None
    position: int = 0
    renamed_from: Optional[str] = None
    codable: bool = Field(default=True, sa_column=Column(Boolean, nullable=False,
                                                         server_default=true()))


class Coder(SQLModel, table=True):
    """A person (``alice``), a machine coder (``auto:model``) or the ``consensus``."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    kind: str = "human"  # human | machine | consensus
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Review(SQLModel, table=True):
    """A coder decided on a segment (with or without codes); see SPEC §6."""

    coder_id: int = Field(primary_key=True, foreign_key="coder.id", ondelete="CASCADE")
    segment_id: int = Field(primary_key=True, foreign_key="segment.id", ondelete="CASCADE",
                            index=True)
    memo: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    source: str = "session"  # session | import | auto | reconcile | refi
    reviewed_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Coding(SQLModel, table=True):
    """A code applied by a coder to a segment, under the codebook version it was made with."""

    __table_args__ = (
        UniqueConstraint("coder_id", "segment_id", "code_key", name="uq_coding"),
        Index("ix_coding_segment", "segment_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    coder_id: int = Field(foreign_key="coder.id", ondelete="CASCADE")
    segment_id: int = Field(foreign_key="segment.id", ondelete="CASCADE")
    code_key: str
    codebook_id: Optional[int] = Field(default=None, foreign_key="codebook.id")
    memo: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    probability: Optional[float] = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    #: the marked sentence(s): character offsets into the segment's text (None: the whole turn)
    span_start: Optional[int] = None
    span_end: Optional[int] = None


class Decision(SQLModel, table=True):
    """How a consensus coding was settled: by whom, by which rule, from which coders' values."""

    id: Optional[int] = Field(default=None, primary_key=True)
    coder_id: int = Field(foreign_key="coder.id", ondelete="CASCADE")  # the consensus coder
    segment_id: int = Field(foreign_key="segment.id", ondelete="CASCADE", index=True)
    code_key: str
    applied: bool
    rule: str  # majority | unanimous | interactive
    settled_by: str
    sources: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # {coder: 0/1}
    decided_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class AutocodeModel(SQLModel, table=True):
    """A trained auto-coder, tied to the codebook version and training data it was fitted on."""

    __tablename__ = "autocode_model"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    codebook_id: int = Field(foreign_key="codebook.id")
    trained_from: str
    data_sha256: str
    metrics: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    blob: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # coder.autocode.storage
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    blob_sha256: Optional[str] = None  # checked before the blob is read


class ProjectSetting(SQLModel, table=True):
    """A project-wide setting (``language``, ``interviewer_labels``…); the value is JSON text."""

    __tablename__ = "project_setting"
    key: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class TeamMember(SQLModel, table=True):
    """A person of a team project: a PostgreSQL login with a ``role`` (coder, supervisor,
    reader) that the database enforces (:mod:`coder.team`)."""

    __tablename__ = "team_member"
    name: str = Field(primary_key=True)
    role: str
    added_by: str
    added_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class AuditLog(SQLModel, table=True):
    """One change of a coder, review, coding or decision row, written by a trigger: who, when,
    which table, INSERT/UPDATE/DELETE, and the row before and after as JSON."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    actor: str
    table_name: str
    operation: str
    before: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    after: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))


class AuditContext(SQLModel, table=True):
    """SQLite only: who writes in the current transaction (set and cleared by coder inside
    each write transaction, so the triggers can name the OS user); always empty otherwise."""

    __tablename__ = "audit_context"
    actor: str = Field(primary_key=True)


class LlmRun(SQLModel, table=True):
    """One run of the language-model coder: model, endpoint, parameters, prompt template."""

    __tablename__ = "llm_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    coder: str = Field(index=True)
    model: str
    model_digest: Optional[str] = None
    endpoint: str
    params: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    template_sha256: str
    codebook_id: int = Field(foreign_key="codebook.id")
    started_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    finished_at: Optional[datetime] = Field(default=None, sa_type=DateTime(timezone=True))
    segments: int = 0
    requests: int = 0
    replayed: int = 0
    failures: int = 0


class LlmCall(SQLModel, table=True):
    """One request to the model (or one replay of a recorded answer) and what came back."""

    __tablename__ = "llm_call"
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="llm_run.id", ondelete="CASCADE", index=True)
    segment_id: int = Field(foreign_key="segment.id", ondelete="CASCADE")
    request_sha256: str = Field(index=True)
    attempt: int
    final: bool
    replayed: bool
    request: str = Field(sa_column=Column(Text, nullable=False))
    response: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str  # ok | invalid | refused | error
    error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    answer: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    seconds: Optional[float] = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
