"""The one Definitions object: every asset, check, job, schedule, sensor and resource."""


import dagster as dg

from orchestration.assets.dbt import dbt_resource, sfa_dbt_models
from orchestration.assets.exports import marts_parquet
from orchestration.assets.files import file_drops
from orchestration.assets.quality import QUALITY_ASSETS, RULE_CHECKS
from orchestration.assets.raw import RAW_ASSETS
from orchestration.jobs import (
    compaction_job,
    compaction_schedule,
    file_drop_job,
    file_drop_sensor,
    full_job,
    incremental_job,
    incremental_schedule,
)
from orchestration.resources import SourcesResource, WarehouseResource

ASSETS = [*RAW_ASSETS, file_drops, *QUALITY_ASSETS, sfa_dbt_models, marts_parquet]
CHECKS = RULE_CHECKS


def resources() -> dict:
    return {"warehouse": WarehouseResource(), "sources": SourcesResource(), "dbt": dbt_resource()}


defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[full_job, incremental_job, file_drop_job, compaction_job],
    schedules=[incremental_schedule, compaction_schedule],
    sensors=[file_drop_sensor],
    resources=resources(),
    # One DuckDB file takes one writer: steps run one after another in a single process.
    executor=dg.in_process_executor,
)
