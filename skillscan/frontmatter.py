"""SKILL.md frontmatter, parsed the way ClawHub does (clawhub-api.md §2.5), but safely.

The block sits between a first line ``---`` and the next ``---`` line (CRLF normalised). YAML is
loaded with a safe loader that bounds nesting depth, node count and alias expansion (billion
laughs), keeps every ``version`` value as its literal string (YAML 1.1 would make ``1.10`` the
float 1.1) and records duplicate keys instead of silently keeping the last one. ``metadata`` may
be a mapping or a JSON/JSON5 string.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import json5
import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

_CParser: Any
try:  # libyaml's event parser, when PyYAML was built with it
    from yaml._yaml import CParser as _CParserImpl

    _CParser = _CParserImpl
except ImportError:  # pragma: no cover - pure-Python PyYAML
    _CParser = None

MAX_FRONTMATTER_BYTES = 128 * 1024
MAX_DEPTH = 48
MAX_NODES = 50_000  # after alias expansion
MAX_METADATA_JSON_BYTES = 64 * 1024

_FENCE = re.compile(r"^---[ \t]*$")
_TOP_KEY = re.compile(r"^[\w-]+$")


@dataclass(frozen=True, slots=True)
class Frontmatter:
    """Result of parsing one SKILL.md. `data` is None when there is no usable frontmatter."""

    data: dict[str, Any] | None
    error: str | None = None  # why the block could not be used (None when absent or fine)
    body_start_line: int = 1  # 1-based line where the markdown body starts
    raw: str | None = None  # the YAML text between the fences
    present: bool = False  # a block opened with ``---``
    closed: bool = False
    duplicate_keys: tuple[str, ...] = ()  # dotted paths of keys given more than once
    metadata_error: str | None = None  # `metadata` was a string that is not JSON/JSON5
    start_line: int = 2  # 1-based line of the first YAML line
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> real line
    error_line: int | None = None  # real line of a YAML syntax error, when known


class _BoundError(yaml.YAMLError):
    pass


class _BoundedComposer(Composer):
    """Rejects deep nesting while composing, before any Python object is built."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _BoundError(f"nesting deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _KeyTracking(SafeConstructor):
    """Records duplicate keys instead of silently keeping the last; `version` stays a string."""

    duplicates: list[str]

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            return super().construct_mapping(node, deep=deep)
        self.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                key = str(key)
            if key in out:
                self.duplicates.append(str(key))
            if key == "version" and isinstance(value_node, ScalarNode):
                value: Any = value_node.value
            else:
                value = self.construct_object(value_node, deep=deep)
            out[key] = value
        return out


class _Loader(_BoundedComposer, Reader, Scanner, Parser, _KeyTracking, Resolver):
    """Pure-Python safe loader with bounded composition."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.duplicates = []


def _construct_map(loader: _KeyTracking, node: Any) -> dict[Any, Any]:
    return loader.construct_mapping(node, deep=True)


def _construct_plain(loader: _KeyTracking, node: Any) -> Any:
    return loader.construct_scalar(node) if isinstance(node, ScalarNode) else None


def _construct_set(loader: _KeyTracking, node: Any) -> list[Any]:
    return sorted(map(str, loader.construct_mapping(node, deep=True)))


_KeyTracking.add_constructor("tag:yaml.org,2002:map", _construct_map)  # type: ignore[type-var]
# Keep the data JSON-shaped: dates and binary stay their literal text, sets become lists.
_KeyTracking.add_constructor("tag:yaml.org,2002:timestamp", _construct_plain)  # type: ignore[type-var]
_KeyTracking.add_constructor("tag:yaml.org,2002:binary", _construct_plain)  # type: ignore[type-var]
_KeyTracking.add_constructor("tag:yaml.org,2002:set", _construct_set)  # type: ignore[type-var]

_LOADERS: list[type[Any]] = [_Loader]
if _CParser is not None:

    class _CLoader(_BoundedComposer, _CParser, _KeyTracking, Resolver):
        """libyaml events (≈7x faster), composed in Python so the same bounds apply."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.duplicates = []

    _LOADERS.insert(0, _CLoader)


def _expanded_size(root: Node) -> int:
    """Node count with aliases expanded; linear in the composed graph thanks to memoisation."""
    memo: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: Node, depth: int) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        if key in in_progress:
            raise _BoundError("recursive alias")
        if depth > MAX_DEPTH:
            raise _BoundError(f"nesting deeper than {MAX_DEPTH} levels")
        in_progress.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
                if total > MAX_NODES:
                    break
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
                if total > MAX_NODES:
                    break
        in_progress.discard(key)
        memo[key] = total
        return total

    return size(root, 0)


