"""The work behind the worker's tasks, free of Celery: download, verify, scan and store versions.

`Pipeline.scan_targets` handles one batch: versions already scanned under the current ruleset are
skipped, the rest are downloaded concurrently (within a time budget), every non-bundle answer is
stored as a registry outcome, and all bundles go through ONE `Scanner.scan_skills` call (one
Semgrep run per batch). Each result says what became of its version, so the caller can retry
only what is transient and report the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from skillscan.config import Settings
from skillscan.diff import UpdateDiffs
from skillscan.errors import BundleError, RegistryError
from skillscan.models import ScanReport, Skill, Verdict
from skillscan.registry.outcomes import Downloaded, DownloadOutcome, OutcomeKind
from skillscan.store import StoreBusy, SweepItemResult, ToRecord, VerdictStore

if TYPE_CHECKING:
    from skillscan.registry.clawhub import ClawHubClient


class Status(StrEnum):
    SCANNED = "scanned"  # a new scan was stored
    UNCHANGED = "unchanged"  # already scanned with this bundle and ruleset: nothing to do
    OUTCOME = "outcome"  # the registry answered something that is not a bundle (stored as such)
    RETRY = "retry"  # transient: ask again later
    FAILED = "failed"  # will not succeed by retrying as is


# Outcomes worth asking again about later (by the next poll or sweep); the others are final.
RETRY_LATER_KINDS: tuple[str, ...] = (str(OutcomeKind.PENDING), str(OutcomeKind.UNAVAILABLE))
FINAL_KINDS: tuple[str, ...] = (str(OutcomeKind.BLOCKED), str(OutcomeKind.REMOVED), str(OutcomeKind.GITHUB))
UNUSABLE_BUNDLE = "unusable-bundle"
log = logging.getLogger("skillscan.pipeline")
AMBIGUOUS = "ambiguous-slug"


@dataclass(frozen=True, slots=True)
class Target:
    """One version to scan, as plain strings (task arguments are JSON). Unknown owner is ``""``."""

    owner: str
    slug: str
    version: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.owner, self.slug, self.version)

    def __str__(self) -> str:
        return f"{self.owner}/{self.slug}@{self.version}" if self.owner else f"{self.slug}@{self.version}"

    def to_args(self) -> list[str]:
        return [self.owner, self.slug, self.version]

    @classmethod
    def from_args(cls, args: Sequence[Any]) -> Target:
        if len(args) != 3 or not all(isinstance(a, str) for a in args) or not args[1] or not args[2]:
            raise ValueError(f"a scan target is [owner, slug, version] strings, got {args!r}")
        return cls(args[0], args[1], args[2])


@dataclass(frozen=True, slots=True)
class Result:
    target: Target
    status: Status
    detail: str = ""
    verdict: str | None = None
    previous_verdict: str | None = None
    scan_id: int | None = None

    def sweep_item(self) -> SweepItemResult:
        status = "failed" if self.status is Status.RETRY else str(self.status)
        return SweepItemResult(
            *self.target.key,
            status=status,
            verdict=self.verdict,
            previous_verdict=self.previous_verdict,
            scan_id=self.scan_id,
        )


class BatchOverrun(Exception):
    """A batch took longer than its task may run: scan its versions in smaller batches instead."""


class _Clock:
    """Seconds spent per phase of a batch, for the worker log."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = self.laps.get(name, 0.0) + now - self.last
        self.last = now

    def __str__(self) -> str:
        return ", ".join(f"{k} {v:.2f}s" for k, v in self.laps.items())


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        store: VerdictStore,
        client: ClawHubClient,
        scanner_factory: Callable[[], Any],
        ruleset: str,
        *,
        download_workers: int = 8,
        download_budget_s: float = 15.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.client = client
        self.ruleset = ruleset
        self._scanner_factory = scanner_factory
        self._scanner: Any = None
        self.download_workers = download_workers
        self.download_budget_s = download_budget_s
        self._pool: ThreadPoolExecutor | None = None

    @property
    def scanner(self) -> Any:
        if self._scanner is None:
            self._scanner = self._scanner_factory()
        return self._scanner

    def close(self) -> None:
        closer = getattr(self._scanner, "close", None)
        if callable(closer):
            closer()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    # -- one batch -------------------------------------------------------------------------------

    def scan_targets(
        self,
        targets: Sequence[Target],
        *,
        source: str = "sweep",
        sweep_id: int | None = None,
        force: bool = False,
        deadline: float | None = None,
    ) -> list[Result]:
        """Scan a batch. Raises `StoreBusy` when the database is locked (the caller retries the batch)
        and `BatchOverrun` when a batch of several finished its scan after `deadline` (monotonic) or
        an engine ran out of time on it: its reports may carry timeouts that a smaller batch would
        not have, so none is stored."""
        clock = _Clock()
        unique = list(dict.fromkeys(targets))
        done = set() if force else self.store.scanned_versions(self.ruleset, [t.key for t in unique])
        results: dict[Target, Result] = {
            t: Result(t, Status.UNCHANGED, "already scanned") for t in unique if t.key in done
        }
        todo = [t for t in unique if t.key not in done]
        downloads = self._download(todo)
        clock.lap("download")
        skills: list[tuple[Target, Downloaded, Skill]] = []
        for target in todo:
            got = downloads.get(target)
            if isinstance(got, Downloaded):
                try:
                    skills.append((target, got, got.to_skill(self.settings.limits)))
                except BundleError as e:
                    self.store.record_outcome(*target.key, UNUSABLE_BUNDLE, str(e))
                    results[target] = Result(target, Status.OUTCOME, f"{UNUSABLE_BUNDLE}: {e}")
            else:
                results[target] = self._not_scanned(target, got)
        clock.lap("unpack")
        if skills:
            reports = self.scanner.scan_skills([s for _, _, s in skills])
            clock.lap("scan")
            if deadline is not None and len(skills) > 1 and time.monotonic() > deadline:
                raise BatchOverrun(f"a batch of {len(skills)} finished its scan past the task's deadline")
            if len(skills) > 1 and (engine := self._out_of_time(reports)):
                raise BatchOverrun(f"{engine} ran out of time on a batch of {len(skills)}")
            if len(reports) != len(skills):
                raise RuntimeError(f"scanner returned {len(reports)} reports for {len(skills)} skills")
            # Update diffs: what each version can do that the version it updates could not.
            diffs = UpdateDiffs(self.store, settings=self.settings)
            reports = diffs.apply([t.key for t, _, _ in skills], [s for _, _, s in skills], reports)
            clock.lap("diff")  # capability profiles: a visible share of a batch, logged apart from the writes
            recorded = self._record(skills, reports, source, force)
            for (target, _, _), result in zip(skills, recorded, strict=True):
                results[target] = result
            diffs.save_many(
                (target.key, result.scan_id, got.fingerprint)
                for (target, got, _), result in zip(skills, recorded, strict=True)
            )
        ordered = [results[t] for t in unique]
        scanned = [str(r.target) for r in ordered if r.status in (Status.SCANNED, Status.UNCHANGED)]
        if scanned:
            self.store.resolve_failures(scanned)
        if sweep_id is not None:
            final = [r.sweep_item() for r in ordered if r.status is not Status.RETRY]
            if final:
                self.store.finish_sweep_items(sweep_id, final)
        clock.lap("store")
        log.info("%d of %d versions scanned (%s)", len(skills), len(unique), clock)
        return ordered

    @staticmethod
    def _out_of_time(reports: Sequence[ScanReport]) -> str | None:
        """The engine stopped at its time limit on this batch: on a busy machine a batch can outgrow
        the limit (Semgrep scans the whole batch in one call), and storing its versions as
        indeterminate would waste the scan; smaller batches get complete verdicts."""
        for report in reports:
            for error in report.errors:  # a whole run's limit, not one file's: no file named
                if error.timed_out and error.path is None:
                    return error.analyzer
        return None

    def _download(self, targets: Sequence[Target]) -> dict[Target, DownloadOutcome | BaseException | None]:
        """Fetch bundles concurrently; whatever is not back within the budget stays None (retry later)."""
        found: dict[Target, DownloadOutcome | BaseException | None] = dict.fromkeys(targets)
        if not targets:
            return found
        if self._pool is None:  # kept for the process's life: threads cost more than the downloads
            self._pool = ThreadPoolExecutor(max_workers=self.download_workers, thread_name_prefix="download")
        futures: dict[Future[DownloadOutcome], Target] = {
            self._pool.submit(self.client.download, t.slug, owner=t.owner or None, version=t.version): t
            for t in targets
        }
        try:
            finished, _ = wait(futures, timeout=self.download_budget_s)
            for future in finished:
                error = future.exception()
                found[futures[future]] = error if error is not None else future.result()
        finally:
            for future in futures:
                future.cancel()  # those not started yet; a running one ends at its HTTP timeout
        return found

    def _not_scanned(self, target: Target, got: DownloadOutcome | BaseException | None) -> Result:
        if got is None:
            return Result(target, Status.RETRY, "download did not finish within the time budget")
        if isinstance(got, BaseException):
            if isinstance(got, RegistryError) and getattr(got, "matches", None) is not None:
                self.store.record_outcome(*target.key, AMBIGUOUS, str(got), 409)
                return Result(target, Status.OUTCOME, f"{AMBIGUOUS}: {got}")
            if isinstance(got, RegistryError):
                return Result(target, Status.FAILED, f"registry refused the request: {got}")
            return Result(target, Status.FAILED, f"download crashed: {type(got).__name__}: {got}")
        status = getattr(got, "status", None)
        self.store.record_outcome(
            *target.key, str(got.kind), got.message, status if isinstance(status, int) else None
        )
        if isinstance(got, Downloaded):  # pragma: no cover - handled by the caller
            raise AssertionError("a download is not an outcome")
        if got.kind is OutcomeKind.UNAVAILABLE:
            return Result(target, Status.RETRY, got.describe())
        return Result(target, Status.OUTCOME, got.describe())

    def _record(
        self,
        scanned: Sequence[tuple[Target, Downloaded, Skill]],
        reports: Sequence[ScanReport],
        source: str,
        force: bool = False,
    ) -> list[Result]:
        """Store a batch's reports in one transaction (a forced rescan is stored even when the same
        scan exists)."""
        identified = [self._identified(t, got, r) for (t, got, _), r in zip(scanned, reports, strict=True)]
        items = [
            ToRecord(r, owner=t.owner, slug=t.slug, version=t.version, source=source, dedupe=not force)
            for (t, _, _), r in zip(scanned, identified, strict=True)
        ]
        results = []
        for (target, _, _), report, recorded in zip(
            scanned, identified, self.store.record_many(items), strict=True
        ):
            previous = str(recorded.previous_verdict) if recorded.previous_verdict is not None else None
            results.append(
                Result(
                    target,
                    Status.SCANNED if recorded.created else Status.UNCHANGED,
                    report.reason,
                    verdict=str(report.verdict),
                    previous_verdict=previous,
                    scan_id=recorded.scan_id,
                )
            )
        return results

    @staticmethod
    def _identified(target: Target, got: Downloaded, report: ScanReport) -> ScanReport:
        skill = report.skill
        if skill.fingerprint != got.fingerprint or (skill.owner, skill.slug, skill.version) != (
            target.owner or None,
            target.slug,
            target.version,
        ):
            # The registry's verified identity is the key, whatever the bundle's own metadata claims.
            report = replace(
                report,
                skill=replace(
                    skill,
                    owner=target.owner or None,
                    slug=target.slug,
                    version=target.version,
                    fingerprint=got.fingerprint,
                ),
            )
        return report


def is_retryable(error: BaseException) -> bool:
    """Errors worth retrying the whole task for: a busy or unreachable database."""
    return isinstance(error, StoreBusy)


def summarize(results: Iterable[Result]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in results:
        counts[str(r.status)] = counts.get(str(r.status), 0) + 1
        if r.verdict == str(Verdict.MALICIOUS) and r.status is Status.SCANNED:
            counts["malicious"] = counts.get("malicious", 0) + 1
    return counts
