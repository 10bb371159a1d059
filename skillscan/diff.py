"""Update diff ("rug pull" detection): what a version can do that the previous version could not.

Each scanned version's capability profile is stored; when a version adds capabilities, the scan
gets an `update-capability-added` finding listing them, with a severity that follows what was
added (new process execution together with a new network host is high). `diff_for_scan` gives the
report page the same comparison for any stored scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import semver
import yaml
from sqlalchemy import bindparam, select

from skillscan.models import (
    Category,
    Confidence,
    Decision,
    Finding,
    RuleMeta,
    ScanError,
    ScanReport,
    Severity,
    Skill,
    Verdict,
)
from skillscan.profile import (
    AGENT_COMMANDS,
    BINARIES,
    CAPABILITIES,
    CREDENTIAL_PATHS,
    ENV_VARS,
    INSTALL_SPECS,
    LABELS,
    NETWORK_HOSTS,
    PERSISTENCE,
    PROCESS_EXEC,
    CapabilityProfile,
    Location,
    extract_profile,
)
from skillscan.rules import meta_from_mapping

RULE_ID = "update-capability-added"
ANALYZER = "update-diff"
RULES_FILE = Path(__file__).with_name("diff_rules.yaml")
_MESSAGE_MAX = 1000
_ITEMS_SHOWN = 6


@dataclass(frozen=True)
class ProfileDiff:
    version: str
    previous_version: str | None  # None: no earlier version of this skill is known
    added: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    removed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def has_additions(self) -> bool:
        return any(self.added.values())

    def severity(self) -> Severity | None:
        return added_severity(self.added)

    def to_dict(self) -> dict[str, Any]:
        """The shape the report page renders."""
        severity = self.severity()
        return {
            "version": self.version,
            "previous_version": self.previous_version,
            "severity": str(severity) if severity else None,
            "added": {cap: list(items) for cap, items in self.added.items()},
            "removed": {cap: list(items) for cap, items in self.removed.items()},
            "labels": {cap: LABELS[cap] for cap in CAPABILITIES},
        }


def rules() -> list[RuleMeta]:
    """Metadata of the update diff's rule, for rule listings and the ruleset digest."""
    raw = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    return [meta_from_mapping(r["id"], ANALYZER, {"status": "stable", **r}, RULES_FILE.name) for r in raw]


def diff_profiles(
    previous: CapabilityProfile, current: CapabilityProfile, *, version: str, previous_version: str | None
) -> ProfileDiff:
    added: dict[str, tuple[str, ...]] = {}
    removed: dict[str, tuple[str, ...]] = {}
    for cap in CAPABILITIES:
        new = sorted(current.get(cap) - previous.get(cap))
        gone = sorted(previous.get(cap) - current.get(cap))
        if new:
            added[cap] = tuple(new)
        if gone:
            removed[cap] = tuple(gone)
    return ProfileDiff(version=version, previous_version=previous_version, added=added, removed=removed)


def added_severity(added: Mapping[str, Sequence[str]]) -> Severity | None:
    """Severity follows the capability: the shapes of a takeover are high, single new powers less."""
    has = {cap for cap, items in added.items() if items}
    if not has:
        return None
    exec_, host, cred = PROCESS_EXEC in has, NETWORK_HOSTS in has, CREDENTIAL_PATHS in has
    persist, binary = PERSISTENCE in has, BINARIES in has
    if (exec_ and host) or (cred and host) or (persist and (exec_ or host)) or (binary and exec_):
        return Severity.HIGH
    if exec_ or cred or persist or binary or INSTALL_SPECS in has:
        return Severity.MEDIUM
    if host or AGENT_COMMANDS in has or ENV_VARS in has:
        return Severity.LOW
    return Severity.INFO


def update_finding(diff: ProfileDiff, current: CapabilityProfile) -> Finding | None:
    severity = diff.severity()
    if severity is None or diff.previous_version is None:
        return None
    parts = []
    for cap in CAPABILITIES:
        items = diff.added.get(cap, ())
        if items:
            shown = ", ".join(items[:_ITEMS_SHOWN]) + (
                f" (+{len(items) - _ITEMS_SHOWN} more)" if len(items) > _ITEMS_SHOWN else ""
            )
            parts.append(f"{LABELS[cap]}: {shown}")
    message = (
        f"version {diff.version} adds capabilities that {diff.previous_version} did not have — "
        + "; ".join(parts)
    )
    first_cap = next(cap for cap in CAPABILITIES if diff.added.get(cap))
    first_item = diff.added[first_cap][0]
    where = current.location(first_cap, first_item) or Location("SKILL.md", None)
    evidence = f"{LABELS[first_cap]}: {first_item}"
    return Finding(
        rule_id=RULE_ID,
        analyzer=ANALYZER,
        category=Category.SUPPLY_CHAIN,
        severity=severity,
        path=where.path or "SKILL.md",
        line=where.line,
        message=message[:_MESSAGE_MAX],
        evidence=" ".join(evidence.split())[:200],
        confidence=Confidence.MEDIUM,
    )


