"""Great Expectations over the warehouse: one suite per raw table, validated in DuckDB, Data Docs.

GE's SQL datasource runs against the flattened current rows of each stream, inside the same
DuckDB database the rules were evaluated in, so no table is pulled into Python. Two details
make GE 1.x work on DuckDB:

- GE fetches metric rows after the SQLAlchemy connection went back to the pool; duckdb_engine
  runs queries on the connection itself, and the pool's rollback drops the pending result
  (GE then fails with `MetricResolutionError: list index out of range`). Handing out a DuckDB
  *cursor* (its own connection to the same database instance) per DBAPI cursor keeps results.
- the engine is created from our open DuckDB connection (`creator=`), so GE shares the
  database instance instead of opening the file a second time (one writer per file).

Every rule maps to the GE expectation with the same meaning: required (one field) ->
`ExpectColumnValuesToNotBeNull`, enums -> `ExpectColumnValuesToBeInSet`, everything else ->
`UnexpectedRowsExpectation` with the very SQL the quarantine uses, so GE's counts and ours agree.
Validation results are kept in a file store beside the Data Docs, so the site lists past runs.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
from duckdb_engine import ConnectionWrapper, CursorWrapper

from quality.compile import failing_rows_sql, ident
from quality.schema import AcceptedValues, Required, Rule, RuleSet

WORK_SCHEMA = "quality_work"
DATASOURCE = "warehouse"
SITE_NAME = "sfa_quality"

# GE prints progress bars per metric; they would drown asset logs.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations").setLevel(logging.WARNING)


class _CursorPerQueryConnection(ConnectionWrapper):
    def cursor(self) -> CursorWrapper:
        return CursorWrapper(self._ConnectionWrapper__c.cursor(), self)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class GXRuleOutcome:
    stream: str
    rule: str
    success: bool
    unexpected_count: int | None


def to_expectation(rule: Rule, ruleset: RuleSet, ref_context: dict | None = None):  # -> a gx Expectation
    import great_expectations as gx

    common = {
        "meta": {"rule": rule.name, "severity": rule.severity, "check": rule.check},
        "severity": "critical" if rule.severity == "error" else "warning",
    }
    description = rule.description or f"{rule.check} rule {rule.name}"
    if isinstance(rule, Required) and len(rule.fields) == 1:
        return gx.expectations.ExpectColumnValuesToNotBeNull(column=rule.fields[0], **common)
    if isinstance(rule, AcceptedValues):
        return gx.expectations.ExpectColumnValuesToBeInSet(column=rule.field, value_set=rule.values, **common)
    # GE formats the query: literal braces (regex quantifiers) must be doubled.
    sql = failing_rows_sql(rule, ruleset, rel="__gx_batch__", **(ref_context or {}))
    sql = sql.replace("{", "{{").replace("}", "}}").replace("__gx_batch__", "{batch}")
    return gx.expectations.UnexpectedRowsExpectation(
        unexpected_rows_query=sql,
        description=f"{rule.name}: {description}",
        **common,
    )


def _context(docs_dir: Path, store_dir: Path):
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    store_dir.mkdir(parents=True, exist_ok=True)
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
    )
    # Validation results live on disk so the Data Docs index shows past runs; suites are
    # rebuilt from the rule files every run and stay in memory.
    config.stores["validation_results_store"] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(store_dir / "validations")},
    }
    config.data_docs_sites = {
        SITE_NAME: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    return gx.get_context(mode="ephemeral", project_config=config)


def run_expectations(
    con: duckdb.DuckDBPyConnection,
    rulesets: Sequence[RuleSet],
    *,
    run_id: str,
    docs_dir: Path,
    store_dir: Path,
    ref_context: dict,
    keep_runs: int = 30,
) -> tuple[list[GXRuleOutcome], Path]:
    """Validate the current rows of each stream's `quality_work.<stream>`; build the Data Docs site."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    docs_dir.mkdir(parents=True, exist_ok=True)
    ctx = _context(docs_dir, store_dir)
    datasource = ctx.data_sources.add_sql(
        name=DATASOURCE,
        connection_string="duckdb:///:memory:",  # unused: creator below hands out our database
        kwargs={"creator": lambda: _CursorPerQueryConnection(con.cursor())},
    )
    definitions = []
    for ruleset in rulesets:
        # A query asset: GE's table assets drop the schema when reflecting columns on DuckDB.
        asset = datasource.add_query_asset(
            name=ruleset.stream, query=f"select * from {WORK_SCHEMA}.{ident(ruleset.stream)} where _is_current"
        )
        batch = asset.add_batch_definition_whole_table("current")
        suite = ctx.suites.add(
            gx.ExpectationSuite(
                name=ruleset.stream,
                expectations=[to_expectation(rule, ruleset, ref_context) for rule in ruleset.rules],
                meta={"stream": ruleset.stream, "rules": f"quality/rules/{ruleset.stream}.yml"},
            )
        )
        definitions.append(
            ctx.validation_definitions.add(
                gx.ValidationDefinition(name=f"{ruleset.stream}", data=batch, suite=suite)
            )
        )
    checkpoint = ctx.checkpoints.add(
        gx.Checkpoint(
            name="sfa_quality",
            validation_definitions=definitions,
            actions=[],
            result_format={"result_format": "BASIC", "partial_unexpected_count": 5},
        )
    )
    result = checkpoint.run(run_id=gx.RunIdentifier(run_name=run_id))
    # One Data Docs build for the run, rendering only this run's pages and the index (GE's
    # UpdateDataDocsAction would rebuild per validation, and a full build re-renders history).
    for folder in (store_dir / "validations", docs_dir / "validations"):
        _prune_history(folder, keep_runs)
    ctx.build_data_docs(
        site_names=[SITE_NAME],
        resource_identifiers=[*result.run_results.keys(), *(ExpectationSuiteIdentifier(d.suite.name) for d in definitions)],
    )
    outcomes: list[GXRuleOutcome] = []
    for validation in result.run_results.values():
        stream = validation.suite_name
        for res in validation.results:
            meta = res.expectation_config.meta or {}
            count = res.result.get("unexpected_count", res.result.get("observed_value"))
            error = _exception_message(res.exception_info)
            if error:
                raise RuntimeError(f"Great Expectations failed on {stream}.{meta.get('rule')}: {error}")
            outcomes.append(GXRuleOutcome(stream, meta.get("rule", ""), bool(res.success), count))
    return outcomes, docs_dir / "index.html"


def _prune_history(validations_dir: Path, keep_runs: int) -> None:
    """Keep the newest `keep_runs` runs per suite so the Data Docs build stays quick."""
    if not validations_dir.is_dir():
        return
    for suite_dir in validations_dir.iterdir():
        if not suite_dir.is_dir():
            continue
        runs = sorted((p for p in suite_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in runs[:-keep_runs] if keep_runs > 0 else runs:
            shutil.rmtree(old, ignore_errors=True)


def _exception_message(info: dict | None) -> str | None:
    """GE reports errors either flat or keyed by metric; find the first raised one."""
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def drop_work_tables(con: duckdb.DuckDBPyConnection, streams: Sequence[str]) -> None:
    for stream in streams:
        con.execute(f"drop table if exists {WORK_SCHEMA}.{ident(stream)}")
