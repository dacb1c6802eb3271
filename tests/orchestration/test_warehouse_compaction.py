"""Pipeline writers defer DuckDB's row-group merges; `compact` (and its Dagster job) does them.

A table of 400,000 rows (4 row groups) loses 60% of its rows in the last three groups, the way
many incremental runs' deletes would leave it:
- checkpointed through `extractors.warehouse.connect`, it keeps its 4 row groups;
- with SFA_DUCKDB_VACUUM_TASKS=100 (DuckDB's default) the writer's own checkpoint merges them, so
  the first assertion is not DuckDB's behaviour anyway;
- `compact()` and the Dagster compaction job merge them; every row is still there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from extractors import warehouse
from orchestration.jobs import compaction_job
from orchestration.resources import WarehouseResource

ROWS = 400_000
REPO_ROOT = Path(__file__).resolve().parents[2]


def _row_groups(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(distinct row_group_id) from pragma_storage_info('main.t')").fetchone()[0]


def _fragmented(path: Path) -> tuple[int, int]:
    """Builds the table through the pipeline's writer connection; returns (row groups, rows) after its checkpoint."""
    con = warehouse.connect(path)
    try:
        con.execute(f"create table t as select i as id, 'name ' || i as name, i * 1.5 as amount from range({ROWS}) r(i)")
        con.execute("checkpoint")
        con.execute("delete from t where id >= 122880 and id % 5 < 3")
        con.execute("checkpoint")
        return _row_groups(con), con.execute("select count(*) from t").fetchone()[0]
    finally:
        con.close()


def _contents(path: Path) -> tuple[int, int, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return (_row_groups(con), *con.execute("select count(*), sum(id) from t").fetchone())
    finally:
        con.close()


def test_writers_defer_merges_and_compact_does_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(warehouse.VACUUM_TASKS_ENV, raising=False)
    path = tmp_path / "w.duckdb"
    groups, rows = _fragmented(path)
    kept = ROWS - sum(1 for i in range(122_880, ROWS) if i % 5 < 3)
    assert (groups, rows) == (4, kept)
    expected_sum = sum(i for i in range(ROWS) if i < 122_880 or i % 5 >= 3)

    report = warehouse.compact(path)
    assert report.row_groups == {"main.t": (4, 2)}
    assert _contents(path) == (2, kept, expected_sum)
    # Nothing left to merge: a second compaction changes nothing.
    assert warehouse.compact(path).row_groups == {}


def test_vacuum_tasks_env_restores_eager_merging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(warehouse.VACUUM_TASKS_ENV, "100")
    groups, _ = _fragmented(tmp_path / "w.duckdb")
    assert groups == 2
    monkeypatch.setenv(warehouse.VACUUM_TASKS_ENV, "-1")
    with pytest.raises(ValueError, match="SFA_DUCKDB_VACUUM_TASKS"):
        warehouse.connect(tmp_path / "other.duckdb")


def test_compaction_job_and_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(warehouse.VACUUM_TASKS_ENV, raising=False)
    path = tmp_path / "w.duckdb"
    _fragmented(path)
    result = compaction_job.execute_in_process(resources={"warehouse": WarehouseResource(path=str(path))})
    assert result.success
    assert result.output_for_node("compact_warehouse")["row_groups"] == {"main.t": (4, 2)}
    assert _contents(path)[0] == 2

    second = tmp_path / "cli.duckdb"
    _fragmented(second)
    done = subprocess.run([str(Path(sys.executable).with_name("sfa")), "compact", "--warehouse", str(second)],
                          capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert "main.t: 4 -> 2" in done.stdout
    assert _contents(second)[0] == 2


def test_compaction_is_scheduled_in_the_definitions() -> None:
    from orchestration.definitions import defs

    schedule = defs.get_schedule_def("sfa_warehouse_compaction_schedule")
    assert schedule.job_name == "sfa_warehouse_compaction"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
