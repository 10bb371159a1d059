"""Engine setup for the verdict store: URL normalisation, SQLite pragmas, write locking, error mapping."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, make_url, text

from skillscan.errors import StoreError

SQLITE_BUSY_TIMEOUT_MS = 10_000  # well below the worker's task time limits
_MIGRATION_LOCK_ID = 0x5C111_5CA  # postgres advisory lock taken while migrating


class StoreBusy(StoreError):
    """The database is locked or unreachable right now; the operation may succeed when retried."""


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` / `postgres://` URLs and route them to the installed psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except exc.ArgumentError as e:
        raise StoreError(f"invalid database URL: {e}") from e
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as e:
        raise StoreError(f"cannot use database URL: {e}") from e


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so writers can take the lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that later writes cannot wait for the lock (SQLITE_BUSY at once when
        # another writer committed in between); BEGIN IMMEDIATE waits up to busy_timeout instead.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: IMMEDIATE on SQLite, plain on PostgreSQL."""
    with mapped_errors(), engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    with mapped_errors(), engine.connect() as conn, conn.begin():
        yield conn


def lock_for_migration(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_ID})


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Translate driver errors at the boundary: transient ones to StoreBusy, the rest to StoreError."""
    try:
        yield
    except StoreError:
        raise
    except (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError) as e:
        if _is_transient(e):
            raise StoreBusy(f"database busy or unreachable: {_short(e)}") from e
        raise StoreError(f"database error: {_short(e)}") from e
    except exc.TimeoutError as e:
        raise StoreBusy(f"database connection pool exhausted: {e}") from e
    except exc.SQLAlchemyError as e:
        raise StoreError(f"database error: {_short(e)}") from e


_TRANSIENT_MARKERS = (
    "database is locked",
    "database table is locked",
    "busy",
    "could not connect",
    "connection refused",
    "server closed the connection",
    "connection is closed",
    "terminating connection",
    "deadlock detected",
    "could not serialize",
    "the database system is starting up",
    "the database system is shutting down",
)


def _is_transient(e: exc.SQLAlchemyError) -> bool:
    if isinstance(e, exc.DBAPIError) and e.connection_invalidated:
        return True
    message = str(getattr(e, "orig", e)).lower()
    return any(marker in message for marker in _TRANSIENT_MARKERS)


def _short(e: BaseException) -> str:
    return str(getattr(e, "orig", e)).strip().splitlines()[0][:300] if str(e) else type(e).__name__


def retry_busy(fn: Any, attempts: int = 5, delay_s: float = 0.2) -> Any:
    """Run `fn()` again while the database answers busy (opening a fresh SQLite file races on WAL setup)."""
    for attempt in range(attempts):
        try:
            return fn()
        except StoreBusy:
            if attempt == attempts - 1:
                raise
            time.sleep(delay_s * (attempt + 1))
    raise AssertionError("unreachable")
