"""Reputation lookups (VirusTotal) as evidence beside the local analysis; off without an API key."""

from __future__ import annotations

from skillscan.analyzers.reputation.analyzer import (
    ReputationAnalyzer,
    build_reputation_analyzer,
    refs_to_rescan,
    retry_deferred,
)
from skillscan.analyzers.reputation.interface import (
    LookupKind,
    LookupResult,
    LookupStatus,
    LookupTarget,
    NullReputationService,
    Reputation,
    ReputationService,
)

__all__ = [
    "LookupKind",
    "LookupResult",
    "LookupStatus",
    "LookupTarget",
    "NullReputationService",
    "Reputation",
    "ReputationAnalyzer",
    "ReputationService",
    "build_reputation_analyzer",
    "refs_to_rescan",
    "retry_deferred",
]
