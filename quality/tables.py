"""The `quality` schema in the warehouse: what the rules leave behind for dbt, ops and trends."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from extractors import warehouse as warehouse_db

SCHEMA = "quality"

DDL = [
    f"create schema if not exists {SCHEMA}",
    "create schema if not exists quality_work",
    # One row per failing (row version, rule); kept after a fix with resolved = true.
    f"""create table if not exists {SCHEMA}.quarantine (
        stream varchar not null,
        batch_id varchar not null,
        record_id varchar not null,
        cursor varchar,
        rule varchar not null,
        severity varchar not null,
        reason varchar,
        record json,
        first_seen_run varchar not null,
        last_seen_run varchar not null,
        resolved boolean not null,
        resolved_run varchar,
        resolution varchar
    )""",
    # Contract section 5: currently failing error-level rows; dbt staging excludes them.
    f"""create table if not exists {SCHEMA}.quarantine_current (
        stream varchar not null,
        record_id varchar not null,
        rule varchar not null,
        severity varchar not null,
        reason varchar
    )""",
    f"""create table if not exists {SCHEMA}.batch_accounting (
        stream varchar not null,
        batch_id varchar not null,
        rows_in bigint not null,
        rows_passed bigint not null,
        rows_quarantined bigint not null,
        run_id varchar not null,
        evaluated_at timestamp not null
    )""",
    f"""create table if not exists {SCHEMA}.rule_results (
        run_id varchar not null,
        run_at timestamp not null,
        stream varchar not null,
        rule varchar not null,
        severity varchar not null,
        evaluated bigint not null,
        failed bigint not null,
        percent double not null
    )""",
    f"""create table if not exists {SCHEMA}.identity_map (
        entity varchar not null,
        source varchar not null,
        record_id varchar not null,
        canonical_id varchar not null
    )""",
]


def connect(warehouse: str | Path | duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (or reuse an open connection) and make sure the quality tables exist.

    When we open the file ourselves, DuckDB's memory limit is capped (env
    `SFA_QUALITY_MEMORY_LIMIT`, default 1GB) so big tables spill to disk instead of growing the
    process. A caller's connection keeps its own settings (they are database-wide).
    """
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        con = warehouse
    else:
        Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
        con = warehouse_db.connect(warehouse)
        con.execute(f"set memory_limit = '{os.environ.get('SFA_QUALITY_MEMORY_LIMIT', '1GB')}'")
        con.execute("set enable_progress_bar = false")
        # row order of scratch tables does not matter; keeping it costs time and memory
        con.execute("set preserve_insertion_order = false")
    for statement in DDL:
        con.execute(statement)
    return con


def raw_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw' and table_catalog = current_database()"
    ).fetchall()
    return {r[0] for r in rows}
