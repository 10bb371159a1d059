"""Safe unpack of a skill folder into memory, and what ZIP reading (`unzip`) shares with it.

Nothing is ever written to disk and nothing is followed: symlinks, hard links, FIFOs and devices
are reported, never opened through. Member names are checked (`check_member_name`) and shown in
a printable form (`display_name`). Every named limit of `Limits` ends in a ScanError (the verdict
cannot be clean) or a Finding, never an exception.
"""

from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path

from skillscan.config import Limits
from skillscan.models import Category, Confidence, Finding, ScanError, Severity

ANALYZER = "bundle"
_MAX_DIRS = 50_000


@dataclass
class Collected:
    """Raw members of one skill, in memory, plus what went wrong while reading them."""

    members: dict[str, bytes] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    unpublished: set[str] = field(default_factory=set)  # sanitised names, kept out of the fingerprint
    total: int = 0
    folded: set[str] = field(default_factory=set)  # lower-cased member names, for collisions

    def finding(
        self,
        rule_id: str,
        category: Category,
        severity: Severity,
        path: str,
        message: str,
        evidence: str = "",
    ) -> None:
        self.findings.append(
            Finding(
                rule_id=rule_id,
                analyzer=ANALYZER,
                category=category,
                severity=severity,
                path=path,
                line=None,
                message=message,
                evidence=_one_line(evidence),
                confidence=Confidence.HIGH,
            )
        )

    def error(self, path: str | None, detail: str) -> None:
        self.errors.append(ScanError(ANALYZER, path, detail))

    def add(self, path: str, data: bytes, *, published: bool = True) -> None:
        name = path
        n = 2
        while name in self.members:
            name = f"{path}~{n}"
            n += 1
        if name != path:
            published = False
        self.members[name] = data
        self.folded.add(path.lower())
        self.total += len(data)
        if not published:
            self.unpublished.add(name)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def display_name(name: str) -> str:
    """A printable, valid-UTF-8 form of a file name that may hold undecodable bytes or control
    characters (escaped as ``%XX``; never a backslash, which would read as a path separator)."""
    raw = name.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "replace")
    return "".join(c if c.isprintable() else f"%{ord(c):02X}" for c in text)


def check_member_name(name: str, limits: Limits) -> tuple[str, list[str], bool]:
    """(sanitised POSIX path, problems, escapes) for an archive member name.

    `escapes` is True for names that would land outside the extraction folder (absolute,
    drive letter, UNC, ``..``).
    """
    problems: list[str] = []
    escapes = False
    path = name
    if "\\" in path:
        problems.append("contains a backslash")
        path = path.replace("\\", "/")
    if len(path) >= 2 and path[1] == ":" and path[0].isalpha():
        problems.append("has a drive letter")
        escapes = True
        path = path[2:]
    if path.startswith("/"):
        problems.append("is absolute")
        escapes = True
    segments = path.split("/")
    if any(s == ".." for s in segments):
        problems.append("contains '..'")
        escapes = True
    inner = segments[1:-1] if path.startswith("/") else segments[:-1]
    if any(s in ("", ".") for s in inner) and not escapes:
        problems.append("has empty or '.' segments")
    if any(not c.isprintable() for c in path):
        problems.append("contains control characters")
    if len(name) > limits.max_path_length:
        problems.append(f"is longer than {limits.max_path_length} characters")
    kept = [s for s in segments if s not in ("", ".", "..")]
    clean = display_name("/".join(kept))[: limits.max_path_length] or "_unnamed"
    return clean, problems, escapes


# --------------------------------------------------------------------------- folders


