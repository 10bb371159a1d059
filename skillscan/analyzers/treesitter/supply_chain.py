"""Supply-chain hygiene: what a skill installs and from where.

- typosquats: an installed npm/PyPI name one edit (insertion, deletion, substitution or swap) away
  from a popular package, or carrying a misspelled developer word (`claw-validater`);
- `npx -y` / `--yes` of an unscoped package nobody knows (runs its code without a prompt);
- dependency confusion: a skill that calls what it installs internal or private, yet pulls an
  unknown unscoped name from the public registry (whoever registers that name runs code there);
- installs from URLs or git (`pip install git+https://…`, `npm i github:u/r`, `.whl` URLs);
- npm lifecycle scripts (`preinstall`/`install`/`postinstall`) in a bundled package.json, and the
  ones that fetch or decode something;
- requirements files with URLs, git sources or extra package indexes.
(OpenClaw `install` metadata with download entries is the manifest engine's `install-download`.)

Hygiene findings (low/medium; a typosquat or a fetching install script is high): they show risk in
what the skill pulls in, not malice in the skill itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

from tree_sitter import Node

from skillscan.analyzers.treesitter.parsing import walk
from skillscan.analyzers.treesitter.registry import Hit, SkillContext
from skillscan.analyzers.treesitter.scan_hits import Hits, StatementMemo
from skillscan.analyzers.treesitter.shell_words import WRAPPERS, base_name, literal, peel, text
from skillscan.analyzers.treesitter.threat_scan import PAYLOAD
from skillscan.models import FileKind, SkillFile
from skillscan.rules import load_yaml

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "popular_packages.yaml"
_NPM_RUNNERS = {"npx": "npm", "bunx": "npm", "pnpx": "npm"}
_INSTALLERS = {
    "npm": "npm",
    "pnpm": "npm",
    "yarn": "npm",
    "bun": "npm",
    "pip": "pypi",
    "pip3": "pypi",
    "pipx": "pypi",
    "uv": "pypi",
    "uvx": "pypi",
}
# Substrings of every installer name above (pnpx, pip3, uvx, …): a text without them installs nothing.
_INSTALLER_WORDS = ("npx", "npm", "yarn", "bun", "pip", "uv", "python")
_INSTALL_VERBS = frozenset({"install", "i", "add", "x", "dlx", "exec"})
_URL_SPEC = re.compile(
    r"^(?:git\+|https?://|github:|gitlab:|bitbucket:|git://|ssh://|file:)|\.(?:whl|tar\.gz|tgz|zip)$", re.I
)
# Install options that take a value (the value is not a package).
_VALUE_OPTS = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "--prefix", "-t",
     "--target", "--python", "-p", "--root", "--platform", "--python-version", "--implementation", "--abi",
     "--src", "--upgrade-strategy", "--progress-bar", "--log", "--cache-dir", "--trusted-host", "-f",
     "--find-links", "--global-option", "--config-settings", "-C", "--registry", "--tag", "-w",
     "--workspace", "--save-prefix", "--cwd", "--filter", "--index", "--default-index", "--with", "--from"}
)  # fmt: skip
_LIFECYCLE = ("preinstall", "install", "postinstall", "prepare")
# Prose presenting a package or its source as the organisation's own.
_INTERNAL_CLAIM = re.compile(
    r"\b(?:internal|private|in-house|proprietary|company|corporate|enterprise)(?:-only)?\s{1,3}"
    r"(?:(?:npm|pypi|pip|python|node|package)\s{1,3})?"
    r"(?:registry|registries|package|packages|feed|mirror|artifactory|index)\b",
    re.I,
)
# Options that point an install at a registry of the caller's choosing.
_REGISTRY_OPTS = frozenset({"--registry", "-i", "--index-url", "--index", "--default-index"})
_REQ_SPECIAL = re.compile(
    r"^\s{0,8}(?:-e\s{1,4})?(?:git\+|https?://)|^\s{0,8}--(?:extra-index-url|index-url|trusted-host|find-links)\b|@\s{0,3}(?:git\+|https?://)",
    re.I,
)


@dataclass(frozen=True)
class Popular:
    npm: frozenset[str]
    pypi: frozenset[str]
    words: frozenset[str]

    @property
    def by_len(self) -> dict[str, dict[int, list[str]]]:
        return _index(self)


@cache
def load_popular(path: Path = DATA_FILE) -> Popular:
    data = load_yaml(path.read_text(encoding="utf-8"))
    return Popular(
        npm=frozenset(str(x).lower() for x in data["npm"]),
        pypi=frozenset(_pep503(str(x)) for x in data["pypi"]),
        words=frozenset(str(x).lower() for x in data["dev_words"]),
    )


@cache
def _index(p: Popular) -> dict[str, dict[int, list[str]]]:
    out: dict[str, dict[int, list[str]]] = {}
    for eco, names in (("npm", p.npm), ("pypi", p.pypi), ("words", p.words)):
        table: dict[int, list[str]] = {}
        for n in names:
            table.setdefault(len(n), []).append(n)
        out[eco] = table
    return out


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def one_edit(a: str, b: str) -> bool:
    """Damerau distance exactly 1 (one insertion, deletion, substitution or adjacent swap)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1 :]


