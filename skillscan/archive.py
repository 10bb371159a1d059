"""Archives shipped inside a bundle: their members become virtual files (one level deep).

A skill can carry ``tools.zip`` and tell the agent to unpack and run it; scanning only the ZIP's
bytes would miss a plain-text payload inside. Members are read in memory with the same limits and
refusals as the bundle itself; an archive inside an archive is left as bytes (YARA still sees it),
which also keeps nested ZIP bombs flat. Findings and errors point at the real archive file.
"""

from __future__ import annotations

from dataclasses import replace

from skillscan.config import Limits
from skillscan.hashing import sha256_hex
from skillscan.inventory import classify
from skillscan.models import Finding, ScanError, SkillFile, VirtualOrigin
from skillscan.unzip import read_zip

_ZIP_MAGIC = b"PK\x03\x04"
MAX_MEMBERS_PER_ARCHIVE = 1000


def nested_archive_files(
    real: list[SkillFile], limits: Limits, budget: int
) -> tuple[list[SkillFile], list[Finding], list[ScanError]]:
    """Virtual files for the members of every ZIP among `real`, within `budget` bytes in total."""
    files: list[SkillFile] = []
    findings: list[Finding] = []
    errors: list[ScanError] = []
    for outer in real:
        if not outer.data.startswith(_ZIP_MAGIC):
            continue
        if budget <= 0:
            errors.append(
                ScanError("bundle", outer.path, "archive not unpacked: the skill's byte budget is spent")
            )
            continue
        sub = replace(
            limits,
            max_total_bytes=budget,
            max_files=min(limits.max_files, MAX_MEMBERS_PER_ARCHIVE),
            max_zip_members=min(limits.max_zip_members, MAX_MEMBERS_PER_ARCHIVE * 4),
        )
        collected = read_zip(outer.data, sub)
        budget -= collected.total
        for f in collected.findings:
            findings.append(
                replace(
                    f,
                    path=outer.path,
                    message=f"inside {outer.path}: {f.message}",
                    evidence=(f"{f.path}: {f.evidence}" if f.evidence else f.path)[:200],
                )
            )
        errors.extend(
            ScanError(e.analyzer, outer.path, f"{e.path}: {e.detail}" if e.path else e.detail)
            for e in collected.errors
        )
        for path, data in sorted(collected.members.items()):
            kind, decoded = classify(path, data, limits.max_text_bytes)
            files.append(
                SkillFile(
                    path=f"{outer.path}!/{path}",
                    kind=kind,
                    data=data,
                    sha256=sha256_hex(data),
                    text=decoded.text,
                    virtual=VirtualOrigin.ARCHIVE,
                    origin_path=outer.path,
                    pinned=True,
                    depth=1,
                    lossy=decoded.lossy,
                )
            )
    return files, findings, errors
