"""Versioned schema migrations, applied in order when a store is opened.

To add tables: declare the model in `schema.py`, then APPEND a `Migration` with the next version
number to `MIGRATIONS` that creates exactly those tables (or alters existing ones). Never edit or
reorder an applied migration: databases in the field have already run it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, insert, inspect, select

from skillscan.errors import StoreError
from skillscan.store import schema


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def create_tables(*tables: Table) -> Callable[[Connection], None]:
    """A migration step that creates the given tables (and their indexes) when they are absent."""

    def run(conn: Connection) -> None:
        for table in tables:
            table.create(conn, checkfirst=True)

    return run


def add_columns(table: Table, *names: str) -> Callable[[Connection], None]:
    """A migration step that adds model columns to an existing table (skipped where already present,
    e.g. on a fresh database whose earlier migration created the table from the current model)."""

    def run(conn: Connection) -> None:
        present = {c["name"] for c in inspect(conn).get_columns(table.name)}
        for name in names:
            if name in present:
                continue
            column = table.c[name]
            ddl = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(conn.dialect)}"
            conn.exec_driver_sql(ddl)

    return run


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "verdict store: skills, versions, scans, registry outcomes, high-water marks",
        create_tables(
            schema.table_of(schema.SkillRow),
            schema.table_of(schema.VersionRow),
            schema.table_of(schema.ScanRow),
            schema.table_of(schema.RegistryOutcomeRow),
            schema.table_of(schema.HighWaterMarkRow),
        ),
    ),
    Migration(
        2,
        "worker bookkeeping: failures, task deliveries, sweeps",
        create_tables(
            schema.table_of(schema.FailureRow),
            schema.table_of(schema.TaskDeliveryRow),
            schema.table_of(schema.SweepRow),
            schema.table_of(schema.SweepItemRow),
        ),
    ),
    Migration(
        3,
        "verdict posting and update diffs: deliveries, capability profiles, reputation cache and quota",
        create_tables(
            schema.table_of(schema.DeliveryRow),
            schema.table_of(schema.CapabilityProfileRow),
            schema.table_of(schema.ReputationCacheEntry),
            schema.table_of(schema.ReputationDeferred),
            schema.table_of(schema.ReputationQuotaGuard),
            schema.table_of(schema.ReputationQuotaGrant),
        ),
    ),
    Migration(
        4,
        "high-water marks keep structured crawl state",
        add_columns(schema.table_of(schema.HighWaterMarkRow), "state"),
    ),
    Migration(
        5,
        "HTTP API: scan jobs, uploads, finding suppressions, verdict overrides, report excerpts",
        create_tables(
            schema.table_of(schema.ServiceJobRow),
            schema.table_of(schema.ServiceUploadRow),
            schema.table_of(schema.FindingSuppressionRow),
            schema.table_of(schema.VerdictOverrideRow),
            schema.table_of(schema.ScanOriginalRow),
            schema.table_of(schema.ScanExcerptRow),
        ),
    ),
]


def check_order(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"migrations must be numbered 1..n in order, got {versions}")


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table(schema.SchemaVersionRow.__tablename__):
        return 0
    table = schema.table_of(schema.SchemaVersionRow)
    versions = conn.execute(select(table.c.version)).scalars().all()
    return max(versions, default=0)


def pending(conn: Connection, migrations: Sequence[Migration] = MIGRATIONS) -> list[Migration]:
    check_order(migrations)
    done = current_version(conn)
    if done > len(migrations):
        raise StoreError(
            f"the database schema is at version {done}, newer than this skillscan knows ({len(migrations)})"
        )
    return list(migrations[done:])


def apply_pending(conn: Connection, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply what is missing inside the caller's (write-locked) transaction; return applied versions."""
    todo = pending(conn, migrations)
    if not todo:
        return []
    version_table = schema.table_of(schema.SchemaVersionRow)
    version_table.create(conn, checkfirst=True)
    for migration in todo:
        migration.apply(conn)
        conn.execute(
            insert(version_table).values(
                version=migration.version, name=migration.name, applied_at=schema.utcnow()
            )
        )
    return [m.version for m in todo]
