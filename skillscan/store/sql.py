"""Portable insert-or-ignore and upsert (SQLite and PostgreSQL both speak ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    return _dialect_insert(conn.dialect.name, table)


def _dialect_insert(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


@cache
def _insert_ignoring(dialect: str, table: Table, keys: tuple[str, ...], returning: tuple[str, ...]) -> Any:
    """Insert-or-ignore returning `returning`, built once per table: a statement used again is
    compiled once, where building it for every row cost more CPU than running it."""
    stmt = _dialect_insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys))
    return stmt.returning(*(table.c[c] for c in returning))


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any], keys: Sequence[str]) -> bool:
    """Insert a row unless one with the same `keys` (a unique constraint) exists; True when inserted."""
    primary = tuple(c.name for c in table.primary_key.columns)
    stmt = _insert_ignoring(conn.dialect.name, table, tuple(keys), primary)
    # rowcount is not reliable here (psycopg reports -1); a returned key means the row went in.
    return conn.execute(stmt, dict(values)).first() is not None


def insert_returning(
    conn: Connection, table: Table, values: Mapping[str, Any], keys: Sequence[str], column: str
) -> Any | None:
    """Insert-or-ignore that hands back `column` of the new row, or None when it was a duplicate."""
    stmt = _insert_ignoring(conn.dialect.name, table, tuple(keys), (column,))
    row = conn.execute(stmt, dict(values)).first()
    return row[0] if row is not None else None


def insert_ignore_many(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(index_elements=list(keys)), list(rows))


def upsert_many(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    columns: Sequence[str],
) -> None:
    """Insert rows, or on a conflict on `keys` set `columns` from the conflicting row (one statement,
    executed for every row; a key given twice keeps its last row, as row-by-row writes would)."""
    last = {tuple(row[k] for k in keys): row for row in rows}
    if last:
        stmt = _insert(conn, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
        )
        conn.execute(stmt, list(last.values()))


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Mapping[str, Any],
) -> None:
    """Insert, or on a conflict on `keys` apply `update` (values may reference `table.c` columns)."""
    stmt = (
        _insert(conn, table)
        .values(**values)
        .on_conflict_do_update(index_elements=list(keys), set_=dict(update))
    )
    conn.execute(stmt)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
