"""ClawHub's deterministic bundle ZIP (clawhub-api.md §1.7, `convex/lib/skillZip.ts`).

Entries sorted by path with JavaScript `localeCompare`, every mtime 1980-01-01 00:00:00, deflate
level 6, stored flat at the root, then the injected `_meta.json` (pretty JSON with `ownerId`,
`slug`, `version`, `publishedAt`). ClawHub builds the entry list as a JavaScript object, whose
keys iterate integer-like names first ("0", "12", …) in numeric order; that quirk is kept.
Same input, same bytes (our deflate is zlib's, not fflate's, so bytes differ from ClawHub's own).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any

from skillscan.hashing import locale_sort_key

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
META_NAME = "_meta.json"


def _array_index(key: str) -> int | None:
    """JavaScript 'array index' property names (canonical non-negative integers < 2**32 - 1)."""
    if not key.isdigit() or (len(key) > 1 and key[0] == "0") or not key.isascii():
        return None
    value = int(key)
    return value if value < 2**32 - 1 else None


def js_object_key_order(keys: Iterable[str]) -> list[str]:
    ordered = list(dict.fromkeys(keys))
    indexes = sorted((k for k in ordered if _array_index(k) is not None), key=lambda k: _array_index(k) or 0)
    return indexes + [k for k in ordered if _array_index(k) is None]


def meta_json(owner_id: str, slug: str, version: str, published_at: int) -> bytes:
    meta = {"ownerId": owner_id, "slug": slug, "version": version, "publishedAt": published_at}
    return json.dumps(meta, indent=2, ensure_ascii=False).encode("utf-8")


def build_zip(entries: Mapping[str, bytes], meta: Mapping[str, Any] | None = None) -> bytes:
    """`entries` maps publish paths to bytes; `meta` (if given) becomes `_meta.json`."""
    data: dict[str, bytes] = {p: entries[p] for p in sorted(entries, key=locale_sort_key)}
    if meta is not None:
        data[META_NAME] = json.dumps(dict(meta), indent=2, ensure_ascii=False).encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in js_object_key_order(data):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            zf.writestr(info, data[name], compresslevel=6)
    return buf.getvalue()
