"""Read a ZIP from bytes in memory, never extracting it: every member is checked before it is read.

Refused: members over the size or ratio limits (zip bombs), symlink entries, encrypted members;
names that are absolute, hold ``..``, a backslash or a drive letter are reported and their content
is analysed under a sanitised name. Whatever zipfile raises on crafted headers becomes a ScanError.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile

from skillscan.config import Limits
from skillscan.models import Category, Severity
from skillscan.unpack import Collected, check_member_name, display_name, report_symlink

_BOMB_FLOOR = 1024 * 1024  # ratios only matter once a member inflates past this


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
        report_symlink(out, clean, target.decode("utf-8", "replace"))
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
