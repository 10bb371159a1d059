"""The `skillscan` Typer app. Each command group lives in its own module and registers itself here,
so the scan path imports only what scanning needs (heavy service modules load lazily)."""

from __future__ import annotations

import typer

from skillscan import __version__
from skillscan.cli import evaluation, ops, registry, scan, service

app = typer.Typer(
    name="skillscan",
    help="Supply-chain scanner for ClawHub skills.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"skillscan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Supply-chain scanner for ClawHub skills."""


for module in (scan, evaluation, registry, ops, service):
    module.register(app)


def main() -> None:
    try:
        app()
    except Exception as e:  # the last line of defence: a clear message and exit 2, never a traceback
        typer.echo(f"skillscan: internal error: {type(e).__name__}: {e}", err=True)
        raise SystemExit(2) from None
