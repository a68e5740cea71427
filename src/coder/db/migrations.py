"""Numbered schema migrations, recorded in ``schema_migration``.

Each migration is a plain function ``mNNN_name(conn)`` that changes the schema with SQLAlchemy
Core, so that it runs unchanged on SQLite and PostgreSQL. Migrations are frozen once they have
landed: a later schema change is a new function, never an edit of an old one. Each one runs in
its own transaction together with the row that records it, so a failed migration leaves the
database at the previous version.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String,
    Table, Text, UniqueConstraint, text,
)
from sqlalchemy.engine import Connection, Engine

TZ = DateTime(timezone=True)


def m001_initial(conn: Connection) -> None:
    md = MetaData()
    now = {"nullable": False}
    Table("participant", md, Column("id", String, primary_key=True))
    Table("transcript", md,
          Column("id", String, primary_key=True),
          Column("participant_id", String, ForeignKey("participant.id"), index=True),
          Column("source", String, **now), Column("format", String, **now),
          Column("sha256", String, **now), Column("interviewer", String),
          Column("text", Text, **now), Column("imported_at", TZ, **now))
    Table("attribute", md,
          Column("transcript_id", String, ForeignKey("transcript.id", ondelete="CASCADE"),
                 primary_key=True),
          Column("name", String, primary_key=True), Column("value", String))
    Table("segment", md,
          Column("id", Integer, primary_key=True),
          Column("transcript_id", String, ForeignKey("transcript.id", ondelete="CASCADE"), **now),
          Column("n", Integer, **now), Column("speaker", String, **now),
          Column("role", String, **now), Column("start", Float), Column("end", Float),
          Column("text", Text, **now), Column("char_start", Integer, **now),
          Column("char_end", Integer, **now),
          UniqueConstraint("transcript_id", "n", name="uq_segment_transcript_n"))
    Table("codebook", md,
          Column("id", Integer, primary_key=True), Column("name", String, **now),
          Column("version", Integer, unique=True, **now), Column("sha256", String, **now),
          Column("source", Text, **now), Column("loaded_at", TZ, **now))
    Table("code", md,
          Column("id", Integer, primary_key=True),
          Column("codebook_id", Integer, ForeignKey("codebook.id", ondelete="CASCADE"), **now),
          Column("key", String, **now), Column("parent", String),
          Column("label", String, **now), Column("definition", Text, **now),
          Column("include", Text, **now), Column("exclude", Text, **now),
          Column("examples", Text, **now), Column("keywords", Text, **now),
          Column("colour", String), Column("position", Integer, **now),
          Column("renamed_from", String),
          UniqueConstraint("codebook_id", "key", name="uq_code_codebook_key"))
    Table("coder", md,
          Column("id", Integer, primary_key=True), Column("name", String, unique=True, **now),
          Column("kind", String, **now), Column("created_at", TZ, **now))
    Table("review", md,
          Column("coder_id", Integer, ForeignKey("coder.id", ondelete="CASCADE"),
                 primary_key=True),
          Column("segment_id", Integer, ForeignKey("segment.id", ondelete="CASCADE"),
                 primary_key=True, index=True),
          Column("memo", Text), Column("source", String, **now),
          Column("reviewed_at", TZ, **now))
    Table("coding", md,
          Column("id", Integer, primary_key=True),
          Column("coder_id", Integer, ForeignKey("coder.id", ondelete="CASCADE"), **now),
          Column("segment_id", Integer, ForeignKey("segment.id", ondelete="CASCADE"), **now),
          Column("code_key", String, **now),
          Column("codebook_id", Integer, ForeignKey("codebook.id")),
          Column("memo", Text), Column("probability", Float),
          Column("created_at", TZ, **now),
          UniqueConstraint("coder_id", "segment_id", "code_key", name="uq_coding"),
          Index("ix_coding_segment", "segment_id"))
    Table("decision", md,
          Column("id", Integer, primary_key=True),
          Column("coder_id", Integer, ForeignKey("coder.id", ondelete="CASCADE"), **now),
          Column("segment_id", Integer, ForeignKey("segment.id", ondelete="CASCADE"),
                 index=True, **now),
          Column("code_key", String, **now), Column("applied", Boolean, **now),
          Column("rule", String, **now), Column("settled_by", String, **now),
          Column("sources", Text, **now), Column("decided_at", TZ, **now))
    Table("autocode_model", md,
          Column("id", Integer, primary_key=True), Column("name", String, unique=True, **now),
          Column("codebook_id", Integer, ForeignKey("codebook.id"), **now),
          Column("trained_from", String, **now), Column("data_sha256", String, **now),
          Column("metrics", Text, **now), Column("blob", LargeBinary, **now),
          Column("created_at", TZ, **now))
    md.create_all(conn)


def m002_project_setting(conn: Connection) -> None:
    md = MetaData()
    Table("project_setting", md,
          Column("key", String, primary_key=True), Column("value", Text, nullable=False),
          Column("updated_at", TZ, nullable=False))
    md.create_all(conn)


AUDITED = ("coder", "review", "coding", "decision")


def m003_identity_audit(conn: Connection) -> None:
    """Team roles, the audit log (filled by triggers), and the model blob's SHA-256."""
    md = MetaData()
    Table("team_member", md,
          Column("name", String, primary_key=True), Column("role", String, nullable=False),
          Column("added_by", String, nullable=False), Column("added_at", TZ, nullable=False))
    Table("audit_log", md,
          Column("id", Integer, primary_key=True), Column("at", TZ, nullable=False),
          Column("actor", String, nullable=False), Column("table_name", String, nullable=False),
          Column("operation", String, nullable=False), Column("before", Text),
          Column("after", Text), Index("ix_audit_log_at", "at"))
    Table("audit_context", md, Column("actor", String, primary_key=True))
    md.create_all(conn)
    conn.execute(text("ALTER TABLE autocode_model ADD COLUMN blob_sha256 VARCHAR"))
    from coder.db.audit import create_audit_triggers

    create_audit_triggers(conn, AUDITED)


