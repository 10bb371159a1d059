"""JSON for the gate's fast path, straight from the standard library's C accelerator (`_json`).

`import json` pulls in `re` and `enum` (~5 ms of a ~15 ms process); `_json` is what `json` itself
calls underneath. Anything the accelerator does not take cleanly (an error, an interpreter without
it, a changed signature) is handed to `json` itself, so results and error messages are json's own.
"""

from __future__ import annotations

TYPE_CHECKING = False  # see gate_protocol: the fast path avoids importing typing
if TYPE_CHECKING:
    from typing import Any

try:
    import _json
except ImportError:  # an interpreter without the accelerator: json does it all
    _json = None  # type: ignore[assignment]

_WS = " \t\n\r"  # JSON's whitespace, as json.decoder.WHITESPACE


class _Decoder:
    """The settings `_json.make_scanner` reads: those of `json.loads` without arguments."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


_scan = _json.make_scanner(_Decoder()) if _json else None  # type: ignore[arg-type]


def loads(text: str) -> Any:
    """`json.loads(text)` for a str."""
    if _scan is not None:
        start = len(text) - len(text.lstrip(_WS))
        try:
            value, end = _scan(text, start)
        except (StopIteration, ValueError, RecursionError):
            pass  # json.loads raises the error it documents
        else:
            if not text[end:].strip(_WS):
                return value
    import json

    return json.loads(text)


def loads_bytes(data: bytes) -> Any:
    """`json.loads(data)` for bytes: UTF-8 here, anything json would detect otherwise there."""
    if b"\x00" not in data[:4] and not data.startswith(b"\xef\xbb\xbf"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return loads(text)
    import json

    return json.loads(data)


def dumps_compact(obj: object) -> str:
    """`json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`."""
    if _json:
        try:
            encode = _json.make_encoder(
                {}, _unserializable, _json.encode_basestring, None, ":", ",", False, False, True
            )
            return "".join(encode(obj, 0))
        except (TypeError, ValueError, RecursionError):
            pass
    import json

    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _unserializable(obj: object) -> object:
    raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")
