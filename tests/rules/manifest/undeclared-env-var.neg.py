"""Write the forecast cache under the user's home folder."""

import os
from pathlib import Path

CACHE = Path(os.environ.get("HOME", ".")) / ".cache" / "weather.json"


def save(text: str) -> None:
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(text)