def typosquat_of(name: str, eco: str, popular: Popular) -> str | None:
    """The popular package or developer word `name` imitates, if any."""
    base = name.lower().split("@", 2)[1 if name.startswith("@") else 0] if "@" in name[1:] else name.lower()
    base = _pep503(base) if eco == "pypi" else base
    known = popular.npm if eco == "npm" else popular.pypi
    if base in known or len(base) < 5:
        return None
    table = popular.by_len[eco]
    for n in (len(base) - 1, len(base), len(base) + 1):
        for cand in table.get(n, []):
            if len(cand) >= 6 and one_edit(base, cand) and not _plural(base, cand):
                return cand
    if base.startswith("@"):
        return None  # a scope names its owner; words inside scoped names are the owner's business
    for token in re.split(r"[-_./]+", base):
        if len(token) < 7 or token in popular.words:
            continue
        for n in (len(token) - 1, len(token), len(token) + 1):
            for word in popular.by_len["words"].get(n, []):
                if one_edit(token, word) and not _plural(token, word):
                    return word
    return None


def _plural(a: str, b: str) -> bool:
    return a + "s" == b or b + "s" == a


def _package_name(spec: str) -> str:
    """`@scope/pkg@1.2` -> `@scope/pkg`, `pkg==1.0` -> `pkg`, `pkg[extra]>=2` -> `pkg`."""
    spec = spec.strip().strip("\"'")
    if spec.startswith("@"):
        scope, _, rest = spec.partition("/")
        return scope + "/" + rest.split("@", 1)[0]
    return re.split(r"[@=<>!~\[;\s]", spec, maxsplit=1)[0]


class SupplyChain:
    """Skill check: install commands, package manifests and install metadata."""

    def check_skill(self, ctx: SkillContext) -> Iterable[Hit]:
        popular = load_popular()
        skill_md = ctx.skill.file("SKILL.md")
        internal = bool(skill_md and skill_md.text and _INTERNAL_CLAIM.search(skill_md.text[:200_000]))
        for fctx in ctx.files:
            if fctx.file.kind is FileKind.SHELL and _may_install(fctx.source) and fctx.tree is not None:
                yield from _shell_installs(fctx.file, fctx.tree.root_node, popular, internal)
        for f in ctx.skill.real_files:
            name = f.path.rsplit("/", 1)[-1].lower()
            if f.text is None:
                continue
            if name == "package.json" and "node_modules/" not in f.path:
                yield from _package_json(f, popular)
            elif re.fullmatch(r"requirements[\w.-]{0,40}\.(?:txt|in)", name):
                yield from _requirements(f, popular)


def _may_install(source: str) -> bool:
    """Whether any installer can be named in the text (`n\\px`, `"np"m` spell npx, npm too)."""
    plain = source.replace("'", "").replace('"', "").replace("\\", "")
    return any(w in plain for w in _INSTALLER_WORDS)


def _shell_installs(f: SkillFile, root: Node, popular: Popular, claims_internal: bool) -> Iterator[Hit]:
    scan = _InstallScan(popular, claims_internal)
    memo = StatementMemo(scan.hits, lambda effect, line: None)
    for unit in root.named_children:  # each distinct statement once: a repeat replays its hits
        if scan.budget <= 0:
            break
        if not memo.replay(unit.text, unit):
            memo.record(unit.text, unit.start_point[0] + 1, partial(scan.statement, unit))
    for d in scan.hits.result():
        yield Hit(d.rule_id, d.line, d.evidence, d.message, path=f.path, more=d.more)


@dataclass
class _InstallScan:
    """Install commands of one shell text; 20 hits per rule are listed, the rest counted."""

    popular: Popular
    claims_internal: bool
    hits: Hits = field(default_factory=Hits)
    budget: int = 100_000  # nodes walked

    def statement(self, unit: Node) -> None:
        for node in walk(unit, self.budget):
            self.budget -= 1
            if node.type == "command" and _installer_word(node):
                self.command(node)

    def command(self, node: Node) -> None:
        hits, popular = self.hits, self.popular
        cmd = peel(node, {})
        words = [literal(a, {}) or "" for a in cmd.args]
        eco, specs, auto_yes = _install_specs(cmd.name, words)
        if eco is None:
            return
        line = node.start_point[0] + 1
        evidence = text(node)
        for spec in specs:
            if _URL_SPEC.search(spec):
                hits.add("install-from-url", line, f"Installs a package straight from {spec[:80]}", evidence)
                continue
            name = _package_name(spec)
            if not name or name.startswith("-"):
                continue
            target = typosquat_of(name, eco, popular)
            if target:
                hits.add(
                    "typosquat-package", line, f"Installs {name!r}, one edit away from {target!r}", evidence
                )
            elif self.claims_internal and _public_unknown(name, eco, popular) and not _names_registry(words):
                hits.add(
                    "dependency-confusion-internal-name",
                    line,
                    f"The skill calls its package internal, yet {name!r} comes from the public registry",
                    evidence,
                )
            elif auto_yes and eco == "npm" and not name.startswith("@") and name not in popular.npm:
                hits.add("npx-auto-install-unknown", line, f"npx -y runs {name!r} without a prompt", evidence)


