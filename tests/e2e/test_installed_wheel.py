"""A regular install is self-contained: the wheel built from this repository carries the YARA and
Semgrep rule folders, and `skillscan` from a fresh venv, far from any checkout, finds them and semgrep.

The wheel is built from a copy of the source (so the working tree gets no build/ or egg-info) and
installed with `--no-deps` into a temp venv whose dependencies come from this venv's site-packages
through a `.pth` line (a line in a `.pth` file only extends sys.path: the `.pth` files over there,
this checkout's editable entry among them, are not processed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from skillscan.config import Settings
from skillscan.rules import ruleset_digest, semgrep_rule_files, yara_rule_files

REPO = Path(__file__).resolve().parents[2]
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "skillscan",
    "worker",
    "yara_rules",
    "semgrep_rules",
)
MALICIOUS = REPO / "corpus" / "malicious" / "lure-script-os-system"
SKIP_NAMES = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")


def _run(
    argv: list[str], timeout: float, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env, check=False
    )


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("install")


@pytest.fixture(scope="module")
def source(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=SKIP_NAMES)
        elif path.exists():
            shutil.copy2(path, src / name)
    return src


def _pip(argv: list[str]) -> None:
    """Offline with this venv's setuptools when it can build this project, else with pip's isolated
    build environment (setuptools from the package index); skips when neither works."""
    failures = []
    for isolation in (["--no-build-isolation"], []):
        proc = _run([sys.executable, "-m", "pip", *argv, *isolation], timeout=45)
        if proc.returncode == 0:
            return
        failures.append(proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"])
    pytest.skip(
        f"cannot build this project here (offline, and no usable setuptools in this venv): {failures}"
    )


def _venv(path: Path) -> tuple[Path, Path]:
    """A fresh venv without pip (this venv's pip installs into it) and its site-packages."""
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(path)], timeout=30)
    assert made.returncode == 0, made.stderr
    python = path / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], timeout=10)
    return python, Path(site.stdout.strip())


@pytest.fixture(scope="module")
def installed(tmp: Path, source: Path) -> Path:
    """bin/ of a fresh venv holding only the wheel (dependencies borrowed from this venv)."""
    dist = tmp / "dist"
    _pip(["wheel", "--no-deps", "--no-cache-dir", "-q", "-w", str(dist), str(source)])
    (wheel,) = dist.glob("skillscan-*.whl")
    python, site = _venv(tmp / "venv")
    _pip(["--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    (site / "project-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python.parent


def _env() -> dict[str, str]:
    """No rule-folder overrides, no PYTHONPATH, and no semgrep on PATH: the install finds its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLSCAN_", "PYTHON"))}
    here = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != here)
    return env


def test_installed_package_is_imported_from_the_venv(installed: Path, tmp_path: Path) -> None:
    code = "import skillscan, skillscan.config as c; print(skillscan.__file__); print(c.Settings().yara_rules_dir)"
    proc = _run([str(installed / "python"), "-c", code], timeout=30, cwd=tmp_path, env=_env())
    assert proc.returncode == 0, proc.stderr
    module, yara_dir = map(Path, proc.stdout.split())
    assert module.is_relative_to(installed.parent) and yara_dir.is_relative_to(module.parent)
    assert sorted(p.name for p in yara_dir.glob("*.yar")) == [p.name for p in yara_rule_files(Settings())]


def test_installed_rules_are_listed(installed: Path, tmp_path: Path) -> None:
    proc = _run(
        [str(installed / "skillscan"), "rules", "--format", "json"], timeout=60, cwd=tmp_path, env=_env()
    )
    assert proc.returncode == 0, proc.stderr
    by_engine: dict[str, set[str]] = {}
    for rule in json.loads(proc.stdout):
        by_engine.setdefault(rule["engine"], set()).add(rule["id"])
    settings = Settings()
    assert by_engine.get("yara") == {p.stem for p in yara_rule_files(settings)}
    assert by_engine.get("semgrep") == {p.stem for p in semgrep_rule_files(settings)}


@pytest.mark.parametrize("native", ["1", "0"], ids=["native-cli", "python-cli"])
def test_installed_scan_finds_malicious_with_the_editable_ruleset(
    installed: Path, tmp_path: Path, native: str
) -> None:
    proc = _run(
        [str(installed / "skillscan"), "scan", str(MALICIOUS), "--format", "json"],
        timeout=60,
        cwd=tmp_path,
        env={**_env(), "SKILLSCAN_SEMGREP_NATIVE": native},
    )
    assert proc.returncode == 1, proc.stderr  # a malicious verdict reaches the default --fail-on
    (report,) = json.loads(proc.stdout)
    assert report["verdict"] == "malicious" and report["errors"] == []
    assert {"yara", "semgrep"} <= {f["analyzer"] for f in report["findings"]}
    assert report["ruleset_digest"] == ruleset_digest(Settings())


def test_editable_install_is_a_plain_path_entry(tmp: Path, source: Path) -> None:
    """`pip install -e .` adds the checkout to sys.path, with no import-finder hook (whose import
    costs every Python start), and reads the rule folders where they are."""
    python, site = _venv(tmp / "editable")
    # dependencies, and setuptools for an offline build (which runs in the target interpreter)
    (site / "project-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _pip(["--python", str(python), "install", "--no-deps", "-q", "-e", str(source)])
    (pth,) = site.glob("__editable__*skillscan*.pth")
    assert pth.read_text().split() == [str(source)]
    assert not list(site.glob("__editable__*finder*"))
    code = "import skillscan.config as c; print(c.Settings().yara_rules_dir)"
    proc = _run([str(python), "-c", code], timeout=30, cwd=tmp, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == source / "yara_rules"
