"""End to end: script-level attacks are detected and their benign look-alikes stay clean.

The full default scanner runs once over the project's own samples (corpus/, defanged, written
for these techniques) and, when the labelled research corpus is present, over its researcher-crafted
and synthetic script attacks. Each sample is checked for its verdict and for the technique's rule.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from skillscan.config import Settings
from skillscan.models import ScanReport, Verdict
from skillscan.scan import Scanner

REPO = Path(__file__).resolve().parent.parent.parent
CORPUS = REPO / "corpus"
DETECTED = {Verdict.SUSPICIOUS, Verdict.MALICIOUS}

# Own samples: (folder, the verdict it must reach, a rule that must be among the findings).
MALICIOUS = [
    ("exfil-multifile-aws-creds", Verdict.MALICIOUS, "exfil-credential-flow"),
    ("exfil-env-dump-curl", Verdict.MALICIOUS, "exfil-environment-dump"),
    ("exfil-openclaw-config-node", Verdict.MALICIOUS, "exfil-credential-flow"),
    ("exfil-dns-python", Verdict.MALICIOUS, "exfil-dns-lookup"),
    ("exfil-staged-two-scripts", Verdict.MALICIOUS, "exfil-credential-flow"),
    ("keychain-exfil", Verdict.MALICIOUS, "exfil-sensitive-file-upload"),
    ("reverse-shell-python", Verdict.MALICIOUS, "reverse-shell-python-socket"),
    ("reverse-shell-node", Verdict.MALICIOUS, "reverse-shell-node-socket"),
    ("reverse-shell-fifo-markdown", Verdict.MALICIOUS, "reverse-shell-netcat"),
    ("persistence-cron-beacon", Verdict.MALICIOUS, "persistence-payload"),
    ("persistence-launchagent-payload", Verdict.MALICIOUS, "persistence-payload"),
    ("persistence-ssh-key-backdoor", Verdict.MALICIOUS, "persistence-ssh-key-literal"),
    ("agent-skill-poisoning", Verdict.MALICIOUS, "agent-instruction-payload"),
    ("destructive-reset-home", Verdict.MALICIOUS, "destructive-rm-root"),
    ("cryptominer-xmrig", Verdict.MALICIOUS, "cryptominer-miner-invocation"),
    ("obfuscated-exec-python-layers", Verdict.MALICIOUS, "obfuscated-exec"),
    ("obfuscated-exec-js-atob", Verdict.MALICIOUS, "obfuscated-exec"),
    ("payload-in-png", Verdict.MALICIOUS, "obfuscated-exec"),
    ("prompt-unicode-tag-smuggling", Verdict.MALICIOUS, "hidden-unicode-tags"),
    ("agent-exec-approvals-off", Verdict.SUSPICIOUS, "agent-exec-approval-bypass"),
    ("browser-wallet-stealer", Verdict.SUSPICIOUS, "credential-crypto-wallet"),
    ("hidden-import-chr", Verdict.SUSPICIOUS, "hidden-dangerous-name"),
    ("prompt-html-comment-override", Verdict.SUSPICIOUS, "html-comment-directive"),
    ("prompt-credential-fishing", Verdict.SUSPICIOUS, "credential-disclosure-instruction"),
    ("typosquat-installs", Verdict.SUSPICIOUS, "typosquat-package"),
    ("npm-preinstall-payload", Verdict.SUSPICIOUS, "npm-lifecycle-payload"),
]
BENIGN = [
    "git-helper-subprocess",
    "docker-kubectl-helper",
    "backup-user-files",
    "vision-image-base64",
    "telegram-notify-own-token",
    "api-client-declared-key",
    "cron-own-digest",
    "security-patterns-doc",
    "env-check-local",
    "ssh-hosts-list",
    "model-switch-config",
    "log-rotate-own-logs",
    "image-decode-local",
]
# Research corpus: script attacks this engine set is responsible for (prefixes of folder names).
SHARED_PREFIXES = ("cisco__", "skillfortify__")
SHARED_UNDETECTABLE = {
    "malicious/cisco__malicious_eicar-test",  # names a test file the bundle does not contain
    "malicious/skillfortify__openclaw_mal_A12_001",  # dependency confusion: needs registry data
    "malicious/skillfortify__openclaw_mal_A12_002",
}


@pytest.fixture(scope="module")
def own_reports() -> dict[str, ScanReport]:
    paths = [CORPUS / "malicious" / name for name, _, _ in MALICIOUS] + [
        CORPUS / "benign" / n for n in BENIGN
    ]
    with Scanner(Settings()) as scanner:
        reports = scanner.scan_paths(paths)
    return {Path(r.source).name: r for r in reports}


@pytest.mark.parametrize(("name", "verdict", "rule"), MALICIOUS, ids=[m[0] for m in MALICIOUS])
def test_malicious_sample_detected(
    own_reports: dict[str, ScanReport], name: str, verdict: Verdict, rule: str
) -> None:
    report = own_reports[name]
    rules = {f.rule_id for f in report.findings}
    assert rule in rules, f"{name}: {rule} missing; got {sorted(rules)}"
    assert report.verdict is verdict, f"{name}: {report.verdict} ({report.reason})"


@pytest.mark.parametrize("name", BENIGN)
def test_benign_look_alike_clean(own_reports: dict[str, ScanReport], name: str) -> None:
    report = own_reports[name]
    loud = [f"{f.rule_id}@{f.path}:{f.line}" for f in report.findings if f.severity.rank >= 3]
    assert report.verdict is Verdict.CLEAN, f"{name}: {report.verdict}: {loud}"


@pytest.mark.slow
def test_research_corpus_script_attacks(shared_corpus: Path) -> None:
    with (shared_corpus / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        rows = [
            r
            for r in csv.DictReader(fh, delimiter="\t")
            if r["path"].split("/", 1)[-1].startswith(SHARED_PREFIXES)
            and r["label"] in {"malicious", "benign"}
        ]
    with Scanner(Settings()) as scanner:
        reports = scanner.scan_paths([shared_corpus / r["path"] for r in rows])
    missed, alarms = [], []
    for row, report in zip(rows, reports, strict=True):
        if (
            row["label"] == "malicious"
            and report.verdict not in DETECTED
            and row["path"] not in SHARED_UNDETECTABLE
        ):
            missed.append(row["path"])
        if row["label"] == "benign" and report.verdict is not Verdict.CLEAN:
            alarms.append(f"{row['path']}: {report.reason}")
    assert not missed, f"missed: {missed}"
    assert not alarms, f"benign alarms: {alarms}"
