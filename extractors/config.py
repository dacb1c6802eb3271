"""One config model for every extractor: a YAML file for settings, env vars for secrets.

Secrets never come from YAML or code: each one is read from the env var the source contract
names, held as a `SecretStr` (so `repr` and logs show `**********`), and only unwrapped when a
request is built. Against the sandbox the documented public sandbox credentials are used when
the env var is unset (`use_sandbox_credentials`); a real tenant must set the env vars.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr

DEFAULT_CONFIG_PATH = Path(__file__).with_name("config.yaml")
SANDBOX_URL_ENV = "SFA_SANDBOX_URL"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
REAL_CRM_RATE_PER_SECOND = 5.0  # documented ~100 calls / 20 s per interface

# The sandbox's public credentials (docs/source_contract.md); not secrets, only defaults.
SANDBOX_SECRETS = {
    "FXIAOKE_APP_ID": "FSAID_sandbox",
    "FXIAOKE_APP_SECRET": "sandbox-secret",
    "FXIAOKE_PERMANENT_CODE": "sandbox-code",
    "HUBSPOT_ACCESS_TOKEN": "sandbox-token",
    "ODOO_DB": "sandbox",
    "ODOO_LOGIN": "sync@sandbox",
    "ODOO_API_KEY": "sandbox-key",
}


SECRET_SOURCES = {"FXIAOKE": "crm", "HUBSPOT": "marketing", "ODOO": "erp"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetryConfig(_Strict):
    attempts: int = Field(8, ge=1, description="tries per request, first one included")
    wait_initial_seconds: float = Field(0.2, ge=0)
    wait_max_seconds: float = Field(20.0, ge=0)
    retry_after_max_seconds: float = Field(60.0, ge=0, description="cap on a server's Retry-After")


class SourceConfig(_Strict):
    base_url: str | None = Field(None, description="None: the sandbox URL given at run time")
    page_size: int = Field(100, ge=1)
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 60.0
    rate_limit_per_second: float | None = Field(
        None, gt=0, description="client-side request rate cap; None = unlimited (CRM off loopback: 5)"
    )
    retry: RetryConfig = RetryConfig()


class CrmConfig(SourceConfig):
    page_size: int = Field(100, ge=1, le=100)  # the API rejects limit > 100
    current_open_user_id: str | None = Field(
        None, description="FSUID_ of the acting user; env FXIAOKE_OPEN_USER_ID wins"
    )
    token_refresh_margin_seconds: float = Field(
        300.0, ge=0, description="refresh this long before expiry (capped at 10% of the TTL)"
    )


class MarketingConfig(SourceConfig):
    page_size: int = Field(100, ge=1, le=100)


class ErpConfig(SourceConfig):
    page_size: int = Field(1000, ge=1)


class ExtractConfig(_Strict):
    sandbox_url: str | None = None
    use_sandbox_credentials: bool = True
    overlap_seconds: float = Field(
        300.0, ge=0, description="re-read this much before the watermark to catch late commits"
    )
    commit_rows: int = Field(20_000, ge=1, description="rows per transaction (with the cursor)")
    prefetch_pages: int = Field(4, ge=0, description="pages fetched ahead while landing; 0 = off")
    duckdb_memory_limit: str | None = Field(
        "128MB", description="DuckDB memory cap of the extraction connection (it spills beyond)"
    )
    duckdb_checkpoint_threshold: str | None = Field(
        "128MB",
        description="WAL size that triggers a checkpoint; DuckDB's 16MB recompressed a row "
        "group at nearly every commit (2x slower landing)",
    )
    duckdb_compression: str | None = Field(
        "zstd",
        description="force DuckDB's compression for the raw tables: zstd made the JSON column "
        "3x smaller and its checkpoints 3x faster than DuckDB's own choice; None = DuckDB decides",
    )
    crm: CrmConfig = CrmConfig()
    marketing: MarketingConfig = MarketingConfig()
    erp: ErpConfig = ErpConfig()

    def source(self, name: str) -> SourceConfig:
        return {"crm": self.crm, "marketing": self.marketing, "erp": self.erp}[name]

    def base_url(self, source: str) -> str:
        url = self.source(source).base_url or self.sandbox_url
        if not url:
            raise ValueError(
                f"no base URL for source {source!r}: set {source}.base_url in the config "
                f"or give a sandbox URL ({SANDBOX_URL_ENV})"
            )
        return url.rstrip("/")

    def rate_limit(self, source: str) -> float | None:
        """The configured cap, else FXIAOKE_API.md's ~5 req/s for a CRM that is not on loopback."""
        configured = self.source(source).rate_limit_per_second
        if configured is not None or source != "crm":
            return configured
        host = urlsplit(self.base_url("crm")).hostname or ""
        return None if host in LOOPBACK_HOSTS else REAL_CRM_RATE_PER_SECOND

    def secret(self, env_var: str, env: Mapping[str, str] | None = None) -> SecretStr:
        env = os.environ if env is None else env
        value = env.get(env_var)
        if value:
            return SecretStr(value)
        source = SECRET_SOURCES.get(env_var.split("_", 1)[0])
        # The public sandbox credentials only ever go to the sandbox: a source with its own base URL
        # (a real tenant) must have its secrets set, or it fails fast here.
        talks_to_sandbox = source is None or self.source(source).base_url is None
        if self.use_sandbox_credentials and talks_to_sandbox and env_var in SANDBOX_SECRETS:
            return SecretStr(SANDBOX_SECRETS[env_var])
        raise ValueError(f"environment variable {env_var} is not set")


def load_config(
    path: str | Path | None = None,
    *,
    sandbox_url: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> ExtractConfig:
    """YAML file (default `extractors/config.yaml`) < env base URLs < explicit arguments."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    cfg_path = Path(path) if path else DEFAULT_CONFIG_PATH
    if cfg_path.exists():
        data = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
    elif path:
        raise FileNotFoundError(f"extractor config not found: {cfg_path}")
    for source, var in (
        ("crm", "FXIAOKE_BASE_URL"),
        ("marketing", "HUBSPOT_BASE_URL"),
        ("erp", "ODOO_URL"),
    ):
        if env.get(var):
            data.setdefault(source, {})["base_url"] = env[var]
    if env.get(SANDBOX_URL_ENV):
        data["sandbox_url"] = env[SANDBOX_URL_ENV]
    if sandbox_url:
        data["sandbox_url"] = sandbox_url
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value)
    return ExtractConfig.model_validate(data)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """`overrides={"crm.page_size": 50}` sets data["crm"]["page_size"]."""
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
