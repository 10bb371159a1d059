"""CLI commands: `gate` (OpenClaw pre-install policy) and `serve` (HTTP API and reports)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command(
        "gate",
        help=(
            "OpenClaw security.installPolicy command (protocol v1): reads the request on stdin, "
            "writes one JSON decision on stdout, always exits 0."
        ),
    )(gate)
    app.command("serve", help="Run the HTTP API and maintainer reports (FastAPI + uvicorn).")(serve)


def gate() -> None:
    from skillscan.service.gate import main

    main()


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="TCP port to listen on."),
    scan_threads: int = typer.Option(
        1, "--scan-threads", min=1, help="Scan threads when scans run in-process (no SKILLSCAN_BROKER_URL)."
    ),
) -> None:
    from skillscan.service.server import serve as run

    run(host=host, port=port, scan_threads=scan_threads)
