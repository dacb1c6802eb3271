"""CSV/Parquet drops: each `<drop dir>/<mapping name>/` folder loads through `<mappings dir>/<mapping name>.yaml`."""


import os
from pathlib import Path

import dagster as dg

from extractors.files import load_directory
from orchestration import paths
from orchestration.resources import WarehouseResource

MAPPINGS_DIR = Path(os.environ.get("SFA_FILE_MAPPINGS_DIR", paths.REPO_ROOT / "extractors" / "file_mappings"))


@dg.asset(
    key=["raw_files", "file_drops"],
    group_name="raw_files",
    kinds={"duckdb", "csv", "parquet"},
    description="Loads new files from the drop folder through their YAML column mapping into the raw "
    "tables (_source = 'file'); a bad file lands nothing and is named with line and column.",
    pool="warehouse",
)
def file_drops(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    drop_root = paths.file_drop_dir()
    loaded, failed = [], []
    for mapping in sorted(MAPPINGS_DIR.glob("*.yaml")):
        folder = drop_root / mapping.stem
        if not folder.is_dir():
            continue
        for result in load_directory(folder, mapping, warehouse.ensure_dir()):
            (failed if result.error else loaded).append(result)
    for result in failed:
        context.log.error(result.error)
    metadata = {
        "files_loaded": len(loaded),
        "rows_landed": sum(getattr(r, "rows_landed", 0) or 0 for r in loaded),
        "files_failed": dg.MetadataValue.json({r.path: r.error for r in failed}),
    }
    if failed:
        raise dg.Failure(f"{len(failed)} drop file(s) failed to load", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)
