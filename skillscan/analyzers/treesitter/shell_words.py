"""Shell command anatomy over tree-sitter-bash nodes: real command names behind wrappers, literal
argument text with simple variable resolution, and what downloaders fetch or write.

Pure functions of the syntax tree; nothing here runs anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from tree_sitter import Node

from skillscan.analyzers.treesitter.parsing import walk

# Commands that run the command that follows them (their own options are skipped).
WRAPPERS = frozenset(
    {"sudo", "doas", "env", "nohup", "time", "command", "exec", "nice", "ionice", "stdbuf", "timeout",
     "caffeinate", "arch", "chronic", "setsid", "unbuffer", "busybox", "run0", "pkexec"}
)  # fmt: skip
_WRAPPER_VALUE_OPTS = {
    "sudo": {"-u", "-g", "-C", "-h", "-p", "-U", "-r", "-t", "-D", "-R", "-T", "--user", "--group"},
    "doas": {"-u", "-C"},
    "env": {"-u", "-C", "-S", "--unset", "--chdir", "--split-string"},
    "nice": {"-n", "--adjustment"},
    "ionice": {"-c", "-n", "-p"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "stdbuf": {"-i", "-o", "-e"},
}
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "ash", "yash", "csh", "tcsh"})
INTERPRETERS = SHELLS | frozenset(
    {"python", "python2", "python3", "pypy", "pypy3", "node", "nodejs", "deno", "bun", "perl", "ruby",
     "php", "pwsh", "powershell", "powershell.exe", "pwsh.exe", "osascript", "lua", "tclsh", "Rscript"}
)  # fmt: skip
_PY = re.compile(r"^python(?:\d(?:\.\d{1,2})?)?$")
FETCHERS = frozenset({"curl", "wget", "fetch", "aria2c", "http", "https", "xh", "lwp-request", "GET"})
# Options of curl / wget that take a value (the value is not a URL to fetch).
_CURL_VALUE_OPTS = frozenset(
    [
        "-o",
        "--output",
        "-H",
        "--header",
        "-d",
        "--data",
        "--data-raw",
        "--data-binary",
        "--data-urlencode",
        "-X",
        "--request",
        "-u",
        "--user",
        "-A",
        "--user-agent",
        "-e",
        "--referer",
        "-w",
        "--write-out",
        "-m",
        "--max-time",
        "--connect-timeout",
        "--retry",
        "--retry-delay",
        "-K",
        "--config",
        "--cacert",
        "--capath",
        "-E",
        "--cert",
        "--key",
        "-F",
        "--form",
        "-x",
        "--proxy",
        "--resolve",
        "-b",
        "--cookie",
        "-c",
        "--cookie-jar",
        "-T",
        "--upload-file",
        "-r",
        "--range",
        "-C",
        "--continue-at",
        "--limit-rate",
        "-z",
        "--time-cond",
        "--output-dir",
        "--proto",
        "--proto-redir",
        "--max-redirs",
        "--interface",
        "--dns-servers",
        "-Y",
        "-y",
    ]
)
_WGET_VALUE_OPTS = frozenset(
    [
        "-O",
        "--output-document",
        "-o",
        "--output-file",
        "-a",
        "--append-output",
        "-P",
        "--directory-prefix",
        "-U",
        "--user-agent",
        "--header",
        "-t",
        "--tries",
        "-T",
        "--timeout",
        "-w",
        "--wait",
        "--post-data",
        "--post-file",
        "--user",
        "--password",
        "-e",
        "--execute",
        "-i",
        "--input-file",
        "-B",
        "--base",
        "--limit-rate",
        "-Q",
        "--quota",
    ]
)
_DIGIT = re.compile(r"^\d")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}=")
_SHORT_FLAGS = re.compile(r"^-[A-Za-z0-9]")
_STDIN_FLAG = re.compile(r"^-[a-z]{0,6}s[a-z]{0,6}$")  # `bash -s`, `sh -es`: the script is stdin
_CODE_FLAG = re.compile(r"^-[a-z]{0,6}c[a-z]{0,6}$")  # `bash -c`, `sh -ec`: the script is an argument
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]{0,63})\}|([A-Za-z_][A-Za-z0-9_]{0,63}))")
MAX_LITERAL = 4000
_BACKSLASH = re.compile(r"\\(.)")
_SHELL_VARS = {"$SHELL": "sh", "${SHELL}": "sh", "$BASH": "bash", "${BASH}": "bash", "$0": "sh"}
_URLISH = re.compile(
    r"(?i)^(?:[a-z][a-z0-9+.-]{0,15}://|[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8}(?::\d{1,5})?(?:[/?#]|$)|"
    r"\d{1,10}(?:\.\d{1,10}){0,3}(?::\d{1,5})?[/?#])"
)


def text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def base_name(word: str) -> str:
    """`/usr/bin/env` -> `env`, `"bash"` -> `bash`."""
    return word.strip("\"'").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]


def is_interpreter(name: str) -> bool:
    return name in INTERPRETERS or bool(_PY.match(name))


def is_python(name: str) -> bool:
    return bool(_PY.match(name)) or name in {"pypy", "pypy3"}


@dataclass(frozen=True, slots=True)
class Cmd:
    """A command with wrappers (sudo, env, …) peeled off."""

    node: Node
    name: str  # base name of the real command, "" when not literal
    args: tuple[Node, ...]  # argument nodes after the real command name
    wrapped: tuple[str, ...]  # wrapper names in front of it
    word: str = ""  # the real command as spelled (`./installer`, `/tmp/x`)


def peel(cmd: Node, env: Mapping[str, str]) -> Cmd:
    """The real command behind `sudo -u x env A=1 nohup …` (argument nodes in order)."""
    name_node = cmd.child_by_field_name("name")
    words: list[Node] = [name_node] if name_node is not None else []
    words += [c for c in cmd.children_by_field_name("argument")]
    wrapped: list[str] = []
    i = 0
    while i < len(words):
        word = literal(words[i], env)
        name = base_name(word) if word is not None else ""
        name = _SHELL_VARS.get(name, name)  # `… | $SHELL` runs the user's shell
        if name in WRAPPERS and i + 1 < len(words):
            wrapped.append(name)
            i += 1
            value_opts = _WRAPPER_VALUE_OPTS.get(name, set())
            while i < len(words):
                w = literal(words[i], env) or ""
                if name == "timeout" and _DIGIT.match(w):
                    i += 1
                    continue
                if name == "arch" and w.startswith("-"):
                    i += 1
                    continue
                if w in value_opts:
                    i += 2
                    continue
                if w.startswith("-") or _ASSIGNMENT.match(w):
                    i += 1
                    continue
                break
            continue
        return Cmd(node=cmd, name=name, args=tuple(words[i + 1 :]), wrapped=tuple(wrapped), word=word or "")
    return Cmd(node=cmd, name="", args=(), wrapped=tuple(wrapped))


def literal(node: Node, env: Mapping[str, str]) -> str | None:
    """Literal text of a word-like node with `$VAR` resolved from `env`; None when not literal."""
    t = node.type
    if t == "command_name":
        return literal(node.named_children[0], env) if node.named_child_count == 1 else None
    if t == "word":
        w = text(node)[:MAX_LITERAL]
        return _BACKSLASH.sub(r"\1", w) if "\\" in w else w  # `c\url` is `curl` to bash
    if t == "number":
        return text(node)[:MAX_LITERAL]
    if t == "raw_string":
        return text(node)[1:-1][:MAX_LITERAL]
    if t == "ansi_c_string":
        return text(node)[2:-1][:MAX_LITERAL]
    if t in {"string", "concatenation"}:
        parts: list[str] = []
        for c in node.children:
            if c.type == '"':
                continue
            if c.type == "string_content":
                parts.append(text(c))
            elif c.type in {"simple_expansion", "expansion"}:
                parts.append(resolve_vars(text(c), env))
            else:
                sub = literal(c, env)
                if sub is None:
                    return None
                parts.append(sub)
        return "".join(parts)[:MAX_LITERAL]
    if t in {"simple_expansion", "expansion"}:
        return resolve_vars(text(node), env)
    return None


def resolve_vars(s: str, env: Mapping[str, str]) -> str:
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), s)


class LazyEnv(Mapping[str, str]):
    """`assignments(root)`, computed at the first lookup: most texts never resolve a variable, and
    collecting assignments walks the whole tree."""

    def __init__(self, root: Node) -> None:
        self._root: Node | None = root
        self._env: dict[str, str] = {}

    def _get(self) -> dict[str, str]:
        if self._root is not None:
            self._env, self._root = assignments(self._root), None
        return self._env

    def __getitem__(self, key: str) -> str:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def assignments(root: Node) -> dict[str, str]:
    """Literal `NAME=value` assignments anywhere in the file (first-level constant propagation)."""
    env: dict[str, str] = {}
    for node in walk(root):
        if node.type != "variable_assignment":
            continue
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if name is None or value is None:
            continue
        lit = literal(value, env)
        if lit is not None and text(name) not in env:
            env[text(name)] = lit
    return env


def fetch_targets(cmd: Cmd, env: Mapping[str, str]) -> tuple[list[str], str | None, bool]:
    """(URLs fetched, file written or None, writes to stdout) for a downloader command."""
    wget = cmd.name == "wget"
    value_opts = _WGET_VALUE_OPTS if wget else _CURL_VALUE_OPTS
    urls: list[str] = []
    out_file: str | None = None
    remote_name = False
    stdout = not wget
    args = [literal(a, env) or "" for a in cmd.args]
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else ""
        if a.startswith("--") and "=" in a:
            opt, _, val = a.partition("=")
            if opt in {"--output", "--output-document"}:
                stdout, out_file = val == "-", None if val == "-" else val
        elif a.startswith("--"):
            if a in {"--output", "--output-document"}:
                stdout, out_file = nxt == "-", None if nxt == "-" else nxt
                i += 1
            elif a == "--remote-name":
                remote_name, stdout = True, False
            elif a in value_opts:
                i += 1
        elif _SHORT_FLAGS.match(a):
            # a bundle of short flags; a value-taking flag ends it (`-qO-`, `-fsSLo x`)
            out_flag = "O" if wget else "o"
            for k, c in enumerate(a[1:], start=1):
                if c == out_flag or c in _VALUE_LETTERS[wget]:
                    val = a[k + 1 :] or nxt
                    if not a[k + 1 :]:
                        i += 1
                    if c == out_flag:
                        stdout, out_file = val == "-", None if val == "-" else val
                    break
                if c == "O" and not wget:
                    remote_name, stdout = True, False
        elif a == "-" and wget:
            pass
        elif a and not a.startswith("-") and (_URLISH.match(a) or "$" in a):
            urls.append(a)  # a URL, a bare host curl would fetch, or one computed from variables
        i += 1
    if urls and out_file is None and (remote_name or (wget and not stdout)):
        out_file = urls[-1].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
    return urls, out_file, stdout


_VALUE_LETTERS = {False: frozenset("HdXuAewmKEFxbcTrCzY"), True: frozenset("oaPUtTwiBeQ")}


def reads_stdin_as_code(cmd: Cmd, env: Mapping[str, str]) -> bool:
    """True when an interpreter would execute what arrives on stdin (`sh`, `bash -s`, `python3 -`)."""
    if not is_interpreter(cmd.name):
        return False
    shell = cmd.name in SHELLS
    code_opts = (
        {"-c"} if shell else {"-c", "-m", "-e", "-E", "--eval", "-p", "--print", "-Command", "-File", "-f"}
    )
    for a in cmd.args:
        w = literal(a, env)
        if w is None:
            return False
        if w in {"-", "/dev/stdin", "--"}:
            return True
        if shell and _STDIN_FLAG.match(w):
            return True
        if w in code_opts or (shell and _CODE_FLAG.match(w)):
            return False
        if w.startswith("-"):
            continue
        return False  # a script file: stdin is its data
    return True


def _path_key(word: str) -> str:
    return word.strip("\"'").removeprefix("./")


def download_keys(target: str) -> tuple[tuple[str, str], ...]:
    """Lookup keys of a file written at `target` (scan_hits.Downloads): its path and base name."""
    key = _path_key(target)
    return (("path", key), ("base", key.rsplit("/", 1)[-1])) if key else ()


def run_keys(word: str) -> tuple[tuple[str, str], ...]:
    """Keys under which a later command's word names a downloaded file (`./x`, `x`, `$PWD/x`): a
    path names the file written there, a bare name also any file of that base name."""
    key = _path_key(word)
    return (("path", key),) if "/" in key else (("path", key), ("base", key))