# -- versions ------------------------------------------------------------------------------------


def parse_version(version: str) -> semver.Version | None:
    try:
        return semver.Version.parse(version.strip().removeprefix("v").removeprefix("V"))
    except (ValueError, TypeError):
        return None


def pick_previous(version: str, candidates: Mapping[str, int]) -> str | None:
    """The version this one updates: the highest semver below it, else the latest other one scanned.

    `candidates` maps each other stored version to its latest scan id.
    """
    others = {v: sid for v, sid in candidates.items() if v != version}
    if not others:
        return None
    current = parse_version(version)
    if current is not None:
        lower = [(pv, v) for v in others if (pv := parse_version(v)) is not None and pv < current]
        if lower:
            return max(lower)[1]
        if any(parse_version(v) is not None for v in others):
            return None  # every known version is newer: this one is the first
    return max(others, key=lambda v: others[v])


# -- store glue ----------------------------------------------------------------------------------


class ProfileStore:
    """Capability profiles in the verdict store (table `capability_profiles`, keyed by scan id)."""

    def __init__(self, store: Any) -> None:
        from skillscan.store.schema import CapabilityProfileRow, table_of

        self._engine = store.engine
        self._table = table_of(CapabilityProfileRow)
        t = self._table
        # Built once and bound per version: a statement used again is compiled once.
        self._others = select(t.c.scan_id, t.c.version).where(
            t.c.owner == bindparam("owner"),
            t.c.slug == bindparam("slug"),
            t.c.version != bindparam("version"),
        )
        self._profile = select(t.c.profile).where(t.c.scan_id == bindparam("scan_id"))

    def save_many(self, rows: Sequence[tuple[int, VersionKey, str, CapabilityProfile]]) -> None:
        """Store profiles as (scan id, version key, fingerprint, profile), in one transaction."""
        from skillscan.store.engine import write_tx
        from skillscan.store.schema import utcnow
        from skillscan.store.sql import insert_ignore_many

        now = utcnow()
        values = [
            {
                "scan_id": scan_id,
                "owner": owner,
                "slug": slug,
                "version": version,
                "fingerprint": fingerprint,
                "profile": profile.to_dict(),
                "created_at": now,
            }
            for scan_id, (owner, slug, version), fingerprint, profile in rows
        ]
        if values:
            with write_tx(self._engine) as conn:
                insert_ignore_many(conn, self._table, values, ["scan_id"])

    def get(self, scan_id: int) -> CapabilityProfile | None:
        from skillscan.store.engine import read_tx

        with read_tx(self._engine) as conn:
            raw = conn.execute(self._profile, {"scan_id": scan_id}).scalar()
        return CapabilityProfile.from_dict(raw) if raw is not None else None

    def previous(self, owner: str, slug: str, version: str) -> tuple[str, CapabilityProfile] | None:
        """The profile of the version that `version` updates (its latest stored scan)."""
        key = (owner, slug, version)
        return self.previous_many([key]).get(key)

    def previous_many(self, keys: Iterable[VersionKey]) -> dict[VersionKey, tuple[str, CapabilityProfile]]:
        """`previous` of each version that has one, read in one transaction."""
        from skillscan.store.engine import read_tx

        found: dict[VersionKey, tuple[str, CapabilityProfile]] = {}
        wanted = [key for key in dict.fromkeys(keys) if key[1]]
        if not wanted:
            return found
        with read_tx(self._engine) as conn:
            for owner, slug, version in wanted:
                params = {"owner": owner, "slug": slug, "version": version}
                latest: dict[str, int] = {}
                for row in conn.execute(self._others, params):
                    latest[row.version] = max(latest.get(row.version, 0), int(row.scan_id))
                chosen = pick_previous(version, latest)
                if chosen is not None:
                    raw = conn.execute(self._profile, {"scan_id": latest[chosen]}).scalar_one()
                    found[(owner, slug, version)] = (chosen, CapabilityProfile.from_dict(raw))
        return found


