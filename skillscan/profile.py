"""A skill version's capability profile: what it can make an agent's machine do.

Derived from the inventoried skill (scripts, markdown code blocks and inline commands, decoded
payloads, frontmatter install specs, bundled binaries) and from the scan's findings. Comparing
the profiles of two versions shows what an update adds (`skillscan.diff`). Each item keeps the
first real file and line where it was seen, so a finding about it points somewhere useful.
Nothing is executed; every pattern is bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from skillscan.analyzers.regex_prefilter import Prefilter, literal_prefilter
from skillscan.models import Category, FileKind, Finding, Skill, SkillFile, VirtualOrigin
from skillscan.normalize import fold_case

NETWORK_HOSTS = "network_hosts"
PROCESS_EXEC = "process_exec"
CREDENTIAL_PATHS = "credential_paths"
ENV_VARS = "env_vars"
INSTALL_SPECS = "install_specs"
PERSISTENCE = "persistence"
BINARIES = "binaries"
AGENT_COMMANDS = "agent_commands"

CAPABILITIES: tuple[str, ...] = (
    PROCESS_EXEC,
    NETWORK_HOSTS,
    CREDENTIAL_PATHS,
    PERSISTENCE,
    BINARIES,
    INSTALL_SPECS,
    AGENT_COMMANDS,
    ENV_VARS,
)
LABELS: Mapping[str, str] = {
    NETWORK_HOSTS: "network hosts",
    PROCESS_EXEC: "process execution",
    CREDENTIAL_PATHS: "credential paths read",
    ENV_VARS: "environment variables read",
    INSTALL_SPECS: "install specs",
    PERSISTENCE: "persistence locations",
    BINARIES: "bundled binaries",
    AGENT_COMMANDS: "commands the agent is told to run",
}

MAX_ITEMS_PER_CAPABILITY = 200  # a hostile skill cannot grow a profile without bound
_MAX_SCAN_CHARS = 512 * 1024  # per file: profiles need the gist, not every byte of a huge file


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    line: int | None


@dataclass(frozen=True)
class CapabilityProfile:
    items: Mapping[str, Mapping[str, Location]] = field(default_factory=dict)

    def get(self, capability: str) -> frozenset[str]:
        return frozenset(self.items.get(capability, {}))

    def location(self, capability: str, item: str) -> Location | None:
        return self.items.get(capability, {}).get(item)

    def is_empty(self) -> bool:
        return not any(self.items.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            cap: [
                {"item": k, "path": loc.path, "line": loc.line} for k, loc in sorted(self.items[cap].items())
            ]
            for cap in CAPABILITIES
            if self.items.get(cap)
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CapabilityProfile:
        items: dict[str, dict[str, Location]] = {}
        for cap, entries in d.items():
            if cap in LABELS and isinstance(entries, list):
                items[cap] = {
                    str(e["item"]): Location(str(e.get("path", "")), e.get("line"))
                    for e in entries
                    if "item" in e
                }
        return cls(items=items)


# -- detectors: (compiled pattern, item name or None to use group 1) ----------------------------

_HOST_RES = (
    re.compile(
        r"\b(?:https?|wss?|ftps?)://(?:[^\s/@'\"<>]{1,100}@)?(\[[0-9a-fA-F:]{2,45}\]|[A-Za-z0-9.\-]{1,253})"
    ),
    re.compile(r"/dev/(?:tcp|udp)/([A-Za-z0-9.\-]{1,253})/\d{1,5}"),
    re.compile(
        r"\b(?:nc|ncat|netcat)\s+(?:-[A-Za-z]{1,4}\s+(?:\S{1,60}\s+)?){0,4}([A-Za-z0-9.\-]{1,253})\s+\d{1,5}\b"
    ),
    re.compile(r"\bconnect\(\s*\(\s*['\"]([A-Za-z0-9.\-]{1,253})['\"]\s*,\s*\d{1,5}"),
    re.compile(r"\bsocat\b[^\n]{0,200}?\btcp[46]?:([A-Za-z0-9.\-]{1,253}):\d{1,5}", re.I),
)
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1"})
_HOST_OK = re.compile(r"^(?:\[[0-9a-f:]+\]|[a-z0-9](?:[a-z0-9\-]{0,62}\.){0,10}[a-z0-9\-]{1,63})$")

_EXEC: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\bsubprocess\.(?:run|call|Popen|check_output|check_call|getoutput|getstatusoutput)\b"),
        "python subprocess",
    ),
    (
        re.compile(r"\bos\.(?:system|popen|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?)\s*\("),
        "python os.system/exec",
    ),
    (re.compile(r"\bpty\.spawn\s*\("), "python pty.spawn"),
    (re.compile(r"\bchild_process\b|\b(?:execSync|execFileSync|spawnSync)\s*\("), "node child_process"),
    (
        re.compile(r"(?<![.\w])(?:eval|exec)\s*\(|\bnew\s+Function\s*\(|\bexec_module\s*\("),
        "dynamic code evaluation",
    ),
    (re.compile(r"/dev/(?:tcp|udp)/"), "shell /dev/tcp socket"),
    (re.compile(r"\b(?:nc|ncat|netcat)\b[^\n|;&]{0,80}\s-[a-z]{0,3}[ec]\b"), "netcat command execution"),
    (re.compile(r"\b(?:bash|sh|zsh)\s+-i\b"), "interactive shell"),
    (re.compile(r"\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b|\b(?:ba|z)?sh\s+-c\s+[\"']?\$\("), "pipe to shell"),
    (re.compile(r"\b(?:Invoke-Expression|iex)\b|\bStart-Process\b", re.I), "PowerShell execution"),
    (re.compile(r"\bbase64\s+(?:-d|-D|--decode)\b[^\n]{0,80}\|\s*(?:ba|z)?sh\b"), "decoded payload to shell"),
)

_CREDENTIALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\.ssh/|\bid_(?:rsa|ed25519|ecdsa|dsa)\b"), "~/.ssh"),
    (re.compile(r"\.aws/(?:credentials|config)"), "~/.aws/credentials"),
    (re.compile(r"\.config/gcloud|application_default_credentials\.json"), "~/.config/gcloud"),
    (re.compile(r"\.kube/config"), "~/.kube/config"),
    (re.compile(r"\.docker/config\.json"), "~/.docker/config.json"),
    (
        re.compile(r"(?<![\w.])\.(?:netrc|npmrc|pypirc|git-credentials)\b"),
        "package/git credentials (.netrc, .npmrc, …)",
    ),
    (
        re.compile(r"\.openclaw/(?:openclaw\.json|\.env|credentials|agents)"),
        "~/.openclaw config and sessions",
    ),
    (re.compile(r"\.(?:clawdbot|clawdis)/"), "~/.clawdbot"),
    (re.compile(r"clawhub/config\.json|CLAWHUB_(?:AUTH_)?TOKEN"), "ClawHub token"),
    (re.compile(r"(?:^|[\s'\"/(=])\.env(?:\.local)?(?=[\s'\")]|$)", re.M), ".env file"),
    (
        re.compile(
            r"Login Data|Local State|Cookies\.sqlite|logins\.json|key[34]\.db|Chrome/User Data|Firefox/Profiles",
            re.I,
        ),
        "browser profile",
    ),
    (
        re.compile(r"Library/Keychains|security\s+find-(?:generic|internet)-password|login\.keychain"),
        "macOS keychain",
    ),
    (
        re.compile(r"wallet\.dat|\bExodus\b|\bElectrum\b|MetaMask|solana/id\.json|\.bitcoin/", re.I),
        "crypto wallet",
    ),
    (re.compile(r"/etc/(?:shadow|sudoers)\b"), "/etc/shadow"),
    (re.compile(r"\b(?:MEMORY|SOUL|USER)\.md\b"), "agent memory files"),
)

_PERSISTENCE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bcrontab\b|/etc/cron\.|/var/spool/cron"), "cron"),
    (re.compile(r"\bsystemctl\s+(?:--user\s+)?enable\b|/etc/systemd/|\.config/systemd/"), "systemd unit"),
    (re.compile(r"LaunchAgents|LaunchDaemons|\blaunchctl\s+(?:load|bootstrap)\b"), "launchd agent"),
    (
        re.compile(r">>?\s*[\"']?(?:~|\$HOME|\$\{HOME\})/\.(?:bashrc|zshrc|profile|bash_profile|zprofile)"),
        "shell rc file",
    ),
    (
        re.compile(r"CurrentVersion\\+Run|\bschtasks\s+/create\b|Start Menu\\+Programs\\+Startup", re.I),
        "Windows autorun",
    ),
    (re.compile(r"\.git/hooks/|core\.hooksPath"), "git hooks"),
    (
        re.compile(r"(?:>>?|tee\s+-a|write_text|writeFile\w*)[^\n]{0,80}\b(?:AGENTS|SOUL|MEMORY|TOOLS)\.md"),
        "agent instruction files",
    ),
    (
        re.compile(
            r"(?:>>?|tee\s+-a|cp|mv|write_text|writeFile\w*)[^\n]{0,80}\.openclaw/(?:openclaw\.json|hooks|skills)"
        ),
        "OpenClaw config",
    ),
)

_ENV_RES = (
    re.compile(
        r"\bos\.(?:environ\s*\[\s*|environ\.get\s*\(\s*|getenv\s*\(\s*)['\"]([A-Za-z_][A-Za-z0-9_]{0,80})['\"]"
    ),
    re.compile(
        r"\bprocess\.env\.([A-Za-z_][A-Za-z0-9_]{0,80})|\bprocess\.env\[\s*['\"]([A-Za-z_][A-Za-z0-9_]{0,80})['\"]"
    ),
    re.compile(r"\$env:([A-Za-z_][A-Za-z0-9_]{0,80})", re.I),
    re.compile(r"\$\{?([A-Z][A-Z0-9_]{2,80})\b"),
)
_WHOLE_ENV = re.compile(
    r"\bdict\(\s*os\.environ\s*\)|\bos\.environ\.(?:items|copy)\(|JSON\.stringify\(\s*process\.env\s*\)|\bprintenv\b|(?:^|[;&|]\s*)env\s*(?:\||>)",
    re.M,
)
_SHELL_NOISE = frozenset(
    {"HOME", "PATH", "PWD", "OLDPWD", "USER", "SHELL", "TERM", "LANG", "TMPDIR", "HOSTNAME", "UID", "EUID",
     "IFS", "RANDOM", "LINENO", "BASH_SOURCE", "BASH_VERSION", "SECONDS", "PPID", "OSTYPE", "LOGNAME",
     "DISPLAY", "EDITOR", "PAGER", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "TMP", "TEMP"}
)  # fmt: skip

_PKG_INSTALL = re.compile(
    r"\b(pip3?|uv\s+pip|pipx|npm|pnpm|yarn|bun|brew|cargo|go|gem|apt-get|apt|dnf|yum)\s+(?:install|add|i|get)\b([^\n;&|]{0,200})"
)
_PKG_TOKEN = re.compile(r"^[A-Za-z0-9@][A-Za-z0-9@/._+=<>~^\-]{0,100}$")

_CMD_SPLIT = re.compile(r"\|\|?|&&|;")
_CMD_TOKEN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,60}$")
_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")


def _scan_text(f: SkillFile) -> str:
    return (f.text or "")[:_MAX_SCAN_CHARS]


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


@cache
def _prefilter(pattern: re.Pattern[str]) -> Prefilter | None:
    return literal_prefilter(pattern.pattern)


class _Text:
    """A file's text, and its case-folded copy made once when a prefilter needs it. Most detectors
    need a word most files lack: one literal search in C rules them out before their regex runs."""

    __slots__ = ("_folded", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._folded: str | None = None

    def may_match(self, pattern: re.Pattern[str]) -> bool:
        """False only when `pattern` cannot match (a prefilter never drops a match)."""
        prefilter = _prefilter(pattern)
        if prefilter is None:
            return True
        if prefilter.folded and self._folded is None:
            self._folded = fold_case(self.text)
        return prefilter.search(self.text, self._folded or "", 0) is not None


class _Builder:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Location]] = {cap: {} for cap in CAPABILITIES}

    def add(self, capability: str, item: str, f: SkillFile | None, line: int | None, path: str = "") -> None:
        bucket = self.items[capability]
        if item in bucket or len(bucket) >= MAX_ITEMS_PER_CAPABILITY:
            return
        if f is not None:
            bucket[item] = Location(f.real_path, f.real_line(line))
        else:
            bucket[item] = Location(path, line)

    def profile(self) -> CapabilityProfile:
        return CapabilityProfile(items={cap: dict(v) for cap, v in self.items.items() if v})


def _is_code(f: SkillFile) -> bool:
    if f.virtual is None:
        return f.kind.is_script
    return f.virtual in (VirtualOrigin.CODE_BLOCK, VirtualOrigin.INLINE_CODE, VirtualOrigin.DECODED) or (
        f.kind.is_script
    )


def _is_config(f: SkillFile) -> bool:
    return f.virtual is None and f.kind in (FileKind.JSON, FileKind.YAML, FileKind.TOML)


def _is_agent_instruction(f: SkillFile) -> bool:
    origin = (f.origin_path or "").lower()
    return (
        f.virtual in (VirtualOrigin.CODE_BLOCK, VirtualOrigin.INLINE_CODE)
        and origin.endswith(_MARKDOWN_SUFFIXES)
        and f.kind in (FileKind.SHELL, FileKind.POWERSHELL)
    )


def _hosts(b: _Builder, f: SkillFile, t: _Text) -> None:
    text = t.text
    for pattern in _HOST_RES:
        if not t.may_match(pattern):
            continue
        for m in pattern.finditer(text):
            host = m.group(1).lower().rstrip(".")
            if (
                host in _LOOPBACK
                or not _HOST_OK.match(host)
                or ("." not in host and not host.startswith("["))
            ):
                continue
            b.add(NETWORK_HOSTS, host, f, _line_of(text, m.start()))


def _patterns(
    b: _Builder, cap: str, table: Iterable[tuple[re.Pattern[str], str]], f: SkillFile, t: _Text
) -> None:
    for pattern, name in table:
        m = pattern.search(t.text) if t.may_match(pattern) else None
        if m:
            b.add(cap, name, f, _line_of(t.text, m.start()))


def _env(b: _Builder, f: SkillFile, t: _Text) -> None:
    text = t.text
    shellish = f.kind in (FileKind.SHELL, FileKind.POWERSHELL) or f.virtual is not None
    for i, pattern in enumerate(_ENV_RES):
        if i == len(_ENV_RES) - 1 and not shellish:
            continue  # $NAME is a shell read; in Python/JS it is usually a template
        if not t.may_match(pattern):
            continue
        for m in pattern.finditer(text):
            name = next(g for g in m.groups() if g)
            if i == len(_ENV_RES) - 1 and name in _SHELL_NOISE:
                continue
            b.add(ENV_VARS, name, f, _line_of(text, m.start()))
    whole = _WHOLE_ENV.search(text) if t.may_match(_WHOLE_ENV) else None
    if whole:
        b.add(ENV_VARS, "(entire environment)", f, _line_of(text, whole.start()))


def _installs_in_text(b: _Builder, f: SkillFile, t: _Text) -> None:
    if not t.may_match(_PKG_INSTALL):
        return
    text = t.text
    for m in _PKG_INSTALL.finditer(text):
        manager = m.group(1).split()[0]
        for token in m.group(2).split()[:8]:
            if token.startswith("-") or not _PKG_TOKEN.match(token) or token in {"install", "add"}:
                continue
            b.add(INSTALL_SPECS, f"{manager}:{token}", f, _line_of(text, m.start()))


def _agent_commands(b: _Builder, f: SkillFile, text: str) -> None:
    for n, line in enumerate(text.splitlines()[:2000], start=1):
        line = line.strip().lstrip("$>").strip()
        if not line or line.startswith("#"):
            continue
        for segment in _CMD_SPLIT.split(line):
            words = [w for w in segment.split() if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]
            while words and words[0] in {"sudo", "env", "nohup", "exec", "time", "command"}:
                words = words[1:]
            if words:
                program = words[0].rsplit("/", 1)[-1]
                if _CMD_TOKEN.match(program):
                    b.add(AGENT_COMMANDS, program, f, n)


def _frontmatter_installs(b: _Builder, skill: Skill) -> None:
    fm = skill.frontmatter or {}
    meta: Any = fm.get("metadata")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = None
    blocks = [meta.get(k) for k in ("openclaw", "clawdbot", "clawdis")] if isinstance(meta, dict) else []
    blocks.append(fm.get("clawdis"))
    blocks.append(fm)  # top-level fallbacks (`dependencies`, `install`)
    skill_md = next((f.path for f in skill.real_files if f.path.lower() == "skill.md"), "SKILL.md")
    for block in blocks:
        if not isinstance(block, dict):
            continue
        for spec in _as_list(block.get("install")):
            if isinstance(spec, dict):
                kind = str(spec.get("kind") or spec.get("type") or "install")
                what = (
                    spec.get("formula")
                    or spec.get("package")
                    or spec.get("module")
                    or spec.get("url")
                    or spec.get("id")
                )
                if what:
                    b.add(INSTALL_SPECS, f"{kind}:{str(what)[:200]}", None, None, skill_md)
        for dep in _as_list(block.get("dependencies")):
            if isinstance(dep, dict) and dep.get("name"):
                b.add(
                    INSTALL_SPECS,
                    f"{dep.get('type') or 'dep'}:{str(dep['name'])[:200]}",
                    None,
                    None,
                    skill_md,
                )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# Finding categories that are themselves capabilities, whatever the text looked like.
_FINDING_CAPABILITIES: Mapping[Category, str] = {
    Category.REVERSE_SHELL: PROCESS_EXEC,
    Category.REMOTE_EXEC: PROCESS_EXEC,
    Category.CRYPTOMINER: PROCESS_EXEC,
    Category.CREDENTIAL_ACCESS: CREDENTIAL_PATHS,
    Category.PERSISTENCE: PERSISTENCE,
    Category.AGENT_TAMPERING: PERSISTENCE,
}


def extract_profile(skill: Skill, findings: Sequence[Finding] = ()) -> CapabilityProfile:
    b = _Builder()
    for f in skill.files:
        if (f.virtual is None and (f.kind is FileKind.BINARY or f.text is None) and f.size) or (
            f.virtual is VirtualOrigin.ARCHIVE and f.text is None and f.size
        ):
            b.add(BINARIES, f"{f.path} (sha256:{f.sha256[:12]})", f, None)
        text = _scan_text(f)
        if not text:
            continue
        t = _Text(text)
        if _is_code(f) or _is_config(f):
            _hosts(b, f, t)
        if _is_code(f):
            _patterns(b, PROCESS_EXEC, _EXEC, f, t)
            _patterns(b, CREDENTIAL_PATHS, _CREDENTIALS, f, t)
            _patterns(b, PERSISTENCE, _PERSISTENCE, f, t)
            _env(b, f, t)
            _installs_in_text(b, f, t)
            if f.virtual is None and f.kind in (FileKind.SHELL, FileKind.POWERSHELL):
                b.add(PROCESS_EXEC, f"{f.kind} script", f, 1)
        if _is_agent_instruction(f):
            _agent_commands(b, f, text)
    _frontmatter_installs(b, skill)
    for finding in findings:
        cap = _FINDING_CAPABILITIES.get(finding.category)
        if cap is not None:
            b.add(cap, f"{finding.category}: {finding.rule_id}", None, finding.line, finding.path)
    return b.profile()
