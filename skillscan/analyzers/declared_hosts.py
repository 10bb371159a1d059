"""Hosts a skill declares as its own: its homepage, repository and install metadata, its owner's
GitHub, the tool it is named after; read from its frontmatter (leniently when the YAML does not
parse), so that fetching from them is told apart from fetching from a stranger (host_policy).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from skillscan.analyzers.urls import UrlRef, ip_literal, parse_url, registrable
from skillscan.frontmatter import split_frontmatter
from skillscan.models import Skill

_GITHUB_HOSTS = frozenset(
    {"github.com", "www.github.com", "raw.githubusercontent.com", "codeload.github.com"}
)


def _github_owner(url: UrlRef) -> str | None:
    parts = url.path.lstrip("/").split("/")
    if url.host in _GITHUB_HOSTS:
        return parts[0].lower() if parts and parts[0] else None
    if url.host.endswith(".github.io"):
        return url.host.split(".", 1)[0]
    return None


@dataclass(frozen=True)
class DeclaredHosts:
    """Hosts a skill names as its own: homepage, repository, install metadata, owner's GitHub."""

    domains: frozenset[str] = frozenset()
    github_owners: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()  # the tool the skill is named after ("dokku")

    def may_declare(self, host: str) -> bool:
        """False when `declares` is False for every URL on `host` (a screen: True means ask it):
        not a GitHub host, no label suffix among the domains (the host and its registrable domain
        are such suffixes), not named after a subject."""
        if host in _GITHUB_HOSTS or host.endswith(".github.io"):
            return True
        if self.domains:
            suffix = host
            while True:
                if suffix in self.domains:
                    return True
                dot = suffix.find(".")
                if dot < 0:
                    break
                suffix = suffix[dot + 1 :]
        return bool(self.subjects) and _flat(registrable(host).split(".", 1)[0]) in self.subjects

    def declaring_lines(self) -> list[re.Pattern[str]]:
        """Patterns that find, in plain URLs each put between newlines, in lower case (as
        `DeliveryCatalog.unplain_lines`), something on the line of each whose host `may_declare`
        may say True of (and of others: a screen). Each starts with a literal: searched fast."""
        found = [re.compile("github")]
        found += [re.compile(re.escape(domain) + "\\.*(?=[:/\n])") for domain in sorted(self.domains)]
        for subject in self.subjects:  # a label that is the subject once `-` is dropped (`_flat`)
            found.append(re.compile("-*".join(map(re.escape, subject)) if subject else "\n|[.-]"))
        return found

    def declares(self, url: UrlRef) -> bool:
        owner = _github_owner(url)
        if owner is not None:
            return owner in self.github_owners
        if url.host in self.domains or registrable(url.host) in self.domains:
            return True
        # A skill named after a tool fetching from that tool's own domain (dokku -> dokku.com).
        return _flat(registrable(url.host).split(".", 1)[0]) in self.subjects

    @classmethod
    def of(cls, skill: Skill) -> DeclaredHosts:
        """What a skill declares, from its parsed frontmatter, or (when the YAML does not parse,
        which ClawHub tolerates) from the raw frontmatter lines; its slug and name are subjects."""
        frontmatter: Mapping[str, Any] | None = skill.frontmatter
        if frontmatter is None:
            frontmatter = _lenient_frontmatter(skill)
        base = cls.from_skill(frontmatter, skill.identity.owner)
        names = {_flat(n) for n in (skill.identity.slug, skill.identity.name) if n}
        return replace(base, subjects=base.subjects | {n for n in names if len(n) >= 4})

    @classmethod
    def from_skill(cls, frontmatter: Mapping[str, Any] | None, owner: str | None = None) -> DeclaredHosts:
        domains: set[str] = set()
        owners: set[str] = {owner.lower()} if owner else set()
        for text in _declared_strings(frontmatter or {}):
            for token in re.split(r"[\s\"'(),;|&<>]+", text[:4000]):
                ref = parse_url(token, allow_bare=True)
                if ref is None or ip_literal(ref.host) is not None:
                    continue
                gh = _github_owner(ref)
                if gh is not None:
                    owners.add(gh)
                elif "." in ref.host:
                    domains.update({ref.host, registrable(ref.host)})
        name = (frontmatter or {}).get("name")
        subjects = {_flat(name)} if isinstance(name, str) and len(_flat(name)) >= 4 else set()
        return cls(domains=frozenset(domains), github_owners=frozenset(owners), subjects=frozenset(subjects))


def _lenient_frontmatter(skill: Skill) -> dict[str, Any] | None:
    """Top-level `key: value` lines of SKILL.md's frontmatter, for the declaring keys only."""
    md = next((f for f in skill.real_files if f.path.upper() == "SKILL.MD" and f.text), None)
    if md is None or md.text is None:
        return None
    raw, _start, _closed = split_frontmatter(md.text[:200_000])
    if raw is None:
        return None
    out: dict[str, Any] = {}
    for line in raw.split("\n")[:500]:
        key, sep, value = line.partition(":")
        key = key.strip().strip("'\"").lower()
        if sep and line[:1].strip() and (key in _DECLARING_KEYS or key == "name"):
            out[key] = value.strip().strip("'\"")
    return out


def _flat(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_DECLARING_KEYS = frozenset(
    {"homepage", "repository", "repo", "source", "url", "website", "metadata", "install"}
)


def _declared_strings(node: Any, key: str = "", depth: int = 0) -> Iterable[str]:
    """String values under keys that declare where the skill comes from (never `description`)."""
    if depth > 8:
        return
    if isinstance(node, Mapping):
        for k, v in node.items():
            k = str(k).lower()
            if k in {"description", "summary"}:
                continue
            if depth == 0 and k not in _DECLARING_KEYS:
                continue
            yield from _declared_strings(v, k, depth + 1)
    elif isinstance(node, list):
        for v in node[:200]:
            yield from _declared_strings(v, key, depth + 1)
    elif isinstance(node, str):
        yield node
