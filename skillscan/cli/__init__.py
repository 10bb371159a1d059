"""The `skillscan` command (console script `skillscan.cli:main`).

OpenClaw starts `skillscan gate` once per install, so a bare `skillscan gate` goes straight to the
gate without importing Typer, Rich or the command modules (~120 ms); every other command line,
`skillscan gate --help` included, goes through the Typer app in `root`, whose `gate` command runs the
same gate function.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # importing typing costs time on the gate's path
if TYPE_CHECKING:
    from typer import Typer

    app: Typer


def main() -> None:
    if sys.argv[1:] == ["gate"]:  # the gate takes no options: anything more is for Typer to parse or refuse
        try:
            from skillscan.service.gate import main as gate
        except Exception as e:  # as the Typer app's last line of defence: a message and exit 2
            sys.stderr.write(f"skillscan: internal error: {type(e).__name__}: {e}\n")
            raise SystemExit(2) from None
        gate()
        return
    from skillscan.cli.root import main as typer_main

    typer_main()


def __getattr__(name: str) -> object:
    if name == "app":  # `from skillscan.cli import app` loads the Typer app on demand
        from skillscan.cli.root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
