"""The hygiene engine: private endpoints, personal paths and live-looking secrets."""

from __future__ import annotations

import hashlib
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillscan.analyzers.hosts import HostsAnalyzer
from skillscan.models import (
    Category,
    FileKind,
    Finding,
    Severity,
    Skill,
    SkillFile,
    SkillIdentity,
    VirtualOrigin,
)


@pytest.fixture(scope="module")
def analyzer() -> HostsAnalyzer:
    return HostsAnalyzer()


def _file(path: str, text: str, **kw: object) -> SkillFile:
    data = text.encode()
    return SkillFile(
        path=path,
        kind=kw.pop("kind", FileKind.PYTHON),  # type: ignore[arg-type]
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
        **kw,  # type: ignore[arg-type]
    )


def _scan(analyzer: HostsAnalyzer, *files: SkillFile) -> list[Finding]:
    skill = Skill(source="t", identity=SkillIdentity(), files=files)
    return list(analyzer.analyze(skill).findings)


def _ids(findings: list[Finding]) -> set[str]:
    return {f.rule_id for f in findings}


def _token(n: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    return "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(n))


def test_rules_carry_hygiene_metadata(analyzer: HostsAnalyzer) -> None:
    rules = analyzer.rules()
    assert {r.id for r in rules} >= {"cgnat-host", "private-key-block", "clawhub-token-literal"}
    for r in rules:
        assert r.engine == "hosts"
        if r.category in {Category.HOSTNAME_LEAK, Category.SECRET_LEAK}:
            # hygiene never decides a verdict alone
            assert r.severity <= Severity.MEDIUM
        else:
            assert r.category in {Category.CREDENTIAL_ACCESS, Category.EXFILTRATION}
            assert r.severity < Severity.CRITICAL


@pytest.mark.parametrize(
    ("path", "text", "found"),
    [
        ("config.yaml", "base_url: https://a1b2.ngrok-free.app/cb", True),
        ("index.js", 'const HOOK = "https://webhook.site/0f4c2a8e-1d2b";', True),
        ("README.md", "Expose it with `ngrok http 3000`, e.g. https://a1b2.ngrok-free.app", False),
        ("index.js", 'const API = "https://api.example.com/v1";', False),
    ],
)
def test_capture_endpoints_in_code_and_config(
    analyzer: HostsAnalyzer, path: str, text: str, found: bool
) -> None:
    kind = FileKind.MARKDOWN if path.endswith(".md") else FileKind.TEXT
    assert ("capture-endpoint" in _ids(_scan(analyzer, _file(path, text, kind=kind)))) is found


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ('URL = "http://10.20.30.40:8080/api"', "private-network-host"),
        ('URL = "http://172.20.1.9/api"', "private-network-host"),
        ("10.20.30.40 is the build box", "private-network-host"),  # at the very start of the text
        ('URL = "http://100.102.77.110:8012"', "cgnat-host"),
        ('HOST = "169.254.3.4"', "link-local-host"),
        ("curl http://169.254.169.254/latest/meta-data/", "cloud-metadata-endpoint"),
        ('URL = "https://gpu-box.tail1234.ts.net/run"', "internal-hostname"),
        ('URL = "http://jarvis.lan:8123/api"', "internal-hostname"),
        ('P = "/Users/kmalinowski/clawd/skills/x"', "user-home-path"),
        ('P = "/home/jdoe42/.openclaw/workspace"', "user-home-path"),
        ('P = "C:\\\\Users\\\\Marta\\\\AppData\\\\x"', "user-home-path"),
    ],
)
def test_host_leaks_found(analyzer: HostsAnalyzer, text: str, rule: str) -> None:
    assert rule in _ids(_scan(analyzer, _file("a.py", text)))


@pytest.mark.parametrize(
    "text",
    [
        'URL = "http://192.0.2.10:8080"',  # documentation range
        'URL = "http://203.0.113.5/x"',
        'URL = "http://127.0.0.1:3000"',
        'NETS = ["10.0.0.0/8", "192.168.0.0/16"]',  # CIDR ranges, not hosts
        "build.10.20.30.40 and v2.10.20.30.40 and a10.20.30.40",  # inside longer dotted names
        "version 10.2.3.4",
        'P = "/Users/you/project/"',
        'P = "/home/user/.config/"',
        'P = "/home/linuxbrew/.linuxbrew/bin"',
        "cp .env.local .env",
        'email = "bot@agent.local"',  # a mail domain, not a host something connects to
        "x = 'https://example.com/home/feed/'",  # a URL path, not a home directory
    ],
)
def test_placeholders_and_documentation_are_clean(analyzer: HostsAnalyzer, text: str) -> None:
    assert _scan(analyzer, _file("a.py", text)) == []


