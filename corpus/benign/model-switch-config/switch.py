import json
import sys
from pathlib import Path

path = Path.home() / ".openclaw" / "openclaw.json"
config = json.loads(path.read_text())
config.setdefault("agents", {}).setdefault("defaults", {})["model"] = {"primary": sys.argv[1]}
path.write_text(json.dumps(config, indent=2))
print("model set to", sys.argv[1])
