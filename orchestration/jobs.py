"""Jobs, schedules and sensors: when the assets run."""


import os

import dagster as dg

from orchestration import paths

FULL_JOB_NAME = "sfa_full_pipeline"
INCREMENTAL_JOB_NAME = "sfa_incremental"
FILE_DROP_JOB_NAME = "sfa_file_drops"
COMPACTION_JOB_NAME = "sfa_warehouse_compaction"

# Every 5 minutes by default: the seeds promise dashboards at most 5 minutes behind.
INCREMENTAL_CRON = os.environ.get("SFA_INCREMENTAL_CRON", "*/5 * * * *")
# Pipeline writers leave row-group merges to this job (extractors/warehouse.py); once a day at night.
COMPACTION_CRON = os.environ.get("SFA_COMPACTION_CRON", "30 3 * * *")

full_job = dg.define_asset_job(
    FULL_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Extract every stream, run the quality gate, build every dbt model and export the marts.",
)

incremental_job = dg.define_asset_job(
    INCREMENTAL_JOB_NAME,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("raw_files"),
    description="Incremental pull of every API stream (cursor + overlap), then quality, dbt and exports.",
)

file_drop_job = dg.define_asset_job(
    FILE_DROP_JOB_NAME,
    selection=dg.AssetSelection.groups("raw_files").downstream(),
    description="Load new CSV/Parquet drops through their mappings, then everything downstream.",
)

incremental_schedule = dg.ScheduleDefinition(
    name="sfa_incremental_schedule",
    job=incremental_job,
    cron_schedule=INCREMENTAL_CRON,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


@dg.op(pool="warehouse", required_resource_keys={"warehouse"})
def compact_warehouse(context: dg.OpExecutionContext) -> dict:
    """Merge the DuckDB row groups that the incremental runs' deletes and appends left behind."""
    from extractors.warehouse import compact

    report = compact(context.resources.warehouse.path)
    context.log.info(report.summary())
    return {"seconds": round(report.seconds, 3), "row_groups": report.row_groups}


@dg.job(name=COMPACTION_JOB_NAME, description="Merge fragmented DuckDB row groups (pipeline writers defer it).")
def compaction_job():
    compact_warehouse()


compaction_schedule = dg.ScheduleDefinition(
    name="sfa_warehouse_compaction_schedule",
    job=compaction_job,
    cron_schedule=COMPACTION_CRON,
    # On by default: a warehouse that the incremental schedule updates must be compacted, and a
    # compaction with nothing to merge costs a few milliseconds.
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


def raw_run_config(*, full_refresh: bool, log_level: str = "INFO") -> dict:
    """Run config that sets `full_refresh` on every extraction op of a job (and a readable log level)."""
    from orchestration.assets.raw import RAW_ASSET_OP_NAMES

    return {
        "ops": {name: {"config": {"full_refresh": full_refresh}} for name in RAW_ASSET_OP_NAMES},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }


@dg.sensor(job=file_drop_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED)
def file_drop_sensor(context: dg.SensorEvaluationContext):
    """One run per new or changed file in the drop folder (keyed by name, size and mtime)."""
    drop_dir = paths.file_drop_dir()
    if not drop_dir.exists():
        return dg.SkipReason(f"drop folder {drop_dir} does not exist yet")
    files = sorted(p for p in drop_dir.iterdir() if p.suffix.lower() in (".csv", ".parquet"))
    if not files:
        return dg.SkipReason(f"no CSV or Parquet files in {drop_dir}")
    for path in files:
        stat = path.stat()
        yield dg.RunRequest(run_key=f"{path.name}:{stat.st_size}:{int(stat.st_mtime)}")
