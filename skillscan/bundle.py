"""Safe unpack + inventory: turn a skill folder, a ZIP, or a folder of skills into `Skill`s.

`load_skills` is the entry point for paths; `load_zip_bytes` serves bytes fetched from ClawHub
(never extracted to disk); `load_folder` reads one skill folder. Each Skill carries its real files
(kind, sha256, decoded text), then virtual files (code blocks, inline commands, decoded payloads,
normalized copies), its identity (owner/slug/version from ``_meta.json`` or the frontmatter, the
ClawHub bundle fingerprint) and its parsed frontmatter. Ignore files (.gitignore, .clawhubignore,
.semgrepignore) are never honoured; tests/, node_modules/ and hidden folders are read like the rest.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from skillscan.archive import nested_archive_files
from skillscan.config import Limits
from skillscan.errors import BundleError
from skillscan.extract import build_virtual_files
from skillscan.frontmatter import parse_frontmatter
from skillscan.hashing import bundle_fingerprint, sha256_hex
from skillscan.inventory import classify
from skillscan.models import (
    Category,
    Confidence,
    FileKind,
    Finding,
    ScanError,
    Severity,
    Skill,
    SkillFile,
    SkillIdentity,
)
from skillscan.unpack import ANALYZER, Collected, read_folder
from skillscan.unzip import read_zip

SKILL_MD_NAMES = ("skill.md", "skills.md")  # compared case-insensitively; SKILL.md preferred
_MAX_DISCOVERY_DEPTH = 6  # OpenClaw discovers skills up to 6 levels under a root
_MAX_DISCOVERY_DIRS = 100_000
_MAX_META_BYTES = 64 * 1024
_VERSION_SUFFIX = re.compile(r"-v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")
_ZIP_MAGIC = b"PK"


def primary_skill_md(paths: list[str] | tuple[str, ...]) -> str | None:
    """The root SKILL.md an agent would read: exact ``SKILL.md`` first, then any case of the names."""
    roots = [p for p in paths if "/" not in p]
    if "SKILL.md" in roots:
        return "SKILL.md"
    for name in SKILL_MD_NAMES:
        for p in sorted(roots):
            if p.lower() == name:
                return p
    return None


def _read_meta(members: dict[str, bytes]) -> dict[str, Any] | None:
    raw = members.get("_meta.json")
    if raw is None or len(raw) > _MAX_META_BYTES:
        return None
    try:
        meta = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None
    return meta if isinstance(meta, dict) else None


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _identity(
    hint: SkillIdentity | None,
    meta: dict[str, Any] | None,
    frontmatter: dict[str, Any] | None,
    default_slug: str | None,
    fingerprint: str,
) -> SkillIdentity:
    owner = slug = version = name = None
    if meta:
        # Archive shape {owner, slug, displayName, latest:{version}}; download shape
        # {ownerId, slug, version, publishedAt} (ownerId is an internal id, not a handle).
        owner = _str(meta.get("owner"))
        slug = _str(meta.get("slug"))
        latest = meta.get("latest")
        version = _str(latest.get("version")) if isinstance(latest, dict) else _str(meta.get("version"))
        name = _str(meta.get("displayName"))
    fm = frontmatter or {}
    name = _str(fm.get("name")) or name
    version = version or _str(fm.get("version"))
    slug = slug or default_slug
    if hint is not None:
        owner = hint.owner or owner
        slug = hint.slug or slug
        version = hint.version or version
        name = hint.name or name
    return SkillIdentity(owner=owner, slug=slug, version=version, name=name, fingerprint=fingerprint)


def _strip_single_top_folder(c: Collected) -> Collected:
    """ZIPs made by zipping a folder hold ``name/SKILL.md``: analyse them as if rooted at ``name``."""
    paths = [p for p in c.members if not p.startswith("__MACOSX/")]
    if not paths or primary_skill_md(paths) is not None:
        return c
    tops = {p.split("/", 1)[0] for p in paths}
    if len(tops) != 1 or any("/" not in p for p in paths):
        return c
    prefix = next(iter(tops)) + "/"
    out = Collected(findings=c.findings, errors=c.errors, total=c.total)
    for path, data in c.members.items():
        new = path[len(prefix) :] if path.startswith(prefix) else path
        out.members[new] = data
        if path in c.unpublished:
            out.unpublished.add(new)
    out.findings = [replace(f, path=f.path.removeprefix(prefix)) for f in c.findings]
    out.errors = [replace(e, path=e.path.removeprefix(prefix) if e.path else e.path) for e in c.errors]
    return out


def assemble(
    source: str,
    collected: Collected,
    limits: Limits,
    *,
    identity: SkillIdentity | None = None,
    zip_sha256: str | None = None,
    default_slug: str | None = None,
) -> Skill:
    """Inventory raw members: kinds, hashes, virtual files, frontmatter, identity, fingerprint."""
    real: list[SkillFile] = []
    for path in sorted(collected.members):
        data = collected.members[path]
        kind, decoded = classify(path, data, limits.max_text_bytes)
        real.append(
            SkillFile(
                path=path,
                kind=kind,
                data=data,
                sha256=sha256_hex(data),
                text=decoded.text,
                lossy=decoded.lossy,
            )
        )
    errors = list(collected.errors)
    # Instructions and scripts too large to parse got byte rules only: the analysis is incomplete.
    errors.extend(
        ScanError(
            ANALYZER,
            f.path,
            f"{f.size} bytes, over the {limits.max_text_bytes}-byte text limit: only byte-level rules (YARA) ran",
        )
        for f in real
        if f.text is None and (f.kind is FileKind.MARKDOWN or f.kind.is_script)
    )
    skill_md = primary_skill_md([f.path for f in real])
    fm_data = None
    if skill_md is not None:
        md = next(f for f in real if f.path == skill_md)
        if md.text is not None:
            fm_data = parse_frontmatter(md.text).data
    fingerprint = bundle_fingerprint({f.path: f.sha256 for f in real if f.path not in collected.unpublished})
    ident = _identity(identity, _read_meta(collected.members), fm_data, default_slug, fingerprint)
    nested, nested_findings, nested_errors = nested_archive_files(
        real, limits, limits.max_total_bytes - collected.total
    )
    errors.extend(nested_errors)
    try:
        virtual, verrors = build_virtual_files(real, limits, nested)
    except RecursionError:  # defensive: a decoder on pathological input; never crash the scan
        virtual, verrors = [], [ScanError(ANALYZER, skill_md, "virtual file extraction failed (recursion)")]
    errors.extend(verrors)
    return Skill(
        source=source,
        identity=ident,
        files=(*real, *virtual),
        errors=tuple(errors),
        findings=(*collected.findings, *nested_findings),
        frontmatter=fm_data,
        zip_sha256=zip_sha256,
    )


def load_folder(path: Path, limits: Limits, source: str | None = None) -> Skill:
    """One skill folder. Links are never followed; per-file problems become errors/findings."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"{path}: not a folder")
    collected = read_folder(path, limits)
    return assemble(source or str(path), collected, limits, default_slug=path.resolve().name or None)


