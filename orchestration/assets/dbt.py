"""dbt models as Dagster assets; dbt sources map onto the raw and quality assets upstream."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.paths import DBT_PROJECT_DIR, warehouse_path

DBT_TARGET = os.environ.get("SFA_DBT_TARGET", "duckdb")

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=DBT_TARGET,
)


def _ensure_manifest() -> None:
    """A fresh clone has no target/manifest.json; parsing is cheap and needs no warehouse."""
    if dbt_project.manifest_path.exists():
        return
    os.environ.setdefault("SFA_WAREHOUSE", str(warehouse_path()))
    DbtCliResource(project_dir=dbt_project, target=DBT_TARGET).cli(
        ["parse", "--quiet"], target_path=dbt_project.target_path
    ).wait()


_ensure_manifest()


class SfaDbtTranslator(DagsterDbtTranslator):
    """Sources `raw.x` and `quality.x` become the asset keys the extract and quality layers own."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            table = dbt_resource_props.get("identifier") or dbt_resource_props["name"]
            return dg.AssetKey([dbt_resource_props["schema"], table])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 else "dbt"
        return f"dbt_{layer}"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=SfaDbtTranslator(),
    pool="warehouse",
)
def sfa_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()
