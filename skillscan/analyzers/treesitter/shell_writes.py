"""Shell file writes (redirects, tee, cp, sed -i) judged by destination and content: persistence
(shell rc, authorized_keys, launchd/systemd/cron), sudoers edits, log wiping, and agent tampering
(OpenClaw's config, another skill's folder, the agent's instruction files)."""

from __future__ import annotations

import re

from tree_sitter import Node

from skillscan.analyzers.treesitter.shell_words import text
from skillscan.analyzers.treesitter.threat_scan import PAYLOAD, ShellScan, heredoc_text, redirect_targets

_RC_FILES = re.compile(
    r"(?:^|/)\.(?:bashrc|bash_profile|bash_login|profile|zshrc|zprofile|zshenv|zlogin|kshrc|cshrc|tcshrc)$|"
    r"\.config/fish/config\.fish$|^/etc/(?:profile|bash\.bashrc|zshrc|environment)$|^/etc/profile\.d/"
)
_AUTH_KEYS = re.compile(r"\.ssh/authorized_keys2?$")
_LAUNCHD = re.compile(r"Library/(?:LaunchAgents|LaunchDaemons)/[^/]{1,200}$")
_SYSTEMD = re.compile(
    r"(?:\.config/systemd/user|/etc/systemd/(?:system|user)|/lib/systemd/system)/[^/]{1,200}$"
)
_CRON = re.compile(
    r"^/etc/cron(?:tab|\.d/|\.(?:hourly|daily|weekly|monthly)/)|/var/spool/cron/|/var/at/tabs/"
)
_SUDOERS = re.compile(r"^/etc/sudoers(?:\.d/.{1,100})?$")
LOGS = re.compile(r"^/var/log(?:/|$)|^/private/var/log/|\.(?:bash|zsh)_history$|/var/log/audit")
_OPENCLAW_CONFIG = re.compile(
    r"\.(?:openclaw|clawdbot|moltbot)/(?:openclaw|clawdbot|moltbot|exec-approvals)\.json$"
)
_OTHER_SKILLS = re.compile(
    r"(?:\.(?:openclaw|clawdbot|moltbot)/(?:workspace/)?skills|\.agents/skills|/workspace/skills)/(?P<name>[^/]{1,100})/"
)
_INSTRUCTION_FILES = re.compile(r"(?:^|/)(?:AGENTS|SOUL|IDENTITY|TOOLS|HEARTBEAT|BOOTSTRAP)\.md$")
_SSH_KEY_LITERAL = re.compile(
    r"\b(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d{3})\s{1,3}AAAA[0-9A-Za-z+/]{40,}"
)
# What a destination must hold for a pattern above to match it, within one path of the text: a
# destination is a word, or one ending in `/` plus the last part of the word before (`cp x.plist
# ~/Library/LaunchAgents/`); a match that holds a `/` ends in that first word, one that holds none
# (a file name at the end) in the part taken from the second. `shell_gate` lets copies through
# when no word holds one.
DEST_MARKS = (
    b".bash", b".profile", b".zsh", b".zprofile", b".zlogin", b".kshrc", b".cshrc", b".tcshrc", b".fish",
    b"/etc/", b"authorized_keys", b"Launch", b"systemd", b"cron", b"/var/", b"_history", b".openclaw",
    b".clawdbot", b".moltbot", b"skills", b"AGENTS.md", b"SOUL.md", b"IDENTITY.md", b"TOOLS.md",
    b"HEARTBEAT.md", b"BOOTSTRAP.md",
)  # fmt: skip
_SUDO_ALL = re.compile(r"NOPASSWD\s{0,3}:\s{0,3}ALL\b|ALL\s{0,3}=\s{0,3}\(ALL(?::ALL)?\)\s{0,3}ALL\b")


def redirected(scan: ShellScan, node: Node) -> None:
    content = _literal_content(node)
    for op, dest in redirect_targets(node, scan.env):
        if op in {">", ">>", "&>", "&>>", ">|"}:
            written(scan, node, home_path(dest), content, appended=op.endswith(">>"))


def _literal_content(stmt: Node) -> str:
    """What a redirect writes when the script spells it out: here-docs, echo/printf arguments.
    The output of other commands (a download, a copy) is not known and judged by the target only."""
    content = heredoc_text(stmt)
    if content:
        return content
    body = stmt.child_by_field_name("body")
    if body is not None and body.type == "command":
        name = body.child_by_field_name("name")
        if name is not None and text(name) in {"echo", "printf", "print"}:
            return text(body)
    return ""


def written(scan: ShellScan, node: Node, dest: str, content: str, appended: bool) -> None:
    """A file is written (redirect, tee, cp, sed -i): judge the destination and what goes in."""
    payload = bool(PAYLOAD.search(content))
    if _RC_FILES.search(dest):
        if payload:
            scan.hit(node, "persistence-payload", f"Appends a fetch/decode/shell hook to {dest}")
        else:
            scan.hit(node, "persistence-shell-rc", f"Modifies the shell start-up file {dest}")
    elif _AUTH_KEYS.search(dest):
        if _SSH_KEY_LITERAL.search(content):
            scan.hit(
                node, "persistence-ssh-key-literal", "Adds a hard-coded SSH public key to authorized_keys"
            )
        else:
            scan.hit(node, "persistence-ssh-key", "Writes to ~/.ssh/authorized_keys")
    elif _LAUNCHD.search(dest) or _SYSTEMD.search(dest) or _CRON.search(dest):
        if payload:
            scan.hit(
                node,
                "persistence-payload",
                f"Installs a start-up job ({dest}) that fetches, decodes or opens a shell",
            )
        else:
            scan.hit(node, "persistence-install", f"Installs a start-up job: {dest}")
    elif _SUDOERS.search(dest):
        if _SUDO_ALL.search(content):
            scan.hit(node, "permission-weakening", f"Grants unrestricted sudo in {dest}")
        else:
            scan.hit(node, "sudoers-modification", f"Edits {dest} (sudo rights)")
    elif LOGS.search(dest) and not appended:
        scan.hit(node, "log-tampering", f"Overwrites {dest} (covering tracks)")
    elif _OPENCLAW_CONFIG.search(dest):
        scan.hit(node, "agent-config-overwrite", f"Rewrites OpenClaw's own configuration ({dest})")
    elif skill_dir := _OTHER_SKILLS.search(dest):
        # a skill installing or refreshing its own files is normal; another skill's folder is not
        if payload or not scan.ctx.is_own_folder(skill_dir.group("name")):
            rule = "agent-skill-tampering" if payload else "agent-skill-write"
            scan.hit(node, rule, f"Writes into an installed skill's folder ({dest})")
    elif _INSTRUCTION_FILES.search(dest):
        if payload:
            scan.hit(
                node,
                "agent-instruction-payload",
                f"Plants fetch/decode/shell commands in the agent's instructions ({dest})",
            )
        else:
            scan.hit(node, "agent-instruction-write", f"Writes the agent's standing instructions ({dest})")


def home_path(p: str) -> str:
    return p.strip("\"'").replace("${HOME}", "~").replace("$HOME", "~")
