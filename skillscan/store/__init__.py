"""Verdict store: SQLAlchemy 2, a SQLite file by default, PostgreSQL by URL (`SKILLSCAN_DATABASE_URL`)."""

from __future__ import annotations

from skillscan.config import Settings
from skillscan.store.bookkeeping import Failure, RegistryOutcome
from skillscan.store.engine import StoreBusy
from skillscan.store.store import Recorded, StoredScan, ToRecord, VerdictStore, scan_key, stored_fields
from skillscan.store.sweeps import SweepItemResult, SweepProgress


def open_store(settings: Settings) -> VerdictStore:
    """The store the settings name (`database_url`, else the SQLite file under `data_dir`)."""
    return VerdictStore(settings.effective_database_url)


__all__ = [
    "Failure",
    "Recorded",
    "RegistryOutcome",
    "StoreBusy",
    "StoredScan",
    "SweepItemResult",
    "SweepProgress",
    "ToRecord",
    "VerdictStore",
    "open_store",
    "scan_key",
    "stored_fields",
]
