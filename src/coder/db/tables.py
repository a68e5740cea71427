"""The project's tables as plain SQLAlchemy Core ``Table`` objects (the schema of SPEC §2).

The same schema as the SQLModel classes of :mod:`coder.db.models` (a test checks that the
three — migrations, models, these tables — agree), without SQLModel and pydantic: importing
those costs about half a second, more than many a whole command on a large project (SPEC §10).
Library code builds its queries on these tables; the models remain the documented, typed
description of the rows.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String,
    Table, Text, UniqueConstraint, true,
)

metadata = MetaData()
TZ = DateTime(timezone=True)
_REQUIRED = {"nullable": False}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


schema_migration = Table(
    "schema_migration", metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String, **_REQUIRED),
    Column("applied_at", TZ, **_REQUIRED))

participant = Table("participant", metadata, Column("id", String, primary_key=True))

transcript = Table(
    "transcript", metadata,
    Column("id", String, primary_key=True),
    Column("participant_id", String, ForeignKey("participant.id"), index=True),
    Column("source", String, **_REQUIRED), Column("format", String, **_REQUIRED),
    Column("sha256", String, **_REQUIRED), Column("interviewer", String),
    Column("text", Text, **_REQUIRED), Column("imported_at", TZ, **_REQUIRED))

attribute = Table(
    "attribute", metadata,
    Column("transcript_id", String, ForeignKey("transcript.id", ondelete="CASCADE"),
           primary_key=True),
    Column("name", String, primary_key=True), Column("value", String))

segment = Table(
    "segment", metadata,
    Column("id", Integer, primary_key=True),
    Column("transcript_id", String, ForeignKey("transcript.id", ondelete="CASCADE"),
           **_REQUIRED),
    Column("n", Integer, **_REQUIRED), Column("speaker", String, **_REQUIRED),
    Column("role", String, **_REQUIRED), Column("start", Float), Column("end", Float),
    Column("text", Text, **_REQUIRED), Column("char_start", Integer, **_REQUIRED),
    Column("char_end", Integer, **_REQUIRED),
    UniqueConstraint("transcript_id", "n", name="uq_segment_transcript_n"))

codebook = Table(
    "codebook", metadata,
    Column("id", Integer, primary_key=True), Column("name", String, **_REQUIRED),
    Column("version", Integer, unique=True, **_REQUIRED), Column("sha256", String, **_REQUIRED),
    Column("source", Text, **_REQUIRED), Column("loaded_at", TZ, **_REQUIRED))

code = Table(
    "code", metadata,
    Column("id", Integer, primary_key=True),
    Column("codebook_id", Integer, ForeignKey("codebook.id", ondelete="CASCADE"), **_REQUIRED),
    Column("key", String, **_REQUIRED), Column("parent", String),
    Column("label", String, **_REQUIRED), Column("definition", Text, **_REQUIRED),
    Column("include", Text, **_REQUIRED), Column("exclude", Text, **_REQUIRED),
    Column("examples", Text, **_REQUIRED), Column("keywords", Text, **_REQUIRED),
    Column("colour", String), Column("position", Integer, **_REQUIRED),
    Column("renamed_from", String),
    Column("codable", Boolean, nullable=False, server_default=true()),
    UniqueConstraint("codebook_id", "key", name="uq_code_codebook_key"))

coder = Table(
    "coder", metadata,
    Column("id", Integer, primary_key=True), Column("name", String, unique=True, **_REQUIRED),
    Column("kind", String, **_REQUIRED), Column("created_at", TZ, **_REQUIRED))

review = Table(
    "review", metadata,
    Column("coder_id", Integer, ForeignKey("coder.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_id", Integer, ForeignKey("segment.id", ondelete="CASCADE"),
           primary_key=True, index=True),
    Column("memo", Text), Column("source", String, **_REQUIRED),
    Column("reviewed_at", TZ, **_REQUIRED))

coding = Table(
    "coding", metadata,
    Column("id", Integer, primary_key=True),
    Column("coder_id", Integer, ForeignKey("coder.id", ondelete="CASCADE"), **_REQUIRED),
    Column("segment_id", Integer, ForeignKey("segment.id", ondelete="CASCADE"), **_REQUIRED),
    Column("code_key", String, **_REQUIRED),
    Column("codebook_id", Integer, ForeignKey("codebook.id")),
    Column("memo", Text), Column("probability", Float),
    Column("created_at", TZ, **_REQUIRED),
    Column("span_start", Integer), Column("span_end", Integer),  # the marked sentence(s)
    UniqueConstraint("coder_id", "segment_id", "code_key", name="uq_coding"),
    Index("ix_coding_segment", "segment_id"))

decision = Table(
    "decision", metadata,
    Column("id", Integer, primary_key=True),
    Column("coder_id", Integer, ForeignKey("coder.id", ondelete="CASCADE"), **_REQUIRED),
    Column("segment_id", Integer, ForeignKey("segment.id", ondelete="CASCADE"), index=True,
           **_REQUIRED),
    Column("code_key", String, **_REQUIRED), Column("applied", Boolean, **_REQUIRED),
    Column("rule", String, **_REQUIRED), Column("settled_by", String, **_REQUIRED),
    Column("sources", Text, **_REQUIRED), Column("decided_at", TZ, **_REQUIRED))

autocode_model = Table(
    "autocode_model", metadata,
    Column("id", Integer, primary_key=True), Column("name", String, unique=True, **_REQUIRED),
    Column("codebook_id", Integer, ForeignKey("codebook.id"), **_REQUIRED),
    Column("trained_from", String, **_REQUIRED), Column("data_sha256", String, **_REQUIRED),
    Column("metrics", Text, **_REQUIRED), Column("blob", LargeBinary, **_REQUIRED),
    Column("created_at", TZ, **_REQUIRED), Column("blob_sha256", String))

project_setting = Table(
    "project_setting", metadata,
    Column("key", String, primary_key=True), Column("value", Text, **_REQUIRED),
    Column("updated_at", TZ, **_REQUIRED))

team_member = Table(
    "team_member", metadata,
    Column("name", String, primary_key=True), Column("role", String, **_REQUIRED),
    Column("added_by", String, **_REQUIRED), Column("added_at", TZ, **_REQUIRED))

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True), Column("at", TZ, **_REQUIRED),
    Column("actor", String, **_REQUIRED), Column("table_name", String, **_REQUIRED),
    Column("operation", String, **_REQUIRED), Column("before", Text), Column("after", Text),
    Index("ix_audit_log_at", "at"))

audit_context = Table("audit_context", metadata, Column("actor", String, primary_key=True))

llm_run = Table(
    "llm_run", metadata,
    Column("id", Integer, primary_key=True), Column("coder", String, index=True, **_REQUIRED),
    Column("model", String, **_REQUIRED), Column("model_digest", String),
    Column("endpoint", String, **_REQUIRED), Column("params", Text, **_REQUIRED),
    Column("template_sha256", String, **_REQUIRED),
    Column("codebook_id", Integer, ForeignKey("codebook.id"), **_REQUIRED),
    Column("started_at", TZ, **_REQUIRED), Column("finished_at", TZ),
    Column("segments", Integer, **_REQUIRED), Column("requests", Integer, **_REQUIRED),
    Column("replayed", Integer, **_REQUIRED), Column("failures", Integer, **_REQUIRED))

llm_call = Table(
    "llm_call", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("llm_run.id", ondelete="CASCADE"), index=True,
           **_REQUIRED),
    Column("segment_id", Integer, ForeignKey("segment.id", ondelete="CASCADE"), **_REQUIRED),
    Column("request_sha256", String, index=True, **_REQUIRED),
    Column("attempt", Integer, **_REQUIRED), Column("final", Boolean, **_REQUIRED),
    Column("replayed", Boolean, **_REQUIRED), Column("request", Text, **_REQUIRED),
    Column("response", Text), Column("status", String, **_REQUIRED), Column("error", Text),
    Column("answer", Text), Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer), Column("seconds", Float),
    Column("created_at", TZ, **_REQUIRED))
