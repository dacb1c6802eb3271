"""Table and view models on DuckDB are replaced in place (macros/materializations/duckdb_replace_in_place.sql).

A small World is staged; then the relations are tampered with the way a changed config or a failed
run would leave them, and rebuilt:
- a table model whose name is held by a view (and a view model whose name is held by a table) comes
  back as its own type with the same rows;
- a table model whose query fails leaves the previous table in place, rows unchanged.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration import dbt_cli
from tests.dbt.conftest import dbt_output, land_small_world

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_BIN = dbt_cli.EXECUTABLE  # what the Dagster assets run
# int_crm__reps (a table) over two staging views and their base tables.
MODELS = ["base_crm__users", "stg_crm__users", "base_crm__departments", "stg_crm__departments", "int_crm__reps"]


def _dbt(work: Path, warehouse: Path, *select: str) -> subprocess.CompletedProcess:
    return dbt_output(["run", "--select", *select], {"SFA_WAREHOUSE": str(warehouse), "SFA_DBT_TARGET": "duckdb"}, work)


def _state(warehouse: Path, relation: str) -> tuple[str, list[tuple]]:
    schema, name = relation.split(".")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        kind = con.execute("select table_type from information_schema.tables where table_schema = ? and table_name = ?",
                           [schema, name]).fetchone()[0]
        rows = sorted(con.execute(f"select * from {relation}").fetchall(), key=str)
    finally:
        con.close()
    return kind, rows


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("materializations")
    warehouse = work / "sfa.duckdb"
    land_small_world(warehouse)
    done = _dbt(work, warehouse, *MODELS)
    assert done.returncode == 0, done.stdout[-4000:]
    return work, warehouse


def test_relation_of_the_other_type_is_replaced(staged: tuple[Path, Path]) -> None:
    work, warehouse = staged
    table_before = _state(warehouse, "intermediate.int_crm__reps")
    view_before = _state(warehouse, "staging.stg_crm__users")
    assert table_before[0] == "BASE TABLE" and view_before[0] == "VIEW"
    assert table_before[1] and view_before[1]

    con = duckdb.connect(str(warehouse))
    con.execute("drop table intermediate.int_crm__reps")
    con.execute("create view intermediate.int_crm__reps as select 1 as placeholder")
    con.execute("drop view staging.stg_crm__users")
    con.execute("create table staging.stg_crm__users as select 1 as placeholder")
    con.close()

    done = _dbt(work, warehouse, "stg_crm__users", "int_crm__reps")
    assert done.returncode == 0, done.stdout[-4000:]
    assert _state(warehouse, "intermediate.int_crm__reps") == table_before
    assert _state(warehouse, "staging.stg_crm__users") == view_before


def test_failed_rebuild_keeps_the_previous_table(staged: tuple[Path, Path]) -> None:
    work, warehouse = staged
    before = _state(warehouse, "intermediate.int_crm__reps")
    con = duckdb.connect(str(warehouse))
    con.execute("alter view staging.stg_crm__departments rename to stg_crm__departments_away")
    con.close()
    try:
        done = _dbt(work, warehouse, "int_crm__reps")
        assert done.returncode != 0, "int_crm__reps built although an input was missing"
        assert _state(warehouse, "intermediate.int_crm__reps") == before
    finally:
        con = duckdb.connect(str(warehouse))
        con.execute("alter view staging.stg_crm__departments_away rename to stg_crm__departments")
        con.close()


def test_dbt_connection_defers_row_group_merges(staged: tuple[Path, Path]) -> None:
    """The profile opens DuckDB with max_vacuum_tasks = 0 like every pipeline writer
    (extractors/warehouse.py); SFA_DUCKDB_VACUUM_TASKS overrides it."""
    work, warehouse = staged
    query = "select current_setting('max_vacuum_tasks') as vacuum_tasks"
    settings = {}
    for override in (None, "100"):
        env = {**os.environ, "SFA_WAREHOUSE": str(warehouse), "SFA_DBT_TARGET": "duckdb",
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        env.pop("SFA_DUCKDB_VACUUM_TASKS", None)
        if override:
            env["SFA_DUCKDB_VACUUM_TASKS"] = override
        done = subprocess.run(
            [str(DBT_BIN), "show", "--inline", query, "--output", "json", "--log-format", "text",
             "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
            env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-4000:]
        settings[override] = done.stdout
    assert '"vacuum_tasks": 0' in settings[None]
    assert '"vacuum_tasks": 100' in settings["100"]


def test_incremental_model_replaces_only_the_changed_keys(staged: tuple[Path, Path]) -> None:
    """macros/materializations/duckdb_incremental.sql: a new raw version of some users replaces
    exactly those rows of base_crm__users (delete+insert by user_id), the rest stay as they were,
    and no `__dbt_incr` relation is left in the warehouse file (the staging table must be a
    connection-local temporary table, or be dropped)."""
    from orchestration.bench_dbt import change_records

    work, warehouse = staged
    kind, before = _state(warehouse, "staging.base_crm__users")
    assert kind == "BASE TABLE"
    _, per_table = change_records(warehouse, percent=50)
    changed = per_table["crm_users"]
    assert 0 < changed < len(before)

    done = _dbt(work, warehouse, "base_crm__users")
    assert done.returncode == 0, done.stdout[-4000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = [c[0] for c in con.execute("describe staging.base_crm__users").fetchall()]
        after = con.execute("select * from staging.base_crm__users").fetchall()
        leftovers = con.execute("select count(*) from duckdb_tables() where table_name like '%__dbt_incr'").fetchone()[0]
    finally:
        con.close()
    key, name = columns.index("user_id"), columns.index("user_name")
    before_by_key = {row[key]: row for row in before}
    after_by_key = {row[key]: row for row in after}
    assert len(after) == len(after_by_key) == len(before_by_key)
    edited = {k for k, row in after_by_key.items() if str(row[name]).endswith("(bench edit)")}
    assert len(edited) == changed
    assert all(after_by_key[k] == before_by_key[k] for k in after_by_key.keys() - edited)
    assert leftovers == 0
