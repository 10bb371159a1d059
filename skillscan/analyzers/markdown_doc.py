"""A markdown file cut into scoped segments for line-oriented rules.

Each segment is one line (or the HTML-comment part of a line) with its real line number, its
scope (frontmatter, heading, prose, code, html-comment), the headings it sits under, its raw text
and its normalised text (confusables folded, invisible characters dropped, emphasis removed, URLs
optionally masked). One linear pass; no regex here can backtrack past a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from skillscan.analyzers.urls import URL_RE
from skillscan.normalize import fold

SCOPES = frozenset({"frontmatter", "heading", "prose", "code", "html-comment"})
URL_MASK = "<url>"
MAX_LINE_CHARS = 20_000  # longer lines are read in overlapping chunks of this size
CHUNK_OVERLAP = 1_000

# Each per-line regex below needs a character ("``", "#", "**", "*" or "_") that a substring test
# finds far faster than a match attempt, so parse_markdown checks for it first.
_FENCE = re.compile(r"^(?:\s{0,12}>)*\s{0,12}(`{3,}|~{3,})")
_ATX = re.compile(r"^(?:\s{0,3}>)*\s{0,3}(#{1,6})(?:\s+|$)(.{0,300})")
_BOLD_LINE = re.compile(r"^(?:\s{0,3}>)*\s{0,3}(?:[^\w*]{0,4}\s{0,2})\*\*[^*\n]{1,160}\*\*:?\s{0,4}$")
_EMPHASIS = re.compile(r"\*{1,3}|(?<!\w)_{1,3}|_{1,3}(?!\w)")
_EMPHASIS_SCOPES = frozenset({"prose", "heading", "frontmatter"})


@dataclass(frozen=True, slots=True)
class Segment:
    line: int  # 1-based line in the real file
    scope: str
    raw: str
    norm: str  # folded (URLs intact: the text URL conditions read)
    text: str  # `norm` with emphasis markers removed in prose (the text regexes read)
    masked: str  # `text` with URLs replaced by URL_MASK
    headings: tuple[str, ...]  # enclosing headings, outermost first (folded text)


@dataclass(frozen=True)
class MarkdownDoc:
    segments: tuple[Segment, ...]
    line_count: int
    ascii: bool = False  # the whole text is ASCII, so is every view of every segment

    def in_scopes(self, scopes: frozenset[str]) -> list[Segment]:
        return [s for s in self.segments if s.scope in scopes]


def parse_markdown(text: str, fold: Callable[[str], str] = fold) -> MarkdownDoc:
    """Split `text` into segments. `fold` is the normaliser (injectable so the ingest one can be used)."""
    lines = text.split("\n")
    segments: list[Segment] = []
    headings: list[tuple[int, str]] = []
    path: tuple[str, ...] = ()
    fence: str | None = None
    in_comment = False
    start = 0
    if lines and lines[0].strip() == "---":
        for i in range(1, min(len(lines), 1000)):
            if lines[i].strip() in {"---", "..."}:
                for j in range(0, i + 1):
                    segments.append(_segment(j + 1, "frontmatter", lines[j], path, fold))
                start = i + 1
                break
    for idx, raw in _physical_lines(lines, start):
        number = idx + 1
        if fence is not None:
            m = _FENCE.match(raw) if fence[:2] in raw else None
            if (
                m
                and m.group(1)[0] == fence[0]
                and len(m.group(1)) >= len(fence)
                and not raw[m.end() :].strip()
            ):
                fence = None
            else:
                segments.append(_segment(number, "code", raw, path, fold))
            continue
        if in_comment:
            body, closed, rest = raw.partition("-->")
            segments.append(_segment(number, "html-comment", body, path, fold))
            if not closed:
                continue
            in_comment = False
            raw = rest
        m = _FENCE.match(raw) if "``" in raw or "~~" in raw else None
        if m:
            fence = m.group(1)
            continue
        prose, comments, in_comment = _split_comments(raw)
        for body in comments:
            segments.append(_segment(number, "html-comment", body, path, fold))
        if not prose.strip():
            continue
        h = _ATX.match(prose) if "#" in prose else None
        if h:
            level = len(h.group(1))
            title = fold(h.group(2)).strip().strip("#").strip()
            headings = [(lv, t) for lv, t in headings if lv < level] + [(level, title)]
            path = tuple(t for _, t in headings)
            segments.append(_segment(number, "heading", prose, path, fold))
        elif "**" in prose and _BOLD_LINE.match(prose):
            segments.append(_segment(number, "heading", prose, path, fold))
        else:
            segments.append(_segment(number, "prose", prose, path, fold))
    return MarkdownDoc(segments=tuple(segments), line_count=len(lines), ascii=text.isascii())


def _physical_lines(lines: list[str], start: int) -> list[tuple[int, str]]:
    """(index, text) per line; an overlong line becomes overlapping chunks with the same index,
    so nothing placed after a long run of padding goes unread."""
    out: list[tuple[int, str]] = []
    for idx in range(start, len(lines)):
        line = lines[idx].rstrip("\r")
        if len(line) <= MAX_LINE_CHARS:
            out.append((idx, line))
            continue
        step = MAX_LINE_CHARS - CHUNK_OVERLAP
        out.extend((idx, line[i : i + MAX_LINE_CHARS]) for i in range(0, len(line) - CHUNK_OVERLAP, step))
    return out


def _split_comments(raw: str) -> tuple[str, list[str], bool]:
    """Prose text of a line, the HTML comment bodies on it, and whether a comment stays open."""
    if "<!--" not in raw:
        return raw, [], False
    prose: list[str] = []
    comments: list[str] = []
    rest = raw
    while True:
        before, opened, after = rest.partition("<!--")
        prose.append(before)
        if not opened:
            return "".join(prose), comments, False
        body, closed, rest = after.partition("-->")
        comments.append(body)
        if not closed:
            return "".join(prose), comments, True


def _segment(number: int, scope: str, raw: str, path: tuple[str, ...], fold: Callable[[str], str]) -> Segment:
    norm = fold(raw)
    emphasis = ("*" in norm or "_" in norm) and scope in _EMPHASIS_SCOPES
    text = _EMPHASIS.sub("", norm) if emphasis else norm
    masked = URL_RE.sub(URL_MASK, text) if "://" in text else text
    return Segment(line=number, scope=scope, raw=raw, norm=norm, text=text, masked=masked, headings=path)