def load_zip_bytes(data: bytes, source: str, limits: Limits, identity: SkillIdentity | None = None) -> Skill:
    """One skill from ZIP bytes, read in memory. A corrupt ZIP gives a Skill with a ScanError."""
    collected = _strip_single_top_folder(read_zip(data, limits))
    stem = Path(source).name
    stem = stem[:-4] if stem.lower().endswith(".zip") else stem
    default_slug = _VERSION_SUFFIX.sub("", stem) or None
    return assemble(
        source, collected, limits, identity=identity, zip_sha256=sha256_hex(data), default_slug=default_slug
    )


def _is_skill_root(path: Path) -> bool:
    try:
        with os.scandir(path) as it:
            return any(e.name.lower() in SKILL_MD_NAMES and e.is_file(follow_symlinks=False) for e in it)
    except OSError:
        return False


def _links_to_skill(entry: os.DirEntry[str]) -> bool:
    """A symlink whose target is a folder holding a SKILL.md (checked with a stat, not read)."""
    try:
        return (
            entry.is_symlink()
            and entry.is_dir()
            and any((Path(entry.path) / n).is_file() for n in ("SKILL.md", "skill.md"))
        )
    except OSError:
        return False


def _discover(path: Path) -> tuple[list[Path], list[Path]]:
    """(skill folders, symlinks to skill folders) under `path`; never descends into a skill."""
    roots: list[Path] = []
    linked: list[Path] = []
    queue: list[tuple[Path, int]] = [(path, 0)]
    visited = 0
    while queue and visited < _MAX_DISCOVERY_DIRS:
        cur, depth = queue.pop(0)
        visited += 1
        if _is_skill_root(cur):
            roots.append(cur)
            continue
        if depth >= _MAX_DISCOVERY_DEPTH:
            continue
        try:
            with os.scandir(cur) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            if _links_to_skill(e):
                linked.append(Path(e.path))
            elif e.name != ".git" and e.is_dir(follow_symlinks=False):
                queue.append((Path(e.path), depth + 1))
    return sorted(roots), sorted(linked)


