"""JSON shapes the fake ClawHub answers with (clawhub-api.md §1.6; `convex/httpApiV1/skillsV1.ts`)."""

from __future__ import annotations

from typing import Any

from skillscan.registry.fake_store import FakeSkill, FakeStore, FakeVersion

SITE = "https://clawhub.ai"
MODEL = "fake-clawscan"

MALWARE_SKILL = "Blocked: this skill has been flagged as malicious by ClawScan and cannot be downloaded."
MALWARE_VERSION = (
    "Blocked: this skill version has been flagged as malicious by ClawScan and cannot be downloaded."
)
PENDING = "This skill is pending a ClawScan security review. Please try again in a few minutes."
REMOVED = "This skill has been removed by a moderator."
HIDDEN = "This skill is currently unavailable."


def skill_block(skill: FakeSkill) -> tuple[int, str] | None:
    """Answers for every read of a removed or hidden skill (detail, versions, files, ZIP)."""
    if skill.moderation == "removed":
        return 410, REMOVED
    if skill.moderation == "hidden":
        return 403, HIDDEN
    return None


def download_block(skill: FakeSkill, version: FakeVersion) -> tuple[int, str] | None:
    """`getPublicSkillVersionDownloadBlock`: skill-level malware/pending holds apply to the
    moderated version only; a version's own malicious verdict blocks that version."""
    block = skill_block(skill)
    if block:
        return block
    held = skill.moderation_version == version.version
    if skill.moderation == "malicious" and held:
        return 403, MALWARE_SKILL
    if skill.moderation == "pending" and held:
        return 423, PENDING
    if version.scan_verdict == "malicious":
        return 403, MALWARE_VERSION
    return None


def security_status(skill: FakeSkill, version: FakeVersion) -> str:
    if version.scan_verdict:
        return version.scan_verdict
    if (
        skill.moderation in ("suspicious", "malicious", "pending")
        and skill.moderation_version == version.version
    ):
        return skill.moderation
    return "clean"


def _tags(skill: FakeSkill) -> dict[str, str]:
    latest = skill.latest
    return {"latest": latest.version} if latest else {}


def _stats(skill: FakeSkill) -> dict[str, Any]:
    return {
        "downloads": skill.downloads,
        "installsCurrent": 0,
        "installsAllTime": 0,
        "stars": skill.stars,
        "versions": len(skill.live_versions()),
        "comments": 0,
    }


def _latest(skill: FakeSkill) -> dict[str, Any] | None:
    v = skill.latest
    if v is None:
        return None
    return {"version": v.version, "createdAt": v.created_at, "changelog": v.changelog, "license": "MIT-0"}


def list_item(skill: FakeSkill) -> dict[str, Any]:
    return {
        "slug": skill.slug,
        "displayName": skill.display_name,
        "summary": skill.summary,
        "description": skill.summary,
        "topics": [],
        "tags": _tags(skill),
        "stats": _stats(skill),
        "createdAt": skill.created_at,
        "updatedAt": skill.updated_at,
        "latestVersion": _latest(skill),
        "metadata": skill.metadata,
    }


def search_result(skill: FakeSkill, score: float) -> dict[str, Any]:
    latest = skill.latest
    return {
        "score": score,
        "slug": skill.slug,
        "displayName": skill.display_name,
        "summary": skill.summary,
        "icon": None,
        "version": latest.version if latest else None,
        "downloads": skill.downloads,
        "updatedAt": skill.updated_at,
        "ownerHandle": skill.owner,
        "owner": {"handle": skill.owner, "displayName": skill.owner, "image": None},
    }


