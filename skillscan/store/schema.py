"""Declarative tables of the verdict store, on one shared `Base`.

Other features add their own models here (appended below the existing ones) together with an
appended migration in `migrations.py` that creates them; existing models are never edited in a way
that changes an applied migration.

Unknown owner/slug/version are stored as ``""`` rather than NULL so that unique constraints hold
(SQL treats NULLs as distinct).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """The one declarative base every store table derives from."""


def table_of(model: type[Base]) -> Table:
    """A model's Core table (typed for statements built with insert/update/delete)."""
    return cast(Table, model.__table__)


class SchemaVersionRow(Base):
    """One row per applied migration."""

    __tablename__ = "schema_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SkillRow(Base):
    __tablename__ = "skills"
    __table_args__ = (UniqueConstraint("owner", "slug", name="uq_skills_owner_slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    slug: Mapped[str] = mapped_column(String(200))
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VersionRow(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("skill_id", "version", name="uq_versions_skill_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), index=True)
    version: Mapped[str] = mapped_column(String(100), default="")
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScanRow(Base):
    """One scan of one version with one ruleset. A rescan with another ruleset adds a row.

    `scan_key` (sha256 of owner, slug, version, bundle fingerprint, ruleset digest) makes a repeat
    of the same scan a no-op; it is NULL for scans recorded without deduplication.
    """

    __tablename__ = "scans"
    __table_args__ = (
        Index("ix_scans_version_ruleset", "owner", "slug", "version", "ruleset"),
        Index("ix_scans_fingerprint", "fingerprint"),
        Index("ix_scans_scanned_at", "scanned_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), index=True, nullable=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    slug: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(100), default="")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    ruleset: Mapped[str] = mapped_column(String(128), default="")
    tool_version: Mapped[str] = mapped_column(String(40), default="")
    verdict: Mapped[str] = mapped_column(String(20), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(20), default="")
    scanned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    scan_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)


class RegistryOutcomeRow(Base):
    """The last registry answer for a version that did not yield a scan (blocked, removed, pending, …)."""

    __tablename__ = "registry_outcomes"
    __table_args__ = (UniqueConstraint("owner", "slug", "version", name="uq_outcomes_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    slug: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(30), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HighWaterMarkRow(Base):
    """Registry crawl positions (e.g. the newest `updatedAt` already processed), per registry + feed."""

    __tablename__ = "high_water_marks"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Structured crawl state (several timestamps and the keys seen at the newest one); migration 4.
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class FailureRow(Base):
    """Work that failed for good: listed by `skillscan failures`, resent by `skillscan replay`.

    `task`, `args` and `kwargs` are exactly what re-enqueues it, so any queue's task can record here.
    """

    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    queue: Mapped[str] = mapped_column(String(50), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")  # e.g. "owner/slug@1.0.0"
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="failed", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TaskDeliveryRow(Base):
    """How often one task message was delivered: caps redelivery of a task that kills its worker."""

    __tablename__ = "task_deliveries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class SweepRow(Base):
    __tablename__ = "sweeps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_url: Mapped[str] = mapped_column(String(500), default="")
    ruleset: Mapped[str] = mapped_column(String(128), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    listed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    listing_error: Mapped[str] = mapped_column(Text, default="")


class SweepItemRow(Base):
    """One version a sweep enqueued, and what became of it (for progress and the summary)."""

    __tablename__ = "sweep_items"
    __table_args__ = (UniqueConstraint("sweep_id", "owner", "slug", "version", name="uq_sweep_items"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sweep_id: Mapped[int] = mapped_column(ForeignKey("sweeps.id"), index=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    slug: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    verdict: Mapped[str | None] = mapped_column(String(20), nullable=True)
    previous_verdict: Mapped[str | None] = mapped_column(String(20), nullable=True)
    scan_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


# -- posting verdicts, capability profiles, reputation cache (skillscan.post, skillscan.diff,
#    skillscan.analyzers.reputation) --------------------------------------------------------------


class DeliveryRow(Base):
    """One verdict delivery to one sink: the exact body, its state and every attempt's outcome.

    `key` (scan id + sink) is the idempotency key sent to the receiver; a delivery is never deleted,
    so one that keeps failing stays listed until it is replayed.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    scan_id: Mapped[int] = mapped_column(Integer, index=True)
    sink: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    verdict: Mapped[str] = mapped_column(String(20), default="")
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CapabilityProfileRow(Base):
    """What one scanned version can do (network hosts, process execution, …), for update diffs."""

    __tablename__ = "capability_profiles"
    __table_args__ = (Index("ix_capability_profiles_skill", "owner", "slug"),)

    scan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(200), default="")
    slug: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(100), default="")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReputationCacheEntry(Base):
    """A reputation answer (VirusTotal engine stats, or unknown) kept until `expires_at` (unix seconds)."""

    __tablename__ = "reputation_cache"

    cache_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class ReputationDeferred(Base):
    """A lookup deferred by quota or a 429, made later."""

    __tablename__ = "reputation_deferred"

    cache_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    target: Mapped[str] = mapped_column(Text)
    deferred_at: Mapped[float] = mapped_column(Float, index=True)


class ReputationQuotaGuard(Base):
    """The single row every quota transaction updates first: it serialises processes."""

    __tablename__ = "reputation_quota"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)


class ReputationQuotaGrant(Base):
    """One request granted by the quota (unix seconds); pruned after a day."""

    __tablename__ = "reputation_quota_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)


class ServiceJobRow(Base):
    """A scan submitted through the HTTP API: queued -> running -> done | failed."""

    __tablename__ = "service_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # upload | clawhub
    status: Mapped[str] = mapped_column(String(20), index=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    slug: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(100), default="")
    filename: Mapped[str] = mapped_column(String(300), default="")
    submitted_by: Mapped[str] = mapped_column(String(100), default="")
    scan_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ServiceUploadRow(Base):
    """An uploaded bundle waiting for its job (kept in the database so any worker can read it)."""

    __tablename__ = "service_uploads"

    job_id: Mapped[str] = mapped_column(ForeignKey("service_jobs.id"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FindingSuppressionRow(Base):
    """A maintainer's suppression of one rule on one file version (rule id, path, sha256): never a glob."""

    __tablename__ = "finding_suppressions"
    __table_args__ = (Index("ix_suppressions_rule_file", "rule_id", "file_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(1000))
    file_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(100))
    scan_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VerdictOverrideRow(Base):
    """A maintainer's verdict for one bundle (by fingerprint), recorded on one scan; the newest wins."""

    __tablename__ = "verdict_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(Integer, index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True, default="")
    verdict: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScanOriginalRow(Base):
    """The scanner's own report of a scan whose stored verdict maintainer actions changed."""

    __tablename__ = "scan_originals"

    scan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


class ScanExcerptRow(Base):
    """Lines around each finding, kept for the maintainer report (the bundle itself is not stored)."""

    __tablename__ = "scan_excerpts"

    scan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    excerpts: Mapped[dict[str, Any]] = mapped_column(JSON)
