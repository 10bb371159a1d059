"""The shared vocabulary of a scan: what a skill is made of, what analyzers find, what we decide."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_SEVERITY_ORDER = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


class Category(StrEnum):
    REMOTE_EXEC = "remote-exec"
    OBFUSCATION = "obfuscation"
    CREDENTIAL_ACCESS = "credential-access"
    EXFILTRATION = "exfiltration"
    PROMPT_INJECTION = "prompt-injection"
    PERSISTENCE = "persistence"
    REVERSE_SHELL = "reverse-shell"
    AGENT_TAMPERING = "agent-tampering"
    HOSTNAME_LEAK = "hostname-leak"
    SECRET_LEAK = "secret-leak"
    SUPPLY_CHAIN = "supply-chain"
    DESTRUCTIVE = "destructive"
    CRYPTOMINER = "cryptominer"
    MANIFEST = "manifest"
    SOCIAL_ENGINEERING = "social-engineering"
    REPUTATION = "reputation"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RuleStatus(StrEnum):
    STABLE = "stable"
    EXPERIMENTAL = "experimental"


class Verdict(StrEnum):
    CLEAN = "clean"
    SUSPICIOUS = "suspicious"
    MALICIOUS = "malicious"
    INDETERMINATE = "indeterminate"


class Decision(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    BLOCK = "block"


class FileKind(StrEnum):
    MARKDOWN = "markdown"
    PYTHON = "python"
    JAVASCRIPT = "javascript"
    TYPESCRIPT = "typescript"
    SHELL = "shell"
    POWERSHELL = "powershell"
    JSON = "json"
    YAML = "yaml"
    TOML = "toml"
    TEXT = "text"
    BINARY = "binary"

    @property
    def is_script(self) -> bool:
        return self in _SCRIPT_KINDS


_SCRIPT_KINDS = frozenset(
    {FileKind.PYTHON, FileKind.JAVASCRIPT, FileKind.TYPESCRIPT, FileKind.SHELL, FileKind.POWERSHELL}
)


class VirtualOrigin(StrEnum):
    """How a virtual file was derived from its real file."""

    CODE_BLOCK = "code-block"  # fenced code block in markdown
    INLINE_CODE = "inline-code"  # `inline command` in markdown prose
    DECODED = "decoded"  # base64 / hex / char-code payload decoded from a file
    NORMALIZED = "normalized"  # copy with Unicode confusables and zero-width characters folded to ASCII
    ARCHIVE = "archive"  # member of an archive nested inside the bundle


@dataclass(frozen=True, slots=True)
class SkillFile:
    """One file every analyzer sees. Virtual files map each of their lines back to a real file line.

    `path` is the POSIX path relative to the skill root. For a virtual file, `path` is a synthetic
    name (``SKILL.md#block3.sh``) and `origin_path` / `line_offset` point into the real file:
    virtual line N is real line ``line_offset + N`` (or exactly ``line_offset`` when `pinned`,
    as for a decoded payload whose every line comes from one encoded blob).
    """

    path: str
    kind: FileKind
    data: bytes
    sha256: str
    text: str | None = None  # decoded text; None for binary or undecodable content
    virtual: VirtualOrigin | None = None
    origin_path: str | None = None
    line_offset: int = 0
    pinned: bool = False
    depth: int = 0  # decode depth for decoded payloads
    # Per-line map (virtual line N -> real line line_map[N-1]) for virtual files gathered from
    # scattered lines, such as inline commands; when set it takes precedence over line_offset.
    line_map: tuple[int, ...] | None = None
    lossy: bool = False  # text was decoded with replacement characters (invalid UTF-8)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def real_path(self) -> str:
        return self.origin_path if self.origin_path is not None else self.path

    def real_line(self, line: int | None) -> int | None:
        """Map a 1-based line in this file to the 1-based line in the real file."""
        if self.virtual is None:
            return line
        if self.line_map and not self.pinned:
            if line is not None and 1 <= line <= len(self.line_map):
                return self.line_map[line - 1]
            return self.line_map[0] if line is None or line < 1 else self.line_map[-1]
        if self.pinned or line is None:
            return self.line_offset or None
        return self.line_offset + line


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """A rule's metadata, whatever engine runs it (YARA, Semgrep, tree-sitter, prompt, …)."""

    id: str
    engine: str
    category: Category
    severity: Severity
    confidence: Confidence
    description: str
    status: RuleStatus = RuleStatus.STABLE


@dataclass(frozen=True, slots=True)
class SkillIdentity:
    owner: str | None = None
    slug: str | None = None
    version: str | None = None
    name: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class FileEntry:
    """Inventory line for a real file, as stored in a report."""

    path: str
    kind: FileKind
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    analyzer: str
    category: Category
    severity: Severity
    path: str  # real file, relative to the skill root
    line: int | None
    message: str
    evidence: str = ""
    confidence: Confidence = Confidence.MEDIUM
    status: RuleStatus = RuleStatus.STABLE

    def sort_key(self) -> tuple[int, str, int, str]:
        return (-self.severity.rank, self.path, self.line or 0, self.rule_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "analyzer": self.analyzer,
            "category": str(self.category),
            "severity": str(self.severity),
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "evidence": self.evidence,
            "confidence": str(self.confidence),
            "status": str(self.status),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(
            rule_id=d["rule_id"],
            analyzer=d.get("analyzer", ""),
            category=Category(d["category"]),
            severity=Severity(d["severity"]),
            path=d["path"],
            line=d.get("line"),
            message=d.get("message", ""),
            evidence=d.get("evidence", ""),
            confidence=Confidence(d.get("confidence", "medium")),
            status=RuleStatus(d.get("status", "stable")),
        )


@dataclass(frozen=True, slots=True)
class ScanError:
    """An analyzer or file that could not be analysed. Never silently clean."""

    analyzer: str
    path: str | None
    detail: str
    timed_out: bool = False  # the analyzer was stopped at its time limit (a smaller batch may finish)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"analyzer": self.analyzer, "path": self.path, "detail": self.detail}
        if self.timed_out:  # reports stored before the field existed read as not timed out
            out["timed_out"] = True
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScanError:
        return cls(
            analyzer=d["analyzer"], path=d.get("path"), detail=d["detail"], timed_out=bool(d.get("timed_out"))
        )


@dataclass(frozen=True, slots=True)
class Skill:
    """A skill after safe unpack and inventory: what every analyzer receives."""

    source: str  # the skill folder or zip path as given or found under a parent folder
    identity: SkillIdentity
    files: tuple[SkillFile, ...]  # real files first, then virtual files
    errors: tuple[ScanError, ...] = ()  # unpack / inventory problems
    findings: tuple[Finding, ...] = ()  # inventory-level findings (e.g. refused members)
    frontmatter: dict[str, Any] | None = None
    zip_sha256: str | None = None  # sha256 of the bundle ZIP when scanned from one

    @property
    def real_files(self) -> tuple[SkillFile, ...]:
        return tuple(f for f in self.files if f.virtual is None)

    def file(self, path: str) -> SkillFile | None:
        return next((f for f in self.files if f.path == path), None)


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """What one analyzer found in one skill."""

    findings: tuple[Finding, ...] = ()
    errors: tuple[ScanError, ...] = ()
    notes: tuple[str, ...] = ()  # informational (e.g. a reputation lookup that was deferred)


@dataclass(frozen=True, slots=True)
class ScanReport:
    skill: SkillIdentity
    source: str
    files: tuple[FileEntry, ...]
    findings: tuple[Finding, ...]
    errors: tuple[ScanError, ...]
    verdict: Verdict
    decision: Decision
    reason: str
    tool_version: str
    ruleset_digest: str
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    schema_version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "tool_version": self.tool_version,
            "ruleset_digest": self.ruleset_digest,
            "path": self.source,
            "skill": {
                "owner": self.skill.owner,
                "slug": self.skill.slug,
                "version": self.skill.version,
                "name": self.skill.name,
                "fingerprint": self.skill.fingerprint,
            },
            "fingerprint": self.skill.fingerprint,
            "verdict": str(self.verdict),
            "decision": str(self.decision),
            "reason": self.reason,
            "files": [
                {"path": f.path, "kind": str(f.kind), "size": f.size, "sha256": f.sha256} for f in self.files
            ],
            "findings": [f.to_dict() for f in self.findings],
            "errors": [e.to_dict() for e in self.errors],
            "notes": list(self.notes),
            "timings": dict(self.timings),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScanReport:
        s = d.get("skill") or {}
        return cls(
            skill=SkillIdentity(
                owner=s.get("owner"),
                slug=s.get("slug"),
                version=s.get("version"),
                name=s.get("name"),
                fingerprint=s.get("fingerprint", d.get("fingerprint")),
            ),
            source=d.get("path", ""),
            files=tuple(
                FileEntry(path=f["path"], kind=FileKind(f["kind"]), size=f["size"], sha256=f["sha256"])
                for f in d.get("files", [])
            ),
            findings=tuple(Finding.from_dict(f) for f in d.get("findings", [])),
            errors=tuple(ScanError.from_dict(e) for e in d.get("errors", [])),
            verdict=Verdict(d["verdict"]),
            decision=Decision(d["decision"]),
            reason=d.get("reason", ""),
            tool_version=d.get("tool_version", ""),
            ruleset_digest=d.get("ruleset_digest", ""),
            timings=dict(d.get("timings", {})),
            notes=tuple(d.get("notes", [])),
            schema_version=d.get("schema_version", 1),
        )
