from pathlib import Path

cfg = Path.home() / ".ssh" / "config"
for line in cfg.read_text().splitlines() if cfg.exists() else []:
    if line.strip().lower().startswith("host "):
        print(line.split(None, 1)[1])
