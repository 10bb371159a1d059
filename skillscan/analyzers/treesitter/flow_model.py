"""The flow checks' view of Python and JavaScript/TypeScript syntax: where data comes from (secret
files, the environment, the keychain) and where it goes (HTTP clients, sockets, mail, DNS).

Node types differ per grammar; `Lang` names them once so the taint engine in `flows.py` stays
language-neutral. Everything here is a pure function of syntax nodes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve, strings_added
from skillscan.analyzers.treesitter.parsing import node_text
from skillscan.analyzers.treesitter.sensitive import sensitive_path
from skillscan.models import FileKind


@dataclass(frozen=True)
class Lang:
    name: str
    call: frozenset[str]
    assign: frozenset[str]  # (left/name, right/value) pairs
    functions: frozenset[str]
    member: str
    member_field: str  # field of the member name in a member access
    loop: frozenset[str]
    kinds: frozenset[FileKind]


PY = Lang(
    name="python",
    call=frozenset({"call"}),
    assign=frozenset({"assignment", "augmented_assignment", "named_expression"}),
    functions=frozenset({"function_definition"}),
    member="attribute",
    member_field="attribute",
    loop=frozenset({"for_statement", "for_in_clause"}),
    kinds=frozenset({FileKind.PYTHON}),
)
JS = Lang(
    name="javascript",
    call=frozenset({"call_expression", "new_expression"}),
    assign=frozenset({"variable_declarator", "assignment_expression", "augmented_assignment_expression"}),
    functions=frozenset(
        {
            "function_declaration",
            "method_definition",
            "function_expression",
            "arrow_function",
            "generator_function_declaration",
        }
    ),
    member="member_expression",
    member_field="property",
    loop=frozenset({"for_in_statement"}),
    kinds=frozenset({FileKind.JAVASCRIPT, FileKind.TYPESCRIPT}),
)


# Stores whose single named values are the skill's own keys (config files, .env): reading one
# field and sending it to an API is how skills get their keys, unlike sending the store itself.
FIELD_STORES = frozenset({"OpenClaw config (holds API keys)", "OpenClaw credentials", ".env secrets file"})


@dataclass(frozen=True, slots=True)
class Source:
    kind: str  # file | envfile | memory | env | envvar | keychain | field
    label: str  # what it is ("SSH private key", "the whole environment", "$OPENAI_API_KEY")
    var: str | None = None  # the env var name for kind envvar


# Calls that take a path without reading it, and calls that only build a path.
NON_READ = frozenset(
    {"exists", "isfile", "isdir", "is_file", "is_dir", "stat", "lstat", "access", "existsSync", "statSync",
     "accessSync", "print", "log", "info", "warn", "warning", "error", "debug", "echo", "startswith",
     "endswith", "match", "search", "fnmatch", "compile", "append", "add", "includes", "test", "has",
     "remove", "unlink", "unlinkSync", "rmSync", "mkdir", "makedirs", "chmod", "glob", "format"}
)  # fmt: skip
PATH_BUILDERS = frozenset(
    {"join", "expanduser", "expandvars", "Path", "PurePath", "abspath", "normpath", "realpath", "resolve",
     "homedir", "dirname", "joinpath", "fspath", "str", "String", "with_name", "with_suffix"}
)  # fmt: skip
_POST_LIKE = frozenset({"post", "put", "patch"})
# Last names of the receivers whose `.post` / `.get` … talk HTTP (any case).
HTTP_RECEIVERS = (
    "requests", "httpx", "session", "client", "http", "s", "sess", "api", "aiohttp", "axios", "got", "needle",
    "superagent", "request", "ky", "ofetch",
)  # fmt: skip
_HTTP_RECEIVERS = re.compile(r"(?i)(?:^|\.)(?:" + "|".join(HTTP_RECEIVERS) + r")$")
_URL_IN_TEXT = re.compile(r"(?i)\b(?:https?|wss?)://[^\s'\"`{}$<>\\]{1,300}")
_URL_IN_TEXT_LONGEST = len("https://") + 300
_KEYCHAIN = re.compile(
    r"\bsecurity\b[\"',\s]{1,6}(?:find-generic-password|find-internet-password|dump-keychain)"
)


MAX_CALLEE_BYTES = 200


def callee(call: Node) -> str:
    func = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    if func is None:
        return ""
    if func.end_byte - func.start_byte > MAX_CALLEE_BYTES and func.type != "identifier":
        return _chain_tail(func)
    return node_text(func).replace(" ", "").replace("\n", "")


_OPTIONAL = re.compile(r"\?\.(?=([\[(])?)")  # `?.`, and whether a bracket or parenthesis follows


def plain_callee(call: Node) -> str:
    """`callee`, optional chaining read as plain access: `axios?.post(…)` calls `axios.post`."""
    name = callee(call)
    return _OPTIONAL.sub(lambda m: "" if m.group(1) else ".", name) if "?." in name else name


def _chain_tail(func: Node) -> str:
    """`a(…).b(…).c` -> "….b.c": the last names of a long chain are all any check reads, and
    copying the chain's text at each of its calls would cost quadratic time."""
    names: list[str] = []
    node: Node | None = func
    while node is not None and node.type in {"attribute", "member_expression"} and len(names) < 3:
        name = node.child_by_field_name("attribute") or node.child_by_field_name("property")
        if name is None or name.end_byte - name.start_byte > MAX_CALLEE_BYTES:
            break
        names.append(node_text(name))
        node = node.child_by_field_name("object")
    return ".".join(["…", *reversed(names)])


