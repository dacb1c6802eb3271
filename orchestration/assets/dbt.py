"""dbt models as Dagster assets; dbt sources map onto the raw and quality assets upstream."""


import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration import dbt_cli
from orchestration.paths import DBT_PROJECT_DIR, warehouse_path
from orchestration.resources import WarehouseResource

DBT_TARGET = os.environ.get("SFA_DBT_TARGET", "duckdb")
# dbt with Python's cyclic GC off (orchestration/dbt_cli.py).
DBT_EXECUTABLE = str(dbt_cli.EXECUTABLE)

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=DBT_TARGET,
)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, target=DBT_TARGET, dbt_executable=DBT_EXECUTABLE)


def _manifest_is_current() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / d for d in ("models", "macros", "seeds", "snapshots", "tests")]
    newest = max(
        (p.stat().st_mtime for d in sources if d.exists() for p in d.rglob("*") if p.is_file()),
        default=0.0,
    )
    return built >= max(newest, (DBT_PROJECT_DIR / "dbt_project.yml").stat().st_mtime)


def _ensure_manifest() -> None:
    """A fresh clone has no target/manifest.json, and an edited project a stale one; parsing is
    cheap and needs no warehouse. dbt parses into a private directory and the manifest moves into
    place in one rename: test workers and `sfa run` may import this module at the same moment, and
    two parses writing one target/manifest.json at once left it corrupt."""
    if _manifest_is_current():
        return
    os.environ.setdefault("SFA_WAREHOUSE", str(warehouse_path()))
    target = dbt_project.manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parse-", dir=target) as private:
        dbt_resource().cli(["parse", "--quiet", "--log-path", private], target_path=Path(private)).wait()
        os.replace(Path(private) / "manifest.json", dbt_project.manifest_path)


_ensure_manifest()


class SfaDbtTranslator(DagsterDbtTranslator):
    """Sources `raw.x` and `quality.x` become the asset keys the extract and quality layers own."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            table = dbt_resource_props.get("identifier") or dbt_resource_props["name"]
            return dg.AssetKey([dbt_resource_props["schema"], table])
        return dg.AssetKey([_layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return f"dbt_{_layer(dbt_resource_props)}"


def _layer(props: Mapping[str, Any]) -> str:
    """staging / intermediate / marts for models (their folder), else seeds / snapshots."""
    if props["resource_type"] == "model":
        fqn = props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "models"
    return f"{props['resource_type']}s"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=SfaDbtTranslator(),
    pool="warehouse",
)
def sfa_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    # profiles.yml reads the DuckDB path from the environment; dbt runs as a child process.
    os.environ["SFA_WAREHOUSE"] = warehouse.path
    yield from dbt.cli(["build"], context=context).stream()
