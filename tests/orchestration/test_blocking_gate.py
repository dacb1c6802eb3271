"""An error-level quality failure stops the dbt models downstream, and the run says which rule and how many."""

from __future__ import annotations

import dagster as dg
import duckdb

from extractors.landing import land_records
from extractors.streams import record_keys
from orchestration.definitions import ASSETS, CHECKS, resources
from orchestration.resources import WarehouseResource

LEADS = dg.AssetKey(["raw", "crm_leads"])
STAGING_LEADS = dg.AssetKey(["staging", "stg_crm__leads"])


def _lead(i: int, *, broken: bool) -> dict:
    record = {
        "_id": f"{i:024x}", "name": None if broken else f"Lead {i}", "company": "Acme Co., Ltd.",
        "mobile": "13800138000", "source": "ads", "biz_status": "un_processed", "leads_stage": "Lead",
        "owner": ["FSUID_0"], "create_time": 1_700_000_000_000 + i, "last_modified_time": 1_700_000_000_000 + i,
        "is_deleted": False, "life_status": "normal",
    }  # fmt: skip
    return {k: v for k, v in record.items() if v is not None}


def _run_gate(tmp_path, broken: int, total: int = 100):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    pages = [[_lead(i, broken=i < broken) for i in range(total)]]
    land_records(con, "crm_leads", pages, source="crm", keys=record_keys("crm_leads"))
    con.close()
    return dg.materialize(
        [*ASSETS, *CHECKS],
        selection=dg.AssetSelection.checks_for_assets(LEADS) | dg.AssetSelection.assets(STAGING_LEADS),
        resources={**resources(), "warehouse": WarehouseResource(path=str(path))},
        raise_on_error=False,
    )


def _check_evaluation(result) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    return evaluation


def test_error_rule_over_limit_blocks_downstream_dbt(tmp_path):
    result = _run_gate(tmp_path, broken=40)
    evaluation = _check_evaluation(result)
    assert not evaluation.passed
    assert "name_required: 40 rows" in evaluation.description
    assert evaluation.metadata["error_rows"].value == 40
    materialized = {e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert STAGING_LEADS not in materialized
