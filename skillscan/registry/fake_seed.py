"""Seed the fake ClawHub from folders of skill folders, leniently: hostile and malformed skills too.

Identity of a skill folder, first rule that applies:
- folder name `slug@version` sets slug and version (several such folders = several versions);
- `_meta.json`, archive shape `{owner, slug, displayName, latest: {version, publishedAt}}` or
  download shape `{ownerId, slug, version, publishedAt}`, sets owner, slug, version, date;
- else the slug comes from the folder name: the part after the last `__` (corpus folders are
  named `<source>__<owner>_<slug>`; owners may contain `_`, so the rest is kept whole) reduced to
  `[a-z0-9-]`; the version from SKILL.md frontmatter (leading `v` tolerated) or `1.0.0`; owner
  `local`; the date from SKILL.md's mtime.
Only the files are hashed at seed time; bytes stay on disk until a ZIP is built. Symlinks,
special files and `.git/` are never served (a symlink could expose any local file); the root
`_meta.json` is replaced by the injected one, and macOS junk is dropped as ClawHub does.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skillscan.hashing import is_published_path, sha256_hex
from skillscan.registry.fake_store import FakeFile, FakeStore, FakeStoreError, FakeVersion

DEFAULT_OWNER = "local"
MAX_DEPTH = 4
MAX_FILES_PER_SKILL = 10_000
MAX_FILE_BYTES = 64 * 1024 * 1024
_SKILL_MD = ("skill.md", "skills.md")
_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$", re.IGNORECASE)
_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)  # the C parser when libyaml is present
_FRONTMATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


@dataclass
class SeedReport:
    skills: int = 0
    versions: int = 0
    files: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Identity:
    owner: str
    slug: str
    version: str
    published_at: int
    display_name: str | None
    summary: str | None


def seed_store(store: FakeStore, roots: Sequence[Path]) -> SeedReport:
    report = SeedReport()
    started = time.perf_counter()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            report.warnings.append(f"{root}: not a directory, skipped")
            continue
        before = report.versions
        for folder in _skill_dirs(root, 0, report):
            _seed_folder(store, folder, report)
        if report.versions == before:
            report.warnings.append(f"{root}: no skill folders found")
    report.skills = len(store.skills)
    report.seconds = time.perf_counter() - started
    return report


def _is_skill_dir(entries: Sequence[os.DirEntry[str]]) -> bool:
    return any(
        e.name.lower() in (*_SKILL_MD, "_meta.json") and e.is_file(follow_symlinks=False) for e in entries
    )


def _skill_dirs(folder: Path, depth: int, report: SeedReport) -> list[Path]:
    """Skill folders under `folder`. A folder holding skills is a container; its other
    subfolders that hold files (but no skill) are served as malformed skills."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as e:
        report.warnings.append(f"{folder}: unreadable ({e.strerror})")
        return []
    if _is_skill_dir(entries):
        return [folder]
    if depth >= MAX_DEPTH:
        return []
    children = [
        (Path(e.path), _skill_dirs(Path(e.path), depth + 1, report))
        for e in entries
        if e.is_dir(follow_symlinks=False) and e.name != ".git"
    ]
    if depth > 0 and not any(found for _, found in children):
        return []  # not a container: the parent decides whether this is a malformed skill
    skills: list[Path] = []
    for child, found in children:
        if found:
            skills.extend(found)
        elif any(True for _ in _walk_files(child, report, quiet=True)):
            report.warnings.append(f"{child}: no SKILL.md, served as a malformed skill")
            skills.append(child)
    return skills


def _walk_files(folder: Path, report: SeedReport, quiet: bool = False) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(
            d for d in dirnames if d != ".git" and not _warn_link(Path(dirpath, d), report, quiet)
        )
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if _warn_link(path, report, quiet) or not path.is_file():
                continue
            yield path.relative_to(folder).as_posix(), path


def _warn_link(path: Path, report: SeedReport, quiet: bool) -> bool:
    if path.is_symlink():
        if not quiet:
            report.warnings.append(f"{path}: symlink not served")
        return True
    return False


def _seed_folder(store: FakeStore, folder: Path, report: SeedReport) -> None:
    files: list[FakeFile] = []
    for rel, path in _walk_files(folder, report):
        if rel == "_meta.json" or not is_published_path(rel):
            continue
        if len(files) >= MAX_FILES_PER_SKILL:
            report.warnings.append(f"{folder}: more than {MAX_FILES_PER_SKILL} files, rest not served")
            break
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                report.warnings.append(f"{path}: {size} bytes, larger than the seed bound, not served")
                continue
            data = path.read_bytes()
        except OSError as e:
            report.warnings.append(f"{path}: unreadable ({e.strerror})")
            continue
        files.append(FakeFile(path=rel, size=len(data), sha256=sha256_hex(data), disk=path))
    ident = _identity(folder, files)
    version = FakeVersion(ident.version, ident.published_at, tuple(files), origin=str(folder))
    try:
        store.add_version(
            ident.owner, ident.slug, version, display_name=ident.display_name, summary=ident.summary
        )
    except FakeStoreError:
        report.warnings.append(
            f"{folder}: {ident.owner}/{ident.slug}@{ident.version} already seeded from another folder, skipped"
        )
        return
    report.versions += 1
    report.files += len(files)


