"""Incremental staging equals a full refresh.

The staging base tables (`models/staging/*/base/`) merge only the ids with new raw rows. Here a
small World is landed and staged, then new versions land (edits, a tombstone, a stale version that
arrives late and must not win, a snapshot-stream edit), staging is rebuilt incrementally and must
equal a `--full-refresh` build row for row. Quarantine is applied by the views on top, so an id that
leaves quarantine without any new raw row shows up at once.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pytest

from extractors.landing import land_records
from extractors.sandbox.world import World
from extractors.streams import record_keys
from tests.dbt.conftest import built_columns, land_with_empty_quality, run_dbt

DAY_MS = 86_400_000
STREAM_MODELS = {"crm_leads": "crm__leads", "erp_customers": "erp__customers", "mkt_campaigns": "marketing__campaigns",
                 "crm_users": "crm__users"}
# One stream per source plus a snapshot stream, base table and view each: enough to cover every
# cursor format and keep the three dbt runs short.
SELECT = [f"{layer}_{name}" for name in STREAM_MODELS.values() for layer in ("base", "stg")]


def _dbt(work: Path, warehouse: Path, *args: str) -> None:
    """`dbt run` of the selected models; one target dir for all runs, so later ones parse partially."""
    run_dbt(["run", "--select", *SELECT, *args], {"SFA_WAREHOUSE": str(warehouse), "SFA_DBT_TARGET": "duckdb"}, work,
            timeout=300)


def _contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    out = {}
    for relation, columns in built_columns(con, "staging").items():
        rows = con.execute(f"select {', '.join(columns)} from {relation}").fetchall()
        out[relation] = sorted(rows, key=lambda row: tuple((v is None, str(v)) for v in row))
    return out


@pytest.fixture(scope="module")
def world_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Path, Path]:
    work = tmp_path_factory.mktemp("incremental_staging")
    warehouse = work / "sfa.duckdb"
    world = World(seed=11, scale=0.05)
    con = duckdb.connect(str(warehouse))
    try:
        land_with_empty_quality(con, world, page_size=100)
    finally:
        con.close()
    return world, warehouse, work


def test_incremental_staging_equals_full_refresh(world_warehouse: tuple[World, Path, Path]) -> None:
    world, warehouse, work = world_warehouse
    leads = list(world.iter_records("crm_leads"))
    edited, tombstoned, stale, orphan = leads[1], leads[2], leads[3], leads[4]
    con = duckdb.connect(str(warehouse))
    # An orphan held in quarantine: it must leave it without a new raw row.
    con.execute("insert into quality.quarantine_current values ('crm_leads', ?, 'orphan', 'error', 'test')",
                [orphan["_id"]])
    con.close()
    _dbt(work, warehouse)

    con = duckdb.connect(str(warehouse))
    assert con.execute("select count(*) from staging.stg_crm__leads where lead_id = ?",
                       [orphan["_id"]]).fetchone()[0] == 0

    new_versions = []
    changed = copy.deepcopy(edited)
    changed["company"] = "增量测试有限公司"
    changed["last_modified_time"] += DAY_MS
    new_versions.append(changed)
    deleted = copy.deepcopy(tombstoned)
    deleted.update(is_deleted=True, life_status="invalid", last_modified_time=deleted["last_modified_time"] + DAY_MS)
    new_versions.append(deleted)
    # Arrives later but carries an older cursor: the current version must stay.
    late_old = copy.deepcopy(stale)
    late_old["company"] = "Stale Version Ltd"
    late_old["last_modified_time"] -= DAY_MS
    new_versions.append(late_old)
    land_records(con, "crm_leads", [new_versions], source="crm", keys=record_keys("crm_leads"))

    customer = copy.deepcopy(next(world.iter_records("erp_customers")))
    customer["name"] = "Incremental Customer GmbH"
    customer["write_date"] = "2099-01-01 00:00:00"
    land_records(con, "erp_customers", [[customer]], source="erp", keys=record_keys("erp_customers"))
    campaign = copy.deepcopy(next(world.iter_records("mkt_campaigns")))
    campaign["properties"]["name"] = "incremental campaign"
    campaign["updatedAt"] = "2099-01-01T00:00:00.000Z"
    land_records(con, "mkt_campaigns", [[campaign]], source="marketing", keys=record_keys("mkt_campaigns"))
    user = copy.deepcopy(next(world.iter_records("crm_users")))  # snapshot stream: no cursor
    user["name"] = "增量用户"
    land_records(con, "crm_users", [[user]], source="crm", keys=record_keys("crm_users"))
    con.execute("delete from quality.quarantine_current where record_id = ?", [orphan["_id"]])
    con.close()

    _dbt(work, warehouse)
    # The merge took the incremental path (only ids with rows past the watermark), not a rebuild.
    target = work / "target"
    model = Path("sfa", "models", "staging", "crm", "base", "base_crm__leads.sql")
    assert "changed._extracted_at >=" in (target / "compiled" / model).read_text()
    assert "delete from" in (target / "run" / model).read_text()
    con = duckdb.connect(str(warehouse))
    try:
        lead = {r[0]: (r[1], r[2]) for r in con.execute(
            "select lead_id, company, is_deleted from staging.stg_crm__leads where lead_id in (?, ?, ?, ?)",
            [edited["_id"], tombstoned["_id"], stale["_id"], orphan["_id"]]).fetchall()}
        assert lead[edited["_id"]] == ("增量测试有限公司", False)
        assert lead[tombstoned["_id"]][1] is True
        assert lead[stale["_id"]] == (stale.get("company"), record_keys("crm_leads").deleted(stale))
        assert orphan["_id"] in lead  # left quarantine with no new raw row
        assert con.execute("select customer_name from staging.stg_erp__customers where erp_customer_id = ?",
                           [customer["id"]]).fetchone()[0] == "Incremental Customer GmbH"
        assert con.execute("select campaign_name from staging.stg_marketing__campaigns where campaign_id = ?",
                           [campaign["id"]]).fetchone()[0] == "incremental campaign"
        assert con.execute("select user_name from staging.stg_crm__users where user_id = ?",
                           [user["openUserId"]]).fetchone()[0] == "增量用户"
        for stream, base in STREAM_MODELS.items():
            assert con.execute(f"select count(*) from staging.base_{base}").fetchone()[0] == con.execute(
                f"select count(distinct _record_id) from raw.{stream}").fetchone()[0]
        incremental = _contents(con)
    finally:
        con.close()

    _dbt(work, warehouse, "--full-refresh")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        full = _contents(con)
    finally:
        con.close()
    assert set(full) == set(incremental) == {f"staging.{m}" for m in SELECT}
    differing = [relation for relation in full if full[relation] != incremental[relation]]
    assert not differing, json.dumps({r: [len(full[r]), len(incremental[r])] for r in differing})