def read_folder(root: Path, limits: Limits) -> Collected:
    """Walk `root` without following links; every regular file is read into memory."""
    out = Collected()
    stack: list[tuple[Path, str]] = [(root, "")]
    dirs_seen = 0
    files_seen = 0
    while stack:
        dir_path, rel_dir = stack.pop()
        dirs_seen += 1
        if dirs_seen > _MAX_DIRS:
            out.error(rel_dir or None, f"more than {_MAX_DIRS} folders; the rest were not read")
            break
        try:
            with os.scandir(dir_path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            out.error(rel_dir or None, f"folder cannot be listed: {e.strerror or e}")
            continue
        subdirs: list[tuple[Path, str]] = []
        for entry in entries:
            rel = f"{rel_dir}{display_name(entry.name)}"
            if display_name(entry.name) != entry.name or "\\" in entry.name:
                out.finding(
                    "bundle-unsafe-path",
                    Category.SUPPLY_CHAIN,
                    Severity.MEDIUM,
                    rel,
                    "file name holds undecodable bytes, control characters or a backslash",
                    rel,
                )
            if len(rel) > limits.max_path_length:
                out.finding(
                    "bundle-unsafe-path",
                    Category.SUPPLY_CHAIN,
                    Severity.LOW,
                    rel[: limits.max_path_length],
                    f"path longer than {limits.max_path_length} characters (ClawHub rejects it)",
                )
            try:
                if entry.is_symlink():
                    report_symlink(out, rel, os.readlink(entry.path))
                    continue
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append((Path(entry.path), rel + "/"))
                    continue
            except OSError as e:
                out.error(rel, f"cannot be inspected: {e.strerror or e}")
                continue
            files_seen += 1
            if files_seen > limits.max_files:
                out.error(rel, f"more than {limits.max_files} files; the rest were not read")
                return out
            _read_regular(out, Path(entry.path), rel, limits)
        stack.extend(reversed(subdirs))
    return out


def report_symlink(out: Collected, rel: str, target: str) -> None:
    # Resolved lexically against the link's own folder: "docs/a -> ../README.md" stays inside.
    landed = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target.replace("\\", "/")))
    escapes = (
        target.startswith(("/", "\\"))
        or landed == ".."
        or landed.startswith("../")
        or (len(target) > 1 and target[1] == ":")
    )
    out.finding(
        "bundle-symlink",
        Category.SUPPLY_CHAIN,
        Severity.HIGH if escapes else Severity.LOW,
        rel,
        "symbolic link not followed"
        + (": it points outside the skill (can expose local files to the agent)" if escapes else ""),
        f"{rel} -> {display_name(target)}",
    )


def _read_regular(out: Collected, path: Path, rel: str, limits: Limits) -> None:
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            out.finding(
                "bundle-special-file",
                Category.SUPPLY_CHAIN,
                Severity.MEDIUM,
                rel,
                "not a regular file (FIFO, socket or device); not read",
            )
            return
        fd = os.open(path, flags)
    except OSError as e:
        out.error(rel, f"cannot be opened: {e.strerror or e}")
        return
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            out.finding(
                "bundle-special-file",
                Category.SUPPLY_CHAIN,
                Severity.MEDIUM,
                rel,
                "not a regular file; not read",
            )
            return
        if st.st_nlink > 1:
            out.finding(
                "bundle-hardlink",
                Category.SUPPLY_CHAIN,
                Severity.MEDIUM,
                rel,
                f"hard link ({st.st_nlink} names); not read, it may expose a file outside the skill",
            )
            out.error(rel, "hard-linked file not analysed")
            return
        if st.st_size > limits.max_file_bytes:
            out.error(
                rel, f"file is {st.st_size} bytes, over the {limits.max_file_bytes}-byte limit; not analysed"
            )
            return
        if out.total + st.st_size > limits.max_total_bytes:
            out.error(rel, f"skill exceeds {limits.max_total_bytes} bytes in total; file not analysed")
            return
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            out.error(rel, f"file grew past the {limits.max_file_bytes}-byte limit while read; not analysed")
            return
        out.add(rel, data)
    except OSError as e:
        out.error(rel, f"cannot be read: {e.strerror or e}")
    finally:
        os.close(fd)
