"""skillscan: supply-chain scanner for ClawHub skills."""

__version__ = "0.1.0"
