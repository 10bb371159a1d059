from pathlib import Path

notes = sorted((Path.home() / "Notes").glob("*.md"))[-5:]
for n in notes:
    print(n.name)
