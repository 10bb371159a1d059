"""Download then run, in shell: the files downloaders and decoders write (`curl -o x …`,
`curl … > x.sh`, `… | base64 -d > x`), kept in the scan's state (shell_scan.DownloadScan), and a
later command that runs one of them as a program, a script or an installer (`./x`, `bash x.sh`,
`installer -pkg x`).
"""

from __future__ import annotations

from tree_sitter import Node

from skillscan.analyzers.treesitter.shell_scan import DownloadScan
from skillscan.analyzers.treesitter.shell_text import RULE_ENCODED
from skillscan.analyzers.treesitter.shell_words import Cmd, base_name, is_interpreter, literal, run_keys, text


def written_to_file(scan: DownloadScan, node: Node) -> None:
    """`curl … > x.sh` / `… | base64 -d > x` remembered, so that running x later counts as running
    the download (or the decoded payload)."""
    body = node.child_by_field_name("body")
    if body is None or body.type not in {"command", "pipeline"}:
        return
    fetched, urls = scan.fetched(body)
    decoded = scan.decodes(body)
    if not (fetched or decoded):
        return
    for redirect in node.children_by_field_name("redirect"):
        # a redirect the parser made up to recover from an error is empty: it writes no file
        operator = text(redirect).split(None, 1)
        if redirect.type != "file_redirect" or not operator or "<" in operator[0]:
            continue
        dest = redirect.child_by_field_name("destination")
        target = literal(dest, scan.env) if dest is not None else None
        if target and not target.startswith("/dev/"):
            scan.downloaded(target, scan.worst(urls), decoded and not fetched)


def runs_download(scan: DownloadScan, node: Node, cmd: Cmd, ancestors: list[Node]) -> None:
    """A file written by an earlier downloader run as a program, a script or an installer."""
    if not scan.downloads:
        return
    candidates: list[str] = [cmd.word] if cmd.word else []
    if is_interpreter(cmd.name) or cmd.name in {"source", ".", "open", "installer", "msiexec", "start"}:
        for a in cmd.args:
            w = literal(a, scan.env) or ""
            if w and not w.startswith("-"):
                candidates.append(w)
                break
    found = scan.downloads.find(k for c in candidates for k in run_keys(c))
    if found is None:
        return
    target, origin, encoded = found
    chain = node  # report the whole `curl … && chmod … && ./x` chain
    for ancestor in reversed(ancestors):
        if ancestor.type not in {"list", "pipeline", "redirected_statement"}:
            break
        chain = ancestor
    if encoded:
        scan.hit(chain, RULE_ENCODED, f"decoded payload written to {base_name(target)} is executed")
    else:
        scan.graded_found(chain, origin, f"downloaded file {base_name(target)} is executed")
