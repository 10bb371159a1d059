"""Bundle verification on crafted ZIPs: every way the bytes can differ from the published list."""

from __future__ import annotations

import io
import warnings
import zipfile

import pytest

from skillscan.config import Limits
from skillscan.hashing import bundle_fingerprint, sha256_hex
from skillscan.registry.integrity import IntegrityError, verify_bundle
from skillscan.registry.outcomes import FileDigest
from skillscan.registry.zipbuild import build_zip

FILES = {"SKILL.md": b"---\nname: x\n---\n", "scripts/a.py": b"print('a')\n"}
META = {"ownerId": "o", "slug": "x", "version": "1.0.0", "publishedAt": 1}


def _digests(files: dict[str, bytes]) -> list[FileDigest]:
    return [FileDigest(p, len(d), sha256_hex(d)) for p, d in files.items()]


def _raw_zip(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # duplicate names are the point of one case
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def test_matching_bundle_verifies() -> None:
    verified = verify_bundle(build_zip(FILES, META), _digests(FILES), Limits(), slug="x", version="1.0.0")
    assert verified.fingerprint == bundle_fingerprint({p: sha256_hex(d) for p, d in FILES.items()})
    assert verified.meta == META


@pytest.mark.parametrize(
    ("entries", "fragment"),
    [
        ([("SKILL.md", FILES["SKILL.md"])], "missing file 'scripts/a.py'"),
        ([*FILES.items(), ("extra.sh", b"echo hi\n")], "undeclared file 'extra.sh'"),
        ([*FILES.items(), ("__MACOSX/._x.sh", b"echo hi\n")], "undeclared file '__MACOSX/._x.sh'"),
        (
            [("SKILL.md", FILES["SKILL.md"]), ("scripts/a.py", b"print('b')\n")],
            "does not match its published sha256",
        ),
        ([*FILES.items(), ("scripts/a.py", b"print('evil')\n")], "more than once"),
        ([*FILES.items(), ("_meta.json", b'{"slug": "other", "version": "1.0.0"}')], "_meta.json names slug"),
        ([*FILES.items(), ("_meta.json", b"not json")], "_meta.json is not valid JSON"),
    ],
)
def test_differences_are_integrity_errors(entries: list[tuple[str, bytes]], fragment: str) -> None:
    data = _raw_zip(entries)
    with pytest.raises(IntegrityError) as err:
        verify_bundle(data, _digests(FILES), Limits(), slug="x", version="1.0.0")
    assert any(fragment in p for p in err.value.problems), err.value.problems


def test_not_a_zip() -> None:
    with pytest.raises(IntegrityError, match="not a readable ZIP"):
        verify_bundle(b"<html>maintenance</html>", _digests(FILES), Limits())


def test_a_file_larger_than_declared_is_not_read_past_the_declared_size() -> None:
    huge = b"A" * (5 * 1024 * 1024)  # compresses to a few KiB
    data = _raw_zip([("SKILL.md", FILES["SKILL.md"]), ("scripts/a.py", huge)])
    compressed = zipfile.ZipFile(io.BytesIO(data)).getinfo("scripts/a.py").compress_size
    assert compressed < 64 * 1024
    with pytest.raises(IntegrityError) as err:
        verify_bundle(data, _digests(FILES), Limits())
    assert "got" in err.value.summary and f"{len(FILES['scripts/a.py']) + 1} B" in err.value.summary


def test_declared_total_beyond_limits_is_refused() -> None:
    digests = [FileDigest("SKILL.md", 60 * 1024 * 1024, "0" * 64)]
    with pytest.raises(IntegrityError, match="declares"):
        verify_bundle(build_zip(FILES), digests, Limits())


def test_generated_skill_card_is_tolerated() -> None:
    data = build_zip({**FILES, "skill-card.md": b"# card\n"}, META)
    verified = verify_bundle(data, _digests(FILES), Limits())
    assert [f.path for f in verified.files] == list(FILES)
