"""The analyzer seam: every engine receives the same inventoried skills, real and virtual files."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from skillscan.models import AnalysisResult, RuleMeta, ScanError, Skill


class Analyzer(ABC):
    """An analysis engine. Batches of skills let costly engines (Semgrep) run once per batch."""

    name: str = "analyzer"

    def analyze_batch(self, skills: Sequence[Skill]) -> list[AnalysisResult]:
        """One result per skill, in order. Engines with a per-call cost override this.

        A failure on one skill costs that skill a ScanError, not the whole batch its analysis.
        """
        results = []
        for skill in skills:
            try:
                results.append(self.analyze(skill))
            except Exception as e:  # engine bugs on hostile input become data, never a crash
                results.append(
                    AnalysisResult(errors=(ScanError(self.name, None, f"{type(e).__name__}: {e}"),))
                )
        return results

    @abstractmethod
    def analyze(self, skill: Skill) -> AnalysisResult:
        """Analyse one skill. Raise AnalyzerError (or let anything escape) to record a ScanError."""

    def rules(self) -> Sequence[RuleMeta]:
        """Metadata of every rule this engine can report (for `skillscan rules` and the fixture harness)."""
        return ()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources held between batches."""
