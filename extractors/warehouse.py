"""Opening the DuckDB warehouse for writing, and compacting it.

DuckDB's checkpoint "vacuums" eagerly: whenever the rows left in adjacent row groups would fit
in fewer groups, it rewrites those groups, and it folds each checkpoint's small appended group
into the one before it. The key-incremental dbt models delete and re-insert about 1% of their
rows per run, so with that default nearly every run rewrites the tail row group (up to 122,880
rows) of every such table, and every few runs merges three or four full groups (2.2 s for
`stg_crm__leads` at a million leads, in the final checkpoint of one incremental `dbt build`).

Every writer of the pipeline (extraction, file drops, quality, dbt via its profile) therefore
opens the warehouse with `max_vacuum_tasks = 0`: checkpoints write the new rows and the delete
markers and nothing else. `compact()` (`sfa compact`, the Dagster job
`sfa_warehouse_compaction` on a daily schedule) merges what accumulated in one pass. Measured on
a 1M-row table over 30 runs of 1% delete + insert: 2.78 s of checkpoints with eager vacuum,
against 0.80 s plus one 0.66 s compaction, with the same 9-10 row groups at the end.

`SFA_DUCKDB_VACUUM_TASKS` overrides the number (DuckDB's default is 100) for users who would
rather pay on every run than schedule the compaction.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

VACUUM_TASKS_ENV = "SFA_DUCKDB_VACUUM_TASKS"
# What DuckDB uses when nothing is set; the compaction's own checkpoint runs with it.
DUCKDB_DEFAULT_VACUUM_TASKS = 100


def vacuum_tasks() -> int:
    value = os.environ.get(VACUUM_TASKS_ENV, "0")
    try:
        tasks = int(value)
    except ValueError:
        raise ValueError(f"{VACUUM_TASKS_ENV} must be a whole number >= 0, got {value!r}") from None
    if tasks < 0:
        raise ValueError(f"{VACUUM_TASKS_ENV} must be a whole number >= 0, got {value!r}")
    return tasks


def connect(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection for a pipeline writer: checkpoints leave row-group merges to `compact`."""
    return duckdb.connect(str(path), config={"max_vacuum_tasks": vacuum_tasks()})


@dataclass
class CompactionReport:
    path: str
    seconds: float = 0.0
    # table -> (row groups before, row groups after), for the tables the compaction changed
    row_groups: dict[str, tuple[int, int]] = field(default_factory=dict)

    def summary(self) -> str:
        before = sum(b for b, _ in self.row_groups.values())
        after = sum(a for _, a in self.row_groups.values())
        return (f"{self.path}: {len(self.row_groups)} tables compacted in {self.seconds:.2f} s, "
                f"{before} -> {after} row groups")


def _row_groups(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database() and not temporary order by 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in tables:
        name = f'"{schema}"."{table}"'
        counts[f"{schema}.{table}"] = con.execute(
            f"select count(distinct row_group_id) from pragma_storage_info('{name}')"
        ).fetchone()[0]
    return counts


def compact(path: str | Path) -> CompactionReport:
    """Merge the row groups that deletes and small appends left behind, in every table.

    A checkpoint with DuckDB's vacuum on does the merging; FORCE CHECKPOINT skips a database
    whose WAL is empty, so a throw-away table gives it something to write first.
    """
    report = CompactionReport(path=str(path))
    if not Path(path).exists():
        return report
    con = duckdb.connect(str(path), config={"max_vacuum_tasks": DUCKDB_DEFAULT_VACUUM_TASKS})
    try:
        before = _row_groups(con)
        start = time.perf_counter()
        con.execute("create table main.__sfa_compaction_marker (x integer)")
        con.execute("drop table main.__sfa_compaction_marker")
        con.execute("force checkpoint")
        report.seconds = time.perf_counter() - start
        after = _row_groups(con)
    finally:
        con.close()
    report.row_groups = {t: (before[t], after.get(t, 0)) for t in before if before[t] != after.get(t, 0)}
    return report
