"""Error bases, one per seam. Foreign exceptions are translated at the boundary (`raise … from e`)."""

from __future__ import annotations


class SkillscanError(Exception):
    """Base of every error skillscan raises on purpose."""


class ConfigError(SkillscanError):
    """Invalid settings or policy file."""


class BundleError(SkillscanError):
    """A skill source that cannot be unpacked or inventoried at all (not a folder, not a zip, …)."""


class AnalyzerError(SkillscanError):
    """An analyzer failed on a batch; recorded as a ScanError, never a crash."""


class RuleError(SkillscanError):
    """A rule file with invalid metadata or syntax."""


class RegistryError(SkillscanError):
    """ClawHub could not be reached or answered something unusable."""


class StoreError(SkillscanError):
    """The verdict store failed."""


class ReputationError(SkillscanError):
    """A reputation service failed (reported as a note, never a scan error)."""
