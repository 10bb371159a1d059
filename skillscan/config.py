"""Settings: named limits for hostile input and service endpoints, frozen, read from the environment.

Every field has an embedded default so `skillscan scan` works with no configuration at all.
Environment variables are named ``SKILLSCAN_<FIELD>`` in upper case (e.g. ``SKILLSCAN_MAX_FILES``).
Secrets are kept out of `repr()` so that a logged Settings never leaks them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from skillscan.errors import ConfigError

_PACKAGE_DIR = Path(__file__).resolve().parent
# A wheel carries the top-level yara_rules/ and semgrep_rules/ in here (setup.py copies them); a
# checkout (editable install) has no such copy and reads them beside the package.
BUNDLED_RULES_DIR = _PACKAGE_DIR / "_rules"
_RULES_HOME = BUNDLED_RULES_DIR if BUNDLED_RULES_DIR.is_dir() else _PACKAGE_DIR.parent


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "skillscan"


@dataclass(frozen=True)
class Limits:
    """Bounds on what one skill may make us read, decode and analyse."""

    max_files: int = 5000
    max_file_bytes: int = 10 * 1024 * 1024
    max_total_bytes: int = 50 * 1024 * 1024
    max_path_length: int = 500
    max_zip_ratio: int = 200  # uncompressed/compressed per member and overall
    max_zip_members: int = 20000
    max_decode_depth: int = 3
    max_decoded_bytes: int = 1024 * 1024  # per decoded payload
    max_virtual_files: int = 5000  # one per code block; a real API catalogue skill has 2,300
    max_text_bytes: int = 2 * 1024 * 1024  # larger text files get YARA only (bytes), not parsers
    analyzer_timeout_s: float = 120.0
    semgrep_timeout_s: float = 300.0  # wall clock for one batched semgrep call
    semgrep_rule_timeout_s: int = 10  # semgrep --timeout (per rule per file)


@dataclass(frozen=True)
class Settings:
    limits: Limits = field(default_factory=Limits)
    yara_rules_dir: Path = _RULES_HOME / "yara_rules"
    semgrep_rules_dir: Path = _RULES_HOME / "semgrep_rules"
    # semgrep's native (OCaml) CLI: the same pinned semgrep without its Python front end's ≈1.5 s start.
    semgrep_native: bool = True
    policy_file: Path | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None  # default: sqlite file under data_dir
    broker_url: str | None = None
    broker_key_prefix: str = ""  # prefix of every Redis key the worker uses (deployments sharing a DB)
    registry_url: str = "https://clawhub.ai"
    clawhub_token: str | None = field(default=None, repr=False)
    # ClawHub client: per-request timeout, retry budget, largest bundle ZIP it will download.
    registry_timeout_s: float = 30.0
    registry_max_attempts: int = 4
    registry_max_retry_sleep_s: float = 60.0  # a longer Retry-After ends the call as rate-limited
    registry_max_download_bytes: int = 64 * 1024 * 1024
    # Worker and sweep (worker/celery_app.py): schedule, batching, redelivery cap.
    poll_interval_s: float = 300.0
    sweep_hour: int = 3  # UTC hour of the nightly sweep
    sweep_minute: int = 0
    sweep_batch_size: int = 50  # versions per scan task, scanned with one Semgrep call
    sweep_page_size: int = 50  # skills per registry listing page
    task_max_deliveries: int = 3  # a task message delivered more often ends recorded as failed
    poll_backfill: bool = False  # first poll without a mark scans everything listed (else starts now)
    vt_api_key: str | None = field(default=None, repr=False)
    vt_url: str | None = None
    # Pre-install gate: the service it asks first (SKILLSCAN_URL / SKILLSCAN_TOKEN) and its budgets.
    service_url: str | None = None
    service_token: str | None = field(default=None, repr=False)
    gate_timeout_s: float = 8.0  # answer before OpenClaw's default 10 s exec timeout
    gate_lookup_timeout_s: float = 1.0  # verdict lookup by fingerprint
    gate_submit: bool = True  # on a lookup miss, let the warm service scan the skill
    gate_service_budget_s: float = 4.0  # upload + service scan, then fall back to a local scan
    # HTTP API
    api_tokens: str | None = field(default=None, repr=False)  # comma-separated, optionally name:token
    api_tokens_file: Path | None = None
    api_rate_per_minute: int = 1200  # per token
    api_max_upload_bytes: int = 50 * 1024 * 1024
    session_secret: str | None = field(default=None, repr=False)  # random per process when unset
    # VirusTotal lookups: quota shared by every process, answers cached, uploads opt-in only.
    vt_quota_per_min: int = 4
    vt_quota_per_day: int = 500
    vt_cache_ttl_s: int = 24 * 3600
    vt_timeout_s: float = 30.0
    vt_max_lookups_per_skill: int = 50
    vt_retry_s: float = 600.0  # beat interval of the task that makes deferred lookups (0: off)
    vt_url_lookups: bool = False
    vt_upload: bool = False
    vt_upload_max_bytes: int = 32 * 1024 * 1024
    vt_analysis_wait_s: float = 0.0  # bounded wait for an uploaded file's analysis; 0 = do not wait
    vt_malicious_high: int = 1  # engines flagging malicious → high
    vt_malicious_critical: int = 3  # engines flagging malicious → critical
    vt_suspicious_medium: int = 1  # engines flagging suspicious → medium
    # Posting verdicts: sinks are enabled by their settings (token, webhook URL + secret).
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    post_on: str = "change,non-clean"  # comma list: change, non-clean, malicious, all, none
    post_max_attempts: int = 6
    post_backoff_s: float = 5.0
    post_backoff_max_s: float = 600.0
    post_timeout_s: float = 15.0
    post_flush_s: float = 30.0  # beat interval of the task that sends due deliveries (0: off)
    report_base_url: str | None = None  # public base of the report pages, for links in posts

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "verdicts.db"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        limits = _apply_env(Limits(), env, "SKILLSCAN_")
        base = cls(limits=limits)
        return _apply_env(
            base,
            env,
            "SKILLSCAN_",
            aliases={
                "vt_api_key": "SKILLSCAN_VT_API_KEY",
                "service_url": "SKILLSCAN_URL",
                "service_token": "SKILLSCAN_TOKEN",
            },
        )


def _apply_env(obj: Any, env: Mapping[str, str], prefix: str, aliases: dict[str, str] | None = None) -> Any:
    changes: dict[str, Any] = {}
    for f in fields(obj):
        if f.name == "limits":
            continue
        key = (aliases or {}).get(f.name, prefix + f.name.upper())
        raw = env.get(key)
        if raw is None or raw == "":
            continue
        current = getattr(obj, f.name)
        changes[f.name] = _convert(key, raw, current, f.type)
    return replace(obj, **changes) if changes else obj


def _convert(key: str, raw: str, current: Any, annotation: Any) -> Any:
    try:
        if isinstance(current, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, Path) or "Path" in str(annotation):
            return Path(raw).expanduser()
        return raw
    except ValueError as e:
        raise ConfigError(f"{key}: invalid value") from e
