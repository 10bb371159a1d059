"""Semgrep runs batched and hardened: nothing a skill ships can hide a file from it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from skillscan.analyzers.semgrep import SemgrepAnalyzer
from skillscan.bundle import load_folder
from skillscan.config import Limits, Settings

RULE = """rules:
  - id: test-os-system
    languages: [python]
    severity: ERROR
    message: os.system call
    metadata:
      category: remote-exec
      severity: high
      confidence: high
      description: os.system call
      status: stable
    pattern: os.system(...)
"""
SKILL_MD = "---\nname: s\ndescription: d\n---\n# s\n"


def settings(tmp_path: Path, **limits: float) -> Settings:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / "test-os-system.yaml").write_text(RULE)
    return Settings(semgrep_rules_dir=d, limits=replace(Limits(), **limits))


def make_skill(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    for rel, text in {"SKILL.md": SKILL_MD, **files}.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def test_evasions_do_not_hide_code(tmp_path: Path) -> None:
    folder = make_skill(
        tmp_path,
        "evasive",
        {
            ".semgrepignore": "*\n",
            ".gitignore": "*\n",
            "tests/test_x.py": "import os\nos.system(cmd)  # nosemgrep\n",
            "node_modules/pkg/index.py": "import os\n\nos.system(x)\n",
            ".hidden/run.py": "import os\nos.system(y)\n",
            "bin/tool": "#!/usr/bin/env python3\nimport os\nos.system(z)\n",
        },
    )
    (result,) = SemgrepAnalyzer(settings(tmp_path)).analyze_batch([load_folder(folder, Limits())])
    hits = {(f.path, f.line) for f in result.findings}
    assert hits == {
        ("tests/test_x.py", 2),
        ("node_modules/pkg/index.py", 3),
        (".hidden/run.py", 2),
        ("bin/tool", 3),
    }
    assert not result.errors


def test_batch_splits_results_per_skill(tmp_path: Path) -> None:
    bad = load_folder(make_skill(tmp_path, "bad", {"a.py": "import os\nos.system(c)\n"}), Limits())
    good = load_folder(make_skill(tmp_path, "good", {"a.py": "print('hi')\n"}), Limits())
    r_bad, r_good = SemgrepAnalyzer(settings(tmp_path)).analyze_batch([bad, good])
    assert [f.path for f in r_bad.findings] == ["a.py"]
    assert not r_good.findings


def test_markdown_code_block_is_scanned_and_mapped(tmp_path: Path) -> None:
    md = SKILL_MD + "\nRun this:\n\n```python\nimport os\nos.system(cmd)\n```\n"
    folder = make_skill(tmp_path, "md", {"SKILL.md": md})
    (result,) = SemgrepAnalyzer(settings(tmp_path)).analyze_batch([load_folder(folder, Limits())])
    assert ("SKILL.md", 11) in {(f.path, f.line) for f in result.findings}


def test_wall_clock_timeout_is_a_scan_error(tmp_path: Path) -> None:
    folder = make_skill(tmp_path, "slow", {"a.py": "import os\nos.system(c)\n"})
    analyzer = SemgrepAnalyzer(settings(tmp_path, semgrep_timeout_s=0.01))
    (result,) = analyzer.analyze_batch([load_folder(folder, Limits())])
    assert not result.findings
    assert result.errors and "killed after" in result.errors[0].detail


def test_no_targets_no_call(tmp_path: Path) -> None:
    folder = make_skill(tmp_path, "docs", {"notes.txt": "hello"})
    analyzer = SemgrepAnalyzer(settings(tmp_path, semgrep_timeout_s=0.0001))
    (result,) = analyzer.analyze_batch([load_folder(folder, Limits())])
    assert not result.errors  # the impossible timeout was never exercised: semgrep did not run


def test_files_no_rule_admits_never_reach_semgrep(tmp_path: Path) -> None:
    s = settings(tmp_path, semgrep_timeout_s=0.0001)
    rule = s.semgrep_rules_dir / "test-os-system.yaml"
    rule.write_text(
        rule.read_text().replace(
            "      status: stable\n", "      status: stable\n      requires: [[system]]\n"
        )
    )
    analyzer = SemgrepAnalyzer(s)
    quiet = load_folder(make_skill(tmp_path, "quiet", {"a.py": "import os\nprint(os.getcwd())\n"}), Limits())
    loud = load_folder(make_skill(tmp_path, "loud", {"a.py": "import os\nos.system(c)\n"}), Limits())
    (r_quiet,) = analyzer.analyze_batch([quiet])
    assert not r_quiet.errors  # the impossible timeout was never exercised: semgrep did not run
    (r_loud,) = analyzer.analyze_batch([loud])
    assert r_loud.errors and "killed after" in r_loud.errors[0].detail


def test_native_and_python_front_ends_agree(tmp_path: Path) -> None:
    folder = make_skill(
        tmp_path,
        "both",
        {
            "a.py": "import os\n\nos.system(cmd)  # nosemgrep\n",
            "bin/tool": "#!/usr/bin/env python3\nimport os\nos.system(z)\n",
        },
    )
    skill = load_folder(folder, Limits())
    base = settings(tmp_path)
    native = SemgrepAnalyzer(replace(base, semgrep_native=True)).analyze_batch([skill])[0]
    python = SemgrepAnalyzer(replace(base, semgrep_native=False)).analyze_batch([skill])[0]
    assert native == python
    assert {(f.path, f.line, f.evidence) for f in native.findings} == {
        ("a.py", 3, "os.system(cmd) # nosemgrep"),
        ("bin/tool", 3, "os.system(z)"),
    }
