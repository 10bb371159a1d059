r"""The markdown / prose analyzer ("prompt"): data-driven rules over SKILL.md and other markdown.

Rule files live in `prompt_rules/<rule-id>.yaml`, one rule per file::

    id: password-protected-archive        # = file stem, lowercase kebab-case
    category: social-engineering          # a Category value
    severity: critical                    # a Severity value
    confidence: high                      # low | medium | high
    status: stable                        # stable | experimental (reports, never decides)
    description: One sentence: the technique and why it matters.
    message: Optional finding message (default: description).
    files: markdown                       # markdown (any .md) | skill-md (SKILL.md only)
    decoded: false                        # also run on decoded payloads found in markdown
    scope: [prose, heading, frontmatter]  # default; also code (fenced blocks), html-comment
    text: masked                          # view regexes read: masked (normalised, URLs -> "<url>"),
                                          # normalized (URLs kept), raw (exact characters: hidden
                                          # Unicode and other character-class rules)
    match:                                # the anchor; exactly one of:
      regex: '(?i)\bpass(?:word)?\b'      #   a bounded regex (no * + or {n,}; see regex_safety)
      # phrases: [open terminal, ...]     #   word-bounded literal phrases, case-insensitive
      # url: {class: [paste, tunnel], not_class: [documentation], path: '\.zip$', undeclared: true}
    near:                                 # every condition must match within `within` lines
      - {url: {class: [archive]}, within: 3}
    near_any:                             # at least one must match (when given)
      - {regex: '(?i)\bdownload\b', within: 3, scope: [prose, code]}
    not_near:                             # none may match (warnings, write-ups, negations)
      - {regex: '(?i)\b(?:never|scam)\b', within: 1}
    heading: '(?i)prereq|setup|install'   # an enclosing heading must match
    min_count: 1                          # distinct anchor lines needed (repeated banners)

Conditions take their own `scope`, `text` and `within` (default 3 lines). URL classes come from
`data/delivery_hosts.yaml` (paste, tunnel, shortener, file-share, dynamic-dns, well-known-installers,
official-platform-domains, …) plus computed ones: raw-ip, local, documentation, brand-impersonation,
github-release, archive, executable. `undeclared` means the host is not the skill's own (homepage,
install metadata, its owner's GitHub). One finding per rule per file, at the first anchor line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from skillscan.analyzers.declared_hosts import DeclaredHosts
from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.interface import Analyzer
from skillscan.analyzers.markdown_doc import parse_markdown
from skillscan.analyzers.prompt_engine import DocContext, PromptRule, literal_index, match_rule
from skillscan.analyzers.prompt_loader import load_rules
from skillscan.errors import RuleError
from skillscan.models import AnalysisResult, FileKind, Finding, RuleMeta, Skill, SkillFile, VirtualOrigin

RULES_DIR = Path(__file__).resolve().parent / "prompt_rules"
COMPUTED_URL_CLASSES = frozenset(
    {"raw-ip", "local", "documentation", "brand-impersonation", "github-release", "archive", "executable"}
)
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")


class PromptAnalyzer(Analyzer):
    name = "prompt"

    def __init__(self, rules_dir: Path | None = None, catalog: DeliveryCatalog | None = None) -> None:
        self._catalog = catalog or DeliveryCatalog.load()
        self._rules = load_rules(rules_dir or RULES_DIR)
        self._index = literal_index(self._rules)
        known = COMPUTED_URL_CLASSES | set(self._catalog.classes)
        for rule in self._rules:
            for cond in (rule.anchor, *rule.near, *rule.near_any, *rule.not_near):
                if cond.url is not None:
                    unknown = (cond.url.classes | cond.url.not_classes) - known
                    if unknown:
                        raise RuleError(f"{rule.meta.id}: unknown URL classes {sorted(unknown)}")

    def rules(self) -> Sequence[RuleMeta]:
        return [r.meta for r in self._rules]

    def analyze(self, skill: Skill) -> AnalysisResult:
        declared = DeclaredHosts.of(skill)
        findings: list[Finding] = []
        for file in skill.files:
            if file.text is None or not _is_markdown(file, skill):
                continue
            rules = [r for r in self._rules if _applies(r, file)]
            if rules:
                findings.extend(self.scan_text(file, rules, declared))
        return AnalysisResult(findings=tuple(findings))

    def scan_text(
        self, file: SkillFile, rules: Sequence[PromptRule], declared: DeclaredHosts
    ) -> list[Finding]:
        assert file.text is not None
        doc = parse_markdown(file.text)
        ctx = DocContext(doc=doc, catalog=self._catalog, declared=declared, index=self._index)
        out: list[Finding] = []
        for rule in rules:
            hit = match_rule(rule, ctx)
            if hit is None:
                continue
            message = rule.message if hit.count == 1 else f"{rule.message} ({hit.count} places)"
            out.append(
                Finding(
                    rule_id=rule.meta.id,
                    analyzer=self.name,
                    category=rule.meta.category,
                    severity=rule.meta.severity,
                    path=file.real_path,
                    line=file.real_line(hit.segment.line),
                    message=message,
                    evidence=_evidence(hit.segment.raw),
                    confidence=rule.meta.confidence,
                    status=rule.meta.status,
                )
            )
        return out


def _is_markdown(file: SkillFile, skill: Skill) -> bool:
    if file.virtual is None:
        return file.kind is FileKind.MARKDOWN or file.path.lower().endswith(MARKDOWN_SUFFIXES)
    # Decoded payloads of markdown files: prose hidden in base64 is still prose.
    return file.virtual is VirtualOrigin.DECODED and (file.origin_path or "").lower().endswith(
        MARKDOWN_SUFFIXES
    )


def _applies(rule: PromptRule, file: SkillFile) -> bool:
    if file.virtual is not None and not rule.decoded:
        return False
    return not rule.skill_md_only or file.real_path.rsplit("/", 1)[-1].upper() == "SKILL.MD"


def _evidence(raw: str) -> str:
    text = " ".join(raw.split())
    return text if len(text) <= 200 else text[:197] + "..."
