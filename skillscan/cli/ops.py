"""Operator commands: run workers and beat, sweep the registry, read verdicts, replay failures.

Heavy modules (Celery, the store, rich) are imported inside each command.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

QUEUE_NAMES = ("gate", "sweep", "post")


def register(app: typer.Typer) -> None:
    app.command("worker", help="Run a Celery worker (scans, sweeps, verdict posts) in this process.")(worker)
    app.command(
        "beat", help="Run the scheduler (registry polls, nightly sweep); one instance holds a Redis lock."
    )(beat)
    app.command("sweep", help="Enqueue a sweep of the registry now; --wait shows progress and a summary.")(
        sweep
    )
    app.command("verdicts", help="List stored verdicts: the latest scan of each version.")(verdicts)
    app.command("failures", help="List work that failed for good (scans, verdict deliveries).")(failures)
    app.command("replay", help="Re-enqueue failed work by id, or all of it with --all.")(replay)


def worker(
    queues: str = typer.Option(
        ",".join(QUEUE_NAMES), "--queues", "-Q", help="Comma-separated queues to consume."
    ),
    concurrency: int = typer.Option(
        0, "--concurrency", "-c", min=0, help="Worker processes (0: one per CPU)."
    ),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="Log level."),
) -> None:
    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(wanted) - set(QUEUE_NAMES))
    if not wanted or unknown:
        raise typer.BadParameter(f"queues must be among {', '.join(QUEUE_NAMES)} (got {queues!r})")
    from worker.celery_app import app as celery_app

    processes = concurrency or os.cpu_count() or 1
    celery_app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(wanted),
            "--concurrency",
            str(processes),
            "--loglevel",
            loglevel,
            "--hostname",
            f"skillscan-{os.getpid()}@%h",
            "-O",
            "fair",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def beat(loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="Log level.")) -> None:
    import logging

    from worker.beat import run_beat
    from worker.celery_app import app as celery_app

    logging.basicConfig(level=loglevel.upper(), format="[%(asctime)s: %(levelname)s/%(name)s] %(message)s")
    run_beat(celery_app, loglevel=loglevel)


def sweep(
    registry: str = typer.Option(
        None, "--registry", help="Registry base URL (default: SKILLSCAN_REGISTRY_URL)."
    ),
    wait: bool = typer.Option(False, "--wait", help="Show progress until the sweep is done, then a summary."),
    force: bool = typer.Option(
        False, "--force", help="Rescan every version, even those the ruleset has scanned."
    ),
    timeout: float = typer.Option(
        0.0, "--timeout", min=0.0, help="With --wait: give up after this many seconds."
    ),
    resume: int = typer.Option(
        0, "--resume", min=0, help="Continue sweep ID instead: its listing, and every version still queued."
    ),
) -> None:
    from skillscan.config import Settings
    from skillscan.rules import ruleset_digest
    from skillscan.store import open_store
    from worker.celery_app import app as celery_app

    settings = Settings.from_env()
    url = (registry or settings.registry_url).rstrip("/")
    store = open_store(settings)
    if resume:
        from worker.discovery_tasks import resume_sweep

        try:
            resumed = resume_sweep(store, resume, requeue_items=True)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from e
        typer.echo(
            f"sweep {resume} resumed: listing {'continued' if resumed['listing'] else 'complete'}, "
            f"{resumed['requeued']} queued versions enqueued again"
        )
        if wait and not _wait_for(store, resume, timeout):
            raise typer.Exit(2)
        return
    sweep_id = store.start_sweep(url, ruleset_digest(settings))
    celery_app.send_task(
        "skillscan.nightly_sweep",
        kwargs={"registry": url, "sweep_id": sweep_id, "force": force},
        queue="sweep",
    )
    typer.echo(f"sweep {sweep_id} of {url} enqueued")
    if wait:
        finished = _wait_for(store, sweep_id, timeout)
        if not finished:
            raise typer.Exit(2)


def _wait_for(store: Any, sweep_id: int, timeout: float) -> bool:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    started = time.monotonic()
    progress = store.sweep_progress(sweep_id)
    with Progress(
        TextColumn("[bold]sweep {task.fields[sweep]}[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task("listing", total=None, sweep=sweep_id)
        while True:
            progress = store.sweep_progress(sweep_id)
            if progress is not None:
                bar.update(
                    task,
                    completed=progress.done,
                    total=progress.total if progress.listed else None,
                    description="scanning" if progress.listed else f"listing ({progress.total} found)",
                )
                if progress.finished:
                    break
            if timeout and time.monotonic() - started > timeout:
                break
            time.sleep(0.5)
    if progress is None:
        typer.echo(f"sweep {sweep_id} not found", err=True)
        return False
    elapsed = time.monotonic() - started
    typer.echo(
        f"sweep {sweep_id}: scanned {progress.scanned}, new malicious {progress.new_malicious}, "
        f"changed verdicts {progress.changed}, failures {progress.failed}"
        f" (registry outcomes {progress.outcomes}, already scanned {progress.unchanged}; {elapsed:.1f}s)"
    )
    if progress.listing_error:
        typer.echo(f"listing error: {progress.listing_error}", err=True)
    if not progress.finished:
        typer.echo(f"timed out with {progress.total - progress.done} versions still queued", err=True)
    return bool(progress.finished)


_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """`24h`, `7d`, `30m` (relative) or an ISO date/time (UTC unless it says otherwise)."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    m = _RELATIVE.match(value.strip().lower())
    if m:
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError as e:
        raise typer.BadParameter(f"--since: expected 24h, 7d or an ISO date, got {value!r}") from e
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def verdicts(
    since: str = typer.Option(None, "--since", help="Only scans since: 24h, 7d, or an ISO date/time."),
    verdict: str = typer.Option(
        None, "--verdict", help="Only this verdict (clean|suspicious|malicious|indeterminate)."
    ),
    fmt: str = typer.Option("text", "--format", help="text | jsonl"),
) -> None:
    from skillscan.config import Settings
    from skillscan.models import Verdict
    from skillscan.store import open_store, stored_fields

    if fmt not in ("text", "jsonl"):
        raise typer.BadParameter("--format must be text or jsonl")
    if verdict is not None and verdict not in {str(v) for v in Verdict}:
        raise typer.BadParameter(f"--verdict must be one of {', '.join(str(v) for v in Verdict)}")
    store = open_store(Settings.from_env())
    out = sys.stdout
    count = 0
    for scan in store.latest_per_version(since=parse_since(since), verdict=verdict):
        count += 1
        if fmt == "jsonl":
            out.write(json.dumps(stored_fields(scan)) + "\n")
        else:
            out.write(
                f"{scan.ref:<50} {scan.verdict!s:<13} {scan.fingerprint[:12]:<12} "
                f"{scan.scanned_at:%Y-%m-%d %H:%M} ruleset {scan.ruleset[:12]}\n"
            )
    if fmt == "text" and count == 0:
        typer.echo("no stored verdicts match", err=True)


