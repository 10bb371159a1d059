"""`skillscan serve`: the API under uvicorn, with an access log that never carries a token."""

from __future__ import annotations

import logging
import sys

from skillscan.config import Settings
from skillscan.errors import SkillscanError


def serve(host: str = "127.0.0.1", port: int = 8080, scan_threads: int = 1) -> None:
    import uvicorn

    from skillscan.service.api import create_app

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        app = create_app(Settings.from_env(), scan_threads=scan_threads)
    except SkillscanError as e:
        sys.stderr.write(f"skillscan serve: {e}\n")
        raise SystemExit(2) from e
    # uvicorn's own access log prints query strings (`/login?token=…`): ours logs the path only.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info", server_header=False)
