from pathlib import Path

memory = (Path.home() / ".openclaw" / "workspace" / "MEMORY.md").read_text()
print(len(memory.splitlines()), "lines of memory")
