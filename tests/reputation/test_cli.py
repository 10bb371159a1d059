"""`skillscan scan --vt-upload`: unknown files are uploaded only when the operator asks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skillscan.analyzers.reputation.fake import FakeVirusTotalState
from skillscan.cli import app
from tests.reputation.conftest import API_KEY

UNKNOWN = b"\x7fELF\x02\x01\x01\x00never-seen-helper"


@pytest.mark.parametrize("flag", [False, True])
def test_vt_upload_is_opt_in(tmp_path: Path, fake_vt: tuple[str, FakeVirusTotalState], flag: bool) -> None:
    url, state = fake_vt
    root = tmp_path / "helper-skill"
    (root / "bin").mkdir(parents=True)
    (root / "SKILL.md").write_text("---\nname: helper-skill\ndescription: Runs a helper.\n---\n# Helper\n")
    (root / "bin" / "helper").write_bytes(UNKNOWN)
    env = {
        "SKILLSCAN_VT_API_KEY": API_KEY,
        "SKILLSCAN_VT_URL": url,
        "SKILLSCAN_DATA_DIR": str(tmp_path / "data"),
        "SKILLSCAN_BROKER_URL": "",
        "SKILLSCAN_DATABASE_URL": "",
    }
    args = ["scan", str(root), "--format", "json", "--fail-on", "malicious"] + (
        ["--vt-upload"] if flag else []
    )
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code in (0, 1), result.output
    assert API_KEY not in result.output
    (report,) = json.loads(result.stdout)
    assert any(f["rule_id"] == "vt-unknown" for f in report["findings"])
    if flag:
        (upload,) = state.uploads
        assert UNKNOWN in upload
        assert any("uploaded" in n for n in report["notes"])
    else:
        assert state.uploads == []
