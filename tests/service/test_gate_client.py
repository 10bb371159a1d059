"""The gate's light stand-ins for json, urllib.parse and hashlib give exactly the standard library's answers."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from skillscan import hashing
from skillscan.hashing import bundle_fingerprint, locale_sort_key, sha256_hex
from skillscan.service import gate_client, gate_json

JSON_TEXTS = [
    '{"a": 1}',
    ' \\n{"a": [1, 2.5, -3e10, "x\\\\u00e9", true, false, null]}\\r\\n ',
    "NaN",
    "[1e400]",
    '"\\\\ud800"',
    "12 ",
    # refused, with json's own message
    "",
    "   ",
    "{",
    "[1, 2] x",
    '{"a": 1}{"b": 2}',
    "\\ufeff{}",
    '{"a": "\\x01"}',
    "tru",
    '{"a": 1,}',
    "1" * 5000,
]


def _outcome(fn: object, arg: object) -> tuple[str, str]:
    try:
        return "ok", repr(fn(arg))  # type: ignore[operator]
    except (ValueError, RecursionError) as e:
        return type(e).__name__, str(e)


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_loads_answers_and_refuses_as_json_does(text: str) -> None:
    assert _outcome(gate_json.loads, text) == _outcome(json.loads, text)


@pytest.mark.parametrize(
    "data",
    [b'{"a": "\\xc3\\xa9"}', b'\\xef\\xbb\\xbf{"a": 1}', '{"a": 1}'.encode("utf-16"), b"\\xff{}", b"[1]"],
)
def test_loads_bytes_detects_encodings_as_json_does(data: bytes) -> None:
    assert _outcome(gate_json.loads_bytes, data) == _outcome(json.loads, data)


@pytest.mark.parametrize(
    "obj",
    [
        {"protocolVersion": 1, "reason": 'é ✓ \\u2028 \\x00 "q"', "findings": [{"line": 3, "n": None}]},
        "text",
        [1.5, float("nan"), True],
        {1: 2},
    ],
)
def test_dumps_compact_writes_what_json_writes(obj: object) -> None:
    assert gate_json.dumps_compact(obj) == json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def test_dumps_compact_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        gate_json.dumps_compact({"a": object()})


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "https://Scanner.Example.org/skillscan/",
        "http://localhost:0/",
        "HTTP://host:00080/a/b",
        "http://host:",
        "http://[::1]:8080/x",
        "http://user:pw@host:81/p",
        "http://host/p?q=1#f",
        "http://host:99999",
        "ftp://host",
        "localhost:8080",
        " http://host ",
    ],
)
def test_service_urls_split_as_urlsplit_splits_them(url: str) -> None:
    try:
        parts = urlsplit(url)
        expected: object = (parts.scheme, parts.hostname, parts.port, parts.path)
    except ValueError as e:
        expected = str(e)
    try:
        got: object = gate_client._split_url(url)
    except ValueError as e:
        got = str(e)
    assert got == expected


@pytest.mark.parametrize("size", [100, 3 * 1024 * 1024])  # CPython's own SHA-256, then OpenSSL's
def test_staged_fingerprint_is_the_bundle_fingerprint(tmp_path: Path, size: int) -> None:
    files = {
        "SKILL.md": b"---\nname: t\n---\nUse it.\n",
        "scripts/Run.py": b"x" * size,
        "scripts/a.sh": b"echo hi\n",
        "_meta.json": b"{}",  # installer bookkeeping: allowed, not fingerprinted
    }
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    staged = gate_client.stage_fingerprint(str(tmp_path), 100, 10 * 1024 * 1024)
    assert staged is not None
    expected = bundle_fingerprint({rel: sha256_hex(data) for rel, data in files.items()})
    assert staged.fingerprint == expected
    assert [rel for rel, _ in staged.files] == sorted(files)
    assert staged.total_bytes == sum(len(d) for d in files.values())


def test_staged_folder_over_the_limits_or_with_extras_is_not_fingerprinted(tmp_path: Path) -> None:
    (tmp_path / "SKILL.md").write_text("---\nname: t\n---\n")
    assert gate_client.stage_fingerprint(str(tmp_path), 100, 10) is None  # over max bytes
    assert gate_client.stage_fingerprint(str(tmp_path), 100, 1000) is not None
    (tmp_path / ".clawhub").mkdir()
    (tmp_path / ".clawhub" / "cache.bin").write_bytes(b"unpublished")
    assert gate_client.stage_fingerprint(str(tmp_path), 100, 1000) is None


@pytest.mark.parametrize("root_suffix", ["", "/", "/./"])
def test_relative_paths_do_not_depend_on_how_the_root_is_spelled(tmp_path: Path, root_suffix: str) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "SKILL.md").write_text("x")
    (tmp_path / "a" / "b" / "c.txt").write_text("y")
    staged = gate_client.stage_fingerprint(str(tmp_path) + root_suffix, 100, 10_000)
    assert staged is not None
    assert [rel for rel, _ in staged.files] == ["SKILL.md", "a/b/c.txt"]


def test_paths_sort_as_clawhub_sorts_them() -> None:
    paths = ["Zeta", "SKILL.md", "scripts/a.sh", "9.txt", "alpha", "_meta.json", "10.txt", "Alpha"]
    expected = ["_meta.json", "10.txt", "9.txt", "alpha", "Alpha", "scripts/a.sh", "SKILL.md", "Zeta"]
    assert sorted(paths, key=locale_sort_key) == expected


def test_ascii_paths_take_the_table_and_get_the_per_character_key() -> None:
    every_ascii = "".join(chr(i) for i in range(128))
    for path in (every_ascii, "scripts/Run_2.PY", ""):
        per_char = tuple(map(hashing._primary, path)), tuple(map(hashing._tertiary, path))
        assert locale_sort_key(path) == per_char