def test_secret_found_and_redacted(analyzer: HostsAnalyzer) -> None:
    key = "sk-proj-" + _token(48)
    findings = _scan(analyzer, _file("a.py", f'client = OpenAI(api_key="{key}")\n'))
    assert [f.rule_id for f in findings] == ["openai-api-key-literal"]
    f = findings[0]
    assert f.line == 1 and f.severity is Severity.MEDIUM
    assert key not in f.evidence and key not in f.message
    assert key[:8] in f.evidence


@pytest.mark.parametrize(
    "text",
    [
        'api_key = "sk-your-api-key-here"',
        'OPENAI_API_KEY="sk-..."',
        "token: <TOKEN>",
        'token = "${GITHUB_TOKEN}"',
        'password = "xxxxxxxxxxxxxxxxxxxx"',
        "api_key = process.env.OPENAI_API_KEY",
        'secret = "TemporaryPass123!"',
        'TOKEN_PROGRAM_ID = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"',
        'token = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"',  # a contract address
        'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"',
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
)
def test_secret_placeholders_are_clean(analyzer: HostsAnalyzer, text: str) -> None:
    assert _scan(analyzer, _file("a.py", text)) == []


@pytest.mark.parametrize("prefix", ["ghp_", "gho_", "ghs_", "ghu_", "ghr_"])
def test_every_github_token_prefix_is_a_trigger(analyzer: HostsAnalyzer, prefix: str) -> None:
    text = f'GH = "{prefix}{_token(36, seed=3)}"\n'
    assert "github-token-literal" in _ids(_scan(analyzer, _file("a.py", text)))


def test_secret_after_many_decoy_triggers_is_found(analyzer: HostsAnalyzer) -> None:
    decoys = "eyJa.sk-short.AKIA " * 400  # 1,200 trigger hits that are no secret
    key = "sk-proj-" + _token(48)
    assert "openai-api-key-literal" in _ids(_scan(analyzer, _file("a.py", f'{decoys}\nk = "{key}"\n')))


def test_high_entropy_assignment(analyzer: HostsAnalyzer) -> None:
    text = 'WEBHOOK_TOKEN = "9150a681c2d94e0fb7a3d2e1c4f6a87d"\n'
    assert _ids(_scan(analyzer, _file("a.py", text))) == {"secret-assignment-literal"}


def test_decoded_payload_maps_to_real_line_and_code_blocks_are_not_rescanned(analyzer: HostsAnalyzer) -> None:
    md = "# Notes\n\n```bash\ncurl http://100.90.1.2:9000/x\n```\n"
    real = _file("SKILL.md", md, kind=FileKind.MARKDOWN)
    block = _file(
        "SKILL.md#block1.sh",
        "curl http://100.90.1.2:9000/x\n",
        kind=FileKind.SHELL,
        virtual=VirtualOrigin.CODE_BLOCK,
        origin_path="SKILL.md",
        line_offset=3,
    )
    decoded = _file(
        "SKILL.md#b64-1",
        "first\nhttp://10.9.8.7:5000/\n",
        kind=FileKind.TEXT,
        virtual=VirtualOrigin.DECODED,
        origin_path="SKILL.md",
        line_offset=2,
        pinned=True,
    )
    findings = _scan(analyzer, real, block, decoded)
    cgnat = [f for f in findings if f.rule_id == "cgnat-host"]
    assert len(cgnat) == 1 and cgnat[0].path == "SKILL.md" and cgnat[0].line == 4
    private = [f for f in findings if f.rule_id == "private-network-host"]
    assert len(private) == 1 and private[0].path == "SKILL.md" and private[0].line == 2


def test_findings_per_rule_and_file_are_capped(analyzer: HostsAnalyzer) -> None:
    text = "\n".join(f"http://10.0.{i}.7/" for i in range(50))
    assert len(_scan(analyzer, _file("a.txt", text))) == 5


def test_binary_files_are_skipped(analyzer: HostsAnalyzer) -> None:
    f = SkillFile(path="b.bin", kind=FileKind.BINARY, data=b"\x00http://10.1.1.1/", sha256="0", text=None)
    assert _scan(analyzer, f) == []


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("sk-_ghp0123456789AKIA.:/\"'= \n@eyJxyz10192168")), max_size=3000)
)
def test_hostile_text_never_raises(text: str) -> None:
    findings = _scan(HostsAnalyzer(), _file("h.txt", text))
    assert all(f.evidence.count("\n") == 0 and len(f.evidence) <= 200 for f in findings)
