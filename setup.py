"""The one build step pyproject.toml cannot declare: wheels carry the top-level rule folders.

`yara_rules/` and `semgrep_rules/` sit beside the package, not in it. Mapping them in through
`package-dir` would make `pip install -e .` install an import-finder hook instead of a plain path
entry, so a regular build copies them into `skillscan/_rules/` instead, where `skillscan.config`
looks first; an editable install reads them where they are.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RULE_DIRS = ("yara_rules", "semgrep_rules")
BUNDLED = ("skillscan", "_rules")  # skillscan.config.BUNDLED_RULES_DIR


class BuildPyWithRules(build_py):
    def rule_files(self) -> dict[str, str]:
        """Build path → source path of every file of the rule folders."""
        mapping = {}
        for name in RULE_DIRS:
            src = ROOT / name
            files = [
                p
                for p in sorted(src.rglob("*"))
                if p.is_file() and not any(part.startswith((".", "__")) for part in p.relative_to(src).parts)
            ]
            if not files:  # a wheel without its rules would scan nothing and say clean
                raise FileNotFoundError(f"no rule files in {src}")
            for p in files:
                mapping[os.path.join(self.build_lib, *BUNDLED, name, *p.relative_to(src).parts)] = str(p)
        return mapping

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for target, source in self.rule_files().items():
            self.mkpath(os.path.dirname(target))
            self.copy_file(source, target)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)  # editable: the keys of get_output_mapping
        return outputs if self.editable_mode else [*outputs, *self.rule_files()]

    def get_output_mapping(self) -> dict[str, str]:
        return {**super().get_output_mapping(), **self.rule_files()}


setup(cmdclass={"build_py": BuildPyWithRules})
