"""Where the pipeline keeps its files; everything under one warehouse folder by default."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def warehouse_dir() -> Path:
    return Path(os.environ.get("SFA_WAREHOUSE_DIR", REPO_ROOT / "warehouse")).resolve()


def warehouse_path() -> Path:
    """The DuckDB file; `SFA_WAREHOUSE` (a file path) wins over the folder setting."""
    explicit = os.environ.get("SFA_WAREHOUSE")
    return Path(explicit).resolve() if explicit else warehouse_dir() / "sfa.duckdb"


def exports_dir() -> Path:
    return warehouse_dir() / "exports"


def data_docs_dir() -> Path:
    return warehouse_dir() / "quality" / "data_docs"


def truth_path() -> Path:
    return warehouse_dir() / "sandbox_truth.json"


def file_drop_dir() -> Path:
    return Path(os.environ.get("SFA_FILE_DROP_DIR", warehouse_dir() / "drops")).resolve()