def _public_unknown(name: str, eco: str, popular: Popular) -> bool:
    """An unscoped name that no well-known package holds (a scope is owned; a bare name is first come)."""
    if eco == "npm":
        return not name.startswith("@") and name.lower() not in popular.npm
    return _pep503(name) not in popular.pypi


def _names_registry(words: list[str]) -> bool:
    return any(w.split("=", 1)[0] in _REGISTRY_OPTS for w in words)


def _installer_word(node: Node) -> bool:
    name = node.child_by_field_name("name")
    word = base_name(text(name)) if name is not None else ""
    return word in _NPM_RUNNERS or word in _INSTALLERS or word in WRAPPERS or word.startswith("python")


def _install_specs(name: str, words: list[str]) -> tuple[str | None, list[str], bool]:
    """(ecosystem, package specs, auto-confirm) of an install-like command, or (None, [], False)."""
    args = [w for w in words if w]
    if name in _NPM_RUNNERS:
        auto = any(w in {"-y", "--yes"} for w in args)
        return "npm", _positionals(args)[:1], auto
    eco = _INSTALLERS.get(name)
    if eco is None and re.fullmatch(r"python\d?(?:\.\d{1,2})?", name) and args[:2] == ["-m", "pip"]:
        eco, args = "pypi", args[2:]
    if eco is None:
        return None, [], False
    if name == "uv" and args[:1] == ["pip"]:
        args = args[1:]
    if name == "uvx":
        return eco, _positionals(args)[:1], True
    if not args or args[0] not in _INSTALL_VERBS:
        return None, [], False
    return eco, _positionals(args[1:]), False


def _positionals(args: list[str]) -> list[str]:
    """The words that are not options nor an option's value."""
    out: list[str] = []
    skip = False
    for w in args:
        if skip:
            skip = False
        elif w in _VALUE_OPTS:
            skip = True
        elif not w.startswith("-"):
            out.append(w)
    return out


def _line_of(text: str, needle: str) -> int:
    i = text.find(needle)
    return text.count("\n", 0, i) + 1 if i >= 0 else 1


def _package_json(f: SkillFile, popular: Popular) -> Iterator[Hit]:
    assert f.text is not None
    try:
        doc: Any = json.loads(f.text[:2_000_000])
    except ValueError:
        return
    if not isinstance(doc, dict):
        return
    raw_scripts = doc.get("scripts")
    scripts: dict[str, Any] = raw_scripts if isinstance(raw_scripts, dict) else {}
    for hook in _LIFECYCLE:
        script = scripts.get(hook)
        if not isinstance(script, str):
            continue
        line = _line_of(f.text, f'"{hook}"')
        if PAYLOAD.search(script) or re.search(r"\bnode\s{1,3}-e\b|https?://", script):
            yield Hit(
                "npm-lifecycle-payload",
                line,
                f"{hook}: {script}",
                f"npm {hook} script fetches or decodes: {script[:80]}",
                path=f.path,
            )
        elif hook != "prepare":
            yield Hit(
                "npm-lifecycle-script",
                line,
                f"{hook}: {script}",
                f"npm runs {hook} on install: {script[:80]}",
                path=f.path,
            )
    for section in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        deps = doc.get(section)
        if not isinstance(deps, dict):
            continue
        for name, spec in list(deps.items())[:2000]:
            line = _line_of(f.text, f'"{name}"')
            if isinstance(spec, str) and _URL_SPEC.search(spec):
                yield Hit(
                    "install-from-url",
                    line,
                    f"{name}: {spec}",
                    f"Dependency {name} comes from {spec[:80]}",
                    path=f.path,
                )
            target = typosquat_of(str(name), "npm", popular)
            if target:
                yield Hit(
                    "typosquat-package",
                    line,
                    f"{name}: {spec}",
                    f"Depends on {name!r}, one edit away from {target!r}",
                    path=f.path,
                )


def _requirements(f: SkillFile, popular: Popular) -> Iterator[Hit]:
    assert f.text is not None
    for i, raw in enumerate(f.text.splitlines()[:5000], start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if _REQ_SPECIAL.search(line):
            yield Hit(
                "requirements-url-source",
                i,
                line,
                f"Requirement from a URL, git or extra index: {line[:80]}",
                path=f.path,
            )
            continue
        if line.startswith("-"):
            continue
        name = _package_name(line)
        target = typosquat_of(name, "pypi", popular) if name else None
        if target:
            yield Hit(
                "typosquat-package", i, line, f"Requires {name!r}, one edit away from {target!r}", path=f.path
            )


CHECKS = [SupplyChain()]