def call_args(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    return [a for a in args.named_children if a.type != "comment"] if args is not None else []


def keyword(call: Node, *names: str) -> Node | None:
    for a in call_args(call):
        if a.type == "keyword_argument" and node_text(a.child_by_field_name("name") or a) in names:
            return a.child_by_field_name("value")
    return None


def positional(call: Node) -> list[Node]:
    return [
        a for a in call_args(call) if a.type not in {"keyword_argument", "dictionary_splat", "list_splat"}
    ]


def object_value(obj: Node | None, *keys: str) -> Node | None:
    """`{body: x}` -> x for a JS object literal; `{body}` -> the shorthand `body` itself."""
    if obj is None or obj.type != "object":
        return None
    for pair in obj.named_children:
        if pair.type == "pair" and node_text(pair.child_by_field_name("key") or pair).strip("\"'") in keys:
            return pair.child_by_field_name("value")
        if pair.type == "shorthand_property_identifier" and node_text(pair) in keys:
            return pair
    return None


class PathParts(Protocol):
    """Where a path expression's parts come from (`flow_index.FileIndex`: by bisection, no walk)."""

    def strings_under(self, node: Node) -> list[str]: ...  # literal string contents, in order

    def names_under(self, node: Node) -> list[str]: ...  # identifiers and property names, in order


_PROSE = re.compile(r"^[^/~\\]{0,200}\s\S{1,40}\s")  # words before the first path separator: a message


def path_label(node: Node, parts_of: PathParts, constants: dict[str, str]) -> str | None:
    """The secret a path expression names: literal fragments and known constants joined with '/'."""
    parts = [p for p in parts_of.strings_under(node) if not _PROSE.match(p)]
    if constants:
        parts += [constants[n] for n in parts_of.names_under(node) if n in constants]
    if not parts:
        return None
    joined = re.sub(r"/{2,}", "/", "/".join(p.strip() for p in parts))
    return sensitive_path(joined) or next((lbl for p in parts if (lbl := sensitive_path(p))), None)


def mentions_keychain(text: str) -> bool:
    """Whether any call of a file can be a keychain read (checked once per file, not per call)."""
    return "security" in text and bool(_KEYCHAIN.search(text))


def read_source(
    call: Node,
    lang: Lang,
    label_of: Callable[[Node], str | None],
    keychain: bool = True,
    name: str | None = None,
) -> Source | None:
    """A call that reads a secret file (or the keychain) given a path literal or a path variable.
    `label_of`: the secret an argument's path names (`path_label`, or a path variable's label);
    `keychain`: whether the file mentions a keychain command at all; `name`: the call's callee."""
    if name is None:
        name = callee(call)
    leaf = name.rsplit(".", 1)[-1]
    if leaf in NON_READ or leaf in PATH_BUILDERS or leaf.endswith(("Error", "Exception")):
        return None
    # the keychain is asked for through a short command string; never copy a huge call's text
    if keychain and call.end_byte - call.start_byte <= 4000 and _KEYCHAIN.search(node_text(call)):
        return Source("keychain", "a macOS keychain secret")
    targets = call_args(call)
    func = call.child_by_field_name("function")
    if func is not None and func.type == lang.member:  # Path("~/.ssh/id_rsa").read_text()
        obj = func.child_by_field_name("object")
        if obj is not None:
            targets.append(obj)
    for arg in targets:
        label = label_of(arg)
        if label:
            return Source(_kind(label, arg), label)
    return None


def _kind(label: str, arg: Node) -> str:
    if label == "agent memory file":
        return "memory"
    if label == ".env secrets file" and not re.search(
        r"\.(?:openclaw|clawdbot|moltbot)|~|home|HOME", node_text(arg)
    ):
        return "envfile"  # the skill's own .env next to it
    return "file"


@dataclass(frozen=True, slots=True)
class Send:
    payload: tuple[Node, ...]  # what is sent
    dest: str | None  # URL / host text when known
    kind: str  # http | socket | mail | dns | exec


def source_features(text: str, lang: Lang | None = None) -> frozenset[str]:
    """What a file imports or mentions that decides whether a generic call (`.send`, `.post`)
    talks to the network: computed once per file, not per call. With `lang`, only what `sink`
    reads for that language."""
    found = {w for w in ("requests", "httpx", "socket") if lang is not JS and w in text}
    if lang is not PY and any(w in text for w in _JS_NET_WORDS) and _JS_NET.search(text):  # words: C-fast
        found.add("js-net")
    return frozenset(found)


_JS_NET = re.compile(
    r"\b(?:https?\.request|net\.(?:connect|createConnection|Socket)|tls\.connect|dgram|WebSocket|XMLHttpRequest)\b"
)
_JS_NET_WORDS = (
    ".request",
    "net.",
    "tls.connect",
    "dgram",
    "WebSocket",
    "XMLHttpRequest",
)  # one in each match


# The last name of every call `sink` can accept: any other call is dismissed before its arguments are read.
_SINK_LEAVES = frozenset(
    {"post", "put", "patch", "get", "request", "urlopen", "Request", "stream", "sendall", "send", "sendto",
     "sendmail", "send_message", "gethostbyname", "getaddrinfo", "resolve", "query", "fetch", "nodeFetch",
     "sendBeacon", "axios", "got", "write", "end", "lookup", "resolve4", "resolveTxt"}
)  # fmt: skip


def sink(
    call: Node, lang: Lang, constants: dict[str, str], features: frozenset[str], name: str | None = None
) -> Send | None:
    if name is None:
        name = callee(call)
    leaf = name.rsplit(".", 1)[-1]
    if leaf not in _SINK_LEAVES:
        return None
    recv = name.rsplit(".", 1)[0] if "." in name else ""
    pos = positional(call)
    if lang is PY:
        if leaf in _POST_LIKE and (
            recv == "" or _HTTP_RECEIVERS.search(recv) or "requests" in features or "httpx" in features
        ):
            payload = [
                n
                for n in (keyword(call, "data", "json", "files", "content"), pos[1] if len(pos) > 1 else None)
                if n is not None
            ]
            return Send(
                tuple(payload), dest_of(keyword(call, "url") or (pos[0] if pos else None), constants), "http"
            )
        if leaf in {"get", "request", "urlopen", "Request", "stream"} and (
            recv in {"requests", "httpx", "urllib.request", "request", ""} or _HTTP_RECEIVERS.search(recv)
        ):
            body = keyword(call, "data", "json", "files", "content", "body", "params")
            url = keyword(call, "url") or (
                pos[1] if leaf == "request" and len(pos) > 1 else pos[0] if pos else None
            )
            payload = [
                n
                for n in (body, url, pos[2] if leaf == "request" and len(pos) > 2 else None)
                if n is not None
            ]
            return Send(tuple(payload), dest_of(url, constants), "http")
        if leaf in {"sendall", "send", "sendto"} and "socket" in features:
            return Send(tuple(pos[:1]), None, "socket")
        if leaf in {"sendmail", "send_message"}:
            return Send(tuple(pos[-1:]), None, "mail")
        if name in {
            "socket.gethostbyname",
            "socket.getaddrinfo",
            "gethostbyname",
            "dns.resolver.resolve",
            "dns.resolver.query",
            "resolver.resolve",
        }:
            return Send(tuple(pos[:1]), None, "dns")
        return None
    if name in {"fetch", "window.fetch", "globalThis.fetch", "nodeFetch"} or leaf == "sendBeacon":
        opts = pos[1] if len(pos) > 1 else None
        body = object_value(opts, "body") or (opts if leaf == "sendBeacon" else None)
        return Send(
            tuple(n for n in (body, pos[0] if pos else None) if n is not None),
            dest_of(pos[0] if pos else None, constants),
            "http",
        )
    if leaf in _POST_LIKE and (
        recv in {"axios", "got", "needle", "superagent", "ky", "request", "http", "client", "api"}
        or _HTTP_RECEIVERS.search(recv)
    ):
        payload = [n for n in (pos[1] if len(pos) > 1 else None,) if n is not None]
        if len(pos) > 1 and pos[1].type == "object":
            payload += [v for v in (object_value(pos[1], "json", "body", "data", "form"),) if v is not None]
        return Send(tuple(payload), dest_of(pos[0] if pos else None, constants), "http")
    if name in {"axios", "axios.request", "got"} and pos and pos[0].type == "object":
        return Send(
            tuple(v for v in (object_value(pos[0], "data", "body", "json"),) if v is not None),
            dest_of(object_value(pos[0], "url"), constants),
            "http",
        )
    if leaf in {"write", "end", "send"} and "js-net" in features:
        return Send(tuple(pos[:1]), None, "socket")
    if name in {
        "dns.lookup",
        "dns.resolve",
        "dns.resolve4",
        "dns.resolveTxt",
        "dns.promises.lookup",
        "dns.promises.resolve",
    }:
        return Send(tuple(pos[:1]), None, "dns")
    return None


def dest_of(node: Node | None, constants: dict[str, str]) -> str | None:
    """The URL a destination expression names: a constant, a named constant, or a URL prefix."""
    if node is None:
        return None
    value = resolve(node)
    if value is None and node.type in {"identifier", "attribute", "member_expression"}:
        value = constants.get(node_text(node).rsplit(".", 1)[-1])
    if value is None:
        # the first URL that starts in the first 2000 characters, read whole (never cut short
        # there: `flow_hosts` reads hosts as written), strings added together as one
        m = _URL_IN_TEXT.search(strings_added(node_text(node))[: 2000 + _URL_IN_TEXT_LONGEST])
        value = m.group(0) if m and m.start() < 2000 else None
    return value