def moderation(skill: FakeSkill) -> dict[str, Any] | None:
    if skill.moderation == "clean":
        return None
    malicious = skill.moderation == "malicious"
    verdict = skill.moderation if skill.moderation in ("suspicious", "malicious") else "clean"
    return {
        "isSuspicious": skill.moderation == "suspicious",
        "isMalwareBlocked": malicious,
        "verdict": verdict,
        "reasonCodes": [f"scanner.llm.{verdict}"] if verdict != "clean" else [],
        "summary": f"Flagged by {MODEL}" if verdict != "clean" else None,
        "engineVersion": None,
        "updatedAt": skill.updated_at,
    }


def detail(skill: FakeSkill) -> dict[str, Any]:
    return {
        "skill": {
            "slug": skill.slug,
            "displayName": skill.display_name,
            "summary": skill.summary,
            "icon": None,
            "description": skill.summary,
            "topics": [],
            "tags": _tags(skill),
            "stats": _stats(skill),
            "createdAt": skill.created_at,
            "updatedAt": skill.updated_at,
        },
        "latestVersion": _latest(skill),
        "metadata": skill.metadata,
        "owner": {"handle": skill.owner, "userId": skill.user_id, "displayName": skill.owner, "image": None},
        "moderation": moderation(skill),
    }


def version_item(v: FakeVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "createdAt": v.created_at,
        "changelog": v.changelog,
        "changelogSource": "user",
    }


def security(store: FakeStore, skill: FakeSkill, v: FakeVersion) -> dict[str, Any]:
    status = security_status(skill, v)
    definitive = status in ("clean", "suspicious", "malicious")
    sha = store.zip_sha256(skill, v)
    checked = v.created_at if status != "pending" else None
    return {
        "status": status,
        "hasWarnings": status in ("suspicious", "malicious"),
        "checkedAt": checked,
        "model": MODEL,
        "hasScanResult": definitive,
        "sha256hash": sha,
        "virustotalUrl": f"https://www.virustotal.com/gui/file/{sha}",
        "capabilityTags": [],
        "scanners": {
            "static": None,
            "vt": None,
            "skillspector": None,
            "llm": {
                "status": status,
                "verdict": {"clean": "benign"}.get(status, status) if definitive else None,
                "normalizedStatus": status,
                "confidence": "high" if definitive else None,
                "summary": None,
                "dimensions": None,
                "guidance": None,
                "findings": None,
                "agenticRiskFindings": None,
                "riskSummary": None,
                "model": MODEL,
                "checkedAt": checked,
            },
        },
    }


def version_detail(store: FakeStore, skill: FakeSkill, v: FakeVersion) -> dict[str, Any]:
    return {
        "skill": {"slug": skill.slug, "displayName": skill.display_name},
        "version": {
            "version": v.version,
            "createdAt": v.created_at,
            "changelog": v.changelog,
            "changelogSource": "user",
            "license": "MIT-0",
            "files": [
                {"path": f.path, "size": f.size, "sha256": f.sha256, "contentType": f.content_type}
                for f in v.files
            ],
            "security": security(store, skill, v),
        },
    }


def scan(store: FakeStore, skill: FakeSkill, v: FakeVersion) -> dict[str, Any]:
    latest = skill.latest
    return {
        "skill": {"slug": skill.slug, "displayName": skill.display_name},
        "version": {"version": v.version, "createdAt": v.created_at, "changelogSource": "user"},
        "moderation": {
            "scope": "skill",
            "sourceVersion": {"version": latest.version, "createdAt": latest.created_at} if latest else None,
            "matchesRequestedVersion": latest is v,
            "isPendingScan": skill.moderation == "pending",
            "isMalwareBlocked": skill.moderation == "malicious",
            "isSuspicious": skill.moderation == "suspicious",
            "isHiddenByMod": skill.moderation == "hidden",
            "isRemoved": skill.moderation == "removed",
        },
        "security": security(store, skill, v),
    }


def page_url(skill: FakeSkill) -> str:
    return f"{SITE}/{skill.owner}/skills/{skill.slug}"


