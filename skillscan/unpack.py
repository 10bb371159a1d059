"""Safe unpack: read a skill folder or ZIP bytes into memory, refusing whatever could hurt.

Nothing is ever written to disk and nothing is followed: symlinks (folder entries and ZIP
entries whose mode says so), hard links, FIFOs and devices are reported, never opened through.
ZIP member names that are absolute, contain ``..``, a backslash or a drive letter are reported
and their content is still analysed in memory under a sanitised name (excluded from the
fingerprint). Every named limit of `Limits` ends in a ScanError (the verdict cannot be clean)
or a Finding, never an exception.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from skillscan.config import Limits
from skillscan.models import Category, Confidence, Finding, ScanError, Severity

ANALYZER = "bundle"
_BOMB_FLOOR = 1024 * 1024  # ratios only matter once a member inflates past this
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
                    _report_symlink(out, rel, os.readlink(entry.path), root)
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


def _report_symlink(out: Collected, rel: str, target: str, root: Path) -> None:
    escapes = target.startswith("/") or ".." in target.split("/") or "\\" in target
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


# --------------------------------------------------------------------------- zip


def _declared_entries(data: bytes) -> int | None:
    """Entry count from the end-of-central-directory record, read before zipfile parses it all."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if pos < 0 or pos + 22 > len(data):
        return None
    count = int(struct.unpack_from("<H", data, pos + 10)[0])
    if count != 0xFFFF:
        return count
    loc = data.rfind(b"PK\x06\x07", max(0, pos - 20), pos)
    if loc < 0:
        return None
    (z64_off,) = struct.unpack_from("<Q", data, loc + 8)
    if z64_off + 56 > len(data) or data[z64_off : z64_off + 4] != b"PK\x06\x06":
        return None
    return int(struct.unpack_from("<Q", data, z64_off + 32)[0])


def read_zip(data: bytes, limits: Limits) -> Collected:
    """Read a ZIP from bytes in memory. Corrupt input yields a ScanError, not an exception."""
    out = Collected()
    declared = _declared_entries(data)
    if declared is not None and declared > limits.max_zip_members:
        out.error(None, f"zip declares {declared} members, over the {limits.max_zip_members}-member limit")
        return out
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        EOFError,
        OSError,
        NotImplementedError,
    ) as e:
        out.error(None, f"not a readable zip archive: {e}")
        return out
    except Exception as e:  # struct.error, IndexError, … from crafted central directories
        out.error(None, f"corrupt zip archive: {type(e).__name__}")
        return out
    if len(infos) > limits.max_zip_members:
        out.error(None, f"zip has {len(infos)} members, over the {limits.max_zip_members}-member limit")
        return out
    # Overall ratio over the members the per-member check would let through: a single bomb member
    # is refused on its own and does not hide the rest of the archive.
    declared_total = sum(i.file_size for i in infos if not _member_bomb(i, limits))
    if declared_total > _BOMB_FLOOR and declared_total > limits.max_zip_ratio * max(len(data), 1):
        out.finding(
            "bundle-zip-bomb",
            Category.SUPPLY_CHAIN,
            Severity.HIGH,
            "",
            f"archive inflates {declared_total} bytes from {len(data)} (ratio over {limits.max_zip_ratio}); not unpacked",
        )
        out.error(None, "zip bomb: archive not unpacked")
        return out
    files = 0
    for info in infos:
        try:
            _read_member(out, zf, info, limits)
        except Exception as e:  # zipfile raises assorted errors on crafted headers; never crash
            out.error(
                display_name(info.filename)[:200] or None, f"unreadable archive member: {type(e).__name__}"
            )
        if not info.filename.endswith("/"):
            files += 1
            if files >= limits.max_files:
                out.error(None, f"more than {limits.max_files} files; the rest were not read")
                break
    return out


def _member_bomb(info: zipfile.ZipInfo, limits: Limits) -> bool:
    return info.file_size > _BOMB_FLOOR and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1)


def _read_member(out: Collected, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    clean, problems, escapes = check_member_name(info.filename, limits)
    shown = display_name(info.filename)[: limits.max_path_length]
    if problems:
        out.finding(
            "bundle-path-traversal" if escapes else "bundle-unsafe-path",
            Category.SUPPLY_CHAIN,
            Severity.HIGH if escapes else Severity.MEDIUM,
            clean,
            f"archive member name {', '.join(problems)}"
            + ("; an extractor would write outside the skill folder" if escapes else ""),
            shown,
        )
    mode = (info.external_attr >> 16) & 0xFFFF
    if stat.S_ISLNK(mode):
        target = _read_bounded(zf, info, 1024) or b""
        _report_symlink(out, clean, target.decode("utf-8", "replace"), Path("."))
        return
    if info.filename.endswith("/") or not info.filename:
        return
    if info.flag_bits & 0x1:
        out.finding(
            "bundle-encrypted-member",
            Category.OBFUSCATION,
            Severity.HIGH,
            clean,
            "password-protected archive member: its content cannot be analysed",
            shown,
        )
        out.error(clean, "encrypted archive member not analysed")
        return
    if info.file_size > limits.max_file_bytes:
        out.error(
            clean,
            f"member is {info.file_size} bytes, over the {limits.max_file_bytes}-byte limit; not analysed",
        )
        return
    if _member_bomb(info, limits):
        out.finding(
            "bundle-zip-bomb",
            Category.SUPPLY_CHAIN,
            Severity.HIGH,
            clean,
            f"member inflates {info.file_size} bytes from {info.compress_size} (ratio over {limits.max_zip_ratio})",
            shown,
        )
        out.error(clean, "zip bomb member not analysed")
        return
    if out.total + info.file_size > limits.max_total_bytes:
        out.error(clean, f"archive exceeds {limits.max_total_bytes} bytes in total; member not analysed")
        return
    content = _read_bounded(zf, info, info.file_size)
    if content is None:
        out.error(clean, "member is corrupt or uses an unsupported compression; not analysed")
        return
    if clean.lower() in out.folded:
        out.finding(
            "bundle-duplicate-member",
            Category.SUPPLY_CHAIN,
            Severity.HIGH,
            clean,
            "archive holds this path twice (or differing only in case); extractors and scanners may keep "
            "different copies, both are analysed",
            shown,
        )
    out.add(clean, content, published=not problems)


def _read_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """Member bytes, never more than `limit` (zipfile stops at the declared size and checks CRC)."""
    try:
        with zf.open(info) as fh:
            return fh.read(limit)
    except Exception:  # BadZipFile, zlib.error, EOFError, struct.error, … on crafted members
        return None
