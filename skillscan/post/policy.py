"""What gets posted: a small rule set read from `SKILLSCAN_POST_ON` (comma separated).

- ``change``: the verdict differs from the previous one (the last earlier scan of the same
  version, else the latest scan of the previous version of the skill; a first sighting is no change);
- ``non-clean``: suspicious, malicious or indeterminate;
- ``malicious``: malicious only;
- ``all``: every verdict;
- ``none``: nothing (sinks stay configured but silent).

The default ``change,non-clean`` posts every verdict change and every verdict that is not clean.
A sink may still refuse a post it cannot represent (ClawHub has no indeterminate).
"""

from __future__ import annotations

from dataclasses import dataclass

from skillscan.errors import ConfigError
from skillscan.models import Verdict

RULES = frozenset({"change", "non-clean", "malicious", "all", "none"})


@dataclass(frozen=True, slots=True)
class PostPolicy:
    on: frozenset[str] = frozenset({"change", "non-clean"})

    @classmethod
    def parse(cls, text: str) -> PostPolicy:
        tokens = frozenset(t.strip().lower() for t in text.split(",") if t.strip())
        unknown = sorted(tokens - RULES)
        if unknown:
            raise ConfigError(
                f"SKILLSCAN_POST_ON: unknown rule(s) {', '.join(unknown)}; known: {', '.join(sorted(RULES))}"
            )
        if "none" in tokens and len(tokens) > 1:
            raise ConfigError("SKILLSCAN_POST_ON: 'none' cannot be combined with other rules")
        return cls(on=tokens)

    def should_post(self, verdict: Verdict, previous: Verdict | None) -> bool:
        if "none" in self.on or not self.on:
            return False
        if "all" in self.on:
            return True
        if "change" in self.on and previous is not None and previous != verdict:
            return True
        if "non-clean" in self.on and verdict is not Verdict.CLEAN:
            return True
        return "malicious" in self.on and verdict is Verdict.MALICIOUS
