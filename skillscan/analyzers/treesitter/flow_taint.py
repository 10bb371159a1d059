"""The flow checks' taint tables: which names, functions and staging files carry which secret."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from skillscan.analyzers.treesitter.flow_model import Source

WHOLE = frozenset({"file", "keychain", "env"})  # the secret store itself, not one key of it
SINGLE = frozenset({"envvar", "field", "envfile"})
RANK = {"file": 5, "keychain": 5, "env": 4, "envvar": 3, "memory": 2, "envfile": 1, "field": 0}


@dataclass
class Taint:
    """Everything known to carry secret data, keyed by scoped name. `on_add(table, key)` hears of
    every new or worse entry (the engine heats the nodes that mention it)."""

    names: dict[str, Source] = field(default_factory=dict)
    functions: dict[str, Source] = field(default_factory=dict)
    staged: dict[str, Source] = field(default_factory=dict)
    changed: bool = False
    on_add: Callable[[str, str], None] | None = None

    def add(self, table: str, key: str, src: Source) -> None:
        entries: dict[str, Source] = getattr(self, table)
        old = entries.get(key)
        if old is None or RANK[src.kind] > RANK[old.kind]:
            entries[key] = src
            self.changed = True
            if self.on_add is not None:
                self.on_add(table, key)
