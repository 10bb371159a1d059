"""`skillscan registry …`: query a ClawHub registry, or serve the fake one for tests and demos.

The registry URL comes from `--registry` or `SKILLSCAN_REGISTRY_URL`, the token from
`SKILLSCAN_CLAWHUB_TOKEN` (never from a flag, never printed). Registry modules load lazily.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from skillscan.registry.clawhub import ClawHubClient

EXIT_NOT_DOWNLOADED = 3

REGISTRY_OPTION = typer.Option(
    None, "--registry", help="Registry base URL (default: SKILLSCAN_REGISTRY_URL or https://clawhub.ai)."
)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        name="registry",
        help="ClawHub registry: list, show, download (verified) and discover versions; serve a fake registry.",
        no_args_is_help=True,
    )
    group.command("serve", help="Serve a fake ClawHub on loopback, seeded from folders of skill folders.")(
        serve
    )
    group.command("ls", help="List skills (newest update first).")(ls)
    group.command("show", help="Show a skill, its versions, or one version's files and hashes.")(show)
    group.command(
        "download", help="Download and verify one version; exit 3 when the registry does not hand it over."
    )(download)
    group.command("discover", help="Print versions published since a stored mark (all of them without one).")(
        discover
    )
    app.add_typer(group, name="registry")


def serve(
    seed: Annotated[
        list[Path] | None, typer.Option("--seed", help="Folder of skill folders (repeatable).", exists=True)
    ] = None,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8770, "--port", min=0, max=65535, help="Port (0: any free port)."),
    moderation: Annotated[
        Path | None,
        typer.Option(
            "--moderation",
            exists=True,
            dir_okay=False,
            help="JSON object: slug, owner/slug or slug@version -> state.",
        ),
    ] = None,
    rate_limit: int | None = typer.Option(
        None,
        "--rate-limit",
        min=1,
        help="Requests per window per bucket (read, write, download, export); off by default.",
    ),
    rate_window: float = typer.Option(60.0, "--rate-window", min=0.01, help="Rate-limit window in seconds."),
    token: Annotated[
        list[str] | None,
        typer.Option(
            "--token", envvar="SKILLSCAN_FAKE_TOKENS", help="Accept TOKEN[=handle] as a user's token."
        ),
    ] = None,
    staff_token: Annotated[
        list[str] | None,
        typer.Option(
            "--staff-token",
            envvar="SKILLSCAN_FAKE_STAFF_TOKENS",
            help="Accept TOKEN[=handle] as a moderator's token.",
        ),
    ] = None,
    no_admin: bool = typer.Option(False, "--no-admin", help="Disable the /_admin/ test hooks."),
) -> None:
    from skillscan.registry.fake import FakeServer
    from skillscan.registry.fake_faults import RateLimits

    mod_map: dict[str, Any] | None = None
    if moderation is not None:
        try:
            loaded = json.loads(moderation.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise typer.BadParameter(f"{moderation}: not a JSON object ({e})") from e
        if not isinstance(loaded, dict):
            raise typer.BadParameter(f"{moderation}: not a JSON object")
        mod_map = loaded
    seed = seed or []
    tokens = {**_tokens(token or [], "user", "user"), **_tokens(staff_token or [], "staff", "moderator")}
    limits = RateLimits.uniform(rate_limit, rate_window) if rate_limit else None
    try:
        server = FakeServer.seeded(
            seed,
            moderation=mod_map,
            rate_limits=limits,
            tokens=tokens,
            host=host,
            port=port,
            admin=not no_admin,
        )
    except OSError as e:
        typer.echo(f"error: cannot listen on {host}:{port}: {e.strerror}", err=True)
        raise typer.Exit(1) from e
    report = server.seed_report
    assert report is not None
    typer.echo(f"fake ClawHub serving on {server.url}")
    typer.echo(
        f"seeded {report.skills} skills, {report.versions} versions, {report.files} files "
        f"in {report.seconds:.2f}s from {len(seed)} folder(s)"
    )
    for warning in report.warnings[:20]:
        typer.echo(f"  warning: {warning}", err=True)
    if len(report.warnings) > 20:
        typer.echo(f"  … {len(report.warnings) - 20} more warnings", err=True)
    if host not in ("127.0.0.1", "localhost", "::1") and not no_admin:
        typer.echo("  warning: the /_admin/ test hooks are reachable beyond loopback", err=True)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")


def _tokens(values: list[str], default_handle: str, role: str) -> dict[str, tuple[str, str]]:
    out = {}
    for value in values:
        for item in value.split(","):
            tok, _, handle = item.strip().partition("=")
            if tok:
                out[tok] = (handle or default_handle, role)
    return out


def _client(registry: str | None) -> ClawHubClient:
    from skillscan.config import Settings
    from skillscan.registry.clawhub import ClawHubClient

    return ClawHubClient.from_settings(Settings.from_env(), registry_url=registry)


def _when(ms: int | None) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _fail(e: Exception) -> typer.Exit:
    typer.echo(f"error: {e}", err=True)
    return typer.Exit(1)


def ls(
    registry: str | None = REGISTRY_OPTION,
    sort: str = typer.Option(
        "updated", "--sort", help="updated, createdAt, downloads, stars, name, trending."
    ),
    limit: int = typer.Option(50, "--limit", min=0, help="Most skills to print (0: all)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    from skillscan.errors import RegistryError

    try:
        with _client(registry) as client:
            for i, item in enumerate(client.iter_skills(sort=sort, limit=min(200, limit or 200))):
                if limit and i >= limit:
                    break
                if as_json:
                    typer.echo(json.dumps(dict(item.raw), ensure_ascii=False))
                else:
                    typer.echo(
                        f"{item.slug:40} {item.latest_version or '-':12} {_when(item.updated_at)}  "
                        f"{(item.display_name or '')[:50]}"
                    )
    except RegistryError as e:
        raise _fail(e) from e


def show(
    ref: str = typer.Argument(
        ..., help="clawhub:@owner/slug@version, or just slug (owner and version optional)."
    ),
    registry: str | None = REGISTRY_OPTION,
) -> None:
    from skillscan.errors import RegistryError
    from skillscan.registry.source import parse_clawhub_ref

    try:
        parsed = parse_clawhub_ref(ref)
        with _client(registry) as client:
            detail = client.skill(parsed.slug, owner=parsed.owner)
            typer.echo(f"{detail.owner or '?'}/{detail.slug}  {detail.display_name or ''}")
            typer.echo(f"latest: {detail.latest_version or '-'}  updated: {_when(detail.updated_at)}")
            if detail.moderation:
                m = detail.moderation
                typer.echo(f"moderation: {m.verdict} (malware-blocked: {m.is_malware_blocked})")
            if parsed.version is None:
                for v in client.iter_versions(parsed.slug, owner=detail.owner):
                    typer.echo(f"  {v.version:14} {_when(v.created_at)}")
                return
            version = client.version(parsed.slug, parsed.version, owner=detail.owner)
            typer.echo(f"version {version.version}: security {version.security_status or '-'}")
            for f in version.files:
                typer.echo(f"  {f.sha256}  {f.size:>9}  {f.path}")
    except RegistryError as e:
        raise _fail(e) from e


def download(
    ref: str = typer.Argument(
        ..., help="clawhub:@owner/slug@version, or just slug (owner and version optional)."
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the verified ZIP here.")
    ] = None,
    registry: str | None = REGISTRY_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the outcome record as JSON."),
) -> None:
    from skillscan.errors import RegistryError
    from skillscan.registry.outcomes import Downloaded
    from skillscan.registry.source import parse_clawhub_ref

    try:
        parsed = parse_clawhub_ref(ref)
        with _client(registry) as client:
            outcome = client.download(parsed.slug, owner=parsed.owner, version=parsed.version)
    except RegistryError as e:
        raise _fail(e) from e
    if as_json:
        typer.echo(json.dumps(outcome.to_dict(), ensure_ascii=False))
    else:
        typer.echo(outcome.describe())
    if not isinstance(outcome, Downloaded):
        raise typer.Exit(EXIT_NOT_DOWNLOADED)
    if output is not None:
        output.write_bytes(outcome.zip_bytes)
        if not as_json:
            typer.echo(
                f"wrote {len(outcome.zip_bytes)} bytes to {output} (fingerprint {outcome.fingerprint})"
            )


def discover(
    mark: Annotated[
        Path | None, typer.Option("--mark", help="JSON file holding the high-water mark.")
    ] = None,
    save: bool = typer.Option(False, "--save", help="Write the new mark to --mark after listing."),
    registry: str | None = REGISTRY_OPTION,
) -> None:
    from skillscan.errors import RegistryError
    from skillscan.registry.discovery import HighWaterMark, IncrementalDiscovery

    previous = None
    if mark is not None and mark.is_file():
        try:
            previous = HighWaterMark.from_dict(json.loads(mark.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as e:
            raise typer.BadParameter(f"{mark}: unreadable mark ({e})") from e
    try:
        with _client(registry) as client:
            discovery = IncrementalDiscovery(client, previous)
            count = 0
            for found in discovery:
                count += 1
                typer.echo(f"{found.ref}  {_when(found.created_at)}")
            for problem in discovery.problems:
                typer.echo(f"  problem: {problem.slug}: HTTP {problem.status}: {problem.message}", err=True)
            new_mark = discovery.next_mark()
    except RegistryError as e:
        raise _fail(e) from e
    typer.echo(f"{count} new version(s)", err=True)
    if save and mark is not None:
        mark.write_text(json.dumps(new_mark.to_dict(), indent=2), encoding="utf-8")