def failures(
    show_all: bool = typer.Option(False, "--all", help="Include replayed and resolved failures."),
    fmt: str = typer.Option("text", "--format", help="text | jsonl"),
) -> None:
    from skillscan.config import Settings
    from skillscan.store import open_store

    store = open_store(Settings.from_env())
    rows = store.failures(status=None if show_all else "failed")
    for f in rows:
        if fmt == "jsonl":
            data = {
                "id": f.id,
                "task": f.task,
                "subject": f.subject,
                "status": f.status,
                "attempts": f.attempts,
                "error": f.error,
                "updated_at": f.updated_at.isoformat(),
            }
            sys.stdout.write(json.dumps(data) + "\n")
        else:
            error = " ".join(f.error.split())[:100]
            sys.stdout.write(
                f"{f.id:>6} {f.status:<9} {f.task:<26} {f.subject:<40} x{f.attempts} "
                f"{f.updated_at:%Y-%m-%d %H:%M}  {error}\n"
            )
    if fmt == "text" and not rows:
        typer.echo("no failures", err=True)


_REPLAY_IDS = typer.Argument(None, help="Failure ids (see `skillscan failures`).")


def replay(
    ids: list[int] = _REPLAY_IDS,
    replay_all: bool = typer.Option(False, "--all", help="Replay every open failure."),
) -> None:
    from skillscan.config import Settings
    from skillscan.store import open_store
    from worker.celery_app import app as celery_app

    if not ids and not replay_all:
        raise typer.BadParameter("give failure ids or --all")
    store = open_store(Settings.from_env())
    chosen = store.failures() if replay_all else []
    missing = 0
    for failure_id in [] if replay_all else ids:
        found = store.get_failure(failure_id)
        if found is None:
            typer.echo(f"failure {failure_id}: not found", err=True)
            missing += 1
        else:
            chosen.append(found)
    for f in chosen:
        celery_app.send_task(f.task, args=f.args, kwargs=f.kwargs, queue=f.queue or "sweep")
        store.set_failure_status(f.id, "replayed")
        typer.echo(f"replayed {f.id}: {f.task} {f.subject}")
    typer.echo(f"{len(chosen)} replayed")
    if missing:
        raise typer.Exit(1)