def load_yaml(text: str) -> tuple[Any, list[str]]:
    """Safely load one YAML document. Raises yaml.YAMLError (incl. bound violations)."""
    loader = _LOADERS[0](text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        if _expanded_size(node) > MAX_NODES:
            raise _BoundError(f"more than {MAX_NODES} nodes after alias expansion")
        return loader.construct_document(node), loader.duplicates
    except RecursionError as e:
        raise _BoundError("nesting too deep") from e
    finally:
        loader.dispose()


def parse_json_lenient(text: str) -> Any:
    """JSON, then JSON5 (trailing commas, comments). Raises ValueError when neither parses."""
    if len(text) > MAX_METADATA_JSON_BYTES:
        raise ValueError(f"longer than {MAX_METADATA_JSON_BYTES} bytes")
    try:
        return json.loads(text)
    except RecursionError as e:
        raise ValueError("nesting too deep") from e
    except ValueError:
        pass
    if _json_depth_exceeds(text, MAX_DEPTH):
        raise ValueError("nesting too deep")
    try:
        return json5.loads(text)
    except RecursionError as e:
        raise ValueError("nesting too deep") from e
    except Exception as e:  # json5 raises ValueError and assorted internal errors
        raise ValueError(str(e)[:200]) from e


def _json_depth_exceeds(text: str, limit: int) -> bool:
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def split_frontmatter(text: str) -> tuple[str | None, int, bool]:
    """(raw YAML or None, body start line, closed). Line numbers are 1-based, CRLF normalised."""
    norm = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    first_nl = norm.find("\n")
    first = norm if first_nl < 0 else norm[:first_nl]
    if not _FENCE.match(first):
        return None, 1, False
    pos = first_nl + 1 if first_nl >= 0 else len(norm)
    line_no = 2
    while pos < len(norm):
        nl = norm.find("\n", pos)
        end = len(norm) if nl < 0 else nl
        if _FENCE.match(norm[pos:end]):
            return norm[first_nl + 1 : pos], line_no + 1, True
        pos = end + 1
        line_no += 1
    return norm[first_nl + 1 :] if first_nl >= 0 else "", 1, False


def _key_lines(raw: str, start_line: int) -> dict[str, int]:
    lines: dict[str, int] = {}
    for i, line in enumerate(raw.split("\n")):
        if line and not line[0].isspace() and ":" in line:
            key = line.split(":", 1)[0].strip().strip("'\"")
            lines.setdefault(key, start_line + i)
    return lines


def parse_frontmatter(text: str) -> Frontmatter:
    raw, body_start, closed = split_frontmatter(text)
    if raw is None:
        return Frontmatter(data=None)
    if not closed:
        return Frontmatter(
            data=None, error="frontmatter opened with --- but never closed", raw=raw[:4096], present=True
        )
    common: dict[str, Any] = {
        "raw": raw,
        "body_start_line": body_start,
        "present": True,
        "closed": True,
        "key_lines": _key_lines(raw[:MAX_FRONTMATTER_BYTES], 2),
    }
    if len(raw.encode("utf-8", "replace")) > MAX_FRONTMATTER_BYTES:
        return Frontmatter(
            data=None, error=f"frontmatter larger than {MAX_FRONTMATTER_BYTES} bytes", **common
        )
    try:
        loaded, duplicates = load_yaml(raw)
    except yaml.YAMLError as e:
        detail = " ".join(str(e).split())[:300]
        mark = getattr(e, "problem_mark", None)
        line = 2 + mark.line if mark is not None else None
        return Frontmatter(data=None, error=f"invalid YAML: {detail}", error_line=line, **common)
    except (ValueError, TypeError, OverflowError) as e:  # odd scalars (timestamps, huge ints)
        return Frontmatter(data=None, error=f"invalid YAML: {str(e)[:200]}", **common)
    if loaded is None:
        return Frontmatter(data={}, duplicate_keys=tuple(duplicates), **common)
    if not isinstance(loaded, dict):
        return Frontmatter(
            data=None, error=f"frontmatter is a {type(loaded).__name__}, not a mapping", **common
        )
    data = {str(k): v for k, v in loaded.items() if _TOP_KEY.match(str(k))}
    metadata_error = None
    meta = data.get("metadata")
    if isinstance(meta, str):
        try:
            data["metadata"] = parse_json_lenient(meta)
        except ValueError as e:
            metadata_error = f"metadata is a string that is not JSON/JSON5: {e}"
    return Frontmatter(data=data, duplicate_keys=tuple(duplicates), metadata_error=metadata_error, **common)
