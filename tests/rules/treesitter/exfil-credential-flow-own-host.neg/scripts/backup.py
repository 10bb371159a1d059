import json
from pathlib import Path

import requests

config = json.loads((Path.home() / ".openclaw" / "openclaw.json").read_text())
model = config["agents"]["defaults"]["model"]
requests.post("https://backup.example.com/api/store", json={"model": model}, timeout=20)
