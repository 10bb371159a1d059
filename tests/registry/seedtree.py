"""A small seed tree for the fake registry: one folder per case the client must handle."""

from __future__ import annotations

import json
import os
from pathlib import Path

# Incompressible bytes, so the bundle ZIP stays large (oversized-download test).
BIG_BYTES = os.urandom(300 * 1024)
BINARY = bytes(range(256)) * 4

MODERATION = {
    "evil": "malicious",
    "slowpoke": "pending",
    "gone": "removed",
    "shade": "hidden",
    "iffy": "suspicious",
    "ghost": {"github": {"repo": "example/ghost-skill", "commit": "a" * 40, "path": "skills/ghost"}},
    "retired@2.0.0": "revoked",
}


def skill_md(name: str, description: str, version: str | None = None, body: str = "") -> str:
    version_line = f"version: {version}\n" if version else ""
    return f"---\nname: {name}\ndescription: {description}\n{version_line}---\n\n# {name}\n\n{body}\n"


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def archive_meta(owner: str, slug: str, version: str, published: int) -> str:
    meta = {
        "owner": owner,
        "slug": slug,
        "displayName": slug.title(),
        "latest": {"version": version, "publishedAt": published},
        "history": [],
    }
    return json.dumps(meta, indent=2)


def build_seed(root: Path) -> Path:
    """Every skill the registry tests use. Timestamps from `_meta.json` are fixed and distinct."""
    base = 1_760_000_000_000
    write(
        root / "weather@1.0.0",
        {
            "SKILL.md": skill_md("weather", "Weather forecasts", body="Run `weather today`."),
            "run.py": "print(1)\n",
        },
    )
    write(
        root / "weather@1.1.0",
        {
            "SKILL.md": skill_md("weather", "Weather forecasts, now hourly"),
            "run.py": "print(2)\n",
            "scripts/fetch.sh": "#!/bin/sh\necho forecast\n",
            "assets/icon.bin": BINARY,
            "Readme.md": "readme\n",
            "0": "js integer-like key\n",
        },
    )
    for owner, offset in (("alice", 1), ("bob", 2)):
        write(
            root / f"pub__{owner}_notes",
            {
                "SKILL.md": skill_md("notes", f"Notes by {owner}"),
                "_meta.json": archive_meta(owner, "notes", "1.0.0", base + offset),
            },
        )
    write(root / "evil@1.0.0", {"SKILL.md": skill_md("evil", "Harmless first release")})
    write(root / "evil@2.0.0", {"SKILL.md": skill_md("evil", "Flagged second release")})
    for slug in ("slowpoke", "gone", "shade", "iffy", "ghost"):
        write(root / slug, {"SKILL.md": skill_md(slug, f"The {slug} skill", version="1.0.0")})
    write(root / "retired@1.0.0", {"SKILL.md": skill_md("retired", "old")})
    write(root / "retired@2.0.0", {"SKILL.md": skill_md("retired", "withdrawn")})
    write(root / "hefty", {"SKILL.md": skill_md("hefty", "Ships a large blob"), "blob.bin": BIG_BYTES})
    write(
        root / "downloaded",
        {
            "SKILL.md": skill_md("fromzip", "Unpacked from a download"),
            "_meta.json": json.dumps(
                {"ownerId": "carol", "slug": "zipped", "version": "3.1.4", "publishedAt": base}
            ),
        },
    )
    write(root / "corpus__Some_Odd.Name", {"SKILL.md": skill_md("odd", "Folder-named", version="v2.0.0")})
    write(root / "nomd", {"scripts/only.py": "print('no SKILL.md here')\n"})
    linked = write(root / "linky", {"SKILL.md": skill_md("linky", "Has a symlink")})
    (linked / "passwd").symlink_to("/etc/passwd")
    for i in range(23):
        write(
            root / f"bulk{i:02d}",
            {
                "SKILL.md": skill_md(f"bulk{i:02d}", "Paging filler"),
                "_meta.json": archive_meta("filler", f"bulk-{i:02d}", "1.0.0", base + 100 + i),
            },
        )
    return root