def find_skill_roots(path: Path) -> list[Path]:
    """Skill folders (holding a SKILL.md) under `path`, not descending into a found skill."""
    return _discover(path)[0]


def _linked_skill(link: Path, source: str) -> Skill:
    """A symlinked skill folder inside a folder of skills: reported, never followed."""
    target = os.readlink(link)
    finding = Finding(
        rule_id="bundle-symlink",
        analyzer=ANALYZER,
        category=Category.SUPPLY_CHAIN,
        severity=Severity.MEDIUM,
        path=link.name,
        line=None,
        message="skill folder is a symbolic link; not followed, so this skill was not analysed",
        evidence=f"{link.name} -> {target}"[:200],
        confidence=Confidence.HIGH,
    )
    return Skill(
        source=source,
        identity=SkillIdentity(slug=link.name),
        files=(),
        errors=(ScanError(ANALYZER, None, "symbolic link to a skill folder; not followed"),),
        findings=(finding,),
    )


def _load_zip_file(path: Path, source: str, limits: Limits) -> Skill:
    cap = limits.max_total_bytes * 2
    try:
        size = path.stat().st_size
        if size > cap:
            return Skill(
                source=source,
                identity=SkillIdentity(slug=path.stem),
                files=(),
                errors=(ScanError(ANALYZER, None, f"zip is {size} bytes, over the {cap}-byte limit"),),
            )
        data = path.read_bytes()
    except OSError as e:
        raise BundleError(f"{source}: cannot be read: {e.strerror or e}") from e
    return load_zip_bytes(data, source, limits)


def _looks_like_zip(path: Path) -> bool:
    if path.suffix.lower() == ".zip":
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(2) == _ZIP_MAGIC
    except OSError:
        return False


def load_skills(path: str | Path, limits: Limits) -> list[Skill]:
    """A skill folder, a ``.zip``, or a folder of skill folders (and of ZIPs): one Skill each."""
    given = str(path)
    p = Path(path)
    try:
        is_dir = p.is_dir()
        is_file = p.is_file()
    except OSError as e:
        raise BundleError(f"{given}: cannot be read: {e}") from e
    if is_file:
        if not _looks_like_zip(p):
            raise BundleError(f"{given}: not a skill folder or a .zip bundle")
        return [_load_zip_file(p, given, limits)]
    if not is_dir:
        raise BundleError(f"{given}: no such file or folder")
    if _is_skill_root(p):
        return [load_folder(p, limits, source=given)]
    roots, linked = _discover(p)
    skills = [load_folder(r, limits, source=str(p / r.relative_to(p))) for r in roots]
    skills.extend(_linked_skill(link, str(p / link.relative_to(p))) for link in linked)
    try:
        with os.scandir(p) as it:
            zips = sorted(
                Path(e.path)
                for e in it
                if e.is_file(follow_symlinks=False) and e.name.lower().endswith(".zip")
            )
    except OSError as e:
        raise BundleError(f"{given}: cannot be listed: {e.strerror or e}") from e
    skills.extend(_load_zip_file(z, str(p / z.name), limits) for z in zips)
    if not skills:
        # No SKILL.md anywhere: still one skill, so the manifest check reports what is missing.
        return [load_folder(p, limits, source=given)]
    return skills
