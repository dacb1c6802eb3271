"""The primary_key test with `batch_column` (tests/generic/primary_key.sql) checks the rows the
newest run wrote, and only those: on stg_crm__activities (a view filtering base_crm__activities,
a delete+insert table stamped with `refreshed_at`)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.dbt.conftest import dbt_output, land_small_world

MODELS = ["base_crm__activities", "stg_crm__activities"]
PK_TEST = "primary_key_stg_crm__activities_refreshed_at__activity_id"


def _dbt(work: Path, warehouse: Path, command: str, *select: str) -> subprocess.CompletedProcess:
    return dbt_output([command, "--no-use-colors", "--select", *select],
                      {"SFA_WAREHOUSE": str(warehouse), "SFA_DBT_TARGET": "duckdb"}, work)


def _batches(warehouse: Path) -> list[tuple[dt.datetime, int]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select refreshed_at, count(*) from staging.base_crm__activities group by 1 order by 1").fetchall()
    finally:
        con.close()


def _duplicate_one_row(warehouse: Path, refreshed_at: dt.datetime) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("insert into staging.base_crm__activities select * replace (cast(? as timestamp) as refreshed_at) "
                    "from staging.base_crm__activities where not is_deleted limit 1", [refreshed_at])
    finally:
        con.close()


def _remove_duplicates(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create temp table kept as select * from staging.base_crm__activities "
                    "qualify row_number() over (partition by activity_id order by refreshed_at) = 1")
        con.execute("delete from staging.base_crm__activities")
        con.execute("insert into staging.base_crm__activities select * from kept")
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("pk_batches")
    warehouse = work / "sfa.duckdb"
    land_small_world(warehouse)
    done = _dbt(work, warehouse, "build", *MODELS)
    assert done.returncode == 0, done.stdout[-4000:]
    return work, warehouse


def test_a_first_build_is_one_batch_and_a_repeat_inside_it_fails(built: tuple[Path, Path]) -> None:
    work, warehouse = built
    batches = _batches(warehouse)
    assert len(batches) == 1 and batches[0][1] > 100

    _duplicate_one_row(warehouse, batches[0][0])
    try:
        failed = _dbt(work, warehouse, "test", "stg_crm__activities")
        assert failed.returncode == 1
        assert f"Failure in test {PK_TEST}" in failed.stdout
        assert "Got 1 result" in failed.stdout
    finally:
        _remove_duplicates(warehouse)


def test_a_repeat_in_an_older_batch_is_not_looked_at(built: tuple[Path, Path]) -> None:
    """Older batches were checked when they were written; a key repeated there only by editing the
    table behind dbt's back is out of the test's reach by design (that is what makes it cheap)."""
    work, warehouse = built
    newest = _batches(warehouse)[-1][0]
    _duplicate_one_row(warehouse, newest - dt.timedelta(days=1))
    try:
        passed = _dbt(work, warehouse, "test", "stg_crm__activities")
        assert passed.returncode == 0, passed.stdout[-4000:]
    finally:
        _remove_duplicates(warehouse)


def test_an_incremental_run_writes_one_new_batch_of_the_changed_ids(built: tuple[Path, Path]) -> None:
    from orchestration.bench_dbt import change_records

    work, warehouse = built
    rows_before = sum(n for _, n in _batches(warehouse))
    # The small World's activities fit in one landed page, so they share one _extracted_at, which
    # the build's watermark ties with (raw_latest reads `>=`): the first incremental run re-reads
    # every id; the second only the changed ones.
    changed_per_run = []
    for _ in range(2):
        _, per_table = change_records(warehouse, percent=50)  # the same ids (by hash) each time
        changed_per_run.append(per_table["crm_activities"] - sum(changed_per_run))
        done = _dbt(work, warehouse, "build", *MODELS)
        assert done.returncode == 0, done.stdout[-4000:]
    changed = changed_per_run[-1]
    assert changed == changed_per_run[0]
    assert 0 < changed < rows_before
    batches = _batches(warehouse)
    assert len(batches) == 2
    assert batches[-1][1] == changed
    assert sum(n for _, n in batches) == rows_before
    assert f"PASS {PK_TEST}" in done.stdout