def _identity(folder: Path, files: Sequence[FakeFile]) -> _Identity:
    meta = _read_meta(folder / "_meta.json")
    fm = _frontmatter(folder, files)
    name = folder.name
    folder_version = None
    if "@" in name:
        name, _, folder_version = name.rpartition("@")
    owner = _handle(meta.get("owner")) or _handle(meta.get("ownerId")) or DEFAULT_OWNER
    raw_latest = meta.get("latest")
    latest: Mapping[str, Any] = raw_latest if isinstance(raw_latest, Mapping) else {}
    meta_version = _text(latest.get("version")) or _text(meta.get("version"))
    meta_date = latest.get("publishedAt") if "latest" in meta else meta.get("publishedAt")
    slug = (_text(meta.get("slug")) or "").strip().lower() if "@" not in folder.name else ""
    slug = slug or sanitize_slug(name.split("__")[-1])
    version = (
        _valid_version(folder_version) or _valid_version(meta_version) or _valid_version(fm.get("version"))
    )
    published = meta_date if isinstance(meta_date, int) and not isinstance(meta_date, bool) else None
    if published is None or (folder_version and folder_version != meta_version):
        published = _mtime_ms(folder)
    description = _text(fm.get("description"))
    return _Identity(
        owner=owner,
        slug=slug,
        version=version or "1.0.0",
        published_at=published,
        display_name=_text(meta.get("displayName")) or _text(fm.get("name")) or slug,
        summary=description[:300] if description else None,
    )


def sanitize_slug(name: str) -> str:
    slug = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", name.lower())).strip("-")
    return slug[:96] or "skill"


def _handle(value: Any) -> str | None:
    text = _text(value)
    return text.strip().lstrip("@").lower() or None if text else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _valid_version(value: Any) -> str | None:
    text = value.strip() if isinstance(value, str) else None
    return text if text and _VERSION.match(text) else None


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 1024 * 1024:
            return {}
        data = json.loads(path.read_bytes().decode("utf-8", "replace"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _frontmatter(folder: Path, files: Sequence[FakeFile]) -> dict[str, Any]:
    skill_md = next((f for f in files if f.path.lower() in _SKILL_MD), None)
    if skill_md is None:
        return {}
    try:
        with open(folder / skill_md.path, "rb") as fh:
            head = fh.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return {}
    m = _FRONTMATTER.match(head)
    if not m:
        return {}
    try:  # BaseLoader: every scalar stays a string (`version: 1.10` is not the float 1.1)
        data = yaml.load(m.group(1), Loader=_LOADER)  # BaseLoader builds no objects
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _mtime_ms(folder: Path) -> int:
    for candidate in (folder / "SKILL.md", folder / "skill.md", folder):
        try:
            return int(candidate.stat().st_mtime * 1000)
        except OSError:
            continue
    return int(time.time() * 1000)


def apply_moderation(store: FakeStore, config: Mapping[str, Any]) -> list[str]:
    """Apply a moderation map: keys `slug`, `owner/slug`, `slug@version`, `owner/slug@version`
    (leading `@` allowed); values a state string (skill: clean|suspicious|malicious|pending|
    removed|hidden, plus `github`; version: clean|suspicious|malicious|pending|revoked) or an
    object `{"state": ..., "github": {"repo", "commit", "path"}}`. Returns warnings."""
    warnings: list[str] = []
    for key, value in config.items():
        owner, slug, version = _parse_key(str(key))
        targets = [s for s in store.candidates(slug, owner)] if owner else _all_with_slug(store, slug)
        if not targets:
            warnings.append(f"moderation: no skill {key!r}")
            continue
        state, github = _parse_value(value)
        for skill in targets:
            try:
                if github is not None or state == "github":
                    latest = skill.latest
                    skill.github = github or {
                        "repo": f"{skill.owner}/{skill.slug}",
                        "commit": (latest.fingerprint if latest else "0" * 40)[:40],
                        "path": f"skills/{skill.slug}",
                    }
                if state and state != "github":
                    if version:
                        store.set_version_state(skill, version, state)
                    else:
                        store.set_skill_state(skill, state)
            except FakeStoreError as e:
                warnings.append(f"moderation: {key!r}: {e}")
    return warnings


def _parse_key(key: str) -> tuple[str | None, str, str | None]:
    body = key.strip().lstrip("@")
    owner = None
    if "/" in body:
        owner, _, body = body.partition("/")
        owner = owner.lower()
    slug, _, version = body.partition("@")
    return owner, slug.lower(), version or None


def _parse_value(value: Any) -> tuple[str | None, dict[str, str] | None]:
    if isinstance(value, str):
        return value.strip().lower(), None
    if isinstance(value, Mapping):
        state = value.get("state") or value.get("status")
        gh = value.get("github")
        github = {k: str(v) for k, v in gh.items()} if isinstance(gh, Mapping) else None
        return (str(state).strip().lower() if state else None), github
    return None, None


def _all_with_slug(store: FakeStore, slug: str) -> list[Any]:
    with store.lock:
        return [s for s in store.skills.values() if s.slug.lower() == slug]
