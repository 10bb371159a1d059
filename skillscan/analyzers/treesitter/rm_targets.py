"""What `rm -r` must not delete (`shell_threats._rm`, `shell_gate.rm_may_hit`): the filesystem, home
and system roots (critical); OpenClaw state, credentials and the user's documents (medium). Each is
spelled out (`ROOT_WORDS`, `USER_DATA_WORDS`) or written as a glob the shell expands to one of them
(`rm_rule`): `~/?*` is `~/*` (a `*` or `?` matches no leading dot: both are every visible entry),
`/b*` holds `/bin`, `~/.?*` holds `~/.ssh`, `~/.ssh/?*` is `~/.ssh/*`.

Only a glob in the last part of a path is expanded (`/home/*/.ssh` is not).
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from string import ascii_letters

from skillscan.analyzers.literal_index import trie_pattern

SYSTEM_DIRS = ("etc", "usr", "var", "bin", "sbin", "lib", "lib64", "boot", "opt", "System", "Library",
               "Applications", "private")  # fmt: skip
USER_DIRS = (".openclaw", ".clawdbot", ".moltbot", ".ssh", ".aws", ".gnupg", ".config", "Documents", "Desktop",
             "Pictures", "Downloads", "Library", "Music", "Movies", "Projects", "code", "src", "workspace")  # fmt: skip
OPENCLAW_DIRS = ("workspace", "skills", "agents")
_HOMES = ("~", "$HOME", "${HOME}")
_HELD = ("", "/", "*", "/*")  # an entry, as a folder, with a `*` after it
# Every spelling of a whole target (`rm_rule`) or a whole word of a text (`shell_gate`) that the
# rules judge: the filesystem, home, system roots (critical) ...
ROOT_WORDS = frozenset(
    {"/", "/*", "~", "~/", "~/*", "/root", "/root/"}  # (`~*` and `/root*` are no roots)
    | {h + s for h in _HOMES[1:] for s in _HELD}
    | {f"/{d}{s}" for d in ("home", "Users", *SYSTEM_DIRS) for s in _HELD}
    | {f"{c}:{sep}{s}" for c in ascii_letters for sep in ("", "\\", "/") for s in ("", "*")}
)
# ... and OpenClaw state, credentials, the user's documents (medium).
USER_DATA_WORDS = frozenset(
    f"{h}/{d}{s}"
    for h in _HOMES
    for d in (*USER_DIRS, *(f".openclaw/{o}" for o in OPENCLAW_DIRS))
    for s in _HELD
)
RULE_ROOT = "destructive-rm-root"
RULE_USER_DATA = "destructive-rm-user-data"
# Every entry name the lists spell out: a glob that matches one is that entry
NAMES = tuple(sorted({"home", "Users", "root", *SYSTEM_DIRS, *USER_DIRS, *OPENCLAW_DIRS}))
_GLOB = frozenset("*?[")
# Every visible name: `*`s with at most one `?` (no name is empty), or with one first character that
# is not a dot (no visible name starts with one)
_VISIBLE = re.compile(r"(?:\?|\[[!^]\.\])?\*+|\*+\?\**")
# Every piece of a name the lists spell out, as one pattern
_PIECES = sorted({n[i:j] for n in NAMES for i in range(len(n)) for j in range(i + 1, len(n) + 1)})
# (a run starting with a byte no name holds fails at the first test)
_PIECE = f"(?=[{''.join(sorted({re.escape(p[0]) for p in _PIECES}))}]){trie_pattern(set(_PIECES))}"
# Glob words whose expansion `rm_rule` may judge, in words spaced out with a space in front (for
# `shell_gate`): the last part is under `~/`, `/` or a drive (or an entry the lists name under
# one), and each run of plain bytes in it is a piece of a name (a glob that matches a name holds
# only such runs; one that matches every visible name holds none). One pattern per start, each
# starting with what it is found by (`~/`, `/`, `:/`): a text is searched for that, not tried at
# every word.
_FIRSTS = "".join(sorted({re.escape(n[0]) for n in NAMES}))
# A run is a piece whole or not at all, so no shorter piece of it is tried again (atomic, possessive).
_GLOB_PART = (
    rf"(?:(?=[{_FIRSTS}])(?:\.openclaw/)?{trie_pattern(set(NAMES))}/)?+"
    rf"(?=[^ /]*[*?])[*?]*+(?:(?>{_PIECE})(?:[*?]++(?>{_PIECE}))*+)?+[*?]*+/?(?![^ ])"
).encode()
GLOB_WORDS = tuple(re.compile(start + _GLOB_PART) for start in (rb" ~/", rb" /", rb":/(?<= [A-Za-z]:/)"))


def rm_rule(target: str) -> str | None:
    """The rule an `rm -r` of `target` (`~` for `$HOME`, quotes removed) raises, if any."""
    paths = [target, *expansions(target)]
    if not ROOT_WORDS.isdisjoint(paths):
        return RULE_ROOT
    if not USER_DATA_WORDS.isdisjoint(paths):
        return RULE_USER_DATA
    return None


def expansions(target: str) -> list[str]:
    """The paths the lists spell out that a glob in the last part of `target` stands for: its
    directory's `*` when it matches every visible name, its directory's entries the lists name
    that it matches (a name with a leading dot only by a glob with one)."""
    if _GLOB.isdisjoint(target):
        return []
    path = target[:-1] if target.endswith("/") else target
    head, slash, last = path.rpartition("/")
    if not slash or _GLOB.isdisjoint(last) or not _GLOB.isdisjoint(head):
        return []
    folder = head + "/"
    out = [folder + "*"] if _VISIBLE.fullmatch(last) else []
    pattern = "[!" + last[2:] if last.startswith("[^") else last  # the shell's `[^…]` is `[!…]`
    dotted = last.startswith(".")
    out += [folder + n for n in NAMES if n.startswith(".") == dotted and fnmatchcase(n, pattern)]
    return out
