"""The verdict store on SQLite and (when reachable) PostgreSQL: migrations, idempotency, history, bookkeeping."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from skillscan.errors import StoreError
from skillscan.models import (
    Decision,
    Verdict,
)
from skillscan.store import SweepItemResult, ToRecord, VerdictStore, stored_fields
from skillscan.store import migrations as mig
from tests.conftest import make_report, postgres_schema_url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'verdicts.db'}"
    else:
        yield from postgres_schema_url()


@pytest.fixture
def store(store_url: str) -> Iterator[VerdictStore]:
    s = VerdictStore(store_url)
    yield s
    s.close()


def test_open_applies_every_migration_once(store_url: str) -> None:
    first = VerdictStore(store_url)
    assert first.schema_version() == len(mig.MIGRATIONS)
    assert first.migrate() == []  # nothing left to apply
    second = VerdictStore(store_url)  # reopening is a no-op
    assert second.schema_version() == len(mig.MIGRATIONS)
    first.close()
    second.close()


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    s = VerdictStore(f"sqlite:///{tmp_path / 'v.db'}")
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    s.close()


def test_migration_order_is_checked() -> None:
    bad = [mig.Migration(2, "two", lambda c: None), mig.Migration(1, "one", lambda c: None)]
    with pytest.raises(StoreError, match="numbered"):
        mig.check_order(bad)


def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    VerdictStore(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', '2030-01-01')"
            )
        )
    engine.dispose()
    with pytest.raises(StoreError, match="newer"):
        VerdictStore(url)


def test_invalid_url_is_a_store_error() -> None:
    with pytest.raises(StoreError):
        VerdictStore("nonsense-url")


def test_record_and_read_back(store: VerdictStore) -> None:
    report = make_report(verdict=Verdict.MALICIOUS)
    scan_id = store.record_scan(report, owner="alice", slug="weather", version="1.0.0")
    got = store.get_scan(scan_id)
    assert got is not None
    assert (got.owner, got.slug, got.version, got.verdict, got.decision) == (
        "alice",
        "weather",
        "1.0.0",
        Verdict.MALICIOUS,
        Decision.BLOCK,
    )
    assert got.report == report
    assert got.scanned_at.tzinfo is not None
    assert store.get_scan(scan_id + 1000) is None


def test_repeat_is_a_noop_and_a_new_ruleset_adds_history(store: VerdictStore) -> None:
    first = store.record(make_report(ruleset="r1", verdict=Verdict.CLEAN))
    again = store.record(make_report(ruleset="r1", verdict=Verdict.CLEAN))
    assert first.created and not again.created
    assert again.scan_id == first.scan_id
    assert store.count_scans() == 1

    rescan = store.record(make_report(ruleset="r2", verdict=Verdict.MALICIOUS))
    assert rescan.created and rescan.scan_id != first.scan_id
    assert rescan.previous_verdict is Verdict.CLEAN
    history = store.history("alice", "weather")
    assert [h.id for h in history] == [rescan.scan_id, first.scan_id]
    assert store.latest_for_version("alice", "weather", "1.0.0").id == rescan.scan_id  # type: ignore[union-attr]
    assert store.latest_for_version("alice", "weather", "1.0.0", ruleset="r1").id == first.scan_id  # type: ignore[union-attr]


def test_complete_scan_supersedes_an_indeterminate_one(store: VerdictStore) -> None:
    partial = store.record(make_report(verdict=Verdict.INDETERMINATE))
    assert store.scanned_versions("r1", [("alice", "weather", "1.0.0")]) == set()  # worth redoing
    again = store.record(make_report(verdict=Verdict.INDETERMINATE))
    assert not again.created and again.scan_id == partial.scan_id
    complete = store.record(make_report(verdict=Verdict.SUSPICIOUS))
    assert complete.created and complete.previous_verdict is Verdict.INDETERMINATE
    assert store.scanned_versions("r1", [("alice", "weather", "1.0.0")]) == {("alice", "weather", "1.0.0")}
    repeat = store.record(make_report(verdict=Verdict.SUSPICIOUS))
    assert not repeat.created and repeat.scan_id == complete.scan_id
    assert [s.id for s in store.history("alice", "weather")] == [complete.scan_id, partial.scan_id]


def test_record_many_in_one_transaction(store: VerdictStore) -> None:
    items = [
        ToRecord(make_report(slug="a"), source="sweep"),
        ToRecord(make_report(slug="b", verdict=Verdict.MALICIOUS), source="sweep"),
        ToRecord(make_report(slug="a"), source="sweep"),  # the same scan twice in one batch
    ]
    first, second, repeat = store.record_many(items)
    assert first.created and second.created and not repeat.created
    assert repeat.scan_id == first.scan_id
    assert store.count_scans() == 2
    assert store.record_many([]) == []
    got = store.get_scan(second.scan_id)
    assert got is not None and got.source == "sweep" and got.verdict is Verdict.MALICIOUS


def test_changed_bundle_for_same_version_is_a_new_scan(store: VerdictStore) -> None:
    a = store.record_scan(make_report(fingerprint="1" * 64))
    b = store.record_scan(make_report(fingerprint="2" * 64))
    assert a != b


def test_undeduplicated_scans_always_add_rows(store: VerdictStore) -> None:
    a = store.record_scan(make_report(), dedupe=False)
    b = store.record_scan(make_report(), dedupe=False)
    assert a != b and store.count_scans() == 2


def test_lookups(store: VerdictStore) -> None:
    store.record_scan(make_report(slug="a", fingerprint="1" * 64, verdict=Verdict.CLEAN))
    mal = store.record_scan(make_report(slug="b", fingerprint="2" * 64, verdict=Verdict.MALICIOUS))
    newer = store.record_scan(
        make_report(slug="b", fingerprint="2" * 64, ruleset="r2", verdict=Verdict.SUSPICIOUS)
    )
    found = store.latest_by_fingerprint("2" * 64)
    assert found is not None and found.id == newer
    assert store.latest_by_fingerprint("2" * 64, ruleset="r1").id == mal  # type: ignore[union-attr]
    assert store.latest_by_fingerprint("9" * 64) is None
    assert [s.id for s in store.recent(verdict=Verdict.MALICIOUS)] == [mal]
    assert len(store.recent(limit=2)) == 2
    assert store.recent(since=datetime.now(UTC) + timedelta(hours=1)) == []

    latest = list(store.latest_per_version())
    assert [(s.slug, s.verdict) for s in latest] == [("a", Verdict.CLEAN), ("b", Verdict.SUSPICIOUS)]
    assert [s.slug for s in store.latest_per_version(verdict="suspicious")] == ["b"]
    row = stored_fields(latest[1])
    assert {"owner", "slug", "version", "fingerprint", "verdict", "ruleset", "scanned_at"} <= row.keys()


def test_scanned_versions(store: VerdictStore) -> None:
    store.record_scan(make_report(slug="a", version="1.0.0", ruleset="r1"))
    store.record_scan(make_report(slug="a", version="1.1.0", ruleset="r0"))
    refs = [("alice", "a", "1.0.0"), ("alice", "a", "1.1.0"), ("bob", "a", "1.0.0")]
    assert store.scanned_versions("r1", refs) == {("alice", "a", "1.0.0")}
    assert store.scanned_versions("r1", []) == set()


def test_outcomes_keep_latest_and_count(store: VerdictStore) -> None:
    store.record_outcome("alice", "x", "1.0.0", "pending", "423 pending review", 423)
    store.record_outcome("alice", "x", "1.0.0", "pending", "423 again", 423)
    store.record_outcome("alice", "y", "2.0.0", "blocked", "403 malware", 403)
    (pending,) = store.outcomes(kind="pending")
    assert (pending.attempts, pending.detail, pending.http_status) == (2, "423 again", 423)
    assert store.unscanned_outcomes("r1", ["pending"]) == [("alice", "x", "1.0.0")]
    store.record_scan(make_report(slug="x", version="1.0.0", ruleset="r1"))
    assert store.unscanned_outcomes("r1", ["pending"]) == []


def test_marks_only_move_forward(store: VerdictStore) -> None:
    assert store.get_mark("k") is None
    assert store.advance_mark("k", 100) == 100
    assert store.advance_mark("k", 50) == 100
    assert store.advance_mark("k", 150) == 150
    assert store.get_mark("k") == 150


def test_structured_state_round_trip(store: VerdictStore) -> None:
    assert store.get_state("poll:x") is None
    store.put_state("poll:x", {"updated_at": 5, "seen": ["a/b@1"]})
    store.put_state("poll:x", {"updated_at": 7, "seen": []})
    assert store.get_state("poll:x") == {"updated_at": 7, "seen": []}


def test_compare_and_set_lets_one_writer_advance(store: VerdictStore) -> None:
    store.put_state("sweep:1", {"cursor": None}, value=0)
    assert store.compare_and_set("sweep:1", 0, 1, {"cursor": "c1"})
    assert not store.compare_and_set("sweep:1", 0, 1, {"cursor": "other"})
    assert store.get_mark("sweep:1") == 1
    assert store.get_state("sweep:1") == {"cursor": "c1"}
    age = store.state_age_s("sweep:1")
    assert age is not None and 0 <= age < 60
    assert store.state_age_s("missing") is None


def test_column_migration_upgrades_an_older_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    VerdictStore(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:  # roll the database back to before migration 4
        conn.execute(text("ALTER TABLE high_water_marks DROP COLUMN state"))
        conn.execute(text("DELETE FROM schema_version WHERE version >= 4"))
    engine.dispose()
    s = VerdictStore(url)
    assert s.schema_version() == len(mig.MIGRATIONS)
    s.put_state("k", {"a": 1})
    assert s.get_state("k") == {"a": 1}
    s.close()


def test_failures_lifecycle(store: VerdictStore) -> None:
    fid = store.record_failure("t.scan", ["a", "b", "1"], {}, queue="sweep", subject="a/b@1", error="boom")
    again = store.record_failure(
        "t.scan", ["a", "b", "1"], {}, queue="sweep", subject="a/b@1", error="boom 2"
    )
    other = store.record_failure("t.scan", ["a", "c", "1"], {}, queue="sweep", subject="a/c@1", error="x")
    assert again == fid and other != fid
    f = store.get_failure(fid)
    assert f is not None and (f.attempts, f.error, f.args) == (2, "boom 2", ["a", "b", "1"])
    store.set_failure_status(fid, "replayed")
    assert [x.id for x in store.failures()] == [other]
    assert store.resolve_failures("a/b@1") == 1
    assert store.get_failure(fid).status == "resolved"  # type: ignore[union-attr]


def test_delivery_counter(store: VerdictStore) -> None:
    assert [store.bump_delivery("task-1:0") for _ in range(3)] == [1, 2, 3]
    assert store.bump_delivery("task-2:0") == 1
    assert store.prune_deliveries(datetime.now(UTC) + timedelta(seconds=1)) == 2
    assert store.bump_delivery("task-1:0") == 1


def test_sweep_progress(store: VerdictStore) -> None:
    sid = store.start_sweep("http://registry", "r1")
    refs = [("a", "s1", "1"), ("a", "s2", "1"), ("a", "s3", "1"), ("a", "s4", "1")]
    store.add_sweep_items(sid, refs)
    store.add_sweep_items(sid, refs[:1])  # re-listing the same version adds nothing
    p = store.sweep_progress(sid)
    assert p is not None and (p.total, p.done, p.finished) == (4, 0, False)
    store.finish_sweep_items(
        sid,
        [
            SweepItemResult("a", "s1", "1", "scanned", "malicious", None, 1),
            SweepItemResult("a", "s2", "1", "scanned", "suspicious", "clean", 2),
            SweepItemResult("a", "s3", "1", "outcome"),
        ],
    )
    store.finish_listing(sid)
    p = store.sweep_progress(sid)
    assert p is not None
    assert (p.done, p.scanned, p.outcomes, p.new_malicious, p.changed, p.finished) == (3, 2, 1, 1, 1, False)
    store.finish_sweep_items(sid, [SweepItemResult("a", "s4", "1", "failed")])
    p = store.sweep_progress(sid)
    assert p is not None and p.finished and p.failed == 1
    assert store.latest_sweep_id() == sid
    assert store.sweep_progress(sid + 100) is None
    assert store.sweep_items(sid, "failed") == [("a", "s4", "1")]
    assert store.sweep_items(sid) == []
    # A version the listing never added is recorded too; given twice, its last result counts.
    store.finish_sweep_items(
        sid,
        [
            SweepItemResult("a", "s5", "1", "failed"),
            SweepItemResult("a", "s5", "1", "scanned", "clean", None, 5),
        ],
    )
    p = store.sweep_progress(sid)
    assert p is not None and (p.total, p.scanned, p.failed) == (5, 3, 1)
    other = store.start_sweep("http://registry", "r1")
    assert store.unfinished_sweeps() == [other]


def test_concurrent_writers_store_one_scan(store_url: str) -> None:
    """Two processes finishing the same scan (a redelivered task) leave exactly one row."""
    VerdictStore(store_url).close()
    stores = [VerdictStore(store_url) for _ in range(4)]
    report = make_report(verdict=Verdict.SUSPICIOUS)
    results: list[int] = []
    barrier = threading.Barrier(len(stores))

    def work(s: VerdictStore) -> None:
        barrier.wait()
        for i in range(5):
            results.append(s.record_scan(report))
            s.record_scan(replace(report, ruleset_digest=f"other-{i}"))

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 20
    assert stores[0].count_scans() == 6
    for s in stores:
        s.close()
