"""ClawHub's hashes (clawhub-api.md §2.6): per-file sha256 and the bundle fingerprint.

The pre-install gate fingerprints a staged folder with this module in a fresh process, so importing
it loads nothing: no `hashlib` (OpenSSL, ~2.5 ms) and no `collections`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# Files that are not part of what the publisher uploaded: the ZIP's injected metadata, the
# installer's bookkeeping, the generated card and macOS junk. Excluding them makes a staged install
# folder, a downloaded ZIP and the publish-time fingerprint agree.
_UNPUBLISHED_NAMES = frozenset({"_meta.json", "skill-card.md", ".DS_Store"})
_UNPUBLISHED_DIRS = frozenset({".clawhub", ".clawdhub", "__MACOSX"})


def sha256_hex(data: bytes) -> str:
    from hashlib import sha256

    return sha256(data).hexdigest()


def is_published_path(path: str) -> bool:
    """True when `path` (POSIX, relative to the skill root) counts toward the bundle fingerprint."""
    parts = path.split("/")
    if parts[0] in _UNPUBLISHED_DIRS:
        return False
    if len(parts) == 1 and parts[0] in _UNPUBLISHED_NAMES:
        return False
    name = parts[-1]
    return not (name == ".DS_Store" or name.startswith("._"))


def locale_sort_key(path: str) -> tuple[tuple[tuple[int, str], ...], tuple[int, ...]]:
    """Approximates JavaScript's `localeCompare` (ICU root collation), which ClawHub sorts with.

    Primary strength: punctuation and symbols < digits < letters, letters compared case-blind;
    ties broken by case, lowercase first. Plain codepoint order would put ``SKILL.md`` before
    ``scripts/…`` and produce a different fingerprint than the registry.
    """
    if path.isascii():  # nearly all paths: a table per character, 4x faster for a big skill
        return tuple(map(_ASCII_PRIMARY.__getitem__, path)), tuple(map(_ASCII_TERTIARY.__getitem__, path))
    return tuple(map(_primary, path)), tuple(map(_tertiary, path))


def _primary(c: str) -> tuple[int, str]:
    return (2, c.casefold()) if c.isalpha() else (1, c) if c.isdigit() else (0, c)


def _tertiary(c: str) -> int:
    return 1 if c.isupper() else 0


_ASCII_PRIMARY = {chr(i): _primary(chr(i)) for i in range(128)}
_ASCII_TERTIARY = {chr(i): _tertiary(chr(i)) for i in range(128)}


def bundle_fingerprint(file_hashes: Mapping[str, str]) -> str:
    """sha256 over sorted ``path:sha256`` lines joined by newlines, published files only."""
    return sha256_hex(fingerprint_input(file_hashes))


def fingerprint_input(file_hashes: Mapping[str, str]) -> bytes:
    """The text the bundle fingerprint hashes."""
    paths = sorted((p for p in file_hashes if is_published_path(p)), key=locale_sort_key)
    return "\n".join(f"{p}:{file_hashes[p]}" for p in paths).encode()
