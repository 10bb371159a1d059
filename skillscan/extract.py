"""Virtual files (DESIGN §1): what a skill's markdown and encoded blobs really contain.

- fenced code blocks (``` and ~~~, any indentation, blockquotes, unterminated fences) of every
  markdown file, one virtual file each, line for line with the real file;
- shell commands in prose: inline code spans that look like commands and "Run: curl … | bash"
  lines, gathered into one virtual file per markdown file with a per-line map to the real lines;
- decoded payloads (base64, hex, char codes; gzip inside them) from every text file, recursively
  up to ``max_decode_depth``, pinned to the blob's real line;
- normalized copies of real files that disguise ASCII with look-alike or invisible characters.

Everything is bounded by `Limits` (``max_virtual_files``, ``max_decoded_bytes``,
``max_decode_depth``); reaching a bound is reported as a ScanError, never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from skillscan.config import Limits
from skillscan.decode import find_payloads
from skillscan.hashing import sha256_hex
from skillscan.inventory import decode_text, guess_kind
from skillscan.markdown import PS_WORDS, code_blocks, inline_commands
from skillscan.models import FileKind, ScanError, SkillFile, VirtualOrigin
from skillscan.normalize import fold, has_disguised_ascii

ANALYZER = "bundle"

_INFO_KINDS: dict[str, FileKind] = {
    **dict.fromkeys(
        [
            "bash",
            "sh",
            "shell",
            "zsh",
            "console",
            "shell-session",
            "terminal",
            "shellsession",
            "ksh",
            "fish",
            "dash",
            "command",
            "cmd",
        ],
        FileKind.SHELL,
    ),
    **dict.fromkeys(["python", "py", "python3", "py3", "ipython", "pycon"], FileKind.PYTHON),
    **dict.fromkeys(["js", "javascript", "node", "nodejs", "jsx", "mjs", "cjs"], FileKind.JAVASCRIPT),
    **dict.fromkeys(["ts", "typescript", "tsx", "deno"], FileKind.TYPESCRIPT),
    **dict.fromkeys(["powershell", "ps1", "ps", "pwsh", "posh"], FileKind.POWERSHELL),
    **dict.fromkeys(["json", "jsonc", "json5"], FileKind.JSON),
    **dict.fromkeys(["yaml", "yml"], FileKind.YAML),
    "toml": FileKind.TOML,
}
# Labels that say "not code" but may still hide a command: the content decides.
_GUESS_LABELS = frozenset({"", "text", "txt", "plain", "plaintext", "none", "output", "code", "sh-session"})
_CONSOLE_LABELS = frozenset({"console", "shell-session", "sh-session", "terminal", "shellsession", "pycon"})
_EXT: dict[FileKind, str] = {
    FileKind.SHELL: "sh",
    FileKind.PYTHON: "py",
    FileKind.JAVASCRIPT: "js",
    FileKind.TYPESCRIPT: "ts",
    FileKind.POWERSHELL: "ps1",
    FileKind.JSON: "json",
    FileKind.YAML: "yaml",
    FileKind.TOML: "toml",
    FileKind.MARKDOWN: "md",
    FileKind.TEXT: "txt",
    FileKind.BINARY: "bin",
}

_PROMPT = re.compile(r"^(?:\$|%|❯|➜|PS(?: [^>\n]{0,120})?>|>>>|\.\.\.)[ \t]?")


def _virtual(
    path: str,
    kind: FileKind,
    text: str,
    origin: VirtualOrigin,
    origin_path: str,
    line_offset: int,
    *,
    pinned: bool = False,
    depth: int = 0,
    line_map: tuple[int, ...] | None = None,
) -> SkillFile:
    data = text.encode("utf-8", "surrogatepass")
    return SkillFile(
        path=path,
        kind=kind,
        data=data,
        sha256=sha256_hex(data),
        text=text,
        virtual=origin,
        origin_path=origin_path,
        line_offset=line_offset,
        pinned=pinned,
        depth=depth,
        line_map=line_map,
    )


def block_kind(info: str, body: str) -> FileKind | None:
    """Kind of a fenced block from its info string, or guessed; None for prose/diagrams/unknown."""
    label = re.split(r"[\s{},=]", info.lower().lstrip("{."), maxsplit=1)[0] if info else ""
    if label in _INFO_KINDS:
        return _INFO_KINDS[label]
    if label in _GUESS_LABELS or label in {"md", "markdown"}:
        guessed = guess_kind(body)
        return None if guessed in (FileKind.TEXT, FileKind.MARKDOWN) else guessed
    return None


def _strip_prompts(lines: tuple[str, ...], console: bool) -> list[str]:
    """Drop ``$ ``-style prompts; in console transcripts output lines become blank."""
    out = []
    for line in lines:
        stripped = line.lstrip()
        m = _PROMPT.match(stripped)
        if m and (console or m.group(0).strip() == "$"):
            out.append(stripped[m.end() :])
        else:
            out.append("" if console else line)
    return out


def markdown_virtual_files(md: SkillFile) -> list[SkillFile]:
    """Virtual files for one markdown file (code blocks, then inline commands)."""
    return list(iter_markdown_virtual_files(md))


def iter_markdown_virtual_files(md: SkillFile) -> Iterator[SkillFile]:
    """Lazily, so that the virtual-file bound stops the work early on a flood of tiny blocks."""
    if md.text is None:
        return
    pin = md.virtual is not None
    fenced: list[tuple[int, int]] = []  # all blocks, once the loop ends: the inline pass skips them
    for block in code_blocks(md.text):
        fenced.append(block.span)
        if not any(line.strip() for line in block.lines):
            continue
        body = fold("\n".join(block.lines))
        kind = block_kind(block.info, body)
        if kind is None:
            continue
        label = block.info.lower().split()[0] if block.info.strip() else ""
        lines = block.lines
        if kind is FileKind.SHELL or kind is FileKind.POWERSHELL or label in _CONSOLE_LABELS:
            lines = tuple(_strip_prompts(lines, label in _CONSOLE_LABELS))
        text = fold("\n".join(lines))
        path = f"{md.path}#L{block.start_line + 1}.{_EXT[kind]}"
        vf = _virtual(path, kind, text, VirtualOrigin.CODE_BLOCK, md.path, block.start_line)
        yield _pin_to(md, vf) if pin else vf
    shell: list[tuple[int, str]] = []
    ps: list[tuple[int, str]] = []
    for line, cmd in inline_commands(md.text, fenced):
        (ps if PS_WORDS.search(fold(cmd)) else shell).append((line, cmd))
    for group, kind in ((shell, FileKind.SHELL), (ps, FileKind.POWERSHELL)):
        if not group:
            continue
        text = fold("\n".join(cmd for _, cmd in group))
        line_map = tuple(line for line, _ in group)
        path = f"{md.path}#inline.{_EXT[kind]}"
        vf = _virtual(path, kind, text, VirtualOrigin.INLINE_CODE, md.path, line_map[0], line_map=line_map)
        yield _pin_to(md, vf) if pin else vf


def _pin_to(parent: SkillFile, vf: SkillFile) -> SkillFile:
    """A child of a virtual file (an archive member) points where its parent points."""
    return replace(
        vf,
        origin_path=parent.real_path,
        pinned=True,
        line_offset=parent.line_offset if parent.pinned else 0,
        line_map=None,
        depth=parent.depth,
    )


def normalized_copy(f: SkillFile) -> SkillFile | None:
    """A folded copy of a real text file that disguises ASCII words, else None."""
    if f.text is None or f.kind is FileKind.BINARY or not has_disguised_ascii(f.text):
        return None
    copy = _virtual(
        f"{f.path}#normalized.{_EXT.get(f.kind, 'txt')}",
        f.kind,
        fold(f.text),
        VirtualOrigin.NORMALIZED,
        f.path,
        0,
    )
    return _pin_to(f, copy) if f.virtual is not None else copy


def decoded_files(f: SkillFile, limits: Limits, seen: set[str]) -> Iterator[SkillFile]:
    """Decoded payloads of one text file, breadth-first down to ``max_decode_depth``."""
    queue: list[SkillFile] = [f]
    while queue:
        cur = queue.pop(0)
        if cur.text is None or cur.depth >= limits.max_decode_depth:
            continue
        for p in find_payloads(cur.text, limits.max_decoded_bytes):
            digest = sha256_hex(p.data)
            if digest in seen:
                continue
            seen.add(digest)
            real_path = cur.real_path
            line = cur.line_offset if cur.pinned else (cur.real_line(p.line) or p.line)
            text = None if p.binary else decode_text(p.data).text
            kind = FileKind.BINARY if text is None else guess_kind(text)
            name = f"{cur.path}#L{p.line}.{p.encoding}.{_EXT[kind]}"
            if text is None:
                yield SkillFile(
                    path=name,
                    kind=kind,
                    data=p.data,
                    sha256=digest,
                    virtual=VirtualOrigin.DECODED,
                    origin_path=real_path,
                    line_offset=line,
                    pinned=True,
                    depth=cur.depth + 1,
                )
                continue
            vf = _virtual(
                name,
                kind,
                fold(text),
                VirtualOrigin.DECODED,
                real_path,
                line,
                pinned=True,
                depth=cur.depth + 1,
            )
            yield vf
            queue.append(vf)


def build_virtual_files(
    real: list[SkillFile], limits: Limits, extra: Sequence[SkillFile] = ()
) -> tuple[list[SkillFile], list[ScanError]]:
    """All virtual files of a skill, bounded by ``limits.max_virtual_files``.

    `extra` are virtual files made elsewhere (archive members): they come first, count toward the
    bound, and are sources for code blocks and payloads like real files.
    """
    out: list[SkillFile] = []
    errors: list[ScanError] = []
    seen: set[str] = set()
    sources = [*real, *extra]
    used = {f.path for f in real}

    def generate() -> Iterator[SkillFile]:
        yield from extra
        for f in sources:
            if f.kind is FileKind.MARKDOWN:
                yield from iter_markdown_virtual_files(f)
            copy = normalized_copy(f)
            if copy is not None:
                yield copy
        for f in sources:
            yield from decoded_files(f, limits, seen)

    for vf in generate():
        if len(out) >= limits.max_virtual_files:
            errors.append(
                ScanError(
                    ANALYZER,
                    vf.real_path,
                    f"more than {limits.max_virtual_files} virtual files (code blocks, commands, decoded "
                    "payloads); the rest were not analysed",
                )
            )
            break
        if vf.path in used:  # two payloads on one line: keep every virtual path unique
            n = 2
            while f"{vf.path}~{n}" in used:
                n += 1
            vf = replace(vf, path=f"{vf.path}~{n}")
        used.add(vf.path)
        out.append(vf)
    return out, errors
