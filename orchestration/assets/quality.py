"""The quality gate in the graph: a blocking rule check on every raw asset, then quarantine
and identity dedup as assets that dbt's sources depend on."""


import dagster as dg
import duckdb

from extractors.streams import STREAMS
from orchestration import paths
from orchestration.resources import WarehouseResource
from quality.run import validate_stream

RAW_KEYS = [dg.AssetKey(["raw", s.table]) for s in STREAMS.values()]
IDENTITY_STREAMS = ("crm_leads", "crm_contacts", "crm_accounts", "erp_customers")


def rules_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", table]),
        name="quality_rules",
        blocking=True,
        description=f"quality/rules/{table}.yml through Great Expectations; error rows go to quarantine, "
        "and the check fails (blocking everything downstream) when error rows exceed the rule file's limit.",
        pool="warehouse",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        result = validate_stream(warehouse.path, table, run_id=context.op_execution_context.run_id, docs_dir=str(paths.data_docs_dir()))
        failed = {r.rule: r.failed for r in result.rules if r.failed and r.severity == "error"}
        description = None
        if result.blocks:
            worst = ", ".join(f"{rule}: {n:,} rows" for rule, n in sorted(failed.items(), key=lambda kv: -kv[1]))
            description = (
                f"raw.{table}: {result.error_rows:,} of {result.current_rows:,} current rows fail error rules "
                f"(limit {result.max_error_percent}%): {worst}"
            )
            context.log.error(description)
        return dg.AssetCheckResult(
            passed=not result.blocks,
            severity=dg.AssetCheckSeverity.ERROR,
            description=description,
            metadata={k: (dg.MetadataValue.json(v) if isinstance(v, dict) else v) for k, v in result.metadata().items()},
        )

    return _check


RULE_CHECKS = [rules_check(s.table) for s in STREAMS.values()]


@dg.asset(
    key=["quality", "quarantine_current"],
    deps=RAW_KEYS,
    group_name="quality",
    kinds={"duckdb"},
    description="Rows currently failing an error-level rule, with rule and reason; staging excludes them. "
    "Written by the rule checks; this asset publishes the counts once every check has run.",
    pool="warehouse",
)
def quarantine_current(warehouse: WarehouseResource) -> dg.MaterializeResult:
    con = duckdb.connect(warehouse.path, read_only=True)
    try:
        by_rule = con.execute(
            "select stream, rule, count(*) from quality.quarantine_current group by all order by 1, 2"
        ).fetchall()
        accounting = con.execute(
            "select count(*), coalesce(sum(rows_in), 0), coalesce(sum(rows_passed), 0), "
            "coalesce(sum(rows_quarantined), 0) from quality.batch_accounting"
        ).fetchone()
    finally:
        con.close()
    return dg.MaterializeResult(
        metadata={
            "quarantined_rows": sum(n for *_, n in by_rule),
            "by_stream_and_rule": dg.MetadataValue.json({f"{s}.{r}": n for s, r, n in by_rule}),
            "batches": accounting[0],
            "rows_in": int(accounting[1]),
            "rows_passed": int(accounting[2]),
            "rows_quarantined": int(accounting[3]),
            "data_docs": dg.MetadataValue.path(str(paths.data_docs_dir() / "index.html")),
        }
    )


@dg.asset(
    key=["quality", "identity_map"],
    deps=[dg.AssetKey(["raw", t]) for t in IDENTITY_STREAMS],
    group_name="quality",
    kinds={"duckdb"},
    description="Identity dedup of leads, contacts and customers (normalised email, E.164 phone, company "
    "name; ERP customers linked to CRM accounts by tax id, then name): every source id -> canonical id.",
    pool="warehouse",
)
def identity_map(warehouse: WarehouseResource) -> dg.MaterializeResult:
    from quality.identity import build_identity_map

    counts = build_identity_map(warehouse.path)
    return dg.MaterializeResult(metadata={k: v for k, v in counts.items()})


QUALITY_ASSETS = [quarantine_current, identity_map]