def verdict_item(
    store: FakeStore, skill: FakeSkill, v: FakeVersion, requested: dict[str, Any]
) -> dict[str, Any]:
    status = security_status(skill, v)
    block = download_block(skill, v)
    reasons = []
    if block and block[0] == 403 and status == "malicious":
        reasons.append("moderation.malware_blocked")
    if status == "pending":
        reasons.append("security.pending")
    elif status != "clean":
        reasons.append("security.status_not_clean")
    return {
        "ok": not reasons,
        "decision": "pass" if not reasons else "fail",
        "reasons": reasons,
        "requestedSlug": requested.get("slug"),
        **({"requestedOwnerHandle": requested["ownerHandle"]} if requested.get("ownerHandle") else {}),
        "slug": skill.slug,
        "displayName": skill.display_name,
        "publisherHandle": skill.owner,
        "publisherDisplayName": skill.owner,
        "requestedVersion": requested.get("version"),
        "version": v.version,
        "createdAt": v.created_at,
        "checkedAt": v.created_at,
        "skillUrl": page_url(skill),
        "securityAuditUrl": f"{page_url(skill)}/security-audit?version={v.version}",
        "security": {
            "status": status,
            "passed": status == "clean",
            "signals": {
                "staticScan": None,
                "virusTotal": None,
                "skillSpector": None,
                "dependencyRegistry": None,
            },
        },
    }


def verdict_error(requested: dict[str, Any], code: str, message: str) -> dict[str, Any]:
    return {
        "ok": False,
        "decision": "fail",
        "reasons": [code.replace("_", ".", 1)],
        "requestedSlug": requested.get("slug"),
        "requestedVersion": requested.get("version"),
        "error": {"code": code, "message": message},
        "security": None,
    }


def verify(
    store: FakeStore, skill: FakeSkill, v: FakeVersion, resolved_from: str, tag: str | None
) -> dict[str, Any]:
    status = security_status(skill, v)
    reasons = []
    if skill.moderation == "malicious" or v.scan_verdict == "malicious":
        reasons.append("moderation.malware_blocked")
    if status == "pending":
        reasons.append("security.pending")
    elif status != "clean":
        reasons.append("security.status_not_clean")
    return {
        "schema": "clawhub.skill.verify.v1",
        "ok": not reasons,
        "decision": "pass" if not reasons else "fail",
        "reasons": reasons,
        "slug": skill.slug,
        "displayName": skill.display_name,
        "pageUrl": page_url(skill),
        "publisherHandle": skill.owner,
        "publisherDisplayName": skill.owner,
        "publisherProfileUrl": f"{SITE}/u/{skill.owner}",
        "version": v.version,
        "resolvedFrom": resolved_from,
        "tag": tag,
        "createdAt": v.created_at,
        "card": {
            "available": False,
            "path": None,
            "url": None,
            "sha256": None,
            "size": None,
            "contentType": None,
        },
        "artifact": {
            "sourceFingerprint": v.fingerprint,
            "bundleFingerprints": [v.fingerprint],
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in v.files],
        },
        "provenance": {"source": "unavailable", "reason": "not-github-imported"},
        "security": {
            "status": status,
            "passed": status == "clean",
            "rawStatus": status,
            "verdict": status,
            "confidence": "high",
            "summary": None,
            "model": MODEL,
            "checkedAt": v.created_at,
            "signals": {
                "staticScan": None,
                "virusTotal": None,
                "skillSpector": None,
                "dependencyRegistry": None,
            },
        },
        "signature": {"status": "unsigned"},
    }


def github_handoff(skill: FakeSkill) -> dict[str, Any]:
    gh = skill.github or {}
    repo, commit = gh.get("repo", ""), gh.get("commit", "")
    return {
        "sourceRef": "public-github",
        "repo": repo,
        "commit": commit,
        "path": gh.get("path", ""),
        "contentHash": gh.get("contentHash", skill.latest.fingerprint if skill.latest else ""),
        "archiveUrl": f"https://api.github.com/repos/{repo}/zipball/{commit}",
    }
