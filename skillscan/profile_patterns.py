"""The capability profile's detectors (`skillscan.profile`): bounded regexes over a skill's code.

Each detector runs only on files that open its gate (`literal_gates`): by default the literals of
its regex's own prefilter (`literal_prefilter`), which a match cannot lack. A detector that needs
only short words (`sh`, `nc`, `-i`) has no such prefilter; `WORD_GATES` lists the whole words
every match of it holds instead (the tests check each gate against matching texts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from skillscan.literal_gates import Gate

# -- network hosts: group 1 is the host ----------------------------------------------------------

_NETCAT_HOST = re.compile(
    r"\b(?:nc|ncat|netcat)\s+(?:-[A-Za-z]{1,4}\s+(?:\S{1,60}\s+)?){0,4}([A-Za-z0-9.\-]{1,253})\s+\d{1,5}\b"
)
HOST_RES = (
    re.compile(
        r"\b(?:https?|wss?|ftps?)://(?:[^\s/@'\"<>]{1,100}@)?(\[[0-9a-fA-F:]{2,45}\]|[A-Za-z0-9.\-]{1,253})"
    ),
    re.compile(r"/dev/(?:tcp|udp)/([A-Za-z0-9.\-]{1,253})/\d{1,5}"),
    _NETCAT_HOST,
    re.compile(r"\bconnect\(\s*\(\s*['\"]([A-Za-z0-9.\-]{1,253})['\"]\s*,\s*\d{1,5}"),
    re.compile(r"\bsocat\b[^\n]{0,200}?\btcp[46]?:([A-Za-z0-9.\-]{1,253}):\d{1,5}", re.I),
)
LOOPBACK = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1"})
HOST_OK = re.compile(r"^(?:\[[0-9a-f:]+\]|[a-z0-9](?:[a-z0-9\-]{0,62}\.){0,10}[a-z0-9\-]{1,63})$")

# -- named capabilities: (pattern, item name) -----------------------------------------------------
# Entries may share a name: one detector in parts, so each part has its own (narrower) gate; the
# detector's match is the earliest of theirs, as it was for the alternation they came from.

_EVAL_CALL = re.compile(r"(?<![.\w])(?:eval|exec)\s*\(")
_NETCAT_EXEC = re.compile(r"\b(?:nc|ncat|netcat)\b[^\n|;&]{0,80}\s-[a-z]{0,3}[ec]\b")
_INTERACTIVE_SHELL = re.compile(r"\b(?:bash|sh|zsh)\s+-i\b")
_PIPE_TO_SHELL = re.compile(r"\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b")
_SHELL_C_SUBST = re.compile(r"\b(?:ba|z)?sh\s+-c\s+[\"']?\$\(")
EXEC_RES: tuple[tuple[re.Pattern[str], str], ...] = (
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
    (_EVAL_CALL, "dynamic code evaluation"),
    (re.compile(r"\bnew\s+Function\s*\("), "dynamic code evaluation"),
    (re.compile(r"\bexec_module\s*\("), "dynamic code evaluation"),
    (re.compile(r"/dev/(?:tcp|udp)/"), "shell /dev/tcp socket"),
    (_NETCAT_EXEC, "netcat command execution"),
    (_INTERACTIVE_SHELL, "interactive shell"),
    (_PIPE_TO_SHELL, "pipe to shell"),
    (_SHELL_C_SUBST, "pipe to shell"),
    (re.compile(r"\b(?:Invoke-Expression|iex)\b|\bStart-Process\b", re.I), "PowerShell execution"),
    (re.compile(r"\bbase64\s+(?:-d|-D|--decode)\b[^\n]{0,80}\|\s*(?:ba|z)?sh\b"), "decoded payload to shell"),
)

CREDENTIAL_RES: tuple[tuple[re.Pattern[str], str], ...] = (
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

PERSISTENCE_RES: tuple[tuple[re.Pattern[str], str], ...] = (
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

# -- environment variables: the first non-empty group is the name ---------------------------------

ENV_RES = (
    re.compile(
        r"\bos\.(?:environ\s*\[\s*|environ\.get\s*\(\s*|getenv\s*\(\s*)['\"]([A-Za-z_][A-Za-z0-9_]{0,80})['\"]"
    ),
    re.compile(
        r"\bprocess\.env\.([A-Za-z_][A-Za-z0-9_]{0,80})|\bprocess\.env\[\s*['\"]([A-Za-z_][A-Za-z0-9_]{0,80})['\"]"
    ),
    re.compile(r"\$env:([A-Za-z_][A-Za-z0-9_]{0,80})", re.I),
    re.compile(r"\$\{?([A-Z][A-Z0-9_]{2,80})\b"),  # a shell read: only in shell files and virtual files
)
# Reads of the whole environment, in parts as above: the earliest match of either is the one.
WHOLE_ENV = (
    re.compile(r"\bdict\(\s*os\.environ\s*\)"),
    re.compile(r"\bos\.environ\.(?:items|copy)\("),
    re.compile(r"JSON\.stringify\(\s*process\.env\s*\)"),
    re.compile(r"\bprintenv\b"),
    re.compile(r"(?:^|[;&|]\s*)env\s*(?:\||>)", re.M),
)
SHELL_NOISE = frozenset(
    {"HOME", "PATH", "PWD", "OLDPWD", "USER", "SHELL", "TERM", "LANG", "TMPDIR", "HOSTNAME", "UID", "EUID",
     "IFS", "RANDOM", "LINENO", "BASH_SOURCE", "BASH_VERSION", "SECONDS", "PPID", "OSTYPE", "LOGNAME",
     "DISPLAY", "EDITOR", "PAGER", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "TMP", "TEMP"}
)  # fmt: skip

# -- install specs: group 1 the manager, group 2 its arguments ------------------------------------

PKG_INSTALL = re.compile(
    r"\b(pip3?|uv\s+pip|pipx|npm|pnpm|yarn|bun|brew|cargo|go|gem|apt-get|apt|dnf|yum)\s+(?:install|add|i|get)\b([^\n;&|]{0,200})"
)
PKG_TOKEN = re.compile(r"^[A-Za-z0-9@][A-Za-z0-9@/._+=<>~^\-]{0,100}$")

_PACKAGE_MANAGERS = (
    "pip", "pip3", "pipx", "npm", "pnpm", "yarn", "bun", "brew", "cargo", "go", "gem", "apt-get", "apt", "dnf", "yum",
)  # fmt: skip

# -- gates of the detectors whose literals are too short for a prefilter --------------------------
# A word that a regex brackets with \b, \s, `(`, `|` or a look-behind for non-word characters has no
# ASCII letter or digit beside it, so a text holding no such word cannot match.
WORD_GATES: Mapping[re.Pattern[str], Gate] = {
    _NETCAT_HOST: Gate.of(words=("nc", "ncat", "netcat")),
    _NETCAT_EXEC: Gate.of(words=("nc", "ncat", "netcat")),
    _EVAL_CALL: Gate.of(words=("eval", "exec")),
    _INTERACTIVE_SHELL: Gate.of(words=("-i",)),
    _PIPE_TO_SHELL: Gate.of(words=("sh", "bash", "zsh", "dash", "ksh")),
    _SHELL_C_SUBST: Gate.of(literals=("$(",)),
    PKG_INSTALL: Gate.of(words=_PACKAGE_MANAGERS),
}

DETECTORS: tuple[re.Pattern[str], ...] = (
    *HOST_RES,
    *(pattern for pattern, _ in (*EXEC_RES, *CREDENTIAL_RES, *PERSISTENCE_RES)),
    *ENV_RES,
    *WHOLE_ENV,
    PKG_INSTALL,
)