def m004_coding_span(conn: Connection) -> None:
    """A coding may mark the sentence(s) of its segment that carry the code: character
    offsets into the segment's text (the segment stays the unit of agreement)."""
    conn.execute(text("ALTER TABLE coding ADD COLUMN span_start INTEGER"))
    conn.execute(text("ALTER TABLE coding ADD COLUMN span_end INTEGER"))


def m005_llm_coder(conn: Connection) -> None:
    md = MetaData()
    md.reflect(conn, only=["segment", "codebook"])  # the tables the new ones refer to
    Table("llm_run", md,
          Column("id", Integer, primary_key=True),
          Column("coder", String, nullable=False, index=True),
          Column("model", String, nullable=False), Column("model_digest", String),
          Column("endpoint", String, nullable=False),
          Column("params", Text, nullable=False),
          Column("template_sha256", String, nullable=False),
          Column("codebook_id", Integer, ForeignKey("codebook.id"), nullable=False),
          Column("started_at", TZ, nullable=False), Column("finished_at", TZ),
          Column("segments", Integer, nullable=False), Column("requests", Integer, nullable=False),
          Column("replayed", Integer, nullable=False), Column("failures", Integer, nullable=False))
    Table("llm_call", md,
          Column("id", Integer, primary_key=True),
          Column("run_id", Integer, ForeignKey("llm_run.id", ondelete="CASCADE"), nullable=False,
                 index=True),
          Column("segment_id", Integer, ForeignKey("segment.id", ondelete="CASCADE"),
                 nullable=False),
          Column("request_sha256", String, nullable=False, index=True),
          Column("attempt", Integer, nullable=False), Column("final", Boolean, nullable=False),
          Column("replayed", Boolean, nullable=False),
          Column("request", Text, nullable=False), Column("response", Text),
          Column("status", String, nullable=False), Column("error", Text),
          Column("answer", Text),
          Column("prompt_tokens", Integer), Column("completion_tokens", Integer),
          Column("seconds", Float), Column("created_at", TZ, nullable=False))
    md.create_all(conn, tables=[md.tables["llm_run"], md.tables["llm_call"]])


def m006_code_codable(conn: Connection) -> None:
    """A code may be a category that is never applied itself (REFI-QDA ``isCodable``)."""
    conn.execute(text("ALTER TABLE code ADD COLUMN codable BOOLEAN NOT NULL DEFAULT TRUE"))


# Numbers are reserved per capability so that parallel branches never collide; gaps are fine.
MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, m001_initial),
    (2, m002_project_setting),
    (3, m003_identity_audit),
    (4, m004_coding_span),
    (5, m005_llm_coder),
    (6, m006_code_codable),
]


def _ensure_table(engine: Engine) -> None:
    md = MetaData()
    Table("schema_migration", md,
          Column("version", Integer, primary_key=True),
          Column("name", String, nullable=False),
          Column("applied_at", TZ, nullable=False))
    with engine.begin() as conn:
        md.create_all(conn)


def applied_versions(engine: Engine) -> set[int]:
    """Versions recorded in ``schema_migration``: one connection, two cheap statements (every
    command opens the project this way, so no schema reflection here)."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "schema_migration"):
            return set()
        return {row[0] for row in conn.exec_driver_sql("SELECT version FROM schema_migration")}


def pending(engine: Engine) -> list[tuple[int, Callable[[Connection], None]]]:
    done = applied_versions(engine)
    return [(v, fn) for v, fn in MIGRATIONS if v not in done]


def migrate(engine: Engine) -> list[str]:
    """Apply every pending migration, each in one transaction; return their names."""
    todo = pending(engine)
    if not todo:
        return []
    if engine.dialect.name == "postgresql":
        # several coders may open a fresh team database at once: one migrates, others wait
        with engine.connect() as lock:
            lock.exec_driver_sql("SELECT pg_advisory_lock(735102)")
            try:
                return _apply(engine, pending(engine))
            finally:
                lock.exec_driver_sql("SELECT pg_advisory_unlock(735102)")
                lock.commit()
    return _apply(engine, todo)


def _apply(engine: Engine, todo) -> list[str]:
    from coder.db.tables import utcnow

    if not todo:
        return []
    _ensure_table(engine)
    names = []
    for version, fn in todo:
        with engine.begin() as conn:
            # Re-check inside the transaction: another process may have migrated meanwhile.
            done = conn.execute(text("SELECT 1 FROM schema_migration WHERE version = :v"),
                                {"v": version}).first()
            if done:
                continue
            fn(conn)
            conn.execute(text("INSERT INTO schema_migration (version, name, applied_at) "
                              "VALUES (:v, :n, :t)"),
                         {"v": version, "n": fn.__name__, "t": utcnow()})
        names.append(fn.__name__)
    return names
