"""Marts out to Parquet with a manifest, for BI tools that read files."""


import dagster as dg

from exports.parquet import export_relations
from orchestration import paths
from orchestration.assets.dbt import sfa_dbt_models
from orchestration.resources import WarehouseResource

MART_KEYS = [key for key in sfa_dbt_models.keys if key.path[0] == "marts"]


@dg.asset(
    key=["exports", "marts_parquet"],
    deps=MART_KEYS,
    group_name="exports",
    kinds={"parquet"},
    description="Every table in the marts schema as Parquet, plus manifest.json (rows, columns, sha256).",
    pool="warehouse",
)
def marts_parquet(warehouse: WarehouseResource) -> dg.MaterializeResult:
    manifest = export_relations(warehouse.path, paths.exports_dir(), schema="marts")
    return dg.MaterializeResult(
        metadata={
            "tables": len(manifest["tables"]),
            "rows": sum(t["rows"] for t in manifest["tables"]),
            "path": dg.MetadataValue.path(str(paths.exports_dir())),
        }
    )