VersionKey = tuple[str, str, str]  # (owner, slug, version); unknown owner is ""


def redecide(
    settings: Any,
) -> Callable[[Sequence[Finding], Sequence[ScanError]], tuple[Verdict, Decision, str]]:
    """The verdict policy the scanner uses, to decide again once an update finding was added."""
    from skillscan.verdict import decide, load_policy

    policy = load_policy(settings.policy_file)
    return lambda findings, errors: decide(list(findings), list(errors), policy)


class UpdateDiffs:
    """Update diffs for one batch of freshly scanned versions.

    `apply` profiles every version, compares each with the version it updates — taken from the
    store or from this same batch, so 1.0.0 and 1.1.0 scanned together still compare — and adds
    the `update-capability-added` finding (verdict decided again). `save` stores a version's profile
    once its scan id is known.
    """

    def __init__(
        self,
        store: Any,
        decide: Callable[..., tuple[Verdict, Decision, str]] | None = None,
        *,
        settings: Any = None,
    ) -> None:
        """`decide(findings, errors)` re-decides a verdict; with `settings` instead, the configured
        verdict policy is loaded when first needed."""
        self._store = store
        self._profiles = ProfileStore(store)
        self._decide = decide
        self._settings = settings
        self._batch: dict[VersionKey, CapabilityProfile] = {}
        self.diffs: dict[VersionKey, ProfileDiff] = {}

    def apply(
        self, keys: Sequence[VersionKey], skills: Sequence[Skill], reports: Sequence[ScanReport]
    ) -> list[ScanReport]:
        for key, skill, report in zip(keys, skills, reports, strict=True):
            self._batch[key] = extract_profile(skill, report.findings)
        stored = self._profiles.previous_many(keys)
        return [
            self._apply_one(key, report, stored.get(key)) for key, report in zip(keys, reports, strict=True)
        ]

    def _previous(
        self, key: VersionKey, stored: tuple[str, CapabilityProfile] | None
    ) -> tuple[str, CapabilityProfile] | None:
        """The version `key` updates, from the store (`stored`) or from this batch."""
        owner, slug, version = key
        if not slug:
            return None
        batch = {v: p for (o, s, v), p in self._batch.items() if (o, s) == (owner, slug) and v != version}
        candidates = {v: 0 for v in batch}
        if stored is not None:
            candidates.setdefault(stored[0], 1)
        chosen = pick_previous(version, candidates)
        if chosen is None:
            return None
        if chosen in batch:
            return chosen, batch[chosen]
        return stored

    def _apply_one(
        self, key: VersionKey, report: ScanReport, stored: tuple[str, CapabilityProfile] | None
    ) -> ScanReport:
        previous = self._previous(key, stored)
        if previous is None:
            return report
        prev_version, prev_profile = previous
        diff = diff_profiles(prev_profile, self._batch[key], version=key[2], previous_version=prev_version)
        self.diffs[key] = diff
        finding = update_finding(diff, self._batch[key])
        if finding is None:
            return report
        findings = tuple(sorted((*report.findings, finding), key=lambda f: f.sort_key()))
        updated = replace(report, findings=findings)
        if self._decide is None and self._settings is not None:
            self._decide = redecide(self._settings)
        if self._decide is not None:
            verdict, decision, reason = self._decide(findings, report.errors)
            updated = replace(updated, verdict=verdict, decision=decision, reason=reason)
        return updated

    def save(self, key: VersionKey, scan_id: int | None, fingerprint: str = "") -> None:
        self.save_many([(key, scan_id, fingerprint)])

    def save_many(self, saved: Iterable[tuple[VersionKey, int | None, str]]) -> None:
        """Store the profiles of stored scans, (version key, scan id, fingerprint) each, together."""
        self._profiles.save_many(
            [
                (scan_id, key, fingerprint, self._batch[key])
                for key, scan_id, fingerprint in saved
                if scan_id is not None and key in self._batch
            ]
        )


def diff_for_scan(store: Any, scan_id: int) -> ProfileDiff | None:
    """The update diff of a stored scan against the previous version, for the report page.

    None when the scan has no stored profile or its skill has no earlier version on record.
    """
    scan = store.get_scan(scan_id)
    if scan is None:
        return None
    profiles = ProfileStore(store)
    current = profiles.get(scan_id)
    if current is None:
        return None
    previous = profiles.previous(scan.owner, scan.slug, scan.version)
    if previous is None:
        return None
    prev_version, prev_profile = previous
    return diff_profiles(prev_profile, current, version=scan.version, previous_version=prev_version)
