"""External systems as Dagster resources: the warehouse and the three source APIs.

Secrets are never fields here: the extractor config reads them from the environment variables
named in docs/source_contract.md when a request is built.
"""


import os

import dagster as dg

from extractors.config import ExtractConfig, load_config
from orchestration import paths


class WarehouseResource(dg.ConfigurableResource):
    """The embedded DuckDB warehouse (one file, one writer at a time)."""

    path: str = str(paths.warehouse_path())

    def ensure_dir(self) -> str:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        return self.path


class SourcesResource(dg.ConfigurableResource):
    """CRM, marketing and ERP endpoints, from the extractor config file plus the environment."""

    config_file: str | None = os.environ.get("SFA_EXTRACT_CONFIG")
    sandbox_url: str | None = None

    def extract_config(self) -> ExtractConfig:
        return load_config(self.config_file, sandbox_url=self.sandbox_url)
