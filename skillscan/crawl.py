"""What to scan: new versions since the stored high-water mark (poll) and the whole registry (sweep).

ClawHub has no change feed (clawhub-api.md §1.8): the poll pages `sort=updated` and
`sort=createdAt` down to a stored mark via `registry.discovery`; the sweep pages the whole list
(`sort=createdAt`, stable while new skills arrive) one page at a time, so a listing can be split
across short tasks and resumed from its cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from skillscan.pipeline import FINAL_KINDS, Target
from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.discovery import DiscoveryProblem, HighWaterMark, IncrementalDiscovery
from skillscan.registry.errors import AmbiguousSlugError, RegistryHTTPError
from skillscan.store import VerdictStore


def mark_key(registry_url: str) -> str:
    return f"poll:{registry_url.rstrip('/')}"


@dataclass(frozen=True)
class PollResult:
    targets: list[Target]
    mark: HighWaterMark
    problems: list[DiscoveryProblem] = field(default_factory=list)
    initialized: bool = False  # no mark was stored: the mark now starts at the registry's newest entry


def discover_new(
    client: ClawHubClient, store: VerdictStore, *, backfill: bool = False, page_size: int = 200
) -> PollResult:
    """Versions published since the stored mark. Save `mark` only after the targets are enqueued."""
    mark = HighWaterMark.from_dict(store.get_state(mark_key(client.base_url)))
    if mark is None and not backfill:
        # The first poll starts the mark at "now"; the nightly sweep covers everything older.
        return PollResult([], initial_mark(client), initialized=True)
    discovery = IncrementalDiscovery(client, mark, page_size=page_size)
    targets = [Target(found.owner or "", found.slug, found.version) for found in discovery]
    return PollResult(targets, discovery.next_mark(), list(discovery.problems))


def initial_mark(client: ClawHubClient) -> HighWaterMark:
    updated, _ = client.list_page(sort="updated", limit=1)
    created, _ = client.list_page(sort="createdAt", limit=1)
    top_updated = (updated[0].updated_at or 0) if updated else 0
    top_created = (created[0].created_at or 0) if created else 0
    # Publishing a version updates its skill, so no version is newer than the newest updatedAt; the
    # mark sits just past it because versions at the mark's own millisecond count as new unless seen.
    newest = max(top_updated, top_created)
    return HighWaterMark(updated_at=top_updated, created_at=top_created, version_at=newest + 1)


def save_mark(store: VerdictStore, registry_url: str, mark: HighWaterMark) -> None:
    store.put_state(mark_key(registry_url), mark.to_dict(), value=mark.updated_at)


@dataclass(frozen=True)
class ListedPage:
    targets: list[Target]
    cursor: str | None  # None: the listing is complete
    problems: list[str] = field(default_factory=list)


def list_page(client: ClawHubClient, cursor: str | None, page_size: int, *, threads: int = 4) -> ListedPage:
    """Every version of every skill on one listing page (owners from the detail call; 409 → all owners).

    The per-skill calls run on a few threads: the listing is a chain of round trips otherwise.
    """
    items, next_cursor = client.list_page(sort="createdAt", cursor=cursor, limit=page_size)
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="listing") as pool:
        per_skill = list(pool.map(lambda slug: _versions_of(client, slug), [i.slug for i in items]))
    targets = [t for found, _ in per_skill for t in found]
    problems = [p for _, found in per_skill for p in found]
    return ListedPage(targets, next_cursor, problems)


def _versions_of(client: ClawHubClient, slug: str) -> tuple[list[Target], list[str]]:
    try:
        owners: list[str | None] = [client.skill(slug).owner]
    except AmbiguousSlugError as e:
        owners = [m.owner for m in e.matches] or [None]
    except RegistryHTTPError as e:  # removed or hidden between listing and detail
        return [], [f"{slug}: {e}"]
    targets: list[Target] = []
    problems: list[str] = []
    for owner in owners:
        try:
            targets.extend(
                Target(owner or "", slug, v.version) for v in client.iter_versions(slug, owner=owner)
            )
        except RegistryHTTPError as e:
            problems.append(f"{owner or ''}/{slug}: {e}")
    return targets, problems


def needing_scan(
    store: VerdictStore, ruleset: str, targets: Sequence[Target], *, force: bool = False
) -> list[Target]:
    """Drop versions already scanned under `ruleset` (unless `force`) and those the registry answered
    for good (blocked, removed, GitHub-backed); pending and unavailable ones are asked about again."""
    unique = list(dict.fromkeys(targets))
    keys = [t.key for t in unique]
    scanned = set() if force else store.scanned_versions(ruleset, keys)
    kinds = store.outcome_kinds(keys)
    return [t for t in unique if t.key not in scanned and kinds.get(t.key) not in FINAL_KINDS]


def chunks(targets: Sequence[Target], size: int) -> list[list[Target]]:
    size = max(1, size)
    return [list(targets[i : i + size]) for i in range(0, len(targets), size)]
