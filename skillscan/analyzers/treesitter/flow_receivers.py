"""What may stand before a callee leaf for a call to count as a network send (`flow_model.sink`)
or a shell call (`flow_findings._SHELL_CALLS`): the tables the text screens (`flow_screen`) read.

Each table is a superset of what its check accepts (the tests build calls of every leaf with many
receivers and compare): a receiver it rules out can never make the call count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from skillscan.analyzers.treesitter.flow_model import HTTP_RECEIVERS

HTTP = frozenset(HTTP_RECEIVERS)  # receivers `flow_model.sink` accepts by their last name, any case


@dataclass(frozen=True)
class Receivers:
    """What may come before a callee leaf for the call to count: anything (`any`), nothing (`bare`:
    `fetch(…)`), or a receiver whose last name is one of `names` (exact) or `folded` (any case)."""

    any: bool = False
    bare: bool = False
    names: frozenset[str] = frozenset()
    folded: frozenset[str] = frozenset()

    def __or__(self, other: Receivers) -> Receivers:
        return Receivers(
            self.any or other.any,
            self.bare or other.bare,
            self.names | other.names,
            self.folded | other.folded,
        )


_ANY = Receivers(any=True)
_HTTP = Receivers(folded=HTTP)


@cache
def sink_receivers(lang: str, features: frozenset[str]) -> dict[str, Receivers]:
    """Callee leaves of the calls `flow_model.sink` can accept, and the receivers it accepts them
    with (a superset; kept beside the tests that compare it with `sink`)."""
    groups: list[tuple[Iterable[str], Receivers]]
    if lang == "python":
        post = _ANY if features & {"requests", "httpx"} else Receivers(bare=True, folded=HTTP)
        groups = [
            (("post", "put", "patch"), post),
            (("get", "request", "urlopen", "Request", "stream"), Receivers(bare=True, folded=HTTP)),
            (("sendmail", "send_message"), _ANY),
            (("gethostbyname",), Receivers(bare=True, names=frozenset({"socket"}))),
            (("getaddrinfo",), Receivers(names=frozenset({"socket"}))),
            (("resolve", "query"), Receivers(names=frozenset({"resolver"}))),
        ]
        if "socket" in features:
            groups.append((("sendall", "send", "sendto"), _ANY))
    else:
        groups = [
            (("fetch",), Receivers(bare=True, names=frozenset({"window", "globalThis"}))),
            (("nodeFetch", "axios", "got"), Receivers(bare=True)),
            (("sendBeacon",), _ANY),
            (("post", "put", "patch"), _HTTP),
            (("request",), Receivers(names=frozenset({"axios"}))),
            (("lookup", "resolve"), Receivers(names=frozenset({"dns", "promises"}))),
            (("resolve4", "resolveTxt"), Receivers(names=frozenset({"dns"}))),
        ]
        if "js-net" in features:
            groups.append((("write", "end", "send"), _ANY))
    out: dict[str, Receivers] = {}
    for leaves, receivers in groups:
        for leaf in leaves:
            out[leaf] = out[leaf] | receivers if leaf in out else receivers
    return out


# `flow_findings._SHELL_CALLS` by leaf: the whole callee name must be one of them.
SHELL_RECEIVERS: dict[str, Receivers] = {
    **{leaf: Receivers(names=frozenset({"os"})) for leaf in ("system", "popen")},
    **{
        leaf: Receivers(names=frozenset({"subprocess"}))
        for leaf in ("run", "call", "Popen", "check_output", "check_call", "getoutput")
    },
    **{leaf: Receivers(bare=True, names=frozenset({"child_process", "cp"})) for leaf in ("exec", "execSync")},
    **{leaf: Receivers(bare=True, names=frozenset({"child_process"})) for leaf in ("spawn", "spawnSync")},
}
